"""Writing results: JSONL, CSV and a readable terminal table, written atomically.

An output file is written to a temporary file beside it and renamed into place only when the
run succeeded, so a failed or interrupted run never leaves a half-written file. A failure to write
(no space left on the device, an I/O error) is :class:`~policy_nlp.errors.OutputError`, after
which the temporary file is removed and an earlier output of the same name is left as it was.
What an output path is -- standard output, a device or FIFO written through, a symbolic link
followed, a file -- is decided in one place, :func:`policy_nlp.outputs.output_target`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from .errors import ArgumentError, InputError, OutputError, require
from .outputs import open_stream, output_target, refuse_an_input
from .read import jsonl_loads, read_from_folder
from .read.records import from_spreadsheet_text, starts_as_formula
from .text import clip

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook

FORMATS = ("jsonl", "csv", "table")


def format_for_path(path: str | Path, default: str = "jsonl", *,
                    given: str | None = None) -> str:
    """The table format of an output: ``given`` (a ``--format``), else the name's extension
    (``.csv``; ``.jsonl``, ``.ndjson``, ``.json``), else ``default`` for standard output (``-``)
    and a name without an extension. A name whose extension says another format (``.parquet``,
    ``.txt``, ``.xlsx``…) is refused rather than filled with JSONL, as is a ``given`` format
    that contradicts the extension."""
    suffix = Path(path).suffix.lower() if str(path) != "-" else ""
    by_name = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}.get(suffix)
    if suffix and by_name is None:
        raise InputError(f"{path}: this output is written as .jsonl or .csv, not {suffix}; "
                         f"name it OUT.jsonl or OUT.csv")
    if given and by_name and given != by_name:
        raise InputError(f"{path}: --format {given} but the name says {by_name}")
    return given or by_name or default


class _Guarded:
    """A text stream whose write errors (other than a closed pipe) are :class:`OutputError`."""

    def __init__(self, stream: IO[str], name: str, note: str = ""):
        self._stream, self._name, self._note = stream, name, note

    def _fail(self, exc: OSError) -> OutputError:
        return OutputError(f"{self._name}: cannot write ({exc.strerror or exc}){self._note}")

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._fail(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._fail(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def atomic_output(path: str | Path | None) -> Iterator[IO[str]]:
    """A text stream that becomes ``path`` only if the block finishes without error.

    ``None`` or ``"-"`` writes to standard output, and a character device or FIFO is written
    through (where what was written before a failure stays written); a symbolic link is
    followed (:func:`~policy_nlp.outputs.output_target`). A write that fails raises
    :class:`OutputError`.
    """
    target = output_target(path)
    if target.kind == "stdout":
        out = _Guarded(sys.stdout, "<stdout>")
        yield out  # type: ignore[misc]
        out.flush()
        return
    if target.kind == "stream":
        with _open_stream_text(target.path) as stream:
            out = _Guarded(stream, str(path))
            yield out  # type: ignore[misc]
            out.flush()
        return
    path = target.path
    fd, tmp = _temp_beside(path)
    note = "; no output was written" + (f" ({path.name} is left as it was)"
                                        if path.exists() else "")
    try:
        fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        guarded = _Guarded(fh, str(path), note)
        try:
            yield guarded  # type: ignore[misc]
            guarded.flush()
            try:
                os.fsync(fh.fileno())
            except OSError as exc:
                raise guarded._fail(exc) from None
        finally:
            try:
                fh.close()
            except OSError as exc:  # a buffered write that failed only now
                raise guarded._fail(exc) from None
        try:
            _publish(tmp, path)
        except OSError as exc:
            raise guarded._fail(exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _open_stream_text(path: Path) -> Iterator[IO[str]]:
    stream = io.TextIOWrapper(open_stream(path), encoding="utf-8", newline="")
    try:
        yield stream
    finally:
        try:
            stream.close()
        except OSError:  # the reader of a FIFO went away: what it read is what it got
            pass


def _publish(tmp: str, path: Path) -> None:
    """Give the finished temporary file the output's mode and rename it into place."""
    os.chmod(tmp, output_file_mode(path))
    os.replace(tmp, path)


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file (descriptor, name) beside the output ``path``, checked first."""
    if not path.parent.exists():
        raise InputError(f"{path}: the output directory {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected an output file name")
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write to {path.parent} ({exc.strerror})") from None


def check_output_file(path: str | Path | None, inputs=()) -> None:
    """Check, before any work, that the output file ``path`` can be written where it is asked
    for (``None`` or ``-``: standard output, nothing to check): it is none of the run's
    ``inputs`` (:func:`~policy_nlp.outputs.refuse_an_input`), its directory exists (else
    :class:`InputError`, a bad argument), it is not a directory, and a file can be made there
    (else :class:`OutputError`). A long run then does not end on a place it could not write.
    """
    refuse_an_input(path, inputs, read_from_folder)  # an input inside a folder too
    target = output_target(path)
    if target.kind != "file":
        return
    fd, tmp = _temp_beside(target.path)
    os.close(fd)
    os.unlink(tmp)


def check_output_dir(path: str | Path) -> None:
    """Check, before any work, that the output directory ``path`` can be made (its parents
    included) or filled: it is not a file, and the nearest existing directory on the way can
    be written to (else :class:`OutputError`)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file, expected a directory for the outputs")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".policy-nlp-check.", dir=existing)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write to {existing} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file name that becomes ``path`` only if the block finishes without error.

    For writers that want a file name rather than a text stream (Parquet, figures); checked
    as :func:`atomic_output`, and an :class:`OSError` while writing is :class:`OutputError`.
    A character device or FIFO gets the finished file's bytes.
    """
    target = output_target(path)
    if target.kind == "stdout":
        raise InputError("this output needs a file name, not -")
    if target.kind == "file":
        fd, tmp = _temp_beside(target.path)
    else:
        fd, tmp = tempfile.mkstemp(prefix=".policy-nlp.", suffix=Path(path).suffix)
    os.close(fd)
    try:
        try:
            yield Path(tmp)
            if target.kind == "file":
                _publish(tmp, target.path)
            else:
                with open(tmp, "rb") as src, open_stream(target.path) as dst:
                    shutil.copyfileobj(src, dst)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc}); no output was "
                              "written") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def output_file_mode(path: Path) -> int:
    """The mode a new file gets from the umask (mkstemp's 0600 is too private), or the mode of
    the file it replaces."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def jsonl_line(rec: Any) -> bytes:
    """One JSONL line: compact JSON in UTF-8 and a newline, as orjson writes it (about 10x
    faster than the json module). What orjson cannot write exactly -- integers beyond 64
    bits, non-string keys, and non-finite floats (which it would write as ``null``) -- is
    written by the json module instead, with the same separators."""
    try:
        data = orjson.dumps(rec)
    except TypeError:  # orjson.JSONEncodeError
        data = b"null"
    if b"null" in data:  # a NaN made null? (a real null goes the slow way too: same JSON)
        return (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    return data + b"\n"


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for rec in records:
        out.write(jsonl_line(rec).decode("utf-8"))
        n += 1
    return n


def input_name(key: str, taken: set[str]) -> str:
    """The name an input field ``key`` that an output field would replace is kept under:
    ``input_<key>``, prefixed again while ``taken`` has it (the name is added to it)."""
    name = f"input_{key}"
    while name in taken:
        name = f"input_{name}"
    taken.add(name)
    return name


def flatten(rec: dict[str, Any], themes: list[str]) -> dict[str, Any]:
    """A record for CSV: lists joined, one ``score_<theme>`` column per theme."""
    row: dict[str, Any] = {}
    columns = {f"score_{t}" for t in themes} if "scores" in rec else set()
    taken = set(rec)
    for k, v in rec.items():
        if k == "scores":
            continue
        if k in columns:  # an input's score_<theme> (a CSV of label labeled again): kept
            k = input_name(k, taken)
        if k == "section":
            row[k] = " > ".join(v)
        elif k == "secondary":
            row[k] = ";".join(v)
        elif k == "top":
            row[k] = ";".join(f"{t}:{p:.4f}" for t, p in v)
        elif k == "themes":
            row[k] = ";".join(f"{t}:{p:.4f}" for t, p in v.items())
        elif k == "evidence":
            row[k] = ";".join(f"{e['term']}:{e['contribution']:.4f}" for e in v)
        elif isinstance(v, (dict, list)):
            row[k] = json.dumps(v, ensure_ascii=False)
        else:
            row[k] = v
    scores = rec.get("scores", {})
    for t in themes:
        row[f"score_{t}"] = scores.get(t, "")
    return row


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], themes: list[str]) -> int:
    """CSV of labeled records, with every column any record has.

    Records are spooled to a temporary file first (memory stays flat), so that a field that
    only later records carry (another input's pass-through field) still gets its column.
    """
    return write_rows((flatten(rec, themes) for rec in records), out, "csv")


def write_rows(rows: Iterable[dict[str, Any]], out: IO[str], fmt: str) -> int:
    """Flat records as JSONL, or as CSV whose header is the union of all records' fields
    (in order of first appearance; rows are spooled to a temporary file first)."""
    if fmt == "jsonl":
        return write_jsonl(rows, out)
    columns: dict[str, None] = {}
    n = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for row in rows:
            columns.update(dict.fromkeys(row))
            spool.write(jsonl_line(row).decode("utf-8"))
            n += 1
        if not n:
            return 0
        spool.seek(0)
        writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        # csv quotes a field holding the line terminator's characters only, so a lone CR
        # (an id or pass-through field) went out bare and split its row for every reader:
        # such a row is written with every field quoted
        quoted = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n",
                                quoting=csv.QUOTE_ALL)
        (quoted if any("\r" in c for c in columns) else writer).writeheader()
        for line in spool:
            row = jsonl_loads(line)
            carriage = any(isinstance(v, str) and "\r" in v for v in row.values())
            (quoted if carriage else writer).writerow(row)
    return n


BOM = "\ufeff"


def write_table(rows: Iterable[dict[str, Any]], path: str | Path, fmt: str, *,
                sheet: bool = False) -> int:
    """Write flat records to ``path`` (``-``: standard output) as JSONL or CSV, atomically.

    A CSV file starts with a byte-order mark, so that spreadsheets (Excel above all) read its
    Chinese as UTF-8; CSV on standard output has none, as it is most often read by a program.
    pandas, ``policy-nlp``'s own readers and ``csv`` with ``encoding="utf-8-sig"`` skip it.

    ``sheet``: a sheet for people to open in a spreadsheet and code (its texts and ids come
    from the inputs): no CSV cell, column names included, starts as a formula would
    (:func:`spreadsheet_text`); ``table_rows(path, sheet=True)`` reads it back exactly.
    """
    if sheet and fmt == "csv":
        rows = ({spreadsheet_text(k): spreadsheet_text(v) for k, v in row.items()}
                for row in rows)
    with atomic_output(path) as out:
        if fmt == "csv" and str(path) != "-":
            out.write(BOM)
        return write_rows(rows, out, fmt)


def check_json_output(path: str | Path | None, inputs=()) -> None:
    """Check, before any work, an output written as one JSON document (``evaluate -o``,
    ``compare -o``): a name whose extension says another format (``.csv``, ``.txt``…) is
    refused rather than filled with JSON (``-`` and a name without an extension are taken as
    they are), then as :func:`check_output_file`."""
    if path is None:
        return
    suffix = Path(path).suffix.lower() if str(path) != "-" else ""
    if suffix and suffix != ".json":
        raise InputError(f"{path}: this output is written as JSON, not {suffix}; name it "
                         "OUT.json")
    check_output_file(path, inputs)


def write_json(value: Any, path: str | Path) -> None:
    """One JSON document (metrics, a comparison), indented, atomically (a name with another
    extension than ``.json`` is refused, :func:`check_json_output`)."""
    check_json_output(path)
    with atomic_output(path) as out:
        out.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def format_table(records: list[dict[str, Any]], *, width: int | None = None) -> str:
    """A readable table of labeled paragraphs for a terminal, aligned by display width.

    ``width``: the terminal's columns; the text column shrinks (and the top-3 and evidence
    columns go) to fit it. ``None``: no limit (a pipe or a file).
    """
    buf = io.StringIO()
    # sentence-level themes and evidence, where the records have them, go last
    extra = [k for k in ("themes", "evidence") if records and k in records[0]]
    head = ["#", "section", "text", "label", "score", "secondary", "top 3", *extra]
    widths = [5, 16, 40, 22, 6, 22, 46, *([60] * len(extra))]
    if width is not None:
        while len(head) > 6 and sum(widths) > width:  # drop the rightmost optional columns
            head.pop()
            widths.pop()
        widths[2] = max(16, widths[2] - max(0, sum(widths) - width))
    widths[-1] = 0
    buf.write("".join(clip(h, w) if w else h for h, w in zip(head, widths, strict=True)))
    buf.write("\n")
    for rec in records:
        section = rec.get("section") or []
        cells = [
            str(rec.get("paragraph", "")),
            section[-1] if section else "",
            rec.get("text", ""),
            rec["label"],
            f"{rec['score']:.2f}",
            ",".join(rec["secondary"]),
            " ".join(f"{t}:{p:.2f}" for t, p in rec["top"]),
        ]
        if "themes" in extra:
            cells.append(" ".join(f"{t}:{p:.2f}" for t, p in rec["themes"].items()))
        if "evidence" in extra:
            cells.append(" ".join(f"{evidence_label(e)}:{e['contribution']:+.2f}"
                                  for e in rec["evidence"]))
        cells = cells[:len(widths)]
        buf.write("".join(clip(c, w) if w else c for c, w in zip(cells, widths, strict=True)))
        buf.write("\n")
    return buf.getvalue()


def evidence_label(term: dict[str, Any]) -> str:
    """A term of evidence as a reader sees it: words joined by ·, character n-grams marked
    with a leading ~ (a piece of text, not a word)."""
    text = term["term"].replace(" ", "·")
    return text if term["kind"] == "word" else f"~{text}"


PANEL_FORMATS = ("csv", "parquet", "jsonl", "dta")


def panel_format(path: str | Path, given: str | None = None) -> str:
    """The panel format of an output: ``given`` (a ``--format``: csv, parquet, jsonl or dta),
    else the name's extension (``.csv``, ``.parquet``, ``.jsonl``, ``.dta`` for Stata), else
    CSV for standard output (``-``) and a name without an extension (``/dev/stdout``,
    ``/dev/null``, ``panel``), as :func:`format_for_path` does for tables. Another extension,
    or a ``given`` format that contradicts the name's, is refused."""
    if given is not None and given not in PANEL_FORMATS:
        raise ArgumentError("fmt", f"must be one of {', '.join(PANEL_FORMATS)}, not {given!r}")
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        by_name = "parquet"
    elif suffix in (".jsonl", ".ndjson"):
        by_name = "jsonl"
    elif suffix == ".dta":
        by_name = "dta"
    elif suffix == ".csv":
        by_name = "csv"
    elif str(path) == "-" or not suffix:
        return given or "csv"
    else:
        raise InputError(f"{path}: a panel is written as .csv, .parquet, .jsonl or .dta, not "
                         f"{suffix}")
    if given and given != by_name:
        raise InputError(f"{path}: --format {given} but the name says {by_name}")
    return by_name


def check_panel_writer(path: str | Path, fmt: str) -> None:
    """Refuse, before any work, a panel this machine cannot write: Parquet without pyarrow,
    or Parquet or Stata to standard output."""
    if fmt in ("parquet", "dta") and str(path) == "-":
        raise InputError(f"a {'Parquet' if fmt == 'parquet' else 'Stata'} panel needs a file "
                         "name, not -")
    if fmt == "parquet":
        require("pyarrow", "parquet", "writing Parquet")


def write_panel(rows: list[dict[str, Any]], path: str | Path, fmt: str | None = None, *,
                codebook: Codebook | None = None) -> None:
    """Write a panel (one row per report) as CSV, Parquet, JSONL or Stata, atomically.

    Parquet needs pyarrow (the ``parquet`` extra); ``-`` writes CSV or JSONL
    to standard output. A Stata file gets variable labels, with the
    Chinese theme names of ``codebook``
    (:func:`policy_nlp.stata.write_dta`).
    """
    fmt = fmt or panel_format(path)
    if fmt == "dta":
        from .stata import write_dta

        check_panel_writer(path, fmt)
        with atomic_path(path) as tmp:
            write_dta(rows, tmp, codebook)
        return
    if fmt != "parquet":
        write_table(rows, path, fmt)
        return
    check_panel_writer(path, fmt)
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object and len({type(v) for v in values.dropna()}) > 1:
            # a field that is a number in one report and text in another (2020, '2020年'):
            # text, as in the .dta panel (a Parquet column has one type)
            frame[column] = values.map(lambda v: None if v is None or v != v else str(v))
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


# --- coding sheets ----------------------------------------------------------------------------


def check_sheet_output(path: str | Path) -> None:
    """Refuse, before any work, a coding sheet that is neither ``.csv`` nor ``.xlsx``, or an
    ``.xlsx`` without openpyxl."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"{path}: a coding sheet is written as .csv or .xlsx")
    if suffix == ".xlsx":
        require("openpyxl", "xlsx", "writing .xlsx")


def refuse_a_coded_sheet(path: str | Path, label_col: str = "label") -> None:
    """Refuse, before any work, to replace a coding sheet that people have begun to fill in: an
    existing CSV, XLSX or JSONL file at ``path`` with a non-blank ``label_col`` cell (the
    coding is hours of work; a new sheet under the same name would lose it). A file that
    cannot be read as a table, or has no such cell, may be replaced as any output is."""
    from .read import table_rows

    p = Path(path)
    if str(path) == "-" or p.suffix.lower() not in (".csv", ".xlsx", ".jsonl"):
        return
    if not p.is_file():
        return
    try:
        coded = sum(1 for _, row in table_rows(p) if str(row.get(label_col) or "").strip())
    except (InputError, OSError, ValueError):
        return
    if coded:
        raise InputError(f"{path}: holds a coding sheet with {coded} coded row"
                         f"{'s' if coded != 1 else ''} (a {label_col!r} filled in); writing it "
                         "would replace the coding: choose another output name, or move the "
                         "sheet away first")


def spreadsheet_text(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs: a string that starts as a formula
    would (``=HYPERLINK(…)``, ``-国内…``) gets a ``'`` before it, as does one that starts
    with ``'`` before such a start, so that :func:`from_spreadsheet_text` (and
    ``table_rows(sheet=True)``) gives it back."""
    return "'" + value if isinstance(value, str) and starts_as_formula(value) else value


def _workbook_text(value: Any) -> Any:
    """A cell of a workbook sheet: itself (stored as text, never as a formula), but with a
    ``'`` before a text that starts with ``'`` before a formula's start, which the reader of
    sheets (:func:`from_spreadsheet_text`: a CSV sheet saved as a workbook keeps its ``'``)
    would otherwise read without its own ``'``."""
    return "'" + value if isinstance(value, str) and from_spreadsheet_text(value) != value \
        else value


def write_sheet(rows: list[dict[str, Any]], path: str | Path) -> int:
    """A coding sheet, atomically: CSV with a UTF-8 byte-order mark (so that spreadsheets
    show the Chinese) or ``.xlsx`` (needs openpyxl, the ``xlsx`` extra),
    the header bold and frozen. No cell is ever a formula: the texts and ids come from the
    inputs, and a spreadsheet would run ``=HYPERLINK(…)`` or ``=cmd|…`` (CSV: a ``'`` before
    such a cell, :func:`spreadsheet_text`; ``.xlsx``: every string stored as text)."""
    check_sheet_output(path)
    if Path(path).suffix.lower() == ".csv":
        return write_table(rows, path, "csv", sheet=True)
    import openpyxl
    from openpyxl.styles import Font

    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "coding"

    def append(values) -> None:
        sheet.append([_workbook_text(v) for v in values])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # openpyxl takes a string starting with = for a formula
                cell.data_type = "s"

    append(columns)  # (a field of the inputs may be named =…)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append([row.get(c) for c in columns])
    sheet.freeze_panes = "A2"
    with atomic_path(path) as tmp:
        book.save(tmp)
    return len(rows)
