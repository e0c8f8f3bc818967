"""The error policy of the readers: what happens to a problem met while reading.

By default a problem raises :class:`~policy_nlp.errors.InputError`. Given an ``on_error``
callback (e.g. :class:`SkipAndReport`), the readers instead pass it each problem -- a bad file, a
bad record, a duplicated id -- and go on with the next record or file. The callback may raise to
stop. :func:`handle_problem` is the one place that applies the policy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..errors import InputError

__all__ = ["OnError", "SkipAndReport", "handle_problem"]

#: The error policy: called with each problem; returning means "go on", raising stops.
OnError = Callable[[InputError], None]

class SkipAndReport:
    """The skip-and-report error policy: report each problem, count it, and go on.

    Pass an instance as ``on_error`` to :func:`iter_documents`. Each problem is reported as one
    line, ``skipped: <file>:<line>: <what>`` (the file or record was left out) or
    ``kept: <file>: <what>`` (it was read anyway, e.g. a duplicated id), through ``report``
    (default: standard error, prefixed ``policy-nlp: ``).

    Attributes
    ----------
    skipped, kept : int
        How many problems of each outcome were reported.
    """

    def __init__(self, report: Callable[[str], None] | None = None):
        self.report = report or (lambda m: print(f"policy-nlp: {m}", file=sys.stderr, flush=True))
        self.skipped = 0
        self.kept = 0

    def __call__(self, error: InputError) -> None:
        if error.outcome == "kept":
            self.kept += 1
        else:
            self.skipped += 1
        self.report(f"{error.outcome}: {error}")

    @property
    def problems(self) -> int:
        return self.skipped + self.kept

    def summary(self) -> str:
        parts = []
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        if self.kept:
            parts.append(f"{self.kept} read despite a problem")
        return f"{' and '.join(parts)} (listed above; --strict stops at the first)"


def handle_problem(on_error: OnError | None, error: InputError) -> None:
    """Hand a problem to the policy; without one, raise it."""
    if on_error is None:
        raise error
    error.reported = True  # so that a policy that raises it to stop is not called again
    on_error(error)
