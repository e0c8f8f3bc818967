"""Determinism: training twice on the same data with the same seed gives the same model.

``weights.npz`` and ``vocabulary.json`` are byte-identical (the weights file is written with a
fixed timestamp in its zip members, see ``model._savez_reproducible``). ``model.json`` differs
only in what says *when* and *how long*: ``created`` and ``training.seconds``; with those two
set aside it is identical too, and so are the predictions.
"""

from __future__ import annotations

import json
import time

import numpy as np

from policy_nlp.features import FeatureSpec
from policy_nlp.model import load_model
from policy_nlp.train import TrainConfig, train

TEXTS = ["推进碳达峰碳中和，空气质量持续改善。", "新增城镇就业三万人，提高养老金。",
         "严格落实中央八项规定精神。", "地区生产总值增长百分之五。"]


def _card_without_time(directory):
    card = json.loads((directory / "model.json").read_text("utf-8"))
    card.pop("created")
    card.get("training", {}).pop("seconds", None)
    return card


def test_training_twice_gives_identical_files(tmp_path, fixture_data):
    config = TrainConfig(features=FeatureSpec(min_df=1), cv_folds=3, seed=7, n_jobs=2)
    a = train(fixture_data, config=config).save(tmp_path / "a")
    time.sleep(2.1)  # a zip member's time has 2-second resolution: make it differ if it leaked
    b = train(fixture_data, config=config).save(tmp_path / "b")
    for name in ("weights.npz", "vocabulary.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _card_without_time(a) == _card_without_time(b)
    pa, pb = load_model(a).predict_proba(TEXTS), load_model(b).predict_proba(TEXTS)
    assert np.array_equal(pa, pb)


def test_another_seed_changes_only_what_the_seed_drives(tmp_path, fixture_data):
    a = train(fixture_data, config=TrainConfig(features=FeatureSpec(min_df=1), cv_folds=3,
                                               seed=1, n_jobs=1)).save(tmp_path / "a")
    b = train(fixture_data, config=TrainConfig(features=FeatureSpec(min_df=1), cv_folds=3,
                                               seed=2, n_jobs=1)).save(tmp_path / "b")
    # the vocabulary does not depend on the seed; the card records which seed was used
    assert (a / "vocabulary.json").read_bytes() == (b / "vocabulary.json").read_bytes()
    assert _card_without_time(a)["training"]["seed"] == 1
    assert _card_without_time(b)["training"]["seed"] == 2
