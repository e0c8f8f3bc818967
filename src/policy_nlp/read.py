"""Read inputs: bytes -> text -> :class:`Document`.

The first step of the data flow. A report arrives as a text file in any of the encodings that
Chinese government sites and repositories use (UTF-8 with or without BOM, UTF-16 with BOM, GB18030
and its subsets GBK/GB2312), or as records of a CSV or JSONL file. Everything is decoded here,
normalised (line ends, zero-width characters, indents) and handed on as :class:`Document`.

Files are read lazily: CSV and JSONL are streamed record by record, so a huge JSONL file is never
held in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import InputError

__all__ = ["Document", "decode_bytes", "iter_documents", "normalize_text", "read_documents"]

#: Extensions picked up when a directory is given; any other file named explicitly is text.
INPUT_SUFFIXES = (".txt", ".csv", ".jsonl")
#: Text columns/fields used when the one asked for (the default ``"text"``) is absent.
USUAL_TEXT_NAMES = ("text", "full_text", "content", "正文")

_FALLBACK_ENCODINGS = ("utf-8", "gb18030")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BINARY_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP, e.g. .docx or .xlsx"),
    (b"\xd0\xcf\x11\xe0", "old MS Office, e.g. .doc or .xls"),
)
_SNIFF_BYTES = 1 << 20

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85\x0c]")
_INDENT = re.compile("^[ \t\u00a0\u3000]+", re.MULTILINE)
_TRAILING = re.compile("[ \t\u00a0\u3000]+$", re.MULTILINE)


@dataclass
class Document:
    """One report (a text file) or one record (a CSV row, a JSONL line) with its text.

    Attributes
    ----------
    id : str
        The file stem for a report; the ``id`` field/column of a record, else ``"<stem>:<n>"``.
    text : str
        The text, normalised by :func:`normalize_text`.
    source : str
        Where it came from: the path, plus ``:line N`` (JSONL) or ``:row N`` (CSV) for records.
    meta : dict
        The record's other fields or columns, passed through unchanged.
    encoding : str or None
        The encoding the bytes were decoded from.
    kind : str
        ``"report"`` for a whole text file, ``"record"`` for a row of a CSV or JSONL file.
    """

    id: str
    text: str
    source: str
    meta: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None
    kind: str = "report"
    raw_id: Any = None  # a record's id as given in the file (an int stays an int)


def decode_bytes(data: bytes, *, source: str) -> tuple[str, str]:
    """Decode the bytes of a text file, detecting the encoding.

    Tried in order: a UTF-8 or UTF-16 byte-order mark, plain UTF-8, then GB18030 (a superset of
    GBK and GB2312).

    Parameters
    ----------
    data : bytes
        The whole file.
    source : str
        Name used in error messages (a path, ``"<stdin>"``).

    Returns
    -------
    tuple of (str, str)
        The text (not yet normalised) and the name of the encoding used.

    Raises
    ------
    InputError
        If the data is empty or blank, looks binary, or decodes in none of the encodings.

    Examples
    --------
    >>> decode_bytes("各位代表：".encode("gb18030"), source="a.txt")
    ('各位代表：', 'gb18030')
    """
    text, encoding = _decode(data, source)
    if not _ZERO_WIDTH.sub("", text).strip():
        raise InputError(f"{source}: file is empty")
    return text, encoding


def normalize_text(text: str) -> str:
    """Normalise line ends, invisible characters and indents, leaving the content intact.

    CRLF, lone CR (and Unicode line/paragraph separators, form feeds) become LF; zero-width
    characters (U+200B..U+200D, U+2060, U+FEFF) are removed wherever they are; each line loses its
    indent (spaces, tabs, NBSP, full-width U+3000) and its trailing whitespace. Nothing else is
    changed: no width folding, no change of punctuation, blank lines are kept.

    Examples
    --------
    >>> normalize_text("\\u3000\\u3000一、工作回顾 \\r\\n\\u200b现在，\\r")
    '一、工作回顾\\n现在，\\n'
    """
    text = _LINE_BREAKS.sub("\n", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _INDENT.sub("", text)
    return _TRAILING.sub("", text)


def read_documents(
    path: str | Path, *, text_col: str = "text", id_col: str = "id"
) -> Iterator[Document]:
    """Read the documents of one file, lazily.

    ``.csv`` gives one record per row, ``.jsonl`` one per line, ``.json`` one per element of a
    top-level array (or one for a top-level object); any other file is one report whose id is the
    file stem.

    Parameters
    ----------
    path : str or Path
        The file.
    text_col : str
        The column (CSV) or field (JSON) holding the text. If the default ``"text"`` is
        absent but exactly one of ``text``, ``full_text``, ``content``, ``正文`` is present,
        that one is used.
    id_col : str
        The column or field holding the record id; records without it get ``"<stem>:<n>"``.

    Yields
    ------
    Document

    Raises
    ------
    InputError
        For a missing, empty, binary or undecodable file, a CSV without the text column, or a
        malformed JSON line (the message names the file and the line).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        raise InputError(f"{path}: is a directory (use iter_documents to read a directory)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path, text_col=text_col, id_col=id_col)
    elif suffix == ".jsonl":
        yield from _read_jsonl(path, text_col=text_col, id_col=id_col)
    elif suffix == ".json":
        yield from _read_json(path, text_col=text_col, id_col=id_col)
    else:
        text, encoding = decode_bytes(path.read_bytes(), source=str(path))
        yield Document(path.stem, normalize_text(text), str(path), encoding=encoding)


def iter_documents(
    inputs: Iterable[str | Path] | str | Path, *, text_col: str = "text", id_col: str = "id"
) -> Iterator[Document]:
    """Read the documents of several inputs, lazily and in order.

    Parameters
    ----------
    inputs : iterable of str or Path
        Files, directories (searched recursively in sorted order for ``.txt``, ``.csv`` and
        ``.jsonl`` files, hidden files and folders skipped) or ``"-"`` for standard input, read as
        one text report with id ``"stdin"``. A single path is accepted too.
    text_col, id_col : str
        As in :func:`read_documents`.

    Yields
    ------
    Document

    Raises
    ------
    InputError
        Before anything is yielded, if an input does not exist; later, as :func:`read_documents`
        does, or for a directory without any input files.
    """
    paths = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    for p in paths:
        if str(p) != "-" and not Path(p).exists():
            raise InputError(f"{p}: no such file or directory")
    for p in paths:
        if str(p) == "-":
            text, encoding = decode_bytes(sys.stdin.buffer.read(), source="<stdin>")
            yield Document("stdin", normalize_text(text), "<stdin>", encoding=encoding)
        elif Path(p).is_dir():
            files = _input_files(Path(p))
            if not files:
                raise InputError(
                    f"{p}: no {', '.join(INPUT_SUFFIXES)} files in this directory "
                    "(hidden files are skipped)"
                )
            for f in files:
                yield from read_documents(f, text_col=text_col, id_col=id_col)
        else:
            yield from read_documents(p, text_col=text_col, id_col=id_col)


# --- decoding ---------------------------------------------------------------------------------


def _decode(data: bytes, source: str, *, final: bool = True) -> tuple[str, str]:
    """Decode ``data`` (BOM, binary check, UTF-8, GB18030); no check for blank text.

    With ``final=False``, ``data`` is the head of a longer file and may end inside a character.
    """
    if not data:
        raise InputError(f"{source}: file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _decode_as(data[len(bom) :], encoding.removesuffix("-sig"), final), encoding
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{source}: cannot decode as {encoding} although it starts with its "
                    f"byte-order mark ({exc.reason} at byte {exc.start + len(bom)})"
                ) from None
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise InputError(f"{source}: looks like a binary file ({kind}); convert it to text")
    if b"\x00" in data:
        raise InputError(f"{source}: looks like a binary file (it contains NUL bytes)")
    for encoding in _FALLBACK_ENCODINGS:
        try:
            return _decode_as(data, encoding, final), encoding
        except UnicodeDecodeError:
            continue
    raise InputError(f"{source}: cannot decode as text (tried {', '.join(_FALLBACK_ENCODINGS)})")


def _decode_as(data: bytes, encoding: str, final: bool) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=final)


def _open_text(path: Path, *, newline: str | None = None) -> tuple[IO[str], str]:
    """Open ``path`` for streaming text, the encoding detected on its first megabyte."""
    raw = path.open("rb")
    try:
        head = raw.read(_SNIFF_BYTES)
        whole = len(head) < _SNIFF_BYTES
        text, encoding = _decode(head, str(path), final=whole)
        if whole and not _ZERO_WIDTH.sub("", text).strip():
            raise InputError(f"{path}: file is empty")
        raw.seek(0)
        if encoding.startswith("utf-16"):
            raw.seek(2)  # the BOM; utf-16-le/-be codecs do not skip it
        return io.TextIOWrapper(raw, encoding=encoding, newline=newline), encoding
    except BaseException:
        raw.close()
        raise


def _lines(stream: IO[str], source: str, encoding: str) -> Iterator[str]:
    """Iterate over lines, turning a late decoding error into :class:`InputError`."""
    n = 0
    try:
        for line in stream:
            n += 1
            yield line
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: cannot decode as {encoding} after line {n} ({exc.reason}); "
            "is the file in one encoding?"
        ) from None


def _text_key(keys: Iterable[str], text_col: str) -> str | None:
    """The key holding the text: ``text_col``, else the one usual name present (for the default)."""
    keys = list(keys)
    if text_col in keys:
        return text_col
    if text_col == "text":
        usual = [k for k in USUAL_TEXT_NAMES if k in keys]
        if len(usual) == 1:
            return usual[0]
    return None


# --- CSV --------------------------------------------------------------------------------------


def _read_csv(path: Path, *, text_col: str, id_col: str) -> Iterator[Document]:
    _raise_csv_field_limit()
    stream, encoding = _open_text(path, newline="")
    with stream:
        reader = csv.reader(_lines(stream, str(path), encoding))
        try:
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                raise InputError(f"{path}: file is empty (no CSV header)")
            key = _text_key(header, text_col)
            if key is None:
                raise InputError(
                    f"{path}: no text column {text_col!r}; columns found: {', '.join(header)} "
                    "(name the one holding the text)"
                )
            n = 0
            for row in reader:
                if not row:
                    continue  # a blank line
                n += 1
                if len(row) != len(header):
                    raise InputError(
                        f"{path}:row {n}: has {len(row)} fields but the header has {len(header)}"
                    )
                record = dict(zip(header, row, strict=True))
                yield _record(record, key, id_col, path, f"row {n}", n, encoding)
        except csv.Error as exc:
            raise InputError(f"{path}: malformed CSV near line {reader.line_num}: {exc}") from None


def _raise_csv_field_limit() -> None:
    """Allow CSV fields as long as a whole report (the default limit is 128 KiB)."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # a C long is 32-bit on some platforms
            limit //= 2


# --- JSON -------------------------------------------------------------------------------------


def _read_jsonl(path: Path, *, text_col: str, id_col: str) -> Iterator[Document]:
    stream, encoding = _open_text(path)
    with stream:
        for lineno, line in enumerate(_lines(stream, str(path), encoding), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
                ) from None
            key = _json_text_key(record, text_col, f"{path}:{lineno}")
            yield _record(record, key, id_col, path, f"line {lineno}", lineno, encoding)


def _read_json(path: Path, *, text_col: str, id_col: str) -> Iterator[Document]:
    text, encoding = decode_bytes(path.read_bytes(), source=str(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "for one record a line, name the file .jsonl"
        ) from None
    records = data if isinstance(data, list) else [data]
    for n, record in enumerate(records, 1):
        key = _json_text_key(record, text_col, f"{path}:item {n}")
        yield _record(record, key, id_col, path, f"item {n}", n, encoding)


def _json_text_key(record: object, text_col: str, where: str) -> str:
    """Check that a JSON record is an object with a string text field; return that field's key."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: not a JSON object (got {type(record).__name__})")
    key = _text_key(record, text_col)
    if key is None:
        raise InputError(f'{where}: no "{text_col}" field')
    if not isinstance(record[key], str):
        raise InputError(
            f'{where}: the "{key}" field is not a string (got {type(record[key]).__name__})'
        )
    return key


def _record(
    record: dict[str, Any],
    key: str,
    id_col: str,
    path: Path,
    position: str,
    n: int,
    encoding: str,
) -> Document:
    """A record :class:`Document`: text from ``key``, id from ``id_col``, the rest as meta."""
    rid = record.get(id_col)
    if isinstance(rid, (dict, list)):
        raise InputError(f"{path}:{position}: the id field {id_col!r} must be a string or a "
                         "number")
    meta = {k: v for k, v in record.items() if k not in (key, id_col)}
    return Document(
        raw_id=rid if rid not in (None, "") else None,
        id=str(rid) if rid not in (None, "") else f"{path.stem}:{n}",
        text=normalize_text(record[key]),
        source=f"{path}:{position}",
        meta=meta,
        encoding=encoding,
        kind="record",
    )


# --- directories ------------------------------------------------------------------------------


def _input_files(directory: Path) -> list[Path]:
    """Input files under ``directory``, recursively, sorted, hidden files and folders skipped."""
    found = []
    for p in directory.rglob("*"):
        rel = p.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() in INPUT_SUFFIXES and p.is_file():
            found.append(rel)
    return [directory / rel for rel in sorted(found, key=lambda r: r.parts)]
