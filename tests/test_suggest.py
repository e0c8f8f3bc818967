"""suggest: margin sampling spread over themes and reports; the sheet goes back into train."""

import csv
import json

import numpy as np
from typer.testing import CliRunner

from policy_nlp.suggest import margins, select
from policy_nlp.cli import app

from .conftest import FIXTURES

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_margin_order_with_round_robin_and_report_cap():
    proba = np.array([
        [0.50, 0.49, 0.01],  # 0: theme 0, margin 0.01
        [0.52, 0.46, 0.02],  # 1: theme 0, margin 0.06
        [0.51, 0.47, 0.02],  # 2: theme 0, margin 0.04
        [0.10, 0.20, 0.70],  # 3: theme 2, margin 0.50
        [0.05, 0.90, 0.05],  # 4: theme 1, margin 0.85
        [0.40, 0.35, 0.25],  # 5: theme 0, margin 0.05
    ])
    assert np.allclose(margins(proba)[:3], [0.01, 0.06, 0.04])
    reports = ["a", "a", "b", "c", "d", "b"]
    # pure margin order would be 0, 2, 5, 1; the themes take turns instead
    assert select(proba, reports, 3, per_report=5) == [0, 3, 4]
    assert select(proba, reports, 6, per_report=5) == [0, 3, 4, 2, 5, 1]
    # at most one paragraph of a report: 1 (report a) and 5 (report b) are passed over
    assert select(proba, reports, 6, per_report=1) == [0, 3, 4, 2]
    # already labeled rows and repeated texts are skipped
    assert select(proba, reports, 2, per_report=5, skip=[0]) == [2, 3]
    texts = ["x", "y", "x", "z", "w", "v"]
    assert select(proba, reports, 6, per_report=5, texts=texts) == [0, 3, 4, 5, 1]


def _pool(tmp_path):
    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"id": r["id"], "report_id": r["report_id"],
                                        "text": r["text"]}, ensure_ascii=False) + "\n"
                            for r in rows), "utf-8")
    return pool, {r["id"]: r["label"] for r in rows}


def test_sheet_round_trip_into_train(tmp_path, tiny_model_dir):
    pool, gold = _pool(tmp_path)
    sheet = tmp_path / "sheet.csv"
    result = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 12, "--per-report", 2,
                 "-o", sheet)
    assert result.exit_code == 0, result.stderr
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")  # for spreadsheets
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12
    assert list(rows[0])[:5] == ["rank", "id", "report_id", "text", "guess"]
    assert all(r["label"] == "" for r in rows)
    per_report = {r["report_id"]: 0 for r in rows}
    for r in rows:
        per_report[r["report_id"]] += 1
    assert max(per_report.values()) <= 2
    assert len({r["id"] for r in rows}) == 12
    margin = [float(r["margin"]) for r in rows]
    assert all(0 <= m <= 1 for m in margin)
    # the coder fills in the label column ...
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        filled = [{**r, "label": gold[r["id"]]} for r in reader]
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(filled)
    # ... and the sheet trains as it is
    trained = run("train", "--labels", sheet, "-o", tmp_path / "m", "--cv-folds", "3",
                  "--min-df", "1", "-j", "1")
    assert trained.exit_code == 0, trained.stderr
    card = json.loads((tmp_path / "m" / "model.json").read_text("utf-8"))
    assert card["data"]["n_paragraphs"] == 12 and card["data"]["n_reports"] == 6


def test_unfilled_sheet_is_refused_row_by_row(tmp_path, tiny_model_dir):
    pool, _ = _pool(tmp_path)
    sheet = tmp_path / "sheet.csv"
    assert run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 3, "-o",
               sheet).exit_code == 0
    result = run("train", "--labels", sheet, "-o", tmp_path / "m")
    assert result.exit_code == 2
    assert "sheet.csv: no labeled rows (3 rows with a blank label)" in result.stderr
    result = run("train", "--labels", sheet, "-o", tmp_path / "m", "--strict")
    assert result.exit_code == 2
    for row in (2, 3, 4):
        assert f"sheet.csv:{row}: empty label" in result.stderr


def test_labeled_ids_are_skipped(tmp_path, tiny_model_dir):
    pool, _ = _pool(tmp_path)
    out = tmp_path / "s.jsonl"
    result = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 30, "--labeled",
                 FIXTURES / "labeled.jsonl", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text("utf-8") == ""
    assert "only 0 paragraphs could be suggested" in result.stderr
    bad = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 0, "-o", out)
    assert bad.exit_code == 2 and "-n must be at least 1" in bad.stderr


# paragraphs and ids a spreadsheet would take for formulas (=HYPERLINK and the DDE =cmd|…
# run; '-国内…' shows as #NAME? and is lost on saving), one that starts with '= itself, and a
# normal one: the prefix is put before a fixture paragraph, the id replaces the fixture's
FORMULA_LIKE = [('=cmd|\' /C calc\'!A0', '=HYPERLINK("http://example.com","点此")'),
                ("-e2", "-"), ("+e3", "+"), ("@e4", "@"), ("'=e5", "'="), ("e6", "")]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_pool(tmp_path):
    """The fixture pool with FORMULA_LIKE ids and text starts, one report named '-r0'; and
    id -> (text, report_id, label) of every paragraph as the pool gives it."""
    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]
    for row, (pid, start) in zip(rows, FORMULA_LIKE, strict=False):
        row["id"], row["text"] = pid, start + row["text"]
    for row in rows:
        if row["report_id"] == "fixture/r0":
            row["report_id"] = "-fixture/r0"
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({k: r[k] for k in ("id", "report_id", "text")},
                                       ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return pool, {r["id"]: (r["text"], r["report_id"], r["label"]) for r in rows}


def _cells(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return [cell for row in rows for cell in row]


def test_sheet_never_holds_a_formula_and_reads_back_exactly(tmp_path, tiny_model_dir):
    """A suggest sheet is opened in a spreadsheet: no cell may start as a formula would (a '
    before it, as spreadsheets show text), and the coded sheet gives the readers of labels
    (train, evaluate, validate-labels) and suggest --labeled the pool's own ids, texts and
    reports."""
    from policy_nlp.labels import label_file_ids, load_labels

    pool, truth = _formula_pool(tmp_path)
    sheet = tmp_path / "sheet.csv"
    result = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 24, "--per-report",
                 24, "-o", sheet)
    assert result.exit_code == 0, result.stderr
    cells = _cells(sheet)
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    for pid, (text, _, _) in truth.items():
        if pid.startswith(("'", *FORMULA_START)):
            assert "'" + pid in cells and "'" + text in cells
        else:
            assert pid in cells and text in cells
    assert "'-fixture/r0" in cells
    # the coder fills in the label column, the cells as the spreadsheet shows them
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        shown = list(reader)
    by_shown = {("'" + pid if pid.startswith(("'", *FORMULA_START)) else pid): v
                for pid, v in truth.items()}
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows({**r, "label": by_shown[r["id"]][2]} for r in shown)
    data = load_labels([sheet])
    assert sorted(data.ids) == sorted(truth)
    for pid, text, group, label in zip(data.ids, data.texts, data.groups, data.labels,
                                       strict=True):
        assert (text, group, label) == truth[pid]
    assert label_file_ids(sheet) == set(truth)
    checked = run("validate-labels", "--labels", sheet)
    assert checked.exit_code == 0, checked.stderr
    scored = run("evaluate", "-m", tiny_model_dir, "--labels", sheet)
    assert scored.exit_code == 0, scored.stderr
    again = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 5, "--labeled", sheet,
                "-o", tmp_path / "again.csv")
    assert again.exit_code == 0, again.stderr
    assert "only 0 paragraphs could be suggested" in again.stderr
