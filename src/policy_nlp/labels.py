"""Labeled paragraphs for training and evaluation: load, join, validate.

Two sources:

* the shared labels (``labels/train.jsonl``: ``id``, ``label``, ``secondary``, ``confidence``,
  ``sample``) joined by id to a paragraphs file (``corpus/paragraphs.jsonl``: ``id``,
  ``report_id``, ``level``, ``year``, ``section``, ``text``), see :func:`load_joined`;
* one table (CSV, JSONL or XLSX) holding text and label columns (and optionally report,
  level, year and sample columns), see :func:`load_table`; a Label Studio export (JSON,
  JSON-MIN, CSV) or doccano JSONL is such a table too;
* several of either, merged by id, see :func:`load_labels`.

A row whose label is blank (a sheet coded in part) is skipped and counted, not an error (unless
``blank="error"``). Every problem is reported with its file and line or row number; nothing is
silently dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .codebook import Codebook, load_codebook
from .era import parse_year
from .errors import InputError
from .read import decode_bytes


@dataclass(frozen=True)
class Problem:
    """One finding of the validation report: an ``error`` refuses training, a ``warning``
    is printed and training goes on."""

    severity: str  # "error" | "warning"
    kind: str  # unknown_id, unknown_theme, empty_text, empty_label, duplicate_id, bad_year,
    # conflicting_duplicate, duplicate_text, too_few, no_examples, imbalance, blank_label,
    # conflicting_label (one id, two files), no_majority (annotators of a task tie),
    # several_labels
    message: str  # starts with file:row where the problem is one row

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


class _Collector:
    """Row problems while loading: raised at once (``strict``) or kept for the report."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.problems: list[Problem] = []

    def error(self, kind: str, message: str) -> None:
        if self.strict:
            raise InputError(message)
        self.problems.append(Problem("error", kind, message))


@dataclass
class LabeledData:
    """Parallel lists, one entry per labeled paragraph."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    secondary: list[list[str]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # report ids, for grouped splits
    levels: list[str | None] = field(default_factory=list)
    sections: list[list[str]] = field(default_factory=list)
    years: list[int | None] = field(default_factory=list)  # the report's year, where known
    # how the row was chosen for labeling (the shared labels' ``sample``: random, rare, era,
    # census), where known
    samples: list[str | None] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256 of its bytes
    # what the groups are: "report" (a report column or the paragraphs file), "id prefix"
    # (the part of each id before '#'), or "row" (nothing said: each row its own group)
    grouping: str = "report"
    where: list[str] = field(default_factory=list)  # "file:row" each paragraph came from
    # bad rows met while loading with ``strict=False``: left out of the lists above, and
    # reported by :func:`validate` (never silently dropped)
    problems: list[Problem] = field(default_factory=list)
    # "file:row" of the rows skipped because their label was blank (not coded yet)
    blank: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, *, id: str, text: str, label: str, secondary: list[str], group: str,
            level: str | None = None, section: list[str] | None = None,
            year: Any = None, sample: str | None = None, where: str = "") -> None:
        self.where.append(where)
        self.ids.append(id)
        self.texts.append(text)
        self.labels.append(label)
        self.secondary.append(secondary)
        self.groups.append(group)
        self.levels.append(level)
        self.sections.append(section or [])
        self.years.append(_year(year))
        self.samples.append(sample)

    def sha256(self) -> str:
        """A hash of what training sees (id, text, label, secondary), in order."""
        h = hashlib.sha256()
        for row in zip(self.ids, self.texts, self.labels, self.secondary, strict=True):
            h.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items(), key=lambda kv: (-kv[1], kv[0])))

    def subset(self, index) -> LabeledData:
        out = LabeledData(files=dict(self.files), grouping=self.grouping)
        for i in index:
            out.add(id=self.ids[i], text=self.texts[i], label=self.labels[i],
                    secondary=self.secondary[i], group=self.groups[i], level=self.levels[i],
                    section=self.sections[i], year=self.years[i], sample=self.samples[i],
                    where=self.where[i])
        return out


def _year(value: Any) -> int | None:
    """A year as an int (from 2024, "2024" or 2024.0), None if it is not one."""
    try:
        year = int(str(value).strip().removesuffix(".0"))
    except (TypeError, ValueError):
        return None
    return year if 1000 <= year <= 9999 else None


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes:
    """A labels or paragraphs file's bytes: a regular file within the limit on a file read
    whole (:data:`~policy_nlp.limits.FILE`)."""
    from . import limits

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    try:
        with limits.open_regular(path, str(path), limits.FILE) as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"{path}: file is empty")
    return data


def _jsonl_rows(path: Path, data: bytes) -> Iterator[tuple[int, dict]]:
    text, _ = decode_bytes(data, source=str(path))
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object")
        yield lineno, row


def _csv_rows(path: Path, data: bytes) -> Iterator[tuple[int, dict]]:
    text, _ = decode_bytes(data, source=str(path))
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for row in reader:
        # row number as a spreadsheet shows it: the header is row 1
        yield reader.line_num, row


def _xlsx_rows(path: Path, data: bytes) -> Iterator[tuple[int, dict]]:
    """The first worksheet: row 1 the header, then one record per row (numbered as the
    spreadsheet shows them); rows with no value at all are passed over."""
    try:
        import openpyxl
    except ImportError:
        raise InputError(f"{path}: reading .xlsx needs openpyxl: pip install "
                         "'policy-nlp[xlsx]' (or save the sheet as CSV)") from None
    import zipfile

    from .limits import open_zip

    # refused if it would inflate past the limit
    open_zip(io.BytesIO(data), str(path), what=".xlsx workbook").close()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: the first worksheet is empty")
        names = ["" if h is None else str(h).strip() for h in header]
        for rownum, values in enumerate(rows, 2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield rownum, {name: ("" if v is None else v if isinstance(v, str) else
                                  str(int(v)) if isinstance(v, float) and v.is_integer() else
                                  str(v))
                           for name, v in zip(names, values, strict=False) if name}
    except (SyntaxError, ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        # (an XML parse error of the sheet is a SyntaxError)
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: "
                         f"{exc})") from None
    finally:
        book.close()


def _json_records(path: Path, data: bytes) -> list[dict] | None:
    """The records of a file holding one JSON list (a Label Studio export), else None."""
    text, _ = decode_bytes(data, source=str(path))
    if not text.lstrip().startswith("["):
        return None
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(f"{path}: expected a JSON list of objects (a Label Studio export)")
    return records


def table_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line or row number, record) of a CSV, JSONL or XLSX file (or of a JSON list: record
    numbers)."""
    data = _read_bytes(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path, data)
    if suffix in (".jsonl", ".json", ".ndjson"):
        records = _json_records(path, data) if suffix == ".json" else None
        if records is not None:
            return iter(enumerate(records, 1))
        return _jsonl_rows(path, data)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, data)
    raise InputError(f"{path}: labels must be a .csv, .jsonl, .json or .xlsx file")


def _parse_secondary(value, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        parts = value.replace(";", ",").replace("|", ",").split(",")
        return [p.strip() for p in parts if p.strip()]
    raise InputError(f"{where}: secondary must be a list or a comma-separated string")


def theme_id(label: str, codebook: Codebook) -> str:
    """A theme as a coder's tool may give it, as its id: the id itself, the Chinese name, or
    Label Studio's shown text ``中文名 English (id)``; anything else is returned as it is
    (and found unknown by the caller)."""
    if label in codebook.ids:
        return label
    if label.endswith(")") and "(" in label:
        inner = label[label.rindex("(") + 1:-1].strip()
        if inner in codebook.ids:
            return inner
    for theme in codebook.themes:
        if label == theme.zh:
            return theme.id
    return label


def _theme_problem(labels: list[str], codebook: Codebook, where: str) -> str | None:
    for label in labels:
        if label not in codebook:
            return (f"{where}: unknown theme {label!r}; the codebook {codebook.name!r} has "
                    f"{codebook.listed()}")
    return None


#: the column names tried, in order, for each role of a labels table whose column was not
#: named (the default name first): ``suggest``'s sheet, our Label Studio and doccano files,
#: and common Chinese headers
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("text", "段落", "文本", "内容", "paragraph", "content"),
    "label": ("label", "主题", "标签", "theme", "labels", "category"),
    "id": ("paragraph_id", "id", "编号", "ID"),
    "group": ("report_id", "报告", "report"),
    "secondary": ("secondary", "次要主题"),
    "level": ("level", "层级"),
    "coder": ("coder", "annotator", "编码员"),
}
ROLES = tuple(COLUMN_NAMES)
#: the command line's default column names: a role left at its default is auto-detected
DEFAULT_COLUMNS = {"text": "text", "label": "label", "id": "id", "group": "report_id",
                   "secondary": "secondary", "level": "level", "coder": "coder"}


@dataclass(frozen=True)
class LabelSource:
    """One labels file and the columns it names for some roles (the rest: auto-detected, see
    :data:`COLUMN_NAMES`)."""

    path: Path
    columns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str | Path) -> LabelSource:
        """``FILE`` or ``FILE:role=column,role=column`` (roles: text, label, id, group,
        secondary, level, coder), e.g. ``sheet2.csv:text=段落,label=主题,id=编号``. A path
        that exists is taken as it is, colons and all."""
        if isinstance(spec, LabelSource):
            return spec
        text = str(spec)
        if Path(text).exists() or ":" not in text or "=" not in text.rsplit(":", 1)[1]:
            return cls(Path(text))
        path, mapping = text.rsplit(":", 1)
        columns: dict[str, str] = {}
        for part in mapping.split(","):
            role, eq, column = part.partition("=")
            role, column = role.strip(), column.strip()
            if not eq or role not in ROLES or not column:
                raise InputError(
                    f"--labels {text}: cannot read {part!r}; write FILE:role=column,… with "
                    f"roles {', '.join(ROLES)} (e.g. coded.csv:text=段落,label=主题)")
            columns[role] = column
        return cls(Path(path), columns)

    def __str__(self) -> str:
        return str(self.path)


def resolve_columns(header, named: dict[str, str]) -> dict[str, str | None]:
    """The column of each role in a table with these column names: the one ``named`` (kept
    even when absent, so that the caller can say so), else the first of
    :data:`COLUMN_NAMES` present, else None."""
    present = set(header)
    out: dict[str, str | None] = {}
    for role, names in COLUMN_NAMES.items():
        if role in named:
            out[role] = named[role]
        else:
            out[role] = next((n for n in names if n in present), None)
    return out


def _defaults_dropped(columns: dict[str, str | None]) -> dict[str, str]:
    """The columns a caller named, without those equal to the role's default name (which
    leave the column to auto-detection)."""
    return {role: col for role, col in columns.items()
            if col is not None and col != DEFAULT_COLUMNS[role]}


def _task_rows(path: Path, records: list[dict], columns: dict[str, str],
               bad: _Collector, codebook: Codebook) -> Iterator[tuple[str, dict]]:
    """One labels row per Label Studio task: the majority of its annotators' primary themes
    (a tie is a ``no_majority`` error); the secondary themes more than half of that majority
    chose."""
    from .annotate import PRIMARY, SECONDARY, annotations_from_export

    label_name = columns.get("label", PRIMARY)
    anns = annotations_from_export(records, str(path), primary=label_name,
                                   secondary=columns.get("secondary", SECONDARY),
                                   text_key=columns.get("text", "text"))
    by_task: dict[str, list] = {}
    for ann in anns:
        by_task.setdefault(ann.task, []).append(ann)
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


def _single_label(value, where: str, bad: _Collector):
    """A label cell as one string ("" for blank); doccano's list of labels gives its one
    label; several is a ``several_labels`` error (None)."""
    if isinstance(value, list):
        if len(value) > 1:
            listed = ", ".join(map(str, value))
            bad.error("several_labels", f"{where}: {len(value)} labels ({listed}); one primary "
                      "theme is needed (doccano: tick 'Allow single label')")
            return None
        value = value[0] if value else ""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _paragraphs(path: Path, data: bytes) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for lineno, row in _jsonl_rows(path, data):
        if "id" not in row or not isinstance(row.get("text"), str):
            raise InputError(f"{path}:{lineno}: a paragraph needs 'id' and 'text'")
        out[str(row["id"])] = row
    return out


def paragraph_texts(path: str | Path) -> dict[str, str]:
    """id -> text of a paragraphs JSONL file (``id``, ``text``)."""
    path = Path(path)
    return {pid: row["text"] for pid, row in _paragraphs(path, _read_bytes(path)).items()}


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
    bad = _Collector(strict)
    codebook = codebook or load_codebook()
    labels_path, paragraphs_path = Path(labels_path), Path(paragraphs_path)
    label_bytes = _read_bytes(labels_path)
    para_bytes = _read_bytes(paragraphs_path)
    paragraphs = _paragraphs(paragraphs_path, para_bytes)
    data = LabeledData(files={labels_path.name: _sha256_bytes(label_bytes),
                              paragraphs_path.name: _sha256_bytes(para_bytes)})
    seen: set[str] = set()
    for lineno, row in _jsonl_rows(labels_path, label_bytes):
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
        secondary = _parse_secondary(row.get("secondary"), where)
        unknown = _theme_problem([label, *secondary], codebook, where)
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
    bad = _Collector(strict)
    codebook = codebook or load_codebook()
    path = Path(path)
    named = _defaults_dropped({"text": text_col, "label": label_col, "id": id_col,
                               "group": group_col, "secondary": secondary_col,
                               "level": level_col})
    named.update(columns or {})
    data = LabeledData()
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
        label = _single_label(row[label_c], where, bad)
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
                     for s in _parse_secondary(row.get(cols["secondary"]), where)]
        unknown = _theme_problem([label, *secondary], codebook, where)
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
    data.files = {path.name: _sha256_bytes(path.read_bytes())}
    # the weakest grouping any row had is what cross-validation can promise
    data.grouping = next((g for g in ("row", "id prefix", "report") if g in groupings), "report")
    if not len(data) and not data.problems:
        more = f" ({len(data.blank)} rows with a blank label)" if data.blank else ""
        raise InputError(f"{path}: no labeled rows{more}")
    return data


def _label_rows(path: Path, named: dict[str, str], bad: _Collector, codebook: Codebook
                ) -> Iterator[tuple[str, dict, dict[str, str | None]]]:
    """(where, row, columns) of a labels file: a table's rows, or a Label Studio export's
    tasks (see :func:`_task_rows`)."""
    from .annotate import is_label_studio_records

    rows = table_rows(path)
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
                              columns={**_defaults_dropped(columns or {}), **spec.columns},
                              codebook=codebook, strict=strict, blank=blank)
        parts.append((spec, part))
    if len(parts) == 1:
        return parts[0][1]
    return _merge(parts, prefer, _Collector(strict))


def _merge(parts, prefer: str | None, bad: _Collector) -> LabeledData:
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
    from .annotate import annotations_from_export, is_label_studio_records

    spec = LabelSource.parse(source)
    rows = list(table_rows(spec.path))
    if rows and is_label_studio_records([rows[0][1]]):
        return {a.id for a in annotations_from_export([r for _, r in rows], str(spec.path))}
    ids: set[str] = set()
    column = None
    for num, row in rows:
        if column is None:
            named = {**_defaults_dropped({"id": id_col}), **spec.columns}
            column = resolve_columns(row, named)["id"] or id_col
        if row.get(column) in (None, ""):
            raise InputError(f"{spec.path}:{num}: no {column!r} to match the pool by")
        ids.add(str(row[column]))
    return ids


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
    from .annotate import PRIMARY, annotations_from_export, is_label_studio_records

    named = {**_defaults_dropped(columns), **spec.columns}
    rows = list(table_rows(spec.path))
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
    bad = _Collector(strict=True)
    for num, row in rows:
        place = f"{spec.path}:{num}"
        label = _single_label(row.get(cols["label"]), place, bad)
        pid = row.get(cols["id"])
        if pid in (None, ""):
            raise InputError(f"{place}: no id: agreement joins the coders by id")
        coder = row.get(cols["coder"]) if cols["coder"] else ""
        text = row.get(cols["text"]) if cols["text"] else ""
        yield place, str(pid), str(coder or ""), (label or "").strip(), (
            text if isinstance(text, str) else "")


# the thresholds of the validation report
MIN_EXAMPLES_WARN = 20  # a theme with fewer examples is learned poorly: warning
MIN_EXAMPLES = 2  # a theme with fewer cannot be trained and cross-validated: error
IMBALANCE_WARN = 10.0  # largest / smallest theme count above this: warning


@dataclass
class ValidationReport:
    """What :func:`validate` found: problems (errors first), counts and the imbalance ratio."""

    problems: list[Problem]
    n_rows: int
    counts: dict[str, int]
    imbalance: float | None  # largest / smallest count among the themes present

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        ratio = f", imbalance {self.imbalance:.1f}:1" if self.imbalance else ""
        return (f"{self.n_rows} labeled rows, {len(self.counts)} themes{ratio}: "
                f"{len(self.errors)} errors, {len(self.warnings)} warnings")

    def to_dict(self) -> dict:
        return {"n_rows": self.n_rows, "counts": self.counts, "imbalance": self.imbalance,
                "errors": [p.__dict__ for p in self.errors],
                "warnings": [p.__dict__ for p in self.warnings]}


def blank_summary(where: list[str], show: int = 5) -> str:
    """``N rows with a blank label skipped (not coded yet): FILE:ROW, …``."""
    more = f" and {len(where) - show} more" if len(where) > show else ""
    return (f"{len(where)} row{'s' * (len(where) != 1)} with a blank label skipped (not coded "
            f"yet; --strict makes them errors): {', '.join(where[:show])}{more}")


def _rows(where: list[str]) -> str:
    return ", ".join(where)


def validate(data: LabeledData, codebook: Codebook | None = None, *,
             min_warn: int = MIN_EXAMPLES_WARN, min_examples: int = MIN_EXAMPLES,
             imbalance_warn: float = IMBALANCE_WARN) -> ValidationReport:
    """The validation report of labeled data, before training.

    Errors: the bad rows met while loading (unknown ids, unknown themes, empty texts or labels,
    ids labeled twice), one text labeled with different themes, a theme with fewer than
    ``min_examples`` examples. Warnings: a text labeled twice with the same theme, a theme
    with fewer than ``min_warn`` examples, a codebook theme with none, a largest/smallest
    theme ratio above ``imbalance_warn``. Every row-level finding names its file:row.
    """
    codebook = codebook or load_codebook()
    problems: list[Problem] = list(data.problems)
    if data.blank:
        problems.append(Problem("warning", "blank_label", blank_summary(data.blank)))
    where = data.where if len(data.where) == len(data) else [""] * len(data)
    by_text: dict[str, list[int]] = {}
    for i, text in enumerate(data.texts):
        by_text.setdefault("".join(text.split()), []).append(i)
    for rows in by_text.values():
        if len(rows) < 2:
            continue
        labels = sorted({data.labels[i] for i in rows})
        places = _rows([f"{where[i]} ({data.labels[i]})" for i in rows])
        if len(labels) > 1:
            problems.append(Problem("error", "conflicting_duplicate",
                                    f"one text, different labels: {places}"))
        else:
            problems.append(Problem("warning", "duplicate_text",
                                    f"one text labeled twice ({labels[0]}): {places}"))
    counts = data.counts()
    rows_of: dict[str, list[int]] = {}
    for i, lbl in enumerate(data.labels):
        if counts[lbl] < min_examples:
            rows_of.setdefault(lbl, []).append(i)
    for theme, n in counts.items():
        if n < min_examples:
            rows = _rows([where[i] for i in rows_of[theme]])
            problems.append(Problem(
                "error", "too_few",
                f"theme {theme!r} has {n} example{'s' * (n != 1)} ({rows}); at least "
                f"{min_examples} are needed: label more or merge it into another theme"))
        elif n < min_warn:
            problems.append(Problem("warning", "too_few",
                                    f"theme {theme!r} has only {n} examples (fewer than "
                                    f"{min_warn}: it will be learned poorly)"))
    missing = [t for t in codebook.ids if t not in counts]
    if missing and counts:
        listed = ", ".join(missing[:30]) + (f", … ({len(missing) - 30:,} more)"
                                            if len(missing) > 30 else "")
        problems.append(Problem("warning", "no_examples",
                                f"no examples of {listed}: the model will never predict them"))
    imbalance = None
    if len(counts) >= 2:
        imbalance = round(max(counts.values()) / min(counts.values()), 2)
        if imbalance > imbalance_warn:
            big = max(counts, key=counts.get)
            small = min(counts, key=counts.get)
            problems.append(Problem(
                "warning", "imbalance",
                f"class imbalance {imbalance:.1f}:1 ({big} {counts[big]}, {small} "
                f"{counts[small]}); consider more {small} labels, or `train --class-weight balanced`"))
    problems.sort(key=lambda p: p.severity != "error")
    return ValidationReport(problems=problems, n_rows=len(data) + len(data.problems),
                            counts=counts, imbalance=imbalance)
