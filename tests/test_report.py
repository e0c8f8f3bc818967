import json

import numpy as np
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.report import reliability_bins

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
