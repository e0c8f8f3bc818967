"""The codings of several coders, for agreement: each file one coder, unless it names its
coders (a ``coder`` column, a Label Studio export's annotators)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..codebook import Codebook, load_codebook
from ..errors import InputError
from ..read.records import table_rows
from .columns import (DEFAULT_COLUMNS, LabelSource, defaults_dropped, resolve_columns,
                      single_label, theme_id)
from .data import Collector

__all__ = ["CoderLabels", "load_coder_labels"]


@dataclass
class CoderLabels:
    """The coders' primary themes, for agreement: coder -> {id: theme}; texts by id where a
    file has them; the rows skipped for a blank label."""

    coders: dict[str, dict[str, str]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    blank: list[str] = field(default_factory=list)


def load_coder_labels(sources, *, columns: dict[str, str] | None = None,
                      codebook: Codebook | None = None, blank: str = "skip") -> CoderLabels:
    """The codings of each coder in ``sources`` (as for :func:`load_labels`), each file one
    coder (named by the file) unless it names its coders: a ``coder`` column (long format) or
    a Label Studio export's annotators (``FILE/annotator``).

    Errors (:class:`InputError`, all listed at once): themes not in the codebook, one coder
    giving one id two themes, and (``blank="error"``) blank labels."""
    codebook = codebook or load_codebook()
    specs = [LabelSource.parse(s) for s in sources]
    stems = Counter(s.path.stem for s in specs)
    out = CoderLabels()
    where: dict[tuple[str, str], str] = {}
    unknown: dict[str, list[str]] = {}
    errors: list[str] = []
    for spec in specs:
        name = spec.path.stem if stems[spec.path.stem] == 1 else str(spec.path)
        for place, pid, coder, label, text in _codings(spec, columns or {}):
            if text and pid not in out.texts:
                out.texts[pid] = text
            if not label:
                if blank == "error":
                    errors.append(f"{place}: empty label")
                out.blank.append(place)
                continue
            theme = theme_id(label, codebook)
            if theme not in codebook.ids:
                unknown.setdefault(label, []).append(place)
                continue
            who = f"{name}/{coder}" if coder else name
            known = out.coders.setdefault(who, {})
            if known.get(pid, theme) != theme:
                errors.append(f"{place}: coder {who} gives id {pid!r} {theme!r}, and "
                              f"{known[pid]!r} at {where[who, pid]}")
            known.setdefault(pid, theme)
            where.setdefault((who, pid), place)
    if unknown:
        listed = "; ".join(f"{lbl!r} ({len(w)}x, first at {w[0]})"
                           for lbl, w in sorted(unknown.items()))
        errors.insert(0, f"choices that are not themes of the codebook {codebook.name!r}: "
                         f"{listed}; its themes are {', '.join(codebook.ids)}")
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InputError("; ".join(errors[:5]) + more)
    return out


def _codings(spec: LabelSource, columns: dict[str, str]):
    """(where, id, coder, label, text) of each coding in one file ("" coder: the file's)."""
    from ..annotate import PRIMARY, annotations_from_export, is_label_studio_records

    named = {**defaults_dropped(columns), **spec.columns}
    rows = list(table_rows(spec.path, what="labels", sheet=True))
    if not rows:
        raise InputError(f"{spec.path}: no rows")
    if is_label_studio_records([rows[0][1]]):
        anns = annotations_from_export([r for _, r in rows], str(spec.path),
                                       primary=named.get("label", PRIMARY))
        for a in anns:
            yield f"{a.where}", a.id, a.coder, a.label or "", a.text or ""
        return
    cols = resolve_columns(rows[0][1], named)
    for role in ("id", "label"):
        if cols[role] is None or cols[role] not in rows[0][1]:
            want = named.get(role, DEFAULT_COLUMNS[role])
            raise InputError(f"{spec.path}: no {role} column {want!r}; found "
                             f"{', '.join(map(repr, rows[0][1]))} (name it: "
                             f"{spec.path}:{role}=COLUMN)")
    bad = Collector(strict=True)
    for num, row in rows:
        place = f"{spec.path}:{num}"
        label = single_label(row.get(cols["label"]), place, bad)
        pid = row.get(cols["id"])
        if pid in (None, ""):
            raise InputError(f"{place}: no id: agreement joins the coders by id")
        coder = row.get(cols["coder"]) if cols["coder"] else ""
        text = row.get(cols["text"]) if cols["text"] else ""
        yield place, str(pid), str(coder or ""), (label or "").strip(), (
            text if isinstance(text, str) else "")
