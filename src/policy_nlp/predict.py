"""Prediction: paragraphs -> theme label, score, top 3, secondary themes and all scores.

:func:`iter_units` turns read documents into the units that get labeled (the paragraphs of a
report, or one record as it came); :func:`label_units` labels them in batches as a stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .read import Document
from .errors import InputError
from .split import has_content, split_report

if TYPE_CHECKING:  # pragma: no cover
    from .model import ThemeModel

RECORD_MODES = ("auto", "paragraphs", "reports")
PREDICTION_FIELDS = frozenset({"label", "score", "secondary", "top", "scores"})


@dataclass
class Unit:
    """One piece of text to label, with the fields that go along with it."""

    id: Any  # a string, or a record's own id as given (e.g. an integer)
    text: str
    fields: dict[str, Any] = field(default_factory=dict)  # written before the prediction


def _looks_like_report(text: str) -> bool:
    return sum(1 for line in text.splitlines() if line.strip()) > 1


def units_of_report(doc_id: str, text: str, extra: dict[str, Any] | None = None) -> list[Unit]:
    """The paragraphs of one report, with ``report_id``, ``paragraph`` and ``section``."""
    split = split_report(text, doc_id)
    out = []
    for p in split.paragraphs:
        fields = dict(extra or {})
        fields.update({"report_id": doc_id, "paragraph": p.index, "section": p.section})
        out.append(Unit(id=f"{doc_id}#{p.index:03d}", text=p.text, fields=fields))
    return out


def iter_units(documents: Iterable[Document], *, records: str = "auto") -> Iterator[Unit]:
    """Documents -> units to label.

    A report file is split into paragraphs. A record (a JSONL line or CSV row) is labeled as
    it is (``records="paragraphs"``, one output per input record, other fields passed
    through), split as a report (``"reports"``), or, with ``"auto"``, split only when its text
    holds more than one non-blank line.
    """
    if records not in RECORD_MODES:
        raise ValueError(f"records must be one of {RECORD_MODES}")
    for doc in documents:
        if doc.kind == "report" or (
            doc.kind == "record"
            and (records == "reports" or (records == "auto" and _looks_like_report(doc.text)))
        ):
            extra = dict(doc.meta) if doc.kind == "record" else {}
            yield from units_of_report(doc.id, doc.text, extra)
        else:
            if not has_content(doc.text):
                raise InputError(f"{doc.source}: no text to classify (empty or only "
                                 "punctuation)")
            # the record's id as given: an integer id stays an integer in the output
            rid = doc.id if doc.raw_id is None else doc.raw_id
            yield Unit(id=rid, text=doc.text, fields=dict(doc.meta))


def prediction_fields(model: ThemeModel, proba_row: np.ndarray, *, top: int = 3) -> dict[str, Any]:
    """The prediction part of an output record (the JSONL contract)."""
    order = np.argsort(-proba_row, kind="stable").tolist()
    themes = model.themes
    rounded = [round(p, 4) for p in proba_row.tolist()]  # Python floats: faster than numpy's
    best = order[0]
    return {
        "label": themes[best],
        "score": rounded[best],
        "secondary": model.secondary(proba_row),
        "top": [[themes[j], rounded[j]] for j in order[:top]],
        "scores": dict(zip(themes, rounded, strict=True)),
    }


def label_units(model: ThemeModel, units: Iterable[Unit], *, batch_size: int = 512,
                include_text: bool = True) -> Iterator[dict[str, Any]]:
    """Label units as a stream, ``batch_size`` at a time; one output record per unit."""
    batch: list[Unit] = []

    def flush() -> Iterator[dict[str, Any]]:
        proba = model.predict_proba([u.text for u in batch])
        for unit, row in zip(batch, proba, strict=True):
            rec: dict[str, Any] = {"id": unit.id}
            for key, value in unit.fields.items():
                # an input field named like a prediction field (a gold "label", say) is kept
                # under "input_<name>" instead of being overwritten
                rec[f"input_{key}" if key in PREDICTION_FIELDS else key] = value
            if include_text:
                rec["text"] = unit.text
            else:
                rec.pop("text", None)
            rec.update(prediction_fields(model, row))
            yield rec
        batch.clear()

    for unit in units:
        batch.append(unit)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()


def classify_text(model: ThemeModel, text: str, *, report_id: str = "text") -> list[dict[str, Any]]:
    """Classify a pasted text: one paragraph, or a whole report that is split first."""
    if not has_content(text):
        raise InputError("the text is empty or only punctuation: nothing to classify")
    units = (units_of_report(report_id, text) if _looks_like_report(text)
             else [Unit(id=f"{report_id}#000", text=text.strip(),
                        fields={"report_id": report_id, "paragraph": 0, "section": []})])
    return list(label_units(model, units))
