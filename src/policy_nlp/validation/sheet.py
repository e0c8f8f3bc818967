"""Reading the coded sheet: the rows of a ``validation-sample`` sheet that people filled in
(:func:`read_coded_sheet`), checked and kept with their design (:class:`CodedSheet`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from ..codebook import Codebook


@dataclass
class CodedSheet:
    """The coded rows of a sheet: id, the coder's label, the stratum; the strata's sizes."""

    ids: list[str]
    labels: list[str]
    strata: list[str]
    sizes: dict[str, int]
    field: str | None
    blank: int  # rows whose label was left empty (left out)
    source: str = ""

    def coded(self) -> dict[str, int]:
        """n_h: the coded rows of each stratum (blank rows are left out of the design)."""
        out = {h: 0 for h in self.sizes}
        for h in self.strata:
            out[h] += 1
        return out

    def weights(self) -> np.ndarray:
        """1 / pi of each coded row, pi = coded rows / size of its stratum."""
        n = self.coded()
        return np.array([self.sizes[h] / n[h] for h in self.strata])


def read_coded_sheet(path: str | Path, themes: Sequence[str], *, label_col: str = "label",
                     id_col: str = "id", codebook: Codebook | None = None) -> CodedSheet:
    """A coding sheet of ``validation-sample``, filled in (CSV or XLSX).

    A label is a theme id, or (with ``codebook``) a theme's Chinese name or a tool's
    ``中文名 English (id)``, as every reader of labels takes them (:func:`labels.theme_id`).

    A blank label is left out and counted (``blank``); a label that is not a theme, a sheet
    without the design columns, an id given twice, a stratum with more rows than were drawn
    from it (``stratum_sample``), or a sheet with no coded row is an :class:`InputError`
    naming the rows.
    """
    from ..labels import theme_id
    from ..read import table_rows

    path = Path(path)
    ids: list[str] = []
    labels: list[str] = []
    strata: list[str] = []
    sizes: dict[str, int] = {}
    fields: set[str] = set()
    unknown: dict[str, list[int]] = {}
    seen: dict[str, int] = {}
    drawn: dict[str, int] = {}  # stratum_sample of each stratum, where the sheet has it
    rows_of: dict[str, int] = {}  # the sheet's rows of each stratum, blank or coded
    blank = 0
    known = set(themes)
    # (a CSV sheet quotes a cell that starts as a formula would, '=…: read back without)
    for rownum, row in table_rows(path, sheet=True):
        missing = [c for c in (id_col, label_col, "stratum", "stratum_size") if c not in row]
        if missing:
            raise InputError(f"{path}: no column {', '.join(map(repr, missing))}; a sheet of "
                             "policy-nlp validation-sample has id, stratum, stratum_size and "
                             "label")
        label = str(row[label_col] or "").strip()
        pid = str(row[id_col] or "").strip()
        if not pid:
            raise InputError(f"{path}:{rownum}: no id")
        if pid in seen:
            raise InputError(f"{path}:{rownum}: id {pid!r} is given twice (first at line "
                             f"{seen[pid]})")
        seen[pid] = rownum
        stratum = str(row["stratum"] or "").strip() or "all"
        size = _count(row, "stratum_size", path, rownum)
        if sizes.setdefault(stratum, size) != size:
            raise InputError(f"{path}:{rownum}: stratum {stratum!r} has size {size} here but "
                             f"{sizes[stratum]} above")
        rows_of[stratum] = rows_of.get(stratum, 0) + 1
        if str(row.get("stratum_sample") or "").strip():
            n_drawn = _count(row, "stratum_sample", path, rownum)
            if drawn.setdefault(stratum, n_drawn) != n_drawn:
                raise InputError(f"{path}:{rownum}: stratum {stratum!r} has stratum_sample "
                                 f"{n_drawn} here but {drawn[stratum]} above (two samples in "
                                 "one sheet?)")
        fields.add(str(row.get("stratum_field") or "").strip())
        if not label:
            blank += 1
            continue
        if label not in known and codebook is not None:
            label = theme_id(label, codebook)
        if label not in known:
            unknown.setdefault(str(row[label_col]).strip(), []).append(rownum)
            continue
        ids.append(pid)
        labels.append(label)
        strata.append(stratum)
    if unknown:
        # file lines, as FILE:LINE everywhere (the sheet's own `row` column is one less)
        listed = "; ".join(f"{lbl!r} (lines {', '.join(map(str, rows[:10]))}"
                           f"{' …' if len(rows) > 10 else ''})" for lbl, rows in unknown.items())
        raise InputError(f"{path}: labels that are not themes of the model: {listed}; the "
                         f"themes are {', '.join(themes)}")
    if not ids:
        raise InputError(f"{path}: no coded rows (every label cell is empty"
                         f"{'' if blank else ', or the sheet has no rows'}); fill in the "
                         "'label' column")
    if len(fields) > 1:
        raise InputError(f"{path}: the rows name different stratum fields: "
                         f"{', '.join(sorted(fields))}")
    for h, n_drawn in drawn.items():
        if rows_of[h] > n_drawn:
            raise InputError(f"{path}: stratum {h!r} has {rows_of[h]} rows but {n_drawn} were "
                             "drawn (stratum_sample); paragraphs added to a sample are no "
                             "random sample of it: code the rows drawn (validation-sample "
                             "draws a larger sample with a larger -n)")
    sheet = CodedSheet(ids=ids, labels=labels, strata=strata, sizes=sizes,
                       field=next(iter(fields)) or None, blank=blank, source=str(path))
    for h, n_h in sheet.coded().items():
        if n_h == 0:
            raise InputError(f"{path}: stratum {h!r} has no coded row; code at least two of "
                             "its paragraphs")
        if n_h == 1 and sizes[h] > 1:
            raise InputError(f"{path}: stratum {h!r} has one coded row; its variance needs at "
                             "least two")
        if n_h > sizes[h]:
            raise InputError(f"{path}: stratum {h!r} has {n_h} coded rows but size "
                             f"{sizes[h]}")
    return sheet


def _count(row: dict, column: str, path: Path, rownum: int) -> int:
    """A design count of the sheet (``stratum_size``, ``stratum_sample``): a whole number from
    1 up (``12`` or, as a spreadsheet may give it, ``12.0``)."""
    cell = row[column]
    try:
        value = float(cell)
    except (TypeError, ValueError):
        value = float("nan")
    if not (value >= 1 and value.is_integer() and value < 2**53):
        raise InputError(f"{path}:{rownum}: {column} {str(cell).strip()!r} is not a whole "
                         "number from 1 up")
    return int(value)
