"""Split a paragraph into sentences, for ``label --unit sentence`` and sentence-weighted training.

A step beside :mod:`policy_nlp.split` (which splits a report into paragraphs): the rules are
in :func:`split_sentences`.
"""

from __future__ import annotations

from .text import CLOSING_MARKS, CONTENT_CHAR, CONTINUING_MARKS

__all__ = ["SENTENCE_TERMINATORS", "split_sentences"]

#: Sentence-final punctuation, full-width and half-width (not ``.``: it is a decimal point too).
SENTENCE_TERMINATORS = "。！？；!?;"
#: Paired marks whose content is never split: quotes, book titles and brackets.
_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "《": "》", "（": "）", "(": ")", "【": "】"}
_OPENERS = {close: open_ for open_, close in _PAIRS.items()}


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences at 。！？； and their half-width forms ``!?;``.

    A sentence keeps the marks that close it: repeated terminators (``！？``) and closing quotes
    or brackets right after them (``。”``, ``；）``). Nothing inside a pair of quotes
    (``“…”``, ``‘…’``, ``「…」``, ``『…』``, ``"…"``), book-title marks ``《…》`` or brackets
    ``（…）``, ``(…)``, ``【…】`` is split, so a quoted passage stays whole in its sentence;
    a quote or bracket that is never closed protects nothing. Pieces are stripped, and a piece
    of punctuation alone goes with the sentence before it.

    Parameters
    ----------
    text : str
        A paragraph.

    Returns
    -------
    list of str
        The sentences in order; ``[]`` for a blank text. Joined, they give back the text less
        the whitespace between sentences.

    Examples
    --------
    >>> split_sentences("稳增长。他说：“要实干！要担当。”再出发；好吗?")
    ['稳增长。', '他说：“要实干！要担当。”再出发；', '好吗?']
    """
    protected = _protected(text)
    pieces: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        if text[i] in SENTENCE_TERMINATORS and not protected[i]:
            i += 1
            while i < n and (text[i] in SENTENCE_TERMINATORS or text[i] in CLOSING_MARKS):
                i += 1
            pieces.append(text[start:i])
            start = i
        else:
            i += 1
    pieces.append(text[start:])
    sentences: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if sentences and not CONTENT_CHAR.search(piece.strip(CONTINUING_MARKS + CLOSING_MARKS)):
            sentences[-1] += piece
        else:
            sentences.append(piece)
    return sentences


def _protected(text: str) -> list[bool]:
    """For each character, whether it lies inside a matched pair of quotes or brackets."""
    stack: list[tuple[str, int]] = []
    depth = [0] * (len(text) + 1)  # a difference array of the matched spans
    for i, c in enumerate(text):
        if c == '"':  # the same mark opens and closes
            if stack and stack[-1][0] == '"':
                depth[stack.pop()[1]] += 1
                depth[i] -= 1
            else:
                stack.append((c, i))
        elif c in _PAIRS:
            stack.append((c, i))
        elif c in _OPENERS:
            opener = _OPENERS[c]
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == opener:
                    depth[stack[k][1]] += 1
                    depth[i] -= 1
                    del stack[k:]  # openers above it were never closed
                    break
    inside, level = [], 0
    for d in depth[:-1]:
        level += d
        inside.append(level > 0)
    return inside
