"""compare: two models on the same labels, with a paired bootstrap over reports."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.compare import compare_models, paired_bootstrap
from policy_nlp.features import FeatureSpec
from policy_nlp.model import load_model
from policy_nlp.train import TrainConfig, train

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def worse_model_dir(tmp_path_factory, fixture_data):
    """Trained on the fixture with the labels of half the reports rotated to a wrong theme."""
    rotate = {"economy": "environment", "environment": "livelihood",
              "livelihood": "integrity", "integrity": "economy"}
    data = fixture_data.subset(range(len(fixture_data)))
    data.labels = [rotate[lbl] if g in ("fixture/r0", "fixture/r1", "fixture/r2") else lbl
                   for lbl, g in zip(data.labels, data.groups, strict=True)]
    config = TrainConfig(features=FeatureSpec(min_df=1), cv_folds=0, n_jobs=1)
    return train(data, config=config).save(tmp_path_factory.mktemp("models") / "worse")


def test_worse_model_is_found_worse(tiny_model_dir, worse_model_dir, fixture_data):
    good, bad = load_model(tiny_model_dir), load_model(worse_model_dir)
    result = compare_models(good, bad, fixture_data, n_boot=1000, seed=0)
    assert result["diff"]["macro_f1"] < -0.2
    lo, hi = result["bootstrap"]["macro_f1_diff_ci95"]
    assert lo <= result["diff"]["macro_f1"] <= hi and hi < 0
    assert result["bootstrap"]["share_second_not_better"] == 1.0
    assert result["bootstrap"]["reports"] == 6
    assert set(result["per_theme"]) == {"economy", "environment", "livelihood", "integrity"}
    assert all(m["support"] == 6 for m in result["per_theme"].values())
    # the same comparison the other way round mirrors it, and repeats with the seed
    back = compare_models(bad, good, fixture_data, n_boot=1000, seed=0)
    assert back["diff"]["macro_f1"] == -result["diff"]["macro_f1"]
    assert back["bootstrap"]["macro_f1_diff_ci95"][0] == pytest.approx(-hi, abs=1e-4)


def test_a_model_against_itself_has_a_zero_interval(tiny_model_dir, fixture_data):
    m = load_model(tiny_model_dir)
    result = compare_models(m, m, fixture_data, n_boot=200)
    assert result["bootstrap"]["macro_f1_diff_ci95"] == [0.0, 0.0]
    assert result["disagreements"] == 0


def test_bootstrap_resamples_whole_reports():
    # report a: model 2 right, model 1 wrong; report b: both right
    y = np.array([0, 1, 0, 1])
    p1 = np.array([1, 0, 0, 1])
    p2 = np.array([0, 1, 0, 1])
    out = paired_bootstrap(y, p1, p2, ["a", "a", "b", "b"], n_boot=2000, seed=1)
    lo, hi = out["macro_f1_diff_ci95"]
    # a draw holds report a 0, 1 or 2 times: differences 0, 0.5 or 1 only, never between
    assert lo == 0.0 and hi == 1.0
    assert 0.2 < out["share_second_not_better"] < 0.3  # P(a not drawn) = 1/4
    assert out == paired_bootstrap(y, p1, p2, ["a", "a", "b", "b"], n_boot=2000, seed=1)


def test_compare_command(tiny_model_dir, worse_model_dir, tmp_path):
    from .conftest import FIXTURES

    out = tmp_path / "cmp.json"
    result = run("compare", tiny_model_dir, worse_model_dir, "--labels",
                 FIXTURES / "labeled.jsonl", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert f"the first model ({tiny_model_dir}) is better" in result.stdout
    assert "95% CI [" in result.stdout and "integrity" in result.stdout
    assert "training paragraphs of" in result.stderr  # the tiny model was trained on them
    assert json.loads(out.read_text("utf-8"))["bootstrap"]["resamples"] == 1000
    bad = run("compare", tiny_model_dir, tmp_path / "nomodel", "--labels",
              FIXTURES / "labeled.jsonl")
    assert bad.exit_code == 3
