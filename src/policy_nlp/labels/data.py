"""Labeled paragraphs as the library holds them: :class:`LabeledData`, and the problems met
while loading them (:class:`Problem`, gathered by :class:`Collector`)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..read.decode import read_bytes

__all__ = ["Collector", "LabeledData", "Problem", "file_sha256"]


@dataclass(frozen=True)
class Problem:
    """One finding of the validation report: an ``error`` refuses training, a ``warning``
    is printed and training goes on."""

    severity: str  # "error" | "warning"
    kind: str  # unknown_id, unknown_theme, empty_text, empty_label, duplicate_id, bad_year,
    # conflicting_duplicate, duplicate_text, too_few, no_examples, imbalance, blank_label,
    # conflicting_label (one id, two files), no_majority (annotators of a task tie),
    # several_labels
    message: str  # starts with file:row where the problem is one row

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


class Collector:
    """Row problems while loading: raised at once (``strict``) or kept for the report."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.problems: list[Problem] = []

    def error(self, kind: str, message: str) -> None:
        if self.strict:
            raise InputError(message)
        self.problems.append(Problem("error", kind, message))


@dataclass
class LabeledData:
    """Parallel lists, one entry per labeled paragraph."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    secondary: list[list[str]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # report ids, for grouped splits
    levels: list[str | None] = field(default_factory=list)
    sections: list[list[str]] = field(default_factory=list)
    years: list[int | None] = field(default_factory=list)  # the report's year, where known
    # how the row was chosen for labeling (the shared labels' ``sample``: random, rare, era,
    # census), where known
    samples: list[str | None] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256 of its bytes
    # what the groups are: "report" (a report column or the paragraphs file), "id prefix"
    # (the part of each id before '#'), or "row" (nothing said: each row its own group)
    grouping: str = "report"
    where: list[str] = field(default_factory=list)  # "file:row" each paragraph came from
    # bad rows met while loading with ``strict=False``: left out of the lists above, and
    # reported by :func:`validate` (never silently dropped)
    problems: list[Problem] = field(default_factory=list)
    # "file:row" of the rows skipped because their label was blank (not coded yet)
    blank: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, *, id: str, text: str, label: str, secondary: list[str], group: str,
            level: str | None = None, section: list[str] | None = None,
            year: Any = None, sample: str | None = None, where: str = "") -> None:
        self.where.append(where)
        self.ids.append(id)
        self.texts.append(text)
        self.labels.append(label)
        self.secondary.append(secondary)
        self.groups.append(group)
        self.levels.append(level)
        self.sections.append(section or [])
        self.years.append(_year(year))
        self.samples.append(sample)

    def sha256(self) -> str:
        """A hash of what training sees (id, text, label, secondary), in order."""
        h = hashlib.sha256()
        for row in zip(self.ids, self.texts, self.labels, self.secondary, strict=True):
            h.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items(), key=lambda kv: (-kv[1], kv[0])))

    def subset(self, index) -> LabeledData:
        out = LabeledData(files=dict(self.files), grouping=self.grouping)
        for i in index:
            out.add(id=self.ids[i], text=self.texts[i], label=self.labels[i],
                    secondary=self.secondary[i], group=self.groups[i], level=self.levels[i],
                    section=self.sections[i], year=self.years[i], sample=self.samples[i],
                    where=self.where[i])
        return out


def _year(value: Any) -> int | None:
    """A year as an int (from 2024, "2024" or 2024.0), None if it is not one."""
    try:
        year = int(str(value).strip().removesuffix(".0"))
    except (TypeError, ValueError):
        return None
    return year if 1000 <= year <= 9999 else None


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (a labels or paragraphs file, recorded in the model)."""
    return hashlib.sha256(read_bytes(path)).hexdigest()
