"""Eras of the reports: the year of a report -> the period its language belongs to.

Government work reports run from 1954 to today, and their vocabulary changed with the economy
(the planned economy's 基本建设, 计划, 增产节约 up to about 1990; the reform years; the
present). Metrics are broken down by these eras (:func:`policy_nlp.metrics.metrics_report`)
so that a model good on recent reports cannot hide that it is poor on old ones.
"""

from __future__ import annotations

import re

#: (name, last year) of each era, in order; the last era is open-ended.
ERAS: tuple[tuple[str, int | None], ...] = (
    ("up_to_1990", 1990),
    ("1991_2012", 2012),
    ("after_2012", None),
)
ERA_NAMES: tuple[str, ...] = tuple(name for name, _ in ERAS)
# a year as text: four ASCII digits, or a float of them (1985.0) as spreadsheets save years
_YEAR_TEXT = re.compile(r"[0-9]{4}(\.0*)?", re.ASCII)


def era_of(year: int | None) -> str | None:
    """The era a year belongs to (None for an unknown year)."""
    if year is None:
        return None
    for name, last in ERAS:
        if last is None or year <= last:
            return name
    raise AssertionError("the last era is open-ended")  # pragma: no cover


def parse_year(value: object) -> int | None:
    """A year from a table cell or JSON field: an int, a float like 1985.0 or a string of
    four digits, or of such a float as a spreadsheet saves a year column (``1985.0``;
    surrounding space ignored); None for an empty cell. Anything else raises ValueError (the
    caller names the row)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a year: {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 1000 <= value <= 9999:
        return value
    if isinstance(value, str) and _YEAR_TEXT.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    raise ValueError(f"not a four-digit year: {value!r}")


def year_or_none(value: object) -> int | None:
    """:func:`parse_year`'s year, or None where the value is no year (a bool, a number that is
    not a four-digit year such as ``1e10``, ``-5`` or ``2021.5``, text such as ``2020年``):
    what a report's year is when it groups reports (``--by decade``) or picks the rates of an
    era, where ``int()`` took ``True`` for the year 1 and ``2021.5`` for 2021."""
    try:
        return parse_year(value)
    except ValueError:
        return None
