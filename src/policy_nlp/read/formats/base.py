"""What the readers of Word, PDF and web pages share: the optional library they need, and a
short message for the exception a damaged file makes it raise."""

from __future__ import annotations

import importlib

from ...errors import InputError

__all__ = ["require", "short_error"]


def require(module: str, package: str, what: str, source: str):
    """The module ``module``, imported; where it is missing, an :class:`InputError` saying
    that reading ``what`` needs the package ``package`` (pip install it)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"{source}: reading {what} needs the package {package!r}, which is not installed "
            f"(pip install {package})"
        ) from None


def short_error(exc: BaseException) -> str:
    """An exception as a short one-line message: its type and first line."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {msg}"[:160] if msg else type(exc).__name__
