"""Files this tool wrote, recognised when a folder is read: :func:`own_output_kind`.

A folder given as input is often where the outputs go too (``label d/ -o d/labeled.jsonl``,
``validation-sample d/ -o d/sheet.csv``). Read back as inputs, they would count every paragraph
twice (a label output, a coding sheet: their rows hold the paragraphs' text) or be refused row
by row (a panel). So the folder walk (:func:`~policy_nlp.read.documents.input_files`) leaves out
a CSV or JSONL file whose header (or first record) has the columns that only an output of
policy-nlp has *together*: the signatures below. The run's state files (``OUT.partial``,
``OUT.checkpoint.json``, ``OUT.lock``) have no input extension and are never read.

Why the columns rather than a name or a marker: outputs are named freely and copied, renamed
or shared; a marker file beside them would not travel with them, and a marker inside a CSV
would break the readers people open it with. A table of people's own is not taken for an
output unless it has all four or five columns of one signature -- ``label``, ``score``,
``secondary`` and ``top`` for a label output, say -- and a file named as an input is always
read, whatever its columns.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

__all__ = ["OWN_OUTPUTS", "own_output_kind"]

#: what each output is, and the columns that only it has together
OWN_OUTPUTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("a label output", frozenset({"label", "score", "secondary", "top"})),
    ("a profile panel", frozenset({"report_id", "unit", "n_paragraphs", "n_chars"})),
    ("a validation-sample coding sheet",
     frozenset({"stratum", "stratum_size", "stratum_sample", "inclusion_probability"})),
    ("the corrected shares of profile --validation",
     frozenset({"by", "group", "n_reports", "n_paragraphs", "n_coded"})),
    ("a suggest coding sheet",
     frozenset({"guess", "guess_zh", "second", "second_probability", "margin"})),
    ("an audit review sheet",
     frozenset({"given", "suggested", "p_given", "p_suggested", "verdict"})),
)

# the first line of a file is read up to this many bytes (a label output's first line holds a
# paragraph's text); a longer one is not taken for an output
_HEAD_BYTES = 1 << 23


def own_output_kind(path: Path) -> str | None:
    """What output of policy-nlp the ``.csv`` or ``.jsonl`` file ``path`` is (``"a label
    output"``, …), by the columns of its header or first record (:data:`OWN_OUTPUTS`); None
    for any other file, or one that cannot be read (reading it reports why)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.readline(_HEAD_BYTES)
            while suffix == ".jsonl" and head and not head.strip():
                head = fh.readline(_HEAD_BYTES)
    except OSError:
        return None
    try:
        line = head.decode("utf-8-sig")  # the outputs are UTF-8, a CSV with a byte-order mark
    except UnicodeDecodeError:
        return None
    if suffix == ".csv":
        columns = set(next(csv.reader([line]), []))
    else:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        columns = set(record)
    for kind, signature in OWN_OUTPUTS:
        if signature <= columns:
            return kind
    return None
