"""Stata files of panels: variable names Stata accepts and variable labels with the themes'
Chinese names (``profile -o panel.dta``, through :func:`policy_nlp.write.write_panel`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook

__all__ = ["stata_label", "stata_names", "write_dta"]

#: Descriptions of the panel's fixed columns, the variable labels of a Stata file.
_COLUMN_LABELS = {
    "report_id": "report", "level": "government level", "region": "region", "year": "year",
    "unit": "unit themes were attributed to",
    "estimator": "how the shares were estimated: cc, pcc, acc, pacc, emq, bayesian_cc, ppi++",
    "ci_level": "level of the intervals (the _lower and _upper bounds)",
    "n_paragraphs": "paragraphs",
    "n_chars": "characters", "n_sentences": "sentences", "n_reports": "reports",
    "n_coded": "coded paragraphs", "top_theme": "theme with the largest character share",
    "kind": "theme or group", "theme": "theme (or group) id", "group": "theme group",
    "zh": "name in Chinese", "by": "grouping fields", "decade": "decade (from year)",
    "char_share": "share of characters",
    "para_share": "share of paragraphs",
}
#: ``group`` outside a long panel (no ``kind``): the corrected shares of ``--validation``.
_GROUP_OF_REPORTS = "group of reports (its value of the by fields)"
_MEASURES = {"char_share": "characters", "para_share": "paragraphs"}
_SUFFIXES = {"lower": "lower bound", "upper": "upper bound", "se": "standard error",
             "lambda": "PPI weight lambda", "predicted": "classify and count",
             "coded": "coded sample alone", "coded_lower": "coded sample, lower",
             "coded_upper": "coded sample, upper"}
# abbreviations of the families of names, where one is longer than Stata's 32 characters
_SHORT = (("char_share_group_", "csg_"), ("para_share_group_", "psg_"),
          ("char_share_", "cs_"), ("para_share_", "ps_"))


def stata_names(columns: Iterable[str]) -> dict[str, str]:
    """Stata variable names for ``columns``: each itself when it is one (at most 32
    characters: ASCII letters, digits and ``_``, or Unicode letters such as Chinese, not
    starting with a digit). Where a name of a family ``char_share_group_…``,
    ``para_share_group_…``, ``char_share_…``, ``para_share_…`` is longer, the whole family is
    shortened alike, to ``csg_…``, ``psg_…``, ``cs_…``, ``ps_…``; other characters become
    ``_``, a name still too long is cut, and a name taken twice gets ``_2``, ``_3`` ….

    Examples
    --------
    >>> stata_names(["char_share_group_economic", "char_share_group_construction_ecology"])
    {'char_share_group_economic': 'csg_economic', 'char_share_group_construction_ecology': \
'csg_construction_ecology'}
    """
    columns = list(columns)
    family: dict[str, str] = {}
    for column in columns:
        family[column] = next((long for long, _ in _SHORT if column.startswith(long)), "")
    too_long = {family[c] for c in columns if len(c) > 32 and family[c]}
    short = dict(_SHORT)
    taken: set[str] = set()
    out = {}
    for column in columns:
        name = column
        if family[column] in too_long:
            name = short[family[column]] + column[len(family[column]):]
        name = "".join(c if (c.isascii() and (c.isalnum() or c == "_"))
                       or (ord(c) >= 192 and c not in "\u00d7\u00f7") else "_" for c in name)
        if not name or name[0].isdigit():
            name = "_" + name
        name = name[:32]
        base, k = name, 1
        while name in taken:
            k += 1
            name = f"{base[:32 - len(str(k)) - 1]}_{k}"
        taken.add(name)
        out[column] = name
    return out


def stata_label(column: str, codebook: Codebook | None) -> str:
    """A variable label (at most 80 characters): what the column holds, with the Chinese
    name of its theme or group (``char_share_economy`` -> ``经济发展 economy: share of
    characters``)."""
    names: dict[str, str] = {}
    if codebook is not None:
        names.update({g: info.get("zh", g) for g, info in codebook.groups.items()})
        names.update({t.id: t.zh for t in codebook.themes})
    label = _COLUMN_LABELS.get(column, "")
    for measure, what in _MEASURES.items():
        if not column.startswith(measure):
            continue
        rest = column[len(measure):].lstrip("_")
        suffix = next((s for s in sorted(_SUFFIXES, key=len, reverse=True)
                       if rest == s or rest.endswith("_" + s)), None)
        subject = rest[: len(rest) - len(suffix)].rstrip("_") if suffix else rest
        is_group = subject.startswith("group_") and subject[6:] in names
        key = subject[6:] if is_group else subject
        head = f"{names.get(key, '')} {key}".strip() if key else ""
        label = (f"{head}: " if head else "") + f"share of {what}" + (
            f", {_SUFFIXES[suffix]}" if suffix else "") + (" (group)" if is_group else "")
    return label[:80]


def write_dta(rows: list[dict[str, Any]], path: str | Path,
              codebook: Codebook | None = None) -> None:
    """Rows as a Stata 14+ file (format 118: Unicode strings and labels) with a variable
    label on every column (:func:`stata_label`); names made valid by :func:`stata_name`.
    Missing strings are empty, missing numbers Stata's missing value, booleans 0/1."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    rename = stata_names(str(c) for c in frame.columns)
    labels = {}
    for column in frame.columns:
        values = frame[column]
        present = values.dropna()
        if values.dtype == object:
            if present.map(lambda v: isinstance(v, bool)).all() and len(present):
                frame[column] = values.map(lambda v: None if v is None else int(v)).astype(
                    "float64" if values.isna().any() else "int8")
            elif present.map(lambda v: isinstance(v, int | float)
                             and not isinstance(v, bool)).all() and len(present):
                frame[column] = pd.to_numeric(values)
            else:
                frame[column] = values.map(lambda v: "" if v is None or v != v else str(v))
        elif values.dtype == bool:
            frame[column] = values.astype("int8")
        label = stata_label(str(column), codebook)
        if column == "group" and "kind" not in frame.columns:
            label = _GROUP_OF_REPORTS
        if rename[column] != column:  # the name it has elsewhere first
            label = f"{column}: {label}" if label else str(column)
        labels[rename[column]] = label[:80]
    frame = frame.rename(columns=rename)
    wide = [c for c in frame.columns if frame[c].dtype == object
            and frame[c].map(lambda v: len(v.encode("utf-8"))).max() > 2045]
    frame.to_stata(path, write_index=False, version=118, variable_labels=labels,
                   convert_strl=wide)
