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
    with pytest.raises(InputError, match="cv_folds is 5, but cross-validation by report needs"):
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


def _two_sentence_data(fixture_data):
    """Paragraphs of two fixture sentences of the same theme; one with a secondary theme."""
    from policy_nlp.labels import LabeledData

    data = LabeledData()
    by_theme: dict[str, list[int]] = {}
    for i, lbl in enumerate(fixture_data.labels):
        by_theme.setdefault(lbl, []).append(i)
    for theme, rows in by_theme.items():
        for k in range(len(rows)):
            a, b = rows[k], rows[(k + 1) % len(rows)]
            text = fixture_data.texts[a].rstrip("。") + "。" + fixture_data.texts[b]
            data.add(id=f"{theme}{k}", text=text, label=theme, group=fixture_data.groups[a],
                     secondary=["economy"] if (theme, k) == ("livelihood", 0) else [])
    data.add(id="short", text="稳增长。" + fixture_data.texts[0], label="economy",
             secondary=[], group=fixture_data.groups[0])
    return data


def test_sentence_rows_are_the_sentences_of_single_theme_paragraphs(fixture_data):
    from policy_nlp.split import split_sentences
    from policy_nlp.train import MIN_SENTENCE_CHARS, sentence_rows

    data = _two_sentence_data(fixture_data)
    rows = sentence_rows(data, TrainConfig(sentence_weight=0.25))
    with_secondary = data.ids.index("livelihood0")
    short = data.ids.index("short")
    expected = [(i, s) for i, t in enumerate(data.texts) if i != with_secondary
                for s in split_sentences(t) if len(s) >= MIN_SENTENCE_CHARS]
    assert [(int(o), t) for o, t in zip(rows.owner, rows.texts, strict=True)] == expected
    assert with_secondary not in rows.owner
    assert "稳增长。" not in rows.texts and short in rows.owner  # the short one only is left out
    assert rows.weight == 0.25 and len(rows.tokens) == len(rows.texts)
    # the rows of some paragraphs, in data order
    texts, _, owners = rows.of(np.array([short, 0]))
    assert list(owners) == [0, 0, short] and texts[0] == expected[0][1]


def test_no_sentence_rows_without_weight_or_secondary_annotations(fixture_data):
    from policy_nlp.train import sentence_rows

    data = _two_sentence_data(fixture_data)
    assert sentence_rows(data, TrainConfig(sentence_weight=0.0)) is None
    data.secondary[:] = [[] for _ in data.secondary]  # labels that record no secondary themes
    assert sentence_rows(data, TrainConfig(sentence_weight=0.1)) is None


def test_training_with_sentence_rows(fixture_data):
    from policy_nlp.train import sentence_rows

    data = _two_sentence_data(fixture_data)
    n_rows = len(sentence_rows(data, TrainConfig()).texts)
    base = dict(features=FeatureSpec(min_df=1), cv_folds=0, n_jobs=1)
    with_rows = train(data, config=TrainConfig(sentence_weight=0.5, **base))
    without = train(data, config=TrainConfig(sentence_weight=0.0, **base))
    assert with_rows.card["data"]["sentence_rows"] == n_rows > 0
    assert without.card["data"]["sentence_rows"] == 0
    assert with_rows.card["training"]["sentence_weight"] == 0.5
    assert not np.allclose(with_rows.coef, without.coef)
    # the recorded configuration is the one trained with; a card from before the sentence
    # rows (no sentence_weight recorded) was trained without them
    assert TrainConfig.from_card(with_rows.card).sentence_weight == 0.5
    old = {"training": {k: v for k, v in with_rows.card["training"].items()
                        if k != "sentence_weight"}}
    assert TrainConfig.from_card(old).sentence_weight == 0.0
    assert TrainConfig.from_card({}).sentence_weight == TrainConfig().sentence_weight


def test_train_config_checks_its_arguments_by_parameter_name():
    """The library names its parameters; the CLI shows the flag (test_cli, test_contract)."""
    from policy_nlp.errors import ArgumentError

    for kwargs, param in (({"cv_folds": 1}, "cv_folds"),
                          ({"sentence_weight": -1}, "sentence_weight"),
                          ({"era_balance": float("nan")}, "era_balance"), ({"C": 0}, "C"),
                          ({"n_jobs": 0}, "n_jobs"), ({"classifier": "forest"}, "classifier")):
        with pytest.raises(ArgumentError) as caught:
            TrainConfig(**kwargs)
        assert caught.value.param == param and str(caught.value).startswith(param + " ")
        assert "--" not in str(caught.value)


def test_cli_shows_a_library_parameter_as_its_flag():
    from policy_nlp.cli import flag_of

    assert [flag_of(p) for p in ("cv_folds", "n", "n_boot", "jobs", "n_jobs", "C")] == [
        "--cv-folds", "-n", "--resamples", "--jobs", "--jobs", "--C"]


def test_train_to_dir_checks_the_output_first_then_shows_the_labels_then_trains(tmp_path):
    """``train``'s one library call: a file where the model directory should go is refused
    before the labels are read (``checked`` never called); labels with an error are refused
    after ``checked`` saw them, writing nothing; good labels give a saved model whose card
    records the training time."""
    from policy_nlp.errors import InputError, PolicyNLPError
    from policy_nlp.features import FeatureSpec
    from policy_nlp.model import load_model
    from policy_nlp.train import TrainConfig, train_to_dir

    from .conftest import FIXTURES

    config = TrainConfig(features=FeatureSpec(min_df=1), cv_folds=0, n_jobs=1)
    seen = []
    in_the_way = tmp_path / "model.txt"
    in_the_way.write_text("not a model", "utf-8")
    with pytest.raises(PolicyNLPError):
        train_to_dir(in_the_way, str(FIXTURES / "labeled.jsonl"), config=config,
                     checked=lambda data, report: seen.append(report))
    assert seen == [] and in_the_way.read_text("utf-8") == "not a model"

    bad = tmp_path / "bad.jsonl"
    bad.write_text((FIXTURES / "labeled.jsonl").read_text("utf-8").replace(
        '"label": "economy"', '"label": "no_such_theme"', 1), "utf-8")
    with pytest.raises(InputError):
        train_to_dir(tmp_path / "m1", str(bad), config=config,
                     checked=lambda data, report: seen.append(report))
    assert len(seen) == 1 and seen[0].errors and not (tmp_path / "m1").exists()

    run = train_to_dir(tmp_path / "m2", str(FIXTURES / "labeled.jsonl"), config=config)
    card = load_model(tmp_path / "m2").card
    assert card["training"]["seconds"] == round(run.seconds, 1)
    assert card["data"]["n_paragraphs"] == len(run.data)
