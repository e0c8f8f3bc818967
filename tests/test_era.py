"""Eras: the year of a report -> its era; metrics by era, level and sample; report-grouped
folds that keep every report whole."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.codebook import load_codebook
from policy_nlp.era import era_of, parse_year
from policy_nlp.errors import InputError
from policy_nlp.evaluate import format_metrics, metrics_report
from policy_nlp.labels import load_joined, load_table, validate
from policy_nlp.train import TrainConfig, report_folds

from .conftest import FIXTURES, assert_no_traceback

# the six fixture reports: two of each era
YEARS = {"fixture/r0": 1979, "fixture/r1": 1990, "fixture/r2": 1991, "fixture/r3": 2012,
         "fixture/r4": 2013, "fixture/r5": 2024}


def test_era_boundaries():
    assert [era_of(y) for y in (1954, 1990, 1991, 2012, 2013, 2025)] == [
        "up_to_1990", "up_to_1990", "1991_2012", "1991_2012", "after_2012", "after_2012"]
    assert era_of(None) is None


@pytest.mark.parametrize("value, year", [(1985, 1985), ("1985", 1985), (" 1985 ", 1985),
                                         (1985.0, 1985), ("", None), (None, None),
                                         ("1985.0", 1985), (" 1985.00 ", 1985)])
def test_parse_year(value, year):
    assert parse_year(value) == year


@pytest.mark.parametrize("value", ["85", "1985年", "abc", True, 1985.5, 12345, "１９８５",
                                   "1985.5", "19850", "1985.0.0"])
def test_parse_year_refuses(value):
    with pytest.raises(ValueError, match="year"):
        parse_year(value)


@pytest.fixture()
def dated_table(tmp_path):
    """The fixture labels with a year and a sample column."""
    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]
    for i, row in enumerate(rows):
        row["year"] = str(YEARS[row["report_id"]])
        row["sample"] = "random" if i % 2 else "census"
    path = tmp_path / "dated.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_load_table_reads_year_and_sample(dated_table):
    data = load_table(dated_table)
    assert sorted(set(data.years)) == sorted(YEARS.values())
    assert data.samples.count("random") == 12 and data.samples.count("census") == 12
    sub = data.subset([0, 1])
    assert sub.years == data.years[:2] and sub.samples == data.samples[:2]
    # a table without those columns: unknown, and no era breakdown
    plain = load_table(FIXTURES / "labeled.jsonl")
    assert set(plain.years) == {None} and set(plain.samples) == {None}


def test_a_bad_year_names_its_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label,year\n发展经济,economy,1985\n保护环境,environment,八五年\n",
                    "utf-8")
    with pytest.raises(InputError, match=r"bad.csv:3: column 'year': not a four-digit year"):
        load_table(path)
    data = load_table(path, strict=False)
    assert len(data) == 1
    assert "bad_year" in [p.kind for p in validate(data).errors]


def test_load_joined_reads_year_and_sample(tmp_path):
    paras = tmp_path / "paragraphs.jsonl"
    paras.write_text(
        json.dumps({"id": "a#0", "report_id": "a", "level": "national", "year": 1978,
                    "text": "搞好基本建设，增产节约。"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "b#0", "report_id": "b", "level": "county",
                      "text": "保护生态环境。"}, ensure_ascii=False) + "\n", "utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "a#0", "label": "economy", "sample": "era"}\n'
                      '{"id": "b#0", "label": "environment"}\n', "utf-8")
    data = load_joined(labels, paras)
    assert data.years == [1978, None]
    assert data.samples == ["era", None]


def test_metrics_by_era_level_and_sample():
    themes = ["economy", "environment"]
    y_true = ["economy", "economy", "environment", "environment", "economy", "environment"]
    pred = [0, 1, 1, 1, 0, 0]  # right, wrong, right, right, right, wrong
    proba = np.eye(2)[pred]
    years = [1980, 1985, 2000, 2000, 2020, None]
    levels = ["national", "national", "national", "provincial", "county", "county"]
    samples = ["era", "random", "random", "census", "random", None]
    m = metrics_report(y_true=y_true, proba=proba, themes=themes, levels=levels, years=years,
                       samples=samples)
    era = m["per_era"]
    assert list(era) == ["up_to_1990", "1991_2012", "after_2012", "unknown"]
    assert (era["up_to_1990"]["n"], era["up_to_1990"]["accuracy"]) == (2, 0.5)
    assert (era["1991_2012"]["n"], era["1991_2012"]["accuracy"]) == (2, 1.0)
    assert era["unknown"]["accuracy"] == 0.0
    assert set(era["1991_2012"]["per_level"]) == {"national", "provincial"}
    assert era["up_to_1990"]["per_level"]["national"]["n"] == 2
    assert m["per_sample"]["random"] == {"n": 3, "accuracy": 0.6667, "macro_f1": 0.6667}
    assert m["per_sample"]["unknown"]["n"] == 1
    text = format_metrics(m)
    assert "up_to_1990" in text and "sample" in text
    # no years, no samples: no breakdown
    bare = metrics_report(y_true=y_true, proba=proba, themes=themes, levels=levels,
                          years=[None] * 6, samples=[None] * 6)
    assert "per_era" not in bare and "per_sample" not in bare


def test_evaluate_prints_and_writes_eras(dated_table, tiny_model_dir, tmp_path):
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(dated_table), "-m",
                                      str(tiny_model_dir), "--cv-folds", "3", "--jobs", "1",
                                      "-o", str(out), "--report", str(tmp_path / "html")])
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text("utf-8"))
    assert {k: v["n"] for k, v in metrics["per_era"].items()} == {
        "up_to_1990": 8, "1991_2012": 8, "after_2012": 8}
    assert set(metrics["per_sample"]) == {"census", "random"}
    assert "after_2012" in result.stdout and "census" in result.stdout
    page = (tmp_path / "html" / "index.html").read_text("utf-8")
    old = metrics["per_era"]["up_to_1990"]
    assert "By era of the report" in page and f"<td>{old['accuracy']:.4f}</td>" in page


def _assert_whole_reports(folds, groups: np.ndarray, n: int) -> None:
    tested = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tested), np.arange(n))  # every row held out exactly once
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])  # no report on both sides
        # every report of the test side is there whole
        held = set(groups[te])
        assert np.isin(np.flatnonzero(np.isin(groups, list(held))), te).all()


def test_report_folds_keep_each_report_whole(fixture_data):
    book = load_codebook()
    folds = report_folds(fixture_data, book, TrainConfig(cv_folds=3))
    _assert_whole_reports(folds, np.array(fixture_data.groups), len(fixture_data))


def test_report_folds_keep_each_shared_report_whole(shared):
    data = load_joined(shared / "labels" / "train.jsonl", shared / "corpus" / "paragraphs.jsonl")
    folds = report_folds(data, load_codebook(), TrainConfig())
    _assert_whole_reports(folds, np.array(data.groups), len(data))


def test_era_weights_balance_the_eras():
    from policy_nlp.train import era_weights

    years = [1980] * 2 + [2000] * 2 + [2020] * 8 + [None]
    w = era_weights(years, 1.0)
    # every era the same total weight, a row of unknown year 1
    assert np.allclose([w[:2].sum(), w[2:4].sum(), w[4:12].sum()], 12 / 3)
    assert w[-1] == 1.0
    half = era_weights(years, 0.5)
    assert np.allclose(half[:12], np.sqrt(w[:12]))
    assert era_weights(years, 0.0) is None
    assert era_weights([2020, 2021, None], 1.0) is None  # one era: nothing to balance
    with pytest.raises(ValueError, match="0 or more"):
        era_weights(years, -1.0)


def test_training_weighs_the_eras(dated_table, monkeypatch):
    """With years, the classifier gets the era weights (sentence rows: their paragraph's
    times the sentence weight); --era-balance 0 and a card without the field: none."""
    from policy_nlp import train as train_mod
    from policy_nlp.features import FeatureSpec

    seen = []
    real = train_mod.make_classifier

    class Spy:
        def __init__(self, config):
            self.clf = real(config)

        def fit(self, X, y, sample_weight=None):
            seen.append(sample_weight)
            self.clf.fit(X, y, sample_weight=sample_weight)
            return self.clf

    monkeypatch.setattr(train_mod, "make_classifier", Spy)
    data = load_table(dated_table)
    # one report of the first era dropped: the eras are no longer the same size
    data = data.subset([i for i, g in enumerate(data.groups) if g != "fixture/r0"])
    # paragraphs of two sentences, one with a secondary theme: there are sentence rows
    data.texts = [t + t for t in data.texts]
    data.secondary[0] = ["industry"]
    spec = FeatureSpec(min_df=1)
    train_mod.train(data, config=TrainConfig(features=spec, cv_folds=0, era_balance=1.0))
    (w,) = seen
    expected = train_mod.era_weights(data.years, 1.0)
    assert np.allclose(w[:len(data)], expected)
    assert w[0] != w[-1]
    sentences = train_mod.sentence_rows(data, TrainConfig(features=spec))
    assert len(w) == len(data) + len(sentences.texts) > len(data)
    assert np.allclose(w[len(data):], 0.1 * expected[sentences.owner])
    seen.clear()
    train_mod.train(data, config=TrainConfig(features=spec, cv_folds=0, era_balance=0.0))
    assert np.allclose(seen[0], np.r_[np.ones(len(data)), np.full(len(w) - len(data), 0.1)])
    assert TrainConfig.from_card({"training": {"C": 0.5}}).era_balance == 0.0
    assert TrainConfig.from_card({}).era_balance == TrainConfig().era_balance
