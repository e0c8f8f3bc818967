"""Text helpers every step uses; this module imports nothing of the package.

Display width: how many terminal columns a string takes. Chinese characters and full-width
forms take two (Unicode East Asian Width W and F). So do the punctuation marks whose width
Unicode leaves "ambiguous" (A) and that Chinese text uses as full-width marks -- “ ” ‘ ’ — …
-- since the CJK fonts that draw a Chinese report draw them two columns wide; set
``POLICY_NLP_AMBIGUOUS_WIDTH=1`` for a terminal that draws them narrow.
"""

from __future__ import annotations

import os
import unicodedata
from functools import lru_cache

__all__ = ["clip", "display_width", "pad"]


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
