"""Models and their scores: ``train``, ``evaluate``, ``compare`` and ``audit``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import render
from .application import blank_policy, label_columns
from .render import log
from .options import (CodebookOpt, GroupCol, IdCol, LabelCol, LabelsOpt, ModelOpt, ParagraphsOpt,
                      PreferOpt, StrictLabelsOpt, TableFormat, TextCol, train_defaults)

_DEFAULTS = train_defaults()


class Classifier(str, Enum):
    linear_svc = "linear_svc"
    logistic = "logistic"


class FeatureSet(str, Enum):
    char_word = "char+word"
    char = "char"


class ClassWeight(str, Enum):
    none = "none"
    balanced = "balanced"


def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    labels: Annotated[list[str], typer.Option(
        "--labels", help="Labels: JSONL with id/label (joined to --paragraphs), a "
                         "CSV/JSONL/XLSX table with text and label columns, a Label Studio "
                         "export (JSON, JSON-MIN, CSV) or doccano JSONL. Repeatable (merged "
                         "by id); FILE:text=COL,label=COL,id=COL,group=COL names one file's "
                         "columns (the rest are found by name).")],
    paragraphs: Annotated[Path | None, typer.Option(
        help="Paragraphs JSONL (id, report_id, level, text) that --labels refers to by id.")] = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: Annotated[str, typer.Option(
        help="Report column of a labels table: cross-validation never splits a report.")
    ] = "report_id",
    codebook: CodebookOpt = None,
    classifier: Annotated[Classifier, typer.Option(help="Linear classifier.")] = (
        Classifier.linear_svc),
    c: Annotated[float, typer.Option("--C", help="Inverse regularization strength.")] = (
        _DEFAULTS.C),
    cv_folds: Annotated[int, typer.Option(
        help="Report-grouped cross-validation folds for the card's metrics, the calibration "
             "and the secondary-theme threshold (0 skips them).")] = 5,
    min_df: Annotated[int, typer.Option(
        help="Keep only n-grams found in at least this many paragraphs.")] = (
        _DEFAULTS.features.min_df),
    features: Annotated[FeatureSet, typer.Option(
        help="char+word: character 1-3-grams and word 1-2-grams (the default model); char: "
             "character 1-3-grams only: no word segmentation, ~3x faster to label, as "
             "accurate on the shared labels, explanations in character n-grams (the shipped "
             "'fast' model).")] = FeatureSet.char_word,
    class_weight: Annotated[ClassWeight, typer.Option(
        help="balanced: weigh each theme's paragraphs by the inverse of its share, for "
             "labels where some themes are rare (on the shared labels it scored slightly "
             "lower: benchmarks/results/model_search.md).")] = ClassWeight.none,
    sentence_weight: Annotated[float, typer.Option(
        help="Weight of the sentences of single-theme paragraphs (no secondary theme) as "
             "extra training rows (0: none; labels without secondary themes get none).")] = (
        _DEFAULTS.sentence_weight),
    era_balance: Annotated[float, typer.Option(
        help="Weigh each era's rows (up to 1990, 1991-2012, after 2012; from the year of "
             "the paragraphs file or a 'year' column) by (n / (eras x n_era)) ** this: 1 gives "
             "every era the same weight, 0 none (labels without years get none).")] = (
        _DEFAULTS.era_balance),
    seed: Annotated[int, typer.Option(help="Random seed of the folds.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j",
                                      help="Processes for the cross-validation folds.")] = 2,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Train a model from labeled paragraphs and write it with its model card."""
    from ..features import FeatureSpec
    from ..train import TrainConfig, train_to_dir

    # the configuration first: a bad argument stops the command before the labels are read
    spec = FeatureSpec(min_df=min_df) if features is FeatureSet.char_word else FeatureSpec(
        min_df=min_df, word_ngram=None)
    config = TrainConfig(features=spec, classifier=classifier.value, C=c,
                         cv_folds=cv_folds, seed=seed, sentence_weight=sentence_weight,
                         era_balance=era_balance, n_jobs=jobs,
                         class_weight=None if class_weight is ClassWeight.none else "balanced")

    def checked(data, report) -> None:
        render.label_problems(report)
        if not report.errors:
            render.training_data(data, group_col)

    run = train_to_dir(output, labels, paragraphs=paragraphs, columns=label_columns(
        text_col, label_col, id_col, group_col), codebook=codebook, config=config,
        prefer=prefer, blank=blank_policy(strict), progress=log, checked=checked)
    render.trained(run.model, output, run.seconds)


def evaluate(
    labels: LabelsOpt,
    paragraphs: ParagraphsOpt = None,
    model: ModelOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    cv_folds: Annotated[int, typer.Option(
        help="Instead of scoring the model as it is, retrain its configuration in K "
             "report-grouped folds on these labels and score the held-out reports.")] = 0,
    learning_curve: Annotated[bool, typer.Option(
        "--learning-curve", help="With --cv-folds: also train on 10%…100% of each fold's "
                                 "training reports (slow) for a learning curve.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the metrics as JSON here.")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Write an HTML report (index.html with figures) into this directory.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for the folds.")] = 2,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Accuracy, macro-F1, per-theme precision/recall/F1 and the confusion matrix."""
    from ..evaluate import evaluate_files

    found = evaluate_files(
        model, labels, paragraphs=paragraphs, columns=label_columns(
            text_col, label_col, id_col, group_col), prefer=prefer, blank=blank_policy(strict),
        cv_folds=cv_folds, n_jobs=jobs, with_learning_curve=learning_curve, output=output,
        report=report, progress=log)
    render.evaluation(found, group_col)


def compare(
    first: Annotated[Path, typer.Argument(help="The first model directory (the baseline).")],
    second: Annotated[Path, typer.Argument(help="The second model directory.")],
    labels: Annotated[list[str], typer.Option(
        "--labels", help="Labels (as for train; repeatable), held out from both.")],
    paragraphs: ParagraphsOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the reports.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the comparison as JSON here.")
                      ] = None,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Which model is better on these labels: overall, per theme, and a 95% interval for the
    macro-F1 difference (second minus first) from a paired bootstrap over reports."""
    from ..compare import compare_files

    found = compare_files(
        first, second, labels, paragraphs=paragraphs, columns=label_columns(
            text_col, label_col, id_col, group_col), prefer=prefer, blank=blank_policy(strict),
        n_boot=resamples, seed=seed, output=output)
    render.comparison(found, str(first), str(second))


def audit(
    labels: LabelsOpt,
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="Review sheet: OUT.csv or OUT.jsonl.")],
    format: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="csv or jsonl (default: from the output's extension; csv on "
                               "standard output).", show_default=False)] = None,
    paragraphs: ParagraphsOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    top: Annotated[int, typer.Option(help="Write at most this many rows (0: all).")] = 0,
    cv_folds: Annotated[int, typer.Option(help="Report-grouped folds.")] = 5,
    min_df: Annotated[int, typer.Option(help="As for train.")] = _DEFAULTS.features.min_df,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for the folds.")] = 2,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
    codebook: Annotated[Path | None, typer.Option(
        help="The codebook the labels are coded with (TOML; default: the shipped one), as for "
             "train.", show_default=False)] = None,
) -> None:
    """Flag labeled paragraphs whose label looks wrong, most suspect first.

    Every paragraph is scored by a model trained without its report; the sheet lists those
    where that model prefers another theme, with the margin p(suggested) - p(given), and an
    empty 'verdict' column for the reviewer.
    """
    from ..audit import audit_to_file

    found = audit_to_file(
        labels, output, fmt=format.value if format else None, paragraphs=paragraphs,
        columns=label_columns(text_col, label_col, id_col, group_col), prefer=prefer,
        blank=blank_policy(strict), codebook=codebook, top=top, cv_folds=cv_folds,
        min_df=min_df, n_jobs=jobs, progress=log)
    render.audited(found, output, group_col)
