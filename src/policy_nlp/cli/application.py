"""The typer application, its error handling and exit codes, and helpers every command uses.

A problem with the user's input or model ends a command with a one-line message and a non-zero
exit code (2 for input, 3 for model problems, 4 for an output that cannot be written), never a
traceback: :func:`handle_errors` turns :class:`~policy_nlp.errors.PolicyNLPError` into them, and
an :class:`~policy_nlp.errors.ArgumentError` (a library parameter out of range) into a message
that names the flag setting it (:func:`flag_of`). ``classify``, ``label`` and ``profile`` skip a
bad file or record and report it instead (exit 5 at the end, the output written), unless
``--strict``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from ..errors import EXIT_SKIPPED, ArgumentError, OutputError, PolicyNLPError
from . import render

app = typer.Typer(
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 80},
    rich_markup_mode=None,
    help="Label the paragraphs of work reports (政府工作报告) by policy theme.",
)


def _click_class(name: str) -> type[BaseException]:
    """click's exception class ``name`` (``UsageError``, ``ClickException``), found through
    typer's public ``BadParameter``: typer before 0.2x raised click's own, later typer its
    bundled copy of click."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


def run() -> None:
    """Run the app as the ``policy-nlp`` command, with click's own messages on one line.

    A usage error (an unknown option or command, a bad value, a missing argument) is the
    README's one line, ``policy-nlp: error: …`` naming the command's ``-h``, exit 2, where
    click prints four lines; no arguments at all print the help (exit 2), as before."""
    usage_error, click_error = _click_class("UsageError"), _click_class("ClickException")
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the bare command: its help
            exc.show()
        else:
            ctx = getattr(exc, "ctx", None)
            command = ctx.command_path if ctx is not None else "policy-nlp"
            render.error(f"{exc.format_message()} (see {command} -h)")
        raise SystemExit(exc.exit_code) from None
    except click_error as exc:  # another of click's own (a file it could not open, say)
        render.error(exc.format_message())
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:  # Ctrl-C outside a command's own handling (which exits 130 itself)
        render.log("policy-nlp: interrupted")
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        render.version(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Label the paragraphs of work reports (政府工作报告) by policy theme."""


#: library parameters whose flag is not ``--`` + the name with dashes
FLAGS = {"n": "-n", "n_boot": "--resamples", "n_jobs": "--jobs", "C": "--C", "fmt": "--format",
         "with_learning_curve": "--learning-curve", "commit_every": "--checkpoint-every",
         "source": "a report FILE (or - for standard input)", "model_dir": "--model",
         "as_json": "--json"}


def flag_of(param: str) -> str:
    """The command-line flag that sets a library parameter (``cv_folds`` -> ``--cv-folds``)."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def handle_errors(func):
    """Turn :class:`PolicyNLPError` into a one-line message and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ArgumentError as exc:  # a library parameter: shown as the flag that sets it
            render.error(exc.named(flag_of))
            raise typer.Exit(exc.exit_code) from None
        except PolicyNLPError as exc:
            render.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:  # Ctrl-C (130), or SIGTERM where a run stops (143)
            render.interrupted(getattr(exc, "kept", None))  # label keeps its work so far
            raise typer.Exit(getattr(exc, "exit_code", 130)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except OSError as exc:
            # reading goes through read/, which reports its own problems as InputError: an
            # OSError that gets here is a file or directory being made or written (a full
            # disk, no permission, a missing or read-only place)
            where = f"{exc.filename}: " if exc.filename else ""
            render.error(f"{where}cannot write the output: {exc.strerror or exc}")
            raise typer.Exit(OutputError.exit_code) from None

    return wrapper


def json_wanted(output_format, as_json: bool) -> bool:
    """``--format json`` or its older name ``--json``; ``--json --format text`` is refused."""
    from .options import TextFormat

    if as_json and output_format is TextFormat.text:
        raise ArgumentError("as_json", "means --format json, and `fmt` text contradicts it: "
                                       "give one")
    return as_json or output_format is TextFormat.json


def error_policy(strict: bool):
    """The reading layer's error policy: None (raise) for --strict, else skip and report."""
    from ..read import SkipAndReport

    return None if strict else SkipAndReport(report=render.problem)


def finish(policy, n: int) -> None:
    """After a run: exit 5 (EXIT_SKIPPED) with a summary if the policy reported problems."""
    if policy is not None and policy.problems:
        render.skipped_summary(n, policy.summary())
        raise typer.Exit(EXIT_SKIPPED)


def load(model: Path | None):
    """The model of ``--model`` (a directory, or a shipped model's name; default: default)."""
    from ..model import load_model

    return load_model(model)


def label_columns(text_col: str, label_col: str, id_col: str, group_col: str) -> dict[str, str]:
    """The columns of a labels table, as the flags name them."""
    return {"text": text_col, "label": label_col, "id": id_col, "group": group_col}


def blank_policy(strict: bool) -> str:
    """A blank label cell: an error with --strict, else skipped (and warned about)."""
    return "error" if strict else "skip"
