"""The processes of a run: how the garbage collector is set up for one (:func:`collect_for_a_run`),
how worker processes start (:func:`pool_context`), what they do first (:func:`worker_init`:
leave Ctrl-C to the main process, die with it) and for each task (:func:`in_worker`), and the
tasks' results in input order from a pool that stops at once when a worker dies
(:func:`ordered`)."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import WorkerDied
from .chunks import LabelOptions, process_model
from .stop import check_stop

_worker_set_up: list[bool] = []  # this worker process has set its garbage collector up


def in_worker(work: Callable, model_dir: str | None, task, opts: LabelOptions):
    model = process_model(model_dir)
    if not _worker_set_up:  # once: gc.get_freeze_count() walks every frozen object
        _worker_set_up.append(True)
        collect_for_a_run()  # for the worker's life (a forked one inherits the frozen state)
    return work(model, task, opts)


# the garbage collector's first threshold during a run (Python's default is 700 in 3.11 and
# 2,000 from 3.13): the records of a block, a few containers each, are freed together when the
# block is written, and with the default most of them were walked by a collection before that
RUN_GC_THRESHOLD = 50_000


def collect_for_a_run() -> Callable[[], None]:
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
def long_lived_frozen():
    """:func:`collect_for_a_run` until the end of the block. Forked workers inherit the
    frozen state."""
    undo = collect_for_a_run()
    try:
        yield
    finally:
        undo()


def worker_init(parent: int | None) -> None:
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


def pool_context():
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


def ordered(work: Callable, tasks: Iterator, model, model_dir: str | None, opts: LabelOptions,
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

    context = pool_context()
    parent = os.getpid() if context.get_start_method() == "fork" else None
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=worker_init,
                               initargs=(parent,))
    try:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(in_worker, work, model_dir, task, opts))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        check_stop()  # SIGTERM to the whole group (a service manager): the run was stopped
        raise WorkerDied("a worker process died (killed, or out of memory?); the run "
                         "stopped") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

