"""The documentation against the command line: every command has help and an example, the help
fits 80 columns, and every command of the README's tour (and every example) names options that
exist with values they accept. The tour's commands are parsed here, not run: running them needs
the shared corpus and minutes of training (the commands themselves are tested one by one)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import typer.main
from typer.testing import CliRunner

from policy_nlp.cli import EXAMPLES, app
from policy_nlp.text import display_width

README = Path(__file__).resolve().parents[1] / "README.md"
COMMAND = typer.main.get_command(app)
NAMES = sorted(COMMAND.commands)


def _parse(argv: list[str]) -> None:
    """Parse ``policy-nlp ARGS…`` as the command line would, without running the command."""
    name, *rest = argv
    assert name in COMMAND.commands, f"no command {name!r}"
    command = COMMAND.commands[name]
    try:
        command.make_context(name, rest)
    except click.UsageError as exc:  # an unknown option, a bad value, a missing one
        raise AssertionError(f"policy-nlp {' '.join(argv)}: {exc.format_message()}") from None


def _words(line: str) -> list[str]:
    """The arguments of one shell command line of ``policy-nlp``: comments, redirections and
    what a pipe feeds it left out."""
    line = line.split(" #", 1)[0].split("|")[-1]
    words = shlex.split(line)
    words = words[words.index("policy-nlp") + 1:]
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w in (">", "<", "2>"):
            skip = True
        else:
            out.append(w)
    return out


def _tour() -> list[str]:
    text = README.read_text("utf-8")
    tour = text.split("## A tour of the commands", 1)[1].split("\n## ", 1)[0]
    block = "\n".join(re.findall(r"```bash\n(.*?)```", tour, re.S))
    block = block.replace("\\\n", " ")
    return [line.strip() for line in block.splitlines()
            if "policy-nlp " in line and not line.strip().startswith("#")]


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_help_and_an_example(name):
    command = COMMAND.commands[name]
    assert command.help and len(command.help.split()) >= 5, f"{name}: no help text"
    assert name in EXAMPLES and EXAMPLES[name].startswith(f"policy-nlp {name}")
    result = CliRunner().invoke(app, [name, "-h"], terminal_width=80)
    assert result.exit_code == 0
    assert f"Example: policy-nlp {name}" in " ".join(result.stdout.split())
    _parse(_words(EXAMPLES[name]))


@pytest.mark.parametrize("name", ["", *NAMES])
def test_help_fits_80_columns(name, monkeypatch):
    from policy_nlp import text

    monkeypatch.setenv("POLICY_NLP_AMBIGUOUS_WIDTH", "1")  # … is one column in a terminal
    text._char_width.cache_clear()
    try:
        result = CliRunner().invoke(app, [name, "--help"] if name else ["--help"],
                                    terminal_width=80, env={"COLUMNS": "80"})
        assert result.exit_code == 0
        wide = [line for line in result.stdout.splitlines() if display_width(line) > 80]
    finally:
        monkeypatch.delenv("POLICY_NLP_AMBIGUOUS_WIDTH")
        text._char_width.cache_clear()
    assert not wide, wide[:3]


def test_every_command_of_the_readme_tour_parses():
    lines = _tour()
    assert len(lines) >= 20, lines  # the tour is found
    for line in lines:
        _parse(_words(line))
