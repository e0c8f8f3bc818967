"""Evaluation workflows: a model scored on labels as it is, or its configuration by report-
grouped cross-validation (which retrains), and whether labels overlap its training data.

The scores themselves are :mod:`policy_nlp.metrics` (re-exported here for older imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .metrics import (  # noqa: F401 - re-exported: policy_nlp.evaluate.format_metrics etc.
    breakdown,
    era_metrics,
    era_rows,
    expected_calibration_error,
    format_confusion,
    format_metrics,
    group_metrics,
    metrics_report,
    set_f1,
    subset_scores,
)

if TYPE_CHECKING:  # pragma: no cover
    from .labels import LabeledData
    from .model import ThemeModel


def evaluate(model: ThemeModel, data: LabeledData) -> dict[str, Any]:
    """Score ``model`` on labeled paragraphs it was not trained on."""
    return evaluate_with_proba(model, data)[0]


def evaluate_with_proba(model: ThemeModel, data: LabeledData
                        ) -> tuple[dict[str, Any], np.ndarray]:
    """:func:`evaluate`, also returning the model's probabilities for ``data``."""
    unknown = sorted(set(data.labels) - set(model.themes))
    if unknown:
        from .errors import InputError

        raise InputError(f"labels name themes the model does not know: {', '.join(unknown)}")
    from .codebook import model_codebook

    proba = model.predict_proba(data.texts)
    out = metrics_report(y_true=data.labels, proba=proba, themes=model.themes,
                         levels=data.levels, codebook=model_codebook(model.card, model.themes),
                         years=data.years, samples=data.samples)
    themes = model.themes
    gold = [{themes.index(lbl), *(themes.index(s) for s in sec if s in themes)}
            for lbl, sec in zip(data.labels, data.secondary, strict=True)]
    pred = [{themes.index(t) for t in [model.themes[int(row.argmax())], *model.secondary(row)]}
            for row in proba]
    out["secondary"] = {"threshold": model.secondary_threshold,
                        "sample_f1_of_theme_sets": round(set_f1(pred, gold), 4)}
    return out, proba


#: What the reliability diagram of an evaluation plots: a curve name -> (top-label confidence,
#: whether the top label is right), one pair of arrays per curve.
Reliability = dict[str, tuple[np.ndarray, np.ndarray]]


def seen_in_training(model: ThemeModel, data: LabeledData) -> int | None:
    """How many paragraphs of ``data`` the model was trained on (None: it cannot tell: a model
    saved without its training hashes, unless ``data`` is exactly its training set)."""
    seen = model.seen_in_training(data.texts)
    if seen is not None:
        return int(seen.sum())
    if data.sha256() == model.card.get("data", {}).get("sha256"):
        return len(data)
    return None


def training_overlap(model: ThemeModel, data: LabeledData, name: str = "the model"
                     ) -> str | None:
    """What to warn of when labels given to score ``model`` include its training paragraphs:
    ``"N of these M paragraphs (P%) are training paragraphs of NAME"``; None when none are."""
    n = seen_in_training(model, data)
    if not n:
        return None
    return (f"{n:,} of these {len(data):,} paragraphs ({n / len(data):.0%}) are training "
            f"paragraphs of {name}")


def evaluate_as_is(model: ThemeModel, data: LabeledData, *, source: str = "the labels"
                   ) -> tuple[dict[str, Any], Reliability]:
    """Score the model as it is on ``data``: its metrics (with ``evaluated`` saying how, and
    ``seen_in_training``: how many paragraphs it was trained on, where known) and the data of
    its reliability diagram."""
    metrics, proba = evaluate_with_proba(model, data)
    y = np.array([model.themes.index(lbl) for lbl in data.labels])
    metrics["evaluated"] = f"the model as it is, on {source}"
    metrics["seen_in_training"] = seen_in_training(model, data)
    reliability = {f"model (ECE {metrics['ece']:.3f})": (proba.max(axis=1),
                                                         proba.argmax(axis=1) == y)}
    return metrics, reliability


def evaluate_configuration(model: ThemeModel, data: LabeledData, *, cv_folds: int,
                           n_jobs: int = 2, with_learning_curve: bool = False,
                           source: str = "the labels", progress=None
                           ) -> tuple[dict[str, Any], Reliability, list[dict] | None]:
    """Retrain the model's configuration (features, classifier, tokenizer: its card) in
    ``cv_folds`` report-grouped folds of ``data`` and score the held-out reports: metrics,
    the reliability data before and after calibration, and (``with_learning_curve``) the
    learning curve."""
    from .codebook import model_codebook
    from .model import softmax
    from .train import TrainConfig, check_trainable, cv_evaluate, learning_curve, tokenize_all

    progress = progress or (lambda _m: None)
    config = TrainConfig.from_card(model.card, cv_folds=cv_folds, n_jobs=n_jobs)
    book = model_codebook(model.card, model.themes)
    check_trainable(data, book, cv_folds)
    progress(f"tokenizing {len(data)} paragraphs")
    tokens = tokenize_all(data.texts, config)
    cv = cv_evaluate(data, tokens, book, config, progress=progress)
    metrics = cv.metrics
    metrics["evaluated"] = (f"report-grouped {cv_folds}-fold cross-validation of the model's "
                            f"configuration on {source}")
    y = np.array([book.ids.index(lbl) for lbl in data.labels])
    raw = softmax(cv.scores, 1.0)
    reliability = {
        f"uncalibrated (ECE {metrics['ece_uncalibrated']:.3f})": (raw.max(axis=1),
                                                                   raw.argmax(axis=1) == y),
        f"calibrated, T={cv.temperature:.3f} (ECE {metrics['ece']:.3f})": (
            cv.proba.max(axis=1), cv.proba.argmax(axis=1) == y),
    }
    curve = None
    if with_learning_curve:
        curve = learning_curve(data, tokens, book, config, progress=progress)
        metrics["learning_curve"] = curve
    return metrics, reliability, curve




def evaluate_labels(model: ThemeModel, data: LabeledData, *, cv_folds: int = 0,
                    n_jobs: int = 2, with_learning_curve: bool = False,
                    source: str = "the labels", progress=None
                    ) -> tuple[dict[str, Any], Reliability, list[dict] | None, str | None]:
    """``policy-nlp evaluate``: the model as it is on ``data`` (``cv_folds`` 0), else its
    configuration retrained in ``cv_folds`` report-grouped folds
    (:func:`evaluate_configuration`). Returns the metrics, the reliability data, the learning
    curve (or None) and, scoring the model as it is, what to warn of when ``data`` holds its
    training paragraphs (:func:`training_overlap`; None otherwise)."""
    from .errors import ArgumentError

    if with_learning_curve and not cv_folds:
        raise ArgumentError("with_learning_curve", "needs cross-validation folds (the curve "
                                                   "retrains the configuration)")
    if cv_folds:
        metrics, reliability, curve = evaluate_configuration(
            model, data, cv_folds=cv_folds, n_jobs=n_jobs,
            with_learning_curve=with_learning_curve, source=source, progress=progress)
        return metrics, reliability, curve, None
    overlap = training_overlap(model, data)
    metrics, reliability = evaluate_as_is(model, data, source=source)
    return metrics, reliability, None, overlap


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate_files` found and wrote: the ``metrics``, the ``data`` scored (its
    ``blank`` rows skipped), what to warn of when it holds the model's training paragraphs
    (``overlap``), the JSON file and the HTML page written (or None)."""

    metrics: dict[str, Any]
    data: LabeledData
    overlap: str | None
    output: Path | None = None
    page: Path | None = None


def evaluate_files(model: Any, labels, *, paragraphs: str | Path | None = None,
                   columns: dict[str, str] | None = None, prefer: str | None = None,
                   blank: str = "skip", cv_folds: int = 0, n_jobs: int = 2,
                   with_learning_curve: bool = False, output: str | Path | None = None,
                   report: str | Path | None = None, progress=None) -> Evaluation:
    """``policy-nlp evaluate``: read the ``labels`` files (as :func:`~policy_nlp.labels.
    load_labels`, the codebook the model's), score the model on them (:func:`evaluate_labels`)
    and write the metrics as JSON to ``output`` and an HTML report into the directory
    ``report``. The outputs (a JSON name, matplotlib for the report) are checked before any
    work; ``model`` is a loaded model, or a directory or shipped model's name."""
    from .codebook import resolve_codebook
    from .errors import ArgumentError
    from .labels import load_labels, sources_name
    from .model import ThemeModel, load_model
    from .write import check_json_output, check_output_dir, write_json

    sources = labels if isinstance(labels, (list, tuple)) else [labels]
    if with_learning_curve and not cv_folds:
        raise ArgumentError("with_learning_curve", "needs cross-validation folds (the curve "
                                                   "retrains the configuration)")
    check_json_output(output, [*sources, paragraphs])
    if report is not None:
        from .html_report import check_report_dir, require_matplotlib

        require_matplotlib("evaluate --report")
        check_output_dir(report)
        check_report_dir(report)
    m = model if isinstance(model, ThemeModel) else load_model(model)
    data = load_labels(sources, paragraphs=paragraphs, columns=columns,
                       codebook=resolve_codebook(model=m), prefer=prefer, blank=blank)
    metrics, reliability, curve, overlap = evaluate_labels(
        m, data, cv_folds=cv_folds, n_jobs=n_jobs, with_learning_curve=with_learning_curve,
        source=sources_name(sources), progress=progress)
    if output is not None:
        write_json(metrics, output)
    page = None
    if report is not None:
        from .html_report import write_report

        page = write_report(report, metrics, reliability=reliability, learning_curve=curve)
    return Evaluation(metrics=metrics, data=data, overlap=overlap,
                      output=None if output is None else Path(output), page=page)
