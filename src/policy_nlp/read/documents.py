"""Input files -> :class:`Document`: reports (one file, one text) and records (a table's rows).

The first step of the data flow. A report arrives as a text file (:mod:`.decode` finds its
encoding), a Word document, a PDF or a saved web page (:mod:`.formats`); records come as the
rows of a CSV, JSONL or JSON file (:mod:`.records`, the one reader of tables). Everything is
normalised (:func:`~policy_nlp.text.normalize_text`: line ends, zero-width characters, indents)
and handed on as :class:`Document`. Files are read lazily: CSV and JSONL are streamed record by
record, so a huge JSONL file is never held in memory whole.

**Errors.** By default a problem raises :class:`~policy_nlp.errors.InputError`. Given an
``on_error`` callback (e.g. :class:`~policy_nlp.read.problems.SkipAndReport`),
:func:`iter_documents` instead passes it each problem -- a bad file, a bad record, a duplicated
id -- and goes on with the next record or file, losing as little as possible: a bad JSONL line
or CSV row is skipped alone, an unreadable file alone; a file that turns undecodable half-way
keeps the records read before. The callback may raise to stop. With ``verbose`` logging (logger
``policy_nlp``), each file read is logged with its format and encoding, and where the encoding
was detected.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import stat
import sys
from collections.abc import Collection, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import InputError, InputWarning, printable
from ..text import has_content, normalize_text, without_surrogates
from .decode import decode_report, jsonl_lines, open_text, read_bytes
from .formats import report_text
from .own import OWN_OUTPUTS, own_output_kind
from .problems import OnError, handle_problem
from .records import Row, check_file, csv_stream_rows, json_text_rows, parse_jsonl_lines

__all__ = ["INPUT_SUFFIXES", "RECORD_SUFFIXES", "USUAL_TEXT_NAMES", "Document", "IdMemory",
           "ReportIds", "id_keys", "input_files", "iter_documents", "jsonl_records", "name_id",
           "read_documents", "read_from_folder"]

log = logging.getLogger("policy_nlp.read")

#: Extensions picked up when a directory is given; any other file named explicitly is text
#: (or PDF, Word, HTML if its first bytes say so).
INPUT_SUFFIXES = (".txt", ".csv", ".jsonl", ".docx", ".pdf", ".html", ".htm")
#: Files read as records (one document a row, ids of their own); any other file is a report.
RECORD_SUFFIXES = (".csv", ".jsonl", ".json")
#: Text columns/fields used when the one asked for (the default ``"text"``) is absent.
USUAL_TEXT_NAMES = ("text", "full_text", "content", "正文")


@dataclass
class Document:
    """One report (a text file) or one record (a CSV row, a JSONL line) with its text.

    Attributes
    ----------
    id : str
        The file stem for a report; the ``id`` field/column of a record, else ``"<stem>:<n>"``.
    text : str
        The text, normalised by :func:`~policy_nlp.text.normalize_text`.
    source : str
        Where it came from: the path, plus ``:N`` for a record, N the line where it starts
        (see :mod:`policy_nlp.read.records`).
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
    one report each (:mod:`policy_nlp.read.formats`); any other file is one report whose id is
    the file stem, read as text unless its first bytes say it is a PDF, a Word file or a web page.

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
    check_file(path, " (use iter_documents to read a directory)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path, text_col=text_col, id_col=id_col, on_error=on_error)
    elif suffix == ".jsonl":
        yield from _read_jsonl(path, text_col=text_col, id_col=id_col, on_error=on_error)
    elif suffix == ".json":
        yield from _read_json(path, text_col=text_col, id_col=id_col, on_error=on_error)
    else:
        yield _report_document(path, *report_text(path, suffix, on_error))


def _report_document(path: Path, fmt: str, text: str, encoding: str | None) -> Document:
    text = normalize_text(text)
    if not text.strip():
        raise InputError(f"{path}: no text found in this {fmt} file")
    log.info("%s: %s%s, %d characters", path, fmt,
             f", encoding {encoding}" if encoding else "", len(text))
    return Document(name_id(path.stem), text, str(path), encoding=encoding)


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
    names = ReportIds()
    for doc in _iter_all(paths, text_col, id_col, on_error, frozenset(exclude)):
        doc = names.of(doc)
        if ids is not None:
            ids.check(doc.id, doc.source, on_error)
        yield doc


class ReportIds:
    """The id of each report file of a run: its name without the extension, or its path where
    an earlier report file of the run had that name (``北京/2024.txt``, ``上海/2024.txt``: two
    reports, ``2024`` and ``上海/2024.txt``), in every command and engine alike."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}

    def of(self, doc: Document) -> Document:
        """``doc`` (a report file's; records pass as they are) with its id for the run."""
        if doc.kind != "report" or self.sources.setdefault(doc.id, doc.source) == doc.source:
            return doc
        return replace(doc, id=name_id(Path(doc.source).as_posix()))


class IdMemory:
    """The duplicate-id check of :func:`iter_documents` (``unique_ids=True``: documents' ids)
    and of :func:`~policy_nlp.predict.iter_units` (the output's ids: a document's, and those of
    the paragraphs of a split report): remembers the 64-bit hashes of the first
    ``UNIQUE_ID_LIMIT`` ids and reports a later equal one."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def check(self, doc_id: str, source: str, on_error: OnError | None, parts: int = 0
              ) -> None:
        """Check a document's id; ``parts``: the number of paragraphs it was split into, whose
        ids ``<id>#000``, … are checked too (a record may have one of them as its id)."""
        self._check(_id_key(doc_id), doc_id, source, on_error, parts)

    def check_many(self, keys: list[int], ids: Iterable[str], sources: Iterable[str],
                   on_error: OnError | None, parts: list[int] | None = None) -> None:
        """:meth:`check` of documents in turn, their ids' :func:`id_keys` given (and the
        number of paragraphs of each, if any was split): at once when none of them repeats
        an id and none was split (the usual case of records), else one by one."""
        seen = self.seen
        if (not any(parts or ()) and len(seen) + len(keys) <= UNIQUE_ID_LIMIT
                and seen.isdisjoint(keys) and len(set(keys)) == len(keys)):
            seen.update(keys)
            return
        for key, doc_id, source, n in zip(keys, ids, sources, parts or [0] * len(keys),
                                          strict=True):
            self._check(key, doc_id, source, on_error, n)

    def _check(self, key: int, doc_id: str, source: str, on_error: OnError | None,
               parts: int = 0) -> None:
        if key in self.seen:  # (its paragraphs' ids then repeat too: not reported again)
            handle_problem(on_error, InputWarning(
                f"{source}: duplicate id {doc_id!r} (an earlier record or report has it)"))
            return
        self._remember(key)
        for i in range(parts):
            part = f"{doc_id}#{i:03d}"
            part_key = _id_key(part)
            if part_key in self.seen:
                handle_problem(on_error, InputWarning(
                    f"{source}: duplicate id {part!r} (paragraph {i} of this report; an "
                    "earlier record or report has it)"))
            else:
                self._remember(part_key)

    def _remember(self, key: int) -> None:
        if len(self.seen) < UNIQUE_ID_LIMIT:
            self.seen.add(key)


def _id_key(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


def name_id(name: str) -> str:
    """The id made of a file name: the name itself, but for the bytes of a name that is not
    UTF-8 (GBK names from a zip made on a Chinese Windows machine, as Python decodes them:
    lone surrogates), which are written ``\\xNN`` (an id must be text that can be written)."""
    return printable(name) if without_surrogates(name) != name else name


def id_keys(ids: Iterable[str]) -> list[int]:
    """The 64-bit hashes by which :class:`IdMemory` remembers ids."""
    return list(map(_id_key, ids))


def _iter_all(paths: list, text_col: str, id_col: str, on_error: OnError | None,
              exclude: frozenset[Path] = frozenset()) -> Iterator[Document]:
    for p in paths:
        if str(p) == "-":
            try:
                text, encoding = decode_report(
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
            files = input_files(Path(p), on_error, exclude=exclude, report=True)
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


def _read_csv(path: Path, *, text_col: str, id_col: str, on_error: OnError | None
              ) -> Iterator[Document]:
    stream, encoding = open_text(path, newline="")
    key = ""

    def text_column(header: list[str]) -> None:
        nonlocal key
        key = _text_key(header, text_col) or ""
        if not key:
            raise InputError(
                f"{path}: no text column {text_col!r}; columns found: {', '.join(header)} "
                "(name the one holding the text)"
            )

    for row in csv_stream_rows(path, stream, encoding, on_error, on_header=text_column):
        doc = _record(row, key, id_col, path, encoding, on_error)
        if doc is not None:
            yield doc


def _read_jsonl(path: Path, *, text_col: str, id_col: str, on_error: OnError | None
                ) -> Iterator[Document]:
    stream, encoding = open_text(path)
    with closing(jsonl_lines(path, stream, encoding)) as lines:  # closes the file at once
        yield from jsonl_records(path, lines, encoding, text_col=text_col, id_col=id_col,
                                 on_error=on_error)


def jsonl_records(path: Path, lines: Iterable[tuple[int, str | bytes | InputError]],
                  encoding: str, *, text_col: str, id_col: str, on_error: OnError | None
                  ) -> Iterator[Document]:
    """The documents of numbered JSONL lines (as :func:`~policy_nlp.read.decode.jsonl_lines`
    gives them: text, or UTF-8 bytes) of ``path``: blank lines skipped, each bad line a
    problem for ``on_error`` (see :func:`~policy_nlp.read.records.parse_jsonl_lines`)."""
    for row in parse_jsonl_lines(path, lines, on_error):
        doc = _json_record(row, text_col, id_col, path, encoding, on_error)
        if doc is not None:
            yield doc


def _read_json(path: Path, *, text_col: str, id_col: str, on_error: OnError | None
               ) -> Iterator[Document]:
    text, encoding = decode_report(read_bytes(path), str(path), on_error)
    for row in json_text_rows(path, text, on_error,
                              hint="; for one record a line, name the file .jsonl"):
        doc = _json_record(row, text_col, id_col, path, encoding, on_error)
        if doc is not None:
            yield doc


def _json_record(row: Row, text_col: str, id_col: str, path: Path, encoding: str | None,
                 on_error: OnError | None) -> Document | None:
    """The :class:`Document` of one JSON record, or None after reporting why it has none."""
    record = row.fields
    key = _text_key(record, text_col)
    if key is None:
        handle_problem(on_error, InputError(f'{path}:{row.line}: no "{text_col}" field'))
        return None
    if not isinstance(record[key], str):
        handle_problem(on_error, InputError(
            f'{path}:{row.line}: the "{key}" field is not a string (got '
            f'{type(record[key]).__name__})'))
        return None
    return _record(row, key, id_col, path, encoding, on_error)


def _record(row: Row, key: str, id_col: str, path: Path, encoding: str | None,
            on_error: OnError | None = None) -> Document | None:
    """A record :class:`Document`: text from ``key``, id from ``id_col``, the rest as meta.

    A record whose id is not a scalar, or whose text has nothing to classify, is a problem:
    raised, or (with ``on_error``) reported, and then ``None`` is returned.
    """
    record = row.fields
    rid = record.get(id_col)
    text = normalize_text(record[key])
    problem = None
    if isinstance(rid, (dict, list, bool)) or (isinstance(rid, float) and not math.isfinite(rid)):
        problem = f"the id field {id_col!r} must be a string or a number (got {rid!r:.40})"
    elif not has_content(text):
        problem = "no text to classify (empty or only punctuation)"
    if problem:
        handle_problem(on_error, InputError(f"{path}:{row.line}: {problem}"))
        return None
    meta = record.copy()  # the other fields, in their order
    del meta[key]
    meta.pop(id_col, None)
    if rid == "":
        rid = None
    return Document(
        raw_id=rid,
        id=f"{name_id(path.stem)}:{row.index}" if rid is None else str(rid),
        text=text,
        source=f"{path}:{row.line}",
        meta=meta,
        encoding=encoding,
        kind="record",
    )


# --- directories ------------------------------------------------------------------------------


def input_files(directory: Path, on_error: OnError | None = None, *,
                exclude: Collection[Path] = (), report: bool = False) -> list[Path]:
    """Input files under ``directory``, recursively, sorted, hidden files and folders skipped.

    A folder that cannot be listed is a problem for ``on_error``; a broken symbolic link with an
    input extension is listed (reading it reports it) rather than passed over in silence.
    Left out: the files of ``exclude`` (resolved paths: the run's own output), and the outputs
    of policy-nlp that the folder holds (:func:`~policy_nlp.read.own.own_output_kind`: a label
    output, a panel, a coding sheet), each named in a warning with ``report``.
    """
    files = []
    for f in _walk(directory, on_error):
        if exclude and f.resolve() in exclude:
            continue
        kind = own_output_kind(f)
        if kind is None:
            files.append(f)
        elif report:
            log.warning("%s: not read: %s of policy-nlp (it has the columns %s); name it as an "
                        "input to read it", printable(str(f)), kind,
                        ", ".join(sorted(dict(OWN_OUTPUTS)[kind])))
    return files


def _walk(directory: Path, on_error: OnError | None) -> list[Path]:
    found = []

    def unlistable(exc: OSError) -> None:
        handle_problem(on_error, InputError(
            f"{exc.filename}: cannot list this directory ({exc.strerror or exc})"))

    for root, dirs, files in os.walk(directory, onerror=unlistable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel_root = Path(root).relative_to(directory)
        found.extend(rel_root / name for name in files if _listed(name))
    return [directory / rel for rel in sorted(found, key=lambda r: r.parts)]


def _listed(name: str) -> bool:
    """Whether a folder's walk lists a file or folder of this name (hidden ones are not)."""
    return not name.startswith(".") and (Path(name).suffix.lower() in INPUT_SUFFIXES)


def read_from_folder(path: Path, folder: Path) -> bool:
    """Whether reading the input ``folder`` reads the existing file ``path`` (:func:`input_files`:
    below it, not hidden, an input extension, not an output of policy-nlp)."""
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return (bool(rel.parts) and _listed(rel.name)
            and not any(part.startswith(".") for part in rel.parts[:-1])
            and own_output_kind(path) is None)
