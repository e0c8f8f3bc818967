import numpy as np
import pytest

from policy_nlp.errors import InputError
from policy_nlp.features import FeatureSpec
from policy_nlp.labels import LabeledData
from policy_nlp.model import softmax
from policy_nlp.train import (
    TrainConfig,
    fit_secondary_threshold,
    fit_temperature,
    predicted_set,
    train,
)


def test_card_records_provenance_and_metrics(tiny_model_dir, fixture_data):
    import json

    card = json.loads((tiny_model_dir / "model.json").read_text("utf-8"))
    assert len(card["themes"]) == 17
    assert card["data"]["sha256"] == fixture_data.sha256()
    assert card["data"]["counts"] == {"economy": 6, "environment": 6, "integrity": 6,
                                      "livelihood": 6}
    assert card["data"]["n_reports"] == 6
    assert set(card["libraries"]) >= {"scikit-learn", "numpy", "jieba", "python"}
    assert card["training"]["cv_folds"] == 3
    cv = card["metrics"]["cross_validation"]
    assert cv["grouped_by"] == "report" and cv["n"] == 24
    assert 0 <= cv["macro_f1"] <= 1 and 0 <= cv["accuracy"] <= 1
    assert set(cv["per_theme"]) == set(card["themes"])
    assert card["tokenizer"]["lexicon_sha256"]
    assert card["created"].endswith("+00:00")


def test_data_hash_changes_with_a_label(fixture_data):
    other = fixture_data.subset(range(len(fixture_data)))
    assert other.sha256() == fixture_data.sha256()
    other.labels[0] = "industry"
    assert other.sha256() != fixture_data.sha256()


def test_one_class_is_refused():
    data = LabeledData()
    for i in range(6):
        data.add(id=str(i), text=f"文本{i}", label="economy", secondary=[], group=str(i))
    with pytest.raises(InputError, match="one class"):
        train(data)


def test_too_few_reports_for_grouped_cv(fixture_data):
    two = fixture_data.subset([i for i, g in enumerate(fixture_data.groups)
                               if g in ("fixture/r0", "fixture/r1")])
    with pytest.raises(InputError, match="at least 5 reports"):
        train(two)
    with pytest.raises(InputError, match="lower --min-df"):
        train(two, config=TrainConfig(cv_folds=0))
    model = train(two, config=TrainConfig(features=FeatureSpec(min_df=1), cv_folds=0))
    assert model.card["metrics"]["cross_validation"] is None


def test_temperature_fit_lowers_the_log_loss():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    scores = rng.normal(size=(400, 4))
    scores[np.arange(400), y] += 1.0
    scores *= 5  # overconfident scores
    t = fit_temperature(scores, y)

    def nll(temp):
        return -np.mean(np.log(softmax(scores, temp)[np.arange(400), y]))

    assert t > 1.5
    assert nll(t) < nll(1.0)
    assert nll(t) <= min(nll(t * 1.2), nll(t / 1.2))


def test_secondary_threshold_found_on_data():
    # the second-best theme is gold exactly when its probability is >= 0.3
    rows, gold = [], []
    for p2 in np.linspace(0.05, 0.45, 41):
        rows.append([1 - p2, p2, 0.0])
        gold.append({0, 1} if p2 >= 0.3 else {0})
    t, f1 = fit_secondary_threshold(np.array(rows), gold, max_secondary=2)
    assert abs(t - 0.3) <= 0.011 and f1 == pytest.approx(1.0)
    assert predicted_set(np.array([0.5, 0.2, 0.3]), 0.25, 1) == {0, 2}


def test_vectorised_threshold_search_equals_the_set_by_set_definition():
    from policy_nlp.evaluate import set_f1

    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(6) * 0.4, size=300)
    gold = [set(rng.choice(6, size=rng.integers(1, 4), replace=False).tolist())
            for _ in range(300)]
    t, f1 = fit_secondary_threshold(proba, gold, max_secondary=2)
    assert f1 == pytest.approx(set_f1([predicted_set(r, t, 2) for r in proba], gold))
    for other in (0.05, 0.2, 0.45):
        assert set_f1([predicted_set(r, other, 2) for r in proba], gold) <= f1 + 1e-12
