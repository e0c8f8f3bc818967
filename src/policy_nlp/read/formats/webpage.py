"""Web pages (.html/.htm, lxml): the article body as text, one block a line.

The charset declared by the page (else detected like a text file); the article body is the
element holding most paragraph text that is not link text, found by scoring ``<p>``-like blocks
and their ancestors (the idea of Readability); navigation, header, footer, sidebars, scripts,
styles and forms are dropped first. Block elements and ``<br>`` end lines; a line break in the
page's source between two Chinese characters is not a space.
"""

from __future__ import annotations

import re

from ...errors import InputError
from .base import require, short_error

__all__ = ["declared_charset", "html_text"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_DROP_TAGS = (
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "nav", "header",
    "footer", "aside", "form", "select", "button", "input", "textarea", "head", "object", "embed",
    "video", "audio", "map",
)
_BLOCK_TAGS = frozenset((
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
    "ol", "dl", "dt", "dd", "tr", "table", "tbody", "thead", "tfoot", "blockquote", "pre",
    "center", "figure", "figcaption", "hr", "address", "caption", "td", "th",
))
_CHROME_HINT = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|header|footer|foot|sidebar|side|breadcrumb|crumb|share|"
    r"related|recommend|comment|toolbar|tools|copyright|banner|login|search|ad|ads|links?)"
    r"(?:$|[\s_-])",
    re.I,
)
_METADATA_BLOCK = re.compile(
    r"(?:发布时间|发布日期|发文日期|浏览次数|点击数|阅读次数|字体|字号)\s*[:：]|【\s*(?:打印|关闭)"
)
_SPACE_RUN = re.compile(r"[ \t\r\n\f]+")
_CJK_BREAK = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])[ \t\r\n\f]*\n"
                        r"[ \t\r\n\f]*(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])")


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KB (``<meta charset>`` or http-equiv)."""
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii").lower()
    if name in ("gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "euc-cn"):
        return "gb18030"  # the superset: pages declared gb2312 routinely use GBK characters
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def html_text(text: str, source: str) -> str:
    """The article text of a web page, one block a line (see the module's description)."""
    lxml_html = require("lxml.html", "lxml", "web pages", source)
    from lxml import etree

    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str with an XML declaration
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"{source}: not a readable web page ({short_error(exc)})") from None
    for el in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _remove(el)
    for el in list(root.iter(*_DROP_TAGS)):
        _remove(el)
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.tag in ("html", "body"):
            continue
        hint = f"{el.get('class', '')} {el.get('id', '')}"
        if _CHROME_HINT.search(hint) and _text_len(el) < 2000:
            _remove(el)
    body = _main_node(root)
    out: list[str] = []
    _render(body, out)
    rendered = "".join(out)
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in rendered.split("\n")]
    return "\n".join(line for line in lines if line)


def _remove(el) -> None:
    """Remove an element but keep its tail text (the text after it belongs to its parent)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _text_len(el) -> int:
    return sum(len(t.strip()) for t in el.itertext())


def _main_node(root):
    """The element holding the article: most paragraph text that is not link text."""
    scores: dict = {}
    for el in root.iter("p", "div", "td", "section", "article", "pre", "li"):
        if any(child.tag in ("p", "div", "section", "article", "table") for child in el):
            continue  # a container; its paragraphs are counted themselves
        if _METADATA_BLOCK.search(el.text_content()[:200]):
            continue  # the date/source/font-size line above an article is not its text
        own = _text_len(el)
        links = sum(_text_len(a) for a in el.iter("a"))
        value = own - 2 * links
        if value <= 0:
            continue
        sentences = len(re.findall("[，。；！？,.;!?]", el.text_content()))
        value = value + 20 * sentences if sentences else value / 2  # prose, not a menu
        if sum(1 for _ in el.iter("br")) >= 2:  # paragraphs as <br> lines: it is the container
            scores[el] = scores.get(el, 0) + value
            value /= 2
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + value
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + value / 2
    if not scores:
        body = root.find("body")
        return body if body is not None else root
    best = max(scores, key=scores.get)
    # a report split over several sibling containers: take their common parent
    parent = best.getparent()
    if parent is not None and scores.get(parent, 0) > 1.3 * scores[best]:
        best = parent
    return best


def _render(el, out: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    block = tag in _BLOCK_TAGS
    if tag == "br":
        out.append("\n")
    elif block:
        out.append("\n")
    if el.text and tag != "br":
        out.append(_inline(el.text))
    for child in el:
        _render(child, out)
        if child.tail:
            out.append(_inline(child.tail))
    if tag in ("td", "th"):
        out.append("\t")
    elif block:
        out.append("\n")


def _inline(text: str) -> str:
    """Source whitespace of inline text: a line break between Chinese characters vanishes."""
    return _CJK_BREAK.sub("", text).replace("\n", " ")
