"""The choices and options several commands share, with one help text each."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class OutFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


class TextFormat(str, Enum):
    text = "text"
    json = "json"


class TableFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


class Records(str, Enum):
    auto = "auto"
    paragraphs = "paragraphs"
    reports = "reports"


class UnitOpt(str, Enum):
    paragraph = "paragraph"
    sentence = "sentence"


def train_defaults():
    """The library's training defaults, shown as the defaults of train's and audit's flags."""
    from ..train_config import TrainConfig  # not ..train: classify would load the workflow

    return TrainConfig()


FormatOpt = Annotated[TextFormat | None, typer.Option(
    "--format", "-f", help="text for people (the default), or json for programs.",
    show_default=False)]
JsonOpt = Annotated[bool, typer.Option(
    "--json", hidden=True, help="The same as --format json (its older name).")]
ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory, or a shipped model: default, or fast "
                                       "(character n-grams only, ~3x faster to label).",
                 show_default=False),
]
TextCol = Annotated[str, typer.Option(help="Text column of CSV/JSONL inputs.")]
IdCol = Annotated[str, typer.Option(help="Id column of CSV/JSONL inputs.")]
LabelCol = Annotated[str, typer.Option(help="Label column of a labels table.")]
GroupCol = Annotated[str, typer.Option(help="Report column of a labels table.")]
ParagraphsOpt = Annotated[Path | None, typer.Option(help="Paragraphs JSONL (as for train).")]
LabelsOpt = Annotated[list[str], typer.Option(
    "--labels", help="Labels (as for train); repeatable, merged by id.")]
PreferOpt = Annotated[str | None, typer.Option(
    help="An id labeled differently in two --labels files: first (the file given first "
         "wins), last, or a file name (that file wins); without it, a conflict is an error.")]
StrictLabelsOpt = Annotated[bool, typer.Option(
    "--strict", help="A blank label cell (a row not coded yet) is an error instead of being "
                     "skipped with a warning.")]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Stop at the first bad file or record (exit 2, no output written) instead "
                     "of reporting and skipping it (then exit 5 with the rest labeled).")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Log each file read, with its format and encoding.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="Show progress on standard error.")]
CodebookOpt = Annotated[Path | None, typer.Option(
    help="Codebook TOML (default: the 17 policy themes).")]
UnitOption = Annotated[UnitOpt, typer.Option(
    help="sentence: also label each sentence and give each paragraph the themes its "
         "sentences carry, with their shares (themes, sentences).")]
