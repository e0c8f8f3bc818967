"""What else could lower the share error of whole reports, and how accurate the classifier must be.

    python benchmarks/share_limits.py [--cache FILE.npz] [--out benchmarks/results]

``benchmarks/shares.py`` compares the estimators ``profile`` offers. None of them brings the
national share error (total variation per report, paragraph shares) to 0.05. This command asks
two further questions on the same report-grouped folds (the out-of-fold probabilities of
``shares.py``, at the temperature fitted on the other folds), on the whole reports (national and
provincial: every paragraph labeled, in the order of the report):

1. Do estimators that use a report's own structure do better than classify and count?
   - ``pcc^a``: the mean of the probabilities raised to the power ``a`` (between PCC, a=1, and
     classify and count, a -> infinity);
   - ``neighbours b``: each paragraph's probabilities plus ``b`` times those of the paragraphs
     before and after it, then classify and count (themes come in runs);
   - ``hmm s``: forward-backward posteriors under a "sticky" chain (the theme stays with
     probability ``s``, else is drawn from the training prior), then classify and count;
   - ``map-em a``: the report's own prior fitted by EM (Saerens et al. 2002) with a Dirichlet
     prior of ``a`` pseudo-paragraphs toward the training prior, then classify and count.
   Every parameter value tried is printed (nothing is picked on these folds).
2. How accurate would the classifier have to be? A share ``f`` of the wrong out-of-fold labels,
   drawn at random (20 draws), is set right, and classify and count's error and the paragraph
   accuracy are measured again.

Differences against classify and count: paired bootstrap over reports (2,000 resamples).
Writes ``share_limits.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from shares import SHARED, oof_scores  # noqa: E402

KEYS = ("national", "national -1977", "national 1978-1992", "national 1993-", "provincial")


def _sticky_posteriors(p: np.ndarray, stay: float, prior: np.ndarray) -> np.ndarray:
    """Forward-backward posteriors of a chain that keeps its theme with probability ``stay``."""
    k = len(prior)
    trans = stay * np.eye(k) + (1 - stay) * prior[None, :]
    e = p / prior
    e /= e.sum(1, keepdims=True)
    a = np.empty_like(p)
    b = np.ones_like(p)
    a[0] = prior * e[0]
    a[0] /= a[0].sum()
    for i in range(1, len(p)):
        a[i] = (a[i - 1] @ trans) * e[i]
        a[i] /= a[i].sum()
    for i in range(len(p) - 2, -1, -1):
        b[i] = trans @ (e[i + 1] * b[i + 1])
        b[i] /= b[i].sum()
    q = a * b
    return q / q.sum(1, keepdims=True)


def _map_em(p: np.ndarray, strength: float, prior: np.ndarray) -> np.ndarray:
    """Posteriors adjusted to the report's own prior, fitted by EM with a Dirichlet prior."""
    pi = prior.copy()
    q = p
    for _ in range(100):
        q = p * (pi / prior)
        q /= q.sum(1, keepdims=True)
        new = (q.sum(0) + strength * prior) / (len(p) + strength)
        if np.abs(new - pi).max() < 1e-7:
            break
        pi = new
    return q


def _neighbours(p: np.ndarray, b: float) -> np.ndarray:
    q = p.copy()
    q[1:] += b * p[:-1]
    q[:-1] += b * p[1:]
    return q


def _sharpened(p: np.ndarray, a: float) -> np.ndarray:
    q = p ** a
    return q / q.sum(1, keepdims=True)


def variants(prior: np.ndarray) -> dict:
    """name -> (function of a report's probabilities, hard: classify and count its output)."""
    out = {"cc": (lambda p: p, True), "pcc": (lambda p: p, False)}
    for a in (1.5, 2.0, 3.0):
        out[f"pcc^{a:g}"] = (lambda p, a=a: _sharpened(p, a), False)
    for b in (0.1, 0.2, 0.3):
        out[f"neighbours {b:g}"] = (lambda p, b=b: _neighbours(p, b), True)
    for s in (0.1, 0.2, 0.4):
        out[f"hmm {s:g}"] = (lambda p, s=s: _sticky_posteriors(p, s, prior), True)
    for a in (50.0, 200.0, 1000.0):
        out[f"map-em {a:g}"] = (lambda p, a=a: _map_em(p, a, prior), True)
    return out


def _report_keys(level: str, year) -> list[str]:
    from policy_nlp.shares import era_of

    keys = [level]
    if level == "national":
        keys.append(f"national {era_of(year) or '?'}")
    return keys


def _bootstrap(diff: dict[str, list[float]], seed: int = 0, n: int = 2000) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for key, d in diff.items():
        d = np.asarray(d)
        idx = rng.integers(0, len(d), (n, len(d)))
        means = d[idx].mean(1)
        out[key] = (float(d.mean()), float(np.quantile(means, 0.025)),
                    float(np.quantile(means, 0.975)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--cache", type=Path, default=None,
                    help="The out-of-fold scores of shares.py (a rerun skips the CV).")
    args = ap.parse_args(argv)

    from policy_nlp.codebook import load_codebook
    from policy_nlp.labels import load_joined
    from policy_nlp.model import load_model, softmax
    from policy_nlp.train import TrainConfig, fit_temperature

    started = time.monotonic()
    codebook = load_codebook()
    themes = codebook.ids
    data = load_joined(SHARED / "labels" / "train.jsonl", SHARED / "corpus" / "paragraphs.jsonl",
                       codebook=codebook)
    config = TrainConfig.from_card(load_model(HERE.parent / "models" / "default").card,
                                   n_jobs=2)
    oof, folds = oof_scores(data, codebook, config, args.cache)
    y = np.array([themes.index(lbl) for lbl in data.labels])
    proba = np.zeros_like(oof)
    fold_of = np.zeros(len(y), dtype=int)
    for k, (tr, te) in enumerate(folds):
        proba[te] = softmax(oof[te], fit_temperature(oof[tr], y[tr]))
        fold_of[te] = k
    reports: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(data.groups):
        if data.levels[i] in ("national", "provincial"):
            reports[g].append(i)
    for ix in reports.values():  # the order of the report: ids end in #NNN
        ix.sort(key=lambda i: data.ids[i])

    kk = len(themes)
    eye = np.eye(kk)
    results: dict[str, dict[str, list]] = {}
    for name, (_, hard) in variants(None).items():
        tv: dict[str, list[float]] = defaultdict(list)
        acc: dict[str, list[float]] = defaultdict(list)
        for ix in reports.values():
            # the training prior of this report's fold: the other folds' labels only
            k = fold_of[ix[0]]
            prior = np.bincount(y[fold_of != k], minlength=kk) / (fold_of != k).sum()
            fn = variants(prior)[name][0]
            q = fn(proba[ix])
            est = eye[q.argmax(1)].mean(0) if hard else q.mean(0)
            true = eye[y[ix]].mean(0)
            for key in _report_keys(data.levels[ix[0]], data.years[ix[0]]):
                tv[key].append(0.5 * float(np.abs(est - true).sum()))
                acc[key] += (q.argmax(1) == y[ix]).tolist()
        results[name] = {"tv": tv, "acc": acc}
        print(name, {k: round(float(np.mean(v)), 4) for k, v in tv.items()}, file=sys.stderr)

    # how accurate the classifier would have to be: set right a share f of the wrong labels
    rng = np.random.default_rng(0)
    pred = proba.argmax(1)
    wrong = np.flatnonzero(pred != y)
    fixes = {}
    for f in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
        tv = defaultdict(list)
        acc = defaultdict(list)
        for _ in range(20 if f else 1):
            p2 = pred.copy()
            fix = rng.choice(wrong, round(f * len(wrong)), replace=False)
            p2[fix] = y[fix]
            per = defaultdict(list)
            pacc = defaultdict(list)
            for ix in reports.values():
                est = eye[p2[ix]].mean(0)
                true = eye[y[ix]].mean(0)
                for key in _report_keys(data.levels[ix[0]], data.years[ix[0]]):
                    per[key].append(0.5 * float(np.abs(est - true).sum()))
                    pacc[key] += (p2[ix] == y[ix]).tolist()
            for key in per:
                tv[key].append(np.mean(per[key]))
                acc[key].append(np.mean(pacc[key]))
        fixes[f] = {key: (float(np.mean(tv[key])), float(np.mean(acc[key]))) for key in tv}

    seconds = time.monotonic() - started
    write_markdown(results, fixes, seconds, args.out / "share_limits.md")
    return 0


def write_markdown(results, fixes, seconds, path: Path) -> None:
    cc = results["cc"]
    n = {key: len(cc["tv"][key]) for key in KEYS}
    lines = [
        "# Share error of whole reports: other per-report estimators, and the accuracy needed",
        "",
        f"`python benchmarks/share_limits.py --cache oof.npz` ({seconds:.0f} s, the cache "
        "written by `benchmarks/shares.py --cache oof.npz`); report-grouped 5-fold CV on "
        "`../shared/labels` (the folds of `train`), the whole national and provincial reports "
        "(every paragraph labeled), paragraph shares. See the docstring for each variant.",
        "",
        "## Share error (total variation per report, averaged) and (paragraph accuracy)",
        "",
        "| variant | " + " | ".join(f"{k} ({n[k]})" for k in KEYS) + " |",
        "|---" * (len(KEYS) + 1) + "|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(
            f"{np.mean(r['tv'][k]):.4f} ({np.mean(r['acc'][k]):.3f})" for k in KEYS) + " |")
    lines += ["", "Difference in share error against classify and count (variant - cc; "
              "negative is better), 95% paired bootstrap interval over reports:", "",
              "| variant | " + " | ".join(KEYS) + " |", "|---" * (len(KEYS) + 1) + "|"]
    for name, r in results.items():
        if name == "cc":
            continue
        diff = {k: np.subtract(r["tv"][k], cc["tv"][k]) for k in KEYS}
        ci = _bootstrap(diff)
        lines.append(f"| {name} | " + " | ".join(
            f"{ci[k][0]:+.4f} [{ci[k][1]:+.4f}, {ci[k][2]:+.4f}]" for k in KEYS) + " |")
    lines += ["", "## Classify and count if a share of the wrong labels were right "
              "(20 random draws each)", "",
              "| wrong labels set right | " + " | ".join(
                  f"{k}: error (accuracy)" for k in KEYS) + " |",
              "|---" * (len(KEYS) + 1) + "|"]
    for f, row in fixes.items():
        lines.append(f"| {f:.0%} | " + " | ".join(
            f"{row[k][0]:.4f} ({row[k][1]:.3f})" for k in KEYS) + " |")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
