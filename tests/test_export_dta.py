"""Stata .dta panels: a round trip through pandas.read_stata, with variable labels."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.codebook import load_codebook
from policy_nlp.stata import stata_label, stata_names
from policy_nlp.write import write_panel

from .conftest import FIXTURES, assert_no_traceback

BOOK = load_codebook()
runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert_no_traceback(result)
    return result


def test_names_and_labels():
    names = stata_names(["char_share_economy", "char_share_group_economic",
                         "char_share_group_construction_ecology", "年份", "a b", "a-b",
                         "x" * 40, "1st"])
    assert list(names.values()) == [
        "char_share_economy", "csg_economic", "csg_construction_ecology", "年份", "a_b",
        "a_b_2", "x" * 32, "_1st"]
    economy = BOOK.theme("economy").zh
    assert stata_label("char_share_economy", BOOK) == f"{economy} economy: share of characters"
    assert stata_label("para_share_group_government", BOOK).endswith(
        "government: share of paragraphs (group)")
    assert stata_label("char_share_lower", BOOK) == "share of characters, lower bound"
    assert stata_label("year", BOOK) == "year"


def test_round_trip_with_labels_and_missing_values(tmp_path):
    rows = [{"report_id": "national/全国/2024", "level": "national", "region": None,
             "year": 2024, "flag": True, "n_chars": 1200, "top_theme": "economy",
             "char_share_economy": 0.25, "char_share_group_construction_ecology": 0.5},
            {"report_id": "provincial/甲省/2025", "level": "provincial", "region": "甲省",
             "year": None, "flag": False, "n_chars": 800, "top_theme": "industry",
             "char_share_economy": 0.125, "char_share_group_construction_ecology": 0.0}]
    out = tmp_path / "panel.dta"
    write_panel(rows, out, codebook=BOOK)
    back = pd.read_stata(out)
    assert back["report_id"].tolist() == ["national/全国/2024", "provincial/甲省/2025"]
    assert back["region"].tolist() == ["", "甲省"]
    assert back["year"].iloc[0] == 2024 and pd.isna(back["year"].iloc[1])
    assert back["flag"].tolist() == [1, 0]
    assert back["char_share_economy"].tolist() == [0.25, 0.125]
    assert back["csg_construction_ecology"].tolist() == [0.5, 0.0]
    with pd.io.stata.StataReader(out) as reader:
        labels = reader.variable_labels()
    assert labels["char_share_economy"] == (f"{BOOK.theme('economy').zh} economy: share of "
                                            "characters")
    assert labels["csg_construction_ecology"].startswith(
        "char_share_group_construction_ecology: " + BOOK.groups["construction_ecology"]["zh"])


def test_profile_writes_dta_wide_and_long(tmp_path, tiny_model_dir):
    jsonl = tmp_path / "reports.jsonl"
    text = (FIXTURES / "report.txt").read_text("utf-8")
    jsonl.write_text(json.dumps({"id": "provincial/甲省/2024", "level": "provincial",
                                 "region": "甲省", "year": 2024, "text": text},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    wide, long = tmp_path / "panel.dta", tmp_path / "long.dta"
    assert run("profile", jsonl, "-o", wide, "-m", tiny_model_dir).exit_code == 0
    panel = pd.read_stata(wide)
    assert panel.loc[0, "region"] == "甲省" and panel.loc[0, "year"] == 2024
    themes = [c for c in panel.columns if c.startswith("char_share_") and "group" not in c]
    assert len(themes) == 17 and panel[themes].sum(axis=1).iloc[0] == pytest.approx(1)
    assert len([c for c in panel.columns if c.startswith("csg_")]) == 5
    with pd.io.stata.StataReader(wide) as reader:
        assert reader.variable_labels()["char_share_environment"].startswith(
            BOOK.theme("environment").zh)
    assert run("profile", jsonl, "-o", long, "-m", tiny_model_dir, "--long").exit_code == 0
    tidy = pd.read_stata(long)
    assert len(tidy) == 17 + 5
    assert set(tidy["zh"]) >= {t.zh for t in BOOK.themes}
    with pd.io.stata.StataReader(long) as reader:
        assert reader.variable_labels()["char_share"] == "share of characters"


def test_dta_to_stdout_is_refused(tmp_path, tiny_model_dir):
    result = run("profile", FIXTURES / "report.txt", "-o", "-", "-m", tiny_model_dir)
    assert result.exit_code == 0  # CSV on standard output is fine
    with pytest.raises(Exception, match="needs a file name"):
        write_panel([{"a": 1}], "-", "dta")


def test_every_column_profile_writes_has_a_label_that_says_what_it_holds(tmp_path,
                                                                      tiny_model_dir):
    """Found in review: `decade` (--by level,decade) had an empty variable label, and the
    `group` of the corrected shares of --validation (the group of reports: all, national …)
    was labeled 'theme group', what it means in the long panel."""
    jsonl = tmp_path / "paras.jsonl"
    rows = [{"id": f"r{r}#{i}", "report_id": f"r{r}", "level": "national", "year": year,
             "text": text} for r, year in enumerate((1985, 2024))
            for i, text in enumerate(["国内生产总值增长百分之五，经济运行总体平稳。",
                                      "加强生态环境保护，打好污染防治攻坚战。"])]
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                     encoding="utf-8")
    for args in ([], ["--long"]):
        out = tmp_path / f"p{len(args)}.dta"
        res = run("profile", jsonl, "--records", "paragraphs", "-m", tiny_model_dir, "--ci",
                  "0.9", "--by", "level,decade", "--no-progress", "-o", out, *args)
        assert res.exit_code == 0, res.output
        with pd.io.stata.StataReader(out) as reader:
            labels = reader.variable_labels()
        assert all(labels.values()), {k: v for k, v in labels.items() if not v}
        assert "decade" in labels["decade"]
        if args:
            assert labels["group"] == "theme group"
    corrected = [{"by": "level", "group": "national", "n_coded": 3, "theme": "economy",
                  "zh": "经济", "char_share": 0.5}]
    write_panel(corrected, tmp_path / "v.dta", codebook=BOOK)
    with pd.io.stata.StataReader(tmp_path / "v.dta") as reader:
        assert "group of reports" in reader.variable_labels()["group"]
