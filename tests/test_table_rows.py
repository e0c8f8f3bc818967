"""The one reader of tables (policy_nlp.read.records): the same bad row is named at the same
place, FILE:LINE (the line where the record starts), by every command that reads a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.errors import InputError
from policy_nlp.read import table_rows
from policy_nlp.read.records import json_rows

from .conftest import assert_no_traceback

# line 1 the header; the first record spans lines 2-3 (a quoted line break), so the record
# with one field too many starts on line 4 (the spreadsheet's row 3: lines, not rows, count)
BAD_CSV = ('id,text,label\n'
           'p1,"推动经济发展。\n扩大内需。",economy\n'
           'p2,保护环境。,environment,extra\n'
           'p3,增进民生福祉。,livelihood\n')
BAD_JSONL = ('{"id": "p1", "text": "推动经济发展。", "label": "economy"}\n'
             '\n'
             '{"id": "p2", "text": "保护环境。", "label": "environment"\n'
             '{"id": "p3", "text": "增进民生福祉。", "label": "livelihood"}\n')

# line 3 gives 'text' twice: JSON parsers keep the last value, so the first text was lost
# unseen (labeled, trained on, as the second)
REPEATED_KEY = ('{"id": "p1", "text": "推动经济发展。", "label": "economy"}\n'
                '\n'
                '{"id": "p2", "text": "保护环境。", "label": "environment", "text": "增进民生福祉。"}\n'
                '{"id": "p3", "text": "增进民生福祉。", "label": "livelihood"}\n')


def _commands(path: Path, tmp_path: Path, model: Path) -> dict[str, list[str]]:
    return {
        "train --labels": ["train", "--labels", str(path), "-o", str(tmp_path / "m"),
                           "--cv-folds", "0"],
        "evaluate": ["evaluate", "--labels", str(path), "-m", str(model)],
        "plot": ["plot", str(path), "-o", str(tmp_path / "figures")],
        "label": ["label", str(path), "-o", str(tmp_path / "out.jsonl"), "-m", str(model),
                  "--no-progress"],
    }


@pytest.mark.parametrize("name, content, where, what", [
    ("bad.csv", BAD_CSV, 4, "has 4 fields but the header has 3"),
    ("bad.jsonl", BAD_JSONL, 3, "not valid JSON"),
    ("twice.jsonl", REPEATED_KEY, 3, "the key 'text' is given twice"),
])
def test_every_command_names_a_bad_row_at_the_same_line(tmp_path, tiny_model_dir, name,
                                                         content, where, what):
    path = tmp_path / name
    path.write_text(content, "utf-8")
    place = f"{path}:{where}: {what}"
    for command, args in _commands(path, tmp_path, tiny_model_dir).items():
        result = CliRunner().invoke(app, args)
        assert_no_traceback(result)
        assert place in result.stderr, f"{command}: {result.stderr}"
        if command == "label":  # records are skipped one by one: the others are labeled
            assert result.exit_code == 5, result.stderr  # done, with some input skipped
            assert f"skipped: {place}" in result.stderr
            lines = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
            assert [json.loads(line)["id"] for line in lines] == ["p1", "p3"]
        else:
            assert result.exit_code == 2, f"{command}: {result.stderr}"


def test_records_are_numbered_by_the_line_they_start_on(tmp_path):
    csv_path = tmp_path / "t.csv"
    csv_path.write_text(BAD_CSV.replace(",extra", ""), "utf-8")
    assert [n for n, _ in table_rows(csv_path)] == [2, 4, 5]
    jsonl_path = tmp_path / "t.jsonl"
    jsonl_path.write_text(BAD_JSONL.replace('"environment"\n', '"environment"}\n'), "utf-8")
    assert [n for n, _ in table_rows(jsonl_path)] == [1, 3, 4]
    json_path = tmp_path / "t.json"  # a pretty-printed array (a Label Studio export)
    json_path.write_text(json.dumps([{"id": "a"}, {"id": "b", "x": [1, 2]}], indent=2), "utf-8")
    rows = list(json_rows(json_path))
    assert [(r.line, r.index, r.fields["id"]) for r in rows] == [(2, 1, "a"), (5, 2, "b")]
    assert [n for n, _ in table_rows(json_path)] == [2, 5]


@pytest.mark.parametrize("text, message", [
    ('[{"id": 1}, NaN]', "NaN is not a JSON number"),
    ('[{"id": 1e400}]', "beyond the range of a double"),
    ('[{"id": 1},\n {"id": 2} {"id": 3}]', "Expecting ',' delimiter at line 2 column 12"),
    ('[{"id": 1}] x', "Extra data at line 1 column 13"),
])
def test_json_is_parsed_as_everywhere(tmp_path, text, message):
    path = tmp_path / "t.json"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError, match=message):
        list(table_rows(path))


def test_an_element_that_is_not_an_object_is_named_by_its_line(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('[\n{"id": 1},\n"two",\n{"id": 3}\n]', "utf-8")
    with pytest.raises(InputError, match=r"t.json:3: not a JSON object \(got str\)"):
        list(table_rows(path))
    got, problems = [], []
    got = [r.fields["id"] for r in json_rows(path, problems.append)]
    assert got == [1, 3] and len(problems) == 1


def test_surrogates_are_replaced_in_every_table(tmp_path):
    for name, text in (("s.jsonl", '{"id": "\\ud800x"}\n'), ("s.json", '[{"id": "\\ud800x"}]')):
        (tmp_path / name).write_text(text, "utf-8")
        assert [row["id"] for _, row in table_rows(tmp_path / name)] == ["\ufffdx"]


@pytest.mark.parametrize("line", [
    '{"id": "a", "text": "保护环境。", "text": "增进民生福祉。"}',
    # as json.dumps writes it (ensure_ascii), a key written escaped and plain, a nested key
    json.dumps({"id": "a", "正文": "保护环境。"})[:-1] + ', "正文": "x"}',
    '{"id": "a", "text": "保护环境。", "id": "b"}',
])
def test_a_record_giving_a_key_twice_is_a_bad_row(tmp_path, line):
    for name, content in (("t.jsonl", line + "\n"), ("t.json", f"[\n{line}\n]")):
        path = tmp_path / name
        path.write_text(content, "utf-8")
        with pytest.raises(InputError, match=r":[12]: the key '(text|正文|id)' is given twice"):
            list(table_rows(path))
    gb = tmp_path / "gb.jsonl"  # a JSONL file in GB18030: its lines are decoded as text
    gb.write_bytes((line + "\n").encode("gb18030"))
    with pytest.raises(InputError, match="is given twice"):
        list(table_rows(gb))


def test_a_value_or_a_nested_key_like_a_key_is_no_repeat(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [{"id": "text", "text": "保护环境。", "meta": {"id": 1, "text": "x"}},
            {"id": "b", "text": "a \"text\" b", "tags": ["text", "id"]}]
    path.write_text("".join(json.dumps(r, ensure_ascii=a) + "\n" for r in rows
                            for a in (True, False)), "utf-8")
    assert [row["id"] for _, row in table_rows(path)] == ["text", "text", "b", "b"]


def test_a_quoted_cell_closed_on_a_later_line_is_no_problem(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text\na,"一行\n二行"\nb,"末行 ""引号"""', "utf-8")
    assert [row["text"] for _, row in table_rows(path)] == ["一行\n二行", '末行 "引号"']


# cells a spreadsheet takes for formulas (= + - @, tab, CR: OWASP's list), cells starting
# with ' before such a start (the quote a sheet adds must be told from their own), and others
# (a lone CR is left out of the CSV: the csv module does not quote it, see write_rows)
SHEET_CELLS = ["=1+2", "+3", "-国内生产总值", "@x", "\t=a", "'=c", "''-d", "'", "'a", "",
               "a=b", "普通段落。"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_sheet_for_people_holds_no_formula_and_reads_back_exactly(tmp_path, fmt):
    """write_table(sheet=True): a CSV that people open in a spreadsheet puts a ' before every
    cell (a column name too) that starts as a formula would; table_rows(sheet=True) gives
    every cell back as it was. JSONL is no spreadsheet's: written as it is."""
    from policy_nlp.write import write_table

    rows = [{"id": v, "=col": v, "n": 1} for v in SHEET_CELLS]
    path = tmp_path / f"sheet.{fmt}"
    assert write_table(rows, path, fmt, sheet=True) == len(rows)
    if fmt == "csv":
        import csv

        with path.open(encoding="utf-8-sig", newline="") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert "'=col" in cells and "'''-d" in cells and "'a" in cells
        rows = [{k: str(v) for k, v in row.items()} for row in rows]
    assert [r for _, r in table_rows(path, sheet=True)] == rows
    # read as any other table, a CSV's cells are as the file has them
    assert ([r for _, r in table_rows(path)] == rows) is (fmt == "jsonl")


def test_a_lone_carriage_return_in_a_csv_cell_keeps_its_row_whole(tmp_path):
    """csv quotes a field holding the line terminator (\\n) but not a lone CR: an id or a
    pass-through field with one went out bare and split its row for every reader."""
    from policy_nlp.write import write_table

    rows = [{"id": "a\rb", "text": "推进。", "note\rx": "1"},
            {"id": "c", "text": "第二段", "note\rx": "y\r\nz"},
            {"id": "d", "text": "plain", "note\rx": ""}]
    path = tmp_path / "t.csv"
    assert write_table(rows, path, "csv") == 3
    raw = path.read_text("utf-8-sig")
    assert raw.splitlines()[-1] == "d,plain,"  # rows without a CR are written as before
    back = [r for _, r in table_rows(path)]
    assert [r["id"] for r in back] == ["a\rb", "c", "d"]
    assert [r["note\rx"] for r in back] == ["1", "y\r\nz", ""]
