"""The documentation against the command line: every command has help and an example, the help
fits 80 columns, every command of the README's tour (and every example) names options that
exist with values they accept, and every command of the tour runs: in order, in a temporary
folder, on small inputs written here (the fixture corpus of tests/fixtures, never corpus text),
with the tour's paths into ../shared replaced by fixture files of the same name."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import click
import pytest
import typer.main
from typer.testing import CliRunner

from policy_nlp.cli import EXAMPLES, app
from policy_nlp.text import display_width
from .conftest import FIXTURES, assert_no_traceback, fixture_rows, write_pool

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


# -- the tour, run ------------------------------------------------------------------------------

#: the fixture reports of reports/ (file name -> title), one per report of the fixture corpus;
#: the names fit the tour's --name-pattern '{region}_{year}.txt'
REPORTS = [("国务院_2021.txt", "2021年国务院政府工作报告", "national"),
           ("国务院_2022.txt", "2022年国务院政府工作报告", "national"),
           ("浙江省_2021.txt", "2021年浙江省政府工作报告", "provincial"),
           ("浙江省_2022.txt", "2022年浙江省政府工作报告", "provincial"),
           ("杭州市_2021.txt", "2021年杭州市政府工作报告", "city"),
           ("杭州市_2022.txt", "2022年杭州市政府工作报告", "city")]


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _many_rows() -> list[dict]:
    """The fixture corpus made 15 times as long (each paragraph with a numbered clause added,
    same report, same label): 360 paragraphs, 60 a report, enough for train's defaults
    (--min-df 5, 5 folds) and for the tour's validation-sample to draw its 300."""
    rows = fixture_rows()
    return [{"id": f"{r['report_id']}#{k:02d}{i}", "report_id": r["report_id"],
             "text": f"{r['text']}此项为第{k + 1}项。", "label": r["label"]}
            for k in range(15) for i, r in enumerate(rows)]


def _tour_inputs(folder: Path) -> None:
    """Every input the tour names, small: the fixture corpus (made longer) in each shape the
    tour reads it (report files, records, label tables, coders' files, a Label Studio
    export)."""
    rows = _many_rows()
    reports = sorted({r["report_id"] for r in rows})
    (folder / "report.txt").write_bytes((FIXTURES / "report.txt").read_bytes())
    (folder / "reports").mkdir()
    records = []
    for rid, (name, title, level) in zip(reports, REPORTS, strict=True):
        paragraphs = [r["text"] for r in rows if r["report_id"] == rid]
        (folder / "reports" / name).write_text("\n".join([title, *paragraphs]) + "\n", "utf-8")
        records.append({"id": rid, "level": level, "year": int(name[-8:-4]),
                        "text": "\n".join(paragraphs)})
    _write_jsonl(folder / "reports.jsonl", records)  # for ../shared/corpus/reports.jsonl
    _write_jsonl(folder / "paragraphs.jsonl",
                 [{k: r[k] for k in ("id", "report_id", "text")} for r in rows])
    _write_jsonl(folder / "train.jsonl", [{"id": r["id"], "label": r["label"]} for r in rows])
    _write_csv(folder / "more.csv", [{"id": f"more-{i}", "text": r["text"]}
                                     for i, r in enumerate(rows[:4])])
    _write_csv(folder / "coded.csv", [{"段落": r["text"], "主题": r["label"],
                                       "报告": r["report_id"]} for r in rows])
    _write_csv(folder / "heldout.csv", [{k: r[k] for k in ("id", "report_id", "text", "label")}
                                        for r in rows[::3]])
    write_pool(folder / "pool.jsonl")
    _write_csv(folder / "alice.csv", [{"id": r["id"], "label": r["label"]} for r in rows])
    _write_csv(folder / "bob.csv", [{"id": r["id"], "label": "economy" if i % 5 == 0
                                     else r["label"]} for i, r in enumerate(rows)])
    half = len(rows) // 2
    export = [{"id": k + 1, "data": {"paragraph_id": r["id"], "text": r["text"],
                                     "report_id": r["report_id"]},
               "annotations": [{"id": k + 1, "completed_by": 1, "was_cancelled": False,
                                "result": [{"from_name": "theme", "to_name": "text",
                                            "type": "choices",
                                            "value": {"choices": [r["label"]]}}]}],
               "predictions": []} for k, r in enumerate(rows[:half])]
    (folder / "export.json").write_text(json.dumps(export, ensure_ascii=False), "utf-8")
    _write_csv(folder / "old.csv", [{"段落": r["text"], "主题": r["label"],
                                     "report_id": r["report_id"]} for r in rows[half:]])


def _code_the_sheet(path: Path) -> None:
    """What the coder does between validation-sample and profile --validation: fill in each
    row's 'label' (here with the model's own label, the 'predicted' column)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    label, predicted = header.index("label") + 1, header.index("predicted") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, label).value = sheet.cell(row, predicted).value
    book.save(path)


def _outputs(argv: list[str]) -> list[str]:
    """The files or folders a command line names as its outputs."""
    return [argv[i + 1] for i, w in enumerate(argv[:-1])
            if w in ("-o", "--output", "--disagreements")]


def test_every_command_of_the_readme_tour_runs(tmp_path, monkeypatch):
    """Each line of the tour, in order (later lines read what earlier ones wrote), exits 0 and
    writes what it names; the inputs are fixtures, the model the shipped default one (lines
    that train write their models into the temporary folder)."""
    pytest.importorskip("openpyxl")
    pytest.importorskip("matplotlib")
    pytest.importorskip("pyarrow")
    monkeypatch.chdir(tmp_path)
    _tour_inputs(tmp_path)
    from policy_nlp import model as models

    shipped, load = {}, models.load_model

    def load_shipped_once(directory=None, *args, **kwargs):  # the shipped models, read once
        if directory is not None and str(directory) not in models.SHIPPED_MODELS:
            return load(directory, *args, **kwargs)
        key = str(directory)
        if key not in shipped:
            shipped[key] = load(directory, *args, **kwargs)
        return shipped[key]

    monkeypatch.setattr(models, "load_model", load_shipped_once)
    runner = CliRunner()
    for line in _tour():
        stdin = None
        if line.startswith("cat "):  # cat FILE | policy-nlp …: FILE on standard input
            stdin = (tmp_path / shlex.split(line)[1]).read_text("utf-8")
        argv = [Path(w).name if w.startswith("../shared/") else w for w in _words(line)]
        if argv[0] in ("train", "evaluate") and not {"-j", "--jobs"} & set(argv):
            argv += ["--jobs", "1"]  # folds in this process: a pool's start costs ~10 s
        result = runner.invoke(app, argv, input=stdin)
        assert result.exception is None or isinstance(result.exception, SystemExit), line
        assert_no_traceback(result)
        assert result.exit_code == 0, f"policy-nlp {' '.join(argv)}: {result.stderr}"
        for out in _outputs(argv):
            assert out == "-" or (tmp_path / out).exists(), f"{line}: no {out}"
        if argv[0] in ("classify", "explain", "themes", "info", "label-config"):
            assert result.stdout.strip(), f"{line}: nothing on standard output"
        if "validation-sample" in argv:
            _code_the_sheet(tmp_path / _outputs(argv)[0])
