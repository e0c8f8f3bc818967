"""Stopping a run: Ctrl-C and SIGTERM stop it between two chunks (:func:`stop_between_chunks`,
:func:`check_stop`) with :class:`Interrupted`, which says what was kept for ``--resume``;
processes started inside :func:`ignoring_ctrl_c` leave Ctrl-C to the main process."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
def stop_between_chunks() -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the run between two chunks (:func:`check_stop`), not wherever
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


def check_stop() -> None:
    """Raise :class:`Interrupted` if a signal asked the run to stop."""
    if _stop_requested:
        raise Interrupted(_stop_requested[0])

def stop_requested() -> bool:
    """Whether a signal asked the run to stop (it stops at the next :func:`check_stop`)."""
    return bool(_stop_requested)


@contextmanager
def ignoring_ctrl_c() -> Iterator[None]:
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
