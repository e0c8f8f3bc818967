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
