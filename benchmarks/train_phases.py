"""Where the training time goes: each phase of ``policy-nlp train`` timed alone, in one process.

    python benchmarks/train_phases.py [--features char+word|char] [--folds 5]

Runs, in this process and one after the other, what ``policy-nlp train --labels
../shared/labels/train.jsonl --paragraphs ../shared/corpus/paragraphs.jsonl`` does (the
README's training command, with the default configuration), and prints the wall and CPU
seconds of each phase: reading the labels, importing scikit-learn, the conversion to
simplified characters, the segmentation (``tokenize_all``), the sentence rows, the folds,
then per fold and for the final fit the TF-IDF fit (``fit_featurizer``), the solver
(``LinearSVC.fit``) and the transform of the fold's test paragraphs, and last the calibration
and metrics (``cv_evaluate``) and the share rates (``share_rates``). The command runs the six
fits in ``--jobs`` processes (2 by default), so its wall time is about the phases outside the
fits plus half of the fits, plus the start of its worker processes.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"

rows: list[tuple[str, float, float]] = []


@contextmanager
def phase(name: str):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    rows.append((name, time.perf_counter() - wall, time.process_time() - cpu))
    print(f"{name:<44} {rows[-1][1]:7.2f} s wall {rows[-1][2]:7.2f} s CPU", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", default="char+word", choices=["char+word", "char"])
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    labels = SHARED / "labels" / "train.jsonl"
    if not labels.is_file():
        print(f"{labels} is absent: this benchmark needs ../shared", file=sys.stderr)
        return 2
    import numpy as np

    from policy_nlp.codebook import load_codebook
    from policy_nlp.features import FeatureSpec, fit_featurizer
    from policy_nlp.labels import load_joined
    from policy_nlp.train import (TrainConfig, _scores, cv_evaluate, era_weights,
                                  make_classifier, report_folds, sentence_rows, share_rates,
                                  tokenize_all)

    spec = FeatureSpec() if args.features == "char+word" else FeatureSpec(word_ngram=None)
    config = TrainConfig(features=spec, cv_folds=args.folds, n_jobs=1)
    with phase("read the labels and paragraphs"):
        data = load_joined(labels, SHARED / "corpus" / "paragraphs.jsonl")
    codebook = load_codebook()
    themes = codebook.ids
    y = np.array([themes.index(lbl) for lbl in data.labels])
    with phase("import scikit-learn, make the folds"):
        splits = report_folds(data, codebook, config)
    with phase("conversion to simplified (spec.prepare)"):
        spec.prepare(data.texts)
    with phase("tokenize_all (conversion + segmentation)"):
        tokens = tokenize_all(data.texts, config)
    with phase("sentence rows (split + segmentation)"):
        sentences = sentence_rows(data, config)
    oof = np.zeros((len(y), len(themes)))
    everything = np.arange(len(y))
    for k, (tr, te) in enumerate([*splits, (everything, None)], 1):
        name = f"fold {k}" if te is not None else "final fit"
        s_texts, s_tokens, owner = sentences.of(tr) if sentences else ([], [], np.zeros(0, int))
        texts = [data.texts[i] for i in tr] + s_texts
        toks = [tokens[i] for i in tr] + s_tokens
        labels_ = np.r_[y[tr], y[owner]]
        # the rows' weights as train._fit_rows gives them
        weights = era_weights([data.years[i] for i in tr], config.era_balance)
        extra = sentences.weight if sentences else 1.0
        if weights is not None:
            of_paragraph = np.zeros(len(y))
            of_paragraph[tr] = weights
            extra = extra * of_paragraph[owner]
        weights = np.r_[np.ones(len(tr)) if weights is None else weights,
                        np.broadcast_to(extra, len(s_texts))]
        with phase(f"{name}: fit_featurizer ({len(texts):,} rows)"):
            featurizer, X = fit_featurizer(texts, toks, spec)
        with phase(f"{name}: LinearSVC.fit ({X.shape[1]:,} features)"):
            clf = make_classifier(config).fit(X, labels_, sample_weight=weights)
        if te is not None:
            with phase(f"{name}: transform the test paragraphs"):
                oof[te] = _scores(clf, len(themes), featurizer.transform(
                    [data.texts[i] for i in te]))
    with phase("cv_evaluate (calibration, metrics)"):
        cv = cv_evaluate(data, tokens, codebook, config, oof=oof)
    with phase("share_rates"):
        share_rates(data, cv.proba, themes)
    total_wall = sum(r[1] for r in rows)
    fits = sum(r[1] for r in rows if r[0].startswith(("fold", "final")))
    print(f"total {total_wall:.1f} s wall in one process; the fits {fits:.1f} s of it; outside "
          f"the fits {total_wall - fits:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
