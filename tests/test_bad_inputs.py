"""The bad-input matrix: every row a bad input in a batch beside a good one, through ``label``.

For each row: the exit code, the one line on standard error that names the problem, and what
happens to the rest of the batch -- by default (skip and report) and with ``--strict``:

* by default a bad file or record is reported (``policy-nlp: skipped: FILE:LINE: …``) and left
  out, everything else is labeled and written, and the exit code is 5; a problem that loses
  nothing (a duplicated id, a truncated last character) is reported as ``kept: …`` and the
  input labeled anyway, exit 5 too;
* with ``--strict`` the first problem stops the run: exit 2, ``policy-nlp: error: …``, no output
  written and an earlier output of the same name left as it was;
* problems of the run itself (an output directory that does not exist, a full disk) stop it in
  both modes, without a half-written file.

Every row also checks: no traceback, and no temporary file left beside the output.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app

runner = CliRunner()
GOOD_IDS = ["g1", "g2"]
PREVIOUS = "results of an earlier run\n"


def _good(tmp: Path) -> Path:
    p = tmp / "good.jsonl"
    p.write_text('{"id": "g1", "text": "新增城镇就业三万人。"}\n'
                 '{"id": "g2", "text": "空气质量优良天数比例提高。"}\n', "utf-8")
    return p


# --- the bad inputs -------------------------------------------------------------------------------


def empty(tmp):
    (tmp / "empty.txt").write_bytes(b"")
    return [tmp / "empty.txt"]


def whitespace_only(tmp):
    (tmp / "blank.txt").write_text(" \n\u3000\u3000\t\r\n\u200b\n", "utf-8")
    return [tmp / "blank.txt"]


def binary(tmp):
    (tmp / "data.txt").write_bytes(bytes(range(256)) * 16)
    return [tmp / "data.txt"]


def binary_without_nul(tmp):
    (tmp / "noise.txt").write_bytes(bytes(b for b in range(1, 256) if b not in b"\r\n") * 16)
    return [tmp / "noise.txt"]


def truncated_utf8(tmp):
    data = "一、工作回顾\n推进高质量发展，扩大内需。".encode()
    (tmp / "cut.txt").write_bytes(data[:-1])  # cut inside the last 。
    return [tmp / "cut.txt"]


def _ascii_head_then_gb18030(tmp, name, tail_encoding):
    head = json.dumps({"id": "pad", "text": "GDP growth 5%.", "note": "x" * (1 << 20)}) + "\n"
    tail = '{"id": "gb", "text": "推进乡村全面振兴。"}\n'.encode(tail_encoding)
    (tmp / name).write_bytes(head.encode("ascii") + tail)
    return [tmp / name]


def gb18030_after_ascii(tmp):
    # a naive reader decides UTF-8 on the first megabyte (all ASCII) and fails on the GB18030
    return _ascii_head_then_gb18030(tmp, "gb.jsonl", "gb18030")


def gb18030_in_utf8_file(tmp):
    p = tmp / "mixed.jsonl"
    p.write_bytes('{"id": "u", "text": "扩大国内需求。"}\n'.encode()
                  + '{"id": "gb", "text": "推进乡村全面振兴。"}\n'.encode("gb18030")
                  + '{"id": "u2", "text": "稳定粮食生产。"}\n'.encode())
    return [p]


def utf8_then_gb18030_report(tmp):
    p = tmp / "two.txt"  # charset-normalizer took the whole for cp1250: mojibake, labeled
    p.write_bytes("各位代表：\n推进改革。\n".encode() + "稳就业。\n".encode("gb18030"))
    return [p]


def nul_bytes_like_utf16(tmp):
    p = tmp / "nul.txt"  # decodes as UTF-16-LE into rare hanzi (扡c敤…): no text
    p.write_bytes(b"abc\0def" * 10)
    return [p]


def five_mb_paragraph(tmp):
    p = tmp / "huge.txt"
    unit = "推进高质量发展，GDP增长5%，"
    p.write_text(unit * ((5 << 20) // len(unit.encode()) + 1) + "。", "utf-8")
    assert p.stat().st_size >= 5 << 20
    return [p]


def many_tiny_paragraphs(tmp):
    p = tmp / "many.txt"
    p.write_text("".join(f"第{i}段。\n" for i in range(100_000)), "utf-8")
    return [p]


def jsonl_bad_line(tmp):
    p = tmp / "bad.jsonl"
    p.write_text('{"id": "b1", "text": "稳增长。"}\n{"id": "b2", "text": \n'
                 '{"id": "b3", "text": "促改革。"}\n', "utf-8")
    return [p]


def csv_no_text_column(tmp):
    p = tmp / "table.csv"
    p.write_text("id,body\nc1,稳增长。\n", "utf-8")
    return [p]


def csv_utf8_then_gb18030(tmp):
    p = tmp / "two.csv"
    p.write_bytes("id,text\nc1,扩大国内需求。\n".encode() + "c2,推进乡村全面振兴。\n".encode("gb18030"))
    return [p]


def csv_unclosed_quote(tmp):
    p = tmp / "quote.csv"
    p.write_text('id,text\nq1,扩大国内需求。\nq2,"推进乡村全面振兴。\nq3,稳定粮食生产。\n'
                 'q4,保障和改善民生。\n', "utf-8")
    return [p]


def jsonl_key_twice(tmp):
    p = tmp / "twice.jsonl"
    p.write_text('{"id": "k1", "text": "扩大国内需求。", "text": "推进乡村全面振兴。"}\n'
                 '{"id": "k2", "text": "稳定粮食生产。"}\n', "utf-8")
    return [p]


def csv_duplicated_header(tmp):
    p = tmp / "twice.csv"
    p.write_text("id,text,text\nt1,推进改革。,稳就业。\n", "utf-8")
    return [p]


def duplicated_ids(tmp):
    p = tmp / "dup.jsonl"
    p.write_text('{"id": "g1", "text": "推进碳达峰碳中和。"}\n', "utf-8")
    return [p]


def unreadable_files(tmp, monkeypatch):
    d = tmp / "reports"
    d.mkdir()
    (d / "a.txt").write_text("各位代表：\n推进高质量发展。\n", "utf-8")
    secret = d / "secret.txt"
    secret.write_text("不可读。\n", "utf-8")
    (d / "zz-link.txt").symlink_to(d / "gone.txt")
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real_open = pathlib.Path.open

        def denied(self, *args, **kwargs):
            if self.name == "secret.txt":
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "open", denied)
        real_os_open = os.open

        def os_denied(path, *args, **kwargs):  # (the readers open files with os.open)
            if os.path.basename(path) == "secret.txt":
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_os_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", os_denied)
    return [d]


def missing_output_dir(tmp):
    return []


def full_disk(tmp, monkeypatch):
    """Every file the run writes in the output directory fails with ENOSPC after 300 bytes, as
    on a full disk (whether it is written through os.fdopen or open)."""
    import builtins

    real_fdopen, real_open = os.fdopen, builtins.open

    class FullDisk:
        def __init__(self, fh):
            self.fh, self.n = fh, 0

        def write(self, s):
            self.n += len(s.encode() if isinstance(s, str) else s)
            if self.n > 300:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(s)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def __getattr__(self, name):
            return getattr(self.fh, name)

    def failing_open(file, mode="r", *a, **k):
        fh = real_open(file, mode, *a, **k)
        writes = any(c in mode for c in "wa+")
        in_output_dir = str(file).startswith(str(tmp)) and not str(file).endswith(".json")
        return FullDisk(fh) if writes and in_output_dir else fh

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    monkeypatch.setattr(builtins, "open", failing_open)
    return []


# --- the matrix ----------------------------------------------------------------------------------


@dataclass
class Row:
    make: Callable
    code: int  # exit code by default
    message: str  # in the one line that reports the problem
    labeled: list[str] | None  # ids that must be in the output (the good batch's are added)
    absent: list[str] = field(default_factory=list)  # ids that must not
    strict_code: int = 2
    output: str = "{t}/out.jsonl"
    n_out: int | None = None  # exact number of output lines, where it matters


ROWS = {
    "empty file": Row(empty, 5, "empty.txt: file is empty", []),
    "whitespace only": Row(whitespace_only, 5, "blank.txt: file is empty", []),
    "binary (NUL bytes)": Row(binary, 5, "data.txt: looks like a binary file", []),
    "binary (no NUL)": Row(binary_without_nul, 5, "noise.txt: looks like a binary file", []),
    "truncated UTF-8": Row(truncated_utf8, 5, "cut.txt: ends inside a UTF-8 character",
                           ["cut#000"]),
    "GB18030 after 1 MB of ASCII": Row(gb18030_after_ascii, 0, "", ["pad", "gb"],
                                       strict_code=0),
    "GB18030 line in a UTF-8 file": Row(gb18030_in_utf8_file, 5,
                                        "mixed.jsonl:2: cannot decode as utf-8", ["u", "u2"],
                                        absent=["gb"]),
    "a report in UTF-8, then GB18030": Row(utf8_then_gb18030_report, 5,
                                           "two.txt: cannot decode as text: UTF-8 until line 3",
                                           [], absent=["two#000"]),
    "NUL bytes that decode as UTF-16": Row(nul_bytes_like_utf16, 5,
                                           "nul.txt: looks like a binary file (it contains NUL "
                                           "bytes)", [], absent=["nul#000"]),
    "5 MB single paragraph": Row(five_mb_paragraph, 0, "", ["huge#000"], strict_code=0,
                                 n_out=3),
    "100k tiny paragraphs": Row(many_tiny_paragraphs, 0, "", ["many#000", "many#99999"],
                                strict_code=0, n_out=100_002),
    "JSONL bad line in the middle": Row(jsonl_bad_line, 5, "bad.jsonl:2: not valid JSON",
                                        ["b1", "b3"], absent=["b2"]),
    "CSV without the text column": Row(csv_no_text_column, 5,
                                       "table.csv: no text column 'text'; columns found: id, body",
                                       [], absent=["c1"]),
    "CSV in UTF-8, then GB18030": Row(
        csv_utf8_then_gb18030, 5, "two.csv:3: cannot decode as utf-8 (invalid continuation "
        "byte at byte 3); is the file in one encoding? The rest of the file was not read",
        ["c1"], absent=["c2"]),
    "CSV cell whose quote is never closed": Row(
        csv_unclosed_quote, 5, "quote.csv:3: a quoted cell that opens on this line is never "
        "closed: the 3 lines to the end of the file were read into it", ["q1"],
        absent=["q2", "q3", "q4"]),
    "JSONL record giving a key twice": Row(
        jsonl_key_twice, 5, "twice.jsonl:1: the key 'text' is given twice", ["k2"],
        absent=["k1"]),
    "CSV with a column named twice": Row(
        csv_duplicated_header, 5, "twice.csv:1: the header names the column 'text' twice "
        "(columns 2 and 3); give each column its own name", [], absent=["t1"]),
    "duplicated ids": Row(duplicated_ids, 5,
                          "good.jsonl:1: duplicate id 'g1' (an earlier record", [], n_out=3),
    "directory with unreadable files": Row(unreadable_files, 5,
                                           "secret.txt: cannot read (Permission denied)",
                                           ["a#000"]),
    "output in a missing directory": Row(missing_output_dir, 2,
                                         "the output directory {t}/nodir does not exist", None,
                                         output="{t}/nodir/out.jsonl"),
    "full disk (failing writer)": Row(full_disk, 4, "out.jsonl: cannot write (No space left on "
                                      "device) (out.jsonl is left as it was); the work done so "
                                      "far is kept in out.jsonl.partial for --resume", None,
                                      strict_code=4),
}
SLOW = {"5 MB single paragraph", "100k tiny paragraphs"}


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return tiny_model_dir


def _cases():
    for name in ROWS:
        for strict in (False, True):
            if name in SLOW and strict:
                continue  # nothing is wrong with these: strict behaves the same
            marks = [pytest.mark.slow] if name in SLOW else []
            yield pytest.param(name, strict, id=f"{name}{' --strict' if strict else ''}",
                               marks=marks)


@pytest.mark.parametrize(("name", "strict"), list(_cases()))
def test_bad_input(name, strict, tmp_path, model, monkeypatch):
    row = ROWS[name]
    needs_patch = "monkeypatch" in row.make.__code__.co_varnames[: row.make.__code__.co_argcount]
    bad = row.make(tmp_path, monkeypatch) if needs_patch else row.make(tmp_path)
    good = _good(tmp_path)
    output = Path(row.output.format(t=tmp_path))
    if output.parent.exists():
        output.write_text(PREVIOUS, "utf-8")  # an earlier run's results: never lost
    args = ["label", *map(str, bad), str(good), "-o", str(output), "-m", str(model),
            "--no-progress"] + (["--strict"] if strict else [])
    result = runner.invoke(app, args)
    stderr = result.stderr
    assert "Traceback" not in stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), stderr
    code = row.strict_code if strict else row.code
    assert result.exit_code == code, stderr
    message = row.message.format(t=tmp_path)
    problem_lines = [line for line in stderr.splitlines()
                     if line.startswith(("policy-nlp: error:", "policy-nlp: skipped:",
                                         "policy-nlp: kept:"))]
    if message:
        assert any(message in line for line in problem_lines), stderr
    else:
        assert problem_lines == [], stderr
    leftovers = [p.name for p in output.parent.glob(".*")] if output.parent.exists() else []
    assert leftovers == []  # no temporary file left behind

    if code in (0, 5):  # the rest of the batch is labeled and written
        if code == 5:
            assert stderr.splitlines()[-1].startswith("policy-nlp: warning:")
            assert "--strict stops at the first" in stderr
        recs = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
        ids = [r["id"] for r in recs]
        for want in [*row.labeled, *GOOD_IDS]:
            assert want in ids
        for unwanted in row.absent:
            assert unwanted not in ids
        if row.n_out is not None:
            assert len(recs) == row.n_out
        for r in recs[:50]:
            assert abs(sum(r["scores"].values()) - 1) < 1e-3
    else:  # stopped: one error line, no output, the earlier output as it was
        assert problem_lines[-1].startswith("policy-nlp: error:")
        assert len(problem_lines) == 1
        if output.parent.exists():
            assert output.read_text("utf-8") == PREVIOUS


def test_truncated_utf8_text_is_kept_but_the_incomplete_character_dropped(tmp_path, model):
    (path,) = truncated_utf8(tmp_path)
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["label", str(path), "-o", str(out), "-m", str(model)])
    assert result.exit_code == 5
    (rec,) = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert rec["text"] == "推进高质量发展，扩大内需"


def test_gb18030_after_ascii_is_read_as_gb18030(tmp_path, model):
    (path,) = gb18030_after_ascii(tmp_path)
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["label", str(path), "-o", str(out), "-m", str(model), "-v",
                                 "--no-progress"])
    assert result.exit_code == 0, result.stderr
    assert "gb.jsonl: encoding gb18030" in result.stderr  # said in verbose output
    recs = {r["id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert recs["gb"]["text"] == "推进乡村全面振兴。"


def test_every_input_bad_is_an_error_not_an_empty_output(tmp_path, model):
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["label", *map(str, empty(tmp_path) + binary(tmp_path)),
                                 "-o", str(out), "-m", str(model)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "policy-nlp: error: nothing to label: every input was skipped (2)")
    assert not out.exists()


def test_classify_reports_and_skips_too(tmp_path, model):
    (path,) = jsonl_bad_line(tmp_path)
    result = runner.invoke(app, ["classify", str(path), "-m", str(model), "-f", "jsonl"])
    assert result.exit_code == 5
    assert "policy-nlp: skipped: " in result.stderr and len(result.stdout.splitlines()) == 2
    strict = runner.invoke(app, ["classify", str(path), "-m", str(model), "--strict"])
    assert strict.exit_code == 2 and strict.stdout == ""


def test_classify_of_an_input_with_nothing_to_classify_says_so_once(tmp_path, model):
    """The skip and the error of one input were two lines for one problem."""
    (path,) = empty(tmp_path)
    result = runner.invoke(app, ["classify", str(path), "-m", str(model)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"policy-nlp: error: {path}: file is empty\n"
    table = tmp_path / "blank.csv"
    table.write_text("id,text\n1,\n2,。\n", "utf-8")
    result = runner.invoke(app, ["classify", str(table), "-m", str(model)])
    assert result.exit_code == 2
    assert result.stderr == (f"policy-nlp: error: {table}: no paragraphs found (2 problems, "
                             f"the first: {table}:2: no text to classify (empty or only "
                             "punctuation))\n")


def test_a_table_that_names_a_column_twice_is_refused_by_every_reader(tmp_path):
    """One of the two columns was lost unseen (a record keeps one value per name); an
    unnamed column (a trailing comma) may repeat."""
    from policy_nlp.errors import InputError
    from policy_nlp.read import table_rows

    (path,) = csv_duplicated_header(tmp_path)
    with pytest.raises(InputError, match=r"twice\.csv:1: the header names the column 'text'"):
        list(table_rows(path))
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("id,text,,\n1,推进改革。,,\n", "utf-8")
    assert [row["text"] for _, row in table_rows(trailing)] == ["推进改革。"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_on_standard_output(tmp_path, model):
    """A real ENOSPC: standard output redirected to /dev/full, in a separate process."""
    good = _good(tmp_path)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "policy_nlp.cli", "label", str(good), "-o", "-", "-m",
             str(model), "--no-progress"],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "policy-nlp: error: <stdout>: cannot write (No space left on device)")
    assert "Traceback" not in proc.stderr

