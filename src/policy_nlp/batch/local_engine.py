"""The local engine: :func:`label_to_file` labels the inputs into a file (or a stream) in this
process or in worker processes, chunk after chunk, in input order, and writes each chunk as soon
as it and every chunk before it is done. A file output is written as ``OUT.partial`` with a
checkpoint (:mod:`.checkpoint`) advanced at most every ``commit_every`` seconds, so that a run
stopped by Ctrl-C, SIGTERM (:mod:`.stop`), a worker's death (:mod:`.workers`), a full disk or a
``kill -9`` resumes from its last checkpoint with ``--resume``; at the end the partial output
becomes ``OUT`` atomically (a CSV then gets every row's columns, :func:`rows_to_csv`)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import closing
from pathlib import Path

from ..errors import ArgumentError, InputError, OutputError, PolicyNLPError, WorkerDied
from ..outputs import fsync_dir, lock_path, output_target, replace_json, run_lock
from ..write import output_file_mode
from .blocks import jsonl_inputs, label_block, line_blocks
from .checkpoint import (
    CHECKPOINT_FORMAT,
    commit,
    fingerprint,
    own_files,
    read_checkpoint,
    state_paths,
    was_finished,
)
from .chunks import LabelOptions, chunked, label_chunk, process_model, read_units
from .stop import Interrupted, check_stop, stop_between_chunks, stop_requested
from .workers import long_lived_frozen, ordered


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
    model = process_model(model_key)
    if resume and "-" in inputs:
        raise InputError("--resume needs input files: standard input cannot be read again "
                         "from where the run stopped")
    target = output_target(output)
    if target.kind != "file":  # standard output, a device or a FIFO: written as it comes
        if resume:
            raise InputError(f"--resume needs an output file, not {output}"
                             + (" (standard output)" if target.kind == "stdout" else ""))
        from ..write import atomic_output

        with atomic_output(output) as stream, long_lived_frozen(), stop_between_chunks():
            n = _write_stream(stream, _results(inputs, opts, on_error, model, model_key, jobs,
                                               chunk_size), opts, progress)
        _check_something_labeled(n, on_error)
        return n

    from ..write import check_output_file

    out = target.path  # a symbolic link followed: its target is written, the link stays
    own = own_files(out)
    for p in inputs:
        if p != "-" and Path(p).resolve() in own:
            raise InputError(f"{p}: is also the output of this run (or its partial output); "
                             "labeling it would replace it: choose another output name")
    check_output_file(out, inputs)  # nor an input inside a folder given as input
    with run_lock(lock_path(out), out):
        return _label_locked(inputs, out, model, model_key, opts, jobs, resume, restart,
                             chunk_size, commit_every, progress, log, on_error, own)


def _label_locked(inputs, out: Path, model, model_key, opts: LabelOptions, jobs: int,
                  resume: bool, restart: bool, chunk_size: int, commit_every: float,
                  progress, log, on_error, own) -> int:
    """:func:`label_to_file` of a file output, its lock held."""
    partial, ckpt = state_paths(out)
    fp = fingerprint(inputs, model, opts, own)
    if ckpt.exists():
        state = read_checkpoint(ckpt)
        if was_finished(state, out, partial, opts):
            ckpt.unlink()
            if resume and state.get("fingerprint") == fp:
                log(f"{out} was finished by the run that left {ckpt.name} (now removed): "
                    "nothing to resume")
                return int(state["units"])
            log(f"removed {ckpt.name}, left by a run that had finished {out.name}")
    done, committed = 0, 0
    if resume and ckpt.exists():
        state = read_checkpoint(ckpt)
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
        fh = open(partial, "r+b" if done else "wb")
    except OSError as exc:
        raise OutputError(f"{out}: cannot write to {out.parent} ({exc.strerror}); nothing "
                          "was written") from None
    try:
        results = _results(inputs, opts, on_error, model, model_key, jobs, chunk_size, done,
                           own)
        with long_lived_frozen(), stop_between_chunks():
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
            replace_json(ckpt, state)
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
                    commit(fh, ckpt, state, pending)
                    raise
                fh.write(data)
                pending += n
                if time.monotonic() - last_commit >= commit_every or stop_requested():
                    commit(fh, ckpt, state, pending)
                    last_commit, pending = time.monotonic(), 0
                if progress:
                    progress(n)
                check_stop()
        # the last checkpoint says the run is complete: a kill between the rename below and
        # the checkpoint's removal leaves one that the next run recognises (was_finished)
        state["final"] = True
        commit(fh, ckpt, state, pending)
    _check_something_labeled(int(state["units"]), on_error)
    if opts.fmt == "csv":
        rows_to_csv(partial, out)
    else:
        os.chmod(partial, output_file_mode(out))
        os.replace(partial, out)
    fsync_dir(out.parent)
    partial.unlink(missing_ok=True)
    ckpt.unlink(missing_ok=True)
    return int(state["units"])


def rows_to_csv(rows_path: Path, out: Path) -> None:
    """The flattened rows (JSON lines) as a CSV with every column, written atomically."""
    from ..read import jsonl_loads
    from ..write import write_table

    with open(rows_path, "rb") as src:  # a CSV file for people: with a byte-order mark
        write_table((jsonl_loads(line) for line in src), out, "csv")


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
    from ..read import IdMemory

    files = jsonl_inputs(inputs) if not done else None
    if files is None:
        units = _skip(read_units(inputs, opts, on_error, exclude), done)
        yield from ordered(label_chunk, chunked(units, chunk_size), model, model_key, opts,
                            jobs)
        return
    ids = IdMemory()
    with closing(line_blocks(files, chunk_size)) as blocks:  # the file closed at once
        for data, n, report in ordered(label_block, blocks, model, model_key, opts, jobs):
            report.replay(ids, on_error)
            yield data, n



def _skip(units: Iterator, n: int) -> Iterator:
    for i in range(n):
        if not i % 1024:
            check_stop()
        if next(units, None) is None:
            raise InputError("the inputs have fewer units than the checkpoint says were done; "
                             "start over with --restart")
    return units


def _write_stream(stream, results, opts, progress) -> int:
    """Standard output: JSONL as it comes; CSV once all rows are known (spooled to a
    temporary file, so that every column is in the header)."""
    from ..read import jsonl_loads
    from ..write import write_rows

    total = 0

    def counted():
        nonlocal total
        with closing(results):
            for data, n in results:
                total += n
                if progress:
                    progress(n)
                yield data
                check_stop()

    if opts.fmt == "csv":
        write_rows((jsonl_loads(line) for data in counted() for line in data.splitlines()),
                   stream, "csv")
    else:
        for data in counted():
            stream.write(data.decode("utf-8"))
    stream.flush()
    return total

