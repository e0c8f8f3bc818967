"""N-gram keys and hash tables: the vectorised machinery under :mod:`policy_nlp.features`.

Characters become integer code points and every character n-gram (n <= 3) one int64 key (21
bits a character); tokens map to ids and word n-grams to int64 keys in base V + 1. A
vocabulary's keys go into an open-addressing hash table, probed with whole-array numpy steps.
Used by the fitting side (``fit_featurizer``) and the replaying side (``Featurizer``) alike.
"""

from __future__ import annotations

import re

import numpy as np

# scikit-learn's own whitespace folding for character analyzers
WHITE_SPACES = re.compile(r"\s\s+")

# which code points are whitespace (``\s``, str.isspace): up to U+3000, the last one, and then
# False for all above
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x3001)] + [False])


def char_codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code point + 1 of every character of the analysed texts (as ``char_analyzer``), and
    each text's length."""
    docs = [t.lower() for t in texts]
    points = np.frombuffer("".join(docs).encode("utf-32-le", "surrogatepass"), np.uint32)
    space = _IS_SPACE[np.minimum(points, len(_IS_SPACE) - 1)]
    if (space[1:] & space[:-1]).any():  # runs of whitespace to fold (rare: the search is
        # dearer than this test, and a run across two texts only costs the search)
        docs = [WHITE_SPACES.sub(" ", d) for d in docs]
        points = np.frombuffer("".join(docs).encode("utf-32-le", "surrogatepass"), np.uint32)
    lens = np.fromiter(map(len, docs), np.int64, len(docs))
    codes = points.astype(np.int64)
    codes += 1
    return codes, lens


def ngram_key_pairs(codes: np.ndarray, lens: np.ndarray, ngram: tuple[int, int],
                base: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(doc, key) of every n-gram (lo <= n <= hi) inside a text, over concatenated ``codes``
    (0 = a position no n-gram may use). ``base`` None: 21-bit character keys; else ids in
    that base."""
    n_pos = len(codes)
    ends = np.repeat(np.cumsum(lens), lens)
    doc_of = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    starts = np.arange(n_pos, dtype=np.int64)
    docs_out, keys_out = [], []
    lo, hi = ngram
    for n in range(lo, hi + 1):
        m = n_pos - n + 1
        if m <= 0:
            break
        key = codes[:m].copy()
        valid = (starts[:m] + n <= ends[:m]) & (key > 0)
        for j in range(1, n):
            nxt = codes[j : j + m]
            valid &= nxt > 0
            if base is None:
                key |= nxt << (CHAR_BITS * j)
            else:
                key += nxt * base**j
        docs_out.append(doc_of[:m][valid])
        keys_out.append(key[valid])
    if not docs_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(docs_out), np.concatenate(keys_out)


def decode_key(key: int, names: list[str], base: int, sep: str) -> str:
    parts = []
    while key:
        key, r = divmod(key, base)
        parts.append(names[r])
    return sep.join(parts)


CHAR_BITS = 21  # every code point (< 0x110000) + 1 fits in 21 bits; three fit in an int64


_EMPTY = -1  # keys are positive
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _slots(keys: np.ndarray, bits: int) -> np.ndarray:
    """Fibonacci hashing of int64 keys to ``bits``-bit slots."""
    h = keys.view(np.uint64) * _GOLDEN
    h >>= np.uint64(64 - bits)
    return h.view(np.int64)


def hash_table(keys: np.ndarray) -> np.ndarray:
    """An open-addressing hash table (linear probing, load <= 1/4) of ``keys`` -> their
    index: one row (key, index) per slot, so that a probe that hits reads one cache line;
    built and probed with whole-array numpy steps. About 5x faster to probe than
    ``np.searchsorted`` on the sorted keys."""
    bits = max(int(4 * len(keys)).bit_length(), 4)
    size = 1 << bits
    table = np.full((size, 2), _EMPTY, np.int64)
    table_keys, table_vals = table[:, 0], table[:, 1]
    pending = np.arange(len(keys), dtype=np.int64)
    slot = _slots(np.ascontiguousarray(keys, np.int64), bits)
    while len(pending):
        s = slot[pending]
        free = table_keys[s] == _EMPTY
        cand, cs = pending[free], s[free]
        taken, first = np.unique(cs, return_index=True)  # one key per free slot per round
        winners = cand[first]
        table_keys[taken] = keys[winners]
        table_vals[taken] = winners
        placed = np.zeros(len(keys), bool)
        placed[winners] = True
        pending = pending[~placed[pending]]
        slot[pending] = (slot[pending] + 1) & (size - 1)
    return table


def hash_lookup(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The value of each key in the table, -1 where it is absent."""
    out = np.full(len(keys), -1, np.int64)
    table_keys, table_vals = table[:, 0], table[:, 1]
    size = len(table)
    keys = np.ascontiguousarray(keys, np.int64)
    slot = _slots(keys, size.bit_length() - 1)
    idx = np.arange(len(keys), dtype=np.int64)
    while len(idx):
        found = table_keys[slot]
        hit = found == keys
        out[idx[hit]] = table_vals[slot[hit]]
        go_on = (found != _EMPTY) & ~hit
        idx, keys, slot = idx[go_on], keys[go_on], (slot[go_on] + 1) & (size - 1)
    return out


def char_keys(terms: list[str]) -> np.ndarray:
    """The int64 key of each term of at most 3 characters (code point + 1, 21 bits each)."""
    lens = np.fromiter(map(len, terms), np.int64, len(terms))
    codes = np.frombuffer("".join(terms).encode("utf-32-le", "surrogatepass"), np.uint32)
    codes = codes.astype(np.int64) + 1
    starts = np.zeros(len(terms), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    keys = np.zeros(len(terms), np.int64)
    for j in range(int(lens.max()) if len(terms) else 0):
        sel = lens > j
        keys[sel] |= codes[starts[sel] + j] << (CHAR_BITS * j)
    return keys
