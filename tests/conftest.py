"""Shared fixtures: a tiny hand-written labeled corpus and a model trained on it.

Tests that need the real corpus use the ``shared`` fixture, which skips with a reason where
``../shared`` (beside the checkout) is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The property tests' example budget: fixed and derandomized, so that CI is fast and repeatable
# (the same examples every run). HYPOTHESIS_PROFILE=deep explores more, with random seeds.
settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None,
                          database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SHARED = HERE.parents[1] / "shared"


def fixture_rows() -> list[dict]:
    """The records of the fixture corpus (tests/fixtures/labeled.jsonl): 24 paragraphs of 6
    reports, 6 of each of 4 themes."""
    import json

    return [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]


def write_pool(path: Path) -> Path:
    """The fixture corpus as an unlabeled pool for ``suggest`` (id, report_id, text)."""
    import json

    path.write_text("".join(json.dumps({k: r[k] for k in ("id", "report_id", "text")},
                                       ensure_ascii=False) + "\n" for r in fixture_rows()),
                    "utf-8")
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "labels" / "train.jsonl").is_file():
        pytest.skip(f"{SHARED} is absent: the shared corpus and labels sit beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def fixture_data():
    from policy_nlp.labels import load_table

    return load_table(FIXTURES / "labeled.jsonl")


@pytest.fixture(scope="session")
def tiny_codebook():
    """The default codebook cut to the four themes of the fixture corpus."""
    from policy_nlp.codebook import Codebook, load_codebook

    book = load_codebook().to_dict()
    keep = {"economy", "environment", "livelihood", "integrity"}
    book["themes"] = [t for t in book["themes"] if t["id"] in keep]
    book["name"] = "fixture-4"
    return Codebook.from_dict(book)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, fixture_data):
    """A model trained on the fixture corpus (full 17-theme codebook, 3-fold CV)."""
    from policy_nlp.features import FeatureSpec
    from policy_nlp.train import TrainConfig, train

    config = TrainConfig(features=FeatureSpec(min_df=1), cv_folds=3, n_jobs=1)
    model = train(fixture_data, config=config)
    return model.save(tmp_path_factory.mktemp("models") / "tiny")


def assert_no_traceback(result) -> None:
    """A CliRunner result ended by the CLI's own exit, not by an uncaught exception (CliRunner
    keeps an uncaught exception in ``result.exception`` instead of printing its traceback)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}")
