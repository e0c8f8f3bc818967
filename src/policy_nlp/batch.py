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
the end the last checkpoint is marked ``final``, the partial file is renamed to ``OUT``
(atomically) and the checkpoint removed; a checkpoint marked final beside a finished ``OUT``
(a kill between the two) is recognised and removed by the next run. One run at a time writes
an output (:func:`~policy_nlp.outputs.run_lock`). Ctrl-C and SIGTERM stop a run between two
chunks (:class:`Interrupted`), a worker that dies stops it at once (:class:`WorkerDied`), both
with the chunks written so far committed for ``--resume``.

:func:`label_dask` (the Dask engine) cuts the inputs into partitions (a byte range of
``partition_rows`` lines of a JSONL file, or one whole file otherwise), labels each partition
on a Dask worker into ``part-NNNNN.jsonl`` of an output directory, and writes ``manifest.json``
(parts in input order, rows, sha256) when all are done. Concatenating the parts in manifest
order gives exactly the local engine's JSONL output. The parts are written into a staging
directory of the run and replace the earlier output only when every partition is done; nothing
in the output directory that the engine did not make is touched (:func:`label_dask`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import (
    ArgumentError,
    InputError,
    ModelError,
    OutputError,
    PolicyNLPError,
    WorkerDied,
)
from .outputs import lock_path, output_target, run_lock
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
    with every column at the end, see :func:`_rows_to_csv`, after a byte-order mark)."""
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


def _worker_init(parent: int | None) -> None:
    """A worker leaves Ctrl-C to the main process, which stops the pool (and says how to
    resume): otherwise every worker prints a KeyboardInterrupt traceback of its own; and it
    dies with the main process (:func:`_die_with_parent`). SIGTERM ends it (the pool stops
    the workers that are left with it when one died). Its warnings go to standard error as
    the main process's do (``policy-nlp: …``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's, if forked
    _die_with_parent(parent)
    logger = logging.getLogger("policy_nlp")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("policy-nlp: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)


def _die_with_parent(parent: int | None) -> None:
    """On Linux, have the kernel kill this worker when the process that started it dies
    (``prctl(PR_SET_DEATHSIG)``): after a ``kill -9`` of the main process its workers
    otherwise went on to their next write and each printed a BrokenPipeError traceback.
    ``parent``: the main process's PID if it forked this worker (None: a fork server started
    it, which ends with the main process)."""
    if sys.platform != "linux":
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return
    if parent is not None and os.getppid() != parent:  # it died before the request
        os._exit(1)


# --- stopping a run: Ctrl-C, SIGTERM, a worker's death -----------------------------------------


class Interrupted(KeyboardInterrupt):
    """The run was stopped by ``signum`` (SIGINT: Ctrl-C, or SIGTERM) between two chunks;
    ``kept`` is the partial output kept for ``--resume`` (None: nothing kept). The command
    exits with :attr:`exit_code`, 128 + the signal's number, as a shell reports it."""

    def __init__(self, signum: int, kept: Path | None = None):
        super().__init__(signum)
        self.signum, self.kept = signum, kept

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_stop_requested: list[int] = []  # the signals received while a run stops between chunks


@contextmanager
def _stop_between_chunks() -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the run between two chunks (:func:`_check_stop`), not wherever
    Python happens to be: a KeyboardInterrupt raised inside numba's dispatcher came out as
    ``SystemError: CPUDispatcher(...) returned a result with an exception set``, and one inside
    the pool's queues as their traceback. A second signal stops at once. Only in the main
    thread (where Python runs signal handlers); elsewhere the caller's handling stays."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum, _frame):
        if _stop_requested:
            raise Interrupted(signum)
        _stop_requested.append(signum)

    before = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    _stop_requested.clear()
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        _stop_requested.clear()


def _check_stop() -> None:
    """Raise :class:`Interrupted` if a signal asked the run to stop."""
    if _stop_requested:
        raise Interrupted(_stop_requested[0])


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
    read ahead). A worker that dies (``kill -9``, the out-of-memory killer) ends the run at
    once with :class:`WorkerDied` (``concurrent.futures`` notices it; ``multiprocessing.Pool``
    started a new worker and waited forever for the lost task's result)."""
    if jobs <= 1:
        for task in tasks:
            yield work(model, task, opts)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = _pool_context()
    parent = os.getpid() if context.get_start_method() == "fork" else None
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                               initargs=(parent,))
    try:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(_in_worker, work, model_dir, task, opts))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        _check_stop()  # SIGTERM to the whole group (a service manager): the run was stopped
        raise WorkerDied("a worker process died (killed, or out of memory?); the run "
                         "stopped") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
        from .read import handle_problem

        done = 0
        for at, problem in [*self.problems, (len(self.keys), None)]:
            if at > done:
                ids.check_many(self.keys[done:at], self.ids[done:at], self.sources[done:at],
                               on_error)
                done = at
            if problem is not None:
                handle_problem(on_error, problem)


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
    files, which change as it goes): the input files, as reading lists them, with their size,
    modification time and a hash of their content (:func:`content_hash`), the model's file
    hashes and the options."""
    from .read import input_files

    files = []
    for p in inputs:
        path = Path(p)
        found = input_files(path) if path.is_dir() else [path]
        for f in found:
            if f.is_file() and f.resolve() not in exclude:
                st = f.stat()
                files.append([str(f.resolve()), st.st_size, st.st_mtime_ns,
                              content_hash(f, st.st_size)])
    data = {"inputs": files, "model": model.card.get("files"), "options": asdict(opts)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# an input up to this size is hashed whole for the fingerprint; a larger one by its first and
# last SAMPLE_BYTES and CONTENT_SAMPLES blocks of 4 KiB spread evenly between them
SAMPLE_BYTES = 1 << 19
CONTENT_SAMPLES = 64


def content_hash(path: Path, size: int) -> str:
    """A hash of the content of the input ``path`` of ``size`` bytes, for the fingerprint: an
    edit that keeps the size (and, copied with ``cp -p`` or ``rsync -t``, the modification
    time) changes it. Whole files up to ``2 * SAMPLE_BYTES``; of a larger one, its head, its
    tail and blocks spread between them -- an edit of the same size in the middle of a large
    file, between those blocks, with its modification time put back, is not seen."""
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            if size <= 2 * SAMPLE_BYTES:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            else:
                h.update(fh.read(SAMPLE_BYTES))
                step = (size - 2 * SAMPLE_BYTES) // (CONTENT_SAMPLES + 1)
                for i in range(1, CONTENT_SAMPLES + 1):
                    fh.seek(SAMPLE_BYTES + i * step)
                    h.update(fh.read(4096))
                fh.seek(size - SAMPLE_BYTES)
                h.update(fh.read(SAMPLE_BYTES))
    except OSError as exc:  # reading it reports the problem in its turn
        return f"unreadable: {exc.strerror}"
    return h.hexdigest()


def state_paths(output: Path) -> tuple[Path, Path]:
    """The partial output and the checkpoint of ``output``."""
    return (output.with_name(output.name + ".partial"),
            output.with_name(output.name + ".checkpoint.json"))


def own_files(output: Path) -> frozenset[Path]:
    """The files a run writing ``output`` makes (resolved): the output, its partial output,
    its checkpoint and its lock file. An input directory that holds them is read without
    them."""
    return frozenset(p.resolve() for p in (output, *state_paths(output), lock_path(output)))


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
        raise ArgumentError("jobs", f"must be at least 1, not {jobs}")
    model_key = None if model_dir is None else str(model_dir)
    model = _model(model_key)
    if resume and "-" in inputs:
        raise InputError("--resume needs input files: standard input cannot be read again "
                         "from where the run stopped")
    target = output_target(output)
    if target.kind != "file":  # standard output, a device or a FIFO: written as it comes
        if resume:
            raise InputError(f"--resume needs an output file, not {output}"
                             + (" (standard output)" if target.kind == "stdout" else ""))
        from .write import atomic_output

        with atomic_output(output) as stream, _long_lived_frozen(), _stop_between_chunks():
            n = _write_stream(stream, _results(inputs, opts, on_error, model, model_key, jobs,
                                               chunk_size), opts, progress)
        _check_something_labeled(n, on_error)
        return n

    from .write import check_output_file

    out = target.path  # a symbolic link followed: its target is written, the link stays
    check_output_file(out)
    own = own_files(out)
    for p in inputs:
        if p != "-" and Path(p).resolve() in own:
            raise InputError(f"{p}: is also the output of this run (or its partial output); "
                             "labeling it would replace it: choose another output name")
    with run_lock(lock_path(out), out):
        return _label_locked(inputs, out, model, model_key, opts, jobs, resume, restart,
                             chunk_size, commit_every, progress, log, on_error, own)


def _read_checkpoint(ckpt: Path) -> dict[str, Any]:
    try:
        state = json.loads(ckpt.read_text("utf-8"))
        ok = isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{ckpt}: not a readable checkpoint; start over with --restart")
    return state


def _finished(state: dict[str, Any], out: Path, partial: Path, opts: LabelOptions) -> bool:
    """Whether the run of checkpoint ``state`` had finished: killed after it renamed its
    partial output into place and before it removed the checkpoint. Its last checkpoint says
    so (``final``); one written before ``final`` existed, of a JSONL output, by the output's
    length."""
    if partial.exists() or not out.is_file():
        return False
    if state.get("final"):
        return True
    return opts.fmt == "jsonl" and out.stat().st_size == state.get("bytes")


def _label_locked(inputs, out: Path, model, model_key, opts: LabelOptions, jobs: int,
                  resume: bool, restart: bool, chunk_size: int, commit_every: float,
                  progress, log, on_error, own) -> int:
    """:func:`label_to_file` of a file output, its lock held."""
    partial, ckpt = state_paths(out)
    fp = fingerprint(inputs, model, opts, own)
    if ckpt.exists():
        state = _read_checkpoint(ckpt)
        if _finished(state, out, partial, opts):
            ckpt.unlink()
            if resume and state.get("fingerprint") == fp:
                log(f"{out} was finished by the run that left {ckpt.name} (now removed): "
                    "nothing to resume")
                return int(state["units"])
            log(f"removed {ckpt.name}, left by a run that had finished {out.name}")
    done, committed = 0, 0
    if resume and ckpt.exists():
        state = _read_checkpoint(ckpt)
        if state.get("fingerprint") != fp:
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
        with _long_lived_frozen(), _stop_between_chunks():
            return _run(fh, out, partial, ckpt, results, opts, fp, done, committed,
                        commit_every, progress, on_error)
    except OutputError:
        # a full disk, an I/O error: the committed work stays for --resume, as the message says
        fh.close()
        raise
    except WorkerDied as exc:
        fh.close()
        raise WorkerDied(f"{out}: {exc}; the work done so far is kept in {partial}: run the "
                         "same command with --resume to continue it") from None
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: the committed work stays too
        fh.close()
        raise Interrupted(getattr(exc, "signum", signal.SIGINT),
                          partial if ckpt.exists() else None) from None
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
        with closing(results):  # a pool's workers stopped at once if the run stops
            while True:
                try:
                    data, n = next(results)
                except StopIteration:
                    break
                except (WorkerDied, KeyboardInterrupt):  # whole chunks written: keep them
                    _commit(fh, ckpt, state, pending)
                    raise
                fh.write(data)
                pending += n
                if time.monotonic() - last_commit >= commit_every or _stop_requested:
                    _commit(fh, ckpt, state, pending)
                    last_commit, pending = time.monotonic(), 0
                if progress:
                    progress(n)
                _check_stop()
        # the last checkpoint says the run is complete: a kill between the rename below and
        # the checkpoint's removal leaves one that the next run recognises (_finished)
        state["final"] = True
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
    from .write import write_table

    with open(rows_path, "rb") as src:  # a CSV file for people: with a byte-order mark
        write_table((jsonl_loads(line) for line in src), out, "csv")


def _commit(fh, ckpt: Path, state: dict[str, Any], n: int) -> None:
    """Make the chunks written so far durable, then record them in the checkpoint."""
    fh.flush()
    os.fsync(fh.fileno())
    state["units"] += n
    state["bytes"] = fh.tell()
    _write_json_atomic(ckpt, state)


def _skip(units: Iterator, n: int) -> Iterator:
    for i in range(n):
        if not i % 1024:
            _check_stop()
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
        with closing(results):
            for data, n in results:
                total += n
                if progress:
                    progress(n)
                yield data
                _check_stop()

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
    the files of an ``outdir`` inside an input folder left out; an input inside ``outdir``
    refused: the output directory holds the run's output only)."""
    from .read import input_files

    if partition_rows < 1:
        raise ArgumentError("partition_rows", f"must be at least 1, not {partition_rows}")
    files: list[Path] = []
    for p in inputs:
        if p == "-":
            raise InputError("the dask engine reads files, not standard input")
        path = Path(p)
        if not path.exists():
            raise InputError(f"{p}: no such file or directory")
        if outdir is not None:
            own, where = outdir.resolve(), path.resolve()
            if where == own or own in where.parents:
                raise InputError(f"{p}: is in the output directory {outdir} of this run (which "
                                 "holds its output only): choose another output directory")
        found = input_files(path) if path.is_dir() else [path]
        if outdir is not None:
            mine = [f for f in found if own in f.resolve().parents]
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
    """Label one partition into ``outdir/part-NNNNN.jsonl`` (runs on a Dask worker; ``outdir``
    is the run's staging directory). The result carries the 64-bit keys of its documents' ids
    (``id_keys``, for the client's duplicate check), which the manifest leaves out."""
    from array import array

    from .predict import iter_units
    from .read import id_keys

    model = _model(model_dir)
    if model.card.get("files") != model_files:
        raise ModelError(f"worker {os.uname().nodename}: its model {model_dir or '(default)'} "
                         "is not the client's (different file hashes)")
    ids: list[str] = []

    def documents():
        for doc in read_partition(part, text_col=opts.text_col, id_col=opts.id_col):
            ids.append(doc.id)
            yield doc

    units = iter_units(documents(), records=opts.records)
    target = Path(outdir) / part.name
    tmp = target.with_name(f".{part.name}.tmp")
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
            "lines": part.n_lines, "rows": rows, "sha256": h.hexdigest(),
            "id_keys": array("Q", id_keys(ids)).tobytes()}


# the Dask engine's own files in its output directory, beside the parts and manifest.json
DASK_LOCK = ".policy-nlp.lock"
DASK_STAGE = ".policy-nlp-run-"  # + run id: a run's parts before they are published


def _dask_own_files(out: Path) -> tuple[list[Path], list[Path]]:
    """The files of earlier runs in the output directory ``out`` (its lock held): the last
    good output (``manifest.json`` and the parts it lists, with those of a run killed while
    it published its parts) and the staging directories of dead runs. Anything else in
    ``out`` is not ours: :class:`InputError`, and nothing is touched."""
    listed, stale = {DASK_LOCK}, []
    for manifest in [out / "manifest.json",
                     *(d / "manifest.json" for d in out.glob(DASK_STAGE + "*"))]:
        try:
            data = json.loads(manifest.read_text("utf-8"))
            if data["format"] != MANIFEST_FORMAT:
                continue
            parts = [p["part"] for p in data["parts"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        listed.update(p for p in parts if isinstance(p, str) and "/" not in p)
        listed.add("manifest.json")
    ours, foreign = [], []
    for entry in sorted(out.iterdir()):
        if entry.name.startswith(DASK_STAGE) and entry.is_dir() and not entry.is_symlink():
            stale.append(entry)
        elif entry.name in listed and entry.is_file() and not entry.is_symlink():
            ours.append(entry)
        else:
            foreign.append(entry.name)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        raise InputError(f"{out}: holds files that are not the output of an earlier run ("
                         f"{shown}); the dask engine writes to an empty or new directory, or to "
                         "its own earlier output: choose another output directory")
    return ours, stale


def _publish_parts(out: Path, stage: Path, manifest: dict[str, Any], old: list[Path]) -> None:
    """Put the staged parts and manifest in place of the earlier output ``old``. The new
    manifest is staged first, so that a kill in the middle leaves parts that the next run
    recognises (:func:`_dask_own_files`); manifest.json is renamed last."""
    _write_json_atomic(stage / "manifest.json", manifest)
    new = {p["part"] for p in manifest["parts"]}
    for name in sorted(new):
        os.replace(stage / name, out / name)
    for path in old:
        if path.name not in new and path.name != "manifest.json":
            path.unlink(missing_ok=True)
    os.replace(stage / "manifest.json", out / "manifest.json")
    _fsync_dir(out)


def _replay_dask_ids(parts: list[Partition], results: list[dict], opts: LabelOptions,
                     on_error) -> None:
    """Report duplicate ids across the partitions, in input order, as the local engine does
    (``kept: …``, exit 5; with ``--strict`` the first stops the run). The ids and sources
    are read again only for a partition that repeats a key."""
    from array import array

    from .read import IdMemory

    memory = IdMemory()
    for part, result in zip(parts, results, strict=True):
        keys = array("Q", result.pop("id_keys")).tolist()

        def docs(part=part):
            return read_partition(part, text_col=opts.text_col, id_col=opts.id_col)

        memory.check_many(keys, (d.id for d in docs()), (d.source for d in docs()), on_error)


def label_dask(inputs: list[str], outdir: str, *, model_dir: str | Path | None = None,
               opts: LabelOptions | None = None, scheduler: str | None = None,
               n_workers: int = 2, processes: bool = True, partition_rows: int = 20_000,
               log: Callable[[str], None] | None = None, on_error=None) -> dict[str, Any]:
    """Label ``inputs`` on a Dask cluster into ``outdir`` (parts + ``manifest.json``).

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a
    ``LocalCluster`` of ``n_workers`` single-threaded workers is started on loopback.

    Nothing in ``outdir`` but the run's own files is ever deleted: a directory holding other
    files (inputs among them) is refused, one run at a time writes it (a lock file), the
    workers write their parts into a staging directory of the run, and only a run that
    finished replaces the earlier output (its parts and manifest); a failed or interrupted
    run leaves it as it was. Duplicate ids are reported through ``on_error`` as the local
    engine reports them.
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
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory (the dask engine writes a "
                         "directory of parts)")
    parts = plan_partitions(inputs, partition_rows, out)
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out / DASK_LOCK, out):
        old, stale = _dask_own_files(out)
        for directory in stale:  # staging directories of dead runs (the lock says so)
            log(f"dask: removing {directory.name}, left by a run that was stopped")
            shutil.rmtree(directory)
        stage = out / f"{DASK_STAGE}{os.getpid()}-{os.urandom(4).hex()}"
        stage.mkdir()
        try:
            with _stop_between_chunks():
                results = _dask_run(Client, LocalCluster, parts, stage, model, model_key, opts,
                                    scheduler, n_workers, processes, log)
            _replay_dask_ids(parts, results, opts, on_error)
            manifest = {"format": MANIFEST_FORMAT, "model": model.card.get("files"),
                        "options": asdict(opts), "rows": sum(r["rows"] for r in results),
                        "parts": results}
            _publish_parts(out, stage, manifest, old)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return manifest


def _dask_run(Client, LocalCluster, parts, stage: Path, model, model_key, opts, scheduler,
              n_workers: int, processes: bool, log) -> list[dict[str, Any]]:
    """The partitions' results, labeled on the cluster into ``stage``. Ctrl-C and SIGTERM
    stop it between two checks (every 0.2 s) with :class:`Interrupted`; the local cluster's
    worker processes start with Ctrl-C ignored (it reaches the whole process group), so that
    the client alone stops them, without a traceback from each."""
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # worker processes listen on loopback only; threads (processes=False) talk in-process
        where = {"host": "127.0.0.1"} if processes else {}
        # silence_logs: a bad input is reported once, as our own error, not as a worker's
        # "Compute Failed" traceback on stderr. The scheduler starts an HTTP server even
        # without its dashboard, on port 8787 unless told: a free port instead, so that two
        # clusters on one machine (two users, a test beside a run) do not collide.
        with _ignoring_ctrl_c():
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                   processes=processes, dashboard_address=":0",
                                   scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.CRITICAL, **where)
        client = Client(cluster)
    futures: list = []
    try:
        log(f"dask: {len(parts)} partitions on {client.scheduler.address}")
        futures = client.map(label_partition, parts, outdir=str(stage.resolve()),
                             model_dir=model_key, model_files=model.card.get("files"),
                             opts=opts, pure=False)
        while not all(f.done() for f in futures):
            _check_stop()
            time.sleep(0.2)
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        with _ignoring_ctrl_c():
            client.close()
            if cluster is not None:
                cluster.close()


@contextmanager
def _ignoring_ctrl_c() -> Iterator[None]:
    """SIGINT ignored for the block (in the main thread): processes started then inherit it."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
