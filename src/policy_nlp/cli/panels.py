"""Research outputs: ``profile`` (a panel, one row per report), ``validation-sample`` (a sheet
to code that corrects it) and ``plot`` (its figures)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import render
from .application import error_policy, finish
from .render import set_verbose
from .options import (IdCol, ModelOpt, ProgressOpt, Records, StrictOpt, TextCol, UnitOpt,
                      VerboseOpt)


class PanelFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"
    dta = "dta"


def profile(
    inputs: Annotated[list[str], typer.Argument(
        help="Report files, directories, CSV/JSONL files of reports (or of paragraphs with a "
             "report_id); - for standard input.")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="The panel: OUT.csv, OUT.parquet, OUT.jsonl or OUT.dta "
                               "(Stata); - for standard output.")],
    format: Annotated[PanelFormat | None, typer.Option(
        "--format", "-f", help="csv, parquet, jsonl or dta (default: from the output's "
                               "extension; csv on standard output).", show_default=False)
    ] = None,
    model: ModelOpt = None,
    unit: Annotated[UnitOpt, typer.Option(
        help="Attribute whole paragraphs to their label, or each sentence to its own (a "
             "paragraph is then shared among its sentences' themes).")] = UnitOpt.paragraph,
    long: Annotated[bool, typer.Option(
        "--long", help="Tidy form: one row per report and theme (then per report and group), "
                       "with char_share and para_share columns.")] = False,
    name_pattern: Annotated[str | None, typer.Option(
        help="Metadata from file names, e.g. '{region}_{year}.txt' or '{level}/{region}/"
             "{year}.txt' (matched against the end of each report file's path, or each "
             "record's id).", show_default=False)] = None,
    records: Annotated[Records, typer.Option(
        help="A CSV/JSONL record is a report to split into paragraphs, one paragraph of the "
             "report named by its report_id field, or auto: split when it has several lines."
    )] = Records.auto,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    progress: ProgressOpt = True,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    validation: Annotated[Path | None, typer.Option(
        help="A coded sheet of validation-sample (CSV or XLSX, its 'label' column filled in): "
             "writes each theme's share in all reports and in each level, corrected by the "
             "coded sample (prediction-powered, with 95% intervals, or --ci's level), to "
             "--corrected, and prints how the model did on the sample.",
        show_default=False)] = None,
    corrected: Annotated[str | None, typer.Option(
        help="Where --validation writes the corrected shares (.csv, .parquet, .jsonl, .dta; "
             "default: the output's name with .validated before its extension).",
        show_default=False)] = None,
    estimator: Annotated[str | None, typer.Option(
        help="How shares are estimated: cc (classify and count), pcc (mean probabilities), "
             "acc, pacc (corrected by the model's misclassification rates for the report's "
             "level and era), emq (EM prior adjustment), bayesian_cc (posterior mean). "
             "Default: the one benchmarks/shares.py picked, cc (see the README).",
        show_default=False)] = None,
    ci: Annotated[float | None, typer.Option(
        help="Add lower and upper bounds of this level (e.g. 0.95) beside every share: "
             "intervals for the shares careful coders would give, calibrated by level and era "
             "(needs a model trained with this version).", show_default=False)] = None,
    by: Annotated[str | None, typer.Option(
        help="Comma-separated metadata columns (e.g. level,year; decade comes from year): "
             "add a row per group of reports, shares weighted by characters.",
        show_default=False)] = None,
) -> None:
    """Profile reports: one row per report with its metadata and each theme's share."""
    from ..profile import profile_to_file

    set_verbose(verbose)
    policy = error_policy(strict)
    bar = render.Progress("paragraphs profiled", enabled=progress)
    result = profile_to_file(
        inputs, output, model=model, unit=unit.value, long=long, name_pattern=name_pattern,
        records=records.value, text_col=text_col, id_col=id_col, on_error=policy,
        validation=validation, corrected=corrected, estimator=estimator, ci=ci,
        by=[c.strip() for c in by.split(",") if c.strip()] if by else None,
        fmt=format.value if format else None, progress=bar.update)
    bar.close()
    render.profiled(result, output, validation, bar.elapsed)
    finish(policy, result.paragraphs)


class Allocation(str, Enum):
    equal = "equal"
    proportional = "proportional"


def validation_sample(
    inputs: Annotated[list[str], typer.Argument(
        help="The inputs you will profile (as for profile).")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="The coding sheet: OUT.csv (UTF-8 with a BOM) or OUT.xlsx.")],
    n: Annotated[int, typer.Option("-n", help="Paragraphs to draw.")] = 300,
    strata: Annotated[str | None, typer.Option(
        help="Stratify by this metadata field (e.g. level): a random sample within each of "
             "its values.", show_default=False)] = None,
    allocation: Annotated[Allocation, typer.Option(
        help="equal: the same number from each stratum (capped by its size); proportional: "
             "in proportion to the strata's sizes.")] = Allocation.equal,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same sample.")
                    ] = 0,
    model: ModelOpt = None,
    name_pattern: Annotated[str | None, typer.Option(
        help="As for profile.", show_default=False)] = None,
    records: Annotated[Records, typer.Option(help="As for profile.")] = Records.auto,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """A random sample of paragraphs to code by hand, for profile --validation.

    Each row has the paragraph's inclusion probability (n_h / N_h of its stratum), id, report,
    metadata and text, an empty 'label' column for the coder, and the model's label last
    ('predicted': hide it while coding). Once coded:
    policy-nlp profile INPUT... -o panel.csv --validation sheet.csv
    """
    from ..validation import sample_to_file

    set_verbose(verbose)
    policy = error_policy(strict)
    bar = render.Progress("paragraphs labeled")
    result = sample_to_file(
        inputs, output, n, model=model, strata=strata, allocation=allocation.value, seed=seed,
        records=records.value, name_pattern=name_pattern, text_col=text_col, id_col=id_col,
        on_error=policy, progress=bar.update)
    bar.close()
    render.sample_drawn(result, output)
    finish(policy, result.population)


class PlotKind(str, Enum):
    bars = "bars"
    heatmap = "heatmap"
    trends = "trends"
    all = "all"


class Measure(str, Enum):
    chars = "chars"
    paragraphs = "paragraphs"


def plot(
    panels: Annotated[list[Path], typer.Argument(
        help="Panels written by profile (CSV, Parquet or JSONL; wide or --long).")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="A folder for the figures (KIND.png …), or one FILE.png, "
                               "FILE.svg or FILE.pdf for a single --kind.")],
    kind: Annotated[PlotKind, typer.Option(
        help="bars: stacked theme shares per report; heatmap: rows (regions) x themes; "
             "trends: chosen themes over the years; all: the three.")] = PlotKind.all,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="png, svg or pdf (default: the file's extension; png for a "
                               "folder).", show_default=False)] = None,
    where: Annotated[list[str] | None, typer.Option(
        help="Keep the reports whose COLUMN equals VALUE, e.g. level=national; repeat to "
             "narrow further.", metavar="COLUMN=VALUE", show_default=False)] = None,
    themes: Annotated[str | None, typer.Option(
        help="Comma-separated theme (or with --groups, group) ids for the trends "
             "(default: the six largest, general left out).", show_default=False)] = None,
    measure: Annotated[Measure, typer.Option(
        help="Shares by characters or by paragraphs.")] = Measure.chars,
    groups: Annotated[bool, typer.Option("--groups", help="Theme groups instead of themes.")
                      ] = False,
    rows: Annotated[str, typer.Option(help="The panel column the heatmap's rows are.")
                    ] = "region",
    dpi: Annotated[int, typer.Option(help="Resolution of PNG figures (1 to 600).")] = 150,
    per_figure: Annotated[int, typer.Option(
        min=0, help="At most this many bars (reports) or heatmap rows per figure; more make "
                    "several figures, KIND-1.png, KIND-2.png … (0: one figure).")] = 40,
) -> None:
    """Draw figures of a panel: stacked bars, a regions x themes heatmap, trends over years."""
    import warnings

    from ..plot import MissingCJKFontWarning, draw_figures

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MissingCJKFontWarning)
        draw_figures(panels, output, kind=kind.value, fmt=fmt, where=where or [],
                     themes=[t.strip() for t in themes.split(",") if t.strip()] if themes
                     else None, measure=measure.value, groups=groups, rows=rows, dpi=dpi,
                     per_figure=per_figure, progress=render.figure_written)
    for w in {str(w.message) for w in caught}:
        render.warn(w)
