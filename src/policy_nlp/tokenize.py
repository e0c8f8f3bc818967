"""Paragraph -> words: a jieba segmenter with the policy lexicon, on a private tokenizer.

Two backends segment the same way with the same dictionary and the same lexicon:

- ``rjieba`` (the default): a binding of jieba-rs, the Rust port of jieba, about 15x faster;
  its own ``Jieba()`` instance gets the lexicon with ``add_word(term, freq)``;
- ``jieba``: the Python original, the reference.

On the 14,738 paragraphs of the shared corpus the two give identical :func:`tokenize` output for
99.97% of paragraphs (``python scripts/tokenizer_parity.py`` lists the differences: jieba-rs
keeps a decimal number glued to Latin letters, ``1.1gw``, as one token). jieba-rs also keeps
``1-2`` or ``Micro-LED`` whole where jieba cuts at the hyphen; :func:`segment` cuts those
tokens at ``-`` and ``_`` as jieba does. A model records its backend
(``FeatureSpec.tokenizer``, and the card's ``tokenizer``) and always predicts with it.

jieba's global ``jieba.dt`` is shared state: adding the lexicon there would change every other
user of jieba in the process. This module builds its own ``jieba.Tokenizer()``, once per process
and only on first use (building the prefix dictionary takes about a second), and adds the policy
lexicon (``data/policy_lexicon.txt``, built by ``scripts/build_lexicon.py``) to it, so that terms
such as 新质生产力, 碳中和, 两个确立, 放管服 and 专精特新 stay whole.

Two views of a text:

- :func:`segment` is jieba's raw precise-mode segmentation with the lexicon: every token,
  whitespace and punctuation included, so that the pieces join back to the text.
- :func:`tokenize` gives the features: the text is NFKC-normalised (full-width digits and Latin
  letters become ASCII), punctuation, symbols and whitespace are dropped, Latin is lower-cased,
  and every number (``2023``, ``5.2%``, ``1,234.5``) becomes the one token ``<num>``.

:func:`tokenize` is a module-level function, so ``TfidfVectorizer(analyzer=tokenize)`` pickles
by reference and works in joblib worker processes, each of which builds its own tokenizer.

Examples
--------
>>> tokenize("加快发展新质生产力，推进碳达峰碳中和。")
['加快', '发展', '新质生产力', '推进', '碳达峰', '碳中和']
>>> tokenize("GDP增长５．２％")
['gdp', '增长', '<num>']
"""

# ruff: noqa: RUF002 (Chinese text has full-width punctuation and digits)
from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from bisect import bisect_right
from functools import cache, lru_cache
from itertools import accumulate
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba
    import rjieba

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "HMM",
    "NUM_TOKEN",
    "TOKENIZER_NAME",
    "lexicon_sha256",
    "lexicon_terms",
    "raw_tokens_batch",
    "segment",
    "tokenize",
    "tokenizer_name",
]

LEXICON_FILE = "policy_lexicon.txt"
BACKENDS = ("rjieba", "jieba")
DEFAULT_BACKEND = "rjieba"


def __getattr__(name: str) -> str:
    # TOKENIZER_NAME, the reference tokenizer's name (models trained before rjieba record it),
    # is computed on first use: importlib.metadata costs ~20 ms at every cold start
    if name == "TOKENIZER_NAME":
        return tokenizer_name("jieba")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tokenizer_name(backend: str = DEFAULT_BACKEND) -> str:
    """``<backend>-<version>+policy-lexicon``, as recorded in model cards."""
    _check_backend(backend)
    return f"{backend}-{metadata.version(backend)}+policy-lexicon"


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown tokenizer backend {backend!r} (one of {', '.join(BACKENDS)})")

# jieba's HMM joins runs of characters that its dictionary (older than most reports) lacks into
# words. It stays on: it keeps the newer policy vocabulary whole (文旅, 科创, 赋能, 康养, 托育,
# 经开区, 规上, 降碳) where HMM off would leave single characters; on the labeled paragraphs both
# scored the same (see data/policy_lexicon.README.md), and HMM off is only ~10% faster.
HMM = True
# Every run of digits, with decimals, thousands separators or a percent sign, becomes this token:
# figures say "this paragraph is about targets and results", their values say nothing of the
# theme, and as themselves they would make thousands of one-off features (10% of the vocabulary
# of the labeled paragraphs; keeping or dropping them scored the same).
NUM_TOKEN = "<num>"

_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

_DASH = re.compile(r"([-_])")
_DASH_CHAR = re.compile(r"[-_]")

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_rtokenizer: rjieba.Jieba | None = None


def _lexicon_bytes() -> bytes:
    return resources.files("policy_nlp").joinpath("data", LEXICON_FILE).read_bytes()


@cache
def _lexicon() -> tuple[tuple[str, int], ...]:
    """The lexicon's ``(term, frequency)`` pairs, checked line by line."""
    entries = []
    for lineno, line in enumerate(_lexicon_bytes().decode("utf-8").splitlines(), 1):
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1].isdigit():
            raise ValueError(f"{LEXICON_FILE}:{lineno}: expected 'term frequency', got {line!r}")
        entries.append((parts[0], int(parts[1])))
    return tuple(entries)


@cache
def lexicon_terms() -> frozenset[str]:
    """The terms of the policy lexicon."""
    return frozenset(term for term, _ in _lexicon())


@cache
def lexicon_sha256() -> str:
    """SHA-256 of the lexicon file's bytes, for model cards."""
    return hashlib.sha256(_lexicon_bytes()).hexdigest()


def _build() -> jieba.Tokenizer:
    import jieba

    logger = logging.getLogger("jieba")
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)  # no "Building prefix dict ..." on stderr
    tok = jieba.Tokenizer()
    tok.initialize()
    for term, freq in _lexicon():
        tok.add_word(term, freq)
    return tok


def _singleton(name: str, build):
    """The module global ``name``, built by ``build()`` on first use (once, under a lock)."""
    tok = globals()[name]
    if tok is None:
        with _lock:
            if globals()[name] is None:
                globals()[name] = build()
            tok = globals()[name]
    return tok


def _jieba() -> jieba.Tokenizer:
    """This process's jieba tokenizer with the lexicon, built on first use."""
    return _singleton("_tokenizer", _build)


def _rjieba_class() -> type:
    """rjieba's ``Jieba`` class, from its compiled module directly when possible: the package's
    ``__init__`` builds a default instance that loads the dictionary (~0.15 s) that this
    module never uses, which would double the dictionary's cost at every cold start."""
    import importlib.util
    import sys

    module = sys.modules.get("rjieba.rjieba")
    if module is None:
        try:
            spec = importlib.util.find_spec("rjieba")
            where = spec.submodule_search_locations if spec else None
            ext = next(Path(where[0]).glob("rjieba.*.so"), None) if where else None
            ext_spec = importlib.util.spec_from_file_location("rjieba.rjieba", ext) if ext else None
            if ext_spec is None or ext_spec.loader is None:
                raise ImportError("no compiled rjieba module")
            module = importlib.util.module_from_spec(ext_spec)
            ext_spec.loader.exec_module(module)
            sys.modules["rjieba.rjieba"] = module
        except (ImportError, OSError, StopIteration):
            import rjieba

            return rjieba.Jieba
    return module.Jieba


def _build_rjieba() -> rjieba.Jieba:
    tok = _rjieba_class()()
    for term, freq in _lexicon():
        tok.add_word(term, freq, None)
    return tok


def _rjieba() -> rjieba.Jieba:
    """This process's rjieba segmenter with the lexicon, built on first use (~0.2 s)."""
    return _singleton("_rtokenizer", _build_rjieba)


def _cut(text: str, backend: str) -> list[str]:
    """Precise-mode segmentation of ``text`` with the lexicon, by ``backend``."""
    if backend == "rjieba":
        try:
            tokens = _rjieba().cut(text, HMM)
        except UnicodeEncodeError:  # a lone surrogate (a bad byte of a command-line argument
            # decoded by Python, say) is no character and jieba-rs takes only UTF-8: cut it as
            # U+FFFD, as the readers do
            from .text import without_surrogates

            text = without_surrogates(text)
            tokens = _rjieba().cut(text, HMM)
        if "-" in text or "_" in text:  # jieba cuts at these; jieba-rs keeps "1-2" whole
            tokens = _split_dashes(tokens, text)
        return tokens
    if backend == "jieba":
        return list(_jieba().cut(text, HMM=HMM))
    _check_backend(backend)
    raise AssertionError  # pragma: no cover


def _split_dashes(tokens: list[str], text: str) -> list[str]:
    """``tokens`` (which join to ``text``) with every token longer than one character cut at
    ``-`` and ``_`` (keeping them). Only the tokens that hold a dash are looked at: a batch of
    a thousand paragraphs nearly always has a dash somewhere."""
    ends = list(accumulate(map(len, tokens)))
    if not ends or ends[-1] != len(text):  # not a segmentation of text: look at every token
        return [p for t in tokens for p in (_DASH.split(t) if len(t) > 1 else (t,)) if p]
    hit = sorted({bisect_right(ends, m.start()) for m in _DASH_CHAR.finditer(text)})
    out: list[str] = []
    prev = 0
    for i in hit:
        if len(tokens[i]) > 1:
            out.extend(tokens[prev:i])
            out.extend(p for p in _DASH.split(tokens[i]) if p)
            prev = i + 1
    if not prev:
        return tokens
    out.extend(tokens[prev:])
    return out


def _check_text(text: object, caller: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{caller}() expects a str, got {type(text).__name__}")


def segment(text: str, backend: str = DEFAULT_BACKEND) -> list[str]:
    """Precise-mode segmentation of ``text`` with the policy lexicon: all tokens,
    whitespace and punctuation included (``"".join(segment(t)) == t``).

    >>> segment("推进“放管服”改革")
    ['推进', '“', '放管服', '”', '改革']
    """
    _check_text(text, "segment")
    return _cut(text, backend)


@lru_cache(maxsize=1 << 16)
def _feature(token: str) -> str | None:
    """The feature a token of normalised text becomes, or None to drop it."""
    if _NUMBER.fullmatch(token):
        return NUM_TOKEN
    if all(unicodedata.category(ch)[0] in "PSZC" for ch in token):
        return None  # punctuation, symbols, whitespace, control characters
    return token.lower()


# NFKC maps full-width ASCII (U+FF01-FF5E) and the ideographic space to ASCII; report text is
# full of them (，：；（）), which makes every paragraph "not normalised" and normalize() slow.
_FULLWIDTH = {"\u3000": " ", **{chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}}
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")


def _ascii_of(match: re.Match) -> str:
    return _FULLWIDTH[match.group()]



def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, about 3x faster on report text: full-width
    ASCII is translated first (as NFKC maps it), and the rest normalised only if the quick
    check says it is not NFKC already (say, a translated letter followed by a combining mark)."""
    fast = _FULLWIDTH_RE.sub(_ascii_of, text)  # 3x faster than str.translate on CJK text
    if unicodedata.is_normalized("NFKC", fast):
        return fast
    return unicodedata.normalize("NFKC", text)


def raw_tokens(text: str, backend: str = DEFAULT_BACKEND) -> list[str]:
    """The segmentation :func:`tokenize` starts from: of the NFKC-normalised text, thousands
    separators removed; ``feature_of`` of each token gives the features."""
    _check_text(text, "tokenize")
    text = _nfkc(text)
    if "," in text:
        text = _THOUSANDS.sub("", text)
    return _cut(text, backend)


# the separator between the texts of a batch cut at once: whitespace, where jieba always cuts
BATCH_SEPARATOR = "\n"


def raw_tokens_batch(texts: list[str], backend: str = DEFAULT_BACKEND) -> list[str] | None:
    """:func:`raw_tokens` of each text, all in one list with :data:`BATCH_SEPARATOR` between
    the texts (one token each, and so ``len(texts) - 1`` of them); None where the texts
    cannot be cut as one (the jieba backend, or a text that holds a line break itself).

    rjieba segments the whole batch in one call (~15% faster than text by text): jieba
    segments the runs of CJK, Latin letters and digits between other characters on their own,
    and a line break is one token of its own, so joining the texts with line breaks changes
    no token (``tests/test_tokenize.py`` checks this on the shared corpus).
    """
    for text in texts:
        _check_text(text, "tokenize")
    if backend != "rjieba":
        return None
    norm = list(map(_nfkc, texts))
    if any("\n" in t or "\r" in t for t in norm):
        return None
    joined = BATCH_SEPARATOR.join(norm)
    if "," in joined:
        joined = _THOUSANDS.sub("", joined)
    return _cut(joined, backend)


def feature_of(token: str) -> str | None:
    """The feature a token of :func:`raw_tokens` becomes, or None to drop it."""
    return _feature(token)


def tokenize(text: str, backend: str = DEFAULT_BACKEND) -> list[str]:
    """The word features of ``text``: its segmentation without punctuation and whitespace,
    Latin lower-cased, numbers as ``<num>``.

    >>> tokenize("2023年，营商环境持续优化！")
    ['<num>', '年', '营商环境', '持续', '优化']
    """
    return [f for f in map(_feature, raw_tokens(text, backend)) if f is not None]
