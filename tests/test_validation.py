"""The prediction-powered estimator (policy_nlp.validation) on synthetic data, planted errors."""

from __future__ import annotations

import numpy as np
import pytest

from policy_nlp.validation import (CodedSheet, Population, corrected_shares,
                                   difference_estimate, draw_sample, sample_metrics)

THEMES = ["economy", "industry", "environment"]


def _population(seed: int = 0, calibrated: bool = True):
    """4,000 paragraphs in two levels with different theme mixes; the model mislabels 35% of
    industry paragraphs as economy (a planted bias classify and count keeps) and 5% of the
    rest at random. Returns the population and the true labels."""
    rng = np.random.default_rng(seed)
    levels = ["national"] * 1000 + ["provincial"] * 3000
    mix = {"national": [0.5, 0.3, 0.2], "provincial": [0.2, 0.5, 0.3]}
    truth = [str(rng.choice(THEMES, p=mix[lv])) for lv in levels]
    pop = Population(THEMES)
    cache: dict = {}
    for i, (lv, t) in enumerate(zip(levels, truth, strict=True)):
        pred = t
        if t == "industry" and rng.random() < 0.35:
            pred = "economy"
        elif rng.random() < 0.05:
            pred = str(rng.choice(THEMES))
        # longer paragraphs on the environment, so character and paragraph shares differ
        n = int(rng.integers(20, 200)) * (2 if t == "environment" else 1)
        pop.add({"id": f"r{i // 40}#{i % 40:03d}", "report_id": f"r{i // 40}", "level": lv,
                 "text": "字" * n, "label": pred})
    if calibrated:  # the model's probabilities: how often a coder gives each theme to the
        # paragraphs of a level with this predicted label (calibrated by construction)
        pred = [THEMES[int(np.argmax(row))] for row in pop.pred]
        for k, (lv, p) in enumerate(zip(levels, pred, strict=True)):
            cell = [t for t, lv2, p2 in zip(truth, levels, pred, strict=True)
                    if lv2 == lv and p2 == p] if (lv, p) not in cache else None
            if cell is not None:
                cache[lv, p] = np.array([cell.count(t) / len(cell) for t in THEMES])
            pop._proba[k] = cache[lv, p]
    return pop, truth


def _truth(pop, truth, members):
    chars = np.asarray(pop.chars, dtype=float)
    y = np.array([[t == th for th in THEMES] for t in truth], dtype=float)
    return {"char_share": (y[members] * chars[members, None]).sum(0) / chars[members].sum(),
            "para_share": y[members].mean(0)}


def _sheet(pop, truth, n, seed):
    sample = draw_sample(pop.strata("level"), n, seed=seed, field_name="level")
    return CodedSheet(ids=[pop.ids[i] for i in sample.rows],
                      labels=[truth[i] for i in sample.rows], strata=sample.strata,
                      sizes=sample.sizes, field="level", blank=0)


def test_ppi_covers_at_its_nominal_rate_and_classify_and_count_does_not():
    pop, truth = _population()
    levels = np.array([m["level"] for m in pop.fields])
    true = {"all": _truth(pop, truth, np.ones(len(pop), bool)),
            **{lv: _truth(pop, truth, levels == lv) for lv in ("national", "provincial")}}
    hits_ppi, hits_naive, hits_coded, width_ppi, width_coded = [], [], [], [], []
    for seed in range(150):
        rows = corrected_shares(pop, _sheet(pop, truth, 200, seed))
        for r in rows:
            k = THEMES.index(r["theme"])
            for measure in ("char_share", "para_share"):
                t = true[r["group"]][measure][k]
                hits_ppi.append(r[f"{measure}_lower"] <= t <= r[f"{measure}_upper"])
                hits_coded.append(r[f"{measure}_coded_lower"] <= t
                                  <= r[f"{measure}_coded_upper"])
                width_ppi.append(r[f"{measure}_upper"] - r[f"{measure}_lower"])
                width_coded.append(r[f"{measure}_coded_upper"] - r[f"{measure}_coded_lower"])
                # the naive interval: the model's share as if its labels were the truth
                p, m = r[f"{measure}_predicted"], r["n_paragraphs"]
                half = 1.96 * np.sqrt(p * (1 - p) / m)
                hits_naive.append(p - half <= t <= p + half)
    assert 0.92 <= np.mean(hits_ppi) <= 0.98, np.mean(hits_ppi)
    assert 0.90 <= np.mean(hits_coded) <= 0.98
    assert np.mean(hits_naive) < 0.5
    # the predictions carry information: narrower than the coded sample alone
    assert np.mean(width_ppi) < 0.8 * np.mean(width_coded)


def test_a_census_gives_the_truth_with_no_width():
    pop, truth = _population(1)
    sheet = CodedSheet(ids=list(pop.ids), labels=list(truth),
                       strata=[m["level"] for m in pop.fields],
                       sizes={"national": 1000, "provincial": 3000}, field="level", blank=0)
    levels = np.array([m["level"] for m in pop.fields])
    true = _truth(pop, truth, levels == "national")
    for r in corrected_shares(pop, sheet, by=(("level",),)):
        if r["group"] != "national":
            continue
        k = THEMES.index(r["theme"])
        assert r["char_share"] == pytest.approx(true["char_share"][k])
        assert r["para_share_lower"] == pytest.approx(r["para_share_upper"])


def test_design_weights_and_lambda():
    sheet = CodedSheet(ids=["a", "b", "c", "d", "e"], labels=["economy"] * 5,
                       strata=["x", "x", "y", "y", "y"], sizes={"x": 10, "y": 30},
                       field="level", blank=2)
    # 1 / pi = N_h / n_h of the coded rows
    assert sheet.weights().tolist() == [5, 5, 10, 10, 10]
    # lambda = 0 is the Horvitz-Thompson estimate of the coded sample alone
    y = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]])
    f = np.array([[1.0], [1.0], [0.0], [1.0], [0.0]])
    est = difference_estimate(y, f, sheet.strata, sheet.sizes, np.array([30.0]), 40.0,
                              tuning="classical")
    assert est.estimate[0] == pytest.approx((5 * 1 + 10 * 2) / 40)
    assert est.lam[0] == 0
    # lambda = 1: the predicted total plus the weighted corrections
    ppi = difference_estimate(y, f, sheet.strata, sheet.sizes, np.array([30.0]), 40.0,
                              tuning="ppi")
    assert ppi.estimate[0] == pytest.approx((30 + 5 * (0 - 1) + 10 * (1 - 0)) / 40)
    tuned = difference_estimate(y, f, sheet.strata, sheet.sizes, np.array([30.0]), 40.0)
    assert 0 <= tuned.lam[0] <= 1 and tuned.se[0] <= min(est.se[0], ppi.se[0]) + 1e-12


def test_sample_metrics_weighted_with_intervals():
    truth = ["economy"] * 50 + ["industry"] * 50
    pred = ["economy"] * 50 + ["industry"] * 25 + ["economy"] * 25
    strata = ["a"] * 50 + ["b"] * 50
    plain = sample_metrics(truth, pred, THEMES, strata=strata, n_boot=200)
    assert plain["accuracy"] == 0.75
    lo, hi = plain["accuracy_ci"]
    assert lo < 0.75 < hi
    # stratum b (where the errors are) stands for 9 times as many paragraphs
    weighted = sample_metrics(truth, pred, THEMES, strata=strata, n_boot=200,
                              weights=np.array([1.0] * 50 + [9.0] * 50))
    assert weighted["accuracy"] == pytest.approx(0.55)
    assert weighted["per_theme"]["industry"]["recall"] == 0.5
    assert "environment" not in weighted["per_theme"]



def test_a_rare_theme_always_right_keeps_its_precision_interval_at_one():
    """A resample in which the model never predicts the theme says nothing of its precision
    (0/0), as one without the theme coded says nothing of its recall: it is left out of the
    interval, not counted as a precision of 0 (which gave 2 of 2 right an interval [0, 1],
    and 1 right of 1 predicted, among 3 coded, too)."""
    truth = ["economy"] * 58 + ["environment"] * 2
    m = sample_metrics(truth, list(truth), THEMES, n_boot=300)["per_theme"]["environment"]
    assert m["precision"] == m["recall"] == m["f1"] == 1.0
    assert m["precision_ci"] == m["recall_ci"] == m["f1_ci"] == [1.0, 1.0]
    truth = ["economy"] * 57 + ["environment"] * 3
    pred = ["economy"] * 59 + ["environment"]
    m = sample_metrics(truth, pred, THEMES, n_boot=300)["per_theme"]["environment"]
    assert m["precision"] == 1.0 and m["precision_ci"] == [1.0, 1.0]
    assert m["recall_ci"][0] < 1 / 3 < m["recall_ci"][1]
    # a theme coded but never predicted: no precision, recall and F1 0
    missed = sample_metrics(truth, ["economy"] * 60, THEMES, n_boot=50)["per_theme"]
    assert missed["environment"]["precision"] is None
    assert missed["environment"]["precision_ci"] == [None, None]
    assert missed["environment"]["recall"] == 0.0 == missed["environment"]["f1"]

def test_paragraphs_without_the_field_are_one_group_labeled_missing():
    """A paragraph whose level is absent, None or blank: one group, named (missing) as
    profile --by names it (it was '' beside 'all', 'national'), sorted last."""
    from policy_nlp.aggregate import MISSING

    pop = Population(THEMES)
    levels = ["national", None, "", "absent"] * 15
    for i, lv in enumerate(levels):
        rec = {"id": f"r{i % 4}#{i:03d}", "report_id": f"r{i % 4}", "text": "字" * (10 + i),
               "label": THEMES[i % 3]}
        if lv != "absent":
            rec["level"] = lv
        pop.add(rec)
    sample = draw_sample(pop.strata(None), 30, seed=0)
    sheet = CodedSheet(ids=[pop.ids[i] for i in sample.rows],
                       labels=[pop.labels[i] for i in sample.rows], strata=sample.strata,
                       sizes=sample.sizes, field=None, blank=0)
    rows = corrected_shares(pop, sheet, by=((), ("level",)))
    groups = list(dict.fromkeys((r["by"], r["group"]) for r in rows))
    assert groups == [("all", "all"), ("level", "national"), ("level", MISSING)]
    missing = next(r for r in rows if r["group"] == MISSING)
    assert missing["n_paragraphs"] == 45 and missing["n_reports"] == 3
