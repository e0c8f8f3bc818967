import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.errors import InputError
from policy_nlp.labels import LabelSource, load_joined, load_labels, load_table, validate

from .conftest import fixture_rows, write_pool


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def paragraphs(tmp_path):
    return _write(tmp_path / "paragraphs.jsonl", [
        {"id": "r1#000", "report_id": "r1", "level": "county", "section": ["一、回顾"],
         "text": "全年地区生产总值增长五%。"},
        {"id": "r2#000", "report_id": "r2", "level": "national", "section": [],
         "text": "推进碳达峰碳中和。"},
    ])


def test_join_by_id(tmp_path, paragraphs):
    labels = _write(tmp_path / "labels.jsonl", [
        {"id": "r1#000", "label": "economy", "secondary": ["industry"]},
        {"id": "r2#000", "label": "environment", "secondary": []},
    ])
    data = load_joined(labels, paragraphs)
    assert data.texts == ["全年地区生产总值增长五%。", "推进碳达峰碳中和。"]
    assert data.groups == ["r1", "r2"] and data.levels == ["county", "national"]
    assert data.secondary == [["industry"], []]
    assert set(data.files) == {"labels.jsonl", "paragraphs.jsonl"}


@pytest.mark.parametrize(("rows", "message"), [
    ([{"id": "r9#000", "label": "economy"}], r"labels.jsonl:1: id 'r9#000' is not in"),
    ([{"id": "r1#000", "label": "economics"}], r"labels.jsonl:1: unknown theme 'economics'"),
    ([{"id": "r1#000", "label": "economy", "secondary": ["nope"]}], r":1: unknown theme 'nope'"),
    ([{"id": "r1#000", "label": "economy"}, {"id": "r1#000", "label": "economy"}],
     r"labels.jsonl:2: id 'r1#000' is labeled twice"),
    ([{"id": "r1#000"}], r"labels.jsonl:1: a label record needs"),
])
def test_join_errors_name_the_line(tmp_path, paragraphs, rows, message):
    labels = _write(tmp_path / "labels.jsonl", rows)
    with pytest.raises(InputError, match=message):
        load_joined(labels, paragraphs)


def test_bad_json_line_is_named(tmp_path, paragraphs):
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "r1#000", "label": "economy"}\n{oops\n', "utf-8")
    with pytest.raises(InputError, match=r"labels.jsonl:2: not valid JSON"):
        load_joined(labels, paragraphs)


def test_table_csv_with_custom_columns(tmp_path):
    path = tmp_path / "coded.csv"
    path.write_text("段落,主题,报告\n推进碳中和。,environment,a\n稳增长。,economy,b\n", "utf-8")
    data = load_table(path, text_col="段落", label_col="主题", group_col="报告")
    assert data.labels == ["environment", "economy"] and data.groups == ["a", "b"]
    assert data.ids == ["coded:2", "coded:3"]


def test_table_errors(tmp_path):
    path = tmp_path / "coded.csv"
    path.write_text("body,label\n推进碳中和。,environment\n", "utf-8")
    with pytest.raises(InputError, match=r"coded.csv:2: no column 'text'; found 'body', 'label'"):
        load_table(path)
    path.write_text("text,label\n推进碳中和。,environment\n ,economy\n", "utf-8")
    with pytest.raises(InputError, match=r"coded.csv:3: empty text"):
        load_table(path)
    with pytest.raises(InputError, match="no such file"):
        load_table(tmp_path / "missing.csv")
    (tmp_path / "empty.jsonl").write_text("\n", "utf-8")
    with pytest.raises(InputError, match="empty"):
        load_table(tmp_path / "empty.jsonl")


# -- partial and multiple sheets ----------------------------------------------------------

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _csv(path, header, rows):
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_blank_labels_are_skipped_and_counted(tmp_path):
    path = _csv(tmp_path / "sheet.csv", ["id", "text", "label"],
                [["a", "稳增长。", "economy"], ["b", "治污染。", ""], ["c", "惠民生。", "  "],
                 ["d", "反腐败。", "integrity"]])
    data = load_table(path, strict=False)
    assert data.labels == ["economy", "integrity"]
    assert data.blank == [f"{path}:3", f"{path}:4"]
    (warning,) = [p for p in validate(data).problems if p.kind == "blank_label"]
    assert warning.severity == "warning"
    assert warning.message.startswith(f"2 rows with a blank label skipped (not coded yet; "
                                      f"--strict makes them errors): {path}:3, {path}:4")
    strict = load_table(path, strict=False, blank="error")
    assert [p.kind for p in strict.problems] == ["empty_label", "empty_label"]
    only_blank = _csv(tmp_path / "blank.csv", ["text", "label"], [["稳增长。", ""]])
    with pytest.raises(InputError, match=r"no labeled rows \(1 rows with a blank label\)"):
        load_table(only_blank)


def test_label_source_syntax(tmp_path):
    spec = LabelSource.parse("sheet2.csv:text=段落,label=主题,id=编号")
    assert spec.path.name == "sheet2.csv"
    assert spec.columns == {"text": "段落", "label": "主题", "id": "编号"}
    assert LabelSource.parse("coded.csv") == LabelSource(Path("coded.csv"))
    odd = tmp_path / "a:b=c.csv"  # an existing file is taken as it is
    odd.write_text("text,label\n", "utf-8")
    assert LabelSource.parse(str(odd)).path == odd
    with pytest.raises(InputError, match=r"cannot read 'colour=x'; write FILE:role=column"):
        LabelSource.parse("sheet.csv:text=段落,colour=x")


def test_a_role_named_twice_in_a_label_source_is_refused():
    # 'text=段落,label=主题,text=编号' read the ids as the texts, the last one kept unseen
    with pytest.raises(InputError, match=r"--labels sheet.csv:text=段落,label=主题,text=编号: "
                                         r"the role 'text' is named twice \('段落' and '编号'\)"):
        LabelSource.parse("sheet.csv:text=段落,label=主题,text=编号")


def test_columns_are_found_by_name_or_mapped(tmp_path):
    rows = fixture_rows()
    a = _csv(tmp_path / "a.csv", ["编号", "段落", "主题", "报告"],
             [[r["id"], r["text"], r["label"], r["report_id"]] for r in rows[:12]])
    b = _csv(tmp_path / "b.csv", ["pid", "body", "code", "doc"],
             [[r["id"], r["text"], r["label"], r["report_id"]] for r in rows[12:]])
    data = load_labels([a, f"{b}:id=pid,text=body,label=code,group=doc"])
    assert data.ids == [r["id"] for r in rows]
    assert data.labels == [r["label"] for r in rows]
    assert data.groups == [r["report_id"] for r in rows] and data.grouping == "report"
    assert set(data.files) == {"a.csv", "b.csv"}
    with pytest.raises(InputError, match=r"b.csv:2: no column 'text', 'label'; found 'pid'"):
        load_labels([a, b])


def test_conflicting_ids_across_files(tmp_path):
    rows = fixture_rows()
    a = _csv(tmp_path / "a.csv", ["id", "text", "label"],
             [[r["id"], r["text"], r["label"]] for r in rows[:3]])
    b = _csv(tmp_path / "b.csv", ["id", "text", "label"],
             [[rows[0]["id"], rows[0]["text"], "livelihood"],  # differs from a.csv
              [rows[1]["id"], rows[1]["text"], rows[1]["label"]]])  # agrees: kept once
    data = load_labels([a, b], strict=False)
    assert len(data) == 3
    (conflict,) = data.problems
    assert conflict.kind == "conflicting_label"
    assert conflict.message == (
        f"id {rows[0]['id']!r} is labeled 'economy' at {a}:2 and 'livelihood' at {b}:2 "
        "(choose with --prefer first|last|FILE, or correct one)")
    with pytest.raises(InputError, match="is labeled 'economy' at"):
        load_labels([a, b])
    assert load_labels([a, b], prefer="first").labels[0] == "economy"
    assert load_labels([a, b], prefer="last").labels[0] == "livelihood"
    assert load_labels([a, b], prefer="b.csv").labels[0] == "livelihood"
    assert load_labels([b, a], prefer="b.csv").labels[0] == "livelihood"
    assert load_labels([a, b], prefer="last").where[0] == f"{b}:2"
    with pytest.raises(InputError, match=r"--prefer c\.csv: expected first, last or one of"):
        load_labels([a, b], prefer="c.csv")


def test_half_coded_suggest_sheet_trains_as_it_is(tmp_path, tiny_model_dir):
    rows = fixture_rows()
    gold = {r["id"]: r["label"] for r in rows}
    pool = write_pool(tmp_path / "pool.jsonl")
    sheet = tmp_path / "sheet.csv"
    made = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 24, "--per-report", 4,
               "-o", sheet)
    assert made.exit_code == 0, made.stderr
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, sheet_rows = reader.fieldnames, list(reader)
    # the coder codes half the rows: three of each theme, the rest left blank
    per_theme: dict[str, int] = {}
    for r in sheet_rows:
        theme = gold[r["id"]]
        if per_theme.get(theme, 0) < 3:
            per_theme[theme] = per_theme.get(theme, 0) + 1
            r["label"] = theme
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(sheet_rows)
    trained = run("train", "--labels", sheet, "-o", tmp_path / "m", "--cv-folds", 0,
                  "--min-df", 1, "-j", 1)
    assert trained.exit_code == 0, trained.stderr
    assert "warning: 12 rows with a blank label skipped" in trained.stderr
    card = json.loads((tmp_path / "m" / "model.json").read_text("utf-8"))
    assert card["data"]["n_paragraphs"] == 12
    strict = run("train", "--labels", sheet, "-o", tmp_path / "m2", "--strict")
    assert strict.exit_code == 2 and "12 bad labels" in strict.stderr
    assert "sheet.csv:" in strict.stderr and ": empty label" in strict.stderr
    assert not (tmp_path / "m2").exists()
    checked = run("validate-labels", "--labels", sheet)
    assert "12 rows with a blank label skipped" in checked.stdout
    for command in ("evaluate", "compare"):
        args = ([command, "--labels", sheet, "-m", tiny_model_dir] if command == "evaluate"
                else [command, tiny_model_dir, tmp_path / "m", "--labels", sheet])
        scored = run(*args)
        assert scored.exit_code == 0, scored.stderr
        assert "warning: 12 rows with a blank label skipped" in scored.stderr


def test_two_files_with_different_columns_train_together(tmp_path):
    rows = fixture_rows()
    a = _csv(tmp_path / "coded.csv", ["id", "text", "label", "report_id"],
             [[r["id"], r["text"], r["label"], r["report_id"]] for r in rows[::2]])
    b = _csv(tmp_path / "sheet2.csv", ["编号", "段落", "主题", "报告"],
             [[r["id"], r["text"], r["label"], r["report_id"]] for r in rows[1::2]])
    trained = run("train", "--labels", a, "--labels", f"{b}:text=段落,label=主题,id=编号",
                  "-o", tmp_path / "m", "--cv-folds", 0, "--min-df", 1, "-j", 1)
    assert trained.exit_code == 0, trained.stderr
    card = json.loads((tmp_path / "m" / "model.json").read_text("utf-8"))
    assert card["data"]["n_paragraphs"] == 24 and card["data"]["n_reports"] == 6
    # the same id coded differently in the second file: a conflict naming both, exit 2
    c = _csv(tmp_path / "recode.csv", ["id", "text", "label"],
             [[rows[0]["id"], rows[0]["text"], "integrity"]])
    clash = run("validate-labels", "--labels", a, "--labels", c)
    assert clash.exit_code == 2
    assert f"is labeled 'economy' at {a}:2 and 'integrity' at {c}:2" in clash.stdout
    assert run("validate-labels", "--labels", a, "--labels", c, "--prefer",
               "recode.csv").exit_code == 0
