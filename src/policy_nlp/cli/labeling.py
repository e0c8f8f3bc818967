"""``classify`` (one report, to the terminal) and ``label`` (many inputs, into one file)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from . import render
from .application import error_policy, finish, load
from .render import log, set_verbose
from .options import (IdCol, ModelOpt, OutFormat, ProgressOpt, Records, StrictOpt, TableFormat,
                      TextCol, UnitOpt, UnitOption, VerboseOpt)


def classify(
    file: Annotated[str | None, typer.Argument(
        help="A report file (.txt, .docx, .pdf, .html, .csv, .jsonl), or - for standard input.",
        show_default=False)] = None,
    text: Annotated[str | None, typer.Option("--text", "-t",
                                             help="Classify this text instead of a file.")] = None,
    format: Annotated[OutFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutFormat.table),
    model: ModelOpt = None,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    unit: UnitOption = UnitOpt.paragraph,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Add the evidence: the terms that contributed most to each "
                          "paragraph's label (TF-IDF weight x the model's coefficient).")] = False,
    explain_terms: Annotated[int, typer.Option(min=1, help="Terms of evidence per paragraph.")
                             ] = 5,
) -> None:
    """Classify every paragraph of one report (or one pasted text)."""
    from ..predict import classify_input

    set_verbose(verbose)
    policy = error_policy(strict)
    m = load(model)
    records = classify_input(m, file, text=text, unit=unit.value,
                             explain_terms=explain_terms if explain else 0,
                             text_col=text_col, id_col=id_col, on_error=policy)
    render.records(records, format.value, m.themes)
    finish(policy, len(records))


class Engine(str, Enum):
    local = "local"
    dask = "dask"


def label(
    inputs: Annotated[list[str], typer.Argument(
        help="Report files (.txt, .docx, .pdf, .html), directories, CSV/JSONL files of records; "
             "- for standard input.")],
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="OUT.jsonl or OUT.csv (- for standard output); "
                                             "with --engine dask, a directory of parts.")],
    format: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="jsonl or csv (default: from the output's extension).",
        show_default=False)] = None,
    model: ModelOpt = None,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    records: Annotated[Records, typer.Option(
        help="A CSV/JSONL record is one paragraph (one output line per input line), a report "
             "to split into paragraphs, or auto: split when it has several lines.")] = (
        Records.paragraphs),
    include_text: Annotated[bool, typer.Option(
        "--include-text/--no-include-text",
        help="Copy each paragraph's text to the output.")] = True,
    old_text: Annotated[bool | None, typer.Option(
        "--text/--no-text", hidden=True, show_default=False,
        help="The older name of --include-text/--no-include-text.")] = None,
    progress: ProgressOpt = True,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (local engine), "
                                      "or workers of the local Dask cluster.")] = 1,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue an interrupted run (killed, crashed) of the same command "
                         "from its checkpoint OUT.checkpoint.json.")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="Start over, discarding the work an interrupted run left "
                          "(without --resume or --restart, such a run is refused).")] = False,
    checkpoint_every: Annotated[float, typer.Option(
        help="Seconds between checkpoints (fsync of the partial output and the checkpoint): "
             "at most this much work is redone by --resume.")] = 2.0,
    engine: Annotated[Engine, typer.Option(help="local: this machine, streaming; dask: "
                                                "partitions on a Dask cluster.")] = Engine.local,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://HOST:PORT); default: start a local cluster.",
        show_default=False)] = None,
    partition_rows: Annotated[int, typer.Option(
        help="Dask engine: JSONL lines per partition.")] = 20_000,
    unit: UnitOption = UnitOpt.paragraph,
) -> None:
    """Label every paragraph of many inputs into one JSONL or CSV file."""
    from ..batch import LabelOptions, label_inputs
    from ..write import format_for_path

    fmt = format_for_path(output, given=format.value if format else None)
    set_verbose(verbose)
    policy = error_policy(strict)
    opts = LabelOptions(fmt=fmt, text_col=text_col, id_col=id_col, records=records.value,
                        include_text=include_text if old_text is None else old_text,
                        unit=unit.value)
    if verbose and engine is Engine.dask:
        render.note("--verbose applies to the local engine; the dask engine stops at the "
                    "first bad input (duplicate ids are reported as kept, or stop it with "
                    "--strict)")
    bar = render.Progress("paragraphs labeled", enabled=progress and engine is Engine.local)
    try:
        run = label_inputs(inputs, output, model_dir=model, opts=opts, engine=engine.value,
                           jobs=jobs, resume=resume, restart=restart,
                           commit_every=checkpoint_every, scheduler=scheduler,
                           partition_rows=partition_rows, progress=bar.update, log=log,
                           on_error=policy)
    except KeyboardInterrupt:
        bar.close()
        raise
    bar.close()
    render.labeled(run, output, bar.elapsed)
    finish(policy, run.rows)
