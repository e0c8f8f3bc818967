"""One report file -> its text: plain text, Word (.docx), PDF (text layer) or a web page.

The format is chosen by the file's extension; a file with another extension whose first bytes
say PDF, Word or HTML is read as that. Each reader (:mod:`.word`, :mod:`.pdf`, :mod:`.webpage`)
returns the document's text as lines, one paragraph (or heading) per line, which
:mod:`policy_nlp.read.documents` normalises and hands to the splitter like the text of a
``.txt`` report, so headings, paragraphs and section paths come out the same way whatever the
format. The third-party libraries are imported only when a file of their format is read; where
one is missing, :class:`~policy_nlp.errors.InputError` says what to install.
"""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

from ... import limits
from ...errors import InputError
from ..decode import decode_report, read_bytes, read_head, read_pipe
from ..problems import OnError, handle_problem
from .pdf import page_problem, pdf_text
from .webpage import declared_charset, html_text
from .word import docx_text

__all__ = ["HTML_SUFFIXES", "declared_charset", "docx_text", "html_text", "page_problem",
           "pdf_text", "report_text", "sniff_format"]

log = logging.getLogger("policy_nlp.read")

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]",
                         re.IGNORECASE | re.DOTALL)


def sniff_format(path: Path, suffix: str) -> str:
    """The format to read a report file as: by extension, else by its first bytes."""
    if suffix == ".docx":
        return "docx"
    if suffix == ".pdf":
        return "pdf"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix == ".doc":
        raise InputError(f"{path}: an old binary Word .doc file; save it as .docx (or PDF)")
    head = read_head(path)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except (zipfile.BadZipFile, OSError):
            pass
    if _HTML_START.match(head):
        return "html"
    return "text"


def report_text(path: Path, suffix: str, on_error: OnError | None
                ) -> tuple[str, str, str | None]:
    """One report file -> (format, text not yet normalised, encoding or None): text, Word, PDF
    or web page. A pipe (a FIFO, a shell's ``<(…)``) is read once as the text of one report,
    or a web page by its extension."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISFIFO(st.st_mode):
        return _piped_report_text(path, suffix, on_error)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is {limits.file_kind(st.st_mode)}, not a regular file")
    if st.st_size == 0:
        raise InputError(f"{path}: file is empty")
    fmt = sniff_format(path, suffix)
    encoding: str | None = None
    if fmt == "docx":
        text = docx_text(path)
    elif fmt == "pdf":
        text = pdf_text(path, lambda warning: handle_problem(on_error, warning))
    elif fmt == "html":
        text, encoding = _html_report(read_bytes(path), path, on_error)
    else:
        text, encoding = decode_report(read_bytes(path), str(path), on_error)
    if fmt != "text" and suffix not in (f".{fmt}", ".htm", ".xhtml", ".shtml"):
        log.info("%s: read as %s (by its content)", path, fmt)
    return fmt, text, encoding


def _piped_report_text(path: Path, suffix: str, on_error: OnError | None
                       ) -> tuple[str, str, str | None]:
    """:func:`report_text` of a pipe: its bytes read once, as text or (by its extension, or
    its first bytes) a web page; a Word file or PDF needs a regular file to be read."""
    data = read_pipe(path)
    if not data:
        raise InputError(f"{path}: a pipe that gave no data")
    if suffix in (".docx", ".pdf", ".doc") or data.startswith((b"%PDF-", b"PK\x03\x04")):
        raise InputError(f"{path}: a pipe; a Word file or PDF must be a regular file "
                         "(save it to a file first)")
    if suffix in HTML_SUFFIXES or _HTML_START.match(data[:4096]):
        return ("html", *_html_report(data, path, on_error))
    return ("text", *decode_report(data, str(path), on_error))


def _html_report(data: bytes, path: Path, on_error: OnError | None) -> tuple[str, str | None]:
    """The text of a web page's bytes, and the encoding: the declared one, else detected."""
    declared = declared_charset(data)
    text = encoding = None
    if declared:
        try:
            text, encoding = data.decode(declared), declared
        except UnicodeDecodeError:
            log.info("%s: not in its declared charset %s; detecting", path, declared)
    if text is None:
        text, encoding = decode_report(data, str(path), on_error)
    return html_text(text, str(path)), encoding
