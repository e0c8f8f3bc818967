"""The corpus as the model labeled it (:class:`Population`): every paragraph's predicted
shares, probabilities, label and metadata, which the sample is drawn from and the corrections
are computed over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError


@dataclass
class Population:
    """Every paragraph of the corpus as the model labeled it: what the corrections need.

    ``pred[i]`` is paragraph ``i``'s predicted share of each theme (one-hot for a paragraph
    labeled whole, the sentences' shares with ``--unit sentence``); ``fields[i]`` its scalar
    metadata (``level``, ``year`` …, those of its report included). ``unit`` is what the
    themes were attributed to (``paragraph`` or ``sentence``), as the profile says.
    """

    themes: list[str]
    unit: str = "paragraph"
    ids: list[str] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the model's label of each paragraph
    _pred: list[np.ndarray] = field(default_factory=list, repr=False)
    _proba: list[np.ndarray | None] = field(default_factory=list, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)  # arrays made of the lists above

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, record: dict[str, Any]) -> None:
        """Add one labeled paragraph (a record of :func:`~policy_nlp.aggregate.iter_labeled`)."""
        from ..aggregate import paragraph_shares, record_meta

        self._cache.clear()
        index = {t: k for k, t in enumerate(self.themes)}
        row = np.zeros(len(self.themes))
        shares = paragraph_shares(record)
        for theme, share in shares.items():
            row[index[theme]] += share
        self._pred.append(row)
        scores = record.get("scores")
        self._proba.append(np.array([float(scores.get(t, 0.0)) for t in self.themes])
                           if isinstance(scores, dict) else None)
        self.ids.append(str(record["id"]))
        self.report_ids.append(str(record.get("report_id") or record["id"]))
        self.chars.append(len(record.get("text") or ""))
        # a paragraph labeled sentence by sentence: the theme of most of its characters
        self.labels.append(str(record.get("label") or max(shares, key=shares.__getitem__)))
        self.fields.append(record_meta(record))

    def collect(self, records: Iterable[dict[str, Any]]):
        """Pass ``records`` through, adding each (to build the population while profiling)."""
        for rec in records:
            self.add(rec)
            yield rec

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def pred(self) -> np.ndarray:
        return self._cached("pred", lambda: np.vstack(self._pred) if self._pred
                            else np.zeros((0, len(self.themes))))

    @property
    def proba(self) -> np.ndarray | None:
        """The model's (calibrated) probabilities of every paragraph, if all have them."""
        if not self._proba or any(p is None for p in self._proba):
            return None
        return self._cached("proba", lambda: np.vstack(self._proba))

    def groups(self, by: Sequence[str]) -> dict[tuple, np.ndarray]:
        """The paragraphs of each value of the fields ``by`` (a boolean mask each), in
        order of the values; a missing value (absent, None, blank: one value, None) last."""
        from ..aggregate import group_value

        def make():
            members: dict[tuple, list[int]] = {}
            for i, meta in enumerate(self.fields):
                members.setdefault(tuple(group_value(meta.get(f)) for f in by), []).append(i)
            out = {}
            for key in sorted(members, key=lambda k: [(v is None, str(v)) for v in k]):
                mask = np.zeros(len(self), dtype=bool)
                mask[members[key]] = True
                out[key] = mask
            return out

        return self._cached(("groups", tuple(by)), make)

    def index(self) -> dict[str, int]:
        """Paragraph id -> row; an id given twice cannot be matched to a sheet."""
        return self._cached("index", self._index)

    def _index(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, pid in enumerate(self.ids):
            if out.setdefault(pid, i) != i:
                raise InputError(f"paragraph id {pid!r} appears twice in the inputs; a coding "
                                 "sheet is matched by id, so ids must be unique")
        return out

    def strata(self, field_name: str | None) -> list[str]:
        """Each paragraph's stratum: the value of ``field_name`` (``"all"`` without one)."""
        return self._cached(("strata", field_name), lambda: self._strata(field_name))

    def _strata(self, field_name: str | None) -> list[str]:
        if not field_name:
            return ["all"] * len(self)
        out = []
        for i, meta in enumerate(self.fields):
            value = meta.get(field_name)
            if value is None or value == "":
                raise InputError(f"paragraph {self.ids[i]!r} (report {self.report_ids[i]!r}) "
                                 f"has no {field_name!r} to stratify by; give it in the records "
                                 "or with --name-pattern")
            out.append(str(value))
        return out
