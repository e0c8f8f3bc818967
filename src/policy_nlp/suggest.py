"""Active learning: which unlabeled paragraphs to code next (``policy-nlp suggest``).

Margin sampling: a paragraph whose two most probable themes are close (small
``p(best) - p(second)``) is one the model cannot decide, and its label teaches it most. Picking
the smallest margins alone fills the sheet with near-copies from one report and one confusing
pair of themes, so the choice is spread out:

* round-robin over the predicted themes: each round takes the most uncertain remaining
  paragraph of every theme in turn, so every theme the model predicts gets its share;
* at most ``per_report`` paragraphs of one report;
* one paragraph per distinct text (whitespace ignored), and none already labeled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArgumentError, InputError


def margins(proba: np.ndarray) -> np.ndarray:
    """``p(best) - p(second)`` of each row."""
    if proba.shape[1] < 2:
        return np.zeros(len(proba))
    top2 = np.sort(proba, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def default_per_report(n: int, n_reports: int) -> int:
    """Twice the even share of ``n`` over the reports, at least 2."""
    return max(2, math.ceil(2 * n / max(n_reports, 1)))


def select(proba: np.ndarray, report_ids: Sequence[str], n: int, *,
           per_report: int | None = None, texts: Sequence[str] | None = None,
           skip: Iterable[int] = ()) -> list[int]:
    """Indices of up to ``n`` rows of ``proba`` to label, in the order chosen.

    Rows in ``skip`` (already labeled) are never chosen; with ``texts``, a text is chosen once.
    """
    if n <= 0:
        return []
    margin = margins(proba)
    guess = proba.argmax(axis=1)
    cap = per_report or default_per_report(n, len(set(report_ids)))
    skipped = set(skip)
    order = sorted((i for i in range(len(proba)) if i not in skipped),
                   key=lambda i: (margin[i], i))
    buckets: dict[int, list[int]] = {}
    for i in order:
        buckets.setdefault(int(guess[i]), []).append(i)
    # themes take turns in the order of their most uncertain paragraph
    queue = [buckets[t] for t in sorted(buckets, key=lambda t: (margin[buckets[t][0]], t))]
    pos = [0] * len(queue)
    per: dict[str, int] = {}
    seen_text: set[str] = set()
    chosen: list[int] = []
    while len(chosen) < n:
        progressed = False
        for q, bucket in enumerate(queue):
            while pos[q] < len(bucket):
                i = bucket[pos[q]]
                pos[q] += 1
                key = "".join(texts[i].split()) if texts is not None else None
                if per.get(report_ids[i], 0) >= cap or (key is not None and key in seen_text):
                    continue
                per[report_ids[i]] = per.get(report_ids[i], 0) + 1
                if key is not None:
                    seen_text.add(key)
                chosen.append(i)
                progressed = True
                break
            if len(chosen) >= n:
                break
        if not progressed:
            break
    return chosen


@dataclass
class PoolItem:
    id: Any
    report_id: str
    text: str


def read_pool(path, *, text_col: str = "text", id_col: str = "id") -> list[PoolItem]:
    """The paragraphs of a pool file in the JSONL contract's input form (or CSV, or report
    files): a record of several lines is split into paragraphs, as ``label`` does."""
    from .predict import iter_units
    from .read import read_documents

    items = []
    for unit in iter_units(read_documents(path, text_col=text_col, id_col=id_col)):
        report = unit.fields.get("report_id") or str(unit.id).split("#")[0]
        items.append(PoolItem(id=unit.id, report_id=str(report), text=unit.text))
    if not items:
        raise InputError(f"{path}: no paragraphs in the pool")
    return items


def suggest(model, pool: list[PoolItem], n: int, *, per_report: int | None = None,
            labeled_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The coding sheet: ``n`` paragraphs of ``pool`` to label next, most useful first.

    Each row: ``rank``, ``id``, ``report_id``, ``text``, the model's ``guess`` (with its
    Chinese name and probability), the runner-up, the ``margin`` between them, and an empty
    ``label`` column for the coder. Filled in, the sheet is a labels table for ``train``.
    """
    from .codebook import model_codebook

    _check_counts(n, per_report)
    labeled = {str(i) for i in labeled_ids}
    skip = [k for k, item in enumerate(pool) if str(item.id) in labeled]
    proba = model.predict_proba([item.text for item in pool])
    chosen = select(proba, [item.report_id for item in pool], n, per_report=per_report,
                    texts=[item.text for item in pool], skip=skip)
    book = model_codebook(model.card, model.themes)
    names = {t.id: t.zh for t in book.themes}
    margin = margins(proba)
    rows = []
    for rank, i in enumerate(chosen, 1):
        order = np.argsort(-proba[i], kind="stable")
        best, second = model.themes[order[0]], model.themes[order[1]]
        item = pool[i]
        rows.append({
            "rank": rank, "id": item.id, "report_id": item.report_id, "text": item.text,
            "guess": best, "guess_zh": names.get(best, ""),
            "probability": round(float(proba[i, order[0]]), 4),
            "second": second, "second_probability": round(float(proba[i, order[1]]), 4),
            "margin": round(float(margin[i]), 4), "label": "",
        })
    return rows


#: the formats of a coding sheet: a table, or an annotation tool's file (and its extension)
SHEET_FORMATS = ("csv", "jsonl", "label-studio", "doccano")
TOOL_EXTENSIONS = {"label-studio": ".json", "doccano": ".jsonl"}


@dataclass
class SuggestResult:
    """What :func:`suggest_to_file` read and wrote."""

    pool: int
    reports: int
    labeled: int
    written: int
    fmt: str


def _check_counts(n: int, per_report: int | None) -> None:
    if n < 1:
        raise ArgumentError("n", f"must be at least 1, not {n}")
    if per_report is not None and per_report < 1:  # -1 gave an empty sheet, exit 0
        raise ArgumentError("per_report", f"must be at least 1, not {per_report}")


def check_sheet_format(output: str | Path, fmt: str | None) -> str:
    """The format of a coding sheet ``output``: ``fmt`` (one of :data:`SHEET_FORMATS`), else
    CSV or JSONL from the name's extension (CSV for ``-`` and a name without one). A tool's
    file must carry its own extension, never a ``.csv`` that holds JSON."""
    from .write import format_for_path

    if fmt is not None and fmt not in SHEET_FORMATS:
        raise ArgumentError("fmt", f"must be one of {', '.join(SHEET_FORMATS)}, not {fmt!r}")
    wanted = TOOL_EXTENSIONS.get(fmt or "")
    if wanted is None:
        return format_for_path(output, "csv", given=fmt)
    if str(output) != "-" and Path(output).suffix.lower() != wanted:
        raise InputError(f"{output}: --format {fmt} writes {wanted[1:]}; name the output "
                         f"OUT{wanted}")
    return fmt


def suggest_to_file(model, pool: str | Path, output: str | Path, n: int, *,
                    fmt: str | None = None, per_report: int | None = None,
                    labeled: Iterable[str | Path] = (), text_col: str = "text",
                    id_col: str = "id", log: Any = None) -> SuggestResult:
    """``policy-nlp suggest``: read the ``pool``, skip the ids of the ``labeled`` files, and
    write the :func:`suggest` sheet of ``n`` paragraphs to ``output`` (``-``: standard output)
    as CSV (with a byte-order mark, for spreadsheets) or JSONL, or as Label Studio tasks or
    doccano JSONL (``fmt``, see :func:`check_sheet_format`), atomically. ``model`` is a loaded
    model, or a directory or shipped model's name to load once the arguments are checked.
    ``log`` gets a line on the pool before the work."""
    from .labels import label_file_ids
    from .model import ThemeModel, load_model
    from .write import atomic_output, check_output_file, refuse_a_coded_sheet, write_table

    _check_counts(n, per_report)
    fmt = check_sheet_format(output, fmt)
    labeled = list(labeled)
    check_output_file(output, [pool, *labeled])
    refuse_a_coded_sheet(output)
    m = model if isinstance(model, ThemeModel) else load_model(model)
    items = read_pool(pool, text_col=text_col, id_col=id_col)
    done: set[str] = set()
    for path in labeled:
        done |= label_file_ids(path, id_col=id_col)
    reports = len({i.report_id for i in items})
    if log is not None:
        log(f"{len(items)} paragraphs of {reports} reports in the pool"
            + (f", {len(done)} ids already labeled" if done else ""))
    rows = suggest(m, items, n, per_report=per_report, labeled_ids=done)
    if fmt in TOOL_EXTENSIONS:
        from .annotate import write_sheet

        with atomic_output(output) as out:
            written = write_sheet(rows, out, fmt,
                                  model_version=str(m.card.get("name")
                                                    or (None if m is model else model)
                                                    or "default"))
    else:
        written = write_table(rows, output, fmt, sheet=True)
    return SuggestResult(pool=len(items), reports=reports, labeled=len(done), written=written,
                         fmt=fmt)
