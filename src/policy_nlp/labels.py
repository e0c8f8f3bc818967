"""Labeled paragraphs for training and evaluation: load, join, validate.

Two sources:

* the shared labels (``labels/train.jsonl``: ``id``, ``label``, ``secondary``, ``confidence``,
  ``sample``) joined by id to a paragraphs file (``corpus/paragraphs.jsonl``: ``id``,
  ``report_id``, ``level``, ``year``, ``section``, ``text``), see :func:`load_joined`;
* one table (CSV, JSONL or XLSX) holding text and label columns (and optionally report,
  level, year and sample columns), see :func:`load_table`.

Every problem is reported with its file and line or row number; nothing is silently dropped.
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
    # conflicting_duplicate, duplicate_text, too_few, no_examples, imbalance
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

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, *, id: str, text: str, label: str, secondary: list[str], group: str,
            level: str | None = None, section: list[str] | None = None,
            year: int | None = None, sample: str | None = None, where: str = "") -> None:
        self.where.append(where)
        self.ids.append(id)
        self.texts.append(text)
        self.labels.append(label)
        self.secondary.append(secondary)
        self.groups.append(group)
        self.levels.append(level)
        self.sections.append(section or [])
        self.years.append(year)
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


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
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
    finally:
        book.close()


def table_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line or row number, record) of a CSV, JSONL or XLSX file."""
    data = _read_bytes(path)
    if path.suffix.lower() == ".csv":
        return _csv_rows(path, data)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _jsonl_rows(path, data)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, data)
    raise InputError(f"{path}: labels must be a .csv, .jsonl or .xlsx file")


def _parse_secondary(value, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        parts = value.replace(";", ",").replace("|", ",").split(",")
        return [p.strip() for p in parts if p.strip()]
    raise InputError(f"{where}: secondary must be a list or a comma-separated string")


def _theme_problem(labels: list[str], codebook: Codebook, where: str) -> str | None:
    for label in labels:
        if label not in codebook.ids:
            return (f"{where}: unknown theme {label!r}; the codebook {codebook.name!r} has "
                    f"{', '.join(codebook.ids)}")
    return None


def _sample(value) -> str | None:
    """The ``sample`` field of a label (how the row was chosen), None where absent or empty."""
    if value is None:
        return None
    return str(value).strip() or None


def load_joined(labels_path: str | Path, paragraphs_path: str | Path, *,
                codebook: Codebook | None = None, strict: bool = True) -> LabeledData:
    """Shared-style labels joined by ``id`` to a paragraphs JSONL file.

    ``strict``: stop at the first bad row; else bad rows are left out and listed in
    ``problems`` (see :func:`validate`)."""
    bad = _Collector(strict)
    codebook = codebook or load_codebook()
    labels_path, paragraphs_path = Path(labels_path), Path(paragraphs_path)
    label_bytes = _read_bytes(labels_path)
    para_bytes = _read_bytes(paragraphs_path)
    paragraphs: dict[str, dict] = {}
    for lineno, row in _jsonl_rows(paragraphs_path, para_bytes):
        if "id" not in row or not isinstance(row.get("text"), str):
            raise InputError(f"{paragraphs_path}:{lineno}: a paragraph needs 'id' and 'text'")
        paragraphs[str(row["id"])] = row
    data = LabeledData(files={labels_path.name: _sha256_bytes(label_bytes),
                              paragraphs_path.name: _sha256_bytes(para_bytes)})
    seen: set[str] = set()
    for lineno, row in _jsonl_rows(labels_path, label_bytes):
        where = f"{labels_path}:{lineno}"
        pid, label = row.get("id"), row.get("label")
        if pid is None or not isinstance(label, str):
            raise InputError(f"{where}: a label record needs 'id' and 'label'")
        pid = str(pid)
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
               codebook: Codebook | None = None, strict: bool = True) -> LabeledData:
    """Labeled paragraphs from one CSV, JSONL or XLSX table (the first worksheet).

    ``strict``: stop at the first bad row; else bad rows are left out and listed in
    ``problems`` (see :func:`validate`).

    ``group_col`` names the report each paragraph belongs to, so that cross-validation splits
    by report; without it each id's part before ``#`` is used, else each row is its own group.
    ``level_col``, ``year_col`` (four digits) and ``sample_col``, where the table has them,
    give the metrics by level, by era and by sample.
    """
    bad = _Collector(strict)
    codebook = codebook or load_codebook()
    path = Path(path)
    data = LabeledData()
    groupings: set[str] = set()
    seen: dict[str, str] = {}
    for rownum, row in table_rows(path):
        where = f"{path}:{rownum}"
        if text_col not in row or label_col not in row:
            missing = [c for c in (text_col, label_col) if c not in row]
            raise InputError(
                f"{where}: no column {', '.join(map(repr, missing))}; found "
                f"{', '.join(map(repr, row))} (choose with --text-col/--label-col)"
            )
        text, label = row[text_col], row[label_col]
        if not isinstance(text, str) or not text.strip():
            bad.error("empty_text", f"{where}: empty text")
            continue
        if not isinstance(label, str) or not label.strip():
            bad.error("empty_label", f"{where}: empty label (fill it in or delete the row)")
            continue
        label = label.strip()
        secondary = _parse_secondary(row.get(secondary_col), where)
        unknown = _theme_problem([label, *secondary], codebook, where)
        if unknown:
            bad.error("unknown_theme", unknown)
            continue
        pid = str(row.get(id_col) or f"{path.stem}:{rownum}")
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
        if row.get(group_col):
            group, grouping = row[group_col], "report"
        elif "#" in pid:
            group, grouping = pid.split("#")[0], "id prefix"
        else:
            group, grouping = pid, "row"
        groupings.add(grouping)
        data.add(id=pid, text=text, label=label, secondary=secondary, group=str(group),
                 level=row.get(level_col) or None, year=year,
                 sample=_sample(row.get(sample_col)), where=where)
    data.problems = bad.problems
    data.files = {path.name: _sha256_bytes(path.read_bytes())}
    # the weakest grouping any row had is what cross-validation can promise
    data.grouping = next((g for g in ("row", "id prefix", "report") if g in groupings), "report")
    if not len(data) and not data.problems:
        raise InputError(f"{path}: no labeled rows")
    return data


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
    for theme, n in counts.items():
        if n < min_examples:
            rows = _rows([where[i] for i, lbl in enumerate(data.labels) if lbl == theme])
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
        problems.append(Problem("warning", "no_examples",
                                f"no examples of {', '.join(missing)}: the model will never "
                                "predict them"))
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
