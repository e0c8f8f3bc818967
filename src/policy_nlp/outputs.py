"""What an output path is, and one live run per output.

Every command that writes a file asks :func:`output_target` what the path it was given is:

- ``-`` (or nothing): standard output;
- a character device (``/dev/null``, a terminal) or a FIFO (``mkfifo``, ``>(…)``): a *stream*,
  written through, as a shell redirection would (never replaced by a regular file, never
  resumable);
- a symbolic link: followed, so that the file it points to is replaced atomically and the link
  stays a link;
- a regular file or a new name: a *file*, written to a temporary file beside it and renamed
  into place at the end (:func:`policy_nlp.write.atomic_output`);
- anything else (a directory, a socket, a block device) is refused.

:func:`run_lock` keeps a second run off an output that a live run is writing: a lock file
beside the output holds the PID, host and start time of the run that has it, and is locked
with ``fcntl.lockf``, which the kernel lets go when the process dies however it dies -- so a
lock file left by a killed run is stale and simply taken over. Where the file system has no
locks (some network file systems), a lock file whose PID is no longer alive on this host is
stale.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the PID check alone
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Target:
    """Where an output goes: ``kind`` is ``stdout``, ``stream`` (a character device or a FIFO,
    written through) or ``file`` (``path`` is then the regular file to replace atomically,
    a symbolic link followed)."""

    kind: str
    path: Path | None = None


def output_target(path: str | Path | None) -> Target:
    """What the output ``path`` is (see the module's docstring); :class:`InputError` for a path
    that cannot be an output."""
    if path is None or str(path) == "-":
        return Target("stdout")
    p = Path(path)
    try:
        st = p.stat()  # follows a symbolic link
    except FileNotFoundError:
        st = None  # a new file (or a link to one)
    except OSError as exc:  # a loop of links, a part of the path that is a file
        raise InputError(f"{p}: cannot be an output ({exc.strerror})") from None
    if st is not None:
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            return Target("stream", p)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{p}: is a directory, expected an output file name")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{p}: is not a regular file ({_kind(st.st_mode)}): an output is "
                             "a file, a character device such as /dev/null, or a FIFO")
    if p.is_symlink():
        return Target("file", Path(os.path.realpath(p)))
    return Target("file", p)


def refuse_an_input(path: str | Path | None, inputs,
                    read_from_folder: Callable[[Path, Path], bool] | None = None) -> None:
    """:class:`InputError` if the output ``path`` is one of the run's ``inputs`` (the same
    file, by any path or link): writing it would replace what the run reads, a coder's sheet
    or the labels, say. An input may be named ``FILE:role=column,…`` (labels); ``-`` is passed
    over. An existing file inside a folder given as input is refused too if reading the folder
    reads it, as ``read_from_folder(file, folder)`` says
    (:func:`~policy_nlp.read.read_from_folder`, given by the caller: this module is below the
    readers); an output of policy-nlp there (a label output, a panel, a coding sheet of an
    earlier run) is not read, and may be replaced. Checked before any work."""
    target = output_target(path)
    if target.kind != "file" or not target.path.exists():
        return
    for given in inputs:
        if given is None or str(given) == "-":
            continue
        if Path(given).is_dir():
            if read_from_folder is not None and read_from_folder(target.path, Path(given)):
                raise InputError(f"{path}: is an input of this run (in the folder {given}); "
                                 "writing it would replace it: choose another output name")
            continue
        candidates = [Path(given)]
        if ":" in str(given) and not Path(given).exists():
            candidates.append(Path(str(given).split(":", 1)[0]))
        for candidate in candidates:
            try:
                same = candidate.is_file() and os.path.samefile(candidate, target.path)
            except OSError:
                same = False
            if same:
                raise InputError(f"{path}: is also an input of this run ({given}); writing it "
                                 "would replace it: choose another output name")


def _kind(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def open_stream(path: Path):
    """A character device or FIFO opened for writing, as a binary file (a FIFO waits for its
    reader, as a shell redirection does). Opened without ``O_CREAT`` and checked again once
    open, so that a file put in its place meanwhile is not written over."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}); no output was written"
                          ) from None
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        os.close(fd)
        raise OutputError(f"{path}: changed while it was being opened; no output was written")
    return os.fdopen(fd, "wb")


# --- one live run per output ------------------------------------------------------------------


class OutputBusy(InputError):
    """Another live run is writing the output (exit 2: nothing was written)."""


def lock_path(output: Path) -> Path:
    """The lock file of a file output ``OUT``: ``OUT.lock`` beside it."""
    return output.with_name(output.name + ".lock")


@contextmanager
def run_lock(lock: Path, output: Path) -> Iterator[None]:
    """Hold ``lock`` for the block: :class:`OutputBusy` naming the other run's PID if a live
    run holds it. The lock file is removed at the end."""
    fd = _acquire(lock, output)
    try:
        yield
    finally:
        try:
            lock.unlink(missing_ok=True)  # while still held: no other run took this file
        finally:
            os.close(fd)


def _acquire(lock: Path, output: Path) -> int:
    for _ in range(20):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"{output}: cannot make its lock file {lock.name} in "
                              f"{lock.parent} ({exc.strerror})") from None
        try:
            held = _lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not held:
            holder = _holder(fd)
            os.close(fd)
            raise OutputBusy(f"{output}: another run is writing it ({holder}); wait for it to "
                             f"end or stop it (its lock file is {lock})")
        try:  # still the lock file, not one that a run ending meanwhile removed?
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            _write_holder(fd)
            return fd
        os.close(fd)
    raise OutputError(f"{output}: cannot take its lock file {lock} (it keeps changing)")


def _lock(fd: int) -> bool:
    """Lock ``fd``: False if another live process holds the lock."""
    if fcntl is not None:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except (BlockingIOError, PermissionError):
            return False
        except OSError:  # no locks on this file system: the PID check below
            pass
    info = _read(fd)
    return not (info and _alive(info))


def _alive(info: dict) -> bool:
    """Whether the run of a lock file's ``info`` may still be alive (a run on another host
    cannot be checked, and counts as alive)."""
    if info.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(info["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, ValueError, TypeError, OverflowError):
        return True
    return True


def _read(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 1 << 16)
        info = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _holder(fd: int) -> str:
    info = _read(fd)
    if not info:
        return "a run that is starting"
    return (f"PID {info.get('pid')} on {info.get('host')}, started {info.get('started')}")


def _write_holder(fd: int) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "command": " ".join(sys.argv)}
    data = json.dumps(info).encode("ascii")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data + b"\n")


# --- a run's state files: replaced atomically and durably ---------------------------------------


def fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable (where the platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_json(path: Path, data: dict[str, Any]) -> None:
    """Replace the small JSON file ``path`` (a run's checkpoint, a manifest) atomically and
    durably: written to ``path.tmp``, fsync'd, renamed over ``path``, and the rename fsync'd.
    An :class:`OSError` is the caller's to report, as only it knows what the failure means (a
    checkpoint's run keeps its work for ``--resume``): unlike
    :func:`policy_nlp.write.atomic_output`, which says that no output was written."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
