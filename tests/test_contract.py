"""The labeling contract in detail: record modes, ids, colliding fields, CSV columns, files."""

import json
import os
import stat

import numpy as np
import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.errors import InputError
from policy_nlp.features import FeatureSpec
from policy_nlp.predict import iter_units
from policy_nlp.read import iter_documents
from policy_nlp.tokenize import tokenize
from policy_nlp.train import TrainConfig, _fit, model_from_fitted

from .conftest import FIXTURES, assert_no_traceback

runner = CliRunner()


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_array_model_scores_equal_sklearn_scores(fixture_data):
    """The model's arrays replay the fitted classifier's decision function (the featurizer's
    equality with scikit-learn's TF-IDF is tested in test_features.py)."""
    import numpy.testing as npt

    config = TrainConfig(features=FeatureSpec(min_df=2))
    themes = ["economy", "environment", "integrity", "livelihood", "general"]
    y = np.array([themes.index(t) for t in fixture_data.labels])
    tokens = [tokenize(t) for t in fixture_data.texts]
    featurizer, clf = _fit(fixture_data.texts, tokens, y, config)
    model = model_from_fitted(featurizer, clf, themes, config)
    probe = fixture_data.texts + ["推进碳中和，加强审计监督。", "全新的表述方式"]
    expected = clf.decision_function(featurizer.transform(probe))
    got = model.decision_function(probe)
    npt.assert_allclose(got[:, :4], expected, rtol=1e-5, atol=1e-5)
    assert (got[:, 4] < -100).all()  # a theme never seen in training is never chosen


def test_record_modes(tmp_path):
    src = _jsonl(tmp_path / "r.jsonl", [
        {"id": "p1", "text": "推进碳中和，\n加快绿色转型。"},
        {"id": "r1", "text": "各位代表：\n现在，我代表市政府报告工作。\n一、回顾\n就业稳定。"},
    ])
    para = list(iter_units(iter_documents([src]), records="paragraphs"))
    assert [u.id for u in para] == ["p1", "r1"]
    reports = list(iter_units(iter_documents([src]), records="reports"))
    assert [u.id for u in reports] == ["p1#000", "r1#000", "r1#001"]
    assert reports[2].fields["section"] == ["一、回顾"]
    with pytest.raises(ValueError):
        list(iter_units(iter_documents([src]), records="sentences"))


def test_label_keeps_ids_as_given_and_renames_colliding_fields(tmp_path, tiny_model_dir):
    src = _jsonl(tmp_path / "in.jsonl", [
        {"id": 7, "text": "推进碳达峰碳中和。", "label": "environment", "score": 1},
        {"id": "b", "text": "城镇新增就业三万人。"},
    ])
    result = runner.invoke(app, ["label", str(src), "-o", "-", "-m", str(tiny_model_dir),
                                 "--no-progress"])
    assert result.exit_code == 0, result.stderr
    recs = [json.loads(line) for line in result.stdout.splitlines()]
    assert recs[0]["id"] == 7 and recs[1]["id"] == "b"
    assert recs[0]["input_label"] == "environment" and recs[0]["input_score"] == 1
    assert recs[0]["label"] in recs[0]["scores"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_relabeling_an_output_loses_none_of_its_fields(tmp_path, tiny_model_dir, fmt):
    """An output of label labeled again (by a new model, say) has 'label' beside the
    'input_label' of its first run, and as CSV the score_<theme> columns: the renamed field
    replaced the other, and the CSV's score columns replaced the input's, unseen."""
    src = _jsonl(tmp_path / "in.jsonl", [
        {"id": "a", "text": "推进碳达峰碳中和。", "input_label": "environment",
         "label": "economy", "score_economy": 0.91, "score": 0.5},
    ])
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["label", str(src), "-o", str(out), "-m", str(tiny_model_dir),
                                 "--no-progress"])
    assert result.exit_code == 0, result.stderr
    if fmt == "jsonl":
        rec = json.loads(out.read_text("utf-8"))
        assert float(rec["score_economy"]) == 0.91
    else:
        import csv

        with out.open(encoding="utf-8-sig", newline="") as fh:
            rec = next(csv.DictReader(fh))
        assert float(rec["input_score_economy"]) == 0.91
        result = runner.invoke(app, ["label", str(src), "-o", "-", "-m", str(tiny_model_dir),
                                     "--no-progress"])
        predicted = json.loads(result.stdout)["scores"]["economy"]
        assert float(rec["score_economy"]) == predicted != 0.91  # the model's
    assert rec["input_label"] == "environment" and rec["input_input_label"] == "economy"
    assert float(rec["input_score"]) == 0.5


@pytest.mark.parametrize("text", ["", "   ", "。。。！！", "——"])
def test_records_without_text_are_errors(tmp_path, tiny_model_dir, text):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "稳增长。"}, {"id": "b",
                                                                          "text": text}])
    with pytest.raises(InputError, match="in.jsonl:2"):
        list(iter_units(iter_documents([src])))
    result = runner.invoke(app, ["classify", "--text", text or " ", "-m", str(tiny_model_dir)])
    assert result.exit_code == 2 and "nothing to classify" in result.stderr


def test_csv_output_has_every_column_of_mixed_inputs(tmp_path, tiny_model_dir):
    a = _jsonl(tmp_path / "a.jsonl", [{"id": "a1", "text": "稳增长，扩内需。"}])
    b = _jsonl(tmp_path / "b.jsonl", [{"id": "b1", "text": "推进碳中和。", "region": "某省"}])
    out = tmp_path / "mix.csv"
    result = runner.invoke(app, ["label", str(a), str(b), str(FIXTURES / "report.txt"),
                                 "-o", str(out), "-m", str(tiny_model_dir), "--no-progress"])
    assert result.exit_code == 0, result.stderr
    import csv

    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 + 6
    assert rows[1]["region"] == "某省" and rows[0]["region"] == ""
    assert rows[2]["report_id"] == "report" and rows[2]["paragraph"] == "0"
    assert rows[4]["section"] == "一、2030年工作回顾"


def test_output_file_is_readable_like_any_new_file(tmp_path, tiny_model_dir):
    out = tmp_path / "out.jsonl"
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "稳增长。"}])
    old = os.umask(0o022)
    try:
        result = runner.invoke(app, ["label", str(src), "-o", str(out), "-m",
                                     str(tiny_model_dir)])
    finally:
        os.umask(old)
    assert result.exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


@pytest.mark.parametrize("folds", ["1", "-2"])
def test_cv_folds_of_one_or_negative_are_refused(folds, tmp_path, tiny_model_dir):
    for argv in (["train", "--labels", str(FIXTURES / "labeled.jsonl"), "-o",
                  str(tmp_path / "m"), "--cv-folds", folds],
                 ["evaluate", "--labels", str(FIXTURES / "labeled.jsonl"), "-m",
                  str(tiny_model_dir), "--cv-folds", folds]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 2, result.stderr
        assert "--cv-folds must be 0" in result.stderr
        assert_no_traceback(result)


def test_training_table_without_reports_warns_and_says_so(tmp_path):
    src = tmp_path / "coded.csv"
    lines = ["text,label"] + [f"{t},{lbl}" for t, lbl in [
        ("稳增长扩内需。", "economy"), ("推进碳中和。", "environment"),
        ("地区生产总值增长。", "economy"), ("空气质量改善。", "environment")]]
    src.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", "--labels", str(src), "-o", str(out),
                                 "--cv-folds", "2", "--min-df", "1", "-j", "1"])
    assert result.exit_code == 0, result.stderr
    assert "optimistic" in result.stderr
    card = json.loads((out / "model.json").read_text("utf-8"))
    assert card["metrics"]["cross_validation"]["grouped_by"] == "row"


def test_duplicate_ids_are_checked_within_a_memory_bound(tmp_path, monkeypatch):
    from policy_nlp import read
    from policy_nlp.read import SkipAndReport

    src = _jsonl(tmp_path / "in.jsonl", [{"id": i, "text": "稳增长。"} for i in
                                         ("a", "b", "c", "a", "c")])
    monkeypatch.setattr(read.documents, "UNIQUE_ID_LIMIT", 2)
    reports = []
    policy = SkipAndReport(report=reports.append)
    docs = list(iter_documents([src], on_error=policy, unique_ids=True))
    assert len(docs) == 5  # duplicates are kept, only reported
    assert len(reports) == 1 and "duplicate id 'a'" in reports[0]  # 'c' came after the bound


def test_records_carry_the_group_of_their_theme(tiny_model_dir, tmp_path):
    from policy_nlp.codebook import load_codebook

    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "推进碳达峰碳中和。"},
                                         {"id": "b", "text": "严格落实八项规定。"}])
    result = runner.invoke(app, ["label", str(src), "-o", "-", "-m", str(tiny_model_dir),
                                 "--no-progress"])
    assert result.exit_code == 0, result.stderr
    book = load_codebook()
    for rec in map(json.loads, result.stdout.splitlines()):
        assert rec["group"] == book.group_of(rec["label"])


def test_a_record_without_text_is_skipped_and_reported_like_any_bad_record(tmp_path,
                                                                            tiny_model_dir):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "稳增长。"},
                                         {"id": "b", "text": "。。。"},
                                         {"id": [1], "text": "推进碳中和。"},
                                         {"id": "c", "text": "推进碳中和。"}])
    result = runner.invoke(app, ["label", str(src), "-o", "-", "-m", str(tiny_model_dir),
                                 "--no-progress"])
    assert result.exit_code == 5, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "c"]
    assert "in.jsonl:2: no text to classify" in result.stderr
    assert "in.jsonl:3: the id field 'id' must be a string or a number" in result.stderr
