"""What a reader may hold or inflate: the one place that bounds it.

Every reader of the package goes through here before it reads something whose size it does not
control: a zip (a .docx, an .xlsx, a model's ``weights.npz``) is checked from its directory,
before anything is inflated; a CSV field or a JSONL line is read with a bound; a model file or a
whole text file is checked to be a regular file of a bounded size before it is opened for
reading (a FIFO or a device such as ``/dev/zero`` would hang or never end). Each limit is in
megabytes (10^6 bytes) and can be raised with its environment variable; the message of a
refusal names both.

=========================================  ===============================  =======
what                                       environment variable             default
=========================================  ===============================  =======
the uncompressed content of a .docx/.xlsx  ``POLICY_NLP_MAX_UNZIPPED_MB``   20
one CSV field or JSONL line                ``POLICY_NLP_MAX_RECORD_MB``     64
a text, HTML or JSON file read whole       ``POLICY_NLP_MAX_FILE_MB``       512
a model file (and weights.npz inflated)    ``POLICY_NLP_MAX_MODEL_MB``      512
=========================================  ===============================  =======

A .docx takes 20 to 40 times its XML in memory once parsed, and minutes to walk (python-docx
keeps the whole lxml tree and makes an object of each paragraph: 150 MB of XML took 3.3 GB,
45 MB of empty paragraphs 1.7 GB and over 2 minutes), hence the lower limit on what a zip may
inflate to; a report's document.xml is a few MB.

XML nesting inside a .docx or .xlsx is bounded by libxml2 (256 levels; lxml's ``huge_tree`` is
never turned on), JSON nesting by the parsers' recursion limits; both end as a one-line error.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import InputError, PolicyNLPError

__all__ = ["FIELD", "FILE", "MODEL_FILE", "UNZIPPED", "Limit", "check_zip", "open_regular"]


#: The smallest limit that may be set (10 KB): a line of 4 KB is never over a limit, so the
#: readers need not look the limit up for every short line.
MIN_MB = 0.01
SHORT = 4096


@dataclass(frozen=True)
class Limit:
    """A size limit in megabytes, read from its environment variable each time it is used
    (so a test or a caller may lower it for one run)."""

    what: str
    env: str
    default_mb: float

    @property
    def bytes(self) -> int:
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return int(self.default_mb * 1_000_000)
        try:
            mb = float(raw)
        except ValueError:
            mb = float("nan")
        if not MIN_MB <= mb < float("inf"):
            raise InputError(f"{self.env}={raw!r}: a limit in megabytes must be a number of "
                             f"at least {MIN_MB}")
        return int(mb * 1_000_000)

    def message(self, source: str, size: int | None = None, what: str | None = None) -> str:
        """The refusal: what (default: the limit's) went over which limit, how to raise it."""
        limit = self.bytes
        amount = f" ({_mb(size)})" if size is not None else ""
        return (f"{source}: {what or self.what}{amount} is over the limit of {_mb(limit)}; if "
                "the file "
                f"is trusted, raise it with the environment variable {self.env}=<megabytes>")

    def check(self, size: int, source: str, error: type[PolicyNLPError] = InputError) -> None:
        """Raise ``error`` if ``size`` bytes are over the limit."""
        if size > self.bytes:
            raise error(self.message(source, size))


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB" if n < 10_000_000 else f"{n / 1_000_000:,.0f} MB"


UNZIPPED = Limit("the uncompressed content of this zip", "POLICY_NLP_MAX_UNZIPPED_MB", 20)
FIELD = Limit("a CSV field or JSONL line", "POLICY_NLP_MAX_RECORD_MB", 64)
FILE = Limit("a file read whole", "POLICY_NLP_MAX_FILE_MB", 512)
MODEL_FILE = Limit("a model file", "POLICY_NLP_MAX_MODEL_MB", 512)

#: A zip of more members than this is refused (its directory alone would fill memory).
MAX_ZIP_MEMBERS = 100_000


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def open_regular(path: str | Path, source: str, limit: Limit | None = None, *,
                 error: type[PolicyNLPError] = InputError) -> IO[bytes]:
    """``path`` opened for reading in binary, if it is a regular file within ``limit``.

    Opened without blocking first, so that a FIFO without a writer does not hang the open; a
    FIFO, device, socket or directory is refused with ``error``, as is a file over ``limit``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"{source}: cannot read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{source}: is {file_kind(st.st_mode)}, not a regular file; "
                        "save it to a file first")
        if limit is not None:
            limit.check(st.st_size, source, error)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(fh: IO[bytes], limit: Limit, source: str,
                 error: type[PolicyNLPError] = InputError) -> bytes:
    """All of ``fh`` (a pipe, say, whose size is unknown), refused once past ``limit``."""
    cap = limit.bytes
    data = fh.read(cap + 1)
    if len(data) > cap:
        raise error(limit.message(source) + " (read from a stream)")
    return data


def check_zip(zf: zipfile.ZipFile, source: str, error: type[PolicyNLPError] = InputError,
              limit: Limit = UNZIPPED) -> None:
    """Refuse a zip whose members would inflate past ``limit``, from its directory.

    The directory's sizes are also what is enforced while reading: :mod:`zipfile` never gives
    more of a member than the size its directory entry declares (a member that inflates further
    fails its CRC check), so checking them bounds what any reader of this zip can inflate.
    """
    members = zf.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise error(f"{source}: a zip of {len(members):,} members is over the limit of "
                    f"{MAX_ZIP_MEMBERS:,}")
    total = sum(m.file_size for m in members)
    if total > limit.bytes:
        raise error(limit.message(source, total, "the uncompressed content of this zip"))


def open_zip(fh: IO[bytes], source: str, error: type[PolicyNLPError] = InputError, *,
             what: str = "zip file", limit: Limit = UNZIPPED) -> zipfile.ZipFile:
    """A :class:`zipfile.ZipFile` of ``fh``, checked by :func:`check_zip` against ``limit``
    (``what`` names the file in the message if it is no zip at all)."""
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise error(f"{source}: not a readable {what} ({type(exc).__name__}: {exc})") from None
    try:
        check_zip(zf, source, error, limit)
    except BaseException:
        zf.close()
        raise
    return zf
