"""PDF (text layer): paragraphs re-joined, running headers, footers and page numbers dropped.

pypdfium2 (PDFium, the PDF engine of Chromium) reads the text layer with the position of every
character. Lines are re-joined into paragraphs where the PDF broke them (a line that runs to the
right margin goes on in the next one unless that is indented or set apart), running headers and
footers (a line at the top or foot of the page that repeats on other pages, digits aside) and
page numbers (``— 3 —``, ``- 3 -``, ``第3页``, ``3/20``) are dropped. Chosen over pypdf, which
splits glyph-by-glyph positioned Chinese text into one character a line, and over pdfminer.six,
which reads these PDFs as well but 10 to 30 times slower (``scripts/compare_pdf_libs.py``). A
PDF with a font that is not embedded is read with pdfminer.six instead, from the PDF's own codes
and widths, as PDFium's text then depends on the fonts installed on the machine
(:func:`pdf_text`). A page whose text looks damaged is reported. A PDF without a text layer (a
scan) is refused: OCR it first.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError, InputWarning
from .base import require, short_error

__all__ = ["page_problem", "pdf_text"]

_PAGE_NUMBER = re.compile(
    r"^[\s\-－—–_·•|]*(?:第\s*)?[\dⅠ-Ⅻⅰ-ⅻ]+(?:\s*页)?(?:\s*[/／]\s*(?:共\s*)?\d+\s*页?)?"
    r"[\s\-－—–_·•|]*$|^(?:page|p\.)\s*\d+(?:\s*(?:of|/)\s*\d+)?$",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HEADING_MARKER = re.compile(
    r"^(?:第[一二三四五六七八九十百\d]+(?:部分|篇|章)|[一二三四五六七八九十百]+、"
    r"|[（(][一二三四五六七八九十百]+[）)]|\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[）)])"
)
_SENTENCE_END = ("。", "！", "？", "；", "：", "”", "」", "!", "?", ";", ":", ".")


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float  # PDF coordinates: y grows upwards
    bottom: float
    page: int
    page_height: float
    page_width: float

    @property
    def height(self) -> float:
        return self.top - self.bottom


def pdf_text(path: Path, on_problem: Callable[[InputWarning], None] | None = None) -> str:
    """The text layer of a PDF as paragraphs, one a line (see the module's description).

    Where every font that draws text is embedded in the file (or is one of the 14 standard
    fonts, which PDFium carries), PDFium reads it. Where one is not (a CJK font such as
    STSong-Light, referred to by name only, as many government PDFs do), PDFium substitutes a
    font of this machine, and its text layer depends on that: without a CJK font installed, a
    text object of one character gets an empty box and PDFium leaves it out (a line's last
    ``。``, every character of a PDF drawn a character at a time). Such a file is read with
    pdfminer.six instead, which places each character by the PDF's own width tables, so the
    text is the same on any machine.

    ``on_problem`` is called with an :class:`InputWarning` for each page whose text (running
    headers and footers aside) looks damaged (mostly not Chinese, garbled, or Chinese without punctuation; see
    :func:`page_problem`); the text is kept. Without it the first such warning is raised.

    Raises
    ------
    InputError
        For a file that is not a readable PDF, an encrypted one, or one without a text layer.
    """
    pdfium = require("pypdfium2", "pypdfium2", "PDF files", str(path))
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        detail = str(exc)
        if "password" in detail.lower():
            raise InputError(f"{path}: the PDF is encrypted; save an unprotected copy") from None
        raise InputError(f"{path}: not a readable PDF ({detail})") from None
    try:
        if _fonts_embedded(pdf):
            lines = []
            for i in range(len(pdf)):
                page = pdf[i]
                try:
                    lines.extend(_page_lines(page, i))
                finally:
                    page.close()
        else:
            lines = _pdfminer_lines(path)
    finally:
        pdf.close()
    if not any(line.text.strip() for line in lines):
        raise InputError(f"{path}: the PDF has no text layer (a scan?); run OCR on it first")
    body = _drop_headers_and_footers(lines)
    for page_index, page_lines in itertools.groupby(body, key=lambda ln: ln.page):
        problem = page_problem("".join(ln.text for ln in page_lines))
        if problem:
            warning = InputWarning(f"{path}: page {page_index + 1}: {problem}; the text was "
                                   "kept as read (check this page against the PDF)")
            if on_problem is None:
                raise warning
            on_problem(warning)
    return "\n".join(_join_lines(body))


#: The 14 fonts every PDF reader carries (PDFium has their glyphs and metrics built in).
_STANDARD_FONTS = re.compile(r"^(?:[A-Z]{6}\+)?(?:Courier|Helvetica|Times|Symbol|ZapfDingbats)")


def _fonts_embedded(pdf) -> bool:
    """Whether every font drawing text in the document is embedded (or a standard font)."""
    import ctypes

    import pypdfium2.raw as raw

    get_embedded = getattr(raw, "FPDFFont_GetIsEmbedded", None)
    if get_embedded is None:  # an old PDFium: we cannot tell, so read it the safe way
        return False
    seen: dict[int, bool] = {}
    for i in range(len(pdf)):
        page = pdf[i]
        try:
            for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_TEXT,), max_depth=8):
                font = raw.FPDFTextObj_GetFont(obj.raw)
                key = ctypes.cast(font, ctypes.c_void_p).value or 0
                if key not in seen:
                    size = raw.FPDFFont_GetBaseFontName(font, None, 0)
                    buf = ctypes.create_string_buffer(max(size, 1))
                    raw.FPDFFont_GetBaseFontName(font, buf, size)
                    name = buf.value.decode("latin-1")
                    seen[key] = bool(get_embedded(font)) or bool(_STANDARD_FONTS.match(name))
                if not seen[key]:
                    return False
        finally:
            page.close()
    return True


def _pdfminer_lines(path: Path) -> list[_Line]:
    """The text lines of every page, read with pdfminer.six from the PDF's own font metrics.

    Characters come in the order the page draws them; a character starts a new line where it
    leaves the current line's baseline by more than half its size or goes back left of the
    previous character. A gap wider than half a character between two characters that are not
    both Chinese becomes a space (PDFium does the same).
    """
    require("pdfminer", "pdfminer.six", "PDFs whose fonts are not embedded", str(path))
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTChar, LTContainer
    from pdfminer.pdfinterp import PDFPageInterpreter
    from pdfminer.pdfpage import PDFPage

    manager = _unicode_cid_manager()
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)

    def chars_of(item):
        for child in item:
            if isinstance(child, LTChar):
                yield child
            elif isinstance(child, LTContainer):
                yield from chars_of(child)

    lines: list[_Line] = []
    try:
        with path.open("rb") as fh:
            for page_index, page in enumerate(PDFPage.get_pages(fh)):
                interpreter.process_page(page)
                layout = device.get_result()
                x_origin, y_origin, x_end, y_end = layout.bbox
                width, height = x_end - x_origin, y_end - y_origin
                current: list[tuple[str, object]] = []  # (text, its LTChar, or None)

                def end_line():
                    text = "".join(t for t, _ in current).strip()
                    inked = [c for t, c in current if c is not None and not t.isspace()]
                    if text and inked:
                        lines.append(_Line(
                            text=text,
                            x0=min(c.x0 for c in inked) - x_origin,
                            x1=max(c.x1 for c in inked) - x_origin,
                            top=max(c.y1 for c in inked) - y_origin,
                            bottom=min(c.y0 for c in inked) - y_origin,
                            page=page_index, page_height=height, page_width=width,
                        ))
                    current.clear()

                prev = None
                for char in chars_of(layout):
                    text = char.get_text()
                    if prev is not None:
                        size = max(prev.size, char.size, 1.0)
                        if abs(char.y0 - prev.y0) > 0.5 * size or char.x0 < prev.x0 - 0.5 * size:
                            end_line()
                        elif (char.x0 - prev.x1 > 0.5 * size and not text.isspace()
                              and not current[-1][0].isspace()
                              and not (_CJK.match(text) and _CJK.match(current[-1][0]))):
                            current.append((" ", None))
                    current.append((text, char))
                    prev = char
                end_line()
    except InputError:
        raise
    except Exception as exc:  # pdfminer raises its own and struct/zlib/key errors on bad files
        raise InputError(f"{path}: not a readable PDF ({short_error(exc)})") from None
    return lines


#: Predefined CMaps whose character codes are the characters' Unicode (UCS-2) values.
_UNICODE_CMAP = re.compile(r"^Uni(?:GB|CNS|JIS|KS)-UCS2-[HV]$")


class _CodeCid(int):
    """A CID that remembers the character code it was drawn with."""

    code: int


def _unicode_cid_manager():
    """A pdfminer.six resource manager that reads a CID font in a Unicode-based predefined
    encoding (``UniGB-UCS2-H``, as reportlab and many producers write STSong-Light) by its
    codes: the text of each character is its code (the encoding says so), its width that of
    its CID. pdfminer's own copy of these CMaps lacks some codes (``·`` U+00B7 among them),
    and a code missing there would be dropped without a word."""
    from pdfminer.pdffont import PDFCIDFont
    from pdfminer.pdfinterp import PDFResourceManager
    from pdfminer.psparser import literal_name

    class Manager(PDFResourceManager):
        def get_font(self, objid, spec):
            font = super().get_font(objid, spec)
            encoding = spec.get("Encoding") if objid is None else None
            if (isinstance(font, PDFCIDFont) and not getattr(font, "_by_code", False)
                    and "ToUnicode" not in spec and encoding is not None
                    and _UNICODE_CMAP.match(str(literal_name(encoding)))):
                cmap = font.cmap

                def decode(data: bytes, cmap=cmap):
                    for i in range(0, len(data) - 1, 2):
                        pair = data[i:i + 2]
                        cid = _CodeCid(next(iter(cmap.decode(pair)), 0))
                        cid.code = int.from_bytes(pair, "big")
                        yield cid

                font.decode = decode
                font.to_unichr = lambda cid: chr(cid.code)
                font._by_code = True
            return font

    return Manager(caching=True)


_GARBLED = re.compile(r"[\ufffd\ue000-\uf8ff\u2e80-\u2fdf\x00-\x08\x0b\x0e-\x1f]")
_CID_NAME = re.compile(r"\(cid:\d+\)")
_PUNCTUATION = re.compile(r"[，。、；：！？,.;:!?]")
_LETTER = re.compile(r"[^\W\d_]")


def page_problem(text: str) -> str | None:
    """What looks wrong with the text read from one page, or None.

    Thresholds, for a page with enough text to judge (30 letters): garbled, if 5% of its
    characters are replacement characters, private-use code points, radicals (what a broken
    ToUnicode map gives), control characters or glyphs without a character (``(cid:123)``); mostly not Chinese, if fewer than half its
    letters are Chinese characters (a Chinese report set in a font whose text layer maps to
    Latin-1 reads as ``¹ú¼Ò``); Chinese without punctuation, if 200 Chinese characters come
    with fewer than 1 punctuation mark per 100 (report prose has about 1 per 10).
    """
    chars = _CID_NAME.sub("\ufffd", re.sub(r"\s+", "", text))  # pdfminer's unmapped glyph
    letters = _LETTER.findall(chars)
    if len(letters) < 30:
        return None
    garbled = len(_GARBLED.findall(chars))
    if garbled >= 0.05 * len(chars):
        return (f"the text layer looks garbled ({garbled} of {len(chars)} characters are "
                "replacement, private-use or control characters or radicals)")
    cjk = len(_CJK.findall(chars))
    if cjk < 0.5 * len(letters):
        return (f"the text layer is mostly not Chinese ({cjk} of {len(letters)} letters are "
                "Chinese characters): a font without a proper Unicode map?")
    punctuation = len(_PUNCTUATION.findall(chars))
    if cjk >= 200 and punctuation < 0.01 * cjk:
        return (f"{cjk} Chinese characters but {punctuation} punctuation marks: punctuation "
                "dropped from the text layer?")
    return None


def _page_lines(page, page_index: int) -> list[_Line]:
    """The text lines of a page with their boxes, in PDFium's reading order."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    height, width = page.get_height(), page.get_width()
    try:
        n = textpage.count_chars()
        lines: list[_Line] = []
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float]] = []

        def end_line():
            text = "".join(chars)
            if text.strip():
                inked = [b for b, c in zip(boxes, text, strict=True) if not c.isspace()]
                lines.append(_Line(
                    text=text.strip(),
                    x0=min(b[0] for b in inked), x1=max(b[2] for b in inked),
                    top=max(b[3] for b in inked), bottom=min(b[1] for b in inked),
                    page=page_index, page_height=height, page_width=width,
                ))
            chars.clear()
            boxes.clear()

        pending_high = None
        for i in range(n):
            code = raw.FPDFText_GetUnicode(textpage.raw, i)
            if 0xD800 <= code < 0xDC00:  # a surrogate pair comes as two characters
                pending_high = code
                continue
            if 0xDC00 <= code < 0xE000 and pending_high is not None:
                code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
                pending_high = None
            ch = chr(code) if code else ""
            if ch in ("\r", "\n"):
                if ch == "\n" or chars:
                    end_line()
                continue
            if not ch or ch == "\ufffe":
                continue
            chars.append(ch)
            boxes.append(textpage.get_charbox(i, loose=True) if not ch.isspace()
                         else (0.0, 0.0, 0.0, 0.0))
        end_line()
        return lines
    finally:
        textpage.close()


#: What a browser prints in a page's margins ("Save as PDF"): the page's URL (with the page
#: counter ``3/12`` beside it) and the date and time of printing (with the page's title).
_BROWSER_MARGIN = re.compile(
    r"(?:^|\s)(?:file|https?)://\S+"
    r"|^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}(?:[,\s]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?(?:\s|$)"
)


def _margin_key(text: str) -> str:
    """A running header or footer's text; in a short one (``第 3 页``, ``2024年报告 - 3``)
    numbers are blanked, as they change from page to page (not in a longer one: the first
    lines of pages of a numbered list differ only in their numbers)."""
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\d+", "#", text) if len(text) <= 25 else text


def _drop_headers_and_footers(lines: list[_Line]) -> list[_Line]:
    """Drop page numbers and running headers/footers from the top and foot of each page.

    A line is in a page's margin if it is the first or last line of the page (also the second
    or second to last, for a header with a rule or two lines) and lies in the top or bottom 15%
    of the page. It is dropped if it is a page number, what a browser prints there (a URL, the
    date and time), or if it is at most 100 characters long and its text (numbers aside, in a
    line of at most 25 characters) stands in the margin of at least two pages (and of a third of the pages, for long documents) at
    the same height -- whatever the text, the report's own title included (the title as a
    heading on the first page is not at that height, and stays).
    """
    pages: dict[int, list[_Line]] = {}
    for line in lines:
        pages.setdefault(line.page, []).append(line)
    candidates: list[_Line] = []
    for page_lines in pages.values():
        ordered = sorted(page_lines, key=lambda ln: -ln.top)
        for line in ordered[:2] + ordered[-2:]:
            if line.top > 0.85 * line.page_height or line.bottom < 0.15 * line.page_height:
                candidates.append(line)
    seen = {id(ln) for ln in candidates}
    candidates = [ln for ln in lines if id(ln) in seen]  # unique, in order
    where: dict[str, list[_Line]] = {}
    for line in candidates:
        where.setdefault(_margin_key(line.text), []).append(line)
    need = max(2, len(pages) // 3)
    drop = set()
    for line in candidates:
        level = max(0.5 * line.height, 1.0)
        same_height = {ln.page for ln in where[_margin_key(line.text)]
                       if abs(ln.top - line.top) <= level}
        running = len(same_height) >= need and len(line.text) <= 100
        if running or _PAGE_NUMBER.match(line.text) or _BROWSER_MARGIN.search(line.text):
            drop.add(id(line))
    return [ln for ln in lines if id(ln) not in drop]


def _join_lines(lines: list[_Line]) -> list[str]:
    """Re-join the lines of the body into paragraphs.

    A line starts a new paragraph if it is indented (starts more than 0.8 of a character right
    of the body's left margin), if the previous line stopped short of the right margin by more
    than 1.5 characters, if it starts with a heading marker (``一、``, ``（二）`` …) after a
    sentence's end, or if, on the same page, a gap of more than 1.6 line pitches lies between.
    In a document without first-line indents (block paragraphs), a previous line that ends a
    sentence more than half a character short of the margin also ends its paragraph; where
    paragraphs are indented that is no sign, since a full line of unjustified Chinese can stop
    up to a character short. Otherwise the line goes on the previous one.
    """
    if not lines:
        return []
    size = statistics.median(ln.height for ln in lines) or 10.0
    lefts = Counter(round(ln.x0) for ln in lines)  # the body's left margin: the most common
    left = min(x for x, n in lefts.items() if n == max(lefts.values()))  # start, leftmost on a tie
    rights = sorted(ln.x1 for ln in lines)
    right = rights[int(0.9 * (len(rights) - 1))]
    if len(lines) < 8:  # too few lines to see the right margin: take it as wide as the left
        right = max(right, lines[0].page_width - left)
    pitches = [a.top - b.top for a, b in itertools.pairwise(lines)
               if a.page == b.page and 0 < a.top - b.top < 4 * size]
    pitch = statistics.median(pitches) if pitches else 1.5 * size
    cjk = len(_CJK.findall("".join(ln.text for ln in lines[:200]))) > 0.3 * sum(
        len(ln.text) for ln in lines[:200])
    indented = sum(1 for ln in lines if ln.x0 > left + 0.8 * size) >= 0.03 * len(lines)
    paragraphs: list[str] = []
    prev: _Line | None = None
    for line in lines:
        ends_sentence = prev is not None and prev.text.endswith(_SENTENCE_END)
        starts_new = (
            prev is None
            or line.x0 > left + 0.8 * size
            or prev.x1 < right - 1.5 * size
            or (ends_sentence and _HEADING_MARKER.match(line.text) is not None)
            or (not indented and ends_sentence and prev.x1 < right - 0.5 * size)
            or (line.page == prev.page and prev.top - line.top > 1.6 * pitch)
        )
        if starts_new:
            paragraphs.append(line.text)
        else:
            last = paragraphs[-1]
            glue = "" if cjk or last.endswith("-") else " "
            if last.endswith("-") and not cjk:
                last = last[:-1]
            paragraphs[-1] = last + glue + line.text
        prev = line
    return paragraphs
