"""The coding loop: ``suggest`` (what to code next), ``label-config`` (Label Studio's
interface), ``agreement`` (between coders) and ``validate-labels`` (before training)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import render
from .application import blank_policy, json_wanted, label_columns, load
from .render import log
from .options import (CodebookOpt, FormatOpt, GroupCol, IdCol, JsonOpt, LabelCol, LabelsOpt,
                      ModelOpt, ParagraphsOpt, PreferOpt, StrictLabelsOpt, TextCol, TextFormat)


class SheetFormat(str, Enum):
    auto = "auto"
    csv = "csv"
    jsonl = "jsonl"
    label_studio = "label-studio"
    doccano = "doccano"


def suggest(
    pool: Annotated[Path, typer.Option(help="Unlabeled paragraphs: JSONL (id, text, "
                                            "report_id), CSV, or reports to split.")],
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="Coding sheet: OUT.csv (opens in a spreadsheet) "
                                             "or OUT.jsonl.")],
    n: Annotated[int, typer.Option("-n", help="How many paragraphs to suggest.")] = 200,
    model: ModelOpt = None,
    per_report: Annotated[int | None, typer.Option(
        help="At most this many paragraphs of one report (default: twice the even share, "
             "at least 2).")] = None,
    labeled: Annotated[list[Path] | None, typer.Option(
        help="Labels already coded or given out (CSV/JSONL/XLSX with an id column, Label "
             "Studio or doccano files): their ids are skipped. Repeatable.")] = None,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    sheet_format: Annotated[SheetFormat, typer.Option(
        "--format", "-f", help="csv or jsonl (auto: by the output's extension); "
                               "label-studio: Label Studio tasks (JSON) with the model's guess "
                               "as a prediction; doccano: doccano text-classification JSONL."
    )] = SheetFormat.auto,
) -> None:
    """Paragraphs worth coding next, as a coding sheet with the model's guess.

    Margin sampling (the smallest gap between the two most probable themes first), spread
    by taking predicted themes in turn and capping each report. Fill in the empty 'label'
    column and train on the sheet: policy-nlp train --labels sheet.csv -o my-model.
    """
    from ..suggest import suggest_to_file

    result = suggest_to_file(
        model, pool, output, n, per_report=per_report, labeled=labeled or [],
        fmt=None if sheet_format is SheetFormat.auto else sheet_format.value,
        text_col=text_col, id_col=id_col, log=log)
    render.suggested(result, output, n)


def label_config(
    model: Annotated[Path | None, typer.Option(
        "--model", "-m", help="Take the codebook of this model's card.", show_default=False)
    ] = None,
    codebook: CodebookOpt = None,
) -> None:
    """The Label Studio labeling configuration (XML) of the codebook: paste it into a
    project's Settings > Labeling Interface, then import `suggest --format label-studio`."""
    from ..annotate import label_config as config_of
    from ..codebook import resolve_codebook

    book = resolve_codebook(codebook, model=load(model) if model is not None else None)
    render.document(config_of(book))


def agreement(
    coded: Annotated[list[str], typer.Argument(
        help="Two or more coders' files (JSONL of id/label, CSV, XLSX, Label Studio export, "
             "doccano JSONL), joined by id; FILE:id=COL,label=COL names one file's columns. A "
             "file with a 'coder' column, or a Label Studio export with several annotators, "
             "holds several coders.")],
    codebook: CodebookOpt = None,
    disagreements: Annotated[str | None, typer.Option(
        help="Write the items the coders disagree on here (OUT.csv or OUT.jsonl): each "
             "coder's theme and an empty 'label' for the adjudicator.")] = None,
    output_format: Annotated[TextFormat | None, typer.Option(
        "--format", "-f", help="text (the default), or json (keys cohen_kappa, fleiss_kappa, "
                               "krippendorff_alpha, …).", show_default=False)] = None,
    as_json: JsonOpt = False,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the items.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    paragraphs: Annotated[Path | None, typer.Option(
        help="Paragraphs JSONL (id, text): the texts of the disagreements sheet, where the "
             "coders' files have none.")] = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Inter-coder agreement: Cohen's kappa (two coders, and each pair), Fleiss' kappa and
    Krippendorff's alpha (nominal), with 95% bootstrap intervals over items; per-theme
    agreement, the most confused themes, and a sheet of the disagreements."""
    from ..agreement import agreement_files

    as_json = json_wanted(output_format, as_json)
    found = agreement_files(coded, codebook=codebook, paragraphs=paragraphs,
                            blank=blank_policy(strict), n_boot=resamples, seed=seed,
                            disagreements=disagreements)
    render.agreement(found, disagreements, as_json)


def validate_labels(
    labels: LabelsOpt,
    paragraphs: ParagraphsOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    codebook: CodebookOpt = None,
    output_format: FormatOpt = None,
    as_json: JsonOpt = False,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """The validation report train runs first: every bad row with its row number.

    Errors (training refuses): unknown ids, unknown themes, empty texts, ids labeled twice,
    one id or text with different labels, themes with fewer than 2 examples. Warnings: rows
    with a blank label (skipped; errors with --strict), themes with fewer than 20 examples,
    duplicate texts, class imbalance above 10:1, codebook themes without examples. Exit 0
    without errors, 2 with.
    """
    from ..labels import validate_files

    as_json = json_wanted(output_format, as_json)
    _, report = validate_files(labels, paragraphs=paragraphs, columns=label_columns(
        text_col, label_col, id_col, group_col), codebook=codebook, prefer=prefer,
        blank=blank_policy(strict))
    if as_json:
        render.print_json(report.to_dict())
    else:
        render.validation_report(report)
    if not report.ok:
        raise typer.Exit(2)
