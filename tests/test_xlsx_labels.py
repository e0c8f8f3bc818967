"""Labels from an Excel workbook (the optional openpyxl extra)."""

import sys

import pytest

from policy_nlp.errors import InputError
from policy_nlp.labels import load_table, validate


def _workbook(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_with_custom_columns_and_row_numbers(tmp_path):
    path = _workbook(tmp_path / "coded.xlsx", [
        ["编号", "段落", "主题", "报告"],
        [1, "全年地区生产总值增长五%左右。", "economy", "甲市2024"],
        [2, "推进碳达峰碳中和，改善生态环境。", None, "乙市2024"],
        [None, None, None, None],  # an empty row, as spreadsheets leave them
        [4, "着力保障和改善民生，办好民生实事。", "livelihood", "乙市2024"],
    ])
    data = load_table(path, text_col="段落", label_col="主题", id_col="编号", group_col="报告",
                      strict=False)
    assert data.ids == ["1", "4"] and data.labels == ["economy", "livelihood"]
    assert data.groups == ["甲市2024", "乙市2024"]
    assert data.where == [f"{path}:2", f"{path}:5"]
    assert data.blank == [f"{path}:3"]  # not coded yet: skipped, with a warning
    strict = load_table(path, text_col="段落", label_col="主题", id_col="编号",
                        group_col="报告", strict=False, blank="error")
    (err, *_) = validate(strict).errors
    assert err.message.startswith(f"{path}:3: empty label")
    assert "coded.xlsx" in data.files


def test_missing_openpyxl_is_one_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "coded.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(InputError, match=r"coded.xlsx: reading .xlsx needs openpyxl: pip "
                                         r"install 'openpyxl>=3.1' \(or pip install '\.\[xlsx\]'"):
        load_table(path)


def test_a_broken_workbook_is_refused(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "coded.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match=r"coded.xlsx: not a readable .xlsx workbook"):
        load_table(path)


def test_a_csv_sheet_saved_as_xlsx_reads_back_without_its_quotes(tmp_path):
    """A coder opens a CSV coding sheet, where a cell starting as a formula would has a ' before
    it ('=…, '-…), and saves it as a workbook: the ids and texts are read as they were."""
    path = _workbook(tmp_path / "coded.xlsx", [
        ["id", "text", "label"],
        ["'=p1", "'-国内生产总值增长百分之五左右。", "economy"],
        ["'''=p2", "''=持续改善生态环境质量。", "environment"],
        ["'p3", "办好民生实事。", "livelihood"],
    ])
    data = load_table(path)
    assert data.ids == ["=p1", "''=p2", "'p3"]
    assert data.texts == ["-国内生产总值增长百分之五左右。", "'=持续改善生态环境质量。",
                          "办好民生实事。"]


def test_an_xlsx_coding_sheet_reads_back_exactly(tmp_path):
    """write_sheet's workbook stores every text as text, never a formula, and its labels
    read back exactly (a text of its own starting with '= too)."""
    openpyxl = pytest.importorskip("openpyxl")
    from policy_nlp.write import write_sheet

    texts = ["=1+2，推进碳达峰碳中和。", "'=持续改善生态环境质量。", "''-国内生产总值。",
             "'着力保障和改善民生。", "+严格落实。", "办好民生实事。"]
    path = tmp_path / "sheet.xlsx"
    write_sheet([{"id": t, "text": t, "label": "economy", "=HYPERLINK(\"x\")": t}
                 for t in texts], path)
    cells = [c for row in openpyxl.load_workbook(path).active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    data = load_table(path)
    assert data.ids == texts and data.texts == texts
    from policy_nlp.read import table_rows

    assert [r['=HYPERLINK("x")'] for _, r in table_rows(path, sheet=True)] == texts
