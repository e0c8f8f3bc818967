"""JSONL inputs read by the workers themselves: every input a JSONL file (:func:`jsonl_inputs`)
is cut into blocks of lines (:class:`LineBlock`, :func:`line_blocks`) that a worker reads, labels
and serialises (:func:`label_block`), so that the main process only writes; what the worker met
while reading comes back as a :class:`BlockReport`, which the main process replays in input
order (problems, duplicate ids) exactly as reading the files itself would report them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .chunks import LabelOptions, label_chunk

# a block of JSONL lines is at most chunk_size lines and about this many bytes (a line may be a
# whole report of many paragraphs)
BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class LineBlock:
    """Consecutive lines of the ``file``-th input, a JSONL file read in ``encoding``: their
    bytes, the number of the first line, and where the block starts in the file."""

    file: int
    path: str
    encoding: str
    first_line: int
    start: int
    data: bytes

    def lines(self) -> Iterator[tuple[int, str | bytes | InputError]]:
        """The numbered lines, each as the file reader gives it (:func:`~policy_nlp.read.
        decode_line`)."""
        from ..read import decode_line, line_codec

        path, codec = Path(self.path), line_codec(self.encoding)
        raw = self.data.split(b"\n")
        if self.data.endswith(b"\n"):
            raw.pop()
        for lineno, data in enumerate(raw, self.first_line):
            yield lineno, decode_line(path, lineno, data, codec)

    def documents(self, opts: LabelOptions, on_error) -> Iterator:
        from ..read import jsonl_records

        return jsonl_records(Path(self.path), self.lines(), self.encoding,
                             text_col=opts.text_col, id_col=opts.id_col, on_error=on_error)


def jsonl_inputs(inputs: list[str]) -> list[tuple[str, str]] | None:
    """(path, encoding) of each input if every input is a JSONL file that the workers can read
    by lines (any encoding but UTF-16); else None, and the inputs are read by this process."""
    from ..read import jsonl_encoding

    files = []
    for p in inputs:
        path = Path(p)
        if p == "-" or path.suffix.lower() != ".jsonl" or not path.is_file():
            return None
        try:
            encoding = jsonl_encoding(path)
        except InputError:  # reported in order by the reader
            return None
        if encoding.startswith("utf-16"):
            return None
        files.append((str(path), encoding))
    return files


def line_blocks(files: list[tuple[str, str]], max_lines: int = 1024,
                max_bytes: int = BLOCK_BYTES) -> Iterator[LineBlock]:
    """The files as blocks of lines (a line over the record limit cut: see bounded_lines)."""
    from ..read import bounded_lines

    for i, (path, encoding) in enumerate(files):
        start, lineno = 0, 1
        try:
            with open(path, "rb") as fh:
                lines: list[bytes] = []
                size = 0
                for raw in bounded_lines(fh):
                    lines.append(raw)
                    size += len(raw)
                    if len(lines) >= max_lines or size >= max_bytes:
                        yield LineBlock(i, path, encoding, lineno, start, b"".join(lines))
                        start, lineno, lines, size = start + size, lineno + len(lines), [], 0
                if lines:
                    yield LineBlock(i, path, encoding, lineno, start, b"".join(lines))
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


@dataclass
class BlockReport:
    """What the main process needs of a block's reading (see :func:`label_block`): the
    problems met, each after how many of the block's documents, and the id, its 64-bit key
    (:func:`~policy_nlp.read.id_keys`, taken in the worker) and the source of each document."""

    problems: list[tuple[int, InputError]]
    keys: list[int]
    ids: list[str]
    sources: list[str]
    # the paragraphs of each document split as a report (0: not split; empty: none was)
    parts: list[int] = field(default_factory=list)

    def replay(self, ids, on_error) -> None:
        """Report the problems and the duplicate ids (checked with ``ids``, an
        :class:`~policy_nlp.read.IdMemory`) in input order, as reading in this process does."""
        from ..read import handle_problem

        done = 0
        for at, problem in [*self.problems, (len(self.keys), None)]:
            if at > done:
                ids.check_many(self.keys[done:at], self.ids[done:at], self.sources[done:at],
                               on_error, self.parts[done:at] or None)
                done = at
            if problem is not None:
                handle_problem(on_error, problem)


def label_block(model, block: LineBlock, opts: LabelOptions) -> tuple[bytes, int, BlockReport]:
    """Read, label and serialise a block of JSONL lines (in a worker): the bytes, the number
    of units, and the :class:`BlockReport` of its reading, for the main process to report
    problems and duplicate ids in input order."""
    from ..predict import units_of_document
    from ..read import id_keys

    report = BlockReport([], [], [], [], [])
    units = []
    for doc in block.documents(opts, lambda e: report.problems.append((len(report.ids), e))):
        doc_units, split = units_of_document(doc, opts.records)
        units.extend(doc_units)
        report.ids.append(doc.id)
        report.sources.append(doc.source)
        report.parts.append(len(doc_units) if split else 0)
    data, n = label_chunk(model, units, opts)
    report.keys = id_keys(report.ids)
    return data, n, report

