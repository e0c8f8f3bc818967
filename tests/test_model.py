import json
import pickle

import numpy as np
import pytest

from policy_nlp.errors import InputError, ModelError
from policy_nlp.model import CARD, VOCAB, WEIGHTS, load_model, read_card, softmax

PROBE = ["空气质量持续改善，推进碳中和。", "城镇新增就业三万人。", "严格落实八项规定精神。"]


def test_round_trip_gives_identical_predictions(tiny_model_dir, fixture_data, tmp_path):
    model = load_model(tiny_model_dir)
    again = load_model(model.save(tmp_path / "copy"))
    np.testing.assert_array_equal(model.predict_proba(fixture_data.texts + PROBE),
                                  again.predict_proba(fixture_data.texts + PROBE))
    assert again.themes == model.themes
    assert again.secondary_threshold == model.secondary_threshold


def test_probabilities_are_valid(tiny_model_dir):
    proba = load_model(tiny_model_dir).predict_proba(PROBE + ["", "abc"])
    assert proba.shape == (5, 17)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba >= 0).all()


def test_learns_the_fixture_themes(tiny_model_dir):
    assert load_model(tiny_model_dir).predict(PROBE) == ["environment", "livelihood", "integrity"]


def test_predict_proba_rejects_a_bare_string(tiny_model_dir):
    with pytest.raises(TypeError, match="list of texts"):
        load_model(tiny_model_dir).predict_proba("一段文字")


def test_model_files_hold_no_pickles(tiny_model_dir):
    with np.load(tiny_model_dir / WEIGHTS, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    json.loads((tiny_model_dir / VOCAB).read_text("utf-8"))


def test_an_object_array_is_never_unpickled_even_with_a_matching_hash(tiny_model_dir,
                                                                       tmp_path):
    """Someone rewrites weights.npz with a pickled object array and fixes the hash."""
    from policy_nlp.model import sha256_file

    bad = load_model(tiny_model_dir).save(tmp_path / "m")
    with np.load(bad / WEIGHTS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["coef"] = np.array([{"payload": 1}], dtype=object)
    np.savez(bad / WEIGHTS, **arrays)
    card = json.loads((bad / CARD).read_text("utf-8"))
    card["files"][WEIGHTS] = sha256_file(bad / WEIGHTS)
    (bad / CARD).write_text(json.dumps(card), "utf-8")
    with pytest.raises(ModelError, match="corrupt model"):
        load_model(bad)


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    return load_model(tiny_model_dir).save(tmp_path / "m")


def test_tampered_weights_are_refused(model_copy):
    path = model_copy / WEIGHTS
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 does not match"):
        load_model(model_copy)


def test_replaced_weights_pickle_is_refused(model_copy):
    """A weights file swapped for a pickle (which would run code) never gets unpickled."""
    (model_copy / WEIGHTS).write_bytes(pickle.dumps({"coef": np.zeros(3)}))
    with pytest.raises(ModelError, match="sha256 does not match"):
        load_model(model_copy)


def test_tampered_vocabulary_is_refused(model_copy):
    vocab = json.loads((model_copy / VOCAB).read_text("utf-8"))
    vocab["char"][0] = "篡改"
    (model_copy / VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
    with pytest.raises(ModelError, match="sha256"):
        load_model(model_copy)


def test_missing_and_corrupt_model_directories(model_copy, tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model directory"):
        load_model(tmp_path / "empty")
    (model_copy / WEIGHTS).unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(model_copy)
    (model_copy / CARD).write_text("{not json", "utf-8")
    with pytest.raises(ModelError, match="corrupt model card"):
        read_card(model_copy)


def test_card_with_wrong_shape_is_refused(model_copy):
    card = json.loads((model_copy / CARD).read_text("utf-8"))
    card["themes"] = card["themes"][:-1]
    (model_copy / CARD).write_text(json.dumps(card), "utf-8")
    with pytest.raises(ModelError, match="shape"):
        load_model(model_copy)


def test_save_replaces_an_existing_model_whole(tiny_model_dir, tmp_path):
    target = load_model(tiny_model_dir).save(tmp_path / "m")
    card = json.loads((target / CARD).read_text("utf-8"))
    card["created"] = "earlier"
    (target / CARD).write_text(json.dumps(card), "utf-8")
    load_model(tiny_model_dir).save(target)
    assert sorted(p.name for p in target.iterdir()) == sorted([CARD, WEIGHTS, VOCAB])
    assert json.loads((target / CARD).read_text("utf-8"))["created"] != "earlier"
    assert not list(tmp_path.glob(".m.*"))


def test_save_never_replaces_a_directory_that_is_not_a_model(tiny_model_dir, tmp_path):
    target = tmp_path / "thesis"
    target.mkdir()
    (target / "chapter1.docx").write_text("precious")
    with pytest.raises(InputError, match="not a policy-nlp model directory"):
        load_model(tiny_model_dir).save(target)
    assert (target / "chapter1.docx").read_text() == "precious"
    model_dir = load_model(tiny_model_dir).save(tmp_path / "m")
    (model_dir / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="refusing to replace"):
        load_model(tiny_model_dir).save(model_dir)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError):
        load_model(tiny_model_dir).save(tmp_path / "file")


def test_secondary_respects_threshold_and_maximum(tiny_model_dir):
    model = load_model(tiny_model_dir)
    row = np.zeros(17)
    row[[0, 3, 5, 7]] = [0.4, 0.3, 0.2, 0.1]
    model.secondary_threshold, model.max_secondary = 0.15, 2
    assert model.secondary(row) == [model.themes[3], model.themes[5]]
    model.secondary_threshold = 0.25
    assert model.secondary(row) == [model.themes[3]]
    model.max_secondary = 0
    assert model.secondary(row) == []


def test_softmax_temperature():
    s = np.array([[2.0, 1.0, 0.0]])
    assert softmax(s, 1.0)[0, 0] < softmax(s, 0.5)[0, 0]
    np.testing.assert_allclose(softmax(s, 1e6)[0], 1 / 3, rtol=1e-5)


def test_a_model_trained_with_another_lexicon_warns_at_load(model_copy, caplog):
    card = json.loads((model_copy / CARD).read_text("utf-8"))
    assert "word" in card["feature_blocks"]
    with caplog.at_level("WARNING", logger="policy_nlp"):
        load_model(model_copy)
    assert not [r for r in caplog.records if "lexicon" in r.getMessage()]
    card["tokenizer"]["lexicon_sha256"] = "0" * 64
    (model_copy / CARD).write_text(json.dumps(card), "utf-8")
    with caplog.at_level("WARNING", logger="policy_nlp"):
        model = load_model(model_copy)
    assert any("another policy lexicon" in r.getMessage() for r in caplog.records)
    assert model.predict(PROBE) == ["environment", "livelihood", "integrity"]  # still runs


def test_secondary_of_a_whole_matrix_is_that_of_each_row(tiny_model_dir):
    model = load_model(tiny_model_dir)
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.full(17, 0.3), size=200)
    proba[0, [2, 4, 6]] = [0.3, 0.3, 0.3]  # ties at the threshold keep column order
    proba[0] /= proba[0].sum()
    for threshold, most in ((0.3, 2), (0.1, 2), (0.05, 3), (0.2, 0), (0.99, 2)):
        model.secondary_threshold, model.max_secondary = threshold, most
        assert model.secondary_matrix(proba) == [model.secondary(row) for row in proba]


def test_weights_are_stored_uncompressed_and_deflated_ones_still_load(model_copy, tmp_path):
    """A model's weights are saved as stored zip members (no inflating at every load); a model
    saved deflated, as before (the shipped models until they are retrained), loads the same."""
    import shutil
    import zipfile

    from policy_nlp.model import sha256_file

    with zipfile.ZipFile(model_copy / WEIGHTS) as zf:
        members = zf.infolist()
        assert {m.compress_type for m in members} == {zipfile.ZIP_STORED}
        raw = {m.filename: zf.read(m) for m in members}
    old = tmp_path / "deflated"
    shutil.copytree(model_copy, old)
    with zipfile.ZipFile(old / WEIGHTS, "w", zipfile.ZIP_DEFLATED) as zf:
        for m in members:
            zf.writestr(m, raw[m.filename], compress_type=zipfile.ZIP_DEFLATED)
    card = json.loads((old / CARD).read_text("utf-8"))
    card["files"][WEIGHTS] = sha256_file(old / WEIGHTS)
    (old / CARD).write_text(json.dumps(card, ensure_ascii=False), "utf-8")
    assert (old / WEIGHTS).stat().st_size < (model_copy / WEIGHTS).stat().st_size
    new, deflated = load_model(model_copy), load_model(old)
    np.testing.assert_array_equal(new.coef, deflated.coef)
    np.testing.assert_array_equal(new.predict_proba(PROBE), deflated.predict_proba(PROBE))
