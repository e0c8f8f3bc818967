"""The model on the coded sample (:func:`sample_metrics`): accuracy, macro-F1 and per-theme
scores weighted by ``1 / pi``, with stratified bootstrap intervals, and their plain-text table
(:func:`format_sample_metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _weighted_scores(truth: np.ndarray, pred: np.ndarray, w: np.ndarray, k: int
                     ) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    cm = np.bincount(truth * k + pred, weights=w, minlength=k * k).reshape(k, k)
    total = cm.sum()
    tp = np.diag(cm)
    true_n, pred_n = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a theme the model never predicted (in the sample, or in a bootstrap resample) has
        # no precision (0/0), as a theme never coded has no recall: left out of the
        # interval, not counted as 0 (which gave 1 of 1 right an interval [0, 1])
        precision = np.where(pred_n > 0, tp / pred_n, np.nan)
        recall = np.where(true_n > 0, tp / true_n, np.nan)
        f1 = np.where(true_n > 0, np.where(precision + recall > 0,
                                           2 * precision * recall / (precision + recall), 0.0),
                      np.nan)
    accuracy = float(tp.sum() / total) if total else float("nan")
    return accuracy, float(np.nanmean(f1)), precision, recall, f1


def sample_metrics(y_true: Sequence[str], y_pred: Sequence[str], themes: Sequence[str], *,
                   weights: np.ndarray | None = None, strata: Sequence[str] | None = None,
                   n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
                   ) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the themes the coders used) and per-theme precision, recall
    and F1 of ``y_pred`` against ``y_true``, each weighted by ``weights`` (1 / pi: the
    corpus's, not the sample's) with a percentile interval from ``n_boot`` bootstrap
    resamples of each stratum (its rows drawn with replacement, as many as it has)."""
    k = len(themes)
    pos = {t: i for i, t in enumerate(themes)}
    truth = np.array([pos[t] for t in y_true], dtype=int)
    pred = np.array([pos[t] for t in y_pred], dtype=int)
    w = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=float)
    groups = np.asarray(strata) if strata is not None else np.zeros(len(truth), dtype=int)
    acc, macro, precision, recall, f1 = _weighted_scores(truth, pred, w, k)
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(groups == h) for h in dict.fromkeys(groups.tolist())]
    boot_acc, boot_macro = np.empty(n_boot), np.empty(n_boot)
    boot = np.empty((n_boot, 3, k))
    for b in range(n_boot):
        take = np.concatenate([ix[rng.integers(0, len(ix), len(ix))] for ix in members])
        a, m, p, r, f = _weighted_scores(truth[take], pred[take], w[take], k)
        boot_acc[b], boot_macro[b] = a, m
        boot[b] = (p, r, f)
    alpha = (1 - confidence) / 2
    q = [100 * alpha, 100 * (1 - alpha)]

    def interval(x: np.ndarray) -> list[float]:
        x = x[~np.isnan(x)]
        return [round(float(v), 4) for v in np.percentile(x, q)] if len(x) else [None, None]

    support = np.bincount(truth, minlength=k)
    per_theme = {}
    for i, t in enumerate(themes):
        if support[i] == 0 and not (pred == i).any():
            continue
        entry: dict[str, Any] = {"support": int(support[i])}
        for j, (name, value) in enumerate((("precision", precision), ("recall", recall),
                                           ("f1", f1))):
            entry[name] = None if np.isnan(value[i]) else round(float(value[i]), 4)
            entry[f"{name}_ci"] = interval(boot[:, j, i])
        per_theme[t] = entry
    return {"n": len(truth), "confidence": confidence, "bootstrap_resamples": n_boot,
            "weighted": weights is not None,
            "accuracy": round(acc, 4), "accuracy_ci": interval(boot_acc),
            "macro_f1": round(macro, 4), "macro_f1_ci": interval(boot_macro),
            "per_theme": per_theme}


def format_sample_metrics(metrics: dict[str, Any]) -> str:
    """The model on the coded sample, as a plain-text table."""
    pct = round(100 * metrics["confidence"])

    def ci(v):
        return "" if v[0] is None else f"[{v[0]:.3f}, {v[1]:.3f}]"

    lines = [f"the model on {metrics['n']} coded paragraphs"
             + (" (weighted by 1/inclusion probability: estimates for the corpus)"
                if metrics["weighted"] else "")
             + f"; {pct}% bootstrap intervals",
             f"accuracy {metrics['accuracy']:.3f} {ci(metrics['accuracy_ci'])}   "
             f"macro-F1 {metrics['macro_f1']:.3f} {ci(metrics['macro_f1_ci'])}",
             "",
             f"{'theme':<22}{'n':>5}  {'precision':<22}{'recall':<22}{'F1':<22}"]
    for theme, m in metrics["per_theme"].items():
        cells = []
        for name in ("precision", "recall", "f1"):
            v = m[name]
            cells.append(f"{'' if v is None else f'{v:.3f}'} {ci(m[name + '_ci'])}".ljust(22))
        lines.append(f"{theme:<22}{m['support']:>5}  " + "".join(cells).rstrip())
    return "\n".join(lines)
