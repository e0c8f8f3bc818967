"""Word (.docx, python-docx): the body's paragraphs and tables in document order, one a line.

Page headers and footers, which live in other parts of the file, are left out. A table row
becomes one line with its cells separated by tabs.
"""

from __future__ import annotations

from pathlib import Path

from ... import limits
from ...errors import InputError
from .base import require, short_error

__all__ = ["docx_text"]

def docx_text(path: Path) -> str:
    """The text of a .docx file: body paragraphs and table rows in order, one a line.

    Raises
    ------
    InputError
        If the file is not a readable .docx (e.g. an old binary .doc renamed, or a truncated file).
    """
    docx = require("docx", "python-docx", "Word files", str(path))
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    with limits.open_regular(path, str(path)) as fh:
        # refused if it would inflate past the limit
        limits.open_zip(fh, str(path), what=".docx file").close()
        fh.seek(0)
        try:
            document = docx.Document(fh)
            return "\n".join(_docx_lines(document, Paragraph, Table, str(path)))
        except InputError:
            raise
        except Exception as exc:  # python-docx raises zipfile, KeyError, lxml and its own
            raise InputError(f"{path}: not a readable .docx file ({short_error(exc)})") from None


#: XML bytes of the zip limit per paragraph or table a .docx may hold: python-docx takes ~30 µs
#: a paragraph, so millions of empty ``<w:p/>`` (6 bytes each) would take minutes to walk
_BYTES_PER_ITEM = 100


def _docx_lines(document, Paragraph, Table, source: str) -> list[str]:  # noqa: N803
    lines: list[str] = []
    most = limits.UNZIPPED.bytes // _BYTES_PER_ITEM
    for n, item in enumerate(document.iter_inner_content()):
        if n >= most:
            raise InputError(
                f"{source}: more than {most:,} paragraphs and tables, the most a .docx may "
                f"hold under the limit on its uncompressed content (one per {_BYTES_PER_ITEM} "
                f"bytes of it); if the file is trusted, raise it with the environment variable "
                f"{limits.UNZIPPED.env}=<megabytes>")
        if isinstance(item, Paragraph):
            lines.append(item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:  # a merged cell is repeated across the columns it spans
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:
                        cells.append(text)
                lines.append("\t".join(cells))
    return lines
