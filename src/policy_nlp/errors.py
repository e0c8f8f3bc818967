"""The exception types a user sees, and the exit codes of the command line.

Every step raises :class:`PolicyNLPError` for problems with the user's input, files or model;
the CLI turns it into a one-line message and a non-zero exit code. Anything else is a bug.

Exit codes: 0 done; 2 bad input or arguments (nothing written); 3 bad model; 4 the output could
not be written (a full disk, an I/O error; nothing half-written is left); 5 done and the output
written, but some inputs or records were skipped or had a problem, each reported on standard
error (:data:`EXIT_SKIPPED`); 6 a worker process died (the work so far kept for ``--resume``);
130 and 143 stopped by Ctrl-C or SIGTERM (the work so far kept for ``--resume``).
"""

from __future__ import annotations

import re

#: Exit code of a run that finished and wrote its output, but skipped bad inputs or records
#: (or labeled some that had a problem, such as a duplicated id); each was reported on stderr.
EXIT_SKIPPED = 5


#: What a message must not print as is: control characters (a newline in a file name would
#: forge a line on standard error), line separators and lone surrogates (the bytes of a file
#: name that is not UTF-8, as Python decodes them)
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return match.group().encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """``text`` on one line and writable as UTF-8: control characters and line separators
    escaped as Python writes them (``\\n``, ``\\x1b``), the undecodable bytes of a file
    name (lone surrogates) as ``\\xNN``; the rest, tabs and Chinese included, unchanged."""
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


class PolicyNLPError(Exception):
    """A problem with the user's input, data or model, with a message fit to show as is: one
    line, whatever the file names in it hold (see :func:`printable`)."""

    exit_code = 1

    def __str__(self) -> str:
        return printable(super().__str__())


class InputError(PolicyNLPError):
    """An input file or record is missing, empty, undecodable or malformed.

    Under the skip-and-report policy (``iter_documents(..., on_error=...)``) the file or record
    it names is skipped: :attr:`outcome` is ``"skipped"``.
    """

    exit_code = 2
    outcome = "skipped"


class InputWarning(InputError):
    """A problem that loses nothing when the input is read anyway: a duplicated id, a file
    that ends inside a character (the incomplete character is dropped).

    Under the skip-and-report policy it is reported and the input is kept (:attr:`outcome` is
    ``"kept"``); without a policy (``--strict``) it is raised like any :class:`InputError`.
    ``recovered`` holds what reading it anyway gives, for the reader that raised it.
    """

    outcome = "kept"

    def __init__(self, message: str, recovered=None):
        super().__init__(message)
        self.recovered = recovered


class MissingDependencyError(InputError):
    """An optional package the request needs is not installed (exit 2, before any work)."""


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingDependencyError` naming the extra to install when ``module``
    cannot be imported; call it before the work that needs it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(f"{what} needs {module}: {install_hint(extra)}")


def install_hint(extra: str) -> str:
    """How to install the optional dependencies ``extra`` of pyproject.toml names: the packages
    themselves (from the installed distribution's metadata), or the extra from policy-nlp's own
    folder. Never ``pip install 'policy-nlp[extra]'``: policy-nlp is installed from its
    folder, and that command would fetch whatever package of that name a package index has."""
    import importlib.metadata

    try:
        requires = importlib.metadata.requires("policy-nlp") or []
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        requires = []
    marker = f'extra == "{extra}"'
    packages = [r.split(";")[0].strip() for r in requires if marker in r]
    folder = f"pip install '.[{extra}]' in policy-nlp's folder"
    if not packages:
        return folder
    return "pip install " + " ".join(f"'{p}'" for p in packages) + f" (or {folder})"


#: another parameter named in an :class:`ArgumentError`'s problem: ```restart```
_NAMED_PARAM = re.compile(r"`([A-Za-z_]\w*)`")


class ArgumentError(InputError):
    """A library function's argument is out of range, or two arguments do not go together:
    the message names the parameter as the function does (``cv_folds must be …``); the
    command line shows it under the flag's name (``--cv-folds must be …``), see :attr:`param`,
    :attr:`problem` and :meth:`named`. Another parameter the problem names is written in
    backticks (``"continues a run, `restart` discards it"``), so that each reader sees it
    under its own name too."""

    def __init__(self, param: str, problem: str):
        self.param, self.problem = param, problem
        super().__init__(self.named(str))

    def named(self, name_of) -> str:
        """The message with each parameter shown as ``name_of(param)`` (the command line: the
        flag that sets it)."""
        return (f"{name_of(self.param)} "
                f"{_NAMED_PARAM.sub(lambda m: name_of(m.group(1)), self.problem)}")


class ModelError(PolicyNLPError):
    """A model directory is missing, incomplete, corrupt or was tampered with."""

    exit_code = 3


class OutputError(PolicyNLPError):
    """The output could not be written (no space left, an I/O error, no permission)."""

    exit_code = 4


class WorkerDied(PolicyNLPError):
    """A worker process of the run died (``kill -9``, the out-of-memory killer): the run stopped
    at once, its work so far kept for ``--resume``."""

    exit_code = 6
