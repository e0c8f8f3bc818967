"""Loading labeled paragraphs: the shared labels joined to their paragraphs
(:func:`load_joined`), one table (:func:`load_table`: CSV, JSONL, JSON, XLSX, a Label Studio
export, doccano JSONL), several merged by id (:func:`load_labels`).

Every file is read by the one reader of tables (:mod:`policy_nlp.read.records`), so a row is
named ``FILE:LINE`` here as in every command. A row whose label is blank (a sheet coded in
part) is skipped and counted, not an error (unless ``blank="error"``); nothing is silently
dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ..codebook import Codebook, load_codebook
from ..era import parse_year
from ..errors import InputError
from ..read.records import check_file, jsonl_rows, table_rows
from .columns import (DEFAULT_COLUMNS, LabelSource, defaults_dropped, parse_secondary,
                      resolve_columns, single_label, theme_id, theme_problem)
from .data import Collector, LabeledData, file_sha256

__all__ = ["label_file_ids", "load_joined", "load_labels", "load_table", "paragraph_texts"]


def _task_rows(path: Path, records: list[dict], columns: dict[str, str],
               bad: Collector, codebook: Codebook) -> Iterator[tuple[str, dict]]:
    """One labels row per paragraph of a Label Studio export (its ``paragraph_id``, else the
    task's id or number): the majority of its annotators' primary themes (a tie is a
    ``no_majority`` error); the secondary themes more than half of that majority chose. The
    annotations of a paragraph are taken together whatever task and row they come in: a task
    may lack its number (coded outside Label Studio), a flat export gives a row per
    annotation."""
    from ..annotate import PRIMARY, SECONDARY, annotations_from_export

    label_name = columns.get("label", PRIMARY)
    anns = annotations_from_export(records, str(path), primary=label_name,
                                   secondary=columns.get("secondary", SECONDARY),
                                   text_key=columns.get("text", "text"))
    by_task: dict[str, list] = {}
    for ann in anns:
        by_task.setdefault(ann.id, []).append(ann)
    for task_anns in by_task.values():
        first = task_anns[0]
        coded = [a for a in task_anns if a.label]
        votes = Counter(theme_id(a.label, codebook) for a in coded)
        label = ""
        if votes:
            (top, n), *rest = votes.most_common()
            if rest and rest[0][1] == n:
                who = ", ".join(f"{a.coder or '?'} ({a.label})" for a in coded)
                bad.error("no_majority", f"{first.where} (id {first.id!r}): its annotators "
                          f"disagree with no majority: {who}; adjudicate it in the tool or "
                          "drop the task")
                continue
            label = top
            chose = [a for a in coded if theme_id(a.label, codebook) == top]
            counts = Counter(theme_id(s, codebook) for a in chose for s in set(a.secondary))
            secondary = [t for t, k in counts.items() if 2 * k > len(chose)]
        row = {**first.fields, "text": first.text, "label": label, "id": first.id}
        if label:
            row["secondary"] = secondary
        yield first.where, row


def _paragraphs(path: Path) -> dict[str, dict]:
    check_file(path)
    out: dict[str, dict] = {}
    for lineno, _, row in jsonl_rows(path):
        if "id" not in row or not isinstance(row.get("text"), str):
            raise InputError(f"{path}:{lineno}: a paragraph needs 'id' and 'text'")
        out[str(row["id"])] = row
    return out


def paragraph_texts(path: str | Path) -> dict[str, str]:
    """id -> text of a paragraphs JSONL file (``id``, ``text``)."""
    path = Path(path)
    return {pid: row["text"] for pid, row in _paragraphs(path).items()}


def _sample(value) -> str | None:
    """The ``sample`` field of a label (how the row was chosen), None where absent or empty."""
    if value is None:
        return None
    return str(value).strip() or None


def load_joined(labels_path: str | Path, paragraphs_path: str | Path, *,
                codebook: Codebook | None = None, strict: bool = True,
                blank: str = "skip") -> LabeledData:
    """Shared-style labels joined by ``id`` to a paragraphs JSONL file.

    ``strict``: stop at the first bad row; else bad rows are left out and listed in
    ``problems`` (see :func:`validate`). ``blank``: as for :func:`load_table`."""
    bad = Collector(strict)
    codebook = codebook or load_codebook()
    labels_path, paragraphs_path = Path(labels_path), Path(paragraphs_path)
    check_file(labels_path)
    check_file(paragraphs_path)
    paragraphs = _paragraphs(paragraphs_path)
    data = LabeledData(files={labels_path.name: file_sha256(labels_path),
                              paragraphs_path.name: file_sha256(paragraphs_path)})
    seen: set[str] = set()
    for lineno, _, row in jsonl_rows(labels_path):
        where = f"{labels_path}:{lineno}"
        pid, label = row.get("id"), row.get("label")
        if pid is None or "label" not in row or not isinstance(label, str | None):
            raise InputError(f"{where}: a label record needs 'id' and 'label'")
        pid = str(pid)
        if not (label or "").strip():
            if blank == "skip":
                data.blank.append(where)
            else:
                bad.error("empty_label", f"{where}: empty label (fill it in or delete the row)")
            continue
        if pid in seen:
            bad.error("duplicate_id", f"{where}: id {pid!r} is labeled twice")
            continue
        seen.add(pid)
        para = paragraphs.get(pid)
        if para is None:
            bad.error("unknown_id", f"{where}: id {pid!r} is not in {paragraphs_path}")
            continue
        secondary = parse_secondary(row.get("secondary"), where)
        unknown = theme_problem([label, *secondary], codebook, where)
        if unknown:
            bad.error("unknown_theme", unknown)
            continue
        text = para["text"]
        if not text.strip():
            bad.error("empty_text", f"{where}: paragraph {pid!r} has empty text")
            continue
        try:
            year = parse_year(para.get("year"))
        except ValueError as exc:
            bad.error("bad_year", f"{where}: paragraph {pid!r}: {exc}")
            continue
        data.add(id=pid, text=text, label=label, secondary=secondary,
                 group=str(para.get("report_id") or pid.split("#")[0]),
                 level=para.get("level"), section=list(para.get("section") or []),
                 year=year, sample=_sample(row.get("sample")), where=where)
    data.problems = bad.problems
    return data


def load_table(path: str | Path, *, text_col: str = "text", label_col: str = "label",
               id_col: str = "id", group_col: str = "report_id",
               secondary_col: str = "secondary", level_col: str = "level",
               year_col: str = "year", sample_col: str = "sample",
               columns: dict[str, str] | None = None,
               codebook: Codebook | None = None, strict: bool = True,
               blank: str = "skip") -> LabeledData:
    """Labeled paragraphs from one CSV, JSONL or XLSX table (the first worksheet), a Label
    Studio export (JSON, JSON-MIN or CSV; a task's label is its annotators' majority) or
    doccano JSONL.

    Columns: ``columns`` (role -> name, see :data:`COLUMN_NAMES`) and the ``*_col``
    arguments name them; a role whose name is left at its default is found among
    :data:`COLUMN_NAMES` (so ``id`` is ``paragraph_id`` where a file has it).

    ``blank``: a row whose label is blank is skipped and listed in ``blank`` (``"skip"``), or
    an ``empty_label`` error (``"error"``). ``strict``: stop at the first bad row; else bad
    rows are left out and listed in ``problems`` (see :func:`validate`).

    ``group_col`` names the report each paragraph belongs to, so that cross-validation splits
    by report; without it each id's part before ``#`` is used, else each row is its own group.
    ``level_col``, ``year_col`` (four digits) and ``sample_col``, where the table has them,
    give the metrics by level, by era and by sample.
    """
    if blank not in ("skip", "error"):
        raise ValueError(f"blank must be 'skip' or 'error', not {blank!r}")
    bad = Collector(strict)
    codebook = codebook or load_codebook()
    path = Path(path)
    named = defaults_dropped({"text": text_col, "label": label_col, "id": id_col,
                               "group": group_col, "secondary": secondary_col,
                               "level": level_col})
    named.update(columns or {})
    check_file(path)
    data = LabeledData(files={path.name: file_sha256(path)})  # (refuses a file over the limit)
    groupings: set[str] = set()
    seen: dict[str, str] = {}
    for where, row, cols in _label_rows(path, named, bad, codebook):
        text_c, label_c, id_c = cols["text"], cols["label"], cols["id"]
        if text_c not in row or label_c not in row:
            missing = [named.get(r, DEFAULT_COLUMNS[r]) for r, c in (("text", text_c),
                                                                     ("label", label_c))
                       if c not in row]
            raise InputError(
                f"{where}: no column {', '.join(map(repr, missing))}; found "
                f"{', '.join(map(repr, row))} (name it: --text-col/--label-col, or "
                "--labels FILE:text=COLUMN,label=COLUMN)"
            )
        text = row[text_c]
        label = single_label(row[label_c], where, bad)
        if label is None:
            continue
        if not label.strip() and blank == "skip":
            data.blank.append(where)
            continue
        if not isinstance(text, str) or not text.strip():
            bad.error("empty_text", f"{where}: empty text")
            continue
        if not label.strip():
            bad.error("empty_label", f"{where}: empty label (fill it in or delete the row)")
            continue
        label = theme_id(label.strip(), codebook)
        secondary = [theme_id(s, codebook)
                     for s in parse_secondary(row.get(cols["secondary"]), where)]
        unknown = theme_problem([label, *secondary], codebook, where)
        if unknown:
            bad.error("unknown_theme", unknown)
            continue
        pid = str(row.get(id_c) or f"{path.stem}:{where.rsplit(':', 1)[1].strip()}")
        if pid in seen:
            bad.error("duplicate_id", f"{where}: id {pid!r} is labeled twice (first at "
                                      f"{seen[pid]})")
            continue
        try:
            year = parse_year(row.get(year_col))
        except ValueError as exc:
            bad.error("bad_year", f"{where}: column {year_col!r}: {exc}")
            continue
        seen[pid] = where
        if row.get(cols["group"]):
            group, grouping = row[cols["group"]], "report"
        elif "#" in pid:
            group, grouping = pid.split("#")[0], "id prefix"
        else:
            group, grouping = pid, "row"
        groupings.add(grouping)
        data.add(id=pid, text=text, label=label, secondary=secondary, group=str(group),
                 level=row.get(cols["level"]) or None, year=year,
                 sample=_sample(row.get(sample_col)), where=where)
    data.problems = bad.problems
    # the weakest grouping any row had is what cross-validation can promise
    data.grouping = next((g for g in ("row", "id prefix", "report") if g in groupings), "report")
    if not len(data) and not data.problems:
        more = f" ({len(data.blank)} rows with a blank label)" if data.blank else ""
        raise InputError(f"{path}: no labeled rows{more}")
    return data


def _label_rows(path: Path, named: dict[str, str], bad: Collector, codebook: Codebook
                ) -> Iterator[tuple[str, dict, dict[str, str | None]]]:
    """(where, row, columns) of a labels file: a table's rows, or a Label Studio export's
    tasks (see :func:`_task_rows`)."""
    from ..annotate import is_label_studio_records

    rows = table_rows(path, what="labels", sheet=True)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path}: no rows")
    if is_label_studio_records([first[1]]):
        records = [first[1]] + [r for _, r in rows]
        for where, row in _task_rows(path, records, named, bad, codebook):
            yield where, row, {**resolve_columns(row, {}), "text": "text", "label": "label",
                               "id": "id", "secondary": "secondary"}
        return
    cols = resolve_columns(first[1], named)
    cols = {r: (c if c is not None else DEFAULT_COLUMNS[r]) for r, c in cols.items()}
    yield f"{path}:{first[0]}", first[1], cols
    for num, row in rows:
        yield f"{path}:{num}", row, cols


def load_labels(sources, *, paragraphs: str | Path | None = None,
                columns: dict[str, str] | None = None, codebook: Codebook | None = None,
                strict: bool = True, blank: str = "skip",
                prefer: str | None = None) -> LabeledData:
    """Labeled paragraphs from one or more files (``sources``: paths, ``FILE:role=column,…``
    strings or :class:`LabelSource`), merged in order.

    Each file is read by :func:`load_joined` (with ``paragraphs``: JSONL joined by id) or
    :func:`load_table` with its own columns over the shared ``columns``. An id in two files
    with the same theme is kept once (the first); with different themes it is a
    ``conflicting_label`` error naming both places, unless ``prefer`` resolves it: ``"first"``
    (the file given first wins), ``"last"``, or a file's name (that file wins where it is one
    of the two).
    """
    specs = [LabelSource.parse(s) for s in (sources if isinstance(sources, (list, tuple))
                                            else [sources])]
    if not specs:
        raise InputError("no labels file given")
    if prefer not in (None, "first", "last") and prefer not in {
            s.path.name for s in specs} | {str(s.path) for s in specs}:
        raise InputError(f"--prefer {prefer}: expected first, last or one of the labels "
                         f"files ({', '.join(str(s.path) for s in specs)})")
    parts = []
    for spec in specs:
        if paragraphs is not None and spec.path.suffix.lower() in (".jsonl", ".ndjson") and (
                not spec.columns):
            part = load_joined(spec.path, paragraphs, codebook=codebook, strict=strict,
                               blank=blank)
        else:
            part = load_table(spec.path,
                              columns={**defaults_dropped(columns or {}), **spec.columns},
                              codebook=codebook, strict=strict, blank=blank)
        parts.append((spec, part))
    if len(parts) == 1:
        return parts[0][1]
    return _merge(parts, prefer, Collector(strict))


def _merge(parts, prefer: str | None, bad: Collector) -> LabeledData:
    """The parts' rows in order, one per id (see :func:`load_labels` for ``prefer``)."""
    out = LabeledData()
    index: dict[str, int] = {}  # id -> its row in out
    owner: list[int] = []  # the part each row of out came from
    preferred = {k for k, (spec, _) in enumerate(parts)
                 if prefer in (spec.path.name, str(spec.path))}
    for k, (_, part) in enumerate(parts):
        out.files.update(part.files)
        out.problems += part.problems
        out.blank += part.blank
        for i in range(len(part)):
            pid = part.ids[i]
            j = index.get(pid)
            if j is None:
                index[pid] = len(out)
                owner.append(k)
                out.add(id=pid, text=part.texts[i], label=part.labels[i],
                        secondary=part.secondary[i], group=part.groups[i],
                        level=part.levels[i], section=part.sections[i], year=part.years[i],
                        sample=part.samples[i], where=part.where[i])
                continue
            if out.labels[j] == part.labels[i] or prefer == "first" or owner[j] in preferred:
                continue
            if prefer == "last" or k in preferred:
                out.labels[j], out.secondary[j] = part.labels[i], part.secondary[i]
                out.where[j], owner[j] = part.where[i], k
                continue
            bad.error("conflicting_label",
                      f"id {pid!r} is labeled {out.labels[j]!r} at {out.where[j]} and "
                      f"{part.labels[i]!r} at {part.where[i]} (choose with --prefer "
                      "first|last|FILE, or correct one)")
    out.problems += bad.problems
    groupings = {p.grouping for _, p in parts}
    out.grouping = next((g for g in ("row", "id prefix", "report") if g in groupings), "report")
    return out


def label_file_ids(source, *, id_col: str = "id") -> set[str]:
    """The paragraph ids a labels file names, coded or not (``suggest --labeled``): a table's
    id column (found as for :func:`load_table`), a Label Studio export's tasks' ids."""
    from ..annotate import annotations_from_export, is_label_studio_records

    spec = LabelSource.parse(source)
    rows = list(table_rows(spec.path, what="labels", sheet=True))
    if rows and is_label_studio_records([rows[0][1]]):
        return {a.id for a in annotations_from_export([r for _, r in rows], str(spec.path))}
    ids: set[str] = set()
    column = None
    for num, row in rows:
        if column is None:
            named = {**defaults_dropped({"id": id_col}), **spec.columns}
            column = resolve_columns(row, named)["id"] or id_col
        if row.get(column) in (None, ""):
            raise InputError(f"{spec.path}:{num}: no {column!r} to match the pool by")
        ids.add(str(row[column]))
    return ids


def sources_name(sources) -> str:
    """Labels files by name, joined by ``+`` (the source named in metrics)."""
    return "+".join(LabelSource.parse(s).path.name
                    for s in (sources if isinstance(sources, (list, tuple)) else [sources]))
