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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codebook import Codebook, model_codebook
from .errors import InputError, InputWarning
from .predict import Unit, iter_units, label_sentences, label_units

if TYPE_CHECKING:  # pragma: no cover
    from .model import ThemeModel
    from .read import Document

__all__ = [
    "META_FIELDS",
    "UNITS",
    "compile_name_pattern",
    "fields_from_name",
    "iter_labeled",
    "long_panel",
    "paragraph_shares",
    "profile_documents",
    "profile_records",
    "record_meta",
]

#: The metadata columns every panel has, in this order (empty where unknown).
META_FIELDS = ("level", "region", "year")
#: What a theme is attributed to: whole paragraphs, or each sentence.
UNITS = ("paragraph", "sentence")
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
    __slots__ = ("chars", "meta", "n_chars", "n_paragraphs", "n_sentences", "paras")

    def __init__(self, meta: dict[str, Any], n_themes: int):
        self.meta = meta
        self.n_paragraphs = self.n_chars = self.n_sentences = 0
        self.chars = [0.0] * n_themes
        self.paras = [0.0] * n_themes


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    """The scalar fields of a labeled record that may be its report's metadata."""
    meta = {k: v for k, v in record.items()
            if k not in _RECORD_FIELDS and (v is None or isinstance(v, str | int | float | bool))}
    year = meta.get("year")
    if isinstance(year, str) and year.strip().isdigit():
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
        lacks one), ``unit``,
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
        if report is None:
            report = reports[rid] = _Report(_meta(rec), len(themes))
        elif report.meta:
            meta = _meta(rec)
            report.meta = {k: v for k, v in report.meta.items() if k in meta and meta[k] == v}
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
        row.update({k: r.meta.get(k) for k in META_FIELDS})
        row.update({k: r.meta.get(k) for k in extra})
        chars = [c / r.n_chars for c in r.chars] if r.n_chars else [
            p / r.n_paragraphs for p in r.paras]
        paras = [p / r.n_paragraphs for p in r.paras]
        row.update({"unit": unit, "n_paragraphs": r.n_paragraphs, "n_chars": r.n_chars})
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
                        "zh": codebook.theme(t).zh, "char_share": row[f"char_share_{t}"],
                        "para_share": row[f"para_share_{t}"]})
        for g, names in codebook.groups.items():
            if f"char_share_group_{g}" in row:
                out.append({**base, "kind": "group", "theme": g, "group": g,
                            "zh": names.get("zh", g), "char_share": row[f"char_share_group_{g}"],
                            "para_share": row[f"para_share_group_{g}"]})
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
    files: dict[str, str] = {}  # report id -> the file that has it
    for doc in documents:
        if doc.kind == "report" and files.setdefault(doc.id, doc.source) != doc.source:
            # two files with one name (北京/2024.txt, 上海/2024.txt) stay two reports
            doc = replace(doc, id=Path(doc.source).as_posix())
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
        for unit in iter_units([doc], records=records):
            unit.fields.update(named)  # a file-name pattern wins over the report's own lines
            yield unit


def iter_labeled(model: ThemeModel, documents: Iterable[Document], *, unit: str = "paragraph",
                 records: str = "auto", name_pattern: str | None = None,
                 on_error: Callable[[InputError], None] | None = None
                 ) -> Iterator[dict[str, Any]]:
    """Documents -> labeled paragraphs, whole (``unit="paragraph"``) or sentence by sentence.

    ``records`` is as in :func:`~policy_nlp.predict.iter_units`; ``name_pattern`` (see
    :func:`compile_name_pattern`) adds the fields it finds in each report file's path, or in
    each record's id; a name that does not match it is an :class:`InputWarning`, handed to
    ``on_error`` (the report is kept, with the metadata its text states), or raised without it. A report
    file whose name an earlier file had (``北京/2024.txt``, ``上海/2024.txt``) gets its path as
    its id, so that the two stay two reports.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    units = _units(documents, records, name_pattern, on_error)
    if unit == "sentence":
        return label_sentences(model, units, paragraph=False)
    return label_units(model, units)


def profile_documents(model: ThemeModel, documents: Iterable[Document], *,
                      unit: str = "paragraph", records: str = "auto",
                      name_pattern: str | None = None) -> list[dict[str, Any]]:
    """Documents -> the panel (:func:`profile_records` of :func:`iter_labeled`)."""
    labeled = iter_labeled(model, documents, unit=unit, records=records,
                           name_pattern=name_pattern)
    return profile_records(labeled, model_codebook(model.card, model.themes),
                           themes=model.themes, unit=unit)
