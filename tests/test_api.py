"""The notebook API: from policy_nlp import load_model, answers as pandas DataFrames."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import policy_nlp
from policy_nlp.errors import InputError
from policy_nlp.model import ThemeModel

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    from policy_nlp import load_model

    return load_model(tiny_model_dir)


def test_importing_the_package_stays_cheap():
    code = ("import sys, policy_nlp; "
            "print(sorted(m for m in ('pandas', 'sklearn', 'matplotlib', 'numpy', 'jieba') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert {"load_model", "Model"} <= set(dir(policy_nlp))
    with pytest.raises(AttributeError):
        policy_nlp.no_such_name  # noqa: B018


def test_the_old_entry_points_stay(tiny_model_dir):
    from policy_nlp.model import load_model

    assert isinstance(load_model(tiny_model_dir), ThemeModel)
    assert load_model(tiny_model_dir).predict(["推进碳达峰碳中和。"]) == ["environment"]


def test_predict(model):
    texts = pd.Series(["推进碳达峰碳中和。", "严格落实中央八项规定精神。"], index=["a", "b"])
    frame = model.predict(texts)
    assert list(frame.index) == ["a", "b"]
    assert frame["label"].tolist() == ["environment", "integrity"]
    assert {"score", "secondary", "top", "score_general"} <= set(frame.columns)
    assert "text" not in frame.columns  # the caller has it: df.join(...) must not clash
    assert "text" in model.predict(list(texts)).columns
    scores = frame[[f"score_{t}" for t in model.themes]]
    assert scores.sum(axis=1).to_numpy() == pytest.approx(1, abs=1e-3)
    by_sentence = model.predict(["推进碳达峰碳中和。严格落实中央八项规定精神。"], unit="sentence")
    assert set(by_sentence.loc[0, "themes"]) == {"environment", "integrity"}
    with pytest.raises(TypeError, match="not one string"):
        model.predict("推进碳达峰碳中和。")


def test_predict_a_dataframe_joins_back_to_it(model):
    df = pd.DataFrame({"doc": ["r1", "r2", "r3"],
                       "段落": ["推进碳达峰碳中和。", "严格落实中央八项规定精神。", "推进碳达峰。"]},
                      index=[10, 20, 30])
    frame = model.predict(df, text_col="段落")
    assert len(frame) == 3 and list(frame.index) == [10, 20, 30]
    joined = df.join(frame)
    assert joined.loc[20, "label"] == "integrity" and joined.loc[10, "doc"] == "r1"
    with pytest.raises(InputError, match="no text column 'text'.*段落"):
        model.predict(df)
    with pytest.raises(InputError, match="not a string"):
        model.predict(pd.Series(["推进改革。", None]))


def test_classify_report_and_explain(model):
    frame = model.classify_report(FIXTURES / "report.txt")
    assert len(frame) == 6 and frame.loc[4, "section"] == ["二、2031年主要任务",
                                                          "（二）加强政府自身建设"]
    # the closing 各位代表，… speaks to the whole part, not to its last sub-section
    assert frame.loc[5, "section"] == ["二、2031年主要任务"]
    assert (frame.loc[0, "year"], frame.loc[0, "region"]) == (2031, "某市")  # from its title
    terms = model.explain(frame.loc[4, "text"], top=3)
    assert list(terms.columns) == ["term", "kind", "weight", "tfidf", "contribution"]
    assert terms.attrs["theme"] == frame.loc[4, "label"]
    top = model.top_terms(5, themes=["integrity"])
    assert top["rank"].tolist() == [1, 2, 3, 4, 5]


def test_profile_paths_and_dataframes(model, tmp_path):
    text = (FIXTURES / "report.txt").read_text("utf-8")
    (tmp_path / "甲市_2031.txt").write_text(text, "utf-8")
    panel = model.profile([tmp_path], name_pattern="{region}_{year}.txt")
    assert panel.loc[0, "region"] == "甲市" and panel.loc[0, "year"] == 2031
    reports = pd.DataFrame({"text": [text, text], "region": ["甲", "乙"], "year": [2030, None]},
                           index=["r1", "r2"])
    panel = model.profile(reports, unit="sentence")
    assert panel["report_id"].tolist() == ["r1", "r2"]
    # a year the record leaves empty is the one the report's title states
    assert str(panel["year"].dtype) == "Int64" and panel["year"].tolist() == [2030, 2031]
    assert panel["region"].tolist() == ["甲", "乙"]  # the records' own regions win
    shares = panel[[f"char_share_{t}" for t in model.themes]]
    assert shares.sum(axis=1).to_numpy() == pytest.approx(1)
    long = model.profile(reports, long=True)
    assert len(long) == 2 * (17 + 5) and {"kind", "theme", "char_share"} <= set(long.columns)


@pytest.mark.parametrize("empty", [[], pd.Series([], dtype=str), pd.DataFrame({"text": []})])
@pytest.mark.parametrize("unit", ["paragraph", "sentence"])
def test_predict_nothing_gives_an_empty_frame_with_the_columns(model, empty, unit):
    some = model.predict(pd.Series(["推进碳达峰碳中和。"]) if not isinstance(empty, list)
                         else ["推进碳达峰碳中和。"], unit=unit)
    none = model.predict(empty, unit=unit)
    assert len(none) == 0
    assert list(none.columns) == list(some.columns)
    assert none["score"].dtype == float


@pytest.mark.parametrize("texts", [[""], ["推进改革。", "  "], ["。！"], pd.Series(["改革。", ""])])
def test_predict_refuses_a_text_with_nothing_to_classify(model, texts):
    # as the command line does: no label for an empty text
    with pytest.raises(InputError, match="empty or only punctuation"):
        model.predict(texts)


def test_profile_keeps_a_file_the_name_pattern_misses_and_warns(model, tmp_path):
    from policy_nlp.api import ReadWarning

    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "北京_2024.txt").write_text("各位代表：\n一、回顾\n推进碳达峰碳中和。\n", "utf-8")
    (folder / "notes.txt").write_text("各位代表：\n一、回顾\n稳定和扩大就业。\n", "utf-8")
    with pytest.warns(ReadWarning, match="kept 1 input.*notes.txt.*does not match"):
        frame = model.profile([folder], name_pattern="{region}_{year}.txt")
    assert sorted(frame["report_id"]) == ["notes", "北京_2024"]
    assert frame.set_index("report_id").loc["北京_2024", "year"] == 2024
    assert len(frame.attrs["problems"]) == 1 and "notes.txt" in frame.attrs["problems"][0]


def test_profile_still_raises_a_real_input_error(model, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "推进改革。"}\n{"id": "b", "text": \n', "utf-8")
    with pytest.raises(InputError):
        model.profile([bad])
