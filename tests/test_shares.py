"""Share estimators, their intervals, and ``profile --estimator/--ci/--by``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from policy_nlp.errors import ArgumentError, InputError
from policy_nlp.shares import (
    ESTIMATORS,
    ShareRates,
    check_estimator,
    era_of,
    estimate,
    interval,
    measure_rates,
    truth_draws,
)

THEMES = ["a", "b", "c"]
# planted: P(predicted j | true t), rows true
PLANTED = np.array([[0.80, 0.15, 0.05],
                    [0.20, 0.70, 0.10],
                    [0.10, 0.20, 0.70]])
TRAIN_PRIOR = np.array([1 / 3, 1 / 3, 1 / 3])


def _sample(prior, n, rng):
    """True themes drawn from ``prior``, predictions through the planted confusion, and
    probabilities that are exactly calibrated under the training prior."""
    y = rng.choice(3, size=n, p=prior)
    pred = np.array([rng.choice(3, p=PLANTED[t]) for t in y])
    post = TRAIN_PRIOR[:, None] * PLANTED  # P(true t, predicted j) under the training prior
    post = (post / post.sum(axis=0, keepdims=True)).T  # row j: P(true | predicted j)
    # a little spread so that argmax is the prediction and probabilities differ by unit
    proba = post[pred]
    return y, pred, proba


def _planted_rates(rng, n=6000, levels=None, years=None):
    y, _, proba = _sample(TRAIN_PRIOR, n, rng)
    return ShareRates(measure_rates(y, proba, THEMES, levels=levels, years=years), THEMES)


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(1)
    rates = _planted_rates(rng)
    shifted = np.array([0.15, 0.25, 0.60])
    y, _, proba = _sample(shifted, 8000, rng)
    truth = np.bincount(y, minlength=3) / len(y)
    return rates, proba, truth


def test_posterior_argmax_is_the_prediction():
    rng = np.random.default_rng(0)
    _, pred, proba = _sample(TRAIN_PRIOR, 500, rng)
    assert (proba.argmax(axis=1) == pred).all()


@pytest.mark.parametrize("method", ["acc", "pacc", "emq", "bayesian_cc"])
def test_adjusted_estimators_recover_planted_shares_under_prior_shift(planted, method):
    rates, proba, truth = planted
    est = estimate(method, proba, np.ones(len(proba)), rates.cell())
    assert est.sum() == pytest.approx(1.0)
    assert np.abs(est - truth).max() < 0.03, (method, est, truth)


@pytest.mark.parametrize("method", ["cc", "pcc"])
def test_unadjusted_estimators_do_not_recover_them(planted, method):
    rates, proba, truth = planted
    est = estimate(method, proba, np.ones(len(proba)), rates.cell())
    # theory: cc -> R^T p, pcc -> (mean posterior)^T p, both pulled towards the training prior
    assert np.abs(est - truth).max() > 0.08, (method, est, truth)


def test_cc_is_the_count_and_weights_count():
    proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    assert estimate("cc", proba, np.ones(3)).tolist() == pytest.approx([1 / 3] * 3)
    assert estimate("cc", proba, np.array([2.0, 1.0, 1.0])).tolist() == [0.5, 0.25, 0.25]


def test_intervals_cover_true_shares_of_small_reports():
    """Reports of 60 paragraphs with their own shares: the 90% intervals hold the realised
    shares about 90% of the time (the truth is the report's own labels)."""
    rng = np.random.default_rng(3)
    rates = _planted_rates(rng, n=3000)
    cell = rates.cell()
    hits = []
    for r in range(60):
        prior = rng.dirichlet([2, 2, 2])
        y, _, proba = _sample(prior, 60, rng)
        truth = np.bincount(y, minlength=3) / len(y)
        lo, hi = interval(truth_draws(proba, [np.ones(60)], cell, n_draws=200,
                                      report_seed=r)[0], 0.9)
        hits += ((lo <= truth + 1e-9) & (truth <= hi + 1e-9)).tolist()
    assert 0.82 <= np.mean(hits) <= 0.99


def test_fewer_out_of_fold_rows_give_wider_intervals():
    """The finite evidence behind the rates counts: on a large set of units (where the
    units' own noise is small) rates from 150 rows give wider intervals than from 20,000."""
    rng = np.random.default_rng(4)
    many = _planted_rates(rng, n=20000).cell()
    few = _planted_rates(rng, n=150).cell()
    _, _, proba = _sample(np.array([0.5, 0.3, 0.2]), 3000, rng)
    width = {}
    for name, cell in (("many", many), ("few", few)):
        lo, hi = interval(truth_draws(proba, [np.ones(3000)], cell, n_draws=200)[0], 0.95)
        width[name] = float((hi - lo).mean())
    assert width["few"] > 1.5 * width["many"]


def test_rates_by_level_and_era_fall_back_when_few_rows():
    rng = np.random.default_rng(5)
    n = 3000
    y, _, proba = _sample(TRAIN_PRIOR, n, rng)
    levels = ["national"] * 2500 + ["county"] * 500
    years = [1960] * 300 + [2010] * 2200 + [2015] * 500
    rates = ShareRates(measure_rates(y, proba, THEMES, levels=levels, years=years), THEMES)
    assert rates.cell_key("national", 1960) == "national/-1977"
    assert rates.cell_key("national", 2012) == "national/1993-"
    assert rates.cell_key("county", 2015) == "county/1993-"
    assert rates.cell_key("county", 1985) == "county"  # no rows of that era
    assert rates.cell_key("prefecture", 2015) == "all"
    assert rates.cell_key(None, None) == "all"
    raw = rates.raw["national/-1977"]
    assert raw["n"] == 300 and np.sum(raw["confusion"]) == 300


def test_weak_era_gives_wider_intervals():
    """A cell where the model errs more (flatter rates) gives wider intervals to the same
    predictions than a cell where it is accurate."""
    rng = np.random.default_rng(6)
    good = PLANTED
    weak = np.array([[0.55, 0.30, 0.15], [0.30, 0.50, 0.20], [0.20, 0.30, 0.50]])
    ys, probas, levels, years = [], [], [], []
    for conf, year in ((good, 2010), (weak, 1960)):
        y = rng.choice(3, size=1500)
        pred = np.array([rng.choice(3, p=conf[t]) for t in y])
        post = (conf / conf.sum(axis=0, keepdims=True)).T
        ys.append(y)
        probas.append(post[pred])
        levels += ["national"] * 1500
        years += [year] * 1500
    rates = ShareRates(measure_rates(np.concatenate(ys), np.concatenate(probas), THEMES,
                                     levels=levels, years=years), THEMES)
    _, _, proba = _sample(np.array([0.5, 0.3, 0.2]), 80, rng)
    widths = {}
    for year in (2010, 1960):
        cell = rates.cell("national", year)
        lo, hi = interval(truth_draws(proba, [np.ones(80)], cell, n_draws=300)[0], 0.95)
        widths[year] = float((hi - lo).mean())
    assert widths[1960] > 1.2 * widths[2010]


def test_era_of():
    assert [era_of(y) for y in (1954, 1977, 1978, 1992, 1993, "2024", None, "x")] == [
        "-1977", "-1977", "1978-1992", "1978-1992", "1993-", "1993-", None, None]


def test_adjusted_estimators_need_rates():
    for method in ("acc", "pacc", "emq", "bayesian_cc"):
        with pytest.raises(InputError, match="retrain"):
            check_estimator(method, None)
    check_estimator("cc", None)
    check_estimator("pcc", None)
    with pytest.raises(ArgumentError, match="estimator is 'xyz', not one of cc, "):
        check_estimator("xyz", None)


def test_rates_for_other_themes_are_refused():
    rng = np.random.default_rng(0)
    y, _, proba = _sample(TRAIN_PRIOR, 100, rng)
    with pytest.raises(InputError, match="other themes"):
        ShareRates(measure_rates(y, proba, THEMES), ["a", "b", "d"])


def test_estimators_tuple():
    assert ESTIMATORS == ("cc", "pcc", "acc", "pacc", "emq", "bayesian_cc")


# --- the panel: profile_estimated and the CLI --------------------------------------------------


def _records():
    recs = []
    for r, (level, year) in enumerate((("national", 1960), ("national", 2010),
                                       ("provincial", 2015))):
        for i in range(12):
            best = THEMES[(i + r) % 3]
            scores = {t: (0.8 if t == best else 0.1) for t in THEMES}
            recs.append({"id": f"r{r}#{i}", "report_id": f"r{r}", "level": level, "year": year,
                         "text": "字" * (10 + i), "label": best, "scores": scores})
    return recs


@pytest.fixture(scope="module")
def book():
    from policy_nlp.codebook import Codebook

    return Codebook.from_dict({"groups": [{"id": "g1", "zh": "一"}, {"id": "g2", "zh": "二"}],
                               "themes": [{"id": t, "group": "g1" if t != "c" else "g2",
                                           "en": t, "zh": t} for t in THEMES]})


def test_profile_estimated_ci_columns_wide_and_long(book):
    from policy_nlp.aggregate import long_panel, profile_estimated, profile_records

    rng = np.random.default_rng(0)
    rates = _planted_rates(rng, n=2000)
    rows = profile_estimated(_records(), book, themes=THEMES, estimator="pacc", ci=0.9,
                             rates=rates, n_draws=100)
    counted = profile_records(_records(), book, themes=THEMES)
    assert [r["report_id"] for r in rows] == ["r0", "r1", "r2"]
    for row, cc in zip(rows, counted, strict=True):
        assert row["n_chars"] == cc["n_chars"]
        for m in ("char_share", "para_share"):
            assert sum(row[f"{m}_{t}"] for t in THEMES) == pytest.approx(1.0)
            for name in [*THEMES, "group_g1", "group_g2"]:
                assert row[f"{m}_{name}_lower"] <= row[f"{m}_{name}"] + 1e-9
                assert row[f"{m}_{name}"] <= row[f"{m}_{name}_upper"] + 1e-9
                assert 0 <= row[f"{m}_{name}_lower"] <= row[f"{m}_{name}_upper"] <= 1
    long = long_panel(rows, book, themes=THEMES)
    assert {"char_share_lower", "char_share_upper", "para_share_lower",
            "para_share_upper"} <= set(long[0])
    first = long[0]
    assert first["char_share_lower"] == rows[0]["char_share_a_lower"]
    # without --ci: no bound columns; cc gives the counts
    plain = profile_estimated(_records(), book, themes=THEMES, estimator="cc")
    assert plain == counted
    assert "char_share_lower" not in long_panel(plain, book, themes=THEMES)[0]


def test_profile_estimated_groups(book):
    from policy_nlp.aggregate import profile_estimated

    rates = _planted_rates(np.random.default_rng(0), n=1000)
    rows = profile_estimated(_records(), book, themes=THEMES, estimator="pcc", ci=0.9,
                             rates=rates, by=["level", "decade"], n_draws=50)
    reports = [r for r in rows if not r["by"]]
    groups = [r for r in rows if r["by"]]
    assert len(reports) == 3
    assert [g["report_id"] for g in groups] == [
        "level=national,decade=1960", "level=national,decade=2010",
        "level=provincial,decade=2010"]
    assert all(g["by"] == "level,decade" and g["n_reports"] == 1 for g in groups)
    pooled = profile_estimated(_records(), book, themes=THEMES, estimator="pcc", by=["level"])
    national = next(r for r in pooled if r["report_id"] == "level=national")
    r0, r1 = pooled[0], pooled[1]
    w0, w1 = r0["n_chars"], r1["n_chars"]
    assert national["n_reports"] == 2 and national["n_chars"] == w0 + w1
    assert national["char_share_a"] == pytest.approx(
        (w0 * r0["char_share_a"] + w1 * r1["char_share_a"]) / (w0 + w1))


def test_by_a_missing_column_is_an_input_error(book):
    from policy_nlp.aggregate import profile_estimated

    with pytest.raises(ArgumentError, match="by names province, no column of the panel") as e:
        profile_estimated(_records(), book, themes=THEMES, by=["province"])
    # the columns it offers instead are those --by takes (not report_id, n_chars …)
    assert "the columns are level, region, year, unit, estimator, top_theme" in str(e.value)


def test_sentence_units_get_intervals(book):
    from policy_nlp.aggregate import profile_estimated

    recs = []
    for i in range(6):
        sents = [{"text": "字" * 8, "label": "a", "score": 0.8,
                  "scores": {"a": 0.8, "b": 0.1, "c": 0.1}},
                 {"text": "字" * 4, "label": "b", "score": 0.7,
                  "scores": {"a": 0.2, "b": 0.7, "c": 0.1}}]
        recs.append({"id": f"r#{i}", "report_id": "r", "text": "字" * 12, "label": "a",
                     "sentences": sents})
    rates = _planted_rates(np.random.default_rng(0), n=1000)
    row = profile_estimated(recs, book, themes=THEMES, unit="sentence", estimator="cc",
                            ci=0.9, rates=rates, n_draws=50)[0]
    assert row["char_share_a"] == pytest.approx(8 / 12)
    assert row["para_share_b"] == pytest.approx(4 / 12)
    assert row["char_share_a_lower"] <= row["char_share_a"] <= row["char_share_a_upper"]


# --- the command line -------------------------------------------------------------------------


def _cli(*args):
    from typer.testing import CliRunner

    from policy_nlp.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def paragraphs(tmp_path_factory):
    path = tmp_path_factory.mktemp("shares") / "paras.jsonl"
    rows = [
        {"id": f"n/2024#{i}", "report_id": "n/2024", "level": "national", "year": 2024,
         "text": t} for i, t in enumerate([
             "国内生产总值增长百分之五，经济运行总体平稳。", "加强生态环境保护，打好污染防治攻坚战。",
             "推进科技创新，加强基础研究和关键核心技术攻关。", "稳定就业，增加居民收入，完善社会保障。"])
    ] + [
        {"id": f"p/2015#{i}", "report_id": "p/2015", "level": "provincial", "year": 2015,
         "text": t} for i, t in enumerate([
             "全面推进依法治省，建设法治政府。", "发展现代农业，推进乡村振兴，保障粮食安全。",
             "深化改革开放，优化营商环境，扩大对外贸易。"])
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _read_csv(path):
    with open(path, encoding="utf-8-sig") as f:  # profile's CSV starts with a BOM
        return list(csv.DictReader(f))


def test_cli_profile_ci_wide_long_and_by(paragraphs, tiny_model_dir, tmp_path):
    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    common = ["--model", str(tiny_model_dir), "--records", "paragraphs", "--no-progress"]
    res = _cli("profile", str(paragraphs), *common, "--ci", "0.9", "--estimator", "pacc",
               "--by", "level", "--output", str(wide))
    assert res.exit_code == 0, res.output
    rows = _read_csv(wide)
    assert [r["report_id"] for r in rows] == ["n/2024", "p/2015", "level=national",
                                              "level=provincial"]
    # the groups' rows are not counted as reports (it said '4 reports')
    assert "2 reports and 2 groups of reports (7 paragraphs) profiled" in res.output
    assert "char_share_economy_lower" in rows[0] and "para_share_economy_upper" in rows[0]
    res = _cli("profile", str(paragraphs), *common, "--ci", "0.9", "--long", "--unit",
               "sentence", "--output", str(long))
    assert res.exit_code == 0, res.output
    head = _read_csv(long)[0]
    for col in ("char_share", "char_share_lower", "char_share_upper", "para_share",
                "para_share_lower", "para_share_upper"):
        assert col in head
    assert float(head["char_share_lower"]) <= float(head["char_share"]) <= float(
        head["char_share_upper"])


def test_cli_by_missing_column_exits_2_and_writes_nothing(paragraphs, tmp_path):
    out = tmp_path / "p.csv"
    res = _cli("profile", str(paragraphs), "--records", "paragraphs", "--by", "province",
               "--output", str(out), "--no-progress")
    assert res.exit_code == 2
    assert "--by names province, no column of the panel" in res.output
    assert not out.exists()


def test_cli_card_without_rates(paragraphs, tiny_model_dir, tmp_path):
    """A model trained before the rates were measured: cc and pcc work, the adjusted
    estimators and --ci say why they cannot (exit 2, nothing written)."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    card = json.loads((old / "model.json").read_text(encoding="utf-8"))
    assert card["metrics"]["cross_validation"].pop("share_rates")
    (old / "model.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "p.csv"
    common = ["--model", str(old), "--records", "paragraphs", "--no-progress"]
    for extra in (["--estimator", "pacc"], ["--ci", "0.95"]):
        res = _cli("profile", str(paragraphs), *common, *extra, "--output", str(out))
        assert res.exit_code == 2 and "retrain" in res.output, res.output
        assert not out.exists()
    for name in ("cc", "pcc"):
        res = _cli("profile", str(paragraphs), *common, "--estimator", name, "--output",
                   str(out))
        assert res.exit_code == 0, res.output


# --- plot: bounds are not shares; trends draw them as bands -----------------------------------


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_plot_reads_ci_panels_and_draws_bands(tmp_path):
    pytest.importorskip("matplotlib")
    pd = pytest.importorskip("pandas")
    from policy_nlp import plot
    from policy_nlp.aggregate import long_panel, profile_estimated
    from policy_nlp.codebook import load_codebook
    from policy_nlp.write import write_panel

    book = load_codebook()
    recs = [{"id": f"r{y}#{i}", "report_id": f"r{y}", "year": y, "level": "national",
             "text": "字" * (10 + i), "label": t,
             "scores": {th: (0.7 if th == t else 0.3 / 16) for th in book.ids}}
            for y in (2020, 2021, 2022) for i, t in enumerate(["economy", "environment",
                                                               "economy", "innovation"])]
    rng = np.random.default_rng(0)
    y = rng.integers(0, len(book.ids), 2000)
    proba = np.full((2000, len(book.ids)), 0.2 / (len(book.ids) - 1))
    proba[np.arange(2000), y] = 0.8
    rates = ShareRates(measure_rates(y, proba, book.ids), book.ids)
    rows = profile_estimated(recs, book, estimator="pcc", ci=0.9, rates=rates, n_draws=50)
    write_panel(long_panel(rows, book), tmp_path / "long.csv")
    write_panel(rows, tmp_path / "wide.csv")
    wide = plot.read_panel(tmp_path / "wide.csv")
    back = plot.read_panel(tmp_path / "long.csv")
    cols = plot.share_columns(wide)
    assert cols and not any(c.endswith(("_lower", "_upper")) for c in cols)
    assert back["char_share_economy_lower"].tolist() == pytest.approx(
        pd.DataFrame(rows)["char_share_economy_lower"].tolist())
    fig = plot.trends(back, themes=["economy", "environment"])
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # one band per theme
    fig = plot.bars(wide)  # stacked shares, bounds left out: each bar sums to 100%
    assert len(fig.axes[0].patches) == len(rows) * len(book.ids)


def test_calibrated_scales_widen_intervals_where_reports_differ_more():
    """Reports whose own error rates differ from the cell's (over-dispersion) need wider
    intervals than the latent-class model alone gives: calibrate_scales measures it."""
    from policy_nlp.shares import SCALE_LEVELS, calibrate_scales, scaled

    rng = np.random.default_rng(8)

    def reports(spread):
        ys, probas, groups = [], [], []
        for r in range(30):
            conf = np.array([rng.dirichlet(spread * row) for row in PLANTED]) if spread else \
                PLANTED
            y = rng.choice(3, size=40, p=rng.dirichlet([3, 3, 3]))
            pred = np.array([rng.choice(3, p=conf[t]) for t in y])
            post = (PLANTED / PLANTED.sum(axis=0, keepdims=True)).T
            ys.append(y)
            probas.append(post[pred])
            groups += [f"r{r}"] * 40
        y, proba = np.concatenate(ys), np.concatenate(probas)
        rates = calibrate_scales(measure_rates(y, proba, THEMES), y, proba, groups=groups,
                                 n_draws=100)
        cell = ShareRates(rates, THEMES).cell()
        assert set(cell.scales) == set(SCALE_LEVELS)
        # the calibrated interval's width on a report of this kind
        _, _, proba = _sample(np.array([0.4, 0.4, 0.2]), 40, rng)
        q, scale = cell.calibration(0.95)
        assert q >= 0.95 and scale >= 1
        d = truth_draws(proba, [np.ones(40)], cell, n_draws=200)[0]
        lo, hi = interval(scaled(d, scale), q)
        return float((hi - lo).mean())

    same, differ = reports(0), reports(4.0)
    assert differ > 1.1 * same
    cell = ShareRates(measure_rates(np.zeros(3, int), np.eye(3)[[0, 0, 0]], THEMES),
                      THEMES).cell()
    assert cell.calibration(0.95) == (0.95, 1.0)  # unmeasured: as drawn


def test_api_profile_passes_estimator_ci_and_by(paragraphs, tiny_model_dir):
    pytest.importorskip("pandas")
    from policy_nlp import load_model

    model = load_model(tiny_model_dir)
    frame = model.profile([str(paragraphs)], records="paragraphs", ci=0.9, by=["level"],
                          estimator="pcc")
    assert list(frame["report_id"]) == ["n/2024", "p/2015", "level=national",
                                        "level=provincial"]
    assert (frame["char_share_economy_lower"] <= frame["char_share_economy"] + 1e-12).all()
    plain = model.profile([str(paragraphs)], records="paragraphs")
    assert "char_share_economy_lower" not in plain


def test_trained_card_carries_the_rates_with_their_counts(tiny_model_dir, fixture_data):
    card = json.loads((tiny_model_dir / "model.json").read_text(encoding="utf-8"))
    rates = card["metrics"]["cross_validation"]["share_rates"]
    assert rates["themes"] == card["themes"]
    cell = rates["cells"]["all"]
    assert cell["n"] == len(fixture_data) == int(np.sum(cell["confusion"]))
    assert np.sum(cell["posterior"]) == pytest.approx(len(fixture_data), abs=0.05)
    assert set(cell["interval_scale"]) >= {"levels", "quantile", "scale", "reports"}
    assert ShareRates.from_card(card, card["themes"]) is not None


@pytest.mark.parametrize("args, message", [
    (["--ci", "1.5"], "--ci is 1.5: the interval level must be between 0 and 1"),
    (["--estimator", "median"], "--estimator is 'median', not one of"),
])
def test_cli_bad_ci_or_estimator_exits_2(paragraphs, tiny_model_dir, tmp_path, args, message):
    out = tmp_path / "p.csv"
    res = _cli("profile", str(paragraphs), "--model", str(tiny_model_dir), "--records",
               "paragraphs", *args, "--output", str(out), "--no-progress")
    assert res.exit_code == 2 and message in res.output, res.output
    assert not out.exists()


# --- groups whose metadata value is missing ------------------------------------------------


def _records_with_gaps():
    """Four reports: two national ones with a year, one without (no field), one with a blank
    year (as a CSV cell gives it) and no level at all."""
    recs = []
    for r, meta in enumerate(({"level": "national", "year": 2010},
                              {"level": "national", "year": 2012},
                              {"level": "national"},
                              {"year": ""})):
        for i in range(4):
            best = THEMES[(i + r) % 3]
            recs.append({"id": f"r{r}#{i}", "report_id": f"r{r}", **meta,
                         "text": "字" * (10 + i), "label": best,
                         "scores": {t: (0.8 if t == best else 0.1) for t in THEMES}})
    return recs


def test_a_missing_group_value_is_labeled_missing_not_none(book):
    """It was 'level=None,year=None': a Python repr in the panel. A value that is absent,
    None, blank or NaN is one missing value: its group is labeled (missing), sorted last,
    and its column stays empty (None), whatever the format."""
    from policy_nlp.aggregate import MISSING, profile_estimated

    rows = profile_estimated(_records_with_gaps(), book, themes=THEMES, estimator="pcc",
                             by=["level", "year"])
    groups = [r for r in rows if r["by"]]
    assert [g["report_id"] for g in groups] == [
        "level=national,year=2010", "level=national,year=2012",
        f"level=national,year={MISSING}", f"level={MISSING},year={MISSING}"]
    assert MISSING == "(missing)"
    last = groups[-1]
    assert (last["level"], last["year"], last["n_reports"]) == (None, None, 1)
    assert groups[2]["year"] is None and groups[2]["level"] == "national"
    assert not any(isinstance(v, str) and "None" in v for g in groups for v in g.values())
    decades = [r for r in profile_estimated(_records_with_gaps(), book, themes=THEMES,
                                            by=["decade"]) if r["by"]]
    assert [g["report_id"] for g in decades] == ["decade=2010", f"decade={MISSING}"]
    assert decades[1]["n_reports"] == 2 and decades[1]["decade"] is None


def test_a_year_that_is_no_year_is_unknown_for_decades_and_eras(book):
    """int() took True for the year 1 (decade 0, the rates of the planned economy), 1e10
    and -5 for decades of their own and 2021.5 for 2021: none is a four-digit year."""
    from policy_nlp.aggregate import MISSING, profile_estimated
    from policy_nlp.shares import era_of

    assert [era_of(y) for y in (1960, "1985", 1985.0, 2020)] == ["-1977", "1978-1992",
                                                                 "1978-1992", "1993-"]
    assert [era_of(y) for y in (True, 1e10, -5, 2021.5, "2020年", None)] == [None] * 6
    recs = []
    for r, year in enumerate((2021, True, 1e10, -5, 2021.5, "2020年")):
        recs += [{"id": f"y{r}#0", "report_id": f"y{r}", "level": "national", "year": year,
                  "text": "字" * 12, "label": THEMES[0]}]
    groups = [g for g in profile_estimated(recs, book, themes=THEMES, by=["decade"])
              if g["by"]]
    assert [(g["report_id"], g["n_reports"]) for g in groups] == [
        ("decade=2020", 1), (f"decade={MISSING}", 5)]


def test_nan_and_blank_values_make_one_missing_group(book):
    from policy_nlp.aggregate import MISSING, profile_estimated

    recs = _records_with_gaps()
    for rec in recs:
        if rec["report_id"] == "r2":
            rec["year"] = float("nan")  # as pandas gives an empty cell
    groups = [r for r in profile_estimated(recs, book, themes=THEMES, by=["year"]) if r["by"]]
    assert [g["report_id"] for g in groups] == ["year=2010", "year=2012", f"year={MISSING}"]
    assert groups[-1]["n_reports"] == 2 and groups[-1]["year"] is None


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".dta"])
def test_cli_missing_group_values_in_every_format(tiny_model_dir, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    inputs = tmp_path / "paras.jsonl"
    texts = ["国内生产总值增长百分之五，经济运行总体平稳。", "加强生态环境保护，打好污染防治攻坚战。"]
    lines = []
    for rid, meta in (("n/2024", {"level": "national", "year": 2024}),
                      ("n/x", {"level": "national"}), ("x/x", {})):
        lines += [json.dumps({"id": f"{rid}#{i}", "report_id": rid, "text": t, **meta},
                             ensure_ascii=False) for i, t in enumerate(texts)]
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / f"panel{suffix}"
    res = _cli("profile", str(inputs), "--model", str(tiny_model_dir), "--records",
               "paragraphs", "--by", "level,year", "--no-progress", "--output", str(out))
    assert res.exit_code == 0, res.output
    frame = {".csv": lambda p: pd.read_csv(p, encoding="utf-8-sig"),
             ".jsonl": lambda p: pd.read_json(p, lines=True), ".parquet": pd.read_parquet,
             ".dta": pd.read_stata}[suffix](out)
    groups = frame[frame["by"].fillna("") != ""]
    assert groups["report_id"].tolist() == [
        "level=national,year=2024", "level=national,year=(missing)",
        "level=(missing),year=(missing)"]
    assert groups["year"].isna().tolist() == [False, True, True]
    level = groups["level"].tolist()[-1]
    assert level == "" or pd.isna(level)  # Stata's missing string is empty
    if suffix != ".parquet":  # (compressed)
        assert b"None" not in out.read_bytes()


# --- every row says how its shares were made ----------------------------------------------


def test_rows_record_the_estimator_and_interval_level(book):
    """A reviewer holding the panel must tell classify and count from EMQ, and the level of
    its intervals: ``estimator`` (and with --ci ``ci_level``) right after ``unit``, in every
    row, report or group, wide or long."""
    from policy_nlp.aggregate import long_panel, profile_estimated, profile_records

    counted = profile_records(_records(), book, themes=THEMES)
    assert {r["estimator"] for r in counted} == {"cc"}
    assert "ci_level" not in counted[0]
    keys = list(counted[0])
    assert keys[keys.index("unit") + 1] == "estimator"
    rates = _planted_rates(np.random.default_rng(0), n=1000)
    rows = profile_estimated(_records(), book, themes=THEMES, estimator="emq", ci=0.9,
                             rates=rates, by=["level"], n_draws=30)
    assert [r["by"] for r in rows] == ["", "", "", "level", "level"]
    for row in rows:
        assert (row["estimator"], row["ci_level"]) == ("emq", 0.9)
        keys = list(row)
        assert keys[keys.index("unit") + 1:keys.index("unit") + 3] == ["estimator", "ci_level"]
    # besides the two: the columns and their order of before
    before = [k for k in counted[0] if k != "estimator"]
    assert [k for k in rows[0] if k not in ("estimator", "ci_level")][:len(before)] == before
    for row in long_panel(rows, book, themes=THEMES):
        assert (row["estimator"], row["ci_level"]) == ("emq", 0.9)
    plain = profile_estimated(_records(), book, themes=THEMES, estimator="pcc", by=["level"])
    assert {r["estimator"] for r in plain} == {"pcc"} and "ci_level" not in plain[-1]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".dta"])
def test_cli_panels_record_the_estimator(paragraphs, tiny_model_dir, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    read = {".csv": lambda p: pd.read_csv(p, encoding="utf-8-sig"),
            ".jsonl": lambda p: pd.read_json(p, lines=True), ".parquet": pd.read_parquet,
            ".dta": pd.read_stata}[suffix]
    common = ["--model", str(tiny_model_dir), "--records", "paragraphs", "--no-progress"]
    for args, estimator, level in ((["--estimator", "pcc", "--ci", "0.9", "--by", "level"],
                                    "pcc", 0.9),
                                   (["--long"], "cc", None)):
        out = tmp_path / f"panel{suffix}"
        res = _cli("profile", str(paragraphs), *common, *args, "--output", str(out))
        assert res.exit_code == 0, res.output
        frame = read(out)
        assert set(frame["estimator"]) == {estimator}
        columns = list(frame.columns)
        assert columns[columns.index("unit") + 1] == "estimator"
        if level is None:
            assert "ci_level" not in frame
        else:
            assert frame["ci_level"].tolist() == pytest.approx([level] * len(frame))
        if suffix == ".dta":
            with pd.io.stata.StataReader(out) as reader:
                labels = reader.variable_labels()
            assert labels["estimator"].startswith("how the shares were estimated")
            if level is not None:
                assert "level of the intervals" in labels["ci_level"]


# --- found in review (issue 13) -----------------------------------------------------------------


def test_pcc_shares_sum_to_one_from_rounded_probabilities():
    """Labeled records carry probabilities rounded to 4 decimals, which need not sum to 1:
    pcc's shares summed to 0.99987 in a panel, where every family of shares sums to 1."""
    proba = np.array([[0.3333, 0.3333, 0.3333], [0.6667, 0.1667, 0.1667]])
    assert estimate("pcc", proba, np.array([1.0, 3.0])).sum() == pytest.approx(1.0, abs=1e-12)


def test_a_year_as_a_spreadsheet_writes_it_is_that_year(book):
    """A CSV year of '2021.0' (a year column pandas or Excel saved as floats) was a year of
    its own: a group apart from 2021, no decade and no era."""
    from policy_nlp.aggregate import profile_estimated

    recs = [{"id": f"y{r}#0", "report_id": f"y{r}", "level": "national", "year": year,
             "text": "字" * 12, "label": THEMES[0]}
            for r, year in enumerate((2021, "2021.0", 2021.0, " 2021 "))]
    rows = profile_estimated(recs, book, themes=THEMES, by=["year", "decade"])
    assert [r["year"] for r in rows if not r["by"]] == [2021] * 4
    assert [(g["report_id"], g["n_reports"]) for g in rows if g["by"]] == [
        ("year=2021,decade=2020", 4)]
    assert era_of("2021.0") == "1993-"


def test_one_value_read_as_a_number_and_as_text_is_one_group(book):
    """wave 1 from a JSONL file and '1' from a CSV cell were two groups, both named
    wave=1: a group split in two, with one name."""
    from policy_nlp.aggregate import profile_estimated

    recs = [{"id": f"w{r}#0", "report_id": f"w{r}", "wave": wave, "text": "字" * 12,
             "label": THEMES[r % 3]} for r, wave in enumerate((1.0, "1", 2, 1))]
    groups = [g for g in profile_estimated(recs, book, themes=THEMES, by=["wave"]) if g["by"]]
    assert [(g["report_id"], g["n_reports"]) for g in groups] == [("wave=1", 3),
                                                                  ("wave=2", 1)]


@pytest.mark.parametrize("by, message", [
    (["report_id"], "report_id is the report itself"),
    (["level", "level"], "names level twice"),
    (["char_share_a"], "char_share_a is a share"),
])
def test_by_names_metadata_once(book, by, message):
    """--by report_id gave group rows whose report_id was each report's own (a panel with
    every id twice); --by level,level groups named level=national,level=national; --by a
    share grouped reports by a number the run computes."""
    from policy_nlp.aggregate import profile_estimated

    with pytest.raises(ArgumentError, match=message):
        profile_estimated(_records(), book, themes=THEMES, by=by)


def test_cli_by_report_id_exits_2_before_any_work(paragraphs, tmp_path, monkeypatch):
    import policy_nlp.model

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before --by was checked")

    monkeypatch.setattr(policy_nlp.model, "load_model", no_model)
    out = tmp_path / "p.csv"
    res = _cli("profile", str(paragraphs), "--records", "paragraphs", "--by",
               "level,report_id", "--output", str(out), "--no-progress")
    assert res.exit_code == 2, res.output
    assert "--by names report_id: report_id is the report itself" in res.output
    assert "Traceback" not in res.output and not out.exists()
