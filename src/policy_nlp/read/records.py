"""The one reader of table rows: CSV, JSONL, JSON and XLSX -> numbered records.

Every reader of a table goes through here: the documents of ``label --records``
(:mod:`policy_nlp.read.documents`), the labels of ``train``/``evaluate``
(:mod:`policy_nlp.labels`), ``plot``'s panels and ``validation``'s coded sheets. So a record
is numbered, and JSON parsed, the same way in every command:

* **Where a record is.** ``FILE:N``, N the line of the file where the record starts, counting
  from 1 with the header (a CSV's header is line 1, its first row line 2; a JSONL file's first
  line is line 1; in a JSON array the line where the element opens), as compilers name lines.
  In a spreadsheet (``.xlsx``) N is the row number the spreadsheet shows (the header is row
  1), which is the line number of the same sheet saved as CSV (unless a cell holds a line
  break).
* **JSON.** Standard JSON only: ``NaN``, ``Infinity`` and numbers beyond a double are refused
  (:class:`NotFinite`), integers keep every digit, a lone surrogate (``"\\ud800"``, no
  character) becomes U+FFFD; a line or field is bounded by :data:`~policy_nlp.limits.FIELD`.
* **Problems.** A bad row (a CSV row with more or fewer fields than the header, a JSONL line
  that is not JSON or not an object, a JSON object that gives a key twice) is a problem for the error policy
  (:mod:`policy_nlp.read.problems`): raised by default, else reported and skipped; a problem
  with the file as a whole is raised.

Files are streamed (CSV, JSONL), so a huge file is never held in memory whole; a JSON file and a
workbook are read whole, within :data:`~policy_nlp.limits.FILE`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

from .. import limits
from ..errors import InputError, install_hint
from ..text import without_surrogates
from .decode import (decode_report, decode_text_line, jsonl_lines, open_text, read_bytes,
                     stream_lines)
from .problems import OnError, handle_problem

__all__ = ["FORMULA_START", "NotFinite", "Row", "TABLE_SUFFIXES", "check_file", "csv_rows",
           "csv_stream_rows", "from_spreadsheet_text", "json_rows", "json_text_rows",
           "jsonl_loads", "jsonl_rows", "loads_finite", "orjson_loads", "parse_jsonl_lines",
           "starts_as_formula", "table_rows", "xlsx_rows"]

#: The extensions :func:`table_rows` reads.
TABLE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".xlsx", ".xlsm")


class Row(NamedTuple):
    """One record of a table."""

    line: int  # where it starts: the line of the file (the row of a spreadsheet), from 1
    index: int  # its number among the file's records, from 1 (JSONL: its line)
    fields: dict[str, Any]


def check_file(path: Path, directory: str = ", expected a file") -> None:
    """Raise :class:`InputError` unless ``path`` names a regular file (or a pipe): missing, a
    broken link, a directory (``directory`` ends the message), a device are said so."""
    if not path.exists():
        if path.is_symlink():
            raise InputError(f"{path}: cannot read (a broken symbolic link)")
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        raise InputError(f"{path}: is a directory{directory}")
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise InputError(f"{path}: is {limits.file_kind(mode)}, not a regular file")


# --- JSON values ------------------------------------------------------------------------------

_LONG_DIGITS = re.compile(r"[0-9]{19}")


def jsonl_loads(line: str | bytes) -> Any:
    """One JSON value, parsed by orjson (~2x faster), or by the json module where orjson would
    differ (NaN, integers of 19 digits or more, which orjson makes floats, lone surrogates):
    the value of ``json.loads`` (but for lone surrogates, which become U+FFFD), and its
    ``json.JSONDecodeError`` for text that is not JSON."""
    try:
        return orjson_loads(line)
    except orjson.JSONDecodeError as exc:
        try:
            return _no_surrogates(loads_finite(line), line)
        except RecursionError:  # nested deeper than json's recursion: orjson's error
            raise exc from None


class NotFinite(json.JSONDecodeError):
    """A number JSON cannot hold: ``NaN``, ``Infinity`` (no JSON at all, though Python's json
    module reads them) or one beyond the range of a double (``1e400``). Read, it would make
    the output invalid JSON (``Infinity``)."""

    def __init__(self, what: str):
        ValueError.__init__(self, what)
        self.msg, self.doc, self.pos, self.lineno, self.colno = what, "", 0, 1, 1


def _no_constant(name: str) -> Any:
    raise NotFinite(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NotFinite(f"the number {text[:24]} is beyond the range of a double")
    return value


def loads_finite(text: str | bytes) -> Any:
    """``json.loads``, refusing the numbers of :class:`NotFinite` (raised)."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)


def orjson_loads(line: str | bytes) -> Any:
    """:func:`jsonl_loads` of a line that orjson reads (``orjson.JSONDecodeError`` for the
    others: not JSON, NaN, lone surrogates, bytes that are not UTF-8)."""
    value = orjson.loads(line)
    # orjson's value is json's unless it made a long integer a float: look for digits only
    # then (searching every line costs more than parsing it)
    if _has_float(value) and _LONG_DIGITS.search(
            line if isinstance(line, str) else line.decode("utf-8", "replace")):
        return _no_surrogates(json.loads(line), line)
    return value


def _has_float(value: Any) -> bool:
    """Whether a value as orjson gives it (dicts, lists, scalars) holds a float anywhere."""
    todo = [value]
    while todo:
        value = todo.pop()
        kind = type(value)
        if kind is dict:
            value = value.values()
        elif kind is not list:  # the top value only: the loop below keeps no scalars
            if kind is float:
                return True
            continue
        for v in value:
            kind = type(v)
            if kind is float:
                return True
            if kind is dict or kind is list:
                todo.append(v)
    return False


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

def _no_surrogates(value: Any, line: str | bytes) -> Any:
    """``value`` with each lone surrogate of its strings (a JSON ``"\\ud800"`` escape, which
    is no character: it can be neither segmented nor written as UTF-8) replaced by U+FFFD."""
    if not _SURROGATE_ESCAPE.search(line if isinstance(line, str) else
                                    line.decode("utf-8", "replace")):
        return value
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, list):
        return [_no_surrogates(v, line) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(k, line): _no_surrogates(v, line) for k, v in value.items()}
    return value


_KEY_FORMS: dict[str, tuple[str, bytes, bytes]] = {}  # a key -> how JSON writers spell it


def repeated_key(record: dict[str, Any], text: str | bytes) -> str | None:
    """A key that the JSON object ``text`` (which parsed to ``record``) gives twice, or
    ``None``. A JSON parser keeps the last value of a repeated key, so the first is lost
    unseen (``{"text": A, "text": B}`` is the record of text B).

    A key is looked for as JSON writers spell it, its characters as they are or escaped
    (``json.dumps``' ``"\\u6b63"``): where each key of ``record`` occurs once so, none is
    repeated (a key spelt a third way, partly escaped, goes unseen). Where one occurs more
    often (a value or a nested key may be the same string) the object's keys are counted."""
    raw = type(text) is bytes
    seen = 0
    for key in record:
        forms = _KEY_FORMS.get(key)
        if forms is None:
            plain, escaped = json.dumps(key, ensure_ascii=False), json.dumps(key)
            forms = _KEY_FORMS[key] = (plain, plain.encode("utf-8", "surrogatepass"),
                                       escaped.encode("ascii"))
            if len(_KEY_FORMS) > 10_000:  # keys of every record differing: keep it small
                _KEY_FORMS.clear()
        plain, plain_bytes, escaped = forms
        if raw:
            n = text.count(plain_bytes)
            if escaped != plain_bytes:
                n += text.count(escaped)
        else:
            n = text.count(plain)
            if escaped != plain_bytes:
                n += text.count(escaped.decode("ascii"))
        seen += n > 1
    if not seen:
        return None
    try:
        pairs = json.loads(text, object_pairs_hook=lambda pairs: pairs)
    except RecursionError:  # (parsed before, by orjson, which nests deeper)
        return None
    keys: set[str] = set()
    for key, _ in pairs:
        if key in keys:
            return key
        keys.add(key)
    return None


def _repeated_key_error(path: Path, line: int, key: str) -> InputError:
    return InputError(f"{path}:{line}: the key {key!r} is given twice (a JSON reader keeps "
                      "only the last value); give each key once")


def parse_jsonl_lines(path: Path, lines: Iterable[tuple[int, str | bytes | InputError]],
                      on_error: OnError | None) -> Iterator[Row]:
    """The records of numbered JSONL lines (as :func:`~policy_nlp.read.decode.jsonl_lines`
    gives them: text, or UTF-8 bytes) of ``path``: blank lines skipped, each bad line (not
    decodable, not JSON, not an object) a problem for ``on_error``."""
    for lineno, line in lines:
        if type(line) is bytes:
            raw = line
            try:
                record = orjson_loads(line)
            except orjson.JSONDecodeError:  # blank, not JSON or not UTF-8: read as text
                line = decode_text_line(path, lineno, line, "utf-8")
            else:
                line = None
        if isinstance(line, InputError):
            handle_problem(on_error, line)
            continue
        if line is not None:
            if not line or line.isspace():  # (as `not line.strip()`, without copying it)
                continue
            try:
                record = jsonl_loads(line)
            except NotFinite as exc:
                handle_problem(on_error, InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})"))
                continue
            except json.JSONDecodeError as exc:
                handle_problem(on_error, InputError(
                    f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})"))
                continue
        if type(record) is not dict:
            handle_problem(on_error, _not_an_object(path, lineno, record))
            continue
        key = repeated_key(record, raw if line is None else line)
        if key is not None:
            handle_problem(on_error, _repeated_key_error(path, lineno, key))
            continue
        yield Row(lineno, lineno, record)


def _not_an_object(path: Path, line: int, value: Any) -> InputError:
    return InputError(f"{path}:{line}: not a JSON object (got {type(value).__name__})")


def jsonl_rows(path: Path, on_error: OnError | None = None) -> Iterator[Row]:
    """The records of a JSONL file, streamed (see :func:`parse_jsonl_lines`)."""
    stream, encoding = open_text(path)
    with closing(jsonl_lines(path, stream, encoding)) as lines:  # closes the file at once
        yield from parse_jsonl_lines(path, lines, on_error)


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def _json_values(text: str) -> list[tuple[int, Any, int, int]]:
    """(line where it starts, value, start, end) of each element of a JSON array, or of the
    one value a JSON text holds (not an array): parsed as :func:`loads_finite` parses it,
    raising its errors (at their line and column in the whole text); ``text[start:end]`` is
    the value's JSON."""
    start = _JSON_SPACE.match(text).end()
    if not text.startswith("[", start):
        return [(text.count("\n", 0, start) + 1, loads_finite(text), start, len(text))]
    out: list[tuple[int, Any, int, int]] = []
    line, seen = 1, 0
    i = _JSON_SPACE.match(text, start + 1).end()
    if not text.startswith("]", i):
        while True:
            value, end = _DECODER.raw_decode(text, i)
            line += text.count("\n", seen, i)
            seen = i
            out.append((line, value, i, end))
            i = _JSON_SPACE.match(text, end).end()
            if text.startswith(",", i):
                i = _JSON_SPACE.match(text, i + 1).end()
            elif text.startswith("]", i):
                break
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
    if _JSON_SPACE.match(text, i + 1).end() != len(text):
        raise json.JSONDecodeError("Extra data", text, _JSON_SPACE.match(text, i + 1).end())
    return out


def json_rows(path: Path, on_error: OnError | None = None, *, hint: str = "") -> Iterator[Row]:
    """The records of a JSON file: each element of a top-level array, or the one top-level
    object. Read whole; a file that is not JSON is an :class:`InputError` (``hint`` added to
    its message), an element that is not an object a problem for ``on_error``."""
    text, _ = decode_report(read_bytes(path), str(path), on_error)
    return json_text_rows(path, text, on_error, hint)


def json_text_rows(path: Path, text: str, on_error: OnError | None, hint: str = ""
                   ) -> Iterator[Row]:
    """:func:`json_rows` of the file's text, decoded; the JSON is parsed at once (an
    :class:`InputError` before any record), the records yielded then."""
    try:
        values = _json_values(text)
    except NotFinite as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column "
                         f"{exc.colno}){hint}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON (nested too deeply)") from None
    if _SURROGATE_ESCAPE.search(text):
        values = [(line, _no_surrogates(value, text), *span) for line, value, *span in values]
    return _objects(path, text, values, on_error)


def _objects(path: Path, text: str, values: list[tuple[int, Any, int, int]],
             on_error: OnError | None) -> Iterator[Row]:
    for n, (line, value, start, end) in enumerate(values, 1):
        if type(value) is not dict:
            handle_problem(on_error, _not_an_object(path, line, value))
            continue
        key = repeated_key(value, text[start:end])
        if key is not None:
            handle_problem(on_error, _repeated_key_error(path, line, key))
            continue
        yield Row(line, n, value)


# --- CSV --------------------------------------------------------------------------------------


def raise_csv_field_limit() -> None:
    """Allow CSV fields as long as a whole report (the default limit is 128 KiB), up to
    :data:`~policy_nlp.limits.FIELD` (in characters)."""
    csv.field_size_limit(min(limits.FIELD.bytes, 2**31 - 1))


def check_header(path: Path, names: list[str]) -> None:
    """Refuse a header that names a column twice (``FILE:1``): a record keeps one value per
    name, so one of the two columns would be lost unseen. Unnamed columns (an empty name, as
    a trailing comma makes) are never read by name, and may repeat."""
    seen: dict[str, int] = {}
    for column, name in enumerate(names, 1):
        if name and name in seen:
            raise InputError(f"{path}:1: the header names the column {name!r} twice (columns "
                             f"{seen[name]} and {column}); give each column its own name")
        seen.setdefault(name, column)


def csv_rows(path: Path, on_error: OnError | None = None, *,
             on_header: Callable[[list[str]], None] | None = None) -> Iterator[Row]:
    """The records of a CSV file, streamed: the header (names stripped of spaces) gives the
    keys; blank lines are passed over; a row with more or fewer fields than the header is a
    problem for ``on_error``. ``on_header`` is called with the header before any row (to
    refuse a file without the columns needed, say)."""
    stream, encoding = open_text(path, newline="")
    yield from csv_stream_rows(path, stream, encoding, on_error, on_header=on_header)


def csv_stream_rows(path: Path, stream: IO[str], encoding: str, on_error: OnError | None, *,
                    on_header: Callable[[list[str]], None] | None = None) -> Iterator[Row]:
    """:func:`csv_rows` of a file opened by :func:`~policy_nlp.read.decode.open_text` (with
    ``newline=""``), closed at the end."""
    fed: list[str] = []  # the lines of the row being read
    ended = False  # the last line was read

    def lines() -> Iterator[str]:
        nonlocal ended
        for text in stream_lines(stream, str(path), encoding):
            fed.append(text)
            yield text
        ended = True

    with stream:
        raise_csv_field_limit()
        reader = csv.reader(lines())
        n = 0
        line = 1
        try:
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                raise InputError(f"{path}: file is empty (no CSV header)")
            check_header(path, header)
            if on_header is not None:
                on_header(header)
            line = reader.line_num + 1
            fed.clear()
            for row in reader:
                start, line = line, reader.line_num + 1
                if ended and sum(text.count('"') for text in fed) % 2:
                    # the reader asked for lines past the last inside a quoted cell: its quote
                    # never closes, and the csv module reads the rest of the file into it
                    handle_problem(on_error, InputError(
                        f"{path}:{start}: a quoted cell that opens on this line is never "
                        f"closed: the {len(fed)} lines to the end of the file were read into "
                        "it; the row was skipped (close the quote)"))
                    continue
                fed.clear()
                if not row:
                    continue  # a blank line
                n += 1
                if len(row) != len(header):
                    handle_problem(on_error, InputError(
                        f"{path}:{start}: has {len(row)} fields but the header has "
                        f"{len(header)}"))
                    continue
                yield Row(start, n, dict(zip(header, row, strict=True)))
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise InputError(limits.FIELD.message(f"{path}:{line}") +
                                 "; the rest of the file was not read") from None
            raise InputError(f"{path}: malformed CSV near line {reader.line_num}: {exc}; "
                             "the rest of the file was not read") from None


# --- XLSX -------------------------------------------------------------------------------------


def xlsx_rows(path: Path) -> Iterator[Row]:
    """The first worksheet: row 1 the header, then one record per row (numbered as the
    spreadsheet shows them), its values as text (a whole number without ``.0``); rows with no
    value at all are passed over. Read whole, within :data:`~policy_nlp.limits.FILE`."""
    try:
        import openpyxl
    except ImportError:
        raise InputError(f"{path}: reading .xlsx needs openpyxl: {install_hint('xlsx')}; "
                         "or save the sheet as CSV") from None
    import zipfile

    data = read_bytes(path)
    # refused if it would inflate past the limit
    limits.open_zip(io.BytesIO(data), str(path), what=".xlsx workbook").close()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: the first worksheet is empty")
        names = ["" if h is None else str(h).strip() for h in header]
        check_header(path, names)
        n = 0
        for rownum, values in enumerate(rows, 2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            n += 1
            yield Row(rownum, n, {name: _cell(v) for name, v in zip(names, values, strict=False)
                                  if name})
    except (SyntaxError, ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        # (an XML parse error of the sheet is a SyntaxError)
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: "
                         f"{exc})") from None
    finally:
        book.close()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


# --- coding sheets ----------------------------------------------------------------------------

#: What a spreadsheet takes a CSV cell for a formula by (and tab, CR: OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def starts_as_formula(value: str) -> bool:
    """Whether ``value`` starts as a formula would, after any ``'`` (so that a ``'`` put before
    it by :func:`~policy_nlp.write.spreadsheet_text` can be told from one of its own)."""
    return value.lstrip("'").startswith(FORMULA_START)


def from_spreadsheet_text(value: str) -> str:
    """The text of a cell :func:`~policy_nlp.write.spreadsheet_text` wrote (and of any other
    cell, itself)."""
    return value[1:] if value.startswith("'") and starts_as_formula(value[1:]) else value


def _sheet_row(row: Row) -> Row:
    return row._replace(fields={from_spreadsheet_text(k): (
        from_spreadsheet_text(v) if isinstance(v, str) else v) for k, v in row.fields.items()})


# --- any table --------------------------------------------------------------------------------


def table_rows(path: str | Path, on_error: OnError | None = None, *,
               what: str = "a table", sheet: bool = False
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of each record of a CSV, JSONL, JSON or XLSX file, by its extension
    (lines as the module docstring says). A ``.json`` file holds an array of objects (a Label
    Studio export) or, else, one object a line (as JSONL). ``what`` names the table in the
    message refusing another extension.

    ``sheet``: a coding sheet people may have opened in a spreadsheet (labels): a CSV or XLSX
    cell (and column name) is read without the ``'`` that a sheet's writer puts before a
    cell starting as a formula would (:func:`from_spreadsheet_text`; an XLSX too, for a CSV
    sheet a coder saved as a workbook)."""
    path = Path(path)
    check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = csv_rows(path, on_error)
    elif suffix in (".jsonl", ".ndjson"):
        rows = jsonl_rows(path, on_error)
    elif suffix == ".json":
        text, _ = decode_report(read_bytes(path), str(path), on_error)
        rows = (json_text_rows(path, text, on_error) if text.lstrip().startswith("[")
                else jsonl_rows(path, on_error))
    elif suffix in (".xlsx", ".xlsm"):
        rows = xlsx_rows(path)
    else:
        raise InputError(f"{path}: {what} must be a .csv, .jsonl, .json or .xlsx file")
    if sheet and suffix in (".csv", ".xlsx", ".xlsm"):
        rows = map(_sheet_row, rows)
    return ((row.line, row.fields) for row in rows)
