"""The columns of a labels table and the themes in its cells: which column plays which role
(:data:`COLUMN_NAMES`, :class:`LabelSource`), and a cell as theme ids (:func:`theme_id`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..codebook import Codebook
from ..errors import InputError
from .data import Collector

__all__ = ["COLUMN_NAMES", "DEFAULT_COLUMNS", "ROLES", "LabelSource", "defaults_dropped",
           "parse_secondary", "resolve_columns", "single_label", "theme_id", "theme_problem"]


def parse_secondary(value, where: str) -> list[str]:
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


def theme_problem(labels: list[str], codebook: Codebook, where: str) -> str | None:
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
            if role in columns:
                raise InputError(f"--labels {text}: the role {role!r} is named twice "
                                 f"({columns[role]!r} and {column!r}); name each role once")
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


def defaults_dropped(columns: dict[str, str | None]) -> dict[str, str]:
    """The columns a caller named, without those equal to the role's default name (which
    leave the column to auto-detection)."""
    return {role: col for role, col in columns.items()
            if col is not None and col != DEFAULT_COLUMNS[role]}


def single_label(value, where: str, bad: Collector):
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
