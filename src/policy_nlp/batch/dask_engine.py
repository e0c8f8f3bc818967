"""The Dask engine: :func:`label_dask` cuts the inputs into partitions (:func:`plan_partitions`:
a byte range of ``partition_rows`` lines of a UTF-8 JSONL file, or one whole file otherwise),
labels each partition on a Dask worker into ``part-NNNNN.jsonl`` of an output directory
(:func:`label_partition`), and writes ``manifest.json`` (parts in input order, rows, sha256)
when all are done. Concatenating the parts in manifest order gives exactly the local engine's
JSONL output. The parts are written into a staging directory of the run and replace the
earlier output only when every partition is done; nothing in the output directory that the
engine did not make is touched."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ArgumentError, InputError, ModelError, install_hint
from ..outputs import fsync_dir, replace_json, run_lock
from .blocks import LineBlock
from .chunks import LabelOptions, chunked, label_chunk, process_model
from .stop import check_stop, ignoring_ctrl_c, stop_between_chunks

MANIFEST_FORMAT = "policy-nlp-label-parts/1"


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
    report_id: str | None = None  # a report file's id where it is not its name (ReportIds)

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}.jsonl"


def plan_partitions(inputs: list[str], partition_rows: int = 20_000,
                    outdir: Path | None = None) -> list[Partition]:
    """Cut the inputs into partitions in input order (directories expanded as ``label`` does;
    the files of an ``outdir`` inside an input folder left out; an input inside ``outdir``
    refused: the output directory holds the run's output only)."""
    from ..read import RECORD_SUFFIXES, Document, ReportIds, input_files, name_id

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
        found = input_files(path, report=True) if path.is_dir() else [path]
        if outdir is not None:
            mine = [f for f in found if own in f.resolve().parents]
            found = [f for f in found if f not in mine]
        files.extend(found)
    parts: list[Partition] = []
    names = ReportIds()
    for f in files:
        if f.suffix.lower() == ".jsonl" and _is_utf8_jsonl(f):
            for start, end, first, n in _line_ranges(f, partition_rows):
                parts.append(Partition(len(parts), str(f), start, end, first, n))
        elif f.suffix.lower() in RECORD_SUFFIXES:  # records: ids of their own
            parts.append(Partition(len(parts), str(f)))
        else:  # a report file: its id is the one the readers give it in this run
            name = name_id(f.stem)
            named = names.of(Document(name, "", str(f))).id
            parts.append(Partition(len(parts), str(f), report_id=None if named == name
                                   else named))
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
    from ..read import read_documents

    if part.end < 0:
        for doc in read_documents(part.path, text_col=text_col, id_col=id_col):
            yield doc if part.report_id is None else replace(doc, id=part.report_id)
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
    (``id_keys``) and the paragraphs of each split one (``id_parts``), for the client's
    duplicate check, which the manifest leaves out."""
    from array import array

    from ..predict import units_of_document
    from ..read import id_keys

    model = process_model(model_dir)
    if model.card.get("files") != model_files:
        raise ModelError(f"worker {os.uname().nodename}: its model {model_dir or '(default)'} "
                         "is not the client's (different file hashes)")
    ids: list[str] = []
    split: list[int] = []  # the paragraphs of each document split as a report (0: not split)

    def units():
        for doc in read_partition(part, text_col=opts.text_col, id_col=opts.id_col):
            doc_units, was_split = units_of_document(doc, opts.records)
            ids.append(doc.id)
            split.append(len(doc_units) if was_split else 0)
            yield from doc_units

    target = Path(outdir) / part.name
    tmp = target.with_name(f".{part.name}.tmp")
    h = hashlib.sha256()
    rows = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunked(units(), 1024):
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
            "id_keys": array("Q", id_keys(ids)).tobytes(),
            "id_parts": array("Q", split).tobytes()}


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
    replace_json(stage / "manifest.json", manifest)
    new = {p["part"] for p in manifest["parts"]}
    for name in sorted(new):
        os.replace(stage / name, out / name)
    for path in old:
        if path.name not in new and path.name != "manifest.json":
            path.unlink(missing_ok=True)
    os.replace(stage / "manifest.json", out / "manifest.json")
    fsync_dir(out)


def _replay_dask_ids(parts: list[Partition], results: list[dict], opts: LabelOptions,
                     on_error) -> None:
    """Report duplicate ids across the partitions, in input order, as the local engine does
    (``kept: …``, exit 5; with ``--strict`` the first stops the run). The ids and sources
    are read again only for a partition that repeats a key."""
    from array import array

    from ..read import IdMemory

    memory = IdMemory()
    for part, result in zip(parts, results, strict=True):
        keys = array("Q", result.pop("id_keys")).tolist()
        split = array("Q", result.pop("id_parts")).tolist()

        def docs(part=part):
            return read_partition(part, text_col=opts.text_col, id_col=opts.id_col)

        memory.check_many(keys, (d.id for d in docs()), (d.source for d in docs()), on_error,
                          split)


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
                         f"{install_hint('dask')}") from None
    from ..model import model_dir as resolve_model_dir

    model_key = None if model_dir is None else str(resolve_model_dir(model_dir).resolve())
    model = process_model(model_key)
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory (the dask engine writes a "
                         "directory of parts)")
    parts = plan_partitions(inputs, partition_rows, out)
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _label_in(out, parts, (Client, LocalCluster), model, model_key, opts,
                         scheduler, n_workers, processes, log, on_error)
    except BaseException:
        if made:  # a failed or stopped run leaves no folder it made (empty: rmdir only)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise


def _label_in(out: Path, parts, dask_classes, model, model_key, opts, scheduler, n_workers,
              processes, log, on_error) -> dict[str, Any]:
    """:func:`label_dask` in its output folder, made (``dask_classes``: distributed's
    ``Client`` and ``LocalCluster``)."""
    Client, LocalCluster = dask_classes
    with run_lock(out / DASK_LOCK, out):
        old, stale = _dask_own_files(out)
        for directory in stale:  # staging directories of dead runs (the lock says so)
            log(f"dask: removing {directory.name}, left by a run that was stopped")
            shutil.rmtree(directory)
        stage = out / f"{DASK_STAGE}{os.getpid()}-{os.urandom(4).hex()}"
        stage.mkdir()
        try:
            with stop_between_chunks():
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
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError) as exc:  # distributed raises OSError on a timeout
            raise InputError(f"cannot connect to the Dask scheduler at {scheduler} "
                             f"({exc}); is it running?") from None
    else:
        # worker processes listen on loopback only; threads (processes=False) talk in-process
        where = {"host": "127.0.0.1"} if processes else {}
        # silence_logs: a bad input is reported once, as our own error, not as a worker's
        # "Compute Failed" traceback on stderr. The scheduler starts an HTTP server even
        # without its dashboard, on port 8787 unless told: a free port instead, so that two
        # clusters on one machine (two users, a test beside a run) do not collide.
        with ignoring_ctrl_c():
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
            check_stop()
            time.sleep(0.2)
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        with ignoring_ctrl_c():
            client.close()
            if cluster is not None:
                cluster.close()


