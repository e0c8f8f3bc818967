"""Build test documents in the shapes reports reach users: Word, PDF and a saved web page.

Used by the reader tests (on fixture text written for them, and on real reports from
``../shared/samples/raw`` converted at test time; nothing converted is committed) and by
``scripts/compare_pdf_libs.py``. A report is given as a list of blocks, each a heading or a
paragraph, as the splitter should give them back.

PDFs are laid out the way government PDFs are: a running header on every page, a page number
("— 3 —") at the foot, paragraphs with a two-character first-line indent broken into lines at a
fixed width, no blank line between paragraphs, and paragraphs running across page breaks.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

#: Where a CJK TrueType font may be found (Debian's fonts-wqy-microhei, fonts-noto-cjk, ...).
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


def find_cjk_ttf() -> Path | None:
    """A CJK TrueType font on this machine, or None (then only the CID-font PDF is built).

    The system's fonts first, else the SimHei that mplfonts (a dependency of the ``plot`` and
    ``test`` extras) installs into site-packages: a font file to embed, which PDFium reads from
    the PDF, not a font installed on the machine."""
    for candidate in CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    try:
        import mplfonts
    except ImportError:
        pass
    else:
        simhei = Path(mplfonts.__file__).parent / "fonts" / "SimHei.ttf"
        if simhei.is_file():
            return simhei
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             check=False).stdout
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if path.endswith((".ttf", ".ttc")) and Path(path).is_file():
                return Path(path)
    return None


def blocks_of_text(text: str) -> list[str]:
    """The non-blank lines of a plain-text report, stripped: one block each."""
    return [line.strip().replace("\u3000", "") for line in text.splitlines() if line.strip()]


# --- Word --------------------------------------------------------------------------------------


def make_docx(path: Path, blocks: list[str], *, headings: set[str] = frozenset(),
              title: str | None = None, table: list[list[str]] | None = None,
              header_text: str | None = None) -> Path:
    """A .docx: the title, each block a paragraph (``headings`` as Heading 1), page header text.

    ``table`` adds a table after the first paragraph (its cells are not report paragraphs).
    A paragraph is written as several runs, as Word stores edited text.
    """
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    if header_text:
        doc.sections[0].header.paragraphs[0].text = header_text
    if title:
        doc.add_heading(title, level=0)
    for i, block in enumerate(blocks):
        if block in headings:
            doc.add_heading(block, level=1)
        else:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            third = max(1, len(block) // 3)
            for part in (block[:third], block[third:2 * third], block[2 * third:]):
                if part:
                    p.add_run(part)
        if i == 0 and table:
            t = doc.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    t.cell(r, c).text = cell
    doc.save(path)
    return path


# --- PDF ---------------------------------------------------------------------------------------


def _wrap(text: str, width: float, measure) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (character by character, as CJK)."""
    lines, line = [], ""
    for ch in text:
        if line and measure(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    if line:
        lines.append(line)
    return lines


def make_pdf(path: Path, blocks: list[str], *, headings: set[str] = frozenset(),
             running_header: str | None = "某市人民政府工作报告", font: str = "cid",
             font_size: float = 12, page_numbers: bool | str = True, justify: bool = True,
             glyphs: bool = False, indent: bool = True, header_last: bool = False,
             browser: str | None = None, title: str | None = None) -> Path:
    """A PDF with reportlab: ``font="cid"`` uses the built-in STSong-Light CID font (not
    embedded, as many government PDFs), ``font="ttf"`` embeds a CJK TrueType font found on
    this machine (see :func:`find_cjk_ttf`). ``justify`` spaces the characters of every full
    line so that it ends at the right margin, as typeset reports do. ``glyphs`` draws every
    character as a text object of its own, as some PDF producers do. Without ``indent``,
    paragraphs are blocks set apart by a blank line's space instead of a first-line indent.

    ``running_header`` is drawn at the top of every page (after the page's body with
    ``header_last``, as some producers order it), ``page_numbers`` at the foot: ``True`` or
    ``"dash"`` for ``— 3 —``, ``"page"`` for ``第 3 页``, ``"of"`` for ``3 / 12``. ``browser``
    (a URL) adds a browser's "Save as PDF" header and footer instead: the date and time at the
    top left, the page's ``title`` centred, the URL at the bottom left and ``3/12`` at the bottom
    right, in a small font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    if font == "cid":
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        name = "STSong-Light"
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    elif font == "ttf":
        from reportlab.pdfbase.ttfonts import TTFont

        ttf = find_cjk_ttf()
        if ttf is None:
            raise FileNotFoundError("no CJK TrueType font on this machine")
        name = "CJK-TTF"
        pdfmetrics.registerFont(TTFont(name, str(ttf), subfontIndex=0))
    else:
        raise ValueError(font)
    page_w, page_h = A4
    left, right, top, bottom = 72, page_w - 72, page_h - 80, 80
    leading = font_size * 1.8

    def measure(s):
        return pdfmetrics.stringWidth(s, name, font_size)

    # lay out first (pages of (x, y, text, char space)), then draw: the footer needs the count
    pages: list[list[tuple[float, float, str, float]]] = [[]]
    y = top
    first_indent = 2 * font_size if indent else 0
    for block in blocks:
        if not indent and y < top:
            y -= leading  # the space between block paragraphs
        is_heading = block in headings
        first_width = right - left - (0 if is_heading else first_indent)
        lines = _wrap(block, first_width, measure)
        if len(lines) > 1:  # re-wrap the rest at the full width
            rest = "".join(lines[1:])
            lines = [lines[0], *_wrap(rest, right - left, measure)]
        for i, line in enumerate(lines):
            if y < bottom:
                pages.append([])
                y = top
            x = left + (first_indent if i == 0 and not is_heading else 0)
            space = 0.0
            if justify and i < len(lines) - 1 and len(line) > 1:  # full lines flush right
                space = (right - x - measure(line)) / (len(line) - 1)
            pages[-1].append((x, y, line, space))
            y -= leading
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(title or running_header or "")
    total = len(pages)

    def margins(number):
        if browser:
            c.setFont(name, 8)
            c.drawString(20, page_h - 20, "2031/1/12 10:30")
            c.drawCentredString(page_w / 2, page_h - 20, title or "")
            c.drawString(20, 16, browser)
            c.drawRightString(page_w - 20, 16, f"{number}/{total}")
            return
        if running_header:
            c.setFont(name, 9)
            c.drawCentredString(page_w / 2, page_h - 50, running_header)
        if page_numbers:
            style = {True: "— {n} —", "dash": "— {n} —", "page": "第 {n} 页",
                     "of": "{n} / {total}"}[page_numbers]
            c.setFont(name, 10)
            c.drawCentredString(page_w / 2, 45, style.format(n=number, total=total))

    for number, page in enumerate(pages, 1):
        if not header_last:
            margins(number)
        c.setFont(name, font_size)
        for x, y, line, space in page:
            if glyphs:
                for ch in line:
                    c.drawString(x, y, ch)
                    x += measure(ch) + space
            else:
                c.drawString(x, y, line, charSpace=space)
        if header_last:
            margins(number)
        c.showPage()
    c.save()
    return path


# --- HTML --------------------------------------------------------------------------------------

_CHROME_TOP = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}">
<title>{title}_某市人民政府门户网站</title>
<style>body {{ font-family: sans-serif; }} .nav li {{ display: inline; }}</style>
<script>var _hmt = _hmt || []; document.write("统计代码");</script>
</head><body>
<div class="top-bar">无障碍浏览 | 长者模式 | 登录 | 注册</div>
<div class="header"><div class="logo">某市人民政府</div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zw">政务公开</a></li>
<li><a href="/fw">政务服务</a></li><li><a href="/hd">互动交流</a></li>
<li><a href="/sq">走进某市</a></li></ul>
</div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zw">政务公开</a>
 &gt; 政府工作报告</div>
<div class="main"><div class="sidebar"><h3>热点专题</h3><ul>
<li><a href="/a">优化营商环境专题</a></li><li><a href="/b">乡村振兴专题</a></li>
<li><a href="/c">学习贯彻党的二十大精神</a></li></ul></div>
<div class="article">
<h1>{title}</h1>
<div class="info">发布时间：2031-01-20 来源：市政府办公室 【字体：大 中 小】 【打印】 【关闭】</div>
<div class="TRS_Editor" id="zoom">
"""

_CHROME_BOTTOM = """</div>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="related"><h3>相关阅读</h3><ul><li><a href="/x">市长主持召开常务会议</a></li>
<li><a href="/y">关于印发某市十五五规划纲要的通知</a></li></ul></div>
</div></div>
<div class="footer"><p>主办：某市人民政府办公室 承办：某市大数据管理局</p>
<p>网站标识码：1234000001 备案号：某ICP备12345678号 公安机关备案号：12345</p>
<p>联系我们 | 网站地图 | 隐私声明</p></div>
<script>console.log("footer");</script>
</body></html>
"""


def make_html(path: Path, blocks: list[str], *, headings: set[str] = frozenset(),
              title: str = "2031年某市人民政府工作报告", charset: str = "utf-8",
              br: bool = False) -> Path:
    """A government web page: navigation, breadcrumb, sidebar, toolbar, share links, related
    articles and footer around the article, whose paragraphs are ``<p>`` (headings ``<p><strong>``,
    as such pages do) or, with ``br``, lines of one block separated by ``<br>`` as older sites
    have them, written in ``charset``."""
    parts = [_CHROME_TOP.format(title=html.escape(title), charset=charset)]
    for block in blocks:
        text = html.escape(block)
        if br:
            parts.append(f"\u3000\u3000{text}<br>\n")
        elif block in headings:
            parts.append(f'<p style="text-indent:2em"><strong>{text}</strong></p>\n')
        else:
            parts.append(f'<p style="text-indent:2em">{text}</p>\n')
    parts.append(_CHROME_BOTTOM)
    path.write_bytes("".join(parts).encode(charset))
    return path
