"""Scores of predictions against labels, pure functions of arrays and lists: accuracy, macro-F1,
per-theme precision/recall/F1, confusion matrix, per-level, per-era and per-sample scores,
calibration error and theme-set F1 of primary + secondary themes; and their text tables.

Nothing here trains or loads a model: training (:mod:`policy_nlp.train`) and the evaluation
workflows (:mod:`policy_nlp.evaluate`) both use it, in that order of the imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook

__all__ = ["breakdown", "era_metrics", "era_rows", "expected_calibration_error", "format_confusion",
           "format_metrics", "group_metrics", "metrics_report", "set_f1", "subset_scores"]


def set_f1(pred_sets: Sequence[set], gold_sets: Sequence[set]) -> float:
    """Sample-averaged F1 between predicted and gold label sets."""
    if not gold_sets:
        return 0.0
    total = 0.0
    for p, g in zip(pred_sets, gold_sets, strict=True):
        inter = len(p & g)
        total += 2 * inter / (len(p) + len(g)) if (p or g) else 1.0
    return total / len(gold_sets)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               n_bins: int = 10) -> float:
    """ECE of the top-label confidence over equal-width bins."""
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def group_metrics(y_true: Sequence[str], y_pred: Sequence[str], codebook: Codebook
                  ) -> dict[str, Any]:
    """Two-level scores: each theme replaced by its codebook group (the predicted group is
    the group of the predicted theme), then accuracy, macro-F1 and a per-group table."""
    from sklearn.metrics import precision_recall_fscore_support as prfs

    group_of = {t.id: t.group for t in codebook.themes}
    groups = list(codebook.groups)
    y = np.array([groups.index(group_of[t]) for t in y_true])
    pred = np.array([groups.index(group_of[t]) for t in y_pred])
    labels = list(range(len(groups)))
    p, r, f, s = prfs(y, pred, labels=labels, zero_division=0)
    present = [i for i in labels if s[i] > 0]
    return {
        "accuracy": round(float((y == pred).mean()), 4) if len(y) else 0.0,
        "macro_f1": round(float(np.mean([f[i] for i in present])), 4) if present else 0.0,
        "per_group": {
            groups[i]: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                        "f1": round(float(f[i]), 4), "support": int(s[i]),
                        "themes": [t.id for t in codebook.themes if t.group == groups[i]]}
            for i in labels
        },
    }


def subset_scores(y: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """``n``, accuracy and macro-F1 (over the themes present in the subset) of the rows
    ``mask``."""
    from sklearn.metrics import accuracy_score, f1_score

    present = sorted(set(y[mask].tolist()))
    return {"n": int(mask.sum()),
            "accuracy": round(float(accuracy_score(y[mask], pred[mask])), 4),
            "macro_f1": round(float(f1_score(y[mask], pred[mask], labels=present,
                                             average="macro", zero_division=0)), 4)}


def breakdown(y: np.ndarray, pred: np.ndarray, keys: Sequence[str | None],
              order: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """:func:`subset_scores` of each value of ``keys`` (None counts as ``unknown``), in
    ``order`` where given (else sorted), values absent from the rows left out."""
    k = np.array([str(x) if x else "unknown" for x in keys])
    names = [n for n in (order or []) if n in set(k)]
    names += sorted(set(k) - set(names))
    return {name: subset_scores(y, pred, k == name) for name in names}


def era_metrics(y: np.ndarray, pred: np.ndarray, years: Sequence[int | None],
                levels: Sequence[str | None] | None = None) -> dict[str, dict[str, Any]]:
    """Scores by era of the report's year (:data:`policy_nlp.era.ERAS`; ``unknown`` where
    the year is), each with its own ``per_level`` breakdown where levels are known."""
    from .era import ERA_NAMES, era_of

    eras = [era_of(v) for v in years]
    out = breakdown(y, pred, eras, ERA_NAMES)
    if levels is not None and any(levels):
        era_keys = np.array([e or "unknown" for e in eras])
        lv = np.array([str(x) if x else "unknown" for x in levels], dtype=object)
        for name, m in out.items():
            rows = era_keys == name
            m["per_level"] = breakdown(y[rows], pred[rows], list(lv[rows]))
    return out


def metrics_report(*, y_true: Sequence[str], proba: np.ndarray, themes: list[str],
                   levels: Sequence[str | None] | None = None,
                   codebook: Codebook | None = None,
                   years: Sequence[int | None] | None = None,
                   samples: Sequence[str | None] | None = None) -> dict[str, Any]:
    """All metrics of predictions ``proba`` (rows in ``themes`` order) against ``y_true``;
    with a ``codebook`` whose groups cover the themes, also the group-level metrics; with the
    rows' ``levels``, ``years`` or ``samples`` (how each row was chosen for labeling), the
    scores by level (``per_level``), by era (``per_era``, each era by level too) and by
    sample (``per_sample``), where any is known."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.metrics import precision_recall_fscore_support as prfs

    y = np.array([themes.index(t) for t in y_true])
    pred = proba.argmax(axis=1)
    labels = list(range(len(themes)))
    p, r, f, s = prfs(y, pred, labels=labels, zero_division=0)
    present = [i for i in labels if s[i] > 0]
    out: dict[str, Any] = {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, labels=present, average="macro",
                                         zero_division=0)), 4),
        "ece": round(expected_calibration_error(proba.max(axis=1), pred == y), 4),
        "per_theme": {
            themes[i]: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                        "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i in labels
        },
        "confusion_matrix": {
            "labels": themes,
            "rows_true_cols_predicted": confusion_matrix(y, pred, labels=labels).tolist(),
        },
    }
    if levels is not None and any(lv for lv in levels):
        out["per_level"] = breakdown(y, pred, levels)
    if years is not None and any(v is not None for v in years):
        out["per_era"] = era_metrics(y, pred, years, levels)
    if samples is not None and any(samples):
        out["per_sample"] = breakdown(y, pred, samples)
    if codebook is not None and set(themes) <= set(codebook.ids):
        out["groups"] = group_metrics(y_true, [themes[i] for i in pred], codebook)
    return out


def era_rows(per_era: dict[str, dict[str, Any]]) -> list[tuple[str, tuple]]:
    """The rows of a by-era table: (era, (level, n, accuracy, macro-F1)), the era's own row
    (level ``all``) then one row per level."""
    rows = []
    for era, m in per_era.items():
        rows.append((era, ("all", m["n"], m["accuracy"], m["macro_f1"])))
        for level, lm in m.get("per_level", {}).items():
            rows.append((era, (level, lm["n"], lm["accuracy"], lm["macro_f1"])))
    return rows


def _subset_lines(what: str, scores: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"{what:<14}{'n':>6}{'accuracy':>10}{'macro-F1':>10}"]
    for name, m in scores.items():
        lines.append(f"{name:<14}{m['n']:>6}{m['accuracy']:>10.4f}{m['macro_f1']:>10.4f}")
    return lines


def format_metrics(metrics: dict[str, Any]) -> str:
    """A plain-text table of the metrics, for a terminal."""
    lines = [
        f"paragraphs {metrics['n']}   accuracy {metrics['accuracy']:.4f}   "
        f"macro-F1 {metrics['macro_f1']:.4f}   ECE {metrics['ece']:.4f}",
    ]
    if "secondary" in metrics:
        sec = metrics["secondary"]
        lines.append(f"theme sets (primary + secondary, threshold {sec['threshold']}): "
                     f"sample-F1 {sec['sample_f1_of_theme_sets']:.4f}")
    if metrics.get("per_level"):
        lines += ["", *_subset_lines("level", metrics["per_level"])]
    if metrics.get("per_era"):
        lines.append("")
        lines.append(f"{'era':<14}{'level':<14}{'n':>6}{'accuracy':>10}{'macro-F1':>10}")
        for era, row in era_rows(metrics["per_era"]):
            lines.append(f"{era:<14}{row[0]:<14}{row[1]:>6}{row[2]:>10.4f}{row[3]:>10.4f}")
    if metrics.get("per_sample"):
        lines += ["", *_subset_lines("sample", metrics["per_sample"])]
    if metrics.get("groups"):
        g = metrics["groups"]
        lines.append("")
        lines.append(f"groups: accuracy {g['accuracy']:.4f}   macro-F1 {g['macro_f1']:.4f}")
        lines.append(f"{'group':<22}{'precision':>10}{'recall':>10}{'F1':>8}{'support':>9}")
        for name, m in g["per_group"].items():
            lines.append(f"{name:<22}{m['precision']:>10.4f}{m['recall']:>10.4f}"
                         f"{m['f1']:>8.4f}{m['support']:>9}")
    lines.append("")
    lines.append(f"{'theme':<22}{'precision':>10}{'recall':>10}{'F1':>8}{'support':>9}")
    for theme, m in metrics["per_theme"].items():
        lines.append(f"{theme:<22}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>8.4f}"
                     f"{m['support']:>9}")
    lines.append("")
    lines.append(format_confusion(metrics["confusion_matrix"]))
    return "\n".join(lines)


def format_confusion(cm: dict[str, Any]) -> str:
    """The confusion matrix of the metrics, as a plain-text table (themes cut to 5 letters)."""
    labels = cm["labels"]
    lines = ["confusion matrix (rows: true, columns: predicted)",
             " " * 22 + "".join(f"{t[:5]:>6}" for t in labels)]
    for name, row in zip(labels, cm["rows_true_cols_predicted"], strict=True):
        lines.append(f"{name:<22}" + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def check_resamples(n_boot: int) -> None:
    """A bootstrap of fewer than 100 resamples gives no usable interval."""
    from .errors import ArgumentError

    if n_boot < 100:
        raise ArgumentError("n_boot", f"must be at least 100, not {n_boot}")


#: the largest seed: numpy's generators take any whole number from 0, scikit-learn's
#: ``random_state`` one below 2**32; one range for every command
MAX_SEED = 2**32 - 1


def check_seed(seed: int) -> None:
    """A random seed is a whole number from 0 to :data:`MAX_SEED` (numpy refuses a negative
    one with a ValueError, scikit-learn one past 2**32 - 1)."""
    from .errors import ArgumentError

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
            0 <= seed <= MAX_SEED):
        raise ArgumentError("seed", f"must be a whole number from 0 to {MAX_SEED}, not {seed}")
