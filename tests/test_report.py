import json

import numpy as np
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.html_report import reliability_bins

from .conftest import FIXTURES


def test_reliability_bins_are_computed_from_the_data():
    conf = np.array([0.05, 0.15, 0.95, 0.92, 0.91])
    correct = np.array([False, True, True, True, False])
    bins = reliability_bins(conf, correct)
    assert [b[2] for b in bins] == [1, 1, 3]
    assert bins[2][1] == 2 / 3 and abs(bins[2][0] - np.mean([0.95, 0.92, 0.91])) < 1e-12


def test_evaluate_writes_an_offline_html_report(tiny_model_dir, tmp_path):
    out = tmp_path / "report"
    metrics = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(FIXTURES / "labeled.jsonl"),
                                      "-m", str(tiny_model_dir), "--report", str(out),
                                      "-o", str(metrics)])
    assert result.exit_code == 0, result.stderr
    page = (out / "index.html").read_text("utf-8")
    for png in ("confusion.png", "reliability.png"):
        assert f"src='{png}'" in page
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = json.loads(metrics.read_text("utf-8"))
    assert f"{m['macro_f1']:.4f}" in page
    assert "integrity" in page and "<script" not in page and "http" not in page
    assert "By theme group" in page and f"macro-F1 {m['groups']['macro_f1']:.4f}" in page


def test_evaluate_cross_validation_with_learning_curve(tiny_model_dir, tmp_path, fixture_data):
    """--cv-folds retrains the model's configuration; the curve has one point per size."""
    out = tmp_path / "report"
    metrics = tmp_path / "m.json"
    # the tiny model was trained with min_df=1, so its configuration fits 16 paragraphs
    result = CliRunner().invoke(app, ["evaluate", "--labels", str(FIXTURES / "labeled.jsonl"),
                                      "-m", str(tiny_model_dir), "--cv-folds", "3",
                                      "--learning-curve", "-j", "1", "--report", str(out),
                                      "-o", str(metrics)])
    assert result.exit_code == 0, result.stderr
    m = json.loads(metrics.read_text("utf-8"))
    assert m["grouped_by"] == "report" and m["n"] == len(fixture_data)
    assert "ece_uncalibrated" in m
    curve = m["learning_curve"]
    assert [p["n_train"] for p in curve] == sorted(p["n_train"] for p in curve)
    assert curve[-1]["n_train"] == 16
    assert (out / "learning_curve.png").is_file()


def test_cross_validation_retrains_with_the_model_s_own_tokenizer(tiny_model_dir, tmp_path,
                                                                  fixture_data, monkeypatch):
    """A model trained with the jieba backend is cross-validated with jieba, not the default."""
    import policy_nlp.train as train_module
    from policy_nlp.evaluate import evaluate_configuration
    from policy_nlp.model import load_model

    model = load_model(tiny_model_dir)
    model.card["features"] = dict(model.card["features"], tokenizer="jieba")
    seen = set()
    real = train_module.tokenize

    def spy(text, backend="rjieba"):
        seen.add(backend)
        return real(text, backend)

    monkeypatch.setattr(train_module, "tokenize", spy)
    metrics, reliability, curve = evaluate_configuration(model, fixture_data, cv_folds=3,
                                                         n_jobs=1)
    assert seen == {"jieba"}
    assert metrics["n"] == len(fixture_data) and curve is None
    assert len(reliability) == 2  # before and after calibration


def test_evaluate_checks_its_output_places_before_the_work(tiny_model_dir, tmp_path):
    (tmp_path / "afile").write_text("x")
    args = ["evaluate", "--labels", str(FIXTURES / "labeled.jsonl"), "-m", str(tiny_model_dir)]
    bad = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "afile")])
    assert bad.exit_code == 2 and "is a file, expected a directory" in bad.stderr
    bad = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "nodir" / "m.json")])
    assert bad.exit_code == 2 and "does not exist" in bad.stderr
    assert "macro-F1" not in bad.stdout
