"""One entry to batch labeling: :func:`label_inputs` checks the options of a run, picks the
engine (:func:`~.local_engine.label_to_file` or :func:`~.dask_engine.label_dask`) and returns
what it did, for ``policy-nlp label`` and Python callers alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArgumentError
from .chunks import LabelOptions

#: the engines of :func:`label_inputs`
ENGINES = ("local", "dask")

#: a Dask scheduler's address: [tcp:// | tls:// | ucx://]HOST:PORT (an IPv6 host in brackets)
_SCHEDULER = re.compile(r"(?:(?:tcp|tls|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[\w.-]+):(\d{1,5})")


@dataclass(frozen=True)
class LabelRun:
    """What :func:`label_inputs` did: ``rows`` labeled (on resume, with those of the interrupted
    run), by which ``engine``; for the dask engine, the ``parts`` it wrote (else None)."""

    rows: int
    engine: str
    parts: int | None = None


def check_label_arguments(engine: str = "local", *, jobs: int = 1, resume: bool = False,
                          restart: bool = False, scheduler: str | None = None,
                          commit_every: float = 2.0) -> None:
    """Raise :class:`~policy_nlp.errors.ArgumentError` (naming the parameter) for options that
    do not go together: resume or restart with the dask engine (it rewrites its parts),
    a scheduler without it, resume and restart at once."""
    if engine not in ENGINES:
        raise ArgumentError("engine", f"must be {' or '.join(ENGINES)}, not {engine!r}")
    if jobs < 1:
        raise ArgumentError("jobs", f"must be at least 1, not {jobs}")
    if not commit_every >= 0:  # NaN too
        raise ArgumentError("commit_every", f"must be 0 or more, not {commit_every}")
    if engine == "dask":
        if resume:
            raise ArgumentError("resume", "is for the local engine; the dask engine "
                                          "rewrites its parts")
        if scheduler is not None:
            check_scheduler(scheduler)
        return
    if scheduler:
        raise ArgumentError("scheduler", "needs `engine` dask")
    if resume and restart:
        raise ArgumentError("resume", "continues an interrupted run, `restart` discards it: "
                                      "give one")


def check_scheduler(scheduler: str) -> None:
    """A Dask scheduler's address is ``tcp://HOST:PORT`` (or ``tls://``, ``ucx://``, or
    ``HOST:PORT``), its port from 1 to 65535: checked before any work, as Dask's own error
    is a traceback."""
    found = _SCHEDULER.fullmatch(scheduler)
    if found is None or not 1 <= int(found.group(1)) <= 65535:
        raise ArgumentError("scheduler", f"must be a Dask scheduler's address, "
                                         f"tcp://HOST:PORT, not {scheduler!r}")


def label_inputs(inputs: list[str], output: str, *, model_dir: str | Path | None = None,
                 opts: LabelOptions | None = None, engine: str = "local", jobs: int = 1,
                 resume: bool = False, restart: bool = False, commit_every: float = 2.0,
                 scheduler: str | None = None, partition_rows: int = 20_000,
                 progress: Callable[[int], None] | None = None,
                 log: Callable[[str], None] | None = None, on_error=None) -> LabelRun:
    """Label ``inputs`` into ``output`` with the ``engine``: ``local`` (a file or standard
    output, streaming, ``jobs`` processes, resumable) or ``dask`` (a directory of parts on a
    Dask cluster at ``scheduler``, or a local one of ``jobs`` workers). The arguments are
    checked first (:func:`check_label_arguments`); the rest is the engine's."""
    check_label_arguments(engine, jobs=jobs, resume=resume, restart=restart,
                          scheduler=scheduler, commit_every=commit_every)
    if engine == "dask":
        from .dask_engine import label_dask

        manifest = label_dask(inputs, output, model_dir=model_dir, opts=opts,
                              scheduler=scheduler, n_workers=jobs,
                              partition_rows=partition_rows, log=log, on_error=on_error)
        return LabelRun(rows=manifest["rows"], engine=engine, parts=len(manifest["parts"]))
    from .local_engine import label_to_file

    n = label_to_file(inputs, output, model_dir=model_dir, opts=opts, jobs=jobs, resume=resume,
                      restart=restart, commit_every=commit_every, progress=progress, log=log,
                      on_error=on_error)
    return LabelRun(rows=n, engine=engine)
