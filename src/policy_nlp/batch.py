"""Batch labeling engines behind ``policy-nlp label``: streaming, parallel, resumable, Dask.

:func:`label_to_file` (the local engine) reads the inputs as a stream, labels them in chunks of
``chunk_size`` units, in this process (``jobs=1``) or in ``jobs`` worker processes, and writes
each chunk as soon as it (and every chunk before it) is done, so memory stays flat whatever the
size of the input and the output order is the input order.

Crash safety and ``--resume``. A file output ``OUT`` is written as ``OUT.partial`` beside it,
with a checkpoint ``OUT.checkpoint.json``. After each chunk (at most every 2 s) the partial
file is flushed and fsync'd, and then the checkpoint -- the number of input units done, the partial file's byte
length at that point, and a fingerprint of the run (inputs with their sizes and mtimes, the
model's file hashes, the options) -- is written to a temporary file, fsync'd and renamed over
the old one. So the checkpoint only ever names bytes that are on disk. ``resume=True`` checks
the fingerprint, truncates the partial file to the committed length (dropping a half-written
chunk), skips the committed units of the input (reading, not labeling them) and goes on. At
the end the partial file is renamed to ``OUT`` (atomically) and the checkpoint removed.

:func:`label_dask` (the Dask engine) cuts the inputs into partitions (a byte range of
``partition_rows`` lines of a JSONL file, or one whole file otherwise), labels each partition
on a Dask worker into ``part-NNNNN.jsonl`` of an output directory, and writes ``manifest.json``
(parts in input order, rows, sha256) when all are done. Concatenating the parts in manifest
order gives exactly the local engine's JSONL output.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, ModelError, OutputError, PolicyNLPError
from .write import output_file_mode

CHECKPOINT_FORMAT = "policy-nlp-label-checkpoint/1"
MANIFEST_FORMAT = "policy-nlp-label-parts/1"


@dataclass(frozen=True)
class LabelOptions:
    """How units are read and written (the same for every engine and worker)."""

    fmt: str = "jsonl"  # jsonl | csv
    text_col: str = "text"
    id_col: str = "id"
    records: str = "auto"
    include_text: bool = True
    unit: str = "paragraph"  # or "sentence": each sentence labeled too (predict.label_sentences)


# --- the work of one chunk (in this process or a worker) ---------------------------------------

_models: dict[str | None, Any] = {}


def _model(model_dir: str | None):
    """The model of ``model_dir`` (None: the default), loaded once per process."""
    m = _models.get(model_dir)
    if m is None:
        from .model import load_model

        m = _models[model_dir] = load_model(model_dir)
    return m


def label_chunk(model, units: list, opts: LabelOptions) -> tuple[bytes, int]:
    """Label a chunk of units: the UTF-8 bytes to write, and the number of units.

    JSONL output gets its lines; CSV output the flattened rows as JSON lines (made into a CSV
    with every column at the end, see :func:`_rows_to_csv`)."""
    from .predict import label_sentences, label_units
    from .write import flatten, jsonl_line

    labeler = label_sentences if opts.unit == "sentence" else label_units
    records = labeler(model, units, batch_size=max(len(units), 1),
                      include_text=opts.include_text)
    if opts.fmt != "jsonl":
        themes = model.themes
        records = (flatten(r, themes) for r in records)
    return b"".join([jsonl_line(r) for r in records]), len(units)


_worker_set_up: list[bool] = []  # this worker process has set its garbage collector up


def _in_worker(work: Callable, model_dir: str | None, task, opts: LabelOptions):
    model = _model(model_dir)
    if not _worker_set_up:  # once: gc.get_freeze_count() walks every frozen object
        _worker_set_up.append(True)
        _collect_for_a_run()  # for the worker's life (a forked one inherits the frozen state)
    return work(model, task, opts)


# the garbage collector's first threshold during a run (Python's default is 700 in 3.11 and
# 2,000 from 3.13): the records of a block, a few containers each, are freed together when the
# block is written, and with the default most of them were walked by a collection before that
RUN_GC_THRESHOLD = 50_000


def _collect_for_a_run() -> Callable[[], None]:
    """Leave the objects alive now (the model's vocabulary, the modules) out of the cyclic
    garbage collector's passes (``gc.freeze``), and collect the youngest generation less
    often (:data:`RUN_GC_THRESHOLD`); returns what undoes it. Labeling makes a few dicts and
    lists per record, which start a collection every few hundred records, and each
    older-generation pass walked the ~100,000 objects of the loaded model: building the
    prediction fields of 1,024 records took 11 ms instead of 3.8 ms. A process that froze
    objects itself (a server preloading its code for copy-on-write workers, an outer run) is
    left frozen as it is; a first threshold of 0 (automatic collection switched off) stays."""
    thresholds = gc.get_threshold()
    if thresholds[0]:
        gc.set_threshold(max(RUN_GC_THRESHOLD, thresholds[0]), *thresholds[1:])
    frozen = not gc.get_freeze_count()
    if frozen:
        gc.freeze()

    def undo() -> None:
        if frozen:
            gc.unfreeze()
        gc.set_threshold(*thresholds)

    return undo


@contextmanager
def _long_lived_frozen():
    """:func:`_collect_for_a_run` until the end of the block. Forked workers inherit the
    frozen state."""
    undo = _collect_for_a_run()
    try:
        yield
    finally:
        undo()


def _chunks(units: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for u in units:
        chunk.append(u)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _units(inputs: list[str], opts: LabelOptions, on_error=None,
           exclude: Collection[Path] = ()) -> Iterator:
    """The units to label; ``on_error`` is the reading layer's error policy (None: raise);
    ``exclude``: files of the run's own output, never read from an input directory."""
    from .predict import iter_units
    from .read import iter_documents

    docs = iter_documents(inputs, text_col=opts.text_col, id_col=opts.id_col, on_error=on_error,
                          unique_ids=True, exclude=exclude)
    return iter_units(docs, records=opts.records)


def _worker_init() -> None:
    """A worker leaves Ctrl-C to the main process, which stops the pool (and says how to
    resume): otherwise every worker prints a KeyboardInterrupt traceback of its own. Its
    warnings go to standard error as the main process's do (``policy-nlp: …``)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logger = logging.getLogger("policy_nlp")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("policy-nlp: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)


def _pool_context():
    """How worker processes start. On Linux, from a process with no other Python thread
    (the command line), they are forked from this process: they start at once, with the
    model loaded (its arrays shared, copy-on-write), instead of each importing the package
    and loading the model again. Otherwise forkserver (spawn on Windows), where they load it
    themselves: a fork copies the locks other threads hold at that moment (a notebook's or
    server's thread loading the tokenizer, say), and a worker would wait on them forever."""
    import multiprocessing as mp
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return mp.get_context("fork")
    return mp.get_context("spawn" if sys.platform == "win32" else "forkserver")


def _ordered(work: Callable, tasks: Iterator, model, model_dir: str | None, opts: LabelOptions,
             jobs: int) -> Iterator:
    """``work(model, task, opts)`` of each task, in input order; with ``jobs > 1`` from a
    process pool that never holds more than ``2 * jobs`` tasks in flight (the input is not
    read ahead)."""
    if jobs <= 1:
        for task in tasks:
            yield work(model, task, opts)
        return
    with _pool_context().Pool(jobs, initializer=_worker_init) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(_in_worker, (work, model_dir, task, opts)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


# --- JSONL inputs read by the workers ---------------------------------------------------------

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
        from .read import decode_line, line_codec

        path, codec = Path(self.path), line_codec(self.encoding)
        raw = self.data.split(b"\n")
        if self.data.endswith(b"\n"):
            raw.pop()
        for lineno, data in enumerate(raw, self.first_line):
            yield lineno, decode_line(path, lineno, data, codec)

    def documents(self, opts: LabelOptions, on_error) -> Iterator:
        from .read import jsonl_records

        return jsonl_records(Path(self.path), self.lines(), self.encoding,
                             text_col=opts.text_col, id_col=opts.id_col, on_error=on_error)


def jsonl_inputs(inputs: list[str]) -> list[tuple[str, str]] | None:
    """(path, encoding) of each input if every input is a JSONL file that the workers can read
    by lines (any encoding but UTF-16); else None, and the inputs are read by this process."""
    from .read import jsonl_encoding

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
    from .read import bounded_lines

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

    def replay(self, ids, on_error) -> None:
        """Report the problems and the duplicate ids (checked with ``ids``, an
        :class:`~policy_nlp.read.IdMemory`) in input order, as reading in this process does."""
        from .read import _problem

        done = 0
        for at, problem in [*self.problems, (len(self.keys), None)]:
            if at > done:
                ids.check_many(self.keys[done:at], self.ids[done:at], self.sources[done:at],
                               on_error)
                done = at
            if problem is not None:
                _problem(on_error, problem)


def label_block(model, block: LineBlock, opts: LabelOptions) -> tuple[bytes, int, BlockReport]:
    """Read, label and serialise a block of JSONL lines (in a worker): the bytes, the number
    of units, and the :class:`BlockReport` of its reading, for the main process to report
    problems and duplicate ids in input order."""
    from .predict import iter_units
    from .read import id_keys

    report = BlockReport([], [], [], [])

    def documents():
        for doc in block.documents(opts, lambda e: report.problems.append((len(report.ids), e))):
            report.ids.append(doc.id)
            report.sources.append(doc.source)
            yield doc

    units = list(iter_units(documents(), records=opts.records))
    data, n = label_chunk(model, units, opts)
    report.keys = id_keys(report.ids)
    return data, n, report


def _results(inputs: list[str], opts: LabelOptions, on_error, model, model_key, jobs: int,
             chunk_size: int, done: int = 0, exclude: Collection[Path] = ()) -> Iterator:
    """(bytes, units) of the work in input order.

    JSONL files are handed to the workers as blocks of lines that they read, label and
    serialise themselves, so that this process only writes (and, in order, reports problems
    and duplicate ids); other inputs are read here and handed over as units. ``done`` units
    were done by an interrupted run: a resumed run reads the inputs here from the start and
    skips them, so that it reports the same problems and duplicate ids as an uninterrupted
    run (the workers, going on from a later line, would not see those before it).
    """
    from .read import IdMemory

    files = jsonl_inputs(inputs) if not done else None
    if files is None:
        units = _skip(_units(inputs, opts, on_error, exclude), done)
        yield from _ordered(label_chunk, _chunks(units, chunk_size), model, model_key, opts,
                            jobs)
        return
    ids = IdMemory()
    with closing(line_blocks(files, chunk_size)) as blocks:  # the file closed at once
        for data, n, report in _ordered(label_block, blocks, model, model_key, opts, jobs):
            report.replay(ids, on_error)
            yield data, n


# --- checkpoints ------------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def fingerprint(inputs: list[str], model, opts: LabelOptions,
                exclude: Collection[Path] = ()) -> str:
    """What must not change between a run and its resumption (``exclude``: the run's own
    files, which change as it goes): the input files, as reading lists them, with their size
    and modification time."""
    from .read import _input_files

    files = []
    for p in inputs:
        path = Path(p)
        found = _input_files(path) if path.is_dir() else [path]
        for f in found:
            if f.is_file() and f.resolve() not in exclude:
                st = f.stat()
                files.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
    data = {"inputs": files, "model": model.card.get("files"), "options": asdict(opts)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def state_paths(output: Path) -> tuple[Path, Path]:
    """The partial output and the checkpoint of ``output``."""
    return (output.with_name(output.name + ".partial"),
            output.with_name(output.name + ".checkpoint.json"))


def own_files(output: Path) -> frozenset[Path]:
    """The files a run writing ``output`` makes (resolved): the output, its partial output and
    its checkpoint. An input directory that holds them is read without them."""
    return frozenset(p.resolve() for p in (output, *state_paths(output)))


# --- the local engine -------------------------------------------------------------------------


def label_to_file(inputs: list[str], output: str, *, model_dir: str | Path | None = None,
                  opts: LabelOptions | None = None, jobs: int = 1, resume: bool = False,
                  restart: bool = False, chunk_size: int = 1024, commit_every: float = 2.0,
                  progress: Callable[[int], None] | None = None,
                  log: Callable[[str], None] | None = None, on_error=None) -> int:
    """Label ``inputs`` into ``output`` (``-`` for standard output); returns the units labeled
    in total (including, on resume, those of the interrupted run).

    The partial output is fsync'd and the checkpoint advanced at most every ``commit_every``
    seconds (and at the end): a crash loses at most that much work, never correctness.
    ``on_error`` (a :class:`~policy_nlp.read.SkipAndReport`) skips and reports bad files and
    records instead of stopping at the first; if every input was bad, nothing is written.

    While running, the output is ``OUT.partial`` (JSONL lines; for CSV output the flattened
    rows) plus ``OUT.checkpoint.json``; at the end it becomes ``OUT`` atomically (a CSV gets
    the union of all rows' columns then). Those files of an interrupted run are never thrown
    away unasked: without ``resume`` (continue it) or ``restart`` (start over) the run refuses.
    """
    opts = opts or LabelOptions()
    log = log or (lambda _m: None)
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    model_key = None if model_dir is None else str(model_dir)
    model = _model(model_key)
    if resume and "-" in inputs:
        raise InputError("--resume needs input files: standard input cannot be read again "
                         "from where the run stopped")
    if output == "-":
        if resume:
            raise InputError("--resume needs an output file, not standard output")
        from .write import atomic_output

        with atomic_output("-") as stdout, _long_lived_frozen():
            n = _write_stream(stdout, _results(inputs, opts, on_error, model, model_key, jobs,
                                               chunk_size), opts, progress)
        _check_something_labeled(n, on_error)
        return n

    from .write import check_output_file

    out = Path(output)
    check_output_file(out)
    partial, ckpt = state_paths(out)
    own = own_files(out)
    for p in inputs:
        if p != "-" and Path(p).resolve() in own:
            raise InputError(f"{p}: is also the output of this run (or its partial output); "
                             "labeling it would replace it: choose another output name")
    fp = fingerprint(inputs, model, opts, own)
    done, committed = 0, 0
    if resume and ckpt.exists():
        try:
            state = json.loads(ckpt.read_text("utf-8"))
            ok = state.get("format") == CHECKPOINT_FORMAT
        except (OSError, json.JSONDecodeError):
            ok = False
        if not ok:
            raise InputError(f"{ckpt}: not a readable checkpoint; start over with --restart")
        if state["fingerprint"] != fp:
            raise InputError(f"{ckpt}: the inputs, model or options changed since the "
                             "interrupted run; start over with --restart")
        if not partial.exists() or partial.stat().st_size < state["bytes"]:
            raise InputError(f"{partial}: missing or shorter than its checkpoint says; "
                             "start over with --restart")
        done, committed = int(state["units"]), int(state["bytes"])
        log(f"resuming after {done:,} units ({committed:,} bytes) of {out}")
    elif resume:
        log(f"no checkpoint {ckpt}: nothing to resume, starting from the beginning")
    elif ckpt.exists() and not restart:
        raise InputError(f"{out}: an interrupted run of it left its work in {partial.name} "
                         f"and {ckpt.name}; continue it with --resume, or start over with "
                         "--restart")
    elif ckpt.exists():
        log(f"starting over: the interrupted run's {partial.name} is discarded")

    try:
        fh = open(partial, "r+b" if done else "wb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutputError(f"{out}: cannot write to {out.parent} ({exc.strerror}); nothing "
                          "was written") from None
    try:
        results = _results(inputs, opts, on_error, model, model_key, jobs, chunk_size, done,
                           own)
        with _long_lived_frozen():
            return _run(fh, out, partial, ckpt, results, opts, fp, done, committed,
                        commit_every, progress, on_error)
    except OutputError:
        # a full disk, an I/O error: the committed work stays for --resume, as the message says
        fh.close()
        raise
    except PolicyNLPError:
        # bad input or model: nothing to resume from (fixing the input changes the
        # fingerprint), and no half-written output may stay behind
        fh.close()
        partial.unlink(missing_ok=True)
        ckpt.unlink(missing_ok=True)
        raise


def _check_something_labeled(n: int, on_error) -> None:
    if n == 0 and on_error is not None and on_error.skipped:
        raise InputError(f"nothing to label: every input was skipped ({on_error.skipped})")


def _run(fh, out, partial, ckpt, results, opts, fp, done, committed, commit_every, progress,
         on_error) -> int:
    try:
        return _run_io(fh, out, partial, ckpt, results, opts, fp, done, committed, commit_every,
                       progress, on_error)
    except OSError as exc:  # a full disk, an I/O error: the checkpoint still allows --resume
        kept = f" ({out.name} is left as it was)" if out.exists() else ""
        raise OutputError(f"{out}: cannot write ({exc.strerror or exc}){kept}; the work done so "
                          f"far is kept in {partial.name} for --resume") from None


def _run_io(fh, out, partial, ckpt, results, opts, fp, done, committed, commit_every, progress,
            on_error) -> int:
    with fh:
        fh.truncate(committed)
        fh.seek(committed)
        state = {"format": CHECKPOINT_FORMAT, "output": str(out), "fingerprint": fp,
                 "units": done, "bytes": committed}
        if not done:
            _write_json_atomic(ckpt, state)
        if done and progress:
            progress(done)
        last_commit, pending = time.monotonic(), 0
        for data, n in results:
            fh.write(data)
            pending += n
            if time.monotonic() - last_commit >= commit_every:
                _commit(fh, ckpt, state, pending)
                last_commit, pending = time.monotonic(), 0
            if progress:
                progress(n)
        _commit(fh, ckpt, state, pending)
    _check_something_labeled(int(state["units"]), on_error)
    if opts.fmt == "csv":
        _rows_to_csv(partial, out)
    else:
        os.chmod(partial, output_file_mode(out))
        os.replace(partial, out)
    _fsync_dir(out.parent)
    partial.unlink(missing_ok=True)
    ckpt.unlink(missing_ok=True)
    return int(state["units"])


def _rows_to_csv(rows_path: Path, out: Path) -> None:
    """The flattened rows (JSON lines) as a CSV with every column, written atomically."""
    from .read import jsonl_loads
    from .write import atomic_output, write_rows

    with open(rows_path, "rb") as src, atomic_output(out) as dst:
        write_rows((jsonl_loads(line) for line in src), dst, "csv")


def _commit(fh, ckpt: Path, state: dict[str, Any], n: int) -> None:
    """Make the chunks written so far durable, then record them in the checkpoint."""
    fh.flush()
    os.fsync(fh.fileno())
    state["units"] += n
    state["bytes"] = fh.tell()
    _write_json_atomic(ckpt, state)


def _skip(units: Iterator, n: int) -> Iterator:
    for _ in range(n):
        if next(units, None) is None:
            raise InputError("the inputs have fewer units than the checkpoint says were done; "
                             "start over with --restart")
    return units


def _write_stream(stream, results, opts, progress) -> int:
    """Standard output: JSONL as it comes; CSV once all rows are known (spooled to a
    temporary file, so that every column is in the header)."""
    from .read import jsonl_loads
    from .write import write_rows

    total = 0

    def counted():
        nonlocal total
        for data, n in results:
            total += n
            if progress:
                progress(n)
            yield data

    if opts.fmt == "csv":
        write_rows((jsonl_loads(line) for data in counted() for line in data.splitlines()),
                   stream, "csv")
    else:
        for data in counted():
            stream.write(data.decode("utf-8"))
    stream.flush()
    return total


# --- the Dask engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """One task: a whole input file, or lines ``[first_line, first_line + n_lines)`` of a UTF-8
    JSONL file, which start at byte ``start`` and end before byte ``end``."""

    index: int
    path: str
    start: int = 0
    end: int = -1
    first_line: int = 1
    n_lines: int = -1

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}.jsonl"


def plan_partitions(inputs: list[str], partition_rows: int = 20_000,
                    outdir: Path | None = None) -> list[Partition]:
    """Cut the inputs into partitions in input order (directories expanded as ``label`` does;
    the files of an ``outdir`` inside an input folder left out)."""
    from .read import _input_files

    if partition_rows < 1:
        raise InputError(f"--partition-rows must be at least 1, got {partition_rows}")
    files: list[Path] = []
    for p in inputs:
        if p == "-":
            raise InputError("the dask engine reads files, not standard input")
        path = Path(p)
        if not path.exists():
            raise InputError(f"{p}: no such file or directory")
        found = _input_files(path) if path.is_dir() else [path]
        if outdir is not None:
            own = outdir.resolve()
            mine = [f for f in found if own in f.resolve().parents]
            if path.is_file() and mine:
                raise InputError(f"{p}: is in the output directory {outdir} of this run")
            found = [f for f in found if f not in mine]
        files.extend(found)
    parts: list[Partition] = []
    for f in files:
        if f.suffix.lower() == ".jsonl" and _is_utf8_jsonl(f):
            for start, end, first, n in _line_ranges(f, partition_rows):
                parts.append(Partition(len(parts), str(f), start, end, first, n))
        else:
            parts.append(Partition(len(parts), str(f)))
    return parts


def _is_utf8_jsonl(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def _line_ranges(path: Path, rows: int) -> Iterator[tuple[int, int, int, int]]:
    """(start byte, end byte, first line number, lines) of blocks of ``rows`` lines."""
    start, line, pos, n = 0, 1, 0, 0
    with open(path, "rb") as fh:
        for raw in fh:
            pos += len(raw)
            n += 1
            if n == rows:
                yield start, pos, line, n
                start, line, n = pos, line + n, 0
    if n:
        yield start, pos, line, n


def read_partition(part: Partition, *, text_col: str = "text", id_col: str = "id") -> Iterator:
    """The documents of one partition, exactly as :func:`~policy_nlp.read.iter_documents`
    reads them (same ids, same error messages with the same line numbers)."""
    from .read import read_documents

    if part.end < 0:
        yield from read_documents(part.path, text_col=text_col, id_col=id_col)
        return
    with open(part.path, "rb") as fh:
        fh.seek(part.start)
        data = fh.read(part.end - part.start)
    block = LineBlock(part.index, part.path, "utf-8", part.first_line, part.start, data)
    yield from block.documents(LabelOptions(text_col=text_col, id_col=id_col), None)


def label_partition(part: Partition, outdir: str, model_dir: str | None, model_files: dict,
                    opts: LabelOptions) -> dict[str, Any]:
    """Label one partition into ``outdir/part-NNNNN.jsonl`` (runs on a Dask worker)."""
    from .predict import iter_units

    model = _model(model_dir)
    if model.card.get("files") != model_files:
        raise ModelError(f"worker {os.uname().nodename}: its model {model_dir or '(default)'} "
                         "is not the client's (different file hashes)")
    units = iter_units(read_partition(part, text_col=opts.text_col, id_col=opts.id_col),
                       records=opts.records)
    target = Path(outdir) / part.name
    tmp = target.with_name(f".{part.name}.tmp-{os.getpid()}")
    h = hashlib.sha256()
    rows = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in _chunks(units, 1024):
                data, n = label_chunk(model, chunk, opts)
                fh.write(data)
                h.update(data)
                rows += n
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"part": part.name, "input": part.path, "first_line": part.first_line,
            "lines": part.n_lines, "rows": rows, "sha256": h.hexdigest()}


def label_dask(inputs: list[str], outdir: str, *, model_dir: str | Path | None = None,
               opts: LabelOptions | None = None, scheduler: str | None = None,
               n_workers: int = 2, processes: bool = True, partition_rows: int = 20_000,
               log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Label ``inputs`` on a Dask cluster into ``outdir`` (parts + ``manifest.json``).

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a
    ``LocalCluster`` of ``n_workers`` single-threaded workers is started on loopback.
    """
    opts = opts or LabelOptions()
    log = log or (lambda _m: None)
    if opts.fmt != "jsonl":
        raise InputError("the dask engine writes JSONL parts; use --format jsonl")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("the dask engine needs dask and distributed: "
                         "pip install 'policy-nlp[dask]'") from None
    from .model import model_dir as resolve_model_dir

    model_key = None if model_dir is None else str(resolve_model_dir(model_dir).resolve())
    model = _model(model_key)
    out = Path(outdir)
    parts = plan_partitions(inputs, partition_rows, out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory (the dask engine writes a "
                         "directory of parts)")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.jsonl"):
        old.unlink()
    (out / "manifest.json").unlink(missing_ok=True)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # worker processes listen on loopback only; threads (processes=False) talk in-process
        where = {"host": "127.0.0.1"} if processes else {}
        # silence_logs: a bad input is reported once, as our own error, not as a worker's
        # "Compute Failed" traceback on stderr
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                               dashboard_address=None, silence_logs=logging.CRITICAL, **where)
        client = Client(cluster)
    failed, futures = False, []
    try:
        log(f"dask: {len(parts)} partitions on {client.scheduler.address}")
        futures = client.map(label_partition, parts, outdir=str(out.resolve()),
                             model_dir=model_key, model_files=model.card.get("files"),
                             opts=opts, pure=False)
        results = client.gather(futures)
    except BaseException:
        client.cancel(futures)
        failed = True
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if failed:  # no parts without their manifest (the workers have stopped or let go)
            for part in [*out.glob("part-*.jsonl"), *out.glob(".part-*.tmp-*")]:
                part.unlink(missing_ok=True)
    manifest = {"format": MANIFEST_FORMAT, "model": model.card.get("files"),
                "options": asdict(opts), "rows": sum(r["rows"] for r in results),
                "parts": results}
    _write_json_atomic(out / "manifest.json", manifest)
    return manifest
