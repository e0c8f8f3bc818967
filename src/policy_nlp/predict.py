"""Prediction: paragraphs -> theme label, score, top 3, secondary themes and all scores.

:func:`iter_units` turns read documents into the units that get labeled (the paragraphs of a
report, or one record as it came); :func:`label_units` labels them in batches as a stream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError
from .read import Document
from .sentences import split_sentences
from .split import split_report
from .text import has_content, without_surrogates
from .write import input_name

if TYPE_CHECKING:  # pragma: no cover
    from .model import ThemeModel

RECORD_MODES = ("auto", "paragraphs", "reports")
#: A record labeled as one paragraph that has this many non-blank lines looks like a whole
#: report: ``iter_units`` warns (once per run) that it was not split.
REPORT_LIKE_LINES = 5

log = logging.getLogger("policy_nlp.predict")
PREDICTION_FIELDS = frozenset({"label", "score", "secondary", "top", "group", "scores"})
SENTENCE_FIELDS = PREDICTION_FIELDS | {"themes", "sentences"}


@dataclass
class Unit:
    """One piece of text to label, with the fields that go along with it."""

    id: Any  # a string, or a record's own id as given (e.g. an integer)
    text: str
    fields: dict[str, Any] = field(default_factory=dict)  # written before the prediction


def _looks_like_report(text: str) -> bool:
    lines = text.splitlines()
    return len(lines) > 1 and sum(1 for line in lines if line.strip()) > 1


def units_of_report(doc_id: str, text: str, extra: dict[str, Any] | None = None) -> list[Unit]:
    """The paragraphs of one report, with ``report_id``, ``paragraph`` and ``section``, and
    ``year``, ``region`` and ``level`` where the report's opening lines state them and
    ``extra`` (the record's own fields) does not (:func:`~policy_nlp.metadata.report_metadata`;
    the region normalised, :func:`~policy_nlp.metadata.normalize_region`)."""
    from .metadata import META_FROM_TEXT, normalize_region, report_metadata

    split = split_report(text, doc_id)
    stated = report_metadata(text)
    extra = dict(extra or {})
    if extra.get("region") is not None:
        extra["region"] = normalize_region(extra["region"], extra.get("level"))
    # after the paragraph's place, where the record does not give them (its own win)
    missing = {k: stated[k] for k in META_FROM_TEXT if k in stated and extra.get(k) is None}
    out = []
    for p in split.paragraphs:
        fields = dict(extra)
        fields.update({"report_id": doc_id, "paragraph": p.index, "section": p.section})
        fields.update(missing)
        out.append(Unit(id=f"{doc_id}#{p.index:03d}", text=p.text, fields=fields))
    return out


def iter_units(documents: Iterable[Document], *, records: str = "auto", ids=None,
               on_error=None) -> Iterator[Unit]:
    """Documents -> units to label.

    A report file is split into paragraphs. A record (a JSONL line or CSV row) is labeled as
    it is (``records="paragraphs"``, one output per input record, other fields passed
    through), split as a report (``"reports"``), or, with ``"auto"``, split only when its text
    holds more than one non-blank line.

    With ``ids`` (a :class:`~policy_nlp.read.IdMemory`), each document's id, and the ids of
    the paragraphs of a split one, are checked against those before: a repeated one is an
    :class:`~policy_nlp.errors.InputWarning` for ``on_error`` (raised without it).
    """
    if records not in RECORD_MODES:
        raise ValueError(f"records must be one of {RECORD_MODES}")
    for doc in documents:
        units, split = units_of_document(doc, records)
        if ids is not None:
            ids.check(doc.id, doc.source, on_error, parts=len(units) if split else 0)
        yield from units


def units_of_document(doc: Document, records: str = "auto") -> tuple[list[Unit], bool]:
    """The units of one document (see :func:`iter_units`), and whether it was split into
    paragraphs (their ids then ``<id>#NNN``, NNN from 000)."""
    if doc.kind == "report" or (
        doc.kind == "record"
        and (records == "reports" or (records == "auto" and _looks_like_report(doc.text)))
    ):
        extra = dict(doc.meta) if doc.kind == "record" else {}
        return units_of_report(doc.id, doc.text, extra), True
    # (a record without text to classify never gets here: the reader reports it)
    # the record's id as given: an integer id stays an integer in the output
    rid = doc.id if doc.raw_id is None else doc.raw_id
    if records == "paragraphs" and not _warned:
        _warn_if_report_like(doc)
    return [Unit(id=rid, text=doc.text, fields=dict(doc.meta))], False


_warned: list[bool] = []  # the warning below was given (once per process)


def _warn_if_report_like(doc: Document) -> None:
    """Warn (once per process) that a record with many lines is labeled whole."""
    all_lines = doc.text.splitlines()
    if len(all_lines) < REPORT_LIKE_LINES:  # (most records: one line)
        return
    lines = sum(1 for line in all_lines if line.strip())
    if lines < REPORT_LIKE_LINES:
        return
    _warned.append(True)
    log.warning("%s: this record has %d lines (%d characters) and is labeled whole, as one "
                "paragraph; if its records are reports, use --records reports (or auto) to "
                "split them into paragraphs (warned once)", doc.source, lines, len(doc.text))


def prediction_fields(model: ThemeModel, proba_row: np.ndarray, *, top: int = 3) -> dict[str, Any]:
    """The prediction part of an output record (the JSONL contract)."""
    return next(prediction_records(model, proba_row[None, :], top=top))


def prediction_records(model: ThemeModel, proba: np.ndarray, *, top: int = 3
                       ) -> Iterator[dict[str, Any]]:
    """:func:`prediction_fields` of every row of a probability matrix, sorted and rounded once
    for the whole batch (the same fields and values as row by row)."""
    order = np.argsort(-proba, axis=1, kind="stable")
    themes = model.themes
    groups = model.theme_groups
    group_of = [groups.get(t, "") for t in themes]
    n_top = max(top, 1)
    secondary = model.secondary_matrix(proba, order)
    for rounded, first, sec in zip(round4(proba), order[:, :n_top].tolist(), secondary,
                                   strict=True):
        best = first[0]
        out = {
            "label": themes[best],
            "score": rounded[best],
            "secondary": sec,
            "top": [[themes[j], rounded[j]] for j in first[:top]],
        }
        if groups:  # the two-level label: the codebook group of the primary theme
            out["group"] = group_of[best]
        out["scores"] = dict(zip(themes, rounded, strict=True))
        yield out


# how close to a rounding boundary (a half unit of the 4th decimal) a scaled value must be for
# round4 to leave it to Python's round: the scaled value is off the exact one by under 1e-11
_NEAR_TIE = 1e-6


def round4(values: np.ndarray) -> list[list[float]]:
    """``[[round(v, 4) for v in row] for row in values.tolist()]``, computed by numpy.

    ``np.round`` scales, rounds and scales back (``rint(v * 1e4) / 1e4``), where Python's
    ``round`` rounds the exact value of ``v``: the two differ only where ``v * 1e4`` lies at or
    next to a half (``round(0.12345, 4)`` is 0.1235, ``np.round`` gives 0.1234), and those few
    values are rounded by Python's ``round`` here. Elsewhere both pick the same integer of
    ten-thousandths, and dividing it by 1e4 gives the double nearest to it as ``round`` does.
    That holds for values of ordinary size, such as probabilities (below about 1e11, where
    ``v * 1e4`` has fractional bits to spare).
    """
    v = np.asarray(values, dtype=np.float64)
    scaled = v * 1e4
    out = np.rint(scaled) / 1e4
    with np.errstate(invalid="ignore"):  # inf - inf
        near = np.abs(scaled - np.floor(scaled) - 0.5) < _NEAR_TIE  # NaN and inf: False
    if near.any():
        for idx in zip(*np.nonzero(near)):
            out[idx] = round(float(v[idx]), 4)
    return out.tolist()


def _unit_record(unit: Unit, include_text: bool, reserved: frozenset[str]) -> dict[str, Any]:
    """The part of an output record that comes from the unit: its id, fields and text."""
    rec: dict[str, Any] = {"id": unit.id}
    if reserved.isdisjoint(unit.fields):
        rec.update(unit.fields)
    else:
        taken = set(unit.fields)
        for key, value in unit.fields.items():
            # an input field named like an output field (a gold "label", say) is kept
            # under "input_<name>" instead of being overwritten, or "input_input_<name>"
            # where the input has that too (an output of label, labeled again)
            if key in reserved:
                key = input_name(key, taken)
            rec[key] = value
    if include_text:
        rec["text"] = unit.text
    else:
        rec.pop("text", None)
    return rec


def label_units(model: ThemeModel, units: Iterable[Unit], *, batch_size: int = 512,
                include_text: bool = True) -> Iterator[dict[str, Any]]:
    """Label units as a stream, ``batch_size`` at a time; one output record per unit."""
    batch: list[Unit] = []

    def flush() -> Iterator[dict[str, Any]]:
        proba = model.predict_proba([u.text for u in batch])
        for unit, pred in zip(batch, prediction_records(model, proba), strict=True):
            rec = _unit_record(unit, include_text, PREDICTION_FIELDS)
            rec.update(pred)
            yield rec
        batch.clear()

    for unit in units:
        batch.append(unit)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()


def units_of_text(text: str, *, report_id: str = "text") -> list[Unit]:
    """The units of a pasted text: one paragraph, or the paragraphs of a whole report."""
    text = without_surrogates(text)
    if not has_content(text):
        raise InputError("the text is empty or only punctuation: nothing to classify")
    if _looks_like_report(text):
        return units_of_report(report_id, text)
    return [Unit(id=f"{report_id}#000", text=text.strip(),
                 fields={"report_id": report_id, "paragraph": 0, "section": []})]


def classify_text(model: ThemeModel, text: str, *, report_id: str = "text") -> list[dict[str, Any]]:
    """Classify a pasted text: one paragraph, or a whole report that is split first."""
    return list(label_units(model, units_of_text(text, report_id=report_id)))


def label_sentences(model: ThemeModel, units: Iterable[Unit], *, batch_size: int = 512,
                    include_text: bool = True, paragraph: bool = True,
                    sentence_scores: bool = False) -> Iterator[dict[str, Any]]:
    """Label every sentence of each unit; the unit gets the themes its sentences carry.

    Each unit (a paragraph) is split by :func:`~policy_nlp.sentences.split_sentences` and each
    sentence labeled on its own, so a paragraph that goes through four themes one sentence
    each comes out with all four. One output record per unit, as :func:`label_units` writes
    it (with ``paragraph=False`` without the paragraph's own prediction), plus:

    ``themes``
        theme -> its share of the paragraph: the characters of the sentences labeled with it
        over those of all its sentences; largest first, sums to 1 (rounded to 4 places).
    ``sentences``
        one ``{"text", "label", "score"}`` per sentence, in order (with
        ``sentence_scores``, also ``scores``: every theme's probability, as a paragraph's).
    """
    batch: list[tuple[Unit, list[str]]] = []
    n_sentences = 0

    def flush() -> Iterator[dict[str, Any]]:
        texts = [s for _, sentences in batch for s in sentences]
        proba = model.predict_proba(texts)
        best = proba.argmax(axis=1)
        para_proba = model.predict_proba([u.text for u, _ in batch]) if paragraph else None
        k = 0
        for i, (unit, sentences) in enumerate(batch):
            rec = _unit_record(unit, include_text, SENTENCE_FIELDS)
            if para_proba is not None:
                rec.update(prediction_fields(model, para_proba[i]))
            labeled = []
            chars: dict[str, int] = {}
            for s in sentences:
                theme = model.themes[int(best[k])]
                labeled.append({"text": s, "label": theme,
                                "score": round(float(proba[k, best[k]]), 4)})
                if sentence_scores:
                    labeled[-1]["scores"] = dict(zip(model.themes, round4(proba[k]),
                                                     strict=True))
                chars[theme] = chars.get(theme, 0) + len(s)
                k += 1
            total = sum(chars.values())
            rec["themes"] = {t: round(c / total, 4)
                             for t, c in sorted(chars.items(), key=lambda kv: -kv[1])}
            rec["sentences"] = labeled
            yield rec
        batch.clear()

    for unit in units:
        sentences = split_sentences(unit.text) or [unit.text]
        batch.append((unit, sentences))
        n_sentences += len(sentences)
        if n_sentences >= batch_size:
            yield from flush()
            n_sentences = 0
    if batch:
        yield from flush()


def classify_input(model: ThemeModel, source: str | None = None, *, text: str | None = None,
                   unit: str = "paragraph", explain_terms: int = 0, text_col: str = "text",
                   id_col: str = "id", on_error: Any = None) -> list[dict[str, Any]]:
    """Every paragraph of one report (``source``: a file, or ``-`` for standard input), or of
    one pasted ``text``, labeled (``unit="sentence"``: with its sentences' themes), with the
    ``explain_terms`` terms behind each label (``evidence``) when above 0 (``policy-nlp
    classify``)."""
    from .errors import ArgumentError

    if source is None and text is None:
        raise ArgumentError("source", "or `text`: nothing to classify, give one of them")
    if source is not None and text is not None:
        raise ArgumentError("source", "or `text`: give one of them, not both")
    if unit not in ("paragraph", "sentence"):
        raise ArgumentError("unit", f"must be paragraph or sentence, not {unit!r}")
    if explain_terms < 0:
        raise ArgumentError("explain_terms", f"must be 0 or more, not {explain_terms}")
    if text is not None:
        units = units_of_text(text)
    else:
        from .read import iter_documents

        # one input: its problems are held until it is read, so that an input with nothing
        # to classify is one error (its own problem, `file is empty`), not a skip and an error
        held: list[InputError] = []
        docs = iter_documents([source], text_col=text_col, id_col=id_col,
                              on_error=None if on_error is None else held.append)
        units = list(iter_units(docs, records="reports"))
        if not units:
            if len(held) == 1:
                raise held[0]
            raise InputError(f"{source}: no paragraphs found" + (
                f" ({len(held)} problems, the first: {held[0]})" if held else ""))
        for problem in held:
            on_error(problem)
    labeler = label_sentences if unit == "sentence" else label_units
    records = list(labeler(model, units))
    if explain_terms:
        from .explain import explain_text

        for rec in records:
            found = explain_text(model, rec["text"], theme=rec["label"], top=explain_terms)
            rec["evidence"] = [c.to_dict() for c in found.terms]
    return records
