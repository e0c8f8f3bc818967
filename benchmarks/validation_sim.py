"""Simulate `profile --validation`: prediction-powered level shares from a coded sample.

Every paragraph of the national and provincial reports in ../shared is labeled, so their level
shares (each theme's share of the characters, and of the paragraphs, of all national reports;
of all provincial reports) are known. The model's labels come from report-grouped 5-fold
cross-validation of the default configuration (``train.report_folds``; each paragraph is
labeled by the model trained on the other folds: trained once per fold). This corpus of
predicted paragraphs is the user's corpus; a simulated coder reveals the labels of a stratified
random sample (``validation.draw_sample``, strata = level, equal allocation) of 100, 300 or
1,000 paragraphs, and ``validation.corrected_shares`` gives the intervals: prediction-powered
(PPI++), and from the coded sample alone (lambda = 0, the same design). Over ``--reps``
draws: coverage of the 95% intervals (all level x theme cells of every draw) and mean width,
and the error of classify and count for reference.

    python benchmarks/validation_sim.py [--reps 500] [--cache /tmp/validation_oof.npz]

Writes benchmarks/results/validation.md (``--variance sample|model``: the residual variance
of the sample alone, or of the model's probabilities alone, to validation-sample.md or
validation-model.md: what the choice of the larger of the two is measured against).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
LEVELS = ("national", "provincial")


def out_of_fold_labels(cache: Path, log) -> tuple[list, np.ndarray, np.ndarray]:
    """(labeled data, out-of-fold predicted theme index, out-of-fold calibrated
    probabilities) of the shared labels; the scores are cached. Each fold's temperature is
    fitted on the other folds' out-of-fold scores, as a model's is on its own labels."""
    from policy_nlp.codebook import load_codebook
    from policy_nlp.labels import load_joined
    from policy_nlp.model import softmax
    from policy_nlp.train import (TrainConfig, cross_validate, fit_temperature, report_folds,
                                  tokenize_all)

    data = load_joined(SHARED / "labels" / "train.jsonl", SHARED / "corpus" / "paragraphs.jsonl")
    book = load_codebook()
    config = TrainConfig(n_jobs=1)
    scores = None
    if cache.is_file():
        saved = np.load(cache, allow_pickle=False)
        if saved["sha256"].item() == data.sha256() and "scores" in saved:
            log(f"out-of-fold scores from {cache}")
            scores = saved["scores"]
    if scores is None:
        log(f"tokenizing {len(data)} paragraphs")
        tokens = tokenize_all(data.texts, config)
        t0 = time.perf_counter()
        scores = cross_validate(data, tokens, book, config, progress=log)
        log(f"5 report-grouped folds trained and scored in {time.perf_counter() - t0:.0f}s")
        np.savez(cache, scores=scores, sha256=np.array(data.sha256()))
    y = np.array([book.ids.index(lbl) for lbl in data.labels])
    proba = np.zeros_like(scores)
    for _, test in report_folds(data, book, config):
        others = np.setdiff1d(np.arange(len(y)), test)
        proba[test] = softmax(scores[test], fit_temperature(scores[others], y[others]))
    return data, scores.argmax(axis=1), proba


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500, help="sample draws per sample size")
    ap.add_argument("--sizes", default="100,300,1000")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/validation_oof.npz"))
    ap.add_argument("--out", type=Path, help="default: benchmarks/results/validation.md "
                                             "(validation-VARIANCE.md with --variance)")
    ap.add_argument("--variance", default="max", choices=("max", "sample", "model"),
                    help="each stratum's residual variance: the larger of the sample's and the "
                         "one the model's probabilities imply (what profile does), or one alone")
    args = ap.parse_args(argv)
    args.out = args.out or HERE / "results" / (
        "validation.md" if args.variance == "max" else f"validation-{args.variance}.md")
    if not (SHARED / "labels" / "train.jsonl").is_file():
        print(f"{SHARED} is absent: the simulation needs the shared labels", file=sys.stderr)
        return 2

    from policy_nlp.codebook import load_codebook
    from policy_nlp.validation import (CodedSheet, Population, corrected_shares,
                                       draw_sample)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    data, pred, proba = out_of_fold_labels(args.cache, log)
    themes = load_codebook().ids
    keep = [i for i, lv in enumerate(data.levels) if lv in LEVELS]
    pop = Population(themes)
    for i in keep:
        pop.add({"id": data.ids[i], "report_id": data.groups[i], "level": data.levels[i],
                 "text": data.texts[i], "label": themes[pred[i]],
                 "scores": dict(zip(themes, proba[i].tolist(), strict=True))})
    truth_label = [data.labels[i] for i in keep]
    n_reports = {lv: len({data.groups[i] for i in keep if data.levels[i] == lv})
                 for lv in LEVELS}
    log(f"corpus: {len(pop)} paragraphs of {sum(n_reports.values())} reports "
        f"({', '.join(f'{lv} {n}' for lv, n in n_reports.items())}); out-of-fold accuracy "
        f"{np.mean([themes[pred[i]] == data.labels[i] for i in keep]):.3f}")

    # the truth: each level's share of each theme, by characters and by paragraphs
    chars = np.asarray(pop.chars, dtype=float)
    levels = np.array([m["level"] for m in pop.fields])
    y = np.zeros((len(pop), len(themes)))
    y[np.arange(len(pop)), [themes.index(t) for t in truth_label]] = 1
    truth = {}
    for lv in LEVELS:
        m = levels == lv
        truth[lv, "char_share"] = (y[m] * chars[m, None]).sum(0) / chars[m].sum()
        truth[lv, "para_share"] = y[m].mean(0)

    strata = pop.strata("level")
    sizes = [int(s) for s in args.sizes.split(",")]
    cells: dict[tuple, list] = {}
    t0 = time.perf_counter()
    for n in sizes:
        for rep in range(args.reps):
            sample = draw_sample(strata, n, seed=1000 * n + rep, field_name="level")
            sheet = CodedSheet(ids=[pop.ids[i] for i in sample.rows],
                               labels=[truth_label[i] for i in sample.rows],
                               strata=sample.strata, sizes=sample.sizes, field="level",
                               blank=0)
            rows = corrected_shares(pop, sheet, by=(("level",),), variance=args.variance)
            for row in rows:
                k = themes.index(row["theme"])
                for measure in ("char_share", "para_share"):
                    t = truth[row["group"], measure][k]
                    for method, lo, hi, est in (
                            ("ppi++", row[f"{measure}_lower"], row[f"{measure}_upper"],
                             row[measure]),
                            ("coded only", row[f"{measure}_coded_lower"],
                             row[f"{measure}_coded_upper"], row[f"{measure}_coded"])):
                        cells.setdefault((n, measure, row["group"], method), []).append(
                            (lo <= t <= hi, hi - lo, abs(est - t), row["theme"]))
                    cells.setdefault((n, measure, row["group"], "classify and count"),
                                     []).append((False, 0.0, abs(row[f"{measure}_predicted"]
                                                                 - t), row["theme"]))
        log(f"n={n}: {args.reps} draws ({time.perf_counter() - t0:.0f}s)")

    lines = [
        "# Validation on a coded sample: prediction-powered level shares",
        "",
        "Command: `python benchmarks/validation_sim.py --reps "
        f"{args.reps}{'' if args.variance == 'max' else ' --variance ' + args.variance}` "
        f"({time.strftime('%Y-%m-%d')}, {time.perf_counter() - t0:.0f}s of "
        "simulation after the folds).",
        "",
        f"Corpus: the {len(pop):,} paragraphs of the {sum(n_reports.values())} national and "
        f"provincial reports of ../shared ({n_reports['national']} national, "
        f"{n_reports['provincial']} provincial), every one labeled, each predicted by the "
        "default configuration trained on the other report-grouped folds (5 folds, "
        "`train.report_folds`). Coded sample: stratified by level, equal allocation, "
        "simple random without replacement in each level; the coder's label is the shared "
        f"label. {args.reps} draws per size; each draw gives 2 levels x 17 themes = 34 "
        "intervals per measure. Coverage: share of those intervals (95% nominal) that hold "
        "the level's true share; width: their mean; error: mean absolute error of the point "
        "estimate (classify and count: the model's own share, no interval).",
        "",
        "| coded paragraphs | measure | method | coverage | lowest level x theme cell | "
        "mean width | mean abs. error |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for n in sizes:
        for measure in ("char_share", "para_share"):
            for method in ("ppi++", "coded only", "classify and count"):
                got = [c for lv in LEVELS for c in cells[n, measure, lv, method]]
                cover = np.mean([c[0] for c in got])
                width = np.mean([c[1] for c in got])
                err = np.mean([c[2] for c in got])
                worst = min((np.mean([c[0] for c in cells[n, measure, lv, method]
                                      if c[3] == theme]), lv, theme)
                            for lv in LEVELS for theme in themes)
                summary[n, measure, method] = (cover, width, err)
                naive = method == "classify and count"
                cov_s = "" if naive else f"{cover:.3f}"
                worst_s = "" if naive else f"{worst[0]:.3f} ({worst[1]} {worst[2]})"
                wid_s = "" if naive else f"{width:.4f}"
                lines.append(f"| {n:,} | {measure} | {method} | {cov_s} | {worst_s} | {wid_s} | "
                             f"{err:.4f} |")
    lines += ["", "By level (char_share):", "",
              "| coded paragraphs | level | method | coverage | mean width |", "|---|---|---|---|---|"]
    for n in sizes:
        for lv in LEVELS:
            for method in ("ppi++", "coded only"):
                got = cells[n, "char_share", lv, method]
                lines.append(f"| {n:,} | {lv} | {method} | {np.mean([c[0] for c in got]):.3f}"
                             f" | {np.mean([c[1] for c in got]):.4f} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
