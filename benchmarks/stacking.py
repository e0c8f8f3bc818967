"""Stacking search: a second stage over sentence-level and context features of stage 1.

    python benchmarks/stacking.py [--out benchmarks/results/stacking.md] [--only NAME,...]
                                  [--cache DIR] [--jobs 2]

Stage 1 is the default model (char 1-3 + word 1-2 TF-IDF, LinearSVC C=0.5, fitted with the
project's own featurizer). Stage 2 is a multinomial logistic regression over dense features
of stage 1's scores: of the paragraph, of each of its sentences (the codebook's dominance
rule: the theme with most of the length) and, for the context variants, of the neighbouring
paragraphs of the same report.

Nothing leaks: on the outer report-grouped folds (StratifiedGroupKFold by report, seed 0,
the folds of ``train.report_folds``), stage 2 is trained on *inner* out-of-fold stage-1
outputs of the outer training reports (an inner report-grouped 5-fold CV, seed 0), and
stage 1 for the outer test reports is fitted on all outer training reports. Stage-1 outputs
are cached (``--cache``), so stage-2 variants are cheap to add.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

from policy_nlp.codebook import load_codebook
from policy_nlp.evaluate import expected_calibration_error
from policy_nlp.features import FeatureSpec, fit_featurizer
from policy_nlp.labels import load_joined
from policy_nlp.model import softmax
from policy_nlp.split import split_sentences
from policy_nlp.tokenize import tokenize
from policy_nlp.train import expand_linear, fit_temperature

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"


def folds_of(y, groups, seed=0, k=5):
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        return list(cv.split(np.zeros(len(y)), y, groups))


# -- stage 1 -----------------------------------------------------------------------------------

def stage1(texts, tokens, y, n_themes, tr, score_texts, C=0.5):
    """Fit the default model on ``tr``; return its scores of each list in ``score_texts``."""
    feat, X = fit_featurizer([texts[i] for i in tr], [tokens[i] for i in tr], FeatureSpec())
    clf = LinearSVC(C=C, random_state=0).fit(X, y[tr])
    coef, intercept = expand_linear(clf, n_themes)
    return [np.asarray(feat.transform(t) @ coef.T) + intercept if len(t) else
            np.zeros((0, n_themes)) for t in score_texts]


class Corpus:
    """The labeled paragraphs, their sentences and the corpus paragraphs around them."""

    def __init__(self):
        self.data = load_joined(SHARED / "labels" / "train.jsonl",
                                SHARED / "corpus" / "paragraphs.jsonl")
        self.themes = load_codebook().ids
        d = self.data
        self.y = np.array([self.themes.index(lbl) for lbl in d.labels])
        self.groups = np.array(d.groups)
        self.levels = np.array([str(v) for v in d.levels])
        self.tokens = [tokenize(t) for t in d.texts]
        # sentences of labeled paragraphs
        sents, owner = [], []
        for i, t in enumerate(d.texts):
            ss = split_sentences(t) or [t]
            sents.extend(ss)
            owner.extend([i] * len(ss))
        self.sents = sents
        self.sent_owner = np.array(owner)
        self.sent_len = np.array([len(s) for s in sents], float)
        # every corpus paragraph of the labeled reports, in report order
        reports = set(d.groups)
        self.all_rows = []
        for line in open(SHARED / "corpus" / "paragraphs.jsonl", encoding="utf-8"):
            row = json.loads(line)
            if row["report_id"] in reports:
                self.all_rows.append(row)
        self.all_report = np.array([r["report_id"] for r in self.all_rows])
        self.all_texts = [r["text"] for r in self.all_rows]
        pos = {r["id"]: k for k, r in enumerate(self.all_rows)}
        self.all_pos = np.array([pos[i] for i in d.ids])  # labeled paragraph -> corpus row
        # neighbours in the corpus (-1: none, i.e. first/last of the report)
        n_all = len(self.all_rows)
        same_prev = np.r_[False, self.all_report[1:] == self.all_report[:-1]]
        same_next = np.r_[self.all_report[:-1] == self.all_report[1:], False]
        self.prev = np.where(same_prev, np.arange(n_all) - 1, -1)
        self.next = np.where(same_next, np.arange(n_all) + 1, -1)
        # relative position in the report
        first = {}
        count = {}
        for k, r in enumerate(self.all_report):
            first.setdefault(r, k)
            count[r] = count.get(r, 0) + 1
        self.rel_pos = np.array([(k - first[r]) / max(count[r] - 1, 1)
                                 for k, r in enumerate(self.all_report)])
        self.outer = folds_of(self.y, self.groups)


def _score_part(c: Corpus, tr, te):
    """Stage 1 fitted on labeled paragraphs ``tr``; scores of labeled ``te`` paragraphs, their
    sentences, and every corpus paragraph of te's reports."""
    te_sent = np.flatnonzero(np.isin(c.sent_owner, te))
    te_reports = set(c.groups[te])
    te_all = np.flatnonzero([r in te_reports for r in c.all_report])
    p, s, a = stage1(c.data.texts, c.tokens, c.y, len(c.themes), tr,
                     [[c.data.texts[i] for i in te], [c.sents[j] for j in te_sent],
                      [c.all_texts[k] for k in te_all]])
    return te, p, te_sent, s, te_all, a


def stage1_outputs(c: Corpus, cache: Path, jobs: int):
    """Per outer fold: inner-OOF stage-1 scores of the outer training part and outer-model
    scores of the test part (paragraph, sentence and corpus-paragraph scores)."""
    from joblib import Parallel, delayed

    path = cache / "stage1.npz"
    if path.is_file():
        z = np.load(path)
        return [{k[len(f"f{f}_"):]: z[k] for k in z.files if k.startswith(f"f{f}_")}
                for f in range(len(c.outer))]
    tasks, keys = [], []
    for f, (tr, te) in enumerate(c.outer):
        for g, (itr, ite) in enumerate(folds_of(c.y[tr], c.groups[tr])):
            tasks.append(delayed(_score_part)(c, tr[itr], tr[ite]))
            keys.append((f, "inner"))
        tasks.append(delayed(_score_part)(c, tr, te))
        keys.append((f, "outer"))
    t0 = time.perf_counter()
    results = Parallel(n_jobs=jobs, verbose=5)(tasks)
    print(f"stage 1: {len(tasks)} fits in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    n, ns, na, k = len(c.y), len(c.sents), len(c.all_rows), len(c.themes)
    out = []
    for f in range(len(c.outer)):
        d = {}
        for part in ("inner", "outer"):
            P, S, A = np.zeros((n, k)), np.zeros((ns, k)), np.zeros((na, k))
            for key, (te, p, te_sent, s, te_all, a) in zip(keys, results, strict=True):
                if key == (f, part):
                    P[te], S[te_sent], A[te_all] = p, s, a
            d[f"{part}_para"], d[f"{part}_sent"], d[f"{part}_all"] = P, S, A
        out.append(d)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{f"f{f}_{k}": v for f, d in enumerate(out) for k, v in d.items()})
    return out


# -- stage 2 features --------------------------------------------------------------------------

def dense_features(c: Corpus, idx, para, sent, allp, T, parts):
    """Dense stage-2 features of labeled paragraphs ``idx``."""
    k = len(c.themes)
    P = softmax(para[idx], T)
    feats = [P]
    if "raw" in parts:
        feats.append(para[idx])
    if "sent" in parts or "dom" in parts:
        # sentence probabilities, length-weighted per paragraph
        sel = np.isin(c.sent_owner, idx)
        owner = c.sent_owner[sel]
        row = np.searchsorted(idx, owner) if np.all(np.diff(idx) > 0) else \
            np.array([np.flatnonzero(idx == o)[0] for o in owner])
        SP = softmax(sent[sel], T)
        L = c.sent_len[sel]
        tot = np.bincount(row, L, minlength=len(idx))
        mean = np.zeros((len(idx), k))
        np.add.at(mean, row, SP * L[:, None])
        mean /= np.maximum(tot, 1)[:, None]
        mx = np.zeros((len(idx), k))
        np.maximum.at(mx, row, SP)
        share = np.zeros((len(idx), k))  # length share of sentences whose argmax is the theme
        np.add.at(share, (row, SP.argmax(1)), L)
        share /= np.maximum(tot, 1)[:, None]
        nsent = np.bincount(row, minlength=len(idx))
        srt = -np.sort(-share, axis=1)
        ent = -(share * np.log(np.clip(share, 1e-9, None))).sum(1)
        mean_srt = -np.sort(-mean, axis=1)
        ment = -(mean * np.log(np.clip(mean, 1e-9, None))).sum(1)
        if "sent" in parts:
            feats += [mean, mx]
        if "dom" in parts:
            feats += [share, srt[:, :3], (share >= 0.2).sum(1, keepdims=True),
                      ent[:, None], mean_srt[:, :3], ment[:, None],
                      np.log1p(nsent)[:, None],
                      np.log1p(np.array([len(c.data.texts[i]) for i in idx]))[:, None],
                      (srt[:, 0] < 0.4)[:, None] * 1.0]
    if "ctx" in parts:
        pos = c.all_pos[idx]
        AP = softmax(allp, T)
        for nb in (c.prev[pos], c.next[pos]):
            f = np.where((nb >= 0)[:, None], AP[np.maximum(nb, 0)], 0.0)
            feats += [f, (nb >= 0)[:, None] * 1.0]
    if "pos" in parts:
        rp = c.rel_pos[c.all_pos[idx]]
        feats += [rp[:, None], (rp ** 2)[:, None]]
    if "list" in parts:
        import re
        pat = re.compile(r"[一二三四五六七八九十]是|（[一二三四五六七八九十]）|第[一二三四五六七八九十]")
        feats.append(np.array([[min(len(pat.findall(c.data.texts[i])), 8) / 8.0]
                               for i in idx]))
    return np.hstack(feats)


def macro_f1_biases(logp, y, k, grid=np.linspace(-1.5, 1.5, 31), passes=2):
    """Per-theme additive biases on log-probabilities that maximise macro-F1 (coordinate
    ascent over a grid, ``passes`` sweeps)."""
    b = np.zeros(k)
    best = f1_score(y, (logp + b).argmax(1), average="macro", labels=range(k))
    for _ in range(passes):
        for j in range(k):
            for v in grid:
                trial = b.copy()
                trial[j] = v
                f = f1_score(y, (logp + trial).argmax(1), average="macro", labels=range(k))
                if f > best + 1e-9:
                    best, b = f, trial
    return b


def run_variant(c: Corpus, outs, parts, C2=1.0, ctx_dropout=0.0):
    n, k = len(c.y), len(c.themes)
    proba = np.zeros((n, k))
    for f, (tr, te) in enumerate(c.outer):
        o = outs[f]
        tr, te = np.sort(tr), np.sort(te)
        if parts[0] == "stage1":
            T = fit_temperature(o["inner_para"][tr], c.y[tr])
            proba[te] = softmax(o["outer_para"][te], T)
            if "bias" in parts:  # biases fitted on the inner out-of-fold scores
                b = macro_f1_biases(np.log(softmax(o["inner_para"][tr], T) + 1e-12), c.y[tr], k)
                proba[te] = softmax(np.log(proba[te] + 1e-12) + b, 1.0)
            continue
        T = fit_temperature(o["inner_para"][tr], c.y[tr])
        Xtr = dense_features(c, tr, o["inner_para"], o["inner_sent"], o["inner_all"], T, parts)
        Xte = dense_features(c, te, o["outer_para"], o["outer_sent"], o["outer_all"], T, parts)
        mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
        clf = LogisticRegression(C=C2, max_iter=3000)
        clf.fit((Xtr - mu) / sd, c.y[tr])
        p = np.zeros((len(te), k))
        p[:, clf.classes_] = clf.predict_proba((Xte - mu) / sd)
        proba[te] = p
    return proba


def score(c: Corpus, proba, name, seconds):
    pred = proba.argmax(1)
    nat = c.levels == "national"
    per_theme = f1_score(c.y, pred, average=None, labels=range(len(c.themes)))
    return {
        "variant": name,
        "accuracy": accuracy_score(c.y, pred),
        "macro_f1": f1_score(c.y, pred, average="macro"),
        "national_macro_f1": f1_score(c.y[nat], pred[nat], average="macro"),
        "min_theme_f1": float(per_theme.min()),
        "min_theme": c.themes[int(per_theme.argmin())],
        "ece": expected_calibration_error(proba.max(1), pred == c.y),
        "seconds": seconds,
    }


VARIANTS = {
    "stage 1 only (default model, temperature)": (("stage1",), {}),
    "stage 1 + per-theme macro-F1 biases (nested)": (("stage1", "bias"), {}),
    "stage2: para probs": (("para",), {}),
    "stage2: para + sentence mean/max": (("sent",), {}),
    "stage2: para + dominance": (("dom",), {}),
    "stage2: para + sentence + dominance": (("sent", "dom"), {}),
    "stage2: para + sentence + dominance + raw": (("sent", "dom", "raw"), {}),
    "stage2: para + sentence + dominance + list": (("sent", "dom", "list"), {}),
    "stage2: + context (prev/next)": (("sent", "dom", "ctx"), {}),
    "stage2: + context + position": (("sent", "dom", "ctx", "pos"), {}),
    "stage2: para + sentence + dominance C2=0.1": (("sent", "dom"), {"C2": 0.1}),
    "stage2: para + sentence + dominance C2=10": (("sent", "dom"), {"C2": 10.0}),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "stacking.md")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/policy-nlp-stacking"))
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if not (SHARED / "labels" / "train.jsonl").is_file():
        print(f"{SHARED} is absent: the stacking search needs the shared labels", file=sys.stderr)
        return 2
    c = Corpus()
    outs = stage1_outputs(c, args.cache, args.jobs)
    chosen = VARIANTS
    if args.only:
        keep = set(args.only.split(","))
        chosen = {k: v for k, v in VARIANTS.items() if k in keep}
    rows = []
    for name, (parts, kw) in chosen.items():
        t0 = time.perf_counter()
        proba = run_variant(c, outs, parts, **kw)
        rows.append(log_row(score(c, proba, name, time.perf_counter() - t0)))
    lines = ["# Stacking search (report-grouped 5-fold CV, nested, shared labels)", "",
             "Command: `python benchmarks/stacking.py`", "",
             "The temperature of each outer fold is fitted on its inner out-of-fold scores.", "",
             *table_lines(rows)]
    write_lines(args.out, lines)
    return 0


def log_row(r):
    """Print one scored variant; return it."""
    print(f"{r['variant']:<48} acc {r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}  "
          f"national {r['national_macro_f1']:.4f}  min {r['min_theme_f1']:.3f} "
          f"({r['min_theme']})  ECE {r['ece']:.4f}", flush=True)
    return r


def table_lines(rows, extra=None):
    """A Markdown table of scored variants; ``extra``: (column header, row -> cell)."""
    head = "| variant | accuracy | macro-F1 | national macro-F1 | min theme F1 | ECE |"
    rule = "|---|---|---|---|---|---|"
    if extra:
        head, rule = head + f" {extra[0]} |", rule + "---|"
    lines = [head, rule]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | "
                     f"{r['national_macro_f1']:.4f} | {r['min_theme_f1']:.3f} ({r['min_theme']})"
                     f" | {r['ece']:.4f} |" + (f" {extra[1](r)} |" if extra else ""))
    return lines


def write_lines(path: Path, lines) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
