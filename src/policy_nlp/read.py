"""Read inputs: bytes -> text -> :class:`Document`.

The first step of the data flow. A report arrives as a text file in any of the encodings that
Chinese government sites and repositories use (UTF-8 with or without BOM, UTF-16 with BOM, GB18030
and its subsets GBK/GB2312; anything else is detected with charset-normalizer), as a Word
document, a PDF or a saved web page (:mod:`policy_nlp.read_formats`), or as records of a CSV or
JSONL file. Everything is decoded here, normalised (line ends, zero-width characters, indents) and
handed on as :class:`Document`. The format is chosen by the file's extension; a file with another
extension whose first bytes say PDF, Word or HTML is read as that.

Files are read lazily: CSV and JSONL are streamed record by record, so a huge JSONL file is never
held in memory whole.

**Errors.** By default a problem raises :class:`~policy_nlp.errors.InputError`. Given an
``on_error`` callback (e.g. :class:`SkipAndReport`), :func:`iter_documents` instead passes it each
problem -- a bad file, a bad record, a duplicated id -- and goes on with the next record or file,
losing as little as possible: a bad JSONL line or CSV row is skipped alone, an unreadable file
alone; a file that turns undecodable half-way keeps the records read before. The callback may
raise to stop. With ``verbose`` logging (logger ``policy_nlp``), each file read is logged with its
format and encoding, and where the encoding was detected.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from . import limits
from .errors import InputError, InputWarning, printable

__all__ = [
    "Document",
    "OnError",
    "SkipAndReport",
    "decode_bytes",
    "handle_problem",
    "input_files",
    "iter_documents",
    "normalize_text",
    "read_documents",
]

log = logging.getLogger("policy_nlp.read")

#: Extensions picked up when a directory is given; any other file named explicitly is text
#: (or PDF, Word, HTML if its first bytes say so).
INPUT_SUFFIXES = (".txt", ".csv", ".jsonl", ".docx", ".pdf", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")

#: The error policy: called with each problem; returning means "go on", raising stops.
OnError = Callable[[InputError], None]
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
    (b"\xd0\xcf\x11\xe0", "old MS Office, e.g. .doc or .xls; save it as .docx"),
    (b"{\\rtf", "RTF; save it as .docx"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf", "7z archive"),
    (b"Rar!", "RAR archive"),
    (b"\x7fELF", "executable"),
)
_SNIFF_BYTES = 1 << 20
#: A decoded text with more than this share of control characters is binary.
_MAX_CONTROL_SHARE = 0.02
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1a\x1b") + b"\x7f"
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]",
                         re.IGNORECASE | re.DOTALL)

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85\x0c]")
_INDENT = re.compile("^[ \t\u00a0\u3000]+", re.MULTILINE)
_TRAILING = re.compile("[ \t\u00a0\u3000]+$", re.MULTILINE)
_BLANKS = " \t\u00a0\u3000"  # what _INDENT and _TRAILING remove
# a character that _LINE_BREAKS or _ZERO_WIDTH replaces
_ODD_CHARS = re.compile("[\r\u2028\u2029\x85\x0c\u200b\u200c\u200d\u2060\ufeff]")


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

    Tried in order: a UTF-8 or UTF-16 byte-order mark, plain UTF-8, GB18030 (a superset of GBK
    and GB2312) if the result reads as Chinese, UTF-16 without a mark, then the encoding
    charset-normalizer detects (logged, as every choice, on the ``policy_nlp.read`` logger).
    Binary files (known magic numbers, NUL bytes, many control characters) are refused.

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
    InputWarning
        If the data is UTF-8 cut inside its last character (a truncated file): ``recovered``
        holds the text without it and the encoding.

    Examples
    --------
    >>> decode_bytes("各位代表：".encode("gb18030"), source="a.txt")
    ('各位代表：', 'gb18030')
    """
    try:
        text, encoding = _decode(data, source)
    except InputWarning as warning:
        text, encoding = warning.recovered
        _check_not_blank(text, source)
        raise
    _check_not_blank(text, source)
    return text, encoding


def _check_not_blank(text: str, source: str) -> None:
    if not _ZERO_WIDTH.sub("", text).strip():
        raise InputError(f"{source}: file is empty")


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
    if _ODD_CHARS.search(text) is not None:
        text = _LINE_BREAKS.sub("\n", text)
        text = _ZERO_WIDTH.sub("", text)
    if "\n" not in text:  # one line (most records): strip its ends, no regex needed
        return text.strip(_BLANKS)
    text = _INDENT.sub("", text)
    return _TRAILING.sub("", text)


# --- the error policy ---------------------------------------------------------------------------


class SkipAndReport:
    """The skip-and-report error policy: report each problem, count it, and go on.

    Pass an instance as ``on_error`` to :func:`iter_documents`. Each problem is reported as one
    line, ``skipped: <file>:<line>: <what>`` (the file or record was left out) or
    ``kept: <file>: <what>`` (it was read anyway, e.g. a duplicated id), through ``report``
    (default: standard error, prefixed ``policy-nlp: ``).

    Attributes
    ----------
    skipped, kept : int
        How many problems of each outcome were reported.
    """

    def __init__(self, report: Callable[[str], None] | None = None):
        self.report = report or (lambda m: print(f"policy-nlp: {m}", file=sys.stderr, flush=True))
        self.skipped = 0
        self.kept = 0

    def __call__(self, error: InputError) -> None:
        if error.outcome == "kept":
            self.kept += 1
        else:
            self.skipped += 1
        self.report(f"{error.outcome}: {error}")

    @property
    def problems(self) -> int:
        return self.skipped + self.kept

    def summary(self) -> str:
        parts = []
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        if self.kept:
            parts.append(f"{self.kept} read despite a problem")
        return f"{' and '.join(parts)} (listed above; --strict stops at the first)"


def handle_problem(on_error: OnError | None, error: InputError) -> None:
    """Hand a problem to the policy; without one, raise it."""
    if on_error is None:
        raise error
    error.reported = True  # so that a policy that raises it to stop is not called again
    on_error(error)


# --- documents ----------------------------------------------------------------------------------


def read_documents(
    path: str | Path,
    *,
    text_col: str = "text",
    id_col: str = "id",
    on_error: OnError | None = None,
) -> Iterator[Document]:
    """Read the documents of one file, lazily.

    ``.csv`` gives one record per row, ``.jsonl`` one per line, ``.json`` one per element of a
    top-level array (or one for a top-level object); ``.docx``, ``.pdf`` and ``.html``/``.htm``
    one report each (:mod:`policy_nlp.read_formats`); any other file is one report whose id is the
    file stem, read as text unless its first bytes say it is a PDF, a Word file or a web page.

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
    on_error : callable, optional
        The error policy for problems inside the file (a bad record, a late decoding error, a
        truncated character): called with the :class:`InputError` and the reading goes on.
        Without it they are raised. Problems with the file as a whole are always raised.

    Yields
    ------
    Document

    Raises
    ------
    InputError
        For a missing, unreadable, empty, binary or undecodable file, a CSV without the text
        column, or (without ``on_error``) a malformed record (the message names the file and
        the line).
    """
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            raise InputError(f"{path}: cannot read (a broken symbolic link)")
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        raise InputError(f"{path}: is a directory (use iter_documents to read a directory)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path, text_col=text_col, id_col=id_col, on_error=on_error)
    elif suffix == ".jsonl":
        yield from _read_jsonl(path, text_col=text_col, id_col=id_col, on_error=on_error)
    elif suffix == ".json":
        yield from _read_json(path, text_col=text_col, id_col=id_col, on_error=on_error)
    else:
        yield _read_report(path, suffix, on_error)


def _read_bytes(path: Path) -> bytes:
    """A regular file's bytes, within :data:`~policy_nlp.limits.FILE`."""
    try:
        with limits.open_regular(path, str(path), limits.FILE) as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_pipe(path: Path) -> bytes:
    """The bytes of a pipe (a FIFO, a shell's ``<(…)``), within :data:`~policy_nlp.limits.FILE`:
    read once, as standard input is (a pipe cannot be read twice, nor its size known)."""
    try:
        with open(path, "rb") as fh:
            return limits.read_limited(fh, limits.FILE, str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _head(path: Path, n: int = 4096) -> bytes:
    try:
        with limits.open_regular(path, str(path)) as fh:
            return fh.read(n)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _sniff_format(path: Path, suffix: str) -> str:
    """The format to read a report file as: by extension, else by its first bytes."""
    if suffix == ".docx":
        return "docx"
    if suffix == ".pdf":
        return "pdf"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix == ".doc":
        raise InputError(f"{path}: an old binary Word .doc file; save it as .docx (or PDF)")
    head = _head(path)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except (zipfile.BadZipFile, OSError):
            pass
    if _HTML_START.match(head):
        return "html"
    return "text"


def _read_report(path: Path, suffix: str, on_error: OnError | None) -> Document:
    """One report file: text, Word, PDF or web page -> a Document. A pipe (a FIFO, a shell's
    ``<(…)``) is read once as the text of one report, or a web page by its extension."""
    from . import read_formats

    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISFIFO(st.st_mode):
        return _read_piped_report(path, suffix, on_error)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is {limits.file_kind(st.st_mode)}, not a regular file")
    if st.st_size == 0:
        raise InputError(f"{path}: file is empty")
    fmt = _sniff_format(path, suffix)
    encoding: str | None = None
    if fmt == "docx":
        text = read_formats.docx_text(path)
    elif fmt == "pdf":
        text = read_formats.pdf_text(path, lambda warning: handle_problem(on_error, warning))
    elif fmt == "html":
        text, encoding = _html_report(_read_bytes(path), path, on_error)
    else:
        text, encoding = _decode_report(_read_bytes(path), str(path), on_error)
    if fmt != "text" and suffix not in (f".{fmt}", ".htm", ".xhtml", ".shtml"):
        log.info("%s: read as %s (by its content)", path, fmt)
    return _report_document(path, fmt, text, encoding)


def _read_piped_report(path: Path, suffix: str, on_error: OnError | None) -> Document:
    """:func:`_read_report` of a pipe: its bytes read once, as text or (by its extension, or
    its first bytes) a web page; a Word file or PDF needs a regular file to be read."""
    data = _read_pipe(path)
    if not data:
        raise InputError(f"{path}: a pipe that gave no data")
    if suffix in (".docx", ".pdf", ".doc") or data.startswith((b"%PDF-", b"PK\x03\x04")):
        raise InputError(f"{path}: a pipe; a Word file or PDF must be a regular file "
                         "(save it to a file first)")
    if suffix in HTML_SUFFIXES or _HTML_START.match(data[:4096]):
        text, encoding = _html_report(data, path, on_error)
        return _report_document(path, "html", text, encoding)
    text, encoding = _decode_report(data, str(path), on_error)
    return _report_document(path, "text", text, encoding)


def _html_report(data: bytes, path: Path, on_error: OnError | None) -> tuple[str, str | None]:
    """The text of a web page's bytes, and the encoding: the declared one, else detected."""
    from . import read_formats

    declared = read_formats.declared_charset(data)
    text = encoding = None
    if declared:
        try:
            text, encoding = data.decode(declared), declared
        except UnicodeDecodeError:
            log.info("%s: not in its declared charset %s; detecting", path, declared)
    if text is None:
        text, encoding = _decode_report(data, str(path), on_error)
    return read_formats.html_text(text, str(path)), encoding


def _report_document(path: Path, fmt: str, text: str, encoding: str | None) -> Document:
    text = normalize_text(text)
    if not text.strip():
        raise InputError(f"{path}: no text found in this {fmt} file")
    log.info("%s: %s%s, %d characters", path, fmt,
             f", encoding {encoding}" if encoding else "", len(text))
    return Document(name_id(path.stem), text, str(path), encoding=encoding)


def _decode_report(data: bytes, source: str, on_error: OnError | None) -> tuple[str, str]:
    try:
        return decode_bytes(data, source=source)
    except InputWarning as warning:
        handle_problem(on_error, warning)
        return warning.recovered


# how many document ids iter_documents(unique_ids=True) remembers (about 60 MB of hashes)
UNIQUE_ID_LIMIT = 1_000_000


def iter_documents(
    inputs: Iterable[str | Path] | str | Path,
    *,
    text_col: str = "text",
    id_col: str = "id",
    on_error: OnError | None = None,
    unique_ids: bool = False,
    exclude: Collection[Path] = (),
) -> Iterator[Document]:
    """Read the documents of several inputs, lazily and in order.

    Parameters
    ----------
    inputs : iterable of str or Path
        Files, directories (searched recursively in sorted order for the files of
        :data:`INPUT_SUFFIXES`, hidden files and folders skipped) or ``"-"`` for standard input,
        read as one text report with id ``"stdin"``. A single path is accepted too.
    text_col, id_col : str
        As in :func:`read_documents`.
    on_error : callable, optional
        The error policy (e.g. :class:`SkipAndReport`): called with each problem, a bad file
        (unreadable, empty, binary, undecodable, a CSV without its text column) or a bad record,
        after which reading goes on with the next record or file. Without it the first problem
        is raised. Inputs that do not exist are always raised, before anything is read.
    unique_ids : bool
        Report a document whose id an earlier one had (as :class:`InputWarning`; it is kept).
        To keep memory bounded on huge batches, the ids of the first ``UNIQUE_ID_LIMIT``
        documents are remembered (as 64-bit hashes): a later document is checked against
        those.
    exclude : collection of Path
        Files never read from a directory given as input (resolved paths): a run's own output
        in a folder it reads.

    Yields
    ------
    Document

    Raises
    ------
    InputError
        Before anything is yielded, if an input does not exist; later, without ``on_error``,
        as :func:`read_documents` does, or for a directory without any input files.
    """
    paths = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    for p in paths:
        if str(p) != "-" and not Path(p).exists():
            raise InputError(f"{p}: no such file or directory")
    ids = IdMemory() if unique_ids else None
    for doc in _iter_all(paths, text_col, id_col, on_error, frozenset(exclude)):
        if ids is not None:
            ids.check(doc.id, doc.source, on_error)
        yield doc


class IdMemory:
    """The duplicate-id check of :func:`iter_documents` (``unique_ids=True``): remembers the
    64-bit hashes of the first ``UNIQUE_ID_LIMIT`` ids and reports a later equal one."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def check(self, doc_id: str, source: str, on_error: OnError | None) -> None:
        self._check(_id_key(doc_id), doc_id, source, on_error)

    def check_many(self, keys: list[int], ids: list[str], sources: list[str],
                   on_error: OnError | None) -> None:
        """:meth:`check` of documents in turn, their ids' :func:`id_keys` given: at once
        when none of them repeats an id (the usual case), else one by one."""
        seen = self.seen
        if (len(seen) + len(keys) <= UNIQUE_ID_LIMIT and seen.isdisjoint(keys)
                and len(set(keys)) == len(keys)):
            seen.update(keys)
            return
        for key, doc_id, source in zip(keys, ids, sources, strict=True):
            self._check(key, doc_id, source, on_error)

    def _check(self, key: int, doc_id: str, source: str, on_error: OnError | None) -> None:
        if key in self.seen:
            handle_problem(on_error, InputWarning(
                f"{source}: duplicate id {doc_id!r} (an earlier record or report has it)"))
        elif len(self.seen) < UNIQUE_ID_LIMIT:
            self.seen.add(key)


def _id_key(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


def name_id(name: str) -> str:
    """The id made of a file name: the name itself, but for the bytes of a name that is not
    UTF-8 (GBK names from a zip made on a Chinese Windows machine, as Python decodes them:
    lone surrogates), which are written ``\\xNN`` (an id must be text that can be written)."""
    return printable(name) if _SURROGATE.search(name) else name


def id_keys(ids: Iterable[str]) -> list[int]:
    """The 64-bit hashes by which :class:`IdMemory` remembers ids."""
    return list(map(_id_key, ids))


def _iter_all(paths: list, text_col: str, id_col: str, on_error: OnError | None,
              exclude: frozenset[Path] = frozenset()) -> Iterator[Document]:
    for p in paths:
        if str(p) == "-":
            try:
                text, encoding = _decode_report(
                    limits.read_limited(sys.stdin.buffer, limits.FILE, "<stdin>"), "<stdin>",
                    on_error)
            except InputError as exc:
                if getattr(exc, "reported", False):
                    raise
                handle_problem(on_error, exc)
                continue
            yield Document("stdin", normalize_text(text), "<stdin>", encoding=encoding)
            continue
        listed = Path(p).is_dir()
        if listed:
            files = [f for f in input_files(Path(p), on_error)
                     if not exclude or f.resolve() not in exclude]
            if not files:
                handle_problem(on_error, InputError(
                    f"{p}: no {', '.join(INPUT_SUFFIXES)} files in this directory "
                    "(hidden files are skipped)"))
        else:
            files = [Path(p)]
        for f in files:
            try:
                if listed and _is_pipe(f):  # read only when named: it may wait for a writer
                    raise InputError(f"{f}: a pipe (FIFO) in a directory is not read (it would "
                                     "wait for a writer); name it as an input to read it")
                yield from read_documents(f, text_col=text_col, id_col=id_col, on_error=on_error)
            except InputError as exc:
                if getattr(exc, "reported", False):
                    raise
                handle_problem(on_error, exc)


def _is_pipe(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False  # reading it says why


# --- decoding ---------------------------------------------------------------------------------


def _decode(data: bytes, source: str, *, final: bool = True) -> tuple[str, str]:
    """Decode ``data`` (BOM, binary check, UTF-8, GB18030, detection); no check for blank text.

    With ``final=False``, ``data`` is the head of a longer file and may end inside a character.
    """
    if not data:
        raise InputError(f"{source}: file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = _decode_as(data[len(bom) :], encoding.removesuffix("-sig"), final)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{source}: cannot decode as {encoding} although it starts with its "
                    f"byte-order mark ({exc.reason} at byte {exc.start + len(bom)})"
                ) from None
            return _not_binary(text, source), encoding
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise InputError(f"{source}: looks like a binary file ({kind}), not text")
    nuls = data.count(b"\x00")
    if nuls:
        found = _utf16_without_bom(data, final)
        if found is not None:
            log.info("%s: encoding %s detected (UTF-16 without a byte-order mark)", source,
                     found[1])
            return _not_binary(found[0], source), found[1]
        if nuls > max(_MAX_CONTROL_SHARE * len(data), 1):
            raise InputError(
                f"{source}: looks like a binary file (it contains NUL bytes), not text")
        # a stray NUL in text (a bad copy, a database export): decoded as the text around it,
        # never the reason to take UTF-8 for another encoding
        log.info("%s: %d NUL bytes in the text", source, nuls)
    try:
        return _not_binary(_decode_as(data, "utf-8", final), source), "utf-8"
    except UnicodeDecodeError as exc:
        if final and exc.reason == "unexpected end of data" and exc.end == len(data):
            kept = data[: exc.start].decode("utf-8", errors="strict")  # valid: the error is last
            raise InputWarning(
                f"{source}: ends inside a UTF-8 character (a truncated file?); the incomplete "
                f"character ({len(data) - exc.start} bytes) was dropped",
                recovered=(_not_binary(kept, source), "utf-8"),
            ) from None
    gb = None
    try:
        gb = _decode_as(data, "gb18030", final)
        if _reads_as_chinese(gb):
            return _not_binary(gb, source), "gb18030"
    except UnicodeDecodeError:
        pass
    detected = _detect(data, source, final)
    if detected is not None:
        return detected
    if gb is not None:
        log.info("%s: read as gb18030, although many characters are rare ones", source)
        return _not_binary(gb, source), "gb18030"
    head = data[:65536]
    controls = sum(head.count(bytes([b])) for b in _CONTROL_BYTES)
    if controls > _MAX_CONTROL_SHARE * len(head):
        raise InputError(f"{source}: looks like a binary file ({controls / len(head):.0%} of its "
                         "bytes are control characters), not text")
    raise InputError(
        f"{source}: cannot decode as text (tried utf-8, gb18030 and charset detection)"
    )


def _decode_as(data: bytes, encoding: str, final: bool) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=final)


def _is_control(c: str) -> bool:
    return c not in "\t\n\r\x0b\x0c\x1a\x1c\x1d\x1e\x1f\x85" and unicodedata.category(c) == "Cc"


def _not_binary(text: str, source: str) -> str:
    """``text`` itself, unless so many of its characters are control characters that it is a
    binary file that happened to decode."""
    sample = text[:65536]
    if sample:
        controls = sum(1 for c in sample if _is_control(c))
        # (one stray control character, a NUL say, never makes a short text binary)
        if controls > max(_MAX_CONTROL_SHARE * len(sample), 1):
            raise InputError(
                f"{source}: looks like a binary file ({controls / len(sample):.0%} of its "
                "characters are control characters), not text"
            )
    return text


_COMMON_TEXT = re.compile(r"[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u3000-\u303f"
                          r"\u4e00-\u9fff\uff00-\uffef]")


def _utf16_without_bom(data: bytes, final: bool) -> tuple[str, str] | None:
    """UTF-16 text without a byte-order mark, little- or big-endian: the byte order in which the
    data decodes to common characters (Chinese, ASCII, punctuation) at least 95% of the time.
    The wrong order, or binary data, gives characters from all over Unicode."""
    if len(data) % 2 and final:
        return None
    best = None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = _decode_as(data, encoding, final)
        except UnicodeDecodeError:
            continue
        sample = text[:65536]
        share = len(_COMMON_TEXT.findall(sample)) / max(len(sample), 1)
        if share >= 0.95 and (best is None or share > best[0]):
            best = (share, text, encoding)
    return (best[1], best[2]) if best else None


def _reads_as_chinese(text: str) -> bool:
    """Whether GB18030-decoded text reads as Chinese: most non-ASCII characters are common ones
    (GB2312 hanzi and punctuation). Big5, EUC-KR or Shift-JIS bytes also decode as GB18030,
    but into kana, Cyrillic and rare characters."""
    sample = [c for c in text[:20000] if ord(c) > 0x7F]
    if len(sample) < 20:
        return True
    common = 0
    for c in sample:
        try:
            b = c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if b[0] >= 0xB0 or b[0] in (0xA1, 0xA2, 0xA3):
            common += 1
    return common >= 0.8 * len(sample)


def _detect(data: bytes, source: str, final: bool) -> tuple[str, str] | None:
    """The encoding charset-normalizer detects, if the data decodes in it."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a core dependency
        log.info("%s: charset-normalizer is not installed; no detection", source)
        return None
    best = from_bytes(data[: 4 * _SNIFF_BYTES]).best()
    if best is None:
        return None
    encoding = codecs.lookup(best.encoding).name
    try:
        text = _decode_as(data, encoding, final)
    except (UnicodeDecodeError, LookupError):
        return None
    text = _not_binary(text, source)
    log.info("%s: encoding %s detected by charset-normalizer (not UTF-8 or GB18030)", source,
             encoding)
    return text, encoding


def _sniff_stream(raw: IO[bytes], source: str) -> tuple[str, bool]:
    """Detect the encoding of a file opened in binary, from its first megabyte -- or, if that is
    all ASCII, from its first megabyte that is not (so that a GB18030 file is not taken for UTF-8
    because its first records are ASCII). Returns the encoding and whether the file is blank."""
    head = raw.read(_SNIFF_BYTES)
    if not head:
        raise InputError(f"{source}: file is empty")
    probe, eof = head, len(head) < _SNIFF_BYTES
    if not any(head.startswith(bom) for bom, _ in _BOMS):
        for magic, kind in _BINARY_MAGIC:
            if head.startswith(magic):
                raise InputError(f"{source}: looks like a binary file ({kind}), not text")
        while probe.isascii() and not eof:
            chunk = raw.read(_SNIFF_BYTES)
            eof = len(chunk) < _SNIFF_BYTES
            if chunk:
                probe = chunk
    try:
        text, encoding = _decode(probe, source, final=eof)
    except InputWarning as warning:  # a truncated last character: the reader reports it
        text, encoding = warning.recovered
    except InputError:
        mixed = _leading_encoding(probe)
        if mixed is None:
            raise
        # a file in two encodings: read it in the one it starts with; the records that do
        # not decode are reported one by one
        log.info("%s: not all in one encoding; read as %s, the one it starts with", source, mixed)
        return mixed, False
    blank = eof and probe is head and not _ZERO_WIDTH.sub("", text).strip()
    return encoding, blank


def _leading_encoding(data: bytes) -> str | None:
    """UTF-8 or GB18030, if the data starts with (non-ASCII) text in it and only later fails."""
    for encoding in _FALLBACK_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start > 0 and not data[: exc.start].isascii():
                return encoding
    return None


def _open_text(path: Path, *, newline: str | None = None) -> tuple[IO[str], str]:
    """Open ``path`` for streaming text, the encoding detected as :func:`_sniff_stream` does."""
    raw = limits.open_regular(path, str(path))  # streamed: no limit on the whole
    try:
        encoding, blank = _sniff_stream(raw, str(path))
        if blank:
            raise InputError(f"{path}: file is empty")
        raw.seek(0)
        if encoding.startswith("utf-16"):
            raw.seek(2 if raw.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else 0)
        log.info("%s: encoding %s", path, encoding)
        return io.TextIOWrapper(raw, encoding=encoding, newline=newline), encoding
    except BaseException:
        raw.close()
        raise


def _lines(stream: IO[str], source: str, encoding: str) -> Iterator[str]:
    """Iterate over lines, turning a late decoding error into :class:`InputError`."""
    n = 0
    cap = limits.FIELD.bytes
    try:
        for line in iter(functools.partial(stream.readline, cap + 1), ""):
            if len(line) > cap and line[-1] != "\n":
                raise InputError(limits.FIELD.message(f"{source}:{n + 1}") +
                                 "; the rest of the file was not read")
            n += 1
            yield line
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: cannot decode as {encoding} after line {n} ({exc.reason}); "
            "is the file in one encoding? The rest of the file was not read"
        ) from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read after line {n} ({exc.strerror or exc})") from None


def _text_key(keys: Collection[str], text_col: str) -> str | None:
    """The key holding the text: ``text_col``, else the one usual name present (for the default).
    ``keys``: a CSV header, or a record (a dict: looked up, not listed, for each record)."""
    if text_col in keys:
        return text_col
    if text_col == "text":
        usual = [k for k in USUAL_TEXT_NAMES if k in keys]
        if len(usual) == 1:
            return usual[0]
    return None


# --- CSV --------------------------------------------------------------------------------------


def _read_csv(path: Path, *, text_col: str, id_col: str, on_error: OnError | None
              ) -> Iterator[Document]:
    _raise_csv_field_limit()
    stream, encoding = _open_text(path, newline="")
    with stream:
        reader = csv.reader(_lines(stream, str(path), encoding))
        n = 0
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
                    handle_problem(on_error, InputError(
                        f"{path}:row {n}: has {len(row)} fields but the header has {len(header)}"
                    ))
                    continue
                record = dict(zip(header, row, strict=True))
                doc = _record(record, key, id_col, path, f"row {n}", n, encoding, on_error)
                if doc is not None:
                    yield doc
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise InputError(limits.FIELD.message(f"{path}:row {n + 1}") +
                                 "; the rest of the file was not read") from None
            raise InputError(f"{path}: malformed CSV near line {reader.line_num}: {exc}; "
                             "the rest of the file was not read") from None


def _raise_csv_field_limit() -> None:
    """Allow CSV fields as long as a whole report (the default limit is 128 KiB), up to
    :data:`~policy_nlp.limits.FIELD` (in characters)."""
    csv.field_size_limit(min(limits.FIELD.bytes, 2**31 - 1))


# --- JSON -------------------------------------------------------------------------------------


def _jsonl_lines(path: Path, stream: IO[str], encoding: str
                 ) -> Iterator[tuple[int, str | bytes | InputError]]:
    """The lines of a JSONL file, numbered from 1, each decoded on its own (UTF-8 lines are
    left to orjson, see :func:`decode_line`): a line that does not decode is an
    :class:`InputError` in place of its text, and the lines after it still count.
    (UTF-16 files, whose line breaks are two bytes, are decoded as a stream instead.)"""
    if encoding.startswith("utf-16"):
        with stream:
            yield from enumerate(_lines(stream, str(path), encoding), 1)
        return
    raw = stream.detach()
    codec = line_codec(encoding)
    with raw:
        lineno = 0
        try:
            for lineno, data in enumerate(bounded_lines(raw), 1):
                yield lineno, decode_line(path, lineno, data, codec)
        except OSError as exc:
            raise InputError(
                f"{path}: cannot read after line {lineno} ({exc.strerror or exc})"
            ) from None


def bounded_lines(raw: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary file as iterating it gives them, but a line longer than
    :data:`~policy_nlp.limits.FIELD` is cut to one byte over it (the rest is read and
    dropped), so that no line fills memory; :func:`decode_line` reports it."""
    cap = limits.FIELD.bytes
    for data in iter(functools.partial(raw.readline, cap + 1), b""):
        if len(data) > cap and data[-1] != 10:
            rest = data
            while rest and rest[-1] != 10:
                rest = raw.readline(1 << 20)
            data += b"\n"
        yield data


def line_codec(encoding: str) -> str:
    """The codec each line of a JSONL file in ``encoding`` is decoded with (not UTF-16)."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


def decode_line(path: Path, lineno: int, data: bytes, codec: str) -> str | bytes | InputError:
    """One line of a JSONL file (bytes; a UTF-8 BOM on line 1 and the line break dropped) for
    :func:`jsonl_records`: in UTF-8 the bytes as they are (orjson reads them without a decoded
    copy, and checks that they are UTF-8; the few lines it cannot read are decoded then), in
    other encodings the text, or the :class:`InputError` that says it does not decode."""
    if lineno == 1 and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if data.endswith(b"\n"):  # as the workers' blocks give it: the same columns in messages
        data = data[:-1]
    if len(data) > limits.SHORT and len(data) > limits.FIELD.bytes:  # cut by bounded_lines
        return InputError(limits.FIELD.message(f"{path}:{lineno}") + "; the line was skipped")
    if codec == "utf-8":
        return data
    return _decode_line(path, lineno, data, codec)


def _decode_line(path: Path, lineno: int, data: bytes, codec: str) -> str | InputError:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        return InputError(
            f"{path}:{lineno}: cannot decode as {codec} ({exc.reason} at byte "
            f"{exc.start}); is the file in one encoding?"
        )


def jsonl_encoding(path: Path) -> str:
    """The encoding :func:`read_documents` reads a JSONL file in (InputError for a file it
    cannot read at all: missing, empty, binary, undecodable)."""
    stream, encoding = _open_text(path)
    stream.close()
    return encoding


# an integer orjson reads as a float (beyond 64 bits); JSON numbers have ASCII digits only
_LONG_DIGITS = re.compile(r"[0-9]{19}")


def jsonl_loads(line: str | bytes) -> Any:
    """One JSON value, parsed by orjson (~2x faster), or by the json module where orjson would
    differ (NaN, integers of 19 digits or more, which orjson makes floats, lone surrogates):
    the value of ``json.loads`` (but for lone surrogates, which become U+FFFD), and its
    ``json.JSONDecodeError`` for text that is not JSON."""
    try:
        return _orjson_loads(line)
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


def _orjson_loads(line: str | bytes) -> Any:
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
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: what Python makes of a byte that
    is not UTF-8 in a command-line argument, say, is no character (it can be neither
    segmented nor written as UTF-8)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _no_surrogates(value: Any, line: str | bytes) -> Any:
    """``value`` with each lone surrogate of its strings (a JSON ``"\\ud800"`` escape, which
    is no character: it can be neither segmented nor written as UTF-8) replaced by U+FFFD."""
    if not _SURROGATE_ESCAPE.search(line if isinstance(line, str) else
                                    line.decode("utf-8", "replace")):
        return value
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_no_surrogates(v, line) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(k, line): _no_surrogates(v, line) for k, v in value.items()}
    return value


def _read_jsonl(path: Path, *, text_col: str, id_col: str, on_error: OnError | None
                ) -> Iterator[Document]:
    stream, encoding = _open_text(path)
    with closing(_jsonl_lines(path, stream, encoding)) as lines:  # closes the file at once
        yield from jsonl_records(path, lines, encoding, text_col=text_col, id_col=id_col,
                                 on_error=on_error)


def jsonl_records(path: Path, lines: Iterable[tuple[int, str | bytes | InputError]],
                  encoding: str, *, text_col: str, id_col: str, on_error: OnError | None
                  ) -> Iterator[Document]:
    """The documents of numbered JSONL lines (as :func:`_jsonl_lines` gives them: text, or
    UTF-8 bytes) of ``path``: blank lines skipped, each bad line a problem for ``on_error``."""
    for lineno, line in lines:
        if type(line) is bytes:
            try:
                record = _orjson_loads(line)
            except orjson.JSONDecodeError:  # blank, not JSON or not UTF-8: read as text
                line = _decode_line(path, lineno, line, "utf-8")
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
        doc = _json_record(record, text_col, id_col, path, f"{path}:{lineno}", f"line {lineno}",
                           lineno, encoding, on_error)
        if doc is not None:
            yield doc


def _read_json(path: Path, *, text_col: str, id_col: str, on_error: OnError | None
               ) -> Iterator[Document]:
    text, encoding = _decode_report(_read_bytes(path), str(path), on_error)
    try:
        data = loads_finite(text)
    except NotFinite as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "for one record a line, name the file .jsonl"
        ) from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON (nested too deeply)") from None
    records = data if isinstance(data, list) else [data]
    for n, record in enumerate(records, 1):
        doc = _json_record(record, text_col, id_col, path, f"{path}:item {n}", f"item {n}", n,
                           encoding, on_error)
        if doc is not None:
            yield doc


def _json_record(record: object, text_col: str, id_col: str, path: Path, where: str,
                 position: str, n: int, encoding: str | None, on_error: OnError | None
                 ) -> Document | None:
    """The :class:`Document` of one JSON record (``where`` names it in messages), or None
    after reporting why it has none."""
    try:
        key = _json_text_key(record, text_col, where)
    except InputError as exc:
        handle_problem(on_error, exc)
        return None
    return _record(record, key, id_col, path, position, n, encoding, on_error)


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


_WORD_CHAR = re.compile(r"[^\W_]")


def has_content(text: str) -> bool:
    """Whether a text has anything to classify: a letter, CJK character or digit."""
    return _WORD_CHAR.search(text) is not None


def _record(
    record: dict[str, Any],
    key: str,
    id_col: str,
    path: Path,
    position: str,
    n: int,
    encoding: str | None,
    on_error: OnError | None = None,
) -> Document | None:
    """A record :class:`Document`: text from ``key``, id from ``id_col``, the rest as meta.

    A record whose id is not a scalar, or whose text has nothing to classify, is a problem:
    raised, or (with ``on_error``) reported, and then ``None`` is returned.
    """
    rid = record.get(id_col)
    text = normalize_text(record[key])
    problem = None
    if isinstance(rid, (dict, list, bool)) or (isinstance(rid, float) and not math.isfinite(rid)):
        problem = f"the id field {id_col!r} must be a string or a number (got {rid!r:.40})"
    elif not has_content(text):
        problem = "no text to classify (empty or only punctuation)"
    if problem:
        handle_problem(on_error, InputError(f"{path}:{position}: {problem}"))
        return None
    meta = record.copy()  # the other fields, in their order
    del meta[key]
    meta.pop(id_col, None)
    if rid == "":
        rid = None
    return Document(
        raw_id=rid,
        id=f"{name_id(path.stem)}:{n}" if rid is None else str(rid),
        text=text,
        source=f"{path}:{position}",
        meta=meta,
        encoding=encoding,
        kind="record",
    )


# --- directories ------------------------------------------------------------------------------


def input_files(directory: Path, on_error: OnError | None = None) -> list[Path]:
    """Input files under ``directory``, recursively, sorted, hidden files and folders skipped.

    A folder that cannot be listed is a problem for ``on_error``; a broken symbolic link with an
    input extension is listed (reading it reports it) rather than passed over in silence.
    """
    found = []

    def unlistable(exc: OSError) -> None:
        handle_problem(on_error, InputError(
            f"{exc.filename}: cannot list this directory ({exc.strerror or exc})"))

    for root, dirs, files in os.walk(directory, onerror=unlistable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel_root = Path(root).relative_to(directory)
        for name in files:
            if name.startswith(".") or Path(name).suffix.lower() not in INPUT_SUFFIXES:
                continue
            found.append(rel_root / name)
    return [directory / rel for rel in sorted(found, key=lambda r: r.parts)]
