"""Compiled inner loops of the featurizer, with numba (optional: ``pip install
'policy-nlp[fast]'``).

:func:`ngram_counts` does in one pass, per text, what :class:`~policy_nlp.features.Featurizer`
otherwise does with a dozen whole-batch numpy steps: form every n-gram key, look it up in the
vocabulary's hash table, and count the distinct columns. It gives exactly the (text, column,
count) triples of the numpy path (``tests/test_features.py`` checks both against each other
and against scikit-learn); the tf-idf weights are then computed by the same numpy code.

Numba compiles the loop on first use and caches the machine code beside this module (or in
numba's user cache directory), so only the first run on a machine pays for the compilation.
Nothing here is imported unless a batch is large enough to use it, so ``classify --text``
never loads numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

@njit(cache=True, nogil=True)
def ngram_counts(codes, lens, lo, hi, base, char_bits, table_keys, table_vals, bits,
                 n_terms):  # pragma: no cover
    """(entries per text, columns, counts) of the vocabulary n-grams of each text, columns
    ascending within a text.

    ``codes``: per-position positive codes of the concatenated texts (0: no n-gram may use
    the position); ``lens``: positions per text. A key is ``c0 | c1 << char_bits | ...`` when
    ``base`` is 0 (characters), else ``c0 + c1 * base + c2 * base**2 ...`` (token ids).
    ``table_keys``/``table_vals``: the open-addressing table of
    :func:`policy_nlp.features._hash_table` (Fibonacci hashing, linear probing, -1 empty),
    of ``2**bits`` slots; the values are columns ``< n_terms``.
    """
    n_docs = lens.shape[0]
    size = table_keys.shape[0]
    mask = np.uint64(size - 1)
    shift = np.uint64(64 - bits)
    golden = np.uint64(0x9E3779B97F4A7C15)
    total = codes.shape[0] * (hi - lo + 1)
    out_cols = np.empty(total, np.int64)
    out_counts = np.empty(total, np.int64)
    nnz = np.zeros(n_docs, np.int64)
    count = np.zeros(max(n_terms, 1), np.int64)  # per column, zero between texts
    touched = np.empty(0, np.int64)
    spare = np.empty(0, np.int64)
    hist = np.zeros(512, np.int64)
    k = 0
    start = 0
    for d in range(n_docs):
        end = start + lens[d]
        if touched.shape[0] < lens[d] * (hi - lo + 1):
            touched = np.empty(2 * lens[d] * (hi - lo + 1), np.int64)
            spare = np.empty(touched.shape[0], np.int64)
        u = 0  # distinct columns of this text
        for n in range(lo, hi + 1):
            for i in range(start, end - n + 1):
                key = np.int64(0)
                ok = True
                mult = np.int64(1)
                for j in range(n):
                    c = codes[i + j]
                    if c <= 0:
                        ok = False
                        break
                    if base == 0:
                        key |= c << (char_bits * j)
                    else:
                        key += c * mult
                        mult *= base
                if not ok:
                    continue
                h = (np.uint64(key) * golden) >> shift
                while True:
                    t = table_keys[h]
                    if t == key:
                        col = table_vals[h]
                        if count[col] == 0:
                            touched[u] = col
                            u += 1
                        count[col] += 1
                        break
                    if t == -1:
                        break
                    h = (h + np.uint64(1)) & mask
        # the distinct columns in ascending order: LSD radix sort, 9 bits a pass
        src, dst = touched, spare
        top = n_terms - 1
        byte = 0
        while top > 0 and u > 1:
            hist[:] = 0
            for i in range(u):
                hist[(src[i] >> byte) & 511] += 1
            pos = 0
            for b in range(512):
                c = hist[b]
                hist[b] = pos
                pos += c
            for i in range(u):
                b = (src[i] >> byte) & 511
                dst[hist[b]] = src[i]
                hist[b] += 1
            src, dst = dst, src
            top >>= 9
            byte += 9
        for i in range(u):
            col = src[i]
            out_cols[k] = col
            out_counts[k] = count[col]
            count[col] = 0
            k += 1
        nnz[d] = u
        start = end
    return nnz, out_cols[:k], out_counts[:k]
