"""Base-model search: ensembles, NB-SVM and self-training, by report-grouped 5-fold CV.

    python benchmarks/stage1_search.py [--out benchmarks/results/stage1_search.md]
                                       [--cache DIR] [--jobs 2]

Each base model is fitted per outer fold (the folds of ``train.report_folds``: StratifiedGroupKFold
by report, seed 0) on the training reports and scores the test reports; its out-of-fold scores
are cached. An ensemble averages the base models' calibrated log-probabilities (each model's
softmax temperature fitted on its own out-of-fold scores, one scalar per model, as ``train``
does for the default model). Self-training adds the *unlabeled* paragraphs of the training
reports only (never text of the test reports), with the labels the fold's model gives them
where its calibrated probability reaches a threshold.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.svm import LinearSVC

from policy_nlp.features import FeatureSpec, fit_featurizer
from policy_nlp.model import softmax
from policy_nlp.tokenize import tokenize
from policy_nlp.train import expand_linear, fit_temperature

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stacking import HERE, SHARED, Corpus, log_row, score, table_lines, write_lines  # noqa: E402

K = 17


def _svc_scores(X, y, Xte, C=0.5):
    clf = LinearSVC(C=C, random_state=0).fit(X, y)
    coef, intercept = expand_linear(clf, K)
    return np.asarray(Xte @ coef.T) + intercept


def base_default(c, tr, te, spec=None, C=0.5):
    spec = spec or FeatureSpec()
    feat, X = fit_featurizer([c.data.texts[i] for i in tr], [c.tokens[i] for i in tr], spec)
    return _svc_scores(X, c.y[tr], feat.transform([c.data.texts[i] for i in te]), C)


def base_section(c, tr, te):
    """Default features + the section heading path as a char 1-3 field (weight 0.5)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    feat, X = fit_featurizer([c.data.texts[i] for i in tr], [c.tokens[i] for i in tr],
                             FeatureSpec())
    sec = [" ".join(s) for s in c.data.sections]
    v = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    S = v.fit_transform([sec[i] for i in tr]) * 0.5
    Ste = v.transform([sec[i] for i in te]) * 0.5
    Xte = feat.transform([c.data.texts[i] for i in te])
    return _svc_scores(hstack([X, S], format="csr"), c.y[tr], hstack([Xte, Ste], format="csr"))


def base_nbsvm(c, tr, te, C=0.5, alpha=1.0, interp=0.0):
    """One-vs-rest NB-SVM: TF-IDF features scaled by each class's log-count ratio."""
    feat, X = fit_featurizer([c.data.texts[i] for i in tr], [c.tokens[i] for i in tr],
                             FeatureSpec())
    Xte = feat.transform([c.data.texts[i] for i in te])
    B = X.copy()
    B.data[:] = 1.0
    y = c.y[tr]
    out = np.full((len(te), K), -1e3)
    for k in np.unique(y):
        p = alpha + np.asarray(B[y == k].sum(0)).ravel()
        q = alpha + np.asarray(B[y != k].sum(0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        clf = LinearSVC(C=C, random_state=0).fit(X.multiply(r).tocsr(), (y == k).astype(int))
        w = clf.coef_.ravel() * r
        out[:, k] = np.asarray(Xte @ w).ravel() + clf.intercept_[0]
    return out


def base_selftrain(c, tr, te, threshold=0.9, weight=0.5, rounds=1, sentence_weight=0.0):
    """Default model + pseudo-labeled unlabeled paragraphs of the training reports."""
    labeled = set(c.data.ids)
    tr_reports = set(c.groups[tr])
    unl = [k for k, r in enumerate(c.all_rows)
           if r["report_id"] in tr_reports and r["id"] not in labeled]
    utexts = [c.all_texts[k] for k in unl]
    utoks = [tokenize(t) for t in utexts]
    texts = [c.data.texts[i] for i in tr]
    toks = [c.tokens[i] for i in tr]
    y = c.y[tr]
    sw0 = np.ones(len(y))
    if sentence_weight:  # the default's sentence rows (policy_nlp.train.sentence_rows)
        from policy_nlp.train import TrainConfig, sentence_rows

        rows = sentence_rows(c.data, TrainConfig(sentence_weight=sentence_weight))
        s_texts, s_toks, owner = rows.of(tr)
        texts, toks = texts + s_texts, toks + s_toks
        y = np.r_[y, c.y[owner]]
        sw0 = np.r_[sw0, np.full(len(owner), sentence_weight)]
    spec = FeatureSpec()
    feat, X = fit_featurizer(texts, toks, spec)
    clf = LinearSVC(C=0.5, random_state=0).fit(X, y, sample_weight=sw0)
    # temperature from the training part's own scores is optimistic; use a fixed one fitted
    # on the default model's out-of-fold scores (about 0.3, stored in the default card)
    T = 0.3
    for _ in range(rounds):
        coef, intercept = expand_linear(clf, K)
        P = softmax(np.asarray(feat.transform(utexts) @ coef.T) + intercept, T)
        keep = np.flatnonzero(P.max(1) >= threshold)
        feat, X = fit_featurizer(texts + [utexts[j] for j in keep],
                                 toks + [utoks[j] for j in keep], spec)
        yy = np.r_[y, P[keep].argmax(1)]
        sw = np.r_[sw0, np.full(len(keep), weight)]
        clf = LinearSVC(C=0.5, random_state=0).fit(X, yy, sample_weight=sw)
    coef, intercept = expand_linear(clf, K)
    return np.asarray(feat.transform([c.data.texts[i] for i in te]) @ coef.T) + intercept


def base_level_aug(c, tr, te):
    """Diagnostic: features duplicated for national reports (Daume's feature augmentation)."""
    from scipy.sparse import diags

    feat, X = fit_featurizer([c.data.texts[i] for i in tr], [c.tokens[i] for i in tr],
                             FeatureSpec())
    Xte = feat.transform([c.data.texts[i] for i in te])

    def aug(M, idx):
        nat = diags((c.levels[idx] == "national").astype(float))
        return hstack([M, nat @ M], format="csr")

    return _svc_scores(aug(X, tr), c.y[tr], aug(Xte, te))


def base_secondary_rows(c, tr, te, weight=0.2):
    """Each secondary theme as an extra training row of the paragraph, with a small weight."""
    rows, labels, w = list(tr), list(c.y[tr]), [1.0] * len(tr)
    for i in tr:
        for s in c.data.secondary[i]:
            rows.append(i)
            labels.append(c.themes.index(s))
            w.append(weight)
    feat, X = fit_featurizer([c.data.texts[i] for i in tr], [c.tokens[i] for i in tr],
                             FeatureSpec())
    pos = {i: k for k, i in enumerate(tr)}
    Xr = X[[pos[i] for i in rows]]
    clf = LinearSVC(C=0.5, random_state=0).fit(Xr, np.array(labels), sample_weight=np.array(w))
    coef, intercept = expand_linear(clf, K)
    return np.asarray(feat.transform([c.data.texts[i] for i in te]) @ coef.T) + intercept


def base_sentence_rows_pvocab(c, tr, te, weight=0.1):
    """The default's sentence rows, but vocabulary and idf fitted on the paragraphs only (the
    sentences transformed with them), so the model keeps the paragraphs' feature set."""
    from scipy.sparse import vstack

    from policy_nlp.train import TrainConfig, sentence_rows

    rows = sentence_rows(c.data, TrainConfig(sentence_weight=weight))
    s_texts, _, owner = rows.of(tr)
    feat, X = fit_featurizer([c.data.texts[i] for i in tr], [c.tokens[i] for i in tr],
                             FeatureSpec())
    X = vstack([X, feat.transform(s_texts)], format="csr")
    y = np.r_[c.y[tr], c.y[owner]]
    sw = np.r_[np.ones(len(tr)), np.full(len(owner), weight)]
    clf = LinearSVC(C=0.5, random_state=0).fit(X, y, sample_weight=sw)
    coef, intercept = expand_linear(clf, K)
    return np.asarray(feat.transform([c.data.texts[i] for i in te]) @ coef.T) + intercept


def base_sentence_rows(c, tr, te, weight=0.3, secondary_weight=0.0, min_len=15,
                       all_paragraphs=False):
    """Sentences of paragraphs without secondary themes as extra rows with the paragraph's
    label (they are about that theme), small weight."""
    from policy_nlp.split import split_sentences

    texts = [c.data.texts[i] for i in tr]
    toks = [c.tokens[i] for i in tr]
    labels, w = list(c.y[tr]), [1.0] * len(tr)
    for i in tr:
        for sec in c.data.secondary[i] if secondary_weight else ():
            texts.append(c.data.texts[i])
            toks.append(c.tokens[i])
            labels.append(c.themes.index(sec))
            w.append(secondary_weight)
        if c.data.secondary[i] and not all_paragraphs:
            continue
        ss = split_sentences(c.data.texts[i])
        if len(ss) < 2:
            continue
        for s in ss:
            if len(s) >= min_len:
                texts.append(s)
                toks.append(tokenize(s))
                labels.append(c.y[i])
                w.append(weight)
    feat, X = fit_featurizer(texts, toks, FeatureSpec())
    clf = LinearSVC(C=0.5, random_state=0).fit(X, np.array(labels), sample_weight=np.array(w))
    coef, intercept = expand_linear(clf, K)
    return np.asarray(feat.transform([c.data.texts[i] for i in te]) @ coef.T) + intercept


def base_clean(c, tr, te, drop=0.03):
    """Label cleaning: drop the ``drop`` share of training paragraphs whose label the inner
    out-of-fold model (report-grouped CV inside the training reports) finds least likely."""
    from stacking import folds_of

    inner = np.zeros((len(tr), K))
    for itr, ite in folds_of(c.y[tr], c.groups[tr]):
        inner[ite] = base_default(c, tr[itr], tr[ite])
    T = fit_temperature(inner, c.y[tr])
    p_given = softmax(inner, T)[np.arange(len(tr)), c.y[tr]]
    keep = tr[np.argsort(p_given)[int(drop * len(tr)):]]
    return base_default(c, np.sort(keep), te)


BASES = {
    "default": (base_default, {}),
    "char13": (base_default, {"spec": FeatureSpec(word_ngram=None)}),
    "word12": (base_default, {"spec": FeatureSpec(char_ngram=None)}),
    "section": (base_section, {}),
    "nbsvm": (base_nbsvm, {}),
    "selftrain.9": (base_selftrain, {"threshold": 0.9}),
    "selftrain.7": (base_selftrain, {"threshold": 0.7}),
    "mindf2": (base_default, {"spec": FeatureSpec(min_df=2)}),
    "mindf3 C1": (base_default, {"spec": FeatureSpec(min_df=3), "C": 1.0}),
    "level-aug": (base_level_aug, {}),
    "secondary-rows": (base_secondary_rows, {}),
    "sentence-rows": (base_sentence_rows, {}),
    "sentence-rows.5": (base_sentence_rows, {"weight": 0.5}),
    "sentence-rows.15": (base_sentence_rows, {"weight": 0.15}),
    "sentence-rows.1": (base_sentence_rows, {"weight": 0.1}),
    "sentence-rows.05": (base_sentence_rows, {"weight": 0.05}),
    "sentence-rows-all.15": (base_sentence_rows, {"weight": 0.15, "all_paragraphs": True}),
    "selftrain.7+sent.1": (base_selftrain, {"threshold": 0.7, "sentence_weight": 0.1}),
    "sent-pvocab.1": (base_sentence_rows_pvocab, {"weight": 0.1}),
    "sent-pvocab.15": (base_sentence_rows_pvocab, {"weight": 0.15}),
    "sent+sec-rows": (base_sentence_rows, {"weight": 0.3, "secondary_weight": 0.2}),
    "clean3": (base_clean, {"drop": 0.03}),
    "clean8": (base_clean, {"drop": 0.08}),
}


def oof_scores(c, name, cache: Path, jobs: int):
    path = cache / f"oof_{name.replace('/', '_')}.npy"
    if path.is_file():
        return np.load(path)
    from joblib import Parallel, delayed

    fn, kw = BASES[name]
    t0 = time.perf_counter()
    res = Parallel(n_jobs=jobs)(delayed(fn)(c, tr, te, **kw) for tr, te in c.outer)
    out = np.zeros((len(c.y), K))
    for (_, te), s in zip(c.outer, res, strict=True):
        out[te] = s
    print(f"base {name}: {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def seed_macro_f1(c, seed, base, jobs):
    """Macro-F1 of a base model over report-grouped folds of another seed."""
    from joblib import Parallel, delayed
    from sklearn.metrics import f1_score

    from stacking import folds_of

    fn, kw = base
    folds = folds_of(c.y, c.groups, seed=seed)
    pred = np.zeros(len(c.y), dtype=int)
    res = Parallel(n_jobs=jobs)(delayed(fn)(c, tr, te, **kw) for tr, te in folds)
    for (_, te), s in zip(folds, res, strict=True):
        pred[te] = s.argmax(1)
    return f1_score(c.y, pred, average="macro")


def confidence_lines(c, cache, jobs):
    """Where the errors are: out-of-fold accuracy and macro-F1 by the annotator's confidence,
    and how many errors pick a theme the annotator listed as secondary."""
    import json

    from sklearn.metrics import f1_score

    conf = {}
    for line in open(SHARED / "labels" / "train.jsonl", encoding="utf-8"):
        row = json.loads(line)
        conf[row["id"]] = row.get("confidence", "high")
    level = np.array([conf[i] for i in c.data.ids])
    lines = ["Out-of-fold results by the annotator's confidence:", "",
             "| model | confidence | paragraphs | accuracy | macro-F1 |", "|---|---|---|---|---|"]
    notes = []
    for name in ("default", "sentence-rows.1"):
        pred = oof_scores(c, name, cache, jobs).argmax(1)
        for v in ("high", "medium", "low"):
            m = level == v
            lines.append(f"| {name} | {v} | {m.sum()} | {(pred[m] == c.y[m]).mean():.4f} | "
                         f"{f1_score(c.y[m], pred[m], average='macro'):.4f} |")
        err = pred != c.y
        in_secondary = np.array([c.themes[p] in s for p, s in zip(pred, c.data.secondary,
                                                                  strict=True)])
        as_right = np.where(err & in_secondary, pred, c.y)
        notes.append(f"- {name}: {int((err & in_secondary).sum())} of {int(err.sum())} errors "
                     "pick a theme the annotator listed as secondary; counting those as right, "
                     f"macro-F1 {f1_score(as_right, pred, average='macro'):.4f}")
    return lines + [""] + notes


def calibrated_logp(scores, y):
    T = fit_temperature(scores, y)
    return np.log(np.clip(softmax(scores, T), 1e-12, None))


ENSEMBLES = {
    "default": ["default"],
    "char13": ["char13"],
    "word12": ["word12"],
    "section": ["section"],
    "nbsvm": ["nbsvm"],
    "selftrain t=0.9": ["selftrain.9"],
    "selftrain t=0.7": ["selftrain.7"],
    "default + nbsvm": ["default", "nbsvm"],
    "char13 + word12": ["char13", "word12"],
    "default + char13 + word12": ["default", "char13", "word12"],
    "default + char13 + word12 + nbsvm": ["default", "char13", "word12", "nbsvm"],
    "section + nbsvm": ["section", "nbsvm"],
    "section + selftrain.9 + nbsvm": ["section", "selftrain.9", "nbsvm"],
    "min_df 2": ["mindf2"],
    "min_df 3, C 1": ["mindf3 C1"],
    "national feature copy (diagnostic: needs the level)": ["level-aug"],
    "secondary themes as rows (w 0.2)": ["secondary-rows"],
    "sentences as extra rows (w 0.3)": ["sentence-rows"],
    "label cleaning: drop 3% least likely (nested)": ["clean3"],
    "label cleaning: drop 8% least likely (nested)": ["clean8"],
    "sentences as extra rows (w 0.5)": ["sentence-rows.5"],
    "sentences as extra rows (w 0.15)": ["sentence-rows.15"],
    "sentences as extra rows (w 0.1)": ["sentence-rows.1"],
    "sentences as extra rows (w 0.05)": ["sentence-rows.05"],
    "sentences of all paragraphs as extra rows (w 0.15)": ["sentence-rows-all.15"],
    "sentence rows (w 0.3) + secondary rows (w 0.2)": ["sent+sec-rows"],
    "self-training p>=0.7 + sentence rows (w 0.1)": ["selftrain.7+sent.1"],
    "sentence rows (w 0.1) on the paragraphs' vocabulary": ["sent-pvocab.1"],
    "sentence rows (w 0.15) on the paragraphs' vocabulary": ["sent-pvocab.15"],
    "secondary-rows + section + selftrain.7": ["secondary-rows", "section", "selftrain.7"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "stage1_search.md")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/policy-nlp-stacking"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--fold-seeds", default="1,2",
                    help="other fold seeds on which to repeat default vs the sentence rows "
                         "(w 0.1), a check that the gain is not one split's luck ('' skips)")
    args = ap.parse_args(argv)
    if not (SHARED / "labels" / "train.jsonl").is_file():
        print(f"{SHARED} is absent: the search needs the shared labels", file=sys.stderr)
        return 2
    c = Corpus()
    chosen = ENSEMBLES
    if args.only:
        keep = set(args.only.split(","))
        chosen = {k: v for k, v in ENSEMBLES.items() if k in keep}
    from policy_nlp.compare import paired_bootstrap

    rows = []
    default_pred = oof_scores(c, "default", args.cache, args.jobs).argmax(1)
    for name, members in chosen.items():
        t0 = time.perf_counter()
        logp = sum(calibrated_logp(oof_scores(c, m, args.cache, args.jobs), c.y)
                   for m in members) / len(members)
        T = fit_temperature(logp, c.y)
        r = score(c, softmax(logp, T), name, time.perf_counter() - t0)
        # paired bootstrap over reports of the macro-F1 difference to the default model
        r["ci"] = paired_bootstrap(c.y, default_pred, logp.argmax(1),
                                   list(c.groups))["macro_f1_diff_ci95"]
        rows.append(log_row(r))
    lines = ["# Base-model search (report-grouped 5-fold CV, shared labels)", "",
             "Command: `python benchmarks/stage1_search.py`", "",
             "Ensembles average the members' calibrated log-probabilities. The last column is "
             "the 95% interval of the macro-F1 difference to `default`, by a paired bootstrap "
             "over reports (1,000 resamples, seed 0).", "",
             *table_lines(rows, ("Δ macro-F1 vs default, 95% CI",
                                 lambda r: f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]"))]
    lines += ["", *confidence_lines(c, args.cache, args.jobs)]
    if args.fold_seeds:
        lines += ["", "Other fold seeds (StratifiedGroupKFold by report, 5 folds), macro-F1:", "",
                  "| fold seed | default | sentences as extra rows (w 0.1) | difference |",
                  "|---|---|---|---|"]
        for seed in map(int, args.fold_seeds.split(",")):
            f1 = [seed_macro_f1(c, seed, BASES[name], args.jobs)
                  for name in ("default", "sentence-rows.1")]
            lines.append(f"| {seed} | {f1[0]:.4f} | {f1[1]:.4f} | {f1[1] - f1[0]:+.4f} |")
            print(lines[-1], flush=True)
    write_lines(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
