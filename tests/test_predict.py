"""The prediction fields of a probability matrix: rounded as Python's ``round`` does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_nlp.model import load_model
from policy_nlp.predict import prediction_records, round4

# x * 1e4 is at or next to a half: np.round (rint(x * 1e4) / 1e4) and round(x, 4) can part
NEAR_TIES = [0.12345, 5e-05, 0.00015, 0.99995, 0.03125, 0.00125, 0.50005, 0.33335, 0.0]


def python_round(rows: list[list[float]]) -> list[list[float]]:
    return [[round(v, 4) for v in row] for row in rows]


def test_round4_rounds_near_ties_as_python_does():
    values = np.array([NEAR_TIES, NEAR_TIES[::-1]])
    # the crafted values do catch numpy's rounding out (so the fix-up is needed) ...
    assert np.round(0.12345, 4) == 0.1234 and round(0.12345, 4) == 0.1235
    assert np.round(5e-05, 4) == 0.0 and round(5e-05, 4) == 0.0001
    # ... and round4 gives Python's value, as a Python float
    got = round4(values)
    assert got == python_round(values.tolist())
    assert got[0][:2] == [0.1235, 0.0001]
    assert all(type(v) is float for row in got for v in row)


@given(st.lists(st.integers(0, 20_000), min_size=1, max_size=50), st.integers(-3, 3))
def test_round4_equals_round_next_to_every_half(halves, ulps):
    """Odd multiples of 1/20000 (the halves) and the doubles a few steps either side."""
    values = np.array([k / 20_000 for k in halves])
    for _ in range(abs(ulps)):
        values = np.nextafter(values, np.inf if ulps > 0 else -np.inf)
    assert round4(values[None, :]) == python_round(values[None, :].tolist())


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_round4_equals_round_on_any_probability(values):
    assert round4(np.array([values])) == python_round([values])


def test_round4_keeps_float32_values_as_python_would_see_them():
    values = np.array([[0.12345, 0.3, 0.66655]], dtype=np.float32)
    assert round4(values) == python_round(values.tolist())


def test_prediction_records_round_scores_top_and_label(tiny_model_dir):
    model = load_model(tiny_model_dir)
    n = len(model.themes)
    proba = np.full((2, n), 0.01)
    proba[0, 3], proba[0, 5], proba[0, 7] = 0.12345, 0.5, 5e-05  # ties of the rounding
    proba[1, 2], proba[1, 0] = 0.7, 0.12345
    recs = list(prediction_records(model, proba))
    assert recs[0]["label"] == model.themes[5] and recs[0]["score"] == 0.5
    assert recs[0]["top"][1] == [model.themes[3], 0.1235]
    assert recs[0]["scores"][model.themes[7]] == 0.0001
    assert recs[1]["top"][:2] == [[model.themes[2], 0.7], [model.themes[0], 0.1235]]
    assert list(recs[1]["scores"].values()) == python_round(proba.tolist())[1]
    assert recs[1]["group"] == model.theme_groups.get(model.themes[2], "")


@pytest.mark.parametrize("top", [1, 3, 5])
def test_prediction_records_give_top_k(tiny_model_dir, top):
    model = load_model(tiny_model_dir)
    proba = np.linspace(0.0, 1.0, len(model.themes))[None, :]
    (rec,) = prediction_records(model, proba, top=top)
    assert [t for t, _ in rec["top"]] == model.themes[::-1][:top]
