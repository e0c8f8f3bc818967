"""Read inputs: bytes -> text -> :class:`Document`; and the one reader of tables.

The first step of the data flow, one module per concern:

* :mod:`.documents` -- input files (directories, standard input, pipes) -> :class:`Document`
  (:func:`read_documents`, :func:`iter_documents`), record ids and the duplicate-id check;
* :mod:`.decode` -- bytes -> text: encodings (BOMs, UTF-8, GB18030, UTF-16, detection), binary
  files refused, streamed lines;
* :mod:`.records` -- the one reader of table rows (CSV, JSONL, JSON, XLSX) that every command
  uses, with one way of numbering rows in messages (``FILE:LINE``) and one JSON parsing;
* :mod:`.formats` -- Word, PDF and web pages -> text;
* :mod:`.problems` -- the error policy (:class:`SkipAndReport`, :func:`handle_problem`).

Every name other modules use is importable from ``policy_nlp.read`` itself.
"""

from __future__ import annotations

from ..text import has_content, normalize_text, without_surrogates
from .decode import (bounded_lines, decode_bytes, decode_line, jsonl_encoding, line_codec)
from .documents import (INPUT_SUFFIXES, RECORD_SUFFIXES, UNIQUE_ID_LIMIT, USUAL_TEXT_NAMES,
                        Document, IdMemory, ReportIds, id_keys, input_files, iter_documents,
                        jsonl_records, name_id, read_documents, read_from_folder)
from .formats import HTML_SUFFIXES, docx_text, html_text, page_problem, pdf_text
from .own import OWN_OUTPUTS, own_output_kind
from .problems import OnError, SkipAndReport, handle_problem
from .records import (TABLE_SUFFIXES, NotFinite, Row, jsonl_loads, loads_finite, table_rows)

__all__ = [
    "HTML_SUFFIXES", "INPUT_SUFFIXES", "OWN_OUTPUTS", "RECORD_SUFFIXES", "TABLE_SUFFIXES",
    "UNIQUE_ID_LIMIT", "USUAL_TEXT_NAMES", "Document", "IdMemory", "NotFinite", "OnError",
    "ReportIds", "Row", "SkipAndReport", "bounded_lines", "decode_bytes", "decode_line",
    "docx_text", "handle_problem", "has_content", "html_text", "id_keys", "input_files",
    "iter_documents", "jsonl_encoding", "jsonl_loads", "jsonl_records", "line_codec",
    "loads_finite", "name_id", "normalize_text", "own_output_kind", "page_problem", "pdf_text",
    "read_documents", "read_from_folder", "table_rows", "without_surrogates",
]
