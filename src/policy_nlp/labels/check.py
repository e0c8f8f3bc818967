"""The validation report of labeled data, before training (:func:`validate`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..codebook import Codebook, load_codebook
from .data import LabeledData, Problem

__all__ = ["IMBALANCE_WARN", "MIN_EXAMPLES", "MIN_EXAMPLES_WARN", "ValidationReport",
           "blank_summary", "validate"]

# the thresholds of the validation report
MIN_EXAMPLES_WARN = 20  # a theme with fewer examples is learned poorly: warning
MIN_EXAMPLES = 2  # a theme with fewer cannot be trained and cross-validated: error
IMBALANCE_WARN = 10.0  # largest / smallest theme count above this: warning


@dataclass
class ValidationReport:
    """What :func:`validate` found: problems (errors first), counts and the imbalance ratio."""

    problems: list[Problem]
    n_rows: int
    counts: dict[str, int]
    imbalance: float | None  # largest / smallest count among the themes present

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        ratio = f", imbalance {self.imbalance:.1f}:1" if self.imbalance else ""
        return (f"{self.n_rows} labeled rows, {len(self.counts)} themes{ratio}: "
                f"{len(self.errors)} errors, {len(self.warnings)} warnings")

    def to_dict(self) -> dict:
        return {"n_rows": self.n_rows, "counts": self.counts, "imbalance": self.imbalance,
                "errors": [p.__dict__ for p in self.errors],
                "warnings": [p.__dict__ for p in self.warnings]}


def blank_summary(where: list[str], show: int = 5) -> str:
    """``N rows with a blank label skipped (not coded yet): FILE:ROW, …``."""
    more = f" and {len(where) - show} more" if len(where) > show else ""
    return (f"{len(where)} row{'s' * (len(where) != 1)} with a blank label skipped (not coded "
            f"yet; --strict makes them errors): {', '.join(where[:show])}{more}")


def _rows(where: list[str]) -> str:
    return ", ".join(where)


def validate(data: LabeledData, codebook: Codebook | None = None, *,
             min_warn: int = MIN_EXAMPLES_WARN, min_examples: int = MIN_EXAMPLES,
             imbalance_warn: float = IMBALANCE_WARN) -> ValidationReport:
    """The validation report of labeled data, before training.

    Errors: the bad rows met while loading (unknown ids, unknown themes, empty texts or labels,
    ids labeled twice), one text labeled with different themes, a theme with fewer than
    ``min_examples`` examples. Warnings: a text labeled twice with the same theme, a theme
    with fewer than ``min_warn`` examples, a codebook theme with none, a largest/smallest
    theme ratio above ``imbalance_warn``. Every row-level finding names its file:row.
    """
    codebook = codebook or load_codebook()
    problems: list[Problem] = list(data.problems)
    if data.blank:
        problems.append(Problem("warning", "blank_label", blank_summary(data.blank)))
    where = data.where if len(data.where) == len(data) else [""] * len(data)
    by_text: dict[str, list[int]] = {}
    for i, text in enumerate(data.texts):
        by_text.setdefault("".join(text.split()), []).append(i)
    for rows in by_text.values():
        if len(rows) < 2:
            continue
        labels = sorted({data.labels[i] for i in rows})
        places = _rows([f"{where[i]} ({data.labels[i]})" for i in rows])
        if len(labels) > 1:
            problems.append(Problem("error", "conflicting_duplicate",
                                    f"one text, different labels: {places}"))
        else:
            problems.append(Problem("warning", "duplicate_text",
                                    f"one text labeled twice ({labels[0]}): {places}"))
    counts = data.counts()
    rows_of: dict[str, list[int]] = {}
    for i, lbl in enumerate(data.labels):
        if counts[lbl] < min_examples:
            rows_of.setdefault(lbl, []).append(i)
    for theme, n in counts.items():
        if n < min_examples:
            rows = _rows([where[i] for i in rows_of[theme]])
            problems.append(Problem(
                "error", "too_few",
                f"theme {theme!r} has {n} example{'s' * (n != 1)} ({rows}); at least "
                f"{min_examples} are needed: label more or merge it into another theme"))
        elif n < min_warn:
            problems.append(Problem("warning", "too_few",
                                    f"theme {theme!r} has only {n} examples (fewer than "
                                    f"{min_warn}: it will be learned poorly)"))
    missing = [t for t in codebook.ids if t not in counts]
    if missing and counts:
        listed = ", ".join(missing[:30]) + (f", … ({len(missing) - 30:,} more)"
                                            if len(missing) > 30 else "")
        problems.append(Problem("warning", "no_examples",
                                f"no examples of {listed}: the model will never predict them"))
    imbalance = None
    if len(counts) >= 2:
        imbalance = round(max(counts.values()) / min(counts.values()), 2)
        if imbalance > imbalance_warn:
            big = max(counts, key=counts.get)
            small = min(counts, key=counts.get)
            problems.append(Problem(
                "warning", "imbalance",
                f"class imbalance {imbalance:.1f}:1 ({big} {counts[big]}, {small} "
                f"{counts[small]}); consider more {small} labels, or `train --class-weight balanced`"))
    problems.sort(key=lambda p: p.severity != "error")
    return ValidationReport(problems=problems, n_rows=len(data) + len(data.problems),
                            counts=counts, imbalance=imbalance)


def validate_files(sources, *, paragraphs=None, columns: dict[str, str] | None = None,
                   codebook=None, prefer: str | None = None, blank: str = "skip"
                   ) -> tuple[LabeledData, ValidationReport]:
    """``policy-nlp validate-labels`` (and what ``train`` runs first): read the labels files
    collecting every bad row instead of stopping at the first, and :func:`validate` them
    against ``codebook`` (a :class:`Codebook`, a TOML file, or None: the shipped one)."""
    from ..codebook import resolve_codebook
    from .load import load_labels

    book = codebook if isinstance(codebook, Codebook) else resolve_codebook(codebook)
    data = load_labels(sources, paragraphs=paragraphs, columns=columns, codebook=book,
                       strict=False, prefer=prefer, blank=blank)
    return data, validate(data, book)


def refuse_bad_labels(report: ValidationReport, source: str) -> None:
    """Stop before training on labels with errors: the one error as it is, or how many (the
    caller listed them) in ``source``."""
    from ..errors import InputError

    if len(report.errors) == 1:
        raise InputError(report.errors[0].message)
    if report.errors:
        raise InputError(f"{source}: {len(report.errors)} bad labels (listed above); nothing "
                         "trained")
