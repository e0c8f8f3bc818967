"""Evidence from the model's own weights: explain_text, top_terms and their commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.errors import InputError
from policy_nlp.explain import explain_text, feature_term, readable_term, top_terms
from policy_nlp.model import load_model

from .conftest import FIXTURES

TEXT = "严格落实中央八项规定精神，持续纠治四风，政府带头过紧日子，一般性支出压减百分之十。"
runner = CliRunner()


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_contributions_add_up_to_the_score(model):
    found = explain_text(model, TEXT, top=10_000, readable=False)
    k = model.themes.index(found.theme)
    assert found.theme == "integrity" == model.predict([TEXT])[0]
    assert found.score == pytest.approx(model.decision_function([TEXT])[0, k])
    cols, vals = model.featurizer.transform_one(TEXT)
    everything = float(vals @ model.coef[k, cols].astype(np.float64))
    positive = sum(c.contribution for c in found.terms)
    assert positive >= everything  # the listed terms are all the positive ones
    assert found.intercept + everything == pytest.approx(found.score)
    assert found.probability == pytest.approx(model.predict_proba([TEXT])[0, k])


def test_terms_are_the_texts_and_ranked(model):
    found = explain_text(model, TEXT, top=5)
    assert len(found.terms) == 5
    contributions = [c.contribution for c in found.terms]
    assert contributions == sorted(contributions, reverse=True) and contributions[-1] > 0
    for c in found.terms:
        assert c.contribution == pytest.approx(c.tfidf * c.weight)
        assert c.kind in ("char", "word")
        assert c.term.replace(" ", "") in TEXT
    assert "八项规定" in {c.term for c in found.terms}


def test_another_theme_can_be_explained(model):
    found = explain_text(model, TEXT, theme="economy", top=3)
    assert found.theme == "economy" and found.probability < 0.05
    with pytest.raises(InputError, match="unknown theme"):
        explain_text(model, TEXT, theme="sports")


def test_feature_term_maps_columns_to_names(model):
    names = model.featurizer.feature_names()
    for col in (0, 1, int(model.featurizer.offsets[1]), model.featurizer.n_features - 1):
        kind, term = feature_term(model, col)
        assert names[col] == f"{kind}:{term}"


def test_top_terms_are_the_largest_weights(model):
    k = model.themes.index("environment")
    terms = top_terms(model, "environment", 20, readable=False)
    assert len(terms) == 20
    weights = [t.weight for t in terms]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] == pytest.approx(float(model.coef[k].max()))
    assert weights[-1] == pytest.approx(float(np.sort(model.coef[k])[-20]))
    assert {"生态", "碳"} <= {t.term for t in terms}


def test_readable_terms_leave_out_characters_punctuation_and_repeats(model):
    terms = top_terms(model, "environment", 30)
    assert len(terms) == 30
    weights = [t.weight for t in terms]
    assert weights == sorted(weights, reverse=True)
    surfaces = [t.term.replace(" ", "") for t in terms]
    assert all(len(s) >= 2 and any(c.isalnum() for c in s) for s in surfaces)
    assert len(set(surfaces)) == len(surfaces)  # a word and a character n-gram listed once
    raw = top_terms(model, "environment", 30, readable=False)
    assert any(len(t.term) == 1 for t in raw), "the test needs single characters to drop"
    found = explain_text(model, TEXT, top=10)
    assert all(readable_term(c.term) for c in found.terms)
    assert any(not readable_term(c.term)
               for c in explain_text(model, TEXT, top=10_000, readable=False).terms)


def test_explain_command():
    result = runner.invoke(app, ["explain", "--text", TEXT, "--top", "4"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("theme   integrity")
    assert "= intercept" in lines[2]
    assert len([line for line in lines if line.endswith(tuple("0123456789"))]) >= 4
    as_json = json.loads(runner.invoke(app, ["explain", "--text", TEXT, "--json",
                                             "--theme", "governance"]).stdout)
    assert as_json["theme"] == "governance" and len(as_json["terms"]) <= 10
    bad = runner.invoke(app, ["explain", "--text", TEXT, "--theme", "sports"])
    assert bad.exit_code == 2 and "unknown theme" in bad.stderr
    for nothing in ("", "。。。", " ，！ "):
        bad = runner.invoke(app, ["explain", "--text", nothing])
        assert bad.exit_code == 2 and "nothing to explain" in bad.stderr, bad.stdout


def test_themes_command():
    plain = runner.invoke(app, ["themes"])
    assert plain.exit_code == 0
    assert len(plain.stdout.splitlines()) == 17 and "生态环境保护" in plain.stdout
    result = runner.invoke(app, ["themes", "--top-terms", "20", "--json"])
    themes = json.loads(result.stdout)
    assert len(themes) == 17 and all(len(t["top_terms"]) == 20 for t in themes)
    one = runner.invoke(app, ["themes", "--top-terms", "3", "--theme", "integrity"])
    assert one.stdout.splitlines()[0].startswith("integrity") and len(one.stdout.splitlines()) == 5


def test_classify_explain(tiny_model_dir):
    result = runner.invoke(app, ["classify", str(FIXTURES / "report.txt"), "--explain",
                                 "--explain-terms", "3", "-f", "jsonl", "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.stderr
    for rec in map(json.loads, result.stdout.splitlines()):
        assert 0 < len(rec["evidence"]) <= 3
        assert {"term", "kind", "tfidf", "weight", "contribution"} == set(rec["evidence"][0])
    table = runner.invoke(app, ["classify", "--text", TEXT, "--explain"])
    assert "evidence" in table.stdout.splitlines()[0] and "八项规定:+" in table.stdout
