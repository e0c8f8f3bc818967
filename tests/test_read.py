"""Tests of policy_nlp.read: encodings, normalisation, CSV/JSONL records, directories, stdin."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from policy_nlp.errors import InputError
from policy_nlp.read import Document, decode_bytes, iter_documents, normalize_text, read_documents

SHARED = Path(__file__).resolve().parents[2] / "shared"
RAW = SHARED / "samples" / "raw"

# fixture text in the style of a report, written for these tests
REPORT = "各位代表：\n现在，我代表县政府向大会报告工作。\n一、过去一年工作回顾\n经济稳中有进。\n"


# --- decode_bytes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (REPORT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + REPORT.encode("utf-8"), "utf-8-sig"),
        (REPORT.encode("gb18030"), "gb18030"),
        (REPORT.encode("gbk"), "gb18030"),
        (REPORT.encode("gb2312"), "gb18030"),
        (b"\xff\xfe" + REPORT.encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + REPORT.encode("utf-16-be"), "utf-16-be"),
        (REPORT.encode("utf-16"), "utf-16-le" if sys.byteorder == "little" else "utf-16-be"),
    ],
)
def test_decode_bytes_detects_encoding(encoded: bytes, encoding: str) -> None:
    assert decode_bytes(encoded, source="a.txt") == (REPORT, encoding)


def test_decode_bytes_bom_is_not_kept() -> None:
    text, _ = decode_bytes("\ufeff一、总体要求".encode("utf-8"), source="a.txt")
    assert text == "一、总体要求"


def test_decode_bytes_refuses_undecodable() -> None:
    with pytest.raises(
        InputError, match=r"^a\.txt: cannot decode .*\(tried utf-8, gb18030 and charset detection\)"
    ):
        decode_bytes(b"\x80\xff\x80" + "报告".encode(), source="a.txt")
    # UTF-8 text that stops being UTF-8: the message says where
    with pytest.raises(InputError, match=r"^a\.txt: cannot decode as text: UTF-8 until line 1"):
        decode_bytes("报告".encode() + b"\x80\xff\x80", source="a.txt")


def test_decode_bytes_refuses_bad_data_after_a_bom() -> None:
    with pytest.raises(InputError, match="utf-8-sig"):
        decode_bytes(b"\xef\xbb\xbf\xff\xfe\xfd", source="a.txt")


@pytest.mark.parametrize(
    "data",
    [
        "报告".encode() + b"\x00\x01\x02",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"PK\x03\x04\x14\x00\x06\x00",
    ],
)
def test_decode_bytes_refuses_binary(data: bytes) -> None:
    with pytest.raises(InputError, match=r"^a\.bin: looks like a binary file"):
        decode_bytes(data, source="a.bin")


@pytest.mark.parametrize(
    "data", [b"", b" \r\n\t\n", "\u3000\u3000\n".encode(), b"\xef\xbb\xbf", b"\xff\xfe\n\x00"]
)
def test_decode_bytes_refuses_empty(data: bytes) -> None:
    with pytest.raises(InputError, match=r"^a\.txt: file is empty"):
        decode_bytes(data, source="a.txt")


# --- normalize_text -----------------------------------------------------------------------------


def test_normalize_line_ends() -> None:
    assert normalize_text("一\r\n二\r三\n四\r\r\n五") == "一\n二\n三\n四\n\n五"


def test_normalize_removes_zero_width_anywhere() -> None:
    text = "\ufeff现在\u200b，我代表\u200c县\u200d政府\u2060报告\ufeff工作。"
    assert normalize_text(text) == "现在，我代表县政府报告工作。"


def test_normalize_strips_indents_and_trailing_space() -> None:
    text = "\u3000\u3000一、回顾\u3000\n\u00a0\u00a0增长5%。 \t\n \u3000（八）民生\n\u3000\n"
    assert normalize_text(text) == "一、回顾\n增长5%。\n（八）民生\n\n"


def test_normalize_keeps_content_intact() -> None:
    text = "上海市市长 龚 正\nＧＤＰ增长５％，“十四五”规划（草案）\u3000收官。"
    assert normalize_text(text) == text


def test_normalize_is_idempotent() -> None:
    text = "\u3000\u3000第一段。\r\n\r\n\u200b第二段。 \r"
    once = normalize_text(text)
    assert normalize_text(once) == once


# --- read_documents: text files -----------------------------------------------------------------


def test_read_text_file(tmp_path: Path) -> None:
    path = tmp_path / "县-2012.txt"
    path.write_bytes(("\u3000\u3000" + REPORT).replace("\n", "\r\n").encode("gb18030"))
    (doc,) = read_documents(path)
    assert doc == Document("县-2012", REPORT, str(path), {}, "gb18030", "report")


def test_read_other_extension_is_text(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text(REPORT, encoding="utf-8")
    (doc,) = read_documents(str(path))
    assert (doc.id, doc.kind, doc.text) == ("report", "report", REPORT)


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.txt: no such file or directory"):
        list(read_documents(tmp_path / "nope.txt"))


def test_read_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(InputError, match="empty.txt: file is empty"):
        list(read_documents(tmp_path / "empty.txt"))


# --- read_documents: CSV ------------------------------------------------------------------------


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_read_csv_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "reports.csv",
        'id,text,year\nr1,"一、回顾\r\n全年增长。",2024\n\nr2,第二份报告。,2025\n',
        "utf-8-sig",
    )
    docs = list(read_documents(path))
    assert [d.id for d in docs] == ["r1", "r2"]
    assert docs[0].text == "一、回顾\n全年增长。"
    assert docs[0].meta == {"year": "2024"}
    assert [d.source for d in docs] == [f"{path}:2", f"{path}:5"]  # where each starts
    assert {(d.kind, d.encoding) for d in docs} == {("record", "utf-8-sig")}


def test_read_csv_gb18030_without_id(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "县.csv", "正文,地区\n现在，我代表县政府。,某县\n", "gb18030")
    (doc,) = read_documents(path)
    assert (doc.id, doc.text, doc.meta, doc.encoding) == (
        "县:1",
        "现在，我代表县政府。",
        {"地区": "某县"},
        "gb18030",
    )


def test_read_csv_text_col_is_configurable(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "编号,内容,text\nx,报告正文。,别的\n")
    (doc,) = read_documents(path, text_col="内容", id_col="编号")
    assert (doc.id, doc.text, doc.meta) == ("x", "报告正文。", {"text": "别的"})


def test_read_csv_falls_back_to_a_usual_text_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "province,full_text\n某省,报告正文。\n")
    (doc,) = read_documents(path)
    assert (doc.id, doc.text, doc.meta) == ("a:1", "报告正文。", {"province": "某省"})


@pytest.mark.parametrize(
    ("header", "text_col"),
    [("province,body", "text"), ("content,full_text", "text"), ("text,content", "body")],
)
def test_read_csv_missing_text_column(tmp_path: Path, header: str, text_col: str) -> None:
    path = write_csv(tmp_path / "a.csv", f"{header}\n甲,乙\n")
    with pytest.raises(InputError, match=f"a.csv: no text column '{text_col}'; columns found: "):
        list(read_documents(path, text_col=text_col))


def test_read_csv_huge_field(tmp_path: Path) -> None:
    big = "加快发展。" * 60_000  # 300,000 characters, over csv's default limit of 131,072
    path = write_csv(tmp_path / "a.csv", f'text\n"{big}"\n')
    (doc,) = read_documents(path)
    assert doc.text == big


def test_read_csv_row_of_wrong_length(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "id,text\nr1,好。\nr2,好。,多余\n")
    docs = read_documents(path)
    assert next(docs).id == "r1"
    with pytest.raises(InputError, match=r"a.csv:3: has 3 fields but the header has 2"):
        next(docs)


def test_read_csv_utf16(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "\ufefftext\n报告。\n", "utf-16-le")
    (doc,) = read_documents(path)
    assert (doc.text, doc.encoding) == ("报告。", "utf-16-le")


def test_read_csv_header_only_gives_nothing(tmp_path: Path) -> None:
    assert list(read_documents(write_csv(tmp_path / "a.csv", "id,text\n"))) == []


# --- read_documents: JSONL and JSON -------------------------------------------------------------


def write_jsonl(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_jsonl_records(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "data.jsonl",
        json.dumps({"id": "r1", "text": "一、回顾\r\n增长。", "year": 2024}, ensure_ascii=False),
        "",
        json.dumps({"text": "第二份。", "level": "county"}, ensure_ascii=False),
    )
    docs = list(read_documents(path))
    assert [(d.id, d.text, d.meta) for d in docs] == [
        ("r1", "一、回顾\n增长。", {"year": 2024}),
        ("data:3", "第二份。", {"level": "county"}),
    ]
    assert [d.source for d in docs] == [f"{path}:1", f"{path}:3"]
    assert {(d.kind, d.encoding) for d in docs} == {("record", "utf-8")}


def test_read_jsonl_text_and_id_fields(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", '{"doc": 7, "body": "正文。", "text": "别的"}')
    (doc,) = read_documents(path, text_col="body", id_col="doc")
    assert (doc.id, doc.text, doc.meta) == ("7", "正文。", {"text": "别的"})


def test_read_jsonl_ids_meta_in_order_and_blank_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", '{"b": 1, "id": "", "text": "一。", "a": [2]}',
                       " \t\u3000", '{"id": 0, "z": null, "text": "二。"}', "",
                       '{"text": "三。", "id": null}')
    docs = list(read_documents(path))
    assert [(d.id, d.raw_id) for d in docs] == [("d:1", None), ("0", 0), ("d:5", None)]
    assert [list(d.meta.items()) for d in docs] == [[("b", 1), ("a", [2])], [("z", None)], []]
    assert [d.source for d in docs] == [f"{path}:{n}" for n in (1, 3, 5)]
    (same,) = read_documents(write_jsonl(tmp_path / "e.jsonl", '{"t": "四。", "x": 1}'),
                             text_col="t", id_col="t")  # the id column is the text column
    assert (same.id, same.raw_id, same.meta) == ("四。", "四。", {"x": 1})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"text": "好。"', r"data.jsonl:3: not valid JSON \(.*column"),
        ('["好。"]', r"data.jsonl:3: not a JSON object \(got list\)"),
        ('{"id": "x"}', r'data.jsonl:3: no "text" field'),
        ('{"text": 5}', r'data.jsonl:3: the "text" field is not a string'),
    ],
)
def test_read_jsonl_bad_line(tmp_path: Path, bad: str, message: str) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", '{"text": "一。"}', '{"text": "二。"}', bad)
    docs = read_documents(path)
    assert [next(docs).text, next(docs).text] == ["一。", "二。"]  # streamed: read before line 3
    with pytest.raises(InputError, match=message):
        next(docs)


def test_read_jsonl_streams_a_file_in_two_encodings(tmp_path: Path) -> None:
    # more than the megabyte sniffed for the encoding is UTF-8, then a GB18030 line
    good = json.dumps({"text": "加快发展。" * 50}, ensure_ascii=False).encode() + b"\n"
    n = (1 << 20) // len(good) + 2
    after = '{"text": "报告"}\n'.encode("gb18030") + good
    (tmp_path / "big.jsonl").write_bytes(good * n + after)
    docs = read_documents(tmp_path / "big.jsonl")
    assert next(docs).text.startswith("加快发展。")
    with pytest.raises(InputError, match=rf"big.jsonl:{n + 1}: cannot decode as utf-8"):
        list(docs)
    # with an error policy, only that line is lost: the lines after it are read
    problems: list[InputError] = []
    docs = list(read_documents(tmp_path / "big.jsonl", on_error=problems.append))
    assert len(docs) == n + 1 and [str(p).split(": ")[0] for p in problems] == [
        f"{tmp_path / 'big.jsonl'}:{n + 1}"]


def test_read_json_array(tmp_path: Path) -> None:
    records = [{"id": "a", "text": "一。"}, {"text": "二。", "year": 2020}]
    (tmp_path / "d.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    docs = list(read_documents(tmp_path / "d.json"))
    assert [(d.id, d.text, d.meta, d.kind) for d in docs] == [
        ("a", "一。", {}, "record"),
        ("d:2", "二。", {"year": 2020}, "record"),
    ]


def test_read_json_invalid(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text('{"text": "一。"}\n{"text": "二。"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"d.json: not valid JSON .* name the file .jsonl"):
        list(read_documents(tmp_path / "d.json"))


# --- iter_documents -----------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("乙。", encoding="utf-8")
    (tmp_path / "a.txt").write_text("甲。", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"text": "丙。"}\n', encoding="utf-8")
    (tmp_path / "d.CSV").write_text("text\n丁。\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("隐。", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("隐。", encoding="utf-8")
    (tmp_path / "notes.md").write_text("不读。", encoding="utf-8")
    return tmp_path


def test_iter_directory_recursive_sorted(tree: Path) -> None:
    docs = list(iter_documents([tree]))
    assert [d.text for d in docs] == ["甲。", "乙。", "丙。", "丁。"]
    assert [d.id for d in docs] == ["a", "z", "c:1", "d:1"]


def test_iter_mixed_inputs_in_order(tree: Path) -> None:
    docs = iter_documents([tree / "c.jsonl", str(tree / "b"), tree / "notes.md"])
    assert [d.text for d in docs] == ["丙。", "乙。", "不读。"]


def test_iter_single_path(tree: Path) -> None:
    assert [d.id for d in iter_documents(tree / "a.txt")] == ["a"]


def test_iter_missing_input_fails_first(tree: Path) -> None:
    docs = iter_documents([tree / "a.txt", tree / "missing.txt"])
    with pytest.raises(InputError, match=r"missing.txt: no such file or directory"):
        next(docs)


def test_iter_empty_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n\u3000\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a.txt: file is empty"):
        list(iter_documents([tmp_path]))


def test_iter_directory_without_inputs(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("不读。", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("隐。", encoding="utf-8")
    with pytest.raises(InputError, match=r"no \.txt, \.csv, \.jsonl, \.docx, \.pdf, \.html, "
                                         r"\.htm files in this directory"):
        list(iter_documents([tmp_path]))


def test_iter_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = REPORT.replace("\n", "\r\n").encode("gb18030")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    (doc,) = iter_documents(["-"])
    assert doc == Document("stdin", REPORT, "<stdin>", {}, "gb18030", "report")


def test_iter_empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match="<stdin>: file is empty"):
        list(iter_documents(["-"]))


# --- the raw samples in ../shared ---------------------------------------------------------------

SAMPLE_ENCODINGS = {
    "hailaer-2012-gb18030-crlf.txt": "gb18030",
    "national-2017-gb18030-webpage.txt": "gb18030",
    "shanghai-2026-webpage.csv": "utf-8-sig",
    "hebei-2024-with-header.txt": "utf-8",
    "nanjing-2024-utf8.txt": "utf-8",
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(SAMPLE_ENCODINGS))
def test_read_raw_sample(name: str) -> None:
    if not RAW.is_dir():
        pytest.skip(f"../shared is absent: no raw samples at {RAW}")
    (doc,) = read_documents(RAW / name)
    assert doc.encoding == SAMPLE_ENCODINGS[name]
    assert "现在，我代表" in doc.text
    assert not any(c in doc.text for c in "\r\ufeff\u200b")
    assert not any(line.startswith(("\u3000", " ")) for line in doc.text.split("\n"))


# --- other encodings: detected, and said so in verbose output ----------------------------------


TRADITIONAL = ("各位代表：\n現在，我代表市人民政府向大會報告工作，請予審議。過去一年，全市經濟運行"
               "穩中有進，地區生產總值增長百分之五。\n一、過去一年工作回顧\n堅持穩中求進工作總基調。\n")


@pytest.mark.parametrize(("text", "encoding", "detected"), [
    (TRADITIONAL, "big5", "big5"),
    ("今日は良い天気です。東京都の人口は増えています。日本語の文章を書きます。" * 3,
     "shift_jis", "cp932"),
])
def test_other_encodings_are_detected_and_logged(text, encoding, detected, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="policy_nlp"):
        assert decode_bytes(text.encode(encoding), source="a.txt") == (text, detected)
    assert f"a.txt: encoding {detected} detected by charset-normalizer" in caplog.text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(encoding):
    assert decode_bytes(REPORT.encode(encoding), source="a.txt") == (REPORT, encoding)


@pytest.mark.parametrize("data", [
    bytes(300), bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + bytes(50),
    bytes(b for b in range(1, 32) if b not in b"\n\r") * 40,
])
def test_binary_is_refused(data):
    with pytest.raises(InputError, match=r"^a\.txt: looks like a binary file"):
        decode_bytes(data, source="a.txt")


def test_verbose_cli_names_the_encoding(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from policy_nlp.cli import app

    (tmp_path / "r.txt").write_bytes(TRADITIONAL.encode("big5"))
    result = CliRunner().invoke(app, ["classify", str(tmp_path / "r.txt"), "-m",
                                      str(tiny_model_dir), "-v"])
    assert result.exit_code == 0, result.stderr
    assert "r.txt: encoding big5 detected by charset-normalizer" in result.stderr
    quiet = CliRunner().invoke(app, ["classify", str(tmp_path / "r.txt"), "-m",
                                     str(tiny_model_dir)])
    assert "encoding" not in quiet.stderr


def test_normalize_text_shortcuts_equal_the_four_substitutions():
    """normalize_text skips regexes a text does not need; the result is always that of the
    four substitutions it documents."""
    import random

    from policy_nlp import text as rd

    def by_definition(text):
        text = rd._LINE_BREAKS.sub("\n", text)
        text = rd._ZERO_WIDTH.sub("", text)
        return rd._TRAILING.sub("", rd._INDENT.sub("", text))

    alphabet = list(" \t\u00a0\u3000\r\n\u2028\u2029\x85\x0c\u200b\u200c\u200d\u2060\ufeffa中")
    rng = random.Random(0)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        assert normalize_text(text) == by_definition(text), repr(text)


@pytest.mark.parametrize("line", [
    '{"id": 1, "text": "中文", "x": [1.5, null, true], "y": {"z": -0.0}}',
    '{"id": 123456789012345678901234567890, "text": "big int"}',
    '{"id": "n", "text": "t", "m": {"n": [1.5, -9223372036854775809]}}',
    '{"id": "s", "text": "\\ud800 lone surrogate"}',
    # long digits in a string, no float: orjson's value is json's
    '{"id": "q", "text": "编号1234567890123456789012", "n": 1234567890123456789}',
    '[1, [2.5, [3, {"a": [-12345678901234567890123]}]]]',  # a big integer deep inside
    '{"id": "f", "x": 0.1000000000000000055511151231257827, "text": "long float"}',
    "123456789012345678901234567890",
    "-1.5",
])
def test_jsonl_lines_read_and_write_as_the_json_module_does(line):
    import json

    from policy_nlp.read import jsonl_loads
    from policy_nlp.write import jsonl_line

    value = jsonl_loads(line)
    expected = json.loads(line)
    if "surrogate" in line:  # no character: it could be neither segmented nor written
        assert value == {"id": "s", "text": "\ufffd lone surrogate"}
        assert jsonl_line(value).decode("utf-8")
        return
    assert repr(value) == repr(expected)
    again = json.loads(jsonl_line(value))
    assert repr(again) == repr(expected)  # big integers survive the round trip
    assert jsonl_line(value).endswith(b"\n") and b"\n" not in jsonl_line(value)[:-1]


def test_utf8_jsonl_lines_are_read_from_their_bytes_as_from_their_text(tmp_path: Path) -> None:
    """UTF-8 lines go to orjson as bytes (no decoded copy); what it cannot read -- a BOM, blank
    lines, NaN, lone surrogates, bytes that are not UTF-8 -- still comes out as the json
    module and the line's text give it (but NaN, refused), with each problem at its line."""
    from policy_nlp.read import SkipAndReport

    lines = [
        '{"id": 123456789012345678901234567890, "text": "长整数。", "x": 0.5}',
        "",
        " \u3000",
        '{"id": "s", "text": "\\ud800 孤立代理。"}',
        '{"id": "n", "v": NaN, "text": "非数。"}',
        '{"id": "bad", "text": }',
    ]
    data = b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8") + b"\n" + \
        '{"id": "gb", "text": "国标码。"}'.encode("gb18030") + b"\n"
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(data)
    problems: list[str] = []
    docs = list(read_documents(path, on_error=SkipAndReport(problems.append)))
    assert [(d.id, d.text) for d in docs] == [
        ("123456789012345678901234567890", "长整数。"), ("s", "\ufffd 孤立代理。")]
    assert docs[0].raw_id == 123456789012345678901234567890 and docs[0].meta == {"x": 0.5}
    assert [d.source for d in docs] == [f"{path}:{n}" for n in (1, 4)]
    assert len(problems) == 3  # NaN is no JSON: written out, it would make invalid JSON
    assert f"{path}:5: not valid JSON (NaN is not a JSON number)" in problems[0]
    assert f"{path}:6: not valid JSON" in problems[1]
    assert f"{path}:7: cannot decode as utf-8" in problems[2]


def test_a_line_nested_too_deeply_is_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    """orjson stops at 1,024 levels and the json module at Python's recursion limit: a line
    deeper than both is reported as not valid JSON, and the lines after it are read; the
    whole-file reader and the workers' blocks give the same message (the same column) for a
    bad line."""
    from policy_nlp.batch import LabelOptions, line_blocks
    from policy_nlp.read import SkipAndReport

    path = tmp_path / "deep.jsonl"
    path.write_text('{"id": "a", "text": "甲。"}\n' + "[" * 100_000 + '\n{"text": "乙"\n'
                    '{"id": "c", "text": "丙。"}\n', encoding="utf-8")
    problems: list[str] = []
    docs = list(read_documents(path, on_error=SkipAndReport(problems.append)))
    assert [d.id for d in docs] == ["a", "c"]
    assert len(problems) == 2 and all("not valid JSON" in p for p in problems)
    assert f"{path}:2:" in problems[0] and f"{path}:3:" in problems[1]
    in_blocks: list[str] = []
    policy = SkipAndReport(in_blocks.append)
    for block in line_blocks([(str(path), "utf-8")]):
        assert [d.id for d in block.documents(LabelOptions(), policy)] == ["a", "c"]
    assert in_blocks == problems
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="deep.json: not valid JSON"):
        list(read_documents(deep_json))


def test_jsonl_loads_raises_the_json_modules_error_for_bad_lines():
    import json

    from policy_nlp.read import jsonl_loads

    with pytest.raises(json.JSONDecodeError) as err:
        jsonl_loads('{"id": 1, "text": }')
    assert (err.value.msg, err.value.colno) == ("Expecting value", 19)


# --- mixed encodings and NUL bytes are never read as mojibake ----------------------------------

#: UTF-8 lines, then GB18030 ones: charset-normalizer takes these bytes for cp1250
MIXED = ('{"id":"a","text":"推进改革。"}\n'.encode() + '{"id":"b","text":"稳就业。"}\n'.encode("gb18030"))


def test_a_file_in_utf8_then_gb18030_is_no_mojibake(tmp_path):
    with pytest.raises(InputError, match=r"^m\.txt: cannot decode as text: UTF-8 until line 2"):
        decode_bytes(MIXED, source="m.txt")
    path = tmp_path / "m.jsonl"
    path.write_bytes(MIXED)
    problems: list[str] = []
    docs = list(iter_documents([path], on_error=lambda e: problems.append(str(e))))
    assert [(d.id, d.text) for d in docs] == [("a", "推进改革。")]
    assert problems == [f"{path}:2: cannot decode as utf-8 (invalid continuation byte at byte "
                        "18); is the file in one encoding?"]


@pytest.mark.parametrize("before", [1, 400])
def test_a_csv_in_two_encodings_is_read_up_to_the_line_that_does_not_decode(tmp_path, before):
    """The rows before the first line that does not decode are read, and the problem names
    that line: it said 'after line 0' (or some line of the 8 KB before it) and dropped every
    row decoded with it."""
    rows = "".join(f"r{i},推进改革开放第{i}条。\n" for i in range(before))
    path = tmp_path / "m.csv"
    path.write_bytes(("id,text\n" + rows).encode() + "g1,稳就业。\ng2,保民生。\n".encode("gb18030"))
    problems: list[str] = []
    docs = list(iter_documents([path], on_error=lambda e: problems.append(str(e))))
    assert [d.id for d in docs] == [f"r{i}" for i in range(before)]
    assert problems == [f"{path}:{before + 2}: cannot decode as utf-8 (invalid continuation byte at "
                        "byte 3); is the file in one encoding? The rest of the file was not "
                        "read"]


def test_mojibake_of_a_detected_single_byte_code_page_is_not_taken():
    from policy_nlp.read.decode import _detect

    # charset-normalizer takes the mixed bytes for cp1250: Latin letters, not East Asian text
    assert _detect(MIXED, "m.txt", True) is None
    # a text it detects that reads as Chinese, Japanese or Korean is still taken
    assert _detect(TRADITIONAL.encode("big5"), "a.txt", True) == (TRADITIONAL, "big5")


@pytest.mark.parametrize("data", [b"abc\0def" * 10, b"abc\0def\0", "改革".encode() + b"\0\0"])
def test_nul_bytes_are_binary_not_utf16_unless_it_reads_as_chinese(data):
    with pytest.raises(InputError, match=r"^n\.txt: looks like a binary file"):
        decode_bytes(data, source="n.txt")


@pytest.mark.parametrize("text", ["各位代表：\n推进改革。\n", "Report 2024\n", "改革开放"])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_short_utf16_without_bom_still_reads(text, encoding):
    assert decode_bytes(text.encode(encoding), source="a.txt") == (text, encoding)


def test_label_of_a_mixed_file_skips_the_line_it_cannot_read(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from policy_nlp.cli import app

    (tmp_path / "m.jsonl").write_bytes(MIXED)
    result = CliRunner().invoke(app, ["label", str(tmp_path / "m.jsonl"), "-o", "-", "-m",
                                      str(tiny_model_dir)])
    assert result.exit_code == 5, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["推进改革。"]
    assert "m.jsonl:2: cannot decode as utf-8" in result.stderr


GB18030_BOM = b"\x84\x31\x95\x33"  # U+FEFF in GB18030


@pytest.mark.parametrize("name, content", [
    ("t.csv", "id,text\r\nc1,推进改革开放。\r\nc2,稳定就业。\r\n"),
    ("t.jsonl", '{"id": "c1", "text": "推进改革开放。"}\n{"id": "c2", "text": "稳定就业。"}\n'),
])
def test_a_table_in_gb18030_with_its_byte_order_mark(tmp_path, name, content):
    """The mark is no character of the table: the CSV's first column was named '\\ufeffid'
    (the ids replaced by 't:1', 't:2' unseen), the JSONL's first line skipped as not JSON."""
    path = tmp_path / name
    path.write_bytes(GB18030_BOM + content.encode("gb18030"))
    problems: list[str] = []
    docs = list(iter_documents([path], on_error=lambda e: problems.append(str(e))))
    assert problems == []
    assert [(d.id, d.text) for d in docs] == [("c1", "推进改革开放。"), ("c2", "稳定就业。")]
    assert docs[0].encoding == "gb18030"


def test_a_gb18030_jsonl_with_its_mark_read_by_the_workers(tmp_path, tiny_model_dir):
    # label --jobs 2 reads JSONL files in blocks of lines in the workers
    from policy_nlp.batch import label_inputs

    path = tmp_path / "t.jsonl"
    path.write_bytes(GB18030_BOM + '{"id": "c1", "text": "推进改革开放。"}\n'.encode("gb18030"))
    out = tmp_path / "out.jsonl"
    label_inputs([str(path)], str(out), model_dir=tiny_model_dir, jobs=2)
    assert [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()] == ["c1"]
