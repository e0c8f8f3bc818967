"""The one exception type a user sees.

Every step raises :class:`PolicyNLPError` for problems with the user's input, files or model;
the CLI turns it into a one-line message and a non-zero exit code. Anything else is a bug.
"""

from __future__ import annotations


class PolicyNLPError(Exception):
    """A problem with the user's input, data or model, with a message fit to show as is."""

    exit_code = 1


class InputError(PolicyNLPError):
    """An input file or record is missing, empty, undecodable or malformed."""

    exit_code = 2


class ModelError(PolicyNLPError):
    """A model directory is missing, incomplete, corrupt or was tampered with."""

    exit_code = 3
