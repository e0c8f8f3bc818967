"""Which of two models is better on labeled paragraphs (``policy-nlp compare``).

Both models label the same paragraphs; the difference in macro-F1 (second minus first) gets a
confidence interval from a paired bootstrap over reports: reports are drawn with replacement
(a report's paragraphs go together, as they are correlated), both models are scored on the
same draw, and the 2.5th and 97.5th percentiles of the differences bound the 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError
from .metrics import check_resamples, check_seed

if TYPE_CHECKING:  # pragma: no cover
    from .labels import LabeledData
    from .model import ThemeModel


def _macro_f1(y: np.ndarray, pred: np.ndarray, w: np.ndarray, k: int) -> float:
    """Macro-F1 over the classes present in ``y``, each row counted ``w`` times."""
    true = np.bincount(y, weights=w, minlength=k)
    predicted = np.bincount(pred, weights=w, minlength=k)
    tp = np.bincount(y, weights=w * (y == pred), minlength=k)
    present = true > 0
    denom = true + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def _per_theme_f1(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    w = np.ones(len(y))
    true = np.bincount(y, minlength=k)
    predicted = np.bincount(pred, minlength=k)
    tp = np.bincount(y, weights=w * (y == pred), minlength=k)
    denom = true + predicted
    return np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)


def paired_bootstrap(y: np.ndarray, pred1: np.ndarray, pred2: np.ndarray, groups: list[str],
                     *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Bootstrap over groups (reports) of macro-F1 and accuracy, model 2 minus model 1."""
    check_resamples(n_boot)
    check_seed(seed)
    k = int(max(y.max(), pred1.max(), pred2.max())) + 1
    names, g = np.unique(np.array(groups), return_inverse=True)
    rng = np.random.default_rng(seed)
    f1_diff = np.empty(n_boot)
    acc_diff = np.empty(n_boot)
    c1, c2 = (pred1 == y).astype(float), (pred2 == y).astype(float)
    for b in range(n_boot):
        draws = np.bincount(rng.integers(0, len(names), len(names)), minlength=len(names))
        w = draws[g].astype(float)
        f1_diff[b] = _macro_f1(y, pred2, w, k) - _macro_f1(y, pred1, w, k)
        acc_diff[b] = (w @ c2 - w @ c1) / w.sum()
    lo, hi = np.percentile(f1_diff, [2.5, 97.5])
    alo, ahi = np.percentile(acc_diff, [2.5, 97.5])
    return {
        "resamples": n_boot, "seed": seed, "reports": len(names),
        "macro_f1_diff_ci95": [round(float(lo), 4), round(float(hi), 4)],
        "accuracy_diff_ci95": [round(float(alo), 4), round(float(ahi), 4)],
        # the share of resamples where the second model is not better: a one-sided
        # bootstrap p-value for "the second model has the higher macro-F1"
        "share_second_not_better": round(float((f1_diff <= 0).mean()), 4),
    }


def compare_models(first: ThemeModel, second: ThemeModel, data: LabeledData, *,
                   n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Overall and per-theme scores of both models and their difference (second - first),
    with the paired-bootstrap 95% interval of the macro-F1 difference."""
    for name, model in (("first", first), ("second", second)):
        unknown = sorted(set(data.labels) - set(model.themes))
        if unknown:
            raise InputError(f"the labels name themes the {name} model does not know: "
                             f"{', '.join(unknown)}")
    if len(data) == 0:
        raise InputError("no labeled paragraphs to compare on")
    p1 = first.predict_proba(data.texts).argmax(axis=1)
    p2 = second.predict_proba(data.texts).argmax(axis=1)
    themes = list(dict.fromkeys([*first.themes, *second.themes]))
    index = {t: i for i, t in enumerate(themes)}
    y = np.array([index[t] for t in data.labels])
    pred1 = np.array([index[first.themes[i]] for i in p1])
    pred2 = np.array([index[second.themes[i]] for i in p2])
    k = len(themes)
    ones = np.ones(len(y))
    f1_1, f1_2 = _macro_f1(y, pred1, ones, k), _macro_f1(y, pred2, ones, k)
    acc1, acc2 = float((pred1 == y).mean()), float((pred2 == y).mean())
    t1, t2 = _per_theme_f1(y, pred1, k), _per_theme_f1(y, pred2, k)
    support = np.bincount(y, minlength=k)
    per_theme = {
        themes[i]: {"support": int(support[i]), "f1_first": round(float(t1[i]), 4),
                    "f1_second": round(float(t2[i]), 4),
                    "f1_diff": round(float(t2[i] - t1[i]), 4)}
        for i in range(k) if support[i] > 0
    }
    return {
        "n": len(y),
        "first": {"accuracy": round(acc1, 4), "macro_f1": round(f1_1, 4)},
        "second": {"accuracy": round(acc2, 4), "macro_f1": round(f1_2, 4)},
        "diff": {"accuracy": round(acc2 - acc1, 4), "macro_f1": round(f1_2 - f1_1, 4)},
        "bootstrap": paired_bootstrap(y, pred1, pred2, data.groups, n_boot=n_boot, seed=seed),
        "per_theme": per_theme,
        "disagreements": int((pred1 != pred2).sum()),
    }


def format_comparison(result: dict[str, Any], first: str, second: str) -> str:
    b = result["bootstrap"]
    lo, hi = b["macro_f1_diff_ci95"]
    d = result["diff"]["macro_f1"]
    if lo > 0:
        verdict = f"the second model ({second}) is better"
    elif hi < 0:
        verdict = f"the first model ({first}) is better"
    else:
        verdict = "no clear difference (the interval contains 0)"
    lines = [
        f"first   {first}",
        f"second  {second}",
        f"paragraphs {result['n']} of {b['reports']} reports; the models disagree on "
        f"{result['disagreements']}",
        "",
        f"{'':<12}{'first':>10}{'second':>10}{'diff':>10}",
        *(f"{m:<12}{result['first'][k]:>10.4f}{result['second'][k]:>10.4f}"
          f"{result['diff'][k]:>+10.4f}" for m, k in (("accuracy", "accuracy"),
                                                       ("macro-F1", "macro_f1"))),
        "",
        f"macro-F1 difference {d:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}] (paired bootstrap over "
        f"reports, {b['resamples']} resamples, seed {b['seed']}): {verdict}",
        "",
        f"{'theme':<22}{'support':>8}{'F1 first':>10}{'F1 second':>11}{'diff':>9}",
    ]
    for theme, m in result["per_theme"].items():
        lines.append(f"{theme:<22}{m['support']:>8}{m['f1_first']:>10.4f}"
                     f"{m['f1_second']:>11.4f}{m['f1_diff']:>+9.4f}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare_files` found: the comparison (``result``), the ``data`` compared on
    (its ``blank`` rows skipped), what to warn of for each model trained on some of it
    (``overlaps``), and the JSON file written (or None)."""

    result: dict[str, Any]
    data: LabeledData
    overlaps: list[str]
    output: Path | None = None


def compare_files(first: Any, second: Any, labels, *, paragraphs: str | Path | None = None,
                  columns: dict[str, str] | None = None, prefer: str | None = None,
                  blank: str = "skip", n_boot: int = 1000, seed: int = 0,
                  output: str | Path | None = None, names: tuple[str, str] | None = None
                  ) -> Comparison:
    """``policy-nlp compare``: read the ``labels`` files (the codebook the first model's) and
    :func:`compare_models` on them; the comparison as JSON to ``output`` (a JSON name, checked
    before any work). ``first`` and ``second`` are loaded models, or directories or shipped
    models' names (``names``: how the overlap warnings call them; default: as given)."""
    from .codebook import resolve_codebook
    from .evaluate import training_overlap
    from .labels import load_labels
    from .model import ThemeModel, load_model
    from .write import check_json_output, write_json

    sources = labels if isinstance(labels, (list, tuple)) else [labels]
    check_resamples(n_boot)
    check_seed(seed)
    check_json_output(output, [*sources, paragraphs])
    names = names or (str(first), str(second))
    m1, m2 = (m if isinstance(m, ThemeModel) else load_model(m) for m in (first, second))
    data = load_labels(sources, paragraphs=paragraphs, columns=columns,
                       codebook=resolve_codebook(model=m1), prefer=prefer, blank=blank)
    overlaps = [found for name, m in zip(names, (m1, m2))
                if (found := training_overlap(m, data, name))]
    result = compare_models(m1, m2, data, n_boot=n_boot, seed=seed)
    if output is not None:
        write_json(result, output)
    return Comparison(result=result, data=data, overlaps=overlaps,
                      output=None if output is None else Path(output))
