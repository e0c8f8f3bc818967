"""validation-sample, profile --validation and evaluate on the coded sheet: the design, the
sheet's formats, and every bad sheet (exit 2, nothing written)."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.validation import allocate, draw_sample

from .conftest import FIXTURES, assert_no_traceback

runner = CliRunner()
LEVEL = {"fixture/r0": "national", "fixture/r1": "national", "fixture/r2": "provincial",
         "fixture/r3": "provincial", "fixture/r4": "provincial", "fixture/r5": "provincial"}


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert_no_traceback(result)
    return result


@pytest.fixture
def corpus(tmp_path):
    """The fixture paragraphs with a level, as a paragraphs JSONL, and their true labels."""
    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]
    path = tmp_path / "paragraphs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "report_id": r["report_id"],
                                 "level": LEVEL[r["report_id"]], "text": r["text"]},
                                ensure_ascii=False) + "\n")
    return path, {r["id"]: r["label"] for r in rows}


def _read_sheet(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV sheet starts with a UTF-8 BOM"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _code(rows, truth, path, *, blank=(), relabel=None):
    """Fill in the sheet's label column with the true labels, as a coder would."""
    relabel = relabel or {}
    for k, row in enumerate(rows):
        row["label"] = "" if k in blank else relabel.get(k, truth[row["id"]])
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _sample(tmp_path, tiny_model_dir, corpus, *extra, name="sheet.csv", n=12):
    inputs, _ = corpus
    out = tmp_path / name
    result = run("validation-sample", inputs, "-n", n, "--strata", "level", "-m",
                 tiny_model_dir, "-o", out, "--records", "paragraphs", *extra)
    assert result.exit_code == 0, result.stderr
    return out


# --- the design --------------------------------------------------------------------------------


def test_allocation_equal_proportional_and_capped():
    assert allocate({"a": 1000, "b": 10}, 100) == {"a": 90, "b": 10}
    assert allocate({"a": 900, "b": 100}, 100, "proportional") == {"a": 90, "b": 10}
    # a small stratum still gets the two its variance needs
    assert allocate({"a": 3000, "b": 5}, 100, "proportional") == {"a": 98, "b": 2}
    assert sum(allocate({"a": 7, "b": 11, "c": 13}, 17).values()) == 17


def test_draw_is_stratified_reproducible_and_without_replacement():
    strata = ["n"] * 40 + ["p"] * 160
    one = draw_sample(strata, 50, seed=3, field_name="level")
    assert one.taken == {"n": 25, "p": 25} and one.sizes == {"n": 40, "p": 160}
    assert len(set(one.rows)) == 50
    assert all(strata[i] == h for i, h in zip(one.rows, one.strata, strict=True))
    assert one.probability("n") == 25 / 40 and one.probability("p") == 25 / 160
    again = draw_sample(strata, 50, seed=3, field_name="level")
    assert again.rows == one.rows
    assert draw_sample(strata, 50, seed=4).rows != one.rows


def test_every_unit_is_drawn_at_its_inclusion_probability():
    strata = ["a"] * 10 + ["b"] * 30
    hits = [0] * 40
    for seed in range(2000):
        for i in draw_sample(strata, 12, seed=seed).rows:
            hits[i] += 1
    # equal allocation: 6 of 10 (0.6) and 6 of 30 (0.2)
    assert all(abs(h / 2000 - 0.6) < 0.05 for h in hits[:10])
    assert all(abs(h / 2000 - 0.2) < 0.04 for h in hits[10:])


# --- validation-sample -------------------------------------------------------------------------


def test_csv_sheet_has_the_design_text_and_an_empty_label(tmp_path, tiny_model_dir, corpus):
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    rows = _read_sheet(sheet)
    assert len(rows) == 12
    cols = list(rows[0])
    for c in ("id", "report_id", "level", "stratum_field", "stratum", "stratum_size",
              "stratum_sample", "inclusion_probability", "text", "label", "predicted",
              "predicted_zh"):
        assert c in cols
    assert cols.index("predicted") > cols.index("label")
    sizes = {r["stratum"]: int(r["stratum_size"]) for r in rows}
    assert sizes == {"national": 8, "provincial": 16}
    for r in rows:
        assert r["stratum"] == r["level"] and r["label"] == "" and r["text"]
        assert float(r["inclusion_probability"]) == pytest.approx(6 / sizes[r["stratum"]])
    # the same seed, the same sheet
    again = _sample(tmp_path, tiny_model_dir, corpus, name="again.csv")
    assert again.read_bytes() == sheet.read_bytes()


def test_xlsx_sheet(tmp_path, tiny_model_dir, corpus):
    openpyxl = pytest.importorskip("openpyxl")
    sheet = _sample(tmp_path, tiny_model_dir, corpus, name="sheet.xlsx")
    book = openpyxl.load_workbook(sheet)
    values = list(book.active.values)
    header = list(values[0])
    assert len(values) == 13 and "inclusion_probability" in header
    text = values[1][header.index("text")]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_coded_xlsx_sheet_corrects_the_shares(tmp_path, tiny_model_dir, corpus):
    openpyxl = pytest.importorskip("openpyxl")
    sheet = _sample(tmp_path, tiny_model_dir, corpus, name="sheet.xlsx")
    book = openpyxl.load_workbook(sheet)
    ws = book.active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        row[header.index("label")].value = corpus[1][row[header.index("id")].value]
    book.save(sheet)
    out = tmp_path / "panel.csv"
    result = run("profile", corpus[0], "-m", tiny_model_dir, "-o", out, "--records",
                 "paragraphs", "--validation", sheet, "--corrected", tmp_path / "shares.dta",
                 "--no-progress")
    assert result.exit_code == 0, result.stderr
    import pandas as pd

    shares = pd.read_stata(tmp_path / "shares.dta")
    assert set(shares["group"]) == {"all", "national", "provincial"}
    assert (shares["n_coded"][shares["group"] == "all"] == 12).all()


def test_sample_larger_than_the_input_is_refused(tmp_path, tiny_model_dir, corpus):
    out = tmp_path / "sheet.csv"
    result = run("validation-sample", corpus[0], "-n", 25, "-m", tiny_model_dir, "-o", out,
                 "--records", "paragraphs")
    assert result.exit_code == 2
    assert "-n 25 is more than the 24 paragraphs" in result.stderr
    assert not out.exists()


# --- profile --validation ----------------------------------------------------------------------


def test_profile_validation_writes_corrected_shares(tmp_path, tiny_model_dir, corpus):
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    coded = _code(_read_sheet(sheet), corpus[1], tmp_path / "coded.csv", blank=(0,))
    panel = tmp_path / "panel.csv"
    result = run("profile", corpus[0], "-m", tiny_model_dir, "-o", panel, "--records",
                 "paragraphs", "--validation", coded, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert "1 rows with an empty label were left out" in result.stderr
    assert "accuracy" in result.stdout and "macro-F1" in result.stdout
    with (tmp_path / "panel.validated.csv").open(encoding="utf-8-sig") as fh:
        shares = list(csv.DictReader(fh))
    groups = {(r["by"], r["group"]) for r in shares}
    assert groups == {("all", "all"), ("level", "national"), ("level", "provincial")}
    for g in groups:
        rows = [r for r in shares if (r["by"], r["group"]) == g]
        assert len(rows) == 17
        assert sum(float(r["para_share_predicted"]) for r in rows) == pytest.approx(1)
        for r in rows:
            assert float(r["char_share_lower"]) <= float(r["char_share"]) <= float(
                r["char_share_upper"])
    # how the shares were made, in every row: prediction-powered (PPI++), 95% intervals
    assert {(r["unit"], r["estimator"], r["ci_level"]) for r in shares} == {
        ("paragraph", "ppi++", "0.95")}
    assert list(shares[0])[list(shares[0]).index("n_coded") + 1:][:4] == [
        "unit", "estimator", "ci_level", "theme"]
    national = [r for r in shares if r["group"] == "national"]
    assert {int(r["n_coded"]) for r in national} == {6 - (_read_sheet(sheet)[0]["stratum"]
                                                          == "national")}


def test_profile_validation_with_sentence_units(tmp_path, tiny_model_dir, corpus):
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    coded = _code(_read_sheet(sheet), corpus[1], tmp_path / "coded.csv")
    out = tmp_path / "panel.jsonl"
    result = run("profile", corpus[0], "-m", tiny_model_dir, "-o", out, "--records",
                 "paragraphs", "--unit", "sentence", "--validation", coded, "--no-progress")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "panel.validated.jsonl").read_text(
        "utf-8").splitlines()]
    assert len(rows) == 3 * 17
    assert {(r["unit"], r["estimator"], r["ci_level"]) for r in rows} == {
        ("sentence", "ppi++", 0.95)}
    assert sum(r["char_share_predicted"] for r in rows if r["group"] == "all") == (
        pytest.approx(1))


def test_evaluate_reads_the_coded_sheet(tmp_path, tiny_model_dir, corpus):
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    coded = _code(_read_sheet(sheet), corpus[1], tmp_path / "coded.csv", blank=(0, 1))
    result = run("evaluate", "--labels", coded, "-m", tiny_model_dir)
    assert result.exit_code == 0, result.stderr
    assert "2 rows with a blank label skipped" in result.stderr
    assert "paragraphs 10" in result.stdout


# --- bad sheets: exit 2, nothing written -------------------------------------------------------


def _profile(tmp_path, tiny_model_dir, corpus, coded):
    panel = tmp_path / "panel.csv"
    result = run("profile", corpus[0], "-m", tiny_model_dir, "-o", panel, "--records",
                 "paragraphs", "--validation", coded, "--no-progress")
    assert result.exit_code == 2, result.stderr
    assert not panel.exists() and not (tmp_path / "panel.validated.csv").exists()
    return result.stderr


def test_unknown_themes_are_listed(tmp_path, tiny_model_dir, corpus):
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    coded = _code(rows, corpus[1], tmp_path / "coded.csv", relabel={0: "economi", 3: "eco"})
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    assert "labels that are not themes of the model: 'economi' (lines 2); 'eco' (lines 5)" in err


def test_sheet_with_no_coded_rows(tmp_path, tiny_model_dir, corpus):
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    err = _profile(tmp_path, tiny_model_dir, corpus, sheet)
    assert "no coded rows" in err


def test_ids_not_in_the_input(tmp_path, tiny_model_dir, corpus):
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    rows[2]["id"] = "elsewhere#007"
    coded = _code(rows, {**corpus[1], "elsewhere#007": "economy"}, tmp_path / "coded.csv")
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    assert "1 coded ids are not paragraphs of the inputs: 'elsewhere#007'" in err


def test_inputs_other_than_those_sampled(tmp_path, tiny_model_dir, corpus):
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    coded = _code(rows, corpus[1], tmp_path / "coded.csv")
    drawn = {r["id"] for r in rows}
    lines = corpus[0].read_text("utf-8").splitlines()
    gone = next(k for k, line in enumerate(lines) if json.loads(line)["id"] not in drawn
                and json.loads(line)["level"] == "provincial")
    corpus[0].write_text("\n".join(lines[:gone] + lines[gone + 1:]) + "\n", encoding="utf-8")
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    assert "had 16 paragraphs when the sample was drawn but the inputs have 15" in err


def test_a_coded_paragraph_in_another_stratum_of_the_inputs(tmp_path, tiny_model_dir, corpus):
    """The strata keep their sizes but a coded paragraph is in another one in the inputs (two
    paragraphs' levels swapped): its design weight would be the wrong stratum's, the shares
    silently wrong; refused, naming it."""
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    coded = _code(rows, corpus[1], tmp_path / "coded.csv")
    moved = next(r["id"] for r in rows if r["stratum"] == "national")
    drawn = {r["id"] for r in rows}
    records = [json.loads(line) for line in corpus[0].read_text("utf-8").splitlines()]
    other = next(r for r in records if r["id"] not in drawn and r["level"] == "provincial")
    for r in records:
        if r["id"] == moved:
            r["level"] = "provincial"
    other["level"] = "national"
    corpus[0].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                         encoding="utf-8")
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    assert (f"coded.csv: 1 coded paragraphs are in another stratum in the inputs: {moved!r} "
            "(national on the sheet, provincial in the inputs)") in err


def test_rows_added_to_the_drawn_sample_are_refused(tmp_path, tiny_model_dir, corpus):
    """A sheet with more rows in a stratum than were drawn (stratum_sample): paragraphs
    someone added by hand, or a second draw pasted below, are no random sample of the
    stratum; weighted as one, the corrected shares were silently biased (exit 0)."""
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    drawn = {r["id"] for r in rows}
    records = [json.loads(line) for line in corpus[0].read_text("utf-8").splitlines()]
    extra = next(r for r in records if r["id"] not in drawn and r["level"] == "national")
    national = next(r for r in rows if r["stratum"] == "national")
    rows.append({**national, "id": extra["id"], "text": extra["text"]})
    coded = _code(rows, corpus[1], tmp_path / "coded.csv")
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    n = national["stratum_sample"]
    assert (f"coded.csv: stratum 'national' has {int(n) + 1} rows but {n} were drawn "
            "(stratum_sample)") in err


@pytest.mark.parametrize("column", ["stratum_size", "stratum_sample"])
@pytest.mark.parametrize("value", ["inf", "2.5", "-3", "0"])
def test_a_design_count_that_is_no_whole_number_is_named(tmp_path, tiny_model_dir, corpus,
                                                          column, value):
    # 'inf' was an OverflowError traceback; '2.5' was read as 2, '-3' as -3
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    for r in rows:
        if r["stratum"] == "national":
            r[column] = value
    coded = _code(rows, corpus[1], tmp_path / "coded.csv")
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    line = next(k for k, r in enumerate(rows, 2) if r["stratum"] == "national")
    assert err.endswith(f"coded.csv:{line}: {column} {value!r} is not a whole number from 1 "
                        "up\n"), err


def test_stratum_with_one_coded_row(tmp_path, tiny_model_dir, corpus):
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    national = [k for k, r in enumerate(rows) if r["stratum"] == "national"]
    coded = _code(rows, corpus[1], tmp_path / "coded.csv", blank=national[1:])
    err = _profile(tmp_path, tiny_model_dir, corpus, coded)
    assert "stratum 'national' has one coded row" in err


def test_corrected_output_is_checked_before_any_work(tmp_path, tiny_model_dir, corpus):
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    coded = _code(_read_sheet(sheet), corpus[1], tmp_path / "coded.csv")
    base = ("profile", corpus[0], "-m", tiny_model_dir, "--records", "paragraphs",
            "--validation", coded, "--no-progress")
    same = run(*base, "-o", tmp_path / "p.csv", "--corrected", tmp_path / "p.csv")
    assert same.exit_code == 2 and "is the panel's own output" in same.stderr
    piped = run(*base, "-o", "-")
    assert piped.exit_code == 2 and "--corrected FILE is needed" in piped.stderr
    missing = run(*base[:-3], "--validation", tmp_path / "nope.csv", "-o", tmp_path / "p.csv")
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.stderr
    assert not (tmp_path / "p.csv").exists()
    # the panel on standard output: the model's scores go to standard error
    ok = run(*base, "-o", "-", "--corrected", tmp_path / "shares.csv")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith("report_id,") and "macro-F1" in ok.stderr


def test_bad_sample_arguments(tmp_path, tiny_model_dir, corpus):
    out = tmp_path / "sheet.csv"
    base = ("validation-sample", corpus[0], "-m", tiny_model_dir, "-o", out, "--records",
            "paragraphs")
    no_field = run(*base, "--strata", "region")
    assert no_field.exit_code == 2
    assert "has no 'region' to stratify by" in no_field.stderr
    zero = run(*base, "-n", 0)
    assert zero.exit_code == 2 and "-n must be at least 1" in zero.stderr
    wrong = run(*base[:-4], "-o", tmp_path / "sheet.jsonl")
    assert wrong.exit_code == 2 and "written as .csv or .xlsx" in wrong.stderr
    assert not out.exists() and not (tmp_path / "sheet.jsonl").exists()


def test_chinese_theme_names_on_the_sheet_are_read(tmp_path, tiny_model_dir, corpus):
    """A coder who writes the theme's Chinese name (as the sheet's predicted_zh shows it)."""
    from policy_nlp.codebook import load_codebook

    zh = {t.id: t.zh for t in load_codebook().themes}
    rows = _read_sheet(_sample(tmp_path, tiny_model_dir, corpus))
    coded = _code(rows, {k: zh[v] for k, v in corpus[1].items()}, tmp_path / "coded.csv")
    result = run("profile", corpus[0], "-m", tiny_model_dir, "-o", tmp_path / "panel.csv",
                 "--records", "paragraphs", "--validation", coded, "--no-progress")
    assert result.exit_code == 0, result.stderr


def test_a_sample_too_small_for_two_per_stratum_is_refused_when_drawn(tmp_path, tiny_model_dir,
                                                                      corpus):
    out = tmp_path / "small.csv"
    result = run("validation-sample", corpus[0], "-n", 3, "--strata", "level", "-m",
                 tiny_model_dir, "-o", out, "--records", "paragraphs")
    assert result.exit_code == 2 and "-n is 3, fewer than the 4" in result.stderr
    assert not out.exists()


def test_no_output_replaces_an_input(tmp_path, tiny_model_dir, corpus):
    """profile, validation-sample, suggest, audit and agreement refuse an output that is one
    of their inputs (the coded sheet above all) before any work, and leave it as it was."""
    sheet = _code(_read_sheet(_sample(tmp_path, tiny_model_dir, corpus)), corpus[1],
                  tmp_path / "coded.csv")
    before = sheet.read_bytes()
    common = ["-m", tiny_model_dir, "--records", "paragraphs", "--no-progress"]
    for argv in (["profile", corpus[0], "-o", sheet, "--validation", sheet, *common],
                 ["profile", sheet, "-o", sheet, *common],
                 ["profile", corpus[0], "-o", tmp_path / "p.csv", "--validation", sheet,
                  "--corrected", sheet, *common],
                 ["validation-sample", sheet, "-n", 4, "-o", sheet, "-m", tiny_model_dir],
                 ["suggest", "--pool", sheet, "-n", 2, "-o", sheet, "-m", tiny_model_dir],
                 ["audit", "--labels", sheet, "-o", sheet],
                 ["agreement", sheet, corpus[0], "--disagreements", sheet]):
        result = run(*argv)
        assert result.exit_code == 2 and "is also an input of this run" in result.stderr, argv
        assert sheet.read_bytes() == before, argv
    link = tmp_path / "link.csv"
    link.symlink_to(sheet)
    result = run("profile", link, "-o", sheet, *common)  # the same file by another name
    assert result.exit_code == 2 and sheet.read_bytes() == before


def test_a_sheet_people_began_to_code_is_never_replaced(tmp_path, tiny_model_dir, corpus):
    """A second validation-sample (or suggest) under the name of a sheet with coded rows is
    refused before any work, the coding kept byte for byte; an uncoded sheet may be replaced."""
    inputs, truth = corpus
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    _sample(tmp_path, tiny_model_dir, corpus, "--seed", "1")  # nothing coded yet: replaced
    rows = _read_sheet(sheet)
    _code(rows, truth, sheet, blank=range(1, len(rows)))  # one row coded
    coded = sheet.read_bytes()
    for args in (["validation-sample", inputs, "-n", 12, "-m", tiny_model_dir, "-o", sheet,
                  "--records", "paragraphs"],
                 ["suggest", "--pool", inputs, "-n", 3, "-m", tiny_model_dir, "-o", sheet]):
        result = run(*args)
        assert_no_traceback(result)
        assert result.exit_code == 2, result.stderr
        assert "1 coded row" in result.stderr and "replace the coding" in result.stderr
        assert sheet.read_bytes() == coded


def test_corrected_shares_take_the_interval_level_of_ci(tmp_path, tiny_model_dir, corpus):
    """Found in review: `profile --ci 0.8 --validation` wrote the panel's bounds at 80% and
    the corrected shares' (and the model's scores on the sample) at 95%, whatever --ci said."""
    sheet = _sample(tmp_path, tiny_model_dir, corpus)
    coded = _code(_read_sheet(sheet), corpus[1], tmp_path / "coded.csv")
    widths = {}
    for ci in ("0.8", None):
        panel = tmp_path / f"panel{ci}.csv"
        result = run("profile", corpus[0], "-m", tiny_model_dir, "-o", panel, "--records",
                     "paragraphs", "--validation", coded, "--no-progress",
                     *(("--ci", ci) if ci else ()))
        assert result.exit_code == 0, result.stderr
        assert f"{round(100 * float(ci or 0.95))}% bootstrap intervals" in result.stdout
        with panel.with_suffix(".validated.csv").open(encoding="utf-8-sig") as fh:
            shares = list(csv.DictReader(fh))
        assert {r["ci_level"] for r in shares} == {ci or "0.95"}
        widths[ci] = sum(float(r["char_share_upper"]) - float(r["char_share_lower"])
                         for r in shares)
    assert widths["0.8"] < widths[None]


def test_a_sheet_never_holds_a_formula_and_reads_back(tmp_path, tiny_model_dir):
    """Found in review: a paragraph (or id) starting with '=' was written to the .xlsx sheet
    as a formula (openpyxl's rule), and to the CSV sheet as a cell a spreadsheet runs
    (=HYPERLINK(…), the DDE =cmd|…, or '-国内…' shown as #NAME? and lost on saving). The .xlsx
    keeps every text as text; the CSV puts a ' before a cell that starts with = + - or @ (a
    spreadsheet shows it as text), and --validation reads the id back without it."""
    openpyxl = pytest.importorskip("openpyxl")
    texts = ['=HYPERLINK("http://example.com","加强廉政建设")', "=1+2，推进碳达峰碳中和。",
             "+严格落实中央八项规定精神。", "-国内生产总值增长百分之五左右。",
             "'=持续改善生态环境质量。", "@深化改革开放，优化营商环境。"]
    ids = ["e1", "=cmd|' /C calc'!A0", "e3", "-e4", "'=e5", "e6"]
    inputs = tmp_path / "evil.jsonl"
    inputs.write_text("".join(json.dumps({"id": i, "report_id": "E", "level": "national",
                                          "text": t}, ensure_ascii=False) + "\n"
                              for i, t in zip(ids, texts, strict=True)), encoding="utf-8")
    base = ["-m", tiny_model_dir, "--records", "paragraphs", "--no-progress"]
    xlsx, csv_sheet = tmp_path / "s.xlsx", tmp_path / "s.csv"
    for out in (xlsx, csv_sheet):
        res = run("validation-sample", inputs, "-n", 6, "-o", out, *base[:4])
        assert res.exit_code == 0, res.stderr
    book = openpyxl.load_workbook(xlsx)
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    # as text; one starting with '= gets a ' before it, as a CSV sheet saved as a workbook
    # keeps its ', which the reader of sheets takes away
    assert {c.value for c in cells} >= {"'" + v if v.startswith("'") else v
                                        for v in texts + ids}
    rows = _read_sheet(csv_sheet)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    # each escaped by one ' (the one starting with '= too, so that reading back is exact)
    assert {r["text"][1:] for r in rows if r["text"].startswith("'")} == set(texts)
    for sheet in (xlsx, csv_sheet):
        if sheet.suffix == ".csv":
            coded = _code(rows, dict.fromkeys((r["id"] for r in rows), "general"),
                          tmp_path / "coded.csv")
        else:
            for row in book.active.iter_rows(min_row=2):
                row[[c.value for c in book.active[1]].index("label")].value = "general"
            coded = tmp_path / "coded.xlsx"
            book.save(coded)
        res = run("profile", inputs, "-o", tmp_path / f"p{sheet.suffix}.csv", "--validation",
                  coded, *base)
        assert res.exit_code == 0, res.stderr
        assert "shares corrected by 6 coded paragraphs" in res.stderr


@pytest.mark.parametrize("value", ["=a", "'=a", "''=a", "a", "'a", "'", "", "-1",
                                   "'" * 5000 + "=x"])
def test_spreadsheet_quoting_reads_back_exactly(value):
    from policy_nlp.write import from_spreadsheet_text, spreadsheet_text

    written = spreadsheet_text(value)
    assert not written.startswith(("=", "+", "-", "@"))
    assert from_spreadsheet_text(written) == value
