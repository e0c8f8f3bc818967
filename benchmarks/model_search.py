"""Model search: which features and linear classifier, by report-grouped 5-fold CV.

    python benchmarks/model_search.py [--out benchmarks/results/model_search.md] [--only NAME,...]

Every variant is scored on the same folds (StratifiedGroupKFold by report, seed 0) of the
shared labels; features are fitted inside each fold. Prints one line per variant and writes a
Markdown table. Reproducible: fixed seeds, no hand-tuned numbers outside this file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from policy_nlp.labels import load_joined
from policy_nlp.tokenize import tokenize

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"


def _identity(x):
    return x


def char_vec(lo=1, hi=3, min_df=5, sub=True):
    return TfidfVectorizer(analyzer="char", ngram_range=(lo, hi), min_df=min_df, sublinear_tf=sub)


def word_vec(lo=1, hi=2, min_df=5, sub=True):
    return TfidfVectorizer(analyzer="word", tokenizer=_identity, preprocessor=_identity,
                           token_pattern=None, lowercase=False, ngram_range=(lo, hi),
                           min_df=min_df, sublinear_tf=sub)


# name -> (blocks, classifier factory); a block is (field, vectorizer factory, weight)
def variants():
    svc = lambda C=0.5, cw=None: (lambda: LinearSVC(C=C, class_weight=cw, random_state=0))  # noqa: E731
    base = [("text", lambda: char_vec(), 1.0), ("tokens", lambda: word_vec(), 1.0)]
    head = [("section", lambda: char_vec(1, 3, min_df=2), 0.5)]
    return {
        "char13 svc": ([base[0]], svc()),
        "char13+word12 svc (default)": (base, svc()),
        "char13+word12 svc C=0.25": (base, svc(0.25)),
        "char13+word12 svc C=1": (base, svc(1.0)),
        "char13+word12 svc balanced": (base, svc(0.5, "balanced")),
        "char24+word12 svc": ([("text", lambda: char_vec(2, 4), 1.0), base[1]], svc()),
        "char13+word13 svc": ([base[0], ("tokens", lambda: word_vec(1, 3), 1.0)], svc()),
        "char13+word12 no-sublinear svc": ([("text", lambda: char_vec(sub=False), 1.0),
                                            ("tokens", lambda: word_vec(sub=False), 1.0)], svc()),
        "char13+word12+section svc": (base + head, svc()),
        "char13+word12+section(w=1) svc": (base + [("section", lambda: char_vec(1, 3, 2), 1.0)],
                                           svc()),
        "char13+word12 LR C=20": (base, lambda: LogisticRegression(C=20, max_iter=300,
                                                                  solver="saga", tol=1e-3)),
        "char13+word12 SGD modified_huber": (base, lambda: SGDClassifier(
            loss="modified_huber", alpha=5e-5, max_iter=30, tol=None, random_state=0)),
        "char13+word12 ComplementNB": (base, lambda: ComplementNB(alpha=0.1)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "model_search.md")
    ap.add_argument("--only", default="", help="comma-separated variant names")
    ap.add_argument("--sample-weights", action="store_true",
                    help="also try the labels' confidence as sample weights on the default")
    args = ap.parse_args(argv)
    if not (SHARED / "labels" / "train.jsonl").is_file():
        print(f"{SHARED} is absent: the model search needs the shared labels", file=sys.stderr)
        return 2
    data = load_joined(SHARED / "labels" / "train.jsonl", SHARED / "corpus" / "paragraphs.jsonl")
    import json

    conf = {}
    for line in open(SHARED / "labels" / "train.jsonl", encoding="utf-8"):
        row = json.loads(line)
        conf[row["id"]] = row.get("confidence", "high")
    y = np.array(data.labels)
    levels = np.array([str(v) for v in data.levels])
    fields = {
        "text": data.texts,
        "tokens": [tokenize(t) for t in data.texts],
        "section": [" ".join(s) for s in data.sections],
    }
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    folds = list(cv.split(np.zeros(len(y)), y, np.array(data.groups)))
    chosen = variants()
    if args.sample_weights:
        base, clf = chosen["char13+word12 svc (default)"]
        chosen["char13+word12 svc conf-weights"] = (base, clf, {"high": 1.0, "medium": 0.7,
                                                                "low": 0.4})
    if args.only:
        keep = set(args.only.split(","))
        chosen = {k: v for k, v in chosen.items() if k in keep}
    rows = []
    for name, spec in chosen.items():
        blocks, make_clf = spec[0], spec[1]
        weights = spec[2] if len(spec) > 2 else None
        t0 = time.perf_counter()
        pred = np.empty(len(y), dtype=object)
        for tr, te in folds:
            mats_tr, mats_te = [], []
            for field, make_vec, w in blocks:
                docs = fields[field]
                vec = make_vec().fit([docs[i] for i in tr])
                mats_tr.append(vec.transform([docs[i] for i in tr]) * w)
                mats_te.append(vec.transform([docs[i] for i in te]) * w)
            clf = make_clf()
            sw = None
            if weights:
                sw = np.array([weights[conf[data.ids[i]]] for i in tr])
            clf.fit(hstack(mats_tr, format="csr"), y[tr], sample_weight=sw)
            pred[te] = clf.predict(hstack(mats_te, format="csr"))
        nat = levels == "national"
        row = {
            "variant": name,
            "accuracy": accuracy_score(y, pred),
            "macro_f1": f1_score(y, pred, average="macro"),
            "national_macro_f1": f1_score(y[nat], pred[nat], average="macro"),
            "seconds": time.perf_counter() - t0,
        }
        rows.append(row)
        print(f"{name:<40} acc {row['accuracy']:.4f}  macro-F1 {row['macro_f1']:.4f}  "
              f"national {row['national_macro_f1']:.4f}  {row['seconds']:.0f}s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Model search (report-grouped 5-fold CV, shared labels)", "",
             "Command: `python benchmarks/model_search.py`", "",
             "| variant | accuracy | macro-F1 | national macro-F1 | seconds |",
             "|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: -r["macro_f1"]):
        lines.append(f"| {r['variant']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | "
                     f"{r['national_macro_f1']:.4f} | {r['seconds']:.0f} |")
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
