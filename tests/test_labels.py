import json

import pytest

from policy_nlp.errors import InputError
from policy_nlp.labels import load_joined, load_table


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
