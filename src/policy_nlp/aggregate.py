"""Aggregate: labeled paragraphs -> one profile per report, the attention each theme gets.

The step after predict. A report's profile says how much of the report went to each theme and to
each theme group of the codebook, measured two ways:

* **by characters** (``char_share_<theme>``): the characters of the paragraphs labeled with the
  theme over all the report's paragraph characters;
* **by paragraphs** (``para_share_<theme>``): the paragraphs labeled with the theme over all
  the report's paragraphs.

With sentence-level attribution (``unit="sentence"``, see
:func:`~policy_nlp.predict.label_sentences`) a paragraph is not given whole to one theme but
shared among the themes of its sentences, in proportion to their characters, in both measures.
Either way the shares of a report sum to 1 over the themes, and over the groups
(``char_share_group_<group>``, ``para_share_group_<group>``).

A *panel* is a list of such rows, one per report, with the report's metadata (``level``,
``region``, ``year`` and the other fields of its records) in front. :func:`long_panel` gives
the tidy form, one row per report and theme (or group), for plotting and regression.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .codebook import Codebook, model_codebook
from .era import year_or_none
from .errors import ArgumentError, InputError, InputWarning
from .predict import Unit, iter_units, label_sentences, label_units
from .read import IdMemory, ReportIds

if TYPE_CHECKING:  # pragma: no cover
    from .model import ThemeModel
    from .read import Document
    from .shares import ShareRates

__all__ = [
    "META_FIELDS",
    "MISSING",
    "UNITS",
    "compile_name_pattern",
    "fields_from_name",
    "group_label",
    "group_value",
    "iter_labeled",
    "long_panel",
    "paragraph_shares",
    "profile_documents",
    "profile_estimated",
    "profile_records",
    "record_meta",
]

#: The metadata columns every panel has, in this order (empty where unknown).
META_FIELDS = ("level", "region", "year")
#: What a theme is attributed to: whole paragraphs, or each sentence.
UNITS = ("paragraph", "sentence")
#: How the label of a group of reports (``--by``) names a metadata value that is missing
#: (``level=national,year=(missing)``); the group's own column is left empty (None).
MISSING = "(missing)"
# fields of a labeled record that are the record's own, not its report's metadata
_RECORD_FIELDS = frozenset({
    "id", "text", "report_id", "paragraph", "section", "label", "score", "secondary", "top",
    "group", "scores", "themes", "sentences", "evidence",
})
_FIELD = re.compile(r"\{([^{}]*)\}")


# --- paragraphs -> reports -------------------------------------------------------------------


def paragraph_shares(record: dict[str, Any]) -> dict[str, float]:
    """The themes of one labeled paragraph and the share of it each gets (summing to 1).

    ``{label: 1.0}`` for a paragraph labeled whole; for one labeled sentence by sentence (a
    record with ``sentences``), each sentence theme's share of the sentence characters.
    """
    sentences = record.get("sentences")
    if sentences:
        chars: dict[str, int] = {}
        for s in sentences:
            chars[s["label"]] = chars.get(s["label"], 0) + len(s["text"])
        total = sum(chars.values())
        if total:
            return {t: c / total for t, c in chars.items()}
        return {sentences[0]["label"]: 1.0}
    return {record["label"]: 1.0}


class _Report:
    __slots__ = ("chars", "meta", "n_chars", "n_paragraphs", "n_sentences", "paras", "said")

    def __init__(self, meta: dict[str, Any], n_themes: int):
        self.meta = meta
        # level, region, year: the values the records give (a record without one says
        # nothing of it, where it would otherwise erase the others' for the whole report)
        self.said: dict[str, list[Any]] = {}
        self.n_paragraphs = self.n_chars = self.n_sentences = 0
        self.chars = [0.0] * n_themes
        self.paras = [0.0] * n_themes

    def hear(self, meta: dict[str, Any]) -> None:
        for key in META_FIELDS:
            value = meta.get(key)
            if group_value(value) is not None and value not in self.said.setdefault(key, []):
                self.said[key].append(value)

    def field(self, key: str) -> Any:
        """A metadata field of the report: level, region and year as its records give them
        alike (None where they differ or none does), any other as all its records share it."""
        if key not in META_FIELDS:
            return self.meta.get(key)
        values = self.said.get(key, [])
        return values[0] if len(values) == 1 else None


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    """The scalar fields of a labeled record that may be its report's metadata."""
    meta = {k: v for k, v in record.items()
            if k not in _RECORD_FIELDS and (v is None or isinstance(v, str | int | float | bool))}
    year = meta.get("year")
    if isinstance(year, str):
        parsed = year_or_none(year)  # '2021', '2021.0'
        if parsed is not None:
            meta["year"] = parsed
        elif year.strip().isdecimal():  # not isdigit: int('²') raised a traceback
            meta["year"] = int(year)
    elif isinstance(year, float) and year.is_integer():
        meta["year"] = int(year)
    return meta


#: The metadata of a labeled record (its scalar fields that are not the record's own): what
#: profile groups reports by, and validation.Population keeps of each paragraph.
record_meta = _meta


def profile_records(records: Iterable[dict[str, Any]], codebook: Codebook, *,
                    themes: list[str] | None = None, unit: str = "paragraph"
                    ) -> list[dict[str, Any]]:
    """Labeled paragraphs -> the panel: one profile row per report, in order of appearance.

    Parameters
    ----------
    records : iterable of dict
        Labeled paragraphs as :func:`~policy_nlp.predict.label_units` (or
        :func:`~policy_nlp.predict.label_sentences`) writes them, with their ``text``. They
        are grouped by ``report_id`` (a record without one is a report of its own).
    codebook : Codebook
        Gives each theme its group.
    themes : list of str, optional
        The theme columns, in order (default: the codebook's).
    unit : {"paragraph", "sentence"}
        What the themes were attributed to; recorded in the ``unit`` column.

    Returns
    -------
    list of dict
        One row per report: ``report_id``, ``level``, ``region``, ``year``, the other
        metadata (the scalar fields that all its records share; ``None`` where a report
        lacks one), ``unit``, ``estimator`` (``"cc"``: the shares are counts of labels),
        ``n_paragraphs``, ``n_chars`` (``n_sentences`` for sentence units), ``top_theme`` (the
        largest by characters), then ``char_share_<theme>`` and ``para_share_<theme>`` for each
        theme and ``char_share_group_<group>`` and ``para_share_group_<group>`` for each group.

    Examples
    --------
    >>> from policy_nlp.codebook import load_codebook
    >>> recs = [{"report_id": "r", "year": "2024", "text": "甲" * 30, "label": "economy"},
    ...         {"report_id": "r", "year": "2024", "text": "乙" * 10, "label": "integrity"}]
    >>> row = profile_records(recs, load_codebook())[0]
    >>> row["year"], row["char_share_economy"], row["para_share_integrity"]
    (2024, 0.75, 0.5)
    >>> row["char_share_group_economic"] + row["char_share_group_government"]
    1.0
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    themes = list(themes or codebook.ids)
    index = {t: i for i, t in enumerate(themes)}
    reports: dict[str, _Report] = {}
    for rec in records:
        rid = str(rec.get("report_id") or rec["id"])
        report = reports.get(rid)
        meta = _meta(rec)
        if report is None:
            report = reports[rid] = _Report(meta, len(themes))
        elif report.meta:
            report.meta = {k: v for k, v in report.meta.items() if k in meta and meta[k] == v}
        report.hear(meta)
        if "text" not in rec:
            raise ValueError("profile_records needs each record's text (include_text=True)")
        n = len(rec["text"])
        report.n_paragraphs += 1
        report.n_chars += n
        report.n_sentences += len(rec.get("sentences") or ())
        for theme, share in paragraph_shares(rec).items():
            report.chars[index[theme]] += n * share
            report.paras[index[theme]] += share

    extra: dict[str, None] = {}
    for report in reports.values():
        extra.update(dict.fromkeys(k for k in report.meta if k not in META_FIELDS))
    groups = {}
    for t in themes:
        groups.setdefault(codebook.group_of(t), []).append(index[t])
    rows = []
    for rid, r in reports.items():
        row: dict[str, Any] = {"report_id": rid}
        row.update({k: r.field(k) for k in META_FIELDS})
        row.update({k: r.field(k) for k in extra})
        chars = [c / r.n_chars for c in r.chars] if r.n_chars else [
            p / r.n_paragraphs for p in r.paras]
        paras = [p / r.n_paragraphs for p in r.paras]
        row.update({"unit": unit, "estimator": "cc", "n_paragraphs": r.n_paragraphs,
                    "n_chars": r.n_chars})
        if unit == "sentence":
            row["n_sentences"] = r.n_sentences
        row["top_theme"] = themes[max(range(len(themes)), key=chars.__getitem__)]
        row.update({f"char_share_{t}": chars[i] for i, t in enumerate(themes)})
        row.update({f"para_share_{t}": paras[i] for i, t in enumerate(themes)})
        row.update({f"char_share_group_{g}": sum(chars[i] for i in ix)
                    for g, ix in groups.items()})
        row.update({f"para_share_group_{g}": sum(paras[i] for i in ix)
                    for g, ix in groups.items()})
        rows.append(row)
    return rows


def long_panel(rows: Iterable[dict[str, Any]], codebook: Codebook, *,
               themes: list[str] | None = None) -> list[dict[str, Any]]:
    """The tidy form of a panel: one row per report and theme, then per report and group.

    Each row keeps the report's metadata and counts, and has ``kind`` (``"theme"`` or
    ``"group"``), ``theme`` (the theme's or group's id), ``group``, ``zh`` (its Chinese
    name), ``char_share`` and ``para_share``.
    """
    themes = list(themes or codebook.ids)
    out = []
    for row in rows:
        base = {k: v for k, v in row.items()
                if not k.startswith(("char_share_", "para_share_")) and k != "top_theme"}
        for t in themes:
            out.append({**base, "kind": "theme", "theme": t, "group": codebook.group_of(t),
                        "zh": codebook.theme(t).zh, **_long_shares(row, t)})
        for g, names in codebook.groups.items():
            if f"char_share_group_{g}" in row:
                out.append({**base, "kind": "group", "theme": g, "group": g,
                            "zh": names.get("zh", g), **_long_shares(row, f"group_{g}")})
    return out


def _long_shares(row: dict[str, Any], name: str) -> dict[str, Any]:
    """``char_share``, ``para_share`` (and their ``_lower``/``_upper`` bounds where the wide
    row has them) of one theme or group of a wide row."""
    out = {}
    for measure in ("char_share", "para_share"):
        out[measure] = row[f"{measure}_{name}"]
        if f"{measure}_{name}_lower" in row:
            out[f"{measure}_lower"] = row[f"{measure}_{name}_lower"]
            out[f"{measure}_upper"] = row[f"{measure}_{name}_upper"]
    return out


# --- estimated shares, intervals and groups -------------------------------------------------


class _Units:
    """Collects, while :func:`profile_records` reads the records, each report's units: their
    probabilities and their character and paragraph weights (as the counts give them)."""

    def __init__(self, themes: list[str]):
        self.themes = themes
        self.reports: dict[str, tuple[list[np.ndarray], list[float], list[float]]] = {}

    def _proba(self, scores: dict[str, float] | None, label: str) -> np.ndarray:
        if not scores:  # a record labeled elsewhere, without scores: its label only
            return np.array([t == label for t in self.themes], dtype=np.float32)
        return np.array([scores.get(t, 0.0) for t in self.themes], dtype=np.float32)

    def watch(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for rec in records:
            rid = str(rec.get("report_id") or rec["id"])
            proba, chars, paras = self.reports.setdefault(rid, ([], [], []))
            n = len(rec.get("text", ""))
            sentences = rec.get("sentences")
            if sentences:
                total = sum(len(s["text"]) for s in sentences)
                for s in sentences:
                    share = len(s["text"]) / total if total else 1.0 / len(sentences)
                    proba.append(self._proba(s.get("scores"), s["label"]))
                    chars.append(n * share)
                    paras.append(share)
            else:
                proba.append(self._proba(rec.get("scores"), rec["label"]))
                chars.append(n)
                paras.append(1.0)
            yield rec


def _decade(year: Any) -> int | None:
    y = year_or_none(year)
    return None if y is None else y // 10 * 10


#: Columns a group of reports computes for itself (its id, its sizes), which no ``--by`` may
#: name: the group's own value would overwrite them (with the shares: ``char_share_…``).
_COMPUTED = frozenset({"report_id", "n_paragraphs", "n_chars", "n_sentences", "n_reports", "by"})


def check_by_names(by: list[str]) -> None:
    """An :class:`ArgumentError` if ``by`` names a column twice, or one that the rows of
    groups compute (``report_id``, the sizes, the shares): checked before any work."""
    twice = [c for c in dict.fromkeys(by) if by.count(c) > 1]
    if twice:
        raise ArgumentError("by", f"names {', '.join(twice)} twice; name each column once")
    if "report_id" in by:
        raise ArgumentError("by", "names report_id: report_id is the report itself (its row "
                                  "is in the panel already); group reports by their "
                                  "metadata, e.g. level,decade")
    computed = [c for c in by if c in _COMPUTED or c.startswith(("char_share_", "para_share_"))]
    if computed:
        raise ArgumentError("by", f"names {', '.join(computed)}: {computed[0]} is a share or "
                                  "size that profile computes for each group, not metadata "
                                  "of the reports; group by level, region, year, decade or "
                                  "another field of the records")


def check_by(rows: list[dict[str, Any]], by: list[str]) -> None:
    """An :class:`ArgumentError` if a ``--by`` column is in no row of the panel, or is
    refused by :func:`check_by_names`."""
    check_by_names(by)
    known = {k for row in rows for k in row}
    if "year" in known:
        known.add("decade")
    missing = [c for c in by if c not in known]
    if missing:
        meta = [k for k in dict.fromkeys(k for row in rows for k in row)
                if not k.startswith(("char_share_", "para_share_")) and k not in _COMPUTED]
        raise ArgumentError("by", f"names {','.join(missing)}, no column of the panel; the "
                                  f"columns are {', '.join(meta)} (and decade, from year)")


def profile_estimated(records: Iterable[dict[str, Any]], codebook: Codebook, *,
                      themes: list[str] | None = None, unit: str = "paragraph",
                      estimator: str = "cc", ci: float | None = None,
                      rates: ShareRates | None = None, by: list[str] | None = None,
                      n_draws: int = 400, seed: int = 0) -> list[dict[str, Any]]:
    """:func:`profile_records` with the shares estimated by ``estimator`` (see
    :mod:`policy_nlp.shares`), with ``ci`` intervals, and rows for groups of reports.

    Parameters
    ----------
    estimator : {"cc", "pcc", "acc", "pacc", "emq", "bayesian_cc"}
        ``cc`` gives the counts of :func:`profile_records`; the adjusted ones need ``rates``
        (:meth:`ShareRates.from_card`), and a report uses the rates of its level and era.
        Recorded in every row's ``estimator`` column (after ``unit``).
    ci : float, optional
        The level of the intervals (e.g. 0.95), which need ``rates``: adds ``<share
        column>_lower`` and ``_upper`` beside every share column, and the level as
        ``ci_level`` after ``estimator``. The interval is the
        calibrated posterior of the share careful coders would give (see
        :mod:`policy_nlp.shares`), the same whatever the estimator, widened where needed to
        hold the estimate.
    by : list of str, optional
        Metadata columns (``decade``: from ``year``): adds one row per group of reports after
        the reports' rows, shares weighted by characters (paragraphs for ``para_share``), with
        ``report_id`` naming the group, ``by`` the columns and ``n_reports``. Reports without
        a value (absent, None, blank or NaN: :func:`group_value`) are one group, last, named
        ``year=(missing)`` (:data:`MISSING`), its ``year`` None.
    """
    from . import shares as est

    est.check_estimator(estimator, rates)
    if ci is not None and not 0 < ci < 1:
        raise ArgumentError("ci", f"is {ci}: the interval level must be between 0 and 1, "
                                  "e.g. 0.95")
    if ci is not None and rates is None:
        raise InputError(
            "--ci needs the misclassification rates measured when the model was trained "
            "(report-grouped cross-validation), and this model's card has none (trained "
            "before they were measured, or with --cv-folds 0): retrain it with policy-nlp "
            "train to get intervals")
    themes = list(themes or codebook.ids)
    by = list(by or [])
    if estimator == "cc" and ci is None and not by:  # the counts: nothing to keep
        return profile_records(records, codebook, themes=themes, unit=unit)
    units = _Units(themes)
    rows = [_made_by(row, estimator, ci) for row in
            profile_records(units.watch(records), codebook, themes=themes, unit=unit)]
    if by:
        check_by(rows, by)
        if "decade" in by and not any("decade" in row for row in rows):
            for row in rows:
                row["decade"] = _decade(row.get("year"))
    groups: dict[str, list[int]] = {}
    for t in themes:
        groups.setdefault(codebook.group_of(t), []).append(themes.index(t))
    measures = ("char_share", "para_share")
    point: dict[str, list[np.ndarray]] = {m: [] for m in measures}
    # each report's draws of the truth, and the percentile interval of them to take
    draws: dict[str, list[tuple[np.ndarray, float]]] = {m: [] for m in measures}
    totals: dict[str, list[float]] = {m: [] for m in measures}
    for k, row in enumerate(rows):
        proba_l, chars, paras = units.reports[row["report_id"]]
        proba = np.stack(proba_l).astype(float)
        cell = rates.cell(row.get("level"), row.get("year")) if rates is not None else None
        ws = []
        for measure, weights in zip(measures, (chars, paras), strict=True):
            w = np.asarray(weights, dtype=float)
            if w.sum() <= 0:  # a report of empty paragraphs: share by paragraphs
                w = np.ones(len(w))
            totals[measure].append(float(w.sum()))
            ws.append(w)
        truth = None
        if ci is not None or estimator == "bayesian_cc":
            truth = est.truth_draws(proba, ws, cell, n_draws=n_draws, seed=seed,
                                    report_seed=k)
        for j, measure in enumerate(measures):
            p = est.estimate(estimator, proba, ws[j], cell,
                             draws=None if truth is None else truth[j])
            point[measure].append(p)
            if ci is not None:
                q, scale = cell.calibration(ci)
                draws[measure].append((est.scaled(truth[j], scale), q))
        _set_shares(row, themes, groups, point, draws, ci, -1)
    if not by:
        return rows
    return rows + _group_rows(rows, by, themes, groups, point, draws, totals, ci)


def _made_by(row: dict[str, Any], estimator: str, ci: float | None) -> dict[str, Any]:
    """``row`` saying how its shares are made: ``estimator``, and with intervals their level
    ``ci_level`` right after it (after ``unit``)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value
        if key == "estimator":
            out[key] = estimator
            if ci is not None:
                out["ci_level"] = ci
    return out


def _set_shares(row: dict[str, Any], themes: list[str], groups: dict[str, list[int]],
                point: dict[str, list[np.ndarray]],
                draws: dict[str, list[tuple[np.ndarray, float]]], ci: float | None, k: int
                ) -> None:
    """Write the estimates ``point[m][k]`` (and bounds from ``draws[m][k]``: the draws and
    the percentile interval to take) into ``row``."""
    from .shares import interval

    for measure in ("char_share", "para_share"):
        p = point[measure][k]
        row.update({f"{measure}_{t}": float(p[i]) for i, t in enumerate(themes)})
        row.update({f"{measure}_group_{g}": float(p[ix].sum()) for g, ix in groups.items()})
        if ci is None:
            continue
        d, level = draws[measure][k]
        gd = np.clip(np.stack([d[:, ix].sum(axis=1) for ix in groups.values()], axis=1), 0, 1)
        for names, dd in ((themes, d), ([f"group_{g}" for g in groups], gd)):
            lo, hi = interval(dd, level)
            for i, name in enumerate(names):
                # (a few units' draws are discrete: the interval is widened to hold the
                # estimate where a percentile steps past it)
                value = row[f"{measure}_{name}"]
                row[f"{measure}_{name}_lower"] = min(float(lo[i]), value)
                row[f"{measure}_{name}_upper"] = max(float(hi[i]), value)
    row["top_theme"] = themes[int(np.argmax(point["char_share"][k]))]


def group_value(value: Any) -> Any:
    """A metadata value as a group of reports takes it: ``None`` where it is missing (absent,
    ``None``, a blank string as an empty CSV cell gives it, or NaN as pandas does), so that
    all of these make one group; any other value as it is."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def group_label(value: Any) -> str:
    """A group value as its label names it: :data:`MISSING` where it is missing."""
    value = group_value(value)
    return MISSING if value is None else str(value)


def _group_key(value: Any) -> str:
    """A present group value as text, a whole float as the int it is (1.0 and 1 alike)."""
    return str(int(value) if isinstance(value, float) and value.is_integer() else value)


def _group_rows(rows: list[dict[str, Any]], by: list[str], themes: list[str],
                groups: dict[str, list[int]], point, draws, totals, ci: float | None
                ) -> list[dict[str, Any]]:
    # a group is a value as its label names it: 1 from JSON and '1' from a CSV cell are one
    # group (wave=1), not two of the same name; it keeps the value of its first report
    members: dict[tuple[str | None, ...], list[int]] = {}
    first: dict[tuple[str | None, ...], tuple[Any, ...]] = {}
    for k, row in enumerate(rows):
        values = tuple(group_value(row.get(c)) for c in by)
        key = tuple(None if v is None else _group_key(v) for v in values)
        members.setdefault(key, []).append(k)
        first.setdefault(key, values)
    keys = [k for k in rows[0] if not k.startswith(("char_share_", "para_share_"))]
    out = []
    # in order of the values, a missing one last
    for key, ix in sorted(members.items(), key=lambda kv: [(v is None, v or "") for v in kv[0]]):
        values = first[key]
        row: dict[str, Any] = dict.fromkeys(keys)
        row.update({"report_id": ",".join(f"{c}={MISSING if v is None else v}"
                                          for c, v in zip(by, key, strict=True)),
                    # how the shares are made: as in every report's row
                    **{k: rows[0][k] for k in ("unit", "estimator", "ci_level") if k in rows[0]},
                    "n_reports": len(ix),
                    "n_paragraphs": sum(rows[k]["n_paragraphs"] for k in ix),
                    "n_chars": sum(rows[k]["n_chars"] for k in ix)})
        if "n_sentences" in row:
            row["n_sentences"] = sum(rows[k]["n_sentences"] for k in ix)
        row.update(zip(by, values, strict=True))
        g_point, g_draws = {}, {}
        for m in ("char_share", "para_share"):
            w = np.array([totals[m][k] for k in ix])
            w = w / w.sum()
            g_point[m] = [sum(wi * point[m][k] for wi, k in zip(w, ix, strict=True))]
            if ci is not None:
                g_draws[m] = [(sum(wi * draws[m][k][0] for wi, k in zip(w, ix, strict=True)),
                               max(draws[m][k][1] for k in ix))]
        _set_shares(row, themes, groups, g_point, g_draws, ci, 0)
        out.append(row)
    by_label = ",".join(by)
    for row in rows:
        row["by"], row["n_reports"] = "", 1
    for row in out:
        row["by"] = by_label
    return out


# --- metadata from file names ------------------------------------------------------------------


def compile_name_pattern(pattern: str) -> re.Pattern[str]:
    """A file-name pattern such as ``{region}_{year}.txt`` as a regular expression.

    Each ``{field}`` matches a non-empty run of characters other than ``/`` (``{year}``: four
    digits), everything else itself. The pattern may hold folders (``{level}/{region}/{year}``)
    and is matched against the end of a path, with or without its extension.

    Examples
    --------
    >>> compile_name_pattern("{region}_{year}.txt").pattern
    '(?:^|/)(?P<region>[^/]+?)_(?P<year>\\\\d{4})\\\\.txt$'
    """
    parts = _FIELD.split(pattern)
    names = parts[1::2]
    if not names:
        raise InputError(f"name pattern {pattern!r} has no {{field}}, e.g. {{region}}_{{year}}.txt")
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise InputError(f"name pattern {pattern!r}: {{{bad[0]}}} is not a field name")
    if len(set(names)) != len(names):
        raise InputError(f"name pattern {pattern!r} names a field twice")
    regex = "".join(
        re.escape(part) if k % 2 == 0
        else rf"(?P<{part}>\d{{4}})" if part == "year" else rf"(?P<{part}>[^/]+?)"
        for k, part in enumerate(parts)
    )
    return re.compile(rf"(?:^|/){regex}$")


def fields_from_name(pattern: re.Pattern[str], name: str) -> dict[str, Any] | None:
    """The fields that ``name`` (a path or a record id) gives to a compiled name pattern.

    ``None`` if it does not match, with or without its extension. ``year`` becomes an int.

    Examples
    --------
    >>> fields_from_name(compile_name_pattern("{region}_{year}"), "reports/北京_2026.txt")
    {'region': '北京', 'year': 2026}
    """
    path = Path(name).as_posix()
    m = pattern.search(path) or pattern.search(path.removesuffix(Path(path).suffix))
    if m is None:
        return None
    fields: dict[str, Any] = m.groupdict()
    if "year" in fields:
        fields["year"] = int(fields["year"])
    return fields


# --- documents -> labeled paragraphs -> panel --------------------------------------------------


def _units(documents: Iterable[Document], records: str, name_pattern: str | None,
           on_error: Callable[[InputError], None] | None = None) -> Iterator[Unit]:
    pattern = compile_name_pattern(name_pattern) if name_pattern else None
    names = ReportIds()  # two files with one name (北京/2024.txt, 上海/2024.txt): two reports
    ids = IdMemory()  # a repeated id (a record's, a paragraph's) is reported, as label does
    for doc in documents:
        doc = names.of(doc)
        named: dict[str, Any] = {}
        if pattern is not None:
            name = doc.source if doc.kind == "report" else doc.id
            found = fields_from_name(pattern, name)
            if found is None:
                problem = InputWarning(
                    f"{doc.source}: {name!r} does not match the name pattern {name_pattern!r}; "
                    "its year, region and level are those its text states, if any")
                if on_error is None:
                    raise problem
                on_error(problem)
                found = {}
            named = found
        if named.get("region") is not None:
            from .metadata import level_of, normalize_region

            named["region"] = normalize_region(named["region"], named.get("level"))
            # the level goes with the region: the pattern's, else what the region's name says
            named.setdefault("level", level_of(named["region"]))
        for unit in iter_units([doc], records=records, ids=ids, on_error=on_error):
            unit.fields.update(named)  # a file-name pattern wins over the report's own lines
            yield unit


def iter_labeled(model: ThemeModel, documents: Iterable[Document], *, unit: str = "paragraph",
                 records: str = "auto", name_pattern: str | None = None,
                 on_error: Callable[[InputError], None] | None = None,
                 sentence_scores: bool = False) -> Iterator[dict[str, Any]]:
    """Documents -> labeled paragraphs, whole (``unit="paragraph"``) or sentence by sentence.

    ``records`` is as in :func:`~policy_nlp.predict.iter_units`; ``name_pattern`` (see
    :func:`compile_name_pattern`) adds the fields it finds in each report file's path, or in
    each record's id; a name that does not match it is an :class:`InputWarning`, handed to
    ``on_error`` (the report is kept, with the metadata its text states), or raised without it;
    ``sentence_scores`` gives each sentence its probabilities (for estimated shares). A report
    file whose name an earlier file had (``北京/2024.txt``, ``上海/2024.txt``) gets its path as
    its id, so that the two stay two reports.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    units = _units(documents, records, name_pattern, on_error)
    if unit == "sentence":
        return label_sentences(model, units, paragraph=False, sentence_scores=sentence_scores)
    return label_units(model, units)


def profile_documents(model: ThemeModel, documents: Iterable[Document], *,
                      unit: str = "paragraph", records: str = "auto",
                      name_pattern: str | None = None, estimator: str = "cc",
                      ci: float | None = None, by: list[str] | None = None,
                      on_error: Callable[[InputError], None] | None = None
                      ) -> list[dict[str, Any]]:
    """Documents -> the panel (:func:`profile_estimated` of :func:`iter_labeled`, with the
    rates of the model's card); ``on_error`` as in :func:`iter_labeled`."""
    from .shares import ShareRates

    labeled = iter_labeled(model, documents, unit=unit, records=records,
                           name_pattern=name_pattern, on_error=on_error,
                           sentence_scores=estimator != "cc" or ci is not None)
    return profile_estimated(labeled, model_codebook(model.card, model.themes),
                             themes=model.themes, unit=unit, estimator=estimator, ci=ci,
                             rates=ShareRates.from_card(model.card, model.themes), by=by)
