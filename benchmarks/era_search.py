"""Era search: what a linear model can do with the era of a report, by report-grouped 5-fold CV.

    python benchmarks/era_search.py [--out benchmarks/results/era_search.md] [--cache DIR]
                                    [--jobs 1] [--only NAME,...] [--n-boot 2000]

Every variant is fitted on the same folds (``train.report_folds``: StratifiedGroupKFold by
report, seed 0, the folds of ``policy-nlp train``) of the shared labels, with the default
configuration (``TrainConfig()``: char 1-3 + word 1-2 TF-IDF, LinearSVC C=0.5, the sentences
of single-theme paragraphs as extra rows of weight 0.1) but without era weights, and scored on
*every* labeled paragraph of the held-out reports. The variants:

* ``simplified characters``: the default (era weights 0.5) with the texts converted to
  simplified characters before the features (``FeatureSpec.simplify``, OpenCC ``t2s``): the
  default of ``train`` since; every other variant sees the texts as they come (the 1954
  national report is in traditional characters), as they were measured;
* numbers written one way (on top of ``simplified characters``): percentages (百分之八十八点八,
  88.8%) and years (一九五五年, 2024年) as ``9%`` and ``1999年``; or every number as ``9``;
  full-width digits and letters as ASCII (１９５６年: 1956年); and ``min_df`` 2 or 3 (the rarer
  n-grams of the old reports kept);
* ``before``: trained only on the rows the model shipped before the era and census labels had
  (``sample`` random or rare) of the training reports: the model of commit 871a1af, refitted
  per fold;
* ``unweighted``: trained on all rows of the training reports (the default before era
  weights: ``train --era-balance 0``);
* sample weights: era-balanced (``train.era_weights``: power 1, each era the same total weight;
  power 0.5, the training default, ``--era-balance 0.5``), or the ``era`` and ``census`` rows at
  half weight (do they swamp the other levels?);
* era intercepts: one indicator column per era (a per-era, per-theme bias, regularised as the
  other weights);
* era-tagged copies ("frustratingly easy domain adaptation", Daumé 2007): the features once
  shared and once more for the paragraph's era (all eras, or only up to 1990), so a term may
  weigh differently in old reports; a paragraph whose year is unknown gets the shared copy
  only, which is also scored (``year hidden``);
* the section heading path as a feature block (char 1-3-grams, weight 0.5), alone and with
  the era weights (the shared corpus's ``section``, in training and at prediction);
* the ``S`` variants (issue 18's section feature, as the product would have it): the section
  path our splitter gives each paragraph (``split.split_report`` of the report, what
  ``label`` passes at prediction; the corpus's own paths differ for half the paragraphs,
  ``benchmarks/section_paths.py``), by char 1-3-grams or words, at weights 0.3 to 1.0, with
  a share of the training paragraphs' sections blanked (section dropout), with and without
  era weights; the previous paragraph's text as a down-weighted block (context), with and
  without the section. Each is scored with the splitter's sections of the test rows and with
  them blanked (``no section at prediction``: a record or ``classify --text`` without one),
  and compared with the shipped default (era weights 0.5).

Out-of-fold scores of each variant are cached (``--cache``), keyed by the labels' hash, so a
rerun only fits new variants. The table gives accuracy by level and, for national reports, by
era, macro-F1 over all rows and over the ``random`` rows (the rows drawn at random by level:
the distribution of paragraphs in general); then each variant's differences from
``unweighted`` (the ``S`` section variants and ``simplified characters`` from the default
era weights; the default and ``simplified characters`` from ``before``: the measure the issue
asks for) with 95% intervals from a paired bootstrap over reports. ``--only before`` runs
that comparison alone (``before``, ``unweighted``, the default and ``simplified
characters``); names with a comma are separated by ``;`` (``--only "before;S char 0.5,
dropout 0.3"``). ``--versus 'BASE|OTHER'`` adds differences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, diags, hstack

from policy_nlp.codebook import load_codebook
from policy_nlp.compare import _macro_f1, paired_bootstrap
from policy_nlp.era import ERA_NAMES, era_of
from policy_nlp.features import FeatureSpec, fit_featurizer
from policy_nlp.labels import load_joined
from policy_nlp.train import (
    TrainConfig,
    era_weights,
    expand_linear,
    make_classifier,
    report_folds,
    sentence_rows,
    tokenize_all,
)

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
OLD_SAMPLES = ("random", "rare")  # the rows the model shipped before this issue had


class Corpus:
    """The shared labels with what every variant needs, computed once."""

    def __init__(self, seed: int = 0):
        self.data = load_joined(SHARED / "labels" / "train.jsonl",
                                SHARED / "corpus" / "paragraphs.jsonl")
        self.book = load_codebook()
        # era weights are variants here; the seed draws the folds; the texts as they come
        # (the variants of the table were measured so), simplified in ``SIMPLIFIED`` only
        self.config = TrainConfig(era_balance=0.0, seed=seed,
                                  features=FeatureSpec(simplify=False))
        self.simplified = replace(self.config, features=FeatureSpec(simplify=True))
        self.k = len(self.book.ids)
        d = self.data
        self.y = np.array([self.book.ids.index(lbl) for lbl in d.labels])
        self.levels = np.array([str(v) for v in d.levels])
        self.eras = np.array([str(era_of(v)) for v in d.years])
        self.era_idx = np.array([ERA_NAMES.index(e) if e in ERA_NAMES else -1
                                 for e in self.eras])
        self.samples = np.array([str(s) for s in d.samples])
        self.sections = [" ".join(s) for s in d.sections]
        self.split_sections, self.previous = _from_splitter(d)
        self.split_key = hashlib.sha256(json.dumps([self.split_sections, self.previous],
                                                   ensure_ascii=False).encode()).hexdigest()[:16]
        self.folds = report_folds(d, self.book, self.config)
        self.tokens = tokenize_all(d.texts, self.config)
        self.sentences = sentence_rows(d, self.config)
        # the same rows, tokenized as a simplifying featurizer sees them
        self.tokens_simplified = tokenize_all(d.texts, self.simplified)
        self.sentences_simplified = replace(
            self.sentences, tokens=tokenize_all(self.sentences.texts, self.simplified))
        self.key = d.sha256()[:16]


def _from_splitter(d) -> tuple[list[str], list[str]]:
    """The section path our splitter (``split.split_report``) gives each labeled paragraph,
    and the text of the paragraph before it in that split ("" for a report's first), the
    paragraph found by its text among the split paragraphs of its report: what ``label`` gives
    the model at prediction time. A paragraph the splitter cuts differently gets "" for both."""
    from policy_nlp.split import split_report

    found: dict[str, dict[str, tuple[str, str]]] = {}
    with open(SHARED / "corpus" / "reports.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            paras = split_report(r["text"], r["id"]).paragraphs
            found[r["id"]] = {p.text: (" ".join(p.section), paras[p.index - 1].text
                                       if p.index else "") for p in paras}
    pairs = [found.get(g, {}).get(t, ("", "")) for g, t in zip(d.groups, d.texts, strict=True)]
    return [a for a, _ in pairs], [b for _, b in pairs]


class Fold:
    """One fold's training design: the paragraphs ``rows`` and their sentence rows, the fitted
    features of them and of the test paragraphs."""

    def __init__(self, c: Corpus, rows: np.ndarray, te: np.ndarray):
        s_texts, s_tokens, owner = c.sentences.of(rows)
        self.c, self.te, self.rows, self.owner = c, te, rows, owner
        self.of = np.r_[rows, owner]  # the paragraph of each training row
        self.weight = np.r_[np.ones(len(rows)), np.full(len(owner), c.sentences.weight)]
        texts = [c.data.texts[i] for i in rows] + s_texts
        tokens = [c.tokens[i] for i in rows] + s_tokens
        self.featurizer, self.X = fit_featurizer(texts, tokens, c.config.features)
        self.sections = [c.sections[i] for i in self.of]
        self.Xte = self.featurizer.transform([c.data.texts[i] for i in te])

    def era_weighted(self, power: float) -> np.ndarray:
        """The row weights of ``train`` with ``era_balance=power``: each paragraph's era
        weight, a sentence row's its paragraph's times the sentence weight."""
        w = era_weights([self.c.data.years[i] for i in self.rows], power)
        of_paragraph = np.zeros(len(self.c.y))
        of_paragraph[self.rows] = w
        return np.r_[w, self.c.sentences.weight * of_paragraph[self.owner]]

    def fit_scores(self, X, Xte, weight=None) -> np.ndarray:
        clf = make_classifier(self.c.config).fit(X, self.c.y[self.of],
                                                 sample_weight=self.weight if weight is None
                                                 else weight)
        coef, intercept = expand_linear(clf, self.c.k)
        return np.asarray(Xte @ coef.T) + intercept


def era_rows(era_idx: np.ndarray, n_eras: int = len(ERA_NAMES)) -> csr_matrix:
    """One indicator column per era (an unknown era, -1, has none)."""
    known = era_idx >= 0
    return csr_matrix((np.ones(known.sum()), (np.flatnonzero(known), era_idx[known])),
                      shape=(len(era_idx), n_eras))


def tagged(X, era_idx: np.ndarray, tag: tuple[int, ...]):
    """The features once shared and once per era in ``tag``, zero outside the row's era."""
    return hstack([X] + [diags((era_idx == e).astype(float)) @ X for e in tag], format="csr")


# A variant: fold -> {name: out-of-fold scores of the fold's test rows}; several names where a
# variant is also scored with the year hidden at predict time.
Variant = Callable[[Fold], dict[str, np.ndarray]]


def v_unweighted(f: Fold):
    return {UNWEIGHTED: f.fit_scores(f.X, f.Xte)}


def v_weights(name: str, fn: Callable[[Fold], np.ndarray]) -> Variant:
    def run(f: Fold):
        return {name: f.fit_scores(f.X, f.Xte, fn(f))}
    return run


def v_intercepts(f: Fold):
    c = f.c
    X = hstack([f.X, era_rows(c.era_idx[f.of])], format="csr")
    clf_scores = {}
    for name, te_era in (("era intercepts", c.era_idx[f.te]),
                         ("era intercepts, year hidden", np.full(len(f.te), -1))):
        clf_scores[name] = hstack([f.Xte, era_rows(te_era)], format="csr")
    clf = make_classifier(c.config).fit(X, c.y[f.of], sample_weight=f.weight)
    coef, intercept = expand_linear(clf, c.k)
    return {k: np.asarray(v @ coef.T) + intercept for k, v in clf_scores.items()}


def v_tagged(name: str, tag: tuple[int, ...]) -> Variant:
    def run(f: Fold):
        c = f.c
        clf = make_classifier(c.config).fit(tagged(f.X, c.era_idx[f.of], tag), c.y[f.of],
                                            sample_weight=f.weight)
        coef, intercept = expand_linear(clf, c.k)
        return {name: np.asarray(tagged(f.Xte, c.era_idx[f.te], tag) @ coef.T) + intercept,
                f"{name}, year hidden": np.asarray(
                    tagged(f.Xte, np.full(len(f.te), -1), tag) @ coef.T) + intercept}
    return run


def v_section(name: str, power: float) -> Variant:
    def run(f: Fold):
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
        S = vec.fit_transform(f.sections) * 0.5
        Ste = vec.transform([f.c.sections[i] for i in f.te]) * 0.5
        return {name: f.fit_scores(hstack([f.X, S], format="csr"),
                                   hstack([f.Xte, Ste], format="csr"),
                                   f.era_weighted(power) if power else None)}
    return run


def v_context(name: str, *, source: str = "split", weight: float = 0.5,
              analyzer: str = "char", power: float = 0.0, dropout: float = 0.0,
              previous: float = 0.0) -> Variant:
    """The section path (``source``: "split", our splitter's, what ``label`` gives at
    prediction time; "corpus", the shared paragraphs' ``section``) as a TF-IDF block of
    ``analyzer`` ("char" 1-3-grams or "word" 1-2-grams) times ``weight``; with ``dropout`` a
    seeded share of the training paragraphs (and their sentence rows) have it blanked; with
    ``previous`` > 0 the previous paragraph's text as a char 1-3-gram block of that weight.
    Always scored with the splitter's sections of the test rows, and also with them blanked
    (``, no section at prediction``: a record or ``--text`` without a section), and a
    ``corpus``-trained variant also with the corpus's own test sections."""
    def run(f: Fold):
        from sklearn.feature_extraction.text import TfidfVectorizer

        from policy_nlp.features import word_analyzer

        c = f.c
        secs = c.split_sections if source == "split" else c.sections
        if analyzer == "char":
            vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2,
                                  sublinear_tf=True)
        else:
            backend = c.config.features.tokenizer
            vec = TfidfVectorizer(analyzer=lambda t: word_analyzer(t, (1, 2), backend),
                                  min_df=2, sublinear_tf=True)
        keep = np.ones(len(c.y), bool)
        if dropout:
            keep = np.random.default_rng(0).random(len(c.y)) >= dropout
        if weight:
            S = vec.fit_transform([secs[i] if keep[i] else "" for i in f.of]) * weight
            tests = {name: vec.transform([c.split_sections[i] for i in f.te]) * weight,
                     f"{name}, no section at prediction": csr_matrix((len(f.te), S.shape[1]))}
        else:  # no section block: the previous paragraph alone
            S, tests = csr_matrix((len(f.of), 0)), {name: csr_matrix((len(f.te), 0))}
        blocks, blocks_te = [f.X, S], [f.Xte]
        if source == "corpus":
            tests[f"{name}, corpus sections at prediction"] = vec.transform(
                [c.sections[i] for i in f.te]) * weight
        if previous:
            pv = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=5,
                                 sublinear_tf=True)
            blocks.append(pv.fit_transform([c.previous[i] for i in f.of]) * previous)
            blocks_te.append(pv.transform([c.previous[i] for i in f.te]) * previous)
        clf = make_classifier(c.config).fit(
            hstack(blocks, format="csr"), c.y[f.of],
            sample_weight=f.era_weighted(power) if power else f.weight)
        coef, intercept = expand_linear(clf, c.k)
        out = {}
        for tname, Ste in tests.items():
            Xte = hstack([blocks_te[0], Ste, *blocks_te[1:]], format="csr")
            out[tname] = np.asarray(Xte @ coef.T) + intercept
        return out
    return run


def v_simplified(f: Fold):
    """The default (era weights 0.5) with the texts in simplified characters, as ``train``
    fits it since the conversion (``FeatureSpec.simplify``): the same rows and weights."""
    c = f.c
    s_texts, s_tokens, owner = c.sentences_simplified.of(f.rows)
    assert np.array_equal(owner, f.owner)
    featurizer, X = fit_featurizer([c.data.texts[i] for i in f.rows] + s_texts,
                                   [c.tokens_simplified[i] for i in f.rows] + s_tokens,
                                   c.simplified.features)
    Xte = featurizer.transform([c.data.texts[i] for i in f.te])
    return {SIMPLIFIED: f.fit_scores(X, Xte, f.era_weighted(0.5))}


# numbers written two ways: 百分之八十八点八 and 一九五五年 in the planned economy, 88.8% and 2024年 now
_CN_DIGITS = "零〇○一二三四五六七八九十百千万亿点两几"
_NUMBERS = [  # (pattern, replacement), applied in order to simplified text
    (re.compile(f"百分之[{_CN_DIGITS}]+"), "9%"),
    (re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?\s*[%％]"), "9%"),
    (re.compile(r"(?:[0-9０-９]{4}|[零〇○一二三四五六七八九]{4})年"), "1999年"),
]
_ALL_NUMBERS = [
    (re.compile(r"[0-9０-９]+(?:[.．,][0-9０-９]+)*"), "9"),
    (re.compile(f"[{_CN_DIGITS}]{{2,}}(?=[万亿吨元斤亩台辆人个公千度项所座条家种倍])"), "9"),
]


def numbers_normalised(text: str, every: bool = False) -> str:
    """``text`` in simplified characters with percentages and years written one way
    (``9%``, ``1999年``); with ``every``, every other number too (``9``)."""
    from policy_nlp.text import to_simplified

    text = to_simplified(text)
    for pattern, repl in _NUMBERS + (_ALL_NUMBERS if every else []):
        text = pattern.sub(repl, text)
    return text


# full-width digits, Latin letters, % and . as ASCII (１９５６年 in the old reports, 1956年 now)
_HALF_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in
                             [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                              *range(0xFF41, 0xFF5B), 0xFF05, 0xFF0E]})


def half_width(text: str) -> str:
    """``text`` in simplified characters, its full-width digits and letters as ASCII."""
    from policy_nlp.text import to_simplified

    return to_simplified(text).translate(_HALF_WIDTH)


def v_prepared(name: str, prepare: Callable[[str], str] = str, **spec: Any) -> Variant:
    """The simplified default with every text (training rows, sentence rows, test rows)
    passed through ``prepare`` first, and the feature settings ``spec`` changed."""
    def run(f: Fold):
        c = f.c
        s_texts, _, owner = c.sentences.of(f.rows)
        texts = [prepare(t) for t in [c.data.texts[i] for i in f.rows] + s_texts]
        featurizer, X = fit_featurizer(texts, tokenize_all(texts, c.simplified),
                                       replace(c.simplified.features, **spec))
        Xte = featurizer.transform([prepare(c.data.texts[i]) for i in f.te])
        return {name: f.fit_scores(X, Xte, f.era_weighted(0.5))}
    return run


def v_before(c: Corpus, tr: np.ndarray, te: np.ndarray):
    rows = tr[np.isin(c.samples[tr], OLD_SAMPLES)]
    f = Fold(c, rows, te)
    return {"before (random+rare rows only)": f.fit_scores(f.X, f.Xte)}


OLD = ERA_NAMES.index("up_to_1990")
UNWEIGHTED = "unweighted (all rows, no era weights)"
DEFAULT = "era weights, power 0.5 (the default)"
SIMPLIFIED = "simplified characters, era weights 0.5 (the default since)"
VARIANTS: dict[str, Variant] = {
    UNWEIGHTED: v_unweighted,
    DEFAULT: v_weights(DEFAULT, lambda f: f.era_weighted(0.5)),
    "era weights, power 1": v_weights("era weights, power 1", lambda f: f.era_weighted(1.0)),
    "weights: era+census rows 0.5": v_weights(
        "weights: era+census rows 0.5",
        lambda f: f.weight * np.where(np.isin(f.c.samples[f.of], ("era", "census")), 0.5, 1.0)),
    SIMPLIFIED: v_simplified,
    "simplified, percentages and years one way": v_prepared(
        "simplified, percentages and years one way", numbers_normalised),
    "simplified, every number one way": v_prepared(
        "simplified, every number one way", lambda t: numbers_normalised(t, every=True)),
    "simplified, full-width digits and letters as ASCII": v_prepared(
        "simplified, full-width digits and letters as ASCII", half_width),
    # the rarer n-grams of the old reports (16% of the rows) kept
    "simplified, min_df 2": v_prepared("simplified, min_df 2", min_df=2),
    "simplified, min_df 3": v_prepared("simplified, min_df 3", min_df=3),
    "era intercepts": v_intercepts,
    "era-tagged copies (all eras)": v_tagged("era-tagged copies (all eras)", (0, 1, 2)),
    "era-tagged copy (up to 1990)": v_tagged("era-tagged copy (up to 1990)", (OLD,)),
    "section heading": v_section("section heading", 0.0),
    "section heading + era weights 0.5": v_section("section heading + era weights 0.5", 0.5),
}
# issue 18's section feature, with the sections our splitter gives at prediction time
CONTEXT_VARIANTS = {
    "S corpus-trained, char 0.5": dict(source="corpus"),
    "S char 0.5": dict(),
    "S char 0.5, dropout 0.3": dict(dropout=0.3),
    "S char 0.5, era weights 0.5": dict(power=0.5),
    "S char 0.5, dropout 0.3, era weights 0.5": dict(dropout=0.3, power=0.5),
    "S char 0.3": dict(weight=0.3),
    "S char 1.0": dict(weight=1.0),
    "S word 0.5": dict(analyzer="word"),
    "S char 0.5 + previous paragraph 0.3": dict(previous=0.3),
    "S char 0.3, era weights 0.5": dict(weight=0.3, power=0.5),
    "S word 0.5, era weights 0.5": dict(analyzer="word", power=0.5),
    "S none, previous paragraph 0.3, era weights 0.5": dict(weight=0.0, previous=0.3,
                                                            power=0.5),
    "S char 0.5 + previous paragraph 0.3, era weights 0.5": dict(previous=0.3, power=0.5),
}
VARIANTS.update({k: v_context(k, **v) for k, v in CONTEXT_VARIANTS.items()})
BEFORE = "before (random+rare rows only)"


def run_fold(c: Corpus, k: int, names: list[str], want_before: bool) -> dict[str, np.ndarray]:
    tr, te = c.folds[k]
    out: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    if want_before:
        out.update(v_before(c, tr, te))
    if names:
        f = Fold(c, tr, te)
        for name in names:
            out.update(VARIANTS[name](f))
    print(f"fold {k + 1}: {', '.join(names + [BEFORE] * want_before)} "
          f"({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)
    return out


def cache_path(cache: Path, c: Corpus, name: str) -> Path:
    # an ``S`` variant also depends on what the splitter gives (it changes with split.py)
    split = f"|{c.split_key}" if name.startswith("S ") else ""
    digest = hashlib.sha256(f"{c.key}|{c.config.to_dict()}|{name}{split}".encode()
                            ).hexdigest()[:16]
    return cache / f"{digest}.npy"


def oof_scores(c: Corpus, names: list[str], cache: Path, jobs: int) -> dict[str, np.ndarray]:
    """Out-of-fold scores of each variant (and their 'year hidden' twins), cached."""
    from joblib import Parallel, delayed

    cache.mkdir(parents=True, exist_ok=True)
    todo = [n for n in names if n != BEFORE and not cache_path(cache, c, n).is_file()]
    want_before = BEFORE in names and not cache_path(cache, c, BEFORE).is_file()
    if todo or want_before:
        parts = Parallel(n_jobs=jobs)(delayed(run_fold)(c, k, todo, want_before)
                                      for k in range(len(c.folds)))
        merged: dict[str, np.ndarray] = {}
        for (_, te), part in zip(c.folds, parts, strict=True):
            for name, scores in part.items():
                merged.setdefault(name, np.zeros((len(c.y), c.k)))[te] = scores
        for name, scores in merged.items():
            np.save(cache_path(cache, c, name), scores)
    out = {}
    for name in names:
        for variant in (name, f"{name}, year hidden", f"{name}, no section at prediction",
                        f"{name}, corpus sections at prediction"):
            p = cache_path(cache, c, variant)
            if p.is_file():
                out[variant] = np.load(p)
    return out


def cells(c: Corpus) -> dict[str, np.ndarray]:
    """The rows of each accuracy column of the table."""
    nat = c.levels == "national"
    out = {f"national {e.replace('_', ' ')}": nat & (c.eras == e) for e in ERA_NAMES}
    for lv in ("provincial", "prefecture", "county"):
        out[lv] = c.levels == lv
    return out


def summarize(c: Corpus, pred: np.ndarray) -> dict[str, float]:
    rnd = c.samples == "random"
    row = {"accuracy": float((pred == c.y).mean()),
           "macro_f1": _macro_f1(c.y, pred, np.ones(len(c.y)), c.k),
           "macro_f1_random": _macro_f1(c.y[rnd], pred[rnd], np.ones(rnd.sum()), c.k)}
    for name, m in cells(c).items():
        row[name] = float((pred[m] == c.y[m]).mean())
    return row


def differences(c: Corpus, base: np.ndarray, other: np.ndarray, n_boot: int) -> dict:
    """other - base: the accuracy of each cell and the random rows' macro-F1, with 95%
    intervals from a paired bootstrap over reports."""
    groups = np.array(c.data.groups)
    out = {}
    rnd = c.samples == "random"
    b = paired_bootstrap(c.y[rnd], base[rnd], other[rnd], list(groups[rnd]), n_boot=n_boot)
    d = (_macro_f1(c.y[rnd], other[rnd], np.ones(rnd.sum()), c.k)
         - _macro_f1(c.y[rnd], base[rnd], np.ones(rnd.sum()), c.k))
    out["macro-F1, random rows"] = (d, *b["macro_f1_diff_ci95"])
    for name, m in {"all rows": np.ones(len(c.y), bool), **cells(c)}.items():
        b = paired_bootstrap(c.y[m], base[m], other[m], list(groups[m]), n_boot=n_boot)
        d = float((other[m] == c.y[m]).mean() - (base[m] == c.y[m]).mean())
        out[f"accuracy, {name}"] = (d, *b["accuracy_diff_ci95"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "era_search.md")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/policy-nlp-era-search"))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated variant names (and 'before')")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0,
                    help="the folds' seed (0: the folds of policy-nlp train); another seed "
                         "checks a variant chosen on seed 0 on other folds")
    ap.add_argument("--versus", default="",
                    help="more differences to give: 'BASE|OTHER;BASE|OTHER' (variant names)")
    args = ap.parse_args(argv)
    if not (SHARED / "labels" / "train.jsonl").is_file():
        print(f"{SHARED} is absent: the era search needs the shared labels", file=sys.stderr)
        return 2
    names = [BEFORE, *VARIANTS]
    if args.only:
        sep = ";" if ";" in args.only else ","  # ';' between names that have a comma
        keep = {BEFORE if n == "before" else n for n in args.only.split(sep)} | {UNWEIGHTED,
                                                                                 DEFAULT,
                                                                                 SIMPLIFIED}
        names = [n for n in names if n in keep]
    t0 = time.perf_counter()
    c = Corpus(args.seed)
    scores = oof_scores(c, names, args.cache, args.jobs)
    preds = {name: s.argmax(axis=1) for name, s in scores.items()}
    rows = {name: summarize(c, p) for name, p in preds.items()}
    cols = list(cells(c))
    n_cell = {name: int(m.sum()) for name, m in cells(c).items()}
    lines = ["# Era search (report-grouped 5-fold CV, shared labels)", "",
             f"Command: `python benchmarks/era_search.py` ({len(c.y):,} labeled paragraphs, "
             f"{len(set(c.data.groups))} reports; every variant on the same folds, scored on "
             "every labeled paragraph of the held-out reports). Accuracy by level and, for "
             "national reports, by era; macro-F1 over all rows and over the `random` rows.", "",
             "| variant | accuracy | macro-F1 | macro-F1 random | "
             + " | ".join(f"{k} (n={n_cell[k]})" for k in cols) + " |",
             "|---|" + "---|" * (3 + len(cols))]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | "
                     f"{r['macro_f1_random']:.4f} | "
                     + " | ".join(f"{r[k]:.4f}" for k in cols) + " |")
    # the section variants against the shipped default, the others against ``unweighted``
    pairs = [(DEFAULT if n.startswith("S ") or n == SIMPLIFIED else UNWEIGHTED, n)
             for n in preds if n not in (UNWEIGHTED, BEFORE, DEFAULT)]
    if BEFORE in preds:
        pairs[:0] = [(BEFORE, n) for n in (SIMPLIFIED, DEFAULT) if n in preds]
    pairs[:0] = [tuple(p.split("|")) for p in args.versus.split(";") if p]
    lines += ["", "## Differences (second minus first), 95% paired bootstrap interval over "
              f"reports ({args.n_boot} resamples)", ""]
    diffs = {}
    for base, other in pairs:
        d = differences(c, preds[base], preds[other], args.n_boot)
        diffs[f"{other} - {base}"] = d
        lines += [f"**{other}** minus **{base}**:", "", "| measure | difference | 95% CI |",
                  "|---|---|---|"]
        lines += [f"| {k} | {v[0]:+.4f} | [{v[1]:+.4f}, {v[2]:+.4f}] |" for k, v in d.items()]
        lines.append("")
    lines.append(f"{time.perf_counter() - t0:.0f} s in all (cached variants are not refitted).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(
        {"rows": rows, "differences": {k: {m: list(v) for m, v in d.items()}
                                       for k, d in diffs.items()}}, indent=2), "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
