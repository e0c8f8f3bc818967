"""Split a report's text into headings and paragraphs, each paragraph with its section path.

The second step of the data flow: ``split_report(document.text, document.id)``. It works on the
shapes that reports have on disk: a clean speech, a web page with a toolbar and a metadata block
above the speech, a page holding the speech twice, lines broken in mid-sentence, or a single
paragraph that an analyst pasted. How each of these is decided is told in :func:`split_report`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .sentences import split_sentences
from .text import CLOSING_MARKS, CONTENT_CHAR, CONTINUING_MARKS, has_content, normalize_text

__all__ = ["Paragraph", "SplitReport", "split_report", "split_sentences"]

#: A line with a heading marker is a heading if it is at most this long (and has no inner 。).
HEADING_MAX = 40
#: A lead clause longer than this is cut at its first comma, or here.
LEAD_MAX = 60
#: Short lines at the end of a speech that do not end with 。 or ！ are page footer.
FOOTER_LINE_MAX = 40
#: A line at least this long with a sentence in it is prose, not a page header line.
PROSE_LINE_MIN = 60
#: At most this many prose lines may stand before the salutation that starts the speech (a
#: news lead, a caption); past them, a 各位代表： is one said in the middle of the speech.
PREAMBLE_PROSE_MAX = 2
#: A second copy of the speech on one page repeats this many of its opening lines.
REPEAT_LINES = 3

_NUM = "一二三四五六七八九十百零〇两"
# heading markers, outermost first; the index in this tuple (plus 1) is the heading's level
_MARKERS = tuple(
    re.compile(p)
    for p in (
        rf"^第[{_NUM}\d]+(?:部分|篇|章)",  # 第一部分
        rf"^[{_NUM}]+、",  # 一、
        rf"^[（(][{_NUM}]+[）)]",  # （一） (一)
        r"^\d{1,2}(?:[.．、](?!\d))",  # 1. 1．1、  but not 1.5亿
        r"^[（(]\d{1,2}[）)]",  # （1） (1)
    )
)
_SENTENCE_END = "。！？；!?;"
_TERMINAL = "。！？；：…!?;:.”’」』"

_SALUTATION = re.compile(
    r"^各位(?:人大)?代表(?:[、，,](?:各位[\u4e00-\u9fff]{1,6}|同志们|朋友们))*(?P<end>[：:！!]?)$"
)
_OPENING = re.compile(r"^现在[，,]?\s*我代表")
_SPACED = re.compile(r"^(?:[\u4e00-\u9fff][ \u3000]+){2,}[\u4e00-\u9fff]$")
_METADATA = re.compile(
    r"^[（(【\[]?(?:标题|原标题|发文单位|发文机关|发文时间|发文日期|发布时间|发布日期|成文日期"
    r"|来源URL|来源网址|来源|信息来源|文章来源|稿件来源|发布机构|发布单位|浏览次数|访问次数"
    r"|点击数|点击量|阅读数|阅读量|时间|日期|正文|作者|责任编辑|编辑|索引号|文号|主题分类)"
    r"\s*[：:]\s*(?P<value>.*?)[）)】\]]?$"
)
_AGENCY_DATELINE = re.compile(
    r"^(?:新华社|中新社|中新网|人民网|新华网)\S{0,12}\d{1,2}月\d{1,2}日[电讯]$"
)
#: A site's pagination of a collection (``…工作报告-42篇(第61/122页)``, ``共5页``, ``下一页``).
_PAGINATION = re.compile(
    r"[（(]\s*第\s*\d+\s*/\s*\d+\s*页\s*[)）]|第\s*\d+\s*/\s*\d+\s*页\s*$|^共\s*\d+\s*页"
    r"|第\s*\d+\s*页\s*[/／,，]?\s*共\s*\d+\s*页|^(?:首页|上一页|下一页|尾页|末页)(?:\s|$)"
    r"|^(?:[\d\s…|]|首页|上一页|下一页|尾页|末页|跳转|转到|页)*(?:上一页|下一页|尾页|末页)"
    r"(?:[\d\s…|]|首页|上一页|下一页|尾页|末页|跳转|转到|页)*$"
)
#: A page number on a line of its own, in a text saved from a paginated document: between dashes
#: (``— 3 —``, ``- 3 -``, ``— 23``) or ``第3页``. A bare digit is not one (a subscript a PDF broke
#: off its line, ``M\n2``), nor a year.
_PAGE_NUMBER = re.compile(
    r"[-—–－]+\s*\d{1,3}\s*[-—–－]*|[-—–－]*\s*\d{1,3}\s*[-—–－]+|第\s*\d{1,3}\s*页")
#: Links to the previous and next article (``上一篇：…``, ``下一篇:…``).
_ADJACENT_ARTICLE = re.compile(r"^[【\[]?(?:上一篇|下一篇|上一条|下一条|上篇|下篇|前一篇|后一篇)[】\]]?")
#: The label alone, its link on the next line.
_ADJACENT_LABEL = re.compile(r"^[【\[]?(?:上一篇|下一篇|上一条|下一条|上篇|下篇|前一篇|后一篇)[】\]]?[:：]?$")
#: A toolbar word that is chrome even alone on its line.
_STRONG_TOOLBAR = re.compile(r"分享到|关闭窗口|打印本页|返回顶部|字号")
#: A bare heading (no marker) is at most this long, without 、，：；。！？, and followed by prose.
BARE_HEADING_MAX = 20
#: Past this share of lines that do not end a sentence (a heading line aside), a text's line
#: breaks are not paragraph breaks, and no bare heading is looked for (clean reports: under
#: 0.3; texts broken in mid-sentence: 0.45 and more, in the shared corpus).
BROKEN_SHARE = 1 / 3
#: Enumeration words on a line of their own (``一是``, ``二要``, ``首先``): not headings.
_ENUMERATION = re.compile(r"^(?:[一二三四五六七八九十]+[是要]|首先|其次|再次|最后|第[一二三四五六七八九十]+)$")
_CLAUSE_PUNCTUATION = re.compile(r"[，、：；。！？,:;!?…]")
_CAPTION = re.compile(r"记者[^。！!]{0,24}摄[）)]?$")
_CAPTION_BODY = re.compile(r"^(?P<body>.*[。！!])[^。！!]*记者[^。！!]{0,24}摄[）)]?$")
_RELATED = re.compile(r"^(?:相关报道|相关链接|相关新闻|相关阅读|相关文章|延伸阅读)[：:]?$")
_TOOLBAR_TOKEN = re.compile(
    r"下载|打印|全屏|收藏|加大|还原|减小|关闭窗口|关闭|分享到|分享|返回顶部|默认|[大中小]"
    r"|本页|此页|本文|微信|微博|QQ空间|QQ好友|QQ|朋友圈|复制链接|扫一扫|二维码"
)
_TOOLBAR_SEPARATORS = re.compile(r"[\s【】\[\]|｜/／:：、]")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
#: A line of nothing but a list dash (``——``, two em dashes): on its own a symbols-only line, but
#: before a line of prose it is the opening dash of a list item the source broke off (a link's
#: line break). A single ``—`` is no list dash, and stays chrome.
_LEAD_DASH = re.compile(r"——")


@dataclass
class Paragraph:
    """A paragraph of a report.

    Attributes
    ----------
    report_id : str
        The report it belongs to.
    index : int
        Its position among the report's paragraphs, from 0; headings are not counted.
    text : str
        Its text, re-joined if the source broke it.
    section : list of str
        The headings above it, outermost first; ``[]`` before the first heading.
    """

    report_id: str
    index: int
    text: str
    section: list[str] = field(default_factory=list)


@dataclass
class SplitReport:
    """A report split into headings and paragraphs.

    Attributes
    ----------
    report_id : str
        The report's id.
    title : str or None
        The title found above the speech (``标题：``, a spaced-out or a ``…政府工作报告`` line).
    preamble : list of str
        The non-blank lines dropped before the speech: web chrome, metadata, title, dateline,
        byline, photo caption and the salutation ``各位代表：``.
    headings : list of str
        Every section entry in order: heading lines and the lead clauses of marked paragraphs.
    paragraphs : list of Paragraph
        The paragraphs of the speech, in order.
    """

    report_id: str
    title: str | None = None
    preamble: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)


def split_report(text: str, report_id: str) -> SplitReport:
    """Split a report's text into headings and paragraphs with their section paths.

    The text is normalised first (:func:`~policy_nlp.read.normalize_text`); each line is stripped.

    **Preamble.** The speech starts after the salutation ``各位代表：`` (``各位人大代表：``,
    ``各位代表、同志们：``), or at a line starting ``现在，我代表``, whichever comes first
    within the first 30% (at least 3,000 characters) of the text and before more than two
    lines of prose (lines of 60 characters or more with a sentence in them: a page's lead and
    caption may stand there, a speech's review may not); every non-blank line before it, the
    salutation included, is the preamble. If there is neither, nothing is dropped as preamble,
    and a later ``各位代表：`` is a salutation in the middle of the speech (dropped alone).

    **End.** A line ``相关报道：`` (or ``相关链接：`` …) and everything after it are dropped.
    When a speech start was found, two more cuts: if the speech's first three lines appear again
    in a row, the page holds the speech twice and the text is cut there (before the salutation
    just above it); then short lines (at most 40 characters) at the very end that do not end with 。 or ！
    are page footer and are dropped.

    **Chrome.** Anywhere, these lines are never paragraphs: lines of symbols only (no letter,
    digit, Chinese character or punctuation such as ，。”）), except a dash ``——`` right above
    a line of text (the opening dash of a list item broken off it, joined to it); page numbers
    (``— 3 —``, ``第3页``; not a bare digit, which may be a subscript broken off); toolbar
    lines (``【字号：``, or two or more of 下载/打印/全屏/收藏/加大/还原/减小 … on one line or
    adjacent lines);
    metadata lines (``标题：``, ``来源URL：``, ``正文：`` … with a short or URL value);
    news-agency datelines (``新华社北京3月16日电``); photo captions (ending in ``记者 … 摄``)
    and later lines repeating a caption's text; spaced-out titles (``政 府 工 作 报 告``, kept
    as the title if there is none); bare salutations (``各位代表！``), which carry no content.

    **Broken lines.** A line is joined to the next one, across a single line break only, unless it
    ends with sentence-final punctuation (``。！？；：…”`` …), is a heading, or the next line
    starts with a heading marker or a dash ``——``; a next line starting with punctuation that
    cannot start a sentence (``，。”）`` …) is always joined, unless to a heading. Blank lines
    always end a paragraph, so texts with one paragraph a line and with blank-line separated
    paragraphs both work.

    **Headings.** Markers, outermost first: ``第X部分``, ``一、``, ``（一）``/``(一)``, ``1.``,
    ``（1）``/``(1)``. A line with a marker, at most 40 characters long and without
    。！？； before its end, is a heading. A longer line with a marker is a paragraph whose lead
    clause (up to its first 。！？；, or if that is over 60 characters its first comma, or its
    first 60 characters and ``…``) is a run-in heading: it enters the section path at the
    marker's level for this paragraph and the following ones. Either way the entry clears the
    deeper levels, loses a trailing 。, and is listed in ``headings``.

    Parameters
    ----------
    text : str
        The report's text (a :class:`~policy_nlp.read.Document`'s ``text``), or any pasted text.
    report_id : str
        The id given to the report and its paragraphs.

    Returns
    -------
    SplitReport

    Examples
    --------
    >>> text = "各位代表：\\n一、工作回顾\\n（一）经济增长。全年增长5%。\\n明年更好。"
    >>> r = split_report(text, "x")
    >>> r.preamble, r.headings
    (['各位代表：'], ['一、工作回顾', '（一）经济增长'])
    >>> [(p.index, p.text, p.section) for p in r.paragraphs][1]
    (1, '明年更好。', ['一、工作回顾', '（一）经济增长'])
    """
    lines = [line.strip() for line in normalize_text(text).split("\n")]
    captions = {m["body"] for line in lines if (m := _CAPTION_BODY.match(line))}

    start, found = _speech_start(lines)
    preamble = [line for line in lines[:start] if line]
    body = _cut_end(lines[start:], found)
    body = _drop_chrome(body, captions)
    body, bare = _set_apart_bare_headings(body)

    result = SplitReport(report_id, title=_title(preamble), preamble=preamble)
    slots: dict[int, str] = {}
    for line in _join_broken(body):
        if _SPACED.match(line):
            result.title = result.title or re.sub(r"\s", "", line)
            continue
        if line in bare:  # a part of its own: above every numbered level
            slots = {0: line}
            result.headings.append(line)
            continue
        level = _marker_level(line)
        if level is not None:
            heading = _is_heading(line)
            entry = (line if heading else _lead_clause(line)).rstrip("。")
            slots = {k: v for k, v in slots.items() if k < level}
            slots[level] = entry
            result.headings.append(entry)
            if heading:
                continue
        if not has_content(line):
            continue  # punctuation or symbols only: nothing to classify
        section = [slots[k] for k in sorted(slots)]
        result.paragraphs.append(Paragraph(report_id, len(result.paragraphs), line, section))
    _close_parts(result.paragraphs)
    return result


#: A paragraph opening with an address to the delegates speaks to the whole part, not to the
#: sub-section it follows (``各位代表！过去的一年……``).
_ADDRESS = re.compile(r"^各位(?:人大)?代表[！!，,、]")
#: A paragraph that opens as an item of its sub-section: an enumeration word, or a short
#: run-in topic sentence (``建设更高水平平安城市。``).
_SUB_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+[是要]|第[一二三四五六七八九十]+[，,、]|首先|其次|再次"
                       r"|[^，,。；：:！!？?]{2,16}[。！!])")


def _close_parts(paragraphs: list[Paragraph]) -> None:
    """Give the paragraphs that close a part, after its last sub-section, to the part.

    A part's sub-sections run until the next heading, so the closing paragraphs of a part (a
    summary of the year, thanks, the problems ahead) would be filed under its last sub-section.
    Where the next heading leaves the part (the sub-section is the last of its siblings), two
    rules, for the paragraphs after the sub-section's first:

    * an address to the delegates (``各位代表！``/``各位代表，``) speaks to the whole: it and the
      rest go to the part (the outermost heading);
    * when the part has at least two earlier sub-sections, the last one keeps as many
      paragraphs after its first as the longest earlier sibling did; of those past that, the
      trailing ones go to the part (the parent heading), up to the last that opens as an item
      of the sub-section itself (``三是…``, ``第四，…``, or a short run-in topic sentence such
      as ``建设更高水平平安城市。``), which stays with everything before it.

    An address inside a sub-section followed by more siblings stays there: some reports close
    every sub-section with one on its own topic.
    """
    runs: list[list[Paragraph]] = []
    for p in paragraphs:
        if runs and runs[-1][0].section == p.section:
            runs[-1].append(p)
        else:
            runs.append([p])
    for k, run in enumerate(runs):
        section = run[0].section
        if len(section) < 2:
            continue
        parent = section[:-1]
        following = runs[k + 1][0].section if k + 1 < len(runs) else []
        if following[:len(parent)] == parent and len(following) >= len(section):
            continue  # the part goes on
        address = next((j for j, p in enumerate(run) if j and _ADDRESS.match(p.text)), None)
        if address is not None:
            for p in run[address:]:
                p.section = section[:1]
            run = run[:address]
        siblings = [len(r) - 1 for r in runs[:k]
                    if r[0].section[:-1] == parent and len(r[0].section) == len(section)
                    and r[0].section != section]
        if len(siblings) < 2:
            continue
        tail = run[1 + max(siblings):]
        while tail and not _SUB_ITEM.match(tail[-1].text):
            tail[-1].section = list(parent)
            tail.pop()


# --- where the speech starts and ends -----------------------------------------------------------


def _speech_start(lines: list[str]) -> tuple[int, bool]:
    """Index of the speech's first line, and whether a salutation or opening line was found.

    What comes before it must look like a page's header (titles, datelines, a caption or a
    one-paragraph lead): past :data:`PREAMBLE_PROSE_MAX` paragraphs of prose, the salutation is
    one in the middle of the speech, and nothing is dropped."""
    limit = max(3000, sum(len(line) + 1 for line in lines) * 3 // 10)
    offset = prose = 0
    for i, line in enumerate(lines):
        if offset > limit or prose > PREAMBLE_PROSE_MAX:
            break
        if _is_opening_salutation(line):
            return i + 1, True
        if _OPENING.match(line):
            return i, True
        offset += len(line) + 1
        prose += _is_prose(line)
    return 0, False


def _is_prose(line: str) -> bool:
    """A line of a speech's body rather than of a page header: long, with sentences."""
    return len(line) >= PROSE_LINE_MIN and any(c in _SENTENCE_END for c in line)


def _is_opening_salutation(line: str) -> bool:
    m = _SALUTATION.match(line)
    return m is not None and m["end"] in ("：", ":")


def _cut_end(lines: list[str], found: bool) -> list[str]:
    """Drop related links and, after a found speech start, a second copy and the page footer."""
    related = next((i for i, line in enumerate(lines) if _RELATED.match(line)), None)
    if related is not None:
        lines = lines[:related]
    if not found:
        return lines
    content = [i for i, line in enumerate(lines) if line and not _is_chrome(line)]
    opening = [lines[i] for i in content[:REPEAT_LINES]]
    # a second copy of the speech repeats its opening lines, not only its first (a stock
    # phrase such as 现在，我代表市人民政府… opens every report of a file of many)
    again = [k for k in range(1, len(content) - len(opening) + 1)
             if [lines[i] for i in content[k:k + len(opening)]] == opening]
    if opening and len(opening[0]) >= 10 and again:
        cut = content[again[0]]
        above = [i for i in range(cut) if lines[i]]
        if above and _is_opening_salutation(lines[above[-1]]):
            cut = above[-1]
        lines = lines[:cut]
    while lines and _is_footer(lines[-1]):
        lines = lines[:-1]
    return lines


def _is_footer(line: str) -> bool:
    return len(line) <= FOOTER_LINE_MAX and not line.endswith(("。", "！", "!"))


# --- chrome ------------------------------------------------------------------------------------


def _drop_chrome(lines: list[str], captions: set[str]) -> list[str]:
    """Blank out the lines that are never paragraphs (blanks keep paragraphs apart); a page
    number is taken out (a page may break a sentence, whose halves are joined then)."""
    lines = [line for line in lines if not _PAGE_NUMBER.fullmatch(line)]
    filled = [i for i, line in enumerate(lines) if line]
    tokens = {i: _toolbar_tokens(lines[i]) for i in filled}
    kept = list(lines)
    for k, i in enumerate(filled):
        n = tokens[i]
        neighbours = filled[max(k - 1, 0) : k] + filled[k + 1 : k + 2]
        toolbar = n is not None and (
            n >= 2 or _STRONG_TOOLBAR.search(lines[i]) is not None
            or any(tokens[j] is not None for j in neighbours)
        )
        line = lines[i]
        if _LEAD_DASH.fullmatch(line) and i + 1 < len(lines) and _is_words(lines[i + 1]):
            continue  # the dash of a list item (——改革开放深入推进。) broken off its text
        if toolbar or line in captions or _is_chrome(line) or _is_bare_salutation(line):
            kept[i] = ""
        elif (k > 0 and _ADJACENT_LABEL.match(lines[filled[k - 1]]) and len(line) <= 60
              and not line.endswith(tuple(_SENTENCE_END))):
            kept[i] = ""  # the link of a 上一篇： on the line above
    return kept


def _is_words(line: str) -> bool:
    """Whether a line holds Chinese words and is no chrome (a page number, a dateline …)."""
    return _CJK_CHAR.search(line) is not None and not _is_chrome(line)


def _is_chrome(line: str) -> bool:
    """Whether a line, on its own, is page chrome: no content, metadata, dateline or caption."""
    if not line:
        return False
    if not CONTENT_CHAR.search(line):
        return True
    if (m := _METADATA.match(line)) and (len(m["value"]) <= 40 or m["value"].startswith("http")):
        return True
    if len(line) <= 80 and _PAGINATION.search(line):
        return True
    if len(line) <= 120 and _ADJACENT_ARTICLE.match(line):
        return True
    return bool(_AGENCY_DATELINE.match(line) or (len(line) <= 120 and _CAPTION.search(line)))


def _toolbar_tokens(line: str) -> int | None:
    """The number of toolbar words (下载, 字号 …) if the line holds nothing else, else None."""
    rest = _TOOLBAR_SEPARATORS.sub("", line)
    n = rest.count("字号")
    rest = rest.replace("字号", "")
    if _TOOLBAR_TOKEN.sub("", rest):
        return None
    n += len(_TOOLBAR_TOKEN.findall(rest))
    return n or None


def _is_bare_salutation(line: str) -> bool:
    return _SALUTATION.match(line) is not None


def _title(preamble: list[str]) -> str | None:
    """The report's title, from a ``标题：`` line, a spaced-out line or a ``…报告`` line."""
    for line in preamble:
        if line.startswith(("标题：", "标题:")):
            return line[3:].strip() or None
        if _SPACED.match(line):
            return re.sub(r"\s", "", line)
        head = re.split(r"——|--", line, maxsplit=1)[0].strip()
        if "报告" in head and len(head) <= HEADING_MAX and not re.search("[。，]", head):
            return head
    return None


# --- lines, headings and lead clauses ------------------------------------------------------------


def _join_broken(lines: list[str]) -> list[str]:
    """Re-join lines broken in mid-sentence; blank lines end a paragraph.

    A paragraph is gathered as a list of its pieces and joined once at its end (growing one
    string piece by piece copies it each time: a page of many lines without an end
    punctuation took minutes). What :func:`_goes_on` looks at -- the paragraph's start if
    it is short enough to be a heading, its last character, its last that is not a closing
    quote or bracket -- is kept aside as the pieces come."""
    joined: list[str] = []
    pieces: list[str] = []
    length = 0
    last = core = ""  # the paragraph's last character, and its last that is not a closer
    for line in lines:
        if pieces and line:
            head = "".join(pieces) if length <= HEADING_MAX else None
            if _goes_on(head, last, core, line):
                sep = " " if last.isascii() and line[0].isascii() and line[0].isalnum() else ""
                pieces.append(sep + line if sep else line)
                length += len(sep) + len(line)
                last = line[-1]
                core = line.rstrip(CLOSING_MARKS)[-1:] or core
                continue
        if pieces:
            joined.append("".join(pieces))
        pieces = [line] if line else []
        length, last, core = len(line), line[-1:], line.rstrip(CLOSING_MARKS)[-1:]
    if pieces:
        joined.append("".join(pieces))
    return joined


def _goes_on(head: str | None, last: str, core: str, following: str) -> bool:
    """Whether a line clearly goes on in ``following`` (a break in mid-sentence); the line is
    given as ``head`` (itself if it is no longer than a heading, else None), its last
    character and its last that is not a closing quote or bracket ("" if it has none)."""
    if head is not None and _marker_level(head) is not None and _is_heading(head):
        return False
    if following.startswith(tuple(CONTINUING_MARKS)):
        return True
    if last in _TERMINAL or (core and core in _SENTENCE_END):
        return False
    return _marker_level(following) is None and not following.startswith("——")


def _set_apart_bare_headings(lines: list[str]) -> tuple[list[str], set[str]]:
    """Find the headings without a marker (``过去一年工作回顾``, ``2031年工作安排``) and set them
    apart with blank lines, so that no broken-line joining glues them to the paragraph below.

    A bare heading is known by its shape and place: a line of 2 to :data:`BARE_HEADING_MAX`
    characters with a Chinese character and no clause punctuation (、，：；。！？), that starts no
    marker and no dash; that follows a paragraph's end (a sentence-final mark, a blank line or
    the start of the text; not a heading line); and that is followed by body text: a line starting with
    a marker, or one at least twice as long (and 30 characters) with a sentence in it. A line
    of text broken at a fixed width is never that much shorter than the next one, and a title
    or dateline above the speech is not followed by prose. Not an enumeration word (``一是``),
    not before a line that goes on a sentence (``”时期…``), and not at all in a text whose
    lines mostly break sentences (:data:`BROKEN_SHARE`)."""
    filled = [i for i, line in enumerate(lines) if line]
    found: set[int] = set()
    open_lines = sum(1 for i in filled if not lines[i].endswith(tuple(_TERMINAL))
                     and not (_marker_level(lines[i]) is not None and _is_heading(lines[i])))
    if open_lines > BROKEN_SHARE * len(filled):
        return lines, found  # lines broken in mid-sentence: a short one is no sign
    for k, i in enumerate(filled[:-1]):
        line = lines[i]
        if not (2 <= len(line) <= BARE_HEADING_MAX and _CJK_CHAR.search(line)
                and not _CLAUSE_PUNCTUATION.search(line) and _marker_level(line) is None
                and not line.startswith("——") and not _SALUTATION.match(line)
                and not _ENUMERATION.match(line)):
            continue
        if k > 0 and filled[k - 1] == i - 1:
            prev = lines[i - 1]
            ends = (prev.endswith(tuple(_TERMINAL))
                    or prev.rstrip(CLOSING_MARKS).endswith(tuple(_SENTENCE_END))
                    or filled[k - 1] in found)
            if _marker_level(prev) is not None and _is_heading(prev):
                continue  # under a heading line, a short line is that section's text
            if not ends:
                continue
        nxt = lines[filled[k + 1]]
        if nxt.startswith(tuple(CONTINUING_MARKS)):
            continue
        if _marker_level(nxt) is not None or (
                len(nxt) >= max(30, 2 * len(line)) and any(c in _SENTENCE_END for c in nxt)):
            found.add(i)
    if not found:
        return lines, set()
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in found:
            out.extend(("", line, ""))
        else:
            out.append(line)
    return out, {lines[i] for i in found}


def _marker_level(line: str) -> int | None:
    """The heading level (1 = outermost) of the marker the line starts with, if any."""
    for level, marker in enumerate(_MARKERS, 1):
        if marker.match(line):
            return level
    return None


def _is_heading(line: str) -> bool:
    """Whether a line that starts with a marker is a heading line (short, one sentence at most)."""
    return len(line) <= HEADING_MAX and not any(c in _SENTENCE_END for c in line[:-1])


def _lead_clause(line: str) -> str:
    """The lead clause of a paragraph that starts with a heading marker."""
    end = next((i for i, c in enumerate(line) if c in _SENTENCE_END), len(line))
    if end <= LEAD_MAX:
        return line[:end]
    comma = line.find("，", 0, LEAD_MAX)
    return line[:comma] if comma > 0 else line[:LEAD_MAX] + "…"
