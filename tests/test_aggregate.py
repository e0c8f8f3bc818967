"""Report profiles and panels: policy_nlp.aggregate and the profile command."""

from __future__ import annotations

import csv
import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from policy_nlp.aggregate import (
    compile_name_pattern,
    fields_from_name,
    long_panel,
    paragraph_shares,
    profile_records,
)
from policy_nlp.cli import app
from policy_nlp.codebook import load_codebook
from policy_nlp.errors import InputError

from .conftest import FIXTURES

BOOK = load_codebook()
THEMES = BOOK.ids


def rec(report, text, label, **fields):
    return {"id": f"{report}#x", "report_id": report, "text": text, "label": label, **fields}


def shares(row, prefix, groups=False):
    keys = ([f"{prefix}group_{g}" for g in BOOK.groups] if groups
            else [f"{prefix}{t}" for t in THEMES])
    return {k.removeprefix(prefix): row[k] for k in keys}


# --- profile_records ----------------------------------------------------------------------------


def test_shares_by_characters_and_by_paragraphs():
    records = [
        rec("a", "甲" * 60, "economy", level="county", region="某县", year="2030", source="x",
            input_label="economy"),
        rec("a", "乙" * 30, "environment", level="county", region="某县", year=2030, source="x",
            input_label="environment"),
        rec("a", "丙" * 10, "economy", level="county", region="某县", year="2030", source="x"),
        rec("b", "丁" * 50, "integrity", level="city", page=3),
    ]
    a, b = profile_records(records, BOOK)
    assert (a["report_id"], a["level"], a["region"], a["year"]) == ("a", "county", "某县", 2030)
    assert a["source"] == "x" and b["source"] is None and b["year"] is None
    # a field that differs between a report's paragraphs is not the report's
    assert "input_label" not in a and a["page"] is None and b["page"] == 3
    assert (a["n_paragraphs"], a["n_chars"], a["unit"]) == (3, 100, "paragraph")
    assert a["top_theme"] == "economy"
    assert a["char_share_economy"] == pytest.approx(0.7)
    assert a["char_share_environment"] == pytest.approx(0.3)
    assert a["para_share_economy"] == pytest.approx(2 / 3)
    assert a["char_share_group_economic"] == pytest.approx(0.7)
    assert a["char_share_group_construction_ecology"] == pytest.approx(0.3)
    assert b["char_share_integrity"] == 1.0 == b["para_share_group_government"]
    for row in (a, b):
        for prefix in ("char_share_", "para_share_"):
            assert sum(shares(row, prefix).values()) == pytest.approx(1, abs=1e-12)
            assert sum(shares(row, prefix, groups=True).values()) == pytest.approx(1, abs=1e-12)
    assert list(a)[:7] == ["report_id", "level", "region", "year", "source", "page", "unit"]
    assert list(a) == list(b)


def test_sentence_attribution_shares_a_paragraph():
    para = rec("r", "甲" * 40 + "乙" * 10, None)
    para["sentences"] = [{"text": "甲" * 40, "label": "political"},
                         {"text": "乙" * 10, "label": "integrity"}]
    assert paragraph_shares(para) == {"political": 0.8, "integrity": 0.2}
    other = rec("r", "丙" * 50, None)
    other["sentences"] = [{"text": "丙" * 50, "label": "political"}]
    (row,) = profile_records([para, other], BOOK, unit="sentence")
    assert row["char_share_political"] == pytest.approx(0.9)
    assert row["para_share_integrity"] == pytest.approx(0.1)
    assert (row["n_sentences"], row["unit"]) == (3, "sentence")


def test_long_panel_is_tidy():
    rows = profile_records([rec("a", "甲" * 3, "economy", year=2030),
                            rec("a", "乙", "general", year=2030)], BOOK)
    long = long_panel(rows, BOOK)
    assert len(long) == len(THEMES) + len(BOOK.groups)
    themes = [r for r in long if r["kind"] == "theme"]
    assert [r["theme"] for r in themes] == THEMES
    assert sum(r["char_share"] for r in themes) == pytest.approx(1)
    economy = themes[0]
    assert (economy["group"], economy["zh"], economy["char_share"]) == (
        "economic", "宏观经济与发展目标", 0.75)
    assert economy["year"] == 2030 and "char_share_economy" not in economy
    groups = [r for r in long if r["kind"] == "group"]
    assert {r["theme"]: r["para_share"] for r in groups}["general"] == 0.5


# --- metadata from file names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "fields"),
    [
        ("{region}_{year}.txt", "reports/北京_2026.txt", {"region": "北京", "year": 2026}),
        ("{region}_{year}", "北京_2026.txt", {"region": "北京", "year": 2026}),
        ("{region}{year}", "某市2025.txt", {"region": "某市", "year": 2025}),
        ("{level}/{region}/{year}", "national/中国/2025", {"level": "national", "region": "中国",
                                                          "year": 2025}),
        ("{region}_{year}.txt", "北京-2026.txt", None),
        ("{region}_{year}.txt", "北京_26.txt", None),
    ],
)
def test_fields_from_name(pattern, name, fields):
    assert fields_from_name(compile_name_pattern(pattern), name) == fields


@pytest.mark.parametrize("pattern", ["report.txt", "{region}_{region}", "{1x}.txt", "{}"])
def test_bad_name_patterns(pattern):
    with pytest.raises(InputError):
        compile_name_pattern(pattern)


# --- the profile command --------------------------------------------------------------------


runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return tiny_model_dir


@pytest.fixture()
def reports(tmp_path):
    """Two report files named region_year, and a JSONL of two reports with metadata fields."""
    files = tmp_path / "reports"
    files.mkdir()
    shutil.copy(FIXTURES / "report.txt", files / "某市_2031.txt")
    text = (FIXTURES / "report.txt").read_text("utf-8")
    (files / "某县_2030.txt").write_text(text.replace("2031", "2030"), "utf-8")
    jsonl = tmp_path / "reports.jsonl"
    with jsonl.open("w", encoding="utf-8") as fh:
        for region, year in (("甲省", 2024), ("乙省", 2026)):
            fh.write(json.dumps({"id": f"provincial/{region}/{year}", "level": "provincial",
                                 "region": region, "year": year, "text": text},
                                ensure_ascii=False) + "\n")
    return files, jsonl


def check_panel(panel: pd.DataFrame):
    for prefix in ("char_share_", "para_share_"):
        themes = [c for c in panel.columns if c.startswith(prefix) and "group_" not in c]
        groups = [c for c in panel.columns if c.startswith(prefix + "group_")]
        assert len(themes) == 17 and len(groups) == 5
        assert panel[themes].sum(axis=1).to_numpy() == pytest.approx(1)
        assert panel[groups].sum(axis=1).to_numpy() == pytest.approx(1)


def test_profile_files_with_a_name_pattern(model, reports, tmp_path):
    files, _ = reports
    out = tmp_path / "panel.csv"
    result = run("profile", files, "-o", out, "-m", model, "--name-pattern", "{region}_{year}.txt")
    assert result.exit_code == 0, result.stderr
    assert "2 reports (12 paragraphs) profiled" in result.stderr
    panel = pd.read_csv(out)
    assert panel[["report_id", "region", "year"]].values.tolist() == [
        ["某县_2030", "某县", 2030], ["某市_2031", "某市", 2031]]
    assert panel["n_paragraphs"].tolist() == [6, 6]
    # the level goes with the pattern's region, by its name (not the report text's 某市)
    assert panel["level"].tolist() == ["county", "prefecture"]
    check_panel(panel)


def test_profile_jsonl_reports_parquet_and_long(model, reports, tmp_path):
    _, jsonl = reports
    out = tmp_path / "panel.parquet"
    result = run("profile", jsonl, "-o", out, "-m", model, "--no-progress")
    assert result.exit_code == 0, result.stderr
    panel = pd.read_parquet(out)
    # each record holds a whole report: it is split into its paragraphs
    assert panel["n_paragraphs"].tolist() == [6, 6]
    assert panel[["level", "region", "year"]].values.tolist() == [
        ["provincial", "甲省", 2024], ["provincial", "乙省", 2026]]
    check_panel(panel)

    long_out = tmp_path / "long.csv"
    assert run("profile", jsonl, "-o", long_out, "-m", model, "--long").exit_code == 0
    long = pd.read_csv(long_out)
    assert len(long) == 2 * (17 + 5)
    assert set(long.columns) >= {"report_id", "region", "year", "kind", "theme", "group", "zh",
                                 "char_share", "para_share"}
    sums = long[long.kind == "theme"].groupby("report_id")["char_share"].sum()
    assert sums.to_numpy() == pytest.approx(1)
    wide_again = long[long.kind == "theme"].pivot(index="report_id", columns="theme",
                                                  values="char_share")
    assert wide_again.loc["provincial/甲省/2024", "livelihood"] == pytest.approx(
        panel.loc[0, "char_share_livelihood"])


def test_profile_paragraph_records_grouped_by_report_id(model, tmp_path):
    paragraphs = tmp_path / "paragraphs.csv"
    with paragraphs.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "report_id", "year", "text"])
        for line in (FIXTURES / "labeled.jsonl").read_text("utf-8").splitlines():
            r = json.loads(line)
            writer.writerow([r["id"], f"r{len(r['text']) % 2}", "2030", r["text"]])
    out = tmp_path / "panel.jsonl"
    result = run("profile", paragraphs, "-o", out, "-m", model, "--records", "paragraphs",
                 "--unit", "sentence")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert sorted(r["report_id"] for r in rows) == ["r0", "r1"]
    assert sum(r["n_paragraphs"] for r in rows) == 24
    assert {r["year"] for r in rows} == {2030} and {r["unit"] for r in rows} == {"sentence"}
    check_panel(pd.DataFrame(rows))


def test_files_of_one_name_stay_two_reports(model, tmp_path):
    for region in ("甲省", "乙省"):
        (tmp_path / region).mkdir()
        shutil.copy(FIXTURES / "report.txt", tmp_path / region / "2030.txt")
    (tmp_path / "乙省" / "2031.txt").write_bytes(b"")  # a bad file: skipped and reported
    out = tmp_path / "panel.csv"
    result = run("profile", tmp_path / "甲省", tmp_path / "乙省", "-o", out, "-m", model,
                 "--name-pattern", "{region}/{year}.txt")
    assert result.exit_code == 5, result.stderr  # the panel is written, the skip reported
    assert "2031.txt" in result.stderr
    panel = pd.read_csv(out)
    assert panel["report_id"].tolist() == ["2030", f"{(tmp_path / '乙省' / '2030.txt').as_posix()}"]
    assert panel["region"].tolist() == ["甲省", "乙省"] and panel["n_paragraphs"].tolist() == [6, 6]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name-pattern", "{region}-{year}.txt", "--strict"], "does not match the name pattern"),
        (["--name-pattern", "plain.txt"], "has no {field}"),
        (["-o", "panel.xlsx"], "a panel is written as .csv, .parquet, .jsonl or .dta"),
    ],
)
def test_profile_errors(model, reports, tmp_path, args, message):
    files, _ = reports
    base = ["profile", files, "-m", model]
    if "-o" not in args:
        base += ["-o", tmp_path / "p.csv"]
    result = run(*base, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_name_not_matching_the_pattern_is_kept_with_its_texts_metadata(model, tmp_path):
    """One file named otherwise in a folder does not stop the run: it is reported (kept), and
    its year, region and level are those its opening lines state; a broken file beside it is
    skipped and reported, as by label."""
    shutil.copy(FIXTURES / "report.txt", tmp_path / "某县_2030.txt")
    shutil.copy(FIXTURES / "saved" / "clean.txt", tmp_path / "qingchuan-report.txt")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04garbage")
    out = tmp_path / "panel.csv"
    result = run("profile", tmp_path, "-o", out, "-m", model, "--name-pattern",
                 "{region}_{year}.txt")
    assert result.exit_code == 5, result.stderr
    assert "kept: " in result.stderr and "qingchuan-report.txt" in result.stderr
    assert "skipped: " in result.stderr and "broken.docx" in result.stderr
    panel = pd.read_csv(out).set_index("report_id")
    assert panel.loc["某县_2030", ["region", "year", "level"]].tolist() == ["某县", 2030, "county"]
    assert panel.loc["qingchuan-report", ["region", "year", "level"]].tolist() == [
        "青川市", 2031, "prefecture"]


@pytest.mark.corpus
def test_profile_reads_reports_jsonl_of_the_corpus(shared, model, tmp_path):
    """Records of reports.jsonl hold whole reports: each becomes one row, split into paragraphs."""
    head = tmp_path / "head.jsonl"
    with (shared / "corpus" / "reports.jsonl").open(encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(3)]
    head.write_text("".join(lines), "utf-8")
    out = tmp_path / "panel.csv"
    assert run("profile", head, "-o", out, "-m", model).exit_code == 0
    panel = pd.read_csv(out)
    originals = [json.loads(line) for line in lines]
    assert panel["report_id"].tolist() == [r["id"] for r in originals]
    assert panel["year"].tolist() == [r["year"] for r in originals]
    assert (panel["n_paragraphs"] > 10).all()
    check_panel(panel)


def test_a_parquet_panel_of_a_column_with_mixed_types(tmp_path):
    """Records giving a field as a number in one report and as text in another (year 2020
    and '2020年', a region code and a name): pyarrow refused the column, an ArrowTypeError
    traceback (exit 1) and no panel; the column is written as text, as the .dta one is."""
    pytest.importorskip("pyarrow")
    from policy_nlp.write import write_panel

    rows = [{"report_id": "A", "year": "2020年", "code": 110000, "n": 1},
            {"report_id": "B", "year": 2021, "code": "京", "n": 2},
            {"report_id": "C", "year": None, "code": True, "n": 3}]
    out = tmp_path / "p.parquet"
    write_panel(rows, out)
    panel = pd.read_parquet(out)
    assert panel["year"].tolist()[:2] == ["2020年", "2021"] and pd.isna(panel["year"][2])
    assert panel["code"].tolist() == ["110000", "京", "True"]
    assert panel["n"].tolist() == [1, 2, 3]


def test_a_paragraph_without_the_reports_year_does_not_erase_it():
    """Found in review: one record of a report without a level or year (a blank CSV cell, a
    field left out) erased the report's level and year: no era's rates, no decade, the
    report in the (missing) group. A record that does not say leaves the value the others
    give; records that differ still leave it unknown, and a field other than level, region
    and year is the report's only where every record gives it alike."""
    records = [
        rec("a", "甲" * 10, "economy", level="national", year=2020, note="x"),
        rec("a", "乙" * 10, "economy"),
        rec("a", "丙" * 10, "economy", level="", year="", region=None, note="x"),
        rec("b", "丁" * 10, "economy", year=""),
        rec("b", "戊" * 10, "economy", level="provincial", year="2021.0"),
        rec("c", "己" * 10, "economy", level="county", year=2020),
        rec("c", "庚" * 10, "economy", level="county", year=2021),
    ]
    a, b, c = profile_records(records, BOOK)
    assert (a["level"], a["year"], a["region"]) == ("national", 2020, None)
    assert "note" not in a
    assert (b["level"], b["year"]) == ("provincial", 2021)
    assert (c["level"], c["year"]) == ("county", None)


@pytest.mark.parametrize(("year", "kept"), [("2021", 2021), (" 2021.0 ", 2021), ("12345", 12345),
                                            ("²", "²"), ("２０２１", 2021), ("2020年", "2020年")])
def test_a_year_as_text_is_read_as_a_number_where_it_is_one(year, kept):
    """A superscript digit is a digit (str.isdigit) that int() refuses: a traceback."""
    from policy_nlp.aggregate import record_meta

    assert record_meta({"id": "a#1", "year": year, "text": "推进。"})["year"] == kept
