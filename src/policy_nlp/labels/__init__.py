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
``blank="error"``). Every problem is reported with its file and line (``FILE:LINE``, as the
one reader of tables, :mod:`policy_nlp.read.records`, numbers rows); nothing is silently
dropped.

Modules: :mod:`.data` (:class:`LabeledData`, :class:`Problem`), :mod:`.columns` (which column
is which, theme names), :mod:`.load` (the loaders), :mod:`.coders` (one coder's codings, for
agreement), :mod:`.check` (the validation report, :func:`validate`).
"""

from __future__ import annotations

from ..read.records import table_rows  # (labels read every table through it)
from .check import (IMBALANCE_WARN, MIN_EXAMPLES, MIN_EXAMPLES_WARN, ValidationReport,
                    blank_summary, refuse_bad_labels, validate, validate_files)
from .coders import CoderLabels, load_coder_labels
from .columns import (COLUMN_NAMES, DEFAULT_COLUMNS, ROLES, LabelSource, resolve_columns,
                      theme_id)
from .data import LabeledData, Problem
from .load import (label_file_ids, load_joined, load_labels, load_table, paragraph_texts,
                   sources_name)

__all__ = [
    "COLUMN_NAMES", "DEFAULT_COLUMNS", "IMBALANCE_WARN", "MIN_EXAMPLES", "MIN_EXAMPLES_WARN",
    "ROLES", "CoderLabels", "LabelSource", "LabeledData", "Problem", "ValidationReport",
    "blank_summary", "label_file_ids", "load_coder_labels", "load_joined", "load_labels",
    "load_table", "paragraph_texts", "resolve_columns", "sources_name", "table_rows", "theme_id",
    "refuse_bad_labels", "validate", "validate_files",
]
