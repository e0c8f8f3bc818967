"""Text helpers every step uses; this module imports nothing of the package.

Normalising: :func:`normalize_text` (line ends, invisible characters, indents), what a text
must hold to be classified (:func:`has_content`), lone surrogates (:func:`without_surrogates`),
traditional characters as simplified ones (:func:`to_simplified`, what the models see).

Display width: how many terminal columns a string takes. Chinese characters and full-width
forms take two (Unicode East Asian Width W and F). So do the punctuation marks whose width
Unicode leaves "ambiguous" (A) and that Chinese text uses as full-width marks -- “ ” ‘ ’ — …
-- since the CJK fonts that draw a Chinese report draw them two columns wide; set
``POLICY_NLP_AMBIGUOUS_WIDTH=1`` for a terminal that draws them narrow.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

__all__ = ["CLOSING_MARKS", "CONTENT_CHAR", "CONTINUING_MARKS", "clip", "display_width",
           "has_content", "is_blank", "normalize_text", "pad", "to_simplified",
           "to_simplified_all", "without_surrogates"]

#: Marks that close a quotation or a bracket.
CLOSING_MARKS = "”’」』）)\"'"
#: Punctuation that goes on what came before: a line (or a piece) starting with one of these.
CONTINUING_MARKS = "，。、；：！？”’」』）》,;:!?)"
#: A character that makes a line or a piece more than punctuation: a letter or digit of any
#: script, or continuing punctuation.
CONTENT_CHAR = re.compile(rf"[^\W_]|[{CONTINUING_MARKS}]")

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85\x0c]")
_INDENT = re.compile("^[ \t\u00a0\u3000]+", re.MULTILINE)
_TRAILING = re.compile("[ \t\u00a0\u3000]+$", re.MULTILINE)
_BLANKS = " \t\u00a0\u3000"  # what _INDENT and _TRAILING remove
# a character that _LINE_BREAKS or _ZERO_WIDTH replaces
_ODD_CHARS = re.compile("[\r\u2028\u2029\x85\x0c\u200b\u200c\u200d\u2060\ufeff]")
_WORD_CHAR = re.compile(r"[^\W_]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_SPLIT = re.compile("([\ud800-\udfff])")


def normalize_text(text: str) -> str:
    """Normalise line ends, invisible characters and indents, leaving the content intact.

    CRLF, lone CR (and Unicode line/paragraph separators, form feeds) become LF; zero-width
    characters (U+200B..U+200D, U+2060, U+FEFF) are removed wherever they are; each line loses its
    indent (spaces, tabs, NBSP, full-width U+3000) and its trailing whitespace. Nothing else is
    changed: no width folding, no change of punctuation, blank lines are kept.

    Examples
    --------
    >>> normalize_text("\\u3000\\u3000一、工作回顾 \\r\\n\\u200b现在，\\r")
    '一、工作回顾\\n现在，\\n'
    """
    if _ODD_CHARS.search(text) is not None:
        text = _LINE_BREAKS.sub("\n", text)
        text = _ZERO_WIDTH.sub("", text)
    if "\n" not in text:  # one line (most records): strip its ends, no regex needed
        return text.strip(_BLANKS)
    text = _INDENT.sub("", text)
    return _TRAILING.sub("", text)


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing but whitespace and zero-width characters."""
    return not _ZERO_WIDTH.sub("", text).strip()


def has_content(text: str) -> bool:
    """Whether a text has anything to classify: a letter, CJK character or digit."""
    return _WORD_CHAR.search(text) is not None


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: what Python makes of a byte that
    is not UTF-8 in a command-line argument, say, is no character (it can be neither
    segmented nor written as UTF-8)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


@lru_cache(maxsize=4096)
def _char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    eaw = unicodedata.east_asian_width(c)
    if eaw in "WF":
        return 2
    if eaw == "A" and 0x2010 <= ord(c) <= 0x206F:
        return 1 if os.environ.get("POLICY_NLP_AMBIGUOUS_WIDTH") == "1" else 2
    return 1


def display_width(s: str) -> int:
    """The terminal columns ``s`` takes (see the module docstring)."""
    return sum(_char_width(c) for c in s)


def clip(s: str, width: int) -> str:
    """``s`` cut to ``width - 1`` columns (ending in … where cut) and padded to ``width``: a
    cell that always leaves at least one blank column before the next (``width`` of 4 or
    more; the … itself may take two)."""
    if display_width(s) <= width - 1:
        return s + " " * (width - display_width(s))
    ellipsis = _char_width("…")
    out, w = [], 0
    for c in s:
        cw = _char_width(c)
        if w + cw > width - 1 - ellipsis:
            break
        out.append(c)
        w += cw
    return "".join(out) + "…" + " " * max(0, width - w - ellipsis)


def pad(s: str, width: int) -> str:
    """``s`` followed by spaces up to ``width`` columns (at least one)."""
    return s + " " * max(1, width - display_width(s))


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # OpenCC's own tables and phrase rules (Apache-2.0), compiled

    return opencc.OpenCC("t2s")


#: the characters without which OpenCC's t2s leaves a text unchanged, derived from its
#: dictionaries by scripts/opencc_t2s_triggers.py (its docstring says why the skip is exact)
T2S_TRIGGERS = "opencc_t2s.json"


@lru_cache(maxsize=1)
def _t2s_triggers():
    """Two boolean tables of the characters of :data:`T2S_TRIGGERS`: by code point (up to
    the last of them, then one more entry, False, for every code point beyond), and by UTF-16
    code unit (the surrogates True too). None, to convert every text, where the installed
    OpenCC's configuration or dictionaries are not those the set was derived from (their
    sha256 differ) or cannot be found."""
    import json
    from importlib import resources
    from pathlib import Path

    try:
        stored = json.loads((resources.files("policy_nlp") / "data" / T2S_TRIGGERS)
                            .read_text(encoding="utf-8"))
        return trigger_tables(stored, Path(_t2s().config).parent)
    except (OSError, ValueError, AttributeError):
        return None


def trigger_tables(stored: dict, share):
    """The tables of :func:`_t2s_triggers` from the contents of :data:`T2S_TRIGGERS`, if every
    file it names has its sha256 in ``share`` (the installed OpenCC's folder), else None."""
    import hashlib

    import numpy as np

    try:
        for name, digest in stored["files"].items():
            if hashlib.sha256((share / name).read_bytes()).hexdigest() != digest:
                return None
    except (OSError, KeyError, TypeError, AttributeError):
        return None
    points = np.array([ord(c) for c in stored["chars"]], np.intp)
    table = np.zeros(int(points.max(initial=0)) + 2, bool)
    table[points] = True
    units = np.zeros(1 << 16, bool)
    units[: min(len(table), 1 << 16)] = table[: 1 << 16]
    units[0xD800:0xE000] = True
    return table, units


def _may_change(texts: list[str]) -> list[int] | None:
    """The indices of the texts that hold a character of :data:`T2S_TRIGGERS` (in order),
    the only ones OpenCC's t2s may change; None when every text must be converted.

    A batch where every character is one UTF-16 code unit (none beyond U+FFFF) is read as
    UTF-16, ~3x faster to encode than UTF-32; a lone surrogate then counts as a trigger (its
    text is converted, as any text was before). Any other batch is read as code points."""
    tables = _t2s_triggers()
    if tables is None:
        return None
    import numpy as np

    joined = "".join(texts)
    units = np.frombuffer(joined.encode("utf-16-le", "surrogatepass"), np.uint16)
    if len(units) == len(joined):  # one unit per character: positions are characters
        hits = np.flatnonzero(tables[1].take(units))
    else:
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
        hits = np.flatnonzero(tables[0].take(points.astype(np.intp), mode="clip"))
    if not len(hits):
        return []
    ends = np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)))
    return np.unique(np.searchsorted(ends, hits, side="right")).tolist()


def to_simplified(text: str) -> str:
    """``text`` in simplified characters: OpenCC's traditional-to-simplified conversion
    (``t2s``, phrase by phrase), what the models see of a paragraph (``FeatureSpec.simplify``).

    A report in traditional characters (the 1954 national report as digitised, texts from Hong
    Kong or Taiwan archives) then has the features of its simplified twin. On text already in
    simplified characters it changes next to nothing: in the 14,738 paragraphs of the shared
    corpus, apart from the reports of 1954 and 1957, 20 characters (variant forms in names of
    places and firms, 濛溪河 and 昇腾; 拚 as 拼; 沈 for Shenyang as 沉).

    >>> to_simplified("我們第一屆全國人民代表大會")
    '我们第一届全国人民代表大会'
    >>> to_simplified("推进碳达峰碳中和")
    '推进碳达峰碳中和'

    A text without any of the characters that OpenCC's t2s dictionaries change (a character
    of :data:`T2S_TRIGGERS`: most paragraphs in simplified characters) is returned as it is,
    without calling OpenCC, which would return it unchanged.
    """
    if text.isascii() or _may_change([text]) == []:
        return text
    return _convert(text)


def to_simplified_all(texts: list[str]) -> list[str]:
    """:func:`to_simplified` of every text of a batch: OpenCC is called only for the texts
    that hold a character of :data:`T2S_TRIGGERS`, found for the whole batch at once."""
    convert = _may_change(texts)
    if convert is None:
        return [to_simplified(t) for t in texts]
    out = list(texts)
    for i in convert:
        out[i] = _convert(texts[i])
    return out


def _convert(text: str) -> str:
    """OpenCC's t2s conversion of ``text``, lone surrogates kept as they are."""
    try:
        return _t2s().convert(text)
    except UnicodeEncodeError:  # a lone surrogate (from a notebook, say): the rest converted
        parts = _SURROGATE_SPLIT.split(text)
        return "".join(p if i % 2 else _t2s().convert(p) for i, p in enumerate(parts))
