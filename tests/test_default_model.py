"""The shipped default model (models/default) and the real corpus.

The model tests need only the repository; those that read ../shared skip where it is absent.
"""

import hashlib
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.codebook import DEFAULT_THEMES
from policy_nlp.model import SHIPPED_MODELS, default_model_dir, load_model, shipped_model_dir

MAX_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def default_model():
    return load_model()


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_models_are_small_and_use_the_codebook_ids(name):
    directory = shipped_model_dir(name)
    size = sum(p.stat().st_size for p in directory.iterdir())
    assert size < MAX_BYTES, f"{name} model is {size / 2**20:.1f} MiB"
    assert load_model(name).themes == list(DEFAULT_THEMES)
    assert default_model_dir() == shipped_model_dir("default")


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_cards_hold_honest_metrics(name):
    card = load_model(name).card
    cv = card["metrics"]["cross_validation"]
    assert cv["grouped_by"] == "report" and cv["folds"] == 5
    assert cv["macro_f1"] >= 0.85
    assert cv["n"] == card["data"]["n_paragraphs"]
    assert set(card["data"]["counts"]) == set(DEFAULT_THEMES)


def test_the_fast_model_has_character_features_only(default_model):
    fast = load_model("fast")
    assert [b.kind for b in fast.featurizer.blocks] == ["char"]
    assert [b.kind for b in default_model.featurizer.blocks] == ["char", "word"]


def test_a_directory_named_like_a_shipped_model_wins(tmp_path, monkeypatch, default_model):
    """``--model fast`` is the shipped model unless the user has a model folder called fast."""
    monkeypatch.chdir(tmp_path)
    assert load_model("fast").card["files"] == load_model(shipped_model_dir("fast")).card["files"]
    default_model.save(tmp_path / "fast")
    assert load_model("fast").card["files"] == default_model.card["files"]


def test_default_model_card_matches_the_shared_labels(default_model, shared):
    """The shipped model was trained on the shared labels as they are now."""
    files = default_model.card["data"]["files"]
    for name, path in (("train.jsonl", shared / "labels" / "train.jsonl"),
                       ("paragraphs.jsonl", shared / "corpus" / "paragraphs.jsonl")):
        assert files[name] == hashlib.sha256(path.read_bytes()).hexdigest(), (
            f"{name} changed since the default model was trained; retrain it (see README)")


def test_classify_the_readme_sample(shared):
    path = shared / "samples" / "raw" / "hailaer-2012-gb18030-crlf.txt"
    result = CliRunner().invoke(app, ["classify", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    recs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(recs) > 15
    assert recs[0]["text"].startswith("现在，我代表")
    assert len({r["label"] for r in recs}) >= 6
    assert all(r["label"] in DEFAULT_THEMES for r in recs)


def test_train_save_load_round_trip_on_real_labels(shared, tmp_path):
    """Train on a slice of the real labels, save, load: identical predictions."""
    from policy_nlp.labels import load_joined
    from policy_nlp.train import TrainConfig, train

    data = load_joined(shared / "labels" / "train.jsonl", shared / "corpus" / "paragraphs.jsonl")
    rng = np.random.default_rng(0)
    reports = sorted(set(data.groups))
    test_reports = set(rng.choice(reports, size=20, replace=False))
    train_idx = [i for i, g in enumerate(data.groups) if g not in test_reports][:1500]
    test_idx = [i for i, g in enumerate(data.groups) if g in test_reports]
    model = train(data.subset(train_idx), config=TrainConfig(cv_folds=0))
    test_texts = [data.texts[i] for i in test_idx]
    before = model.predict_proba(test_texts)
    after = load_model(model.save(tmp_path / "m")).predict_proba(test_texts)
    np.testing.assert_array_equal(before, after)
    # a real signal on reports it never saw
    y = [data.labels[i] for i in test_idx]
    acc = np.mean([model.themes[j] == t for j, t in zip(before.argmax(1), y, strict=True)])
    assert acc > 0.6


def test_the_fast_model_mostly_agrees_with_the_default(default_model, shared):
    texts = [json.loads(line)["text"] for line in
             (shared / "corpus" / "paragraphs.jsonl").read_text("utf-8").splitlines()[::7]]
    agree = np.mean(np.array(default_model.predict(texts)) ==
                    np.array(load_model("fast").predict(texts)))
    assert agree > 0.85, f"the two shipped models agree on only {agree:.1%} of paragraphs"


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_a_report_in_traditional_characters_is_labeled_as_its_simplified_twin(name, tmp_path):
    """The shipped models convert texts to simplified characters (card: features.simplify):
    the same themes and scores for both scripts, and the output keeps the text as given."""
    assert load_model(name).card["features"]["simplify"] is True
    # fixture text written for this test, once in each script
    simplified = ("一、加强国防建设\n\n我们要加强国防建设，提高人民解放军的战斗力，巩固国防。\n\n"
                  "二、发展农业生产\n\n农业合作社要增产粮食和棉花，帮助农民增加收入。\n")
    traditional = ("一、加強國防建設\n\n我們要加強國防建設，提高人民解放軍的戰鬥力，鞏固國防。\n\n"
                   "二、發展農業生產\n\n農業合作社要增產糧食和棉花，幫助農民增加收入。\n")
    out = {}
    for script, text in (("simplified", simplified), ("traditional", traditional)):
        path = tmp_path / f"{script}.txt"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(app, ["label", str(path), "--model", name, "-o",
                                          str(tmp_path / f"{script}.jsonl")])
        assert result.exit_code == 0, result.output
        out[script] = [json.loads(line) for line in
                       (tmp_path / f"{script}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["label"] for r in out["simplified"]] == ["defense_foreign", "agriculture_rural"]
    for s, t in zip(out["simplified"], out["traditional"], strict=True):
        assert (t["label"], t["score"], t["top"]) == (s["label"], s["score"], s["top"])
    assert out["traditional"][0]["text"].startswith("我們要加強")
