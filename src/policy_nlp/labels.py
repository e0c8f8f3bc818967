"""Labeled paragraphs for training and evaluation: load, join, validate.

Two sources:

* the shared labels (``labels/train.jsonl``: ``id``, ``label``, ``secondary``, ``confidence``)
  joined by id to a paragraphs file (``corpus/paragraphs.jsonl``: ``id``, ``report_id``,
  ``level``, ``section``, ``text``), see :func:`load_joined`;
* one table (CSV or JSONL) holding text and label columns, see :func:`load_table`.

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
from .errors import InputError
from .read import decode_bytes


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
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256 of its bytes
    # what the groups are: "report" (a report column or the paragraphs file), "id prefix"
    # (the part of each id before '#'), or "row" (nothing said: each row its own group)
    grouping: str = "report"

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, *, id: str, text: str, label: str, secondary: list[str], group: str,
            level: str | None = None, section: list[str] | None = None) -> None:
        self.ids.append(id)
        self.texts.append(text)
        self.labels.append(label)
        self.secondary.append(secondary)
        self.groups.append(group)
        self.levels.append(level)
        self.sections.append(section or [])

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
                    section=self.sections[i])
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


def table_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line or row number, record) of a CSV or JSONL file."""
    data = _read_bytes(path)
    if path.suffix.lower() == ".csv":
        return _csv_rows(path, data)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _jsonl_rows(path, data)
    raise InputError(f"{path}: labels must be a .csv or .jsonl file")


def _parse_secondary(value, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        parts = value.replace(";", ",").replace("|", ",").split(",")
        return [p.strip() for p in parts if p.strip()]
    raise InputError(f"{where}: secondary must be a list or a comma-separated string")


def _check_theme(label: str, codebook: Codebook, where: str) -> None:
    if label not in codebook.ids:
        raise InputError(
            f"{where}: unknown theme {label!r}; the codebook {codebook.name!r} has "
            f"{', '.join(codebook.ids)}"
        )


def load_joined(labels_path: str | Path, paragraphs_path: str | Path, *,
                codebook: Codebook | None = None) -> LabeledData:
    """Shared-style labels joined by ``id`` to a paragraphs JSONL file."""
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
            raise InputError(f"{where}: id {pid!r} is labeled twice")
        seen.add(pid)
        para = paragraphs.get(pid)
        if para is None:
            raise InputError(f"{where}: id {pid!r} is not in {paragraphs_path}")
        _check_theme(label, codebook, where)
        secondary = _parse_secondary(row.get("secondary"), where)
        for s in secondary:
            _check_theme(s, codebook, where)
        text = para["text"]
        if not text.strip():
            raise InputError(f"{where}: paragraph {pid!r} has empty text")
        data.add(id=pid, text=text, label=label, secondary=secondary,
                 group=str(para.get("report_id") or pid.split("#")[0]),
                 level=para.get("level"), section=list(para.get("section") or []))
    return data


def load_table(path: str | Path, *, text_col: str = "text", label_col: str = "label",
               id_col: str = "id", group_col: str = "report_id",
               secondary_col: str = "secondary", level_col: str = "level",
               codebook: Codebook | None = None) -> LabeledData:
    """Labeled paragraphs from one CSV or JSONL table.

    ``group_col`` names the report each paragraph belongs to, so that cross-validation splits
    by report; without it each id's part before ``#`` is used, else each row is its own group.
    """
    codebook = codebook or load_codebook()
    path = Path(path)
    data = LabeledData()
    groupings: set[str] = set()
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
            raise InputError(f"{where}: empty text")
        if not isinstance(label, str) or not label.strip():
            raise InputError(f"{where}: empty label")
        label = label.strip()
        _check_theme(label, codebook, where)
        secondary = _parse_secondary(row.get(secondary_col), where)
        for s in secondary:
            _check_theme(s, codebook, where)
        pid = str(row.get(id_col) or f"{path.stem}:{rownum}")
        if row.get(group_col):
            group, grouping = row[group_col], "report"
        elif "#" in pid:
            group, grouping = pid.split("#")[0], "id prefix"
        else:
            group, grouping = pid, "row"
        groupings.add(grouping)
        data.add(id=pid, text=text, label=label, secondary=secondary, group=str(group),
                 level=row.get(level_col) or None)
    data.files = {path.name: _sha256_bytes(path.read_bytes())}
    # the weakest grouping any row had is what cross-validation can promise
    data.grouping = next((g for g in ("row", "id prefix", "report") if g in groupings), "report")
    if not len(data):
        raise InputError(f"{path}: no labeled rows")
    return data
