"""Compiled inner loops of the featurizer, with numba.

:func:`ngram_counts` does per text what :class:`~policy_nlp.features.Featurizer` otherwise
does with a dozen whole-batch numpy steps: form every n-gram key, look it up in the
vocabulary's hash table (a single character or token: in an array of their columns), and count
the distinct columns. It gives exactly the (text, column,
count) triples of the numpy path (``tests/test_features.py`` checks both against each other
and against scikit-learn).

:func:`ngram_scores` goes on from the counts to what prediction needs, the product of each
text's tf-idf row with the model's weights, without building the sparse matrix at all: the
same operations in the same order as the numpy tf-idf and scipy's sparse product, so the
same bits (``tests/test_features.py`` checks this).

Numba compiles the loops on first use and caches the machine code beside this module (or in
numba's user cache directory), so only the first run on a machine pays for the compilation.
Nothing here is imported unless a batch is large enough to use it, so ``classify --text``
never loads numba; where numba cannot be imported the numpy path gives the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _count_text(codes, start, end, lo, hi, base, char_bits, table, shift, unigrams, count,
                touched, keys, cols):  # pragma: no cover
    """Count the vocabulary n-grams of ``codes[start:end]`` into ``count`` (per column); the
    distinct columns go to ``touched``; returns how many.

    Single codes (when ``lo`` is 1) are counted at once from ``unigrams`` (the column of each
    code, -1 for none), a third of the look-ups of character 1-3-grams saved. The longer
    n-grams go in three passes over scratch buffers (``keys``, ``cols``: room for every
    n-gram): form the keys, look them all up, count. The look-ups do not wait on one another
    that way (whether a key is found decides nothing until the counting), so the processor
    has many of them in flight: counting took two thirds of the time of a single pass that
    looked up each n-gram as it formed it.
    """
    mask = np.uint64(table.shape[0] - 1)
    golden = np.uint64(0x9E3779B97F4A7C15)
    n_unigrams = unigrams.shape[0]
    u = 0
    m = 0
    for i in range(start, end):  # the n-grams that start at i, each from the one before
        c = codes[i]
        if c <= 0:
            continue
        if lo == 1 and c < n_unigrams:
            col = unigrams[c]
            if col >= 0:
                if count[col] == 0:
                    touched[u] = col
                    u += 1
                count[col] += 1
        key = np.int64(c)
        mult = np.int64(base)
        for n in range(2, min(hi, end - i) + 1):
            c = codes[i + n - 1]
            if c <= 0:
                break
            if base == 0:
                key |= c << (char_bits * (n - 1))
            else:
                key += c * mult
                mult *= base
            if n >= lo:
                keys[m] = key
                m += 1
    for q in range(m):
        key = keys[q]
        h = (np.uint64(key) * golden) >> shift
        t = table[h, 0]
        col = table[h, 1]
        if t != key:
            col = -1
            while t != -1:  # a collision: probe on
                h = (h + np.uint64(1)) & mask
                t = table[h, 0]
                if t == key:
                    col = table[h, 1]
                    break
        cols[q] = col
    for q in range(m):  # (counted as the 1-grams are above: an @njit helper for these few
        # lines made the kernel a fifth slower in benchmarks/kernel.py, inlined or not)
        col = cols[q]
        if col >= 0:
            if count[col] == 0:
                touched[u] = col
                u += 1
            count[col] += 1
    return u


@njit(cache=True, nogil=True)
def _sorted_columns(touched, spare, u, n_terms, hist):  # pragma: no cover
    """The first ``u`` columns of ``touched`` in ascending order (LSD radix sort, 9 bits a
    pass): ``touched`` or ``spare``, whichever holds them at the end."""
    src, dst = touched, spare
    top = n_terms - 1
    shift = 0
    while top > 0 and u > 1:
        hist[:] = 0
        for i in range(u):
            hist[(src[i] >> shift) & 511] += 1
        pos = 0
        for b in range(512):
            c = hist[b]
            hist[b] = pos
            pos += c
        for i in range(u):
            b = (src[i] >> shift) & 511
            dst[hist[b]] = src[i]
            hist[b] += 1
        src, dst = dst, src
        top >>= 9
        shift += 9
    return src


@njit(cache=True, nogil=True)
def ngram_counts(codes, lens, lo, hi, base, char_bits, table, bits, unigrams,
                 n_terms):  # pragma: no cover
    """(entries per text, columns, counts) of the vocabulary n-grams of each text, columns
    ascending within a text.

    ``codes``: per-position positive codes of the concatenated texts (0: no n-gram may use
    the position); ``lens``: positions per text. A key is ``c0 | c1 << char_bits | ...`` when
    ``base`` is 0 (characters), else ``c0 + c1 * base + c2 * base**2 ...`` (token ids).
    ``table``: the open-addressing table of :func:`policy_nlp.ngram_keys.hash_table`
    (Fibonacci hashing, linear probing; rows of (key, column), key -1 empty) of ``2**bits``
    rows; ``unigrams``: the column of each single code (-1: none), as long as the largest one
    in the vocabulary needs; the columns are ``< n_terms``.
    """
    n_docs = lens.shape[0]
    shift = np.uint64(64 - bits)
    total = codes.shape[0] * (hi - lo + 1)
    out_cols = np.empty(total, np.int64)
    out_counts = np.empty(total, np.int64)
    nnz = np.zeros(n_docs, np.int64)
    count = np.zeros(max(n_terms, 1), np.int32)  # per column, zero between texts
    room = 0
    for d in range(n_docs):
        room = max(room, lens[d] * (hi - lo + 1))
    touched = np.empty(room, np.int64)
    spare = np.empty(room, np.int64)
    keys = np.empty(room, np.int64)
    cols = np.empty(room, np.int64)
    hist = np.zeros(512, np.int64)
    k = 0
    start = 0
    for d in range(n_docs):
        end = start + lens[d]
        u = _count_text(codes, start, end, lo, hi, base, char_bits, table, shift, unigrams,
                        count, touched, keys, cols)
        ordered = _sorted_columns(touched, spare, u, n_terms, hist)
        for i in range(u):
            col = ordered[i]
            out_cols[k] = col
            out_counts[k] = count[col]
            count[col] = 0
            k += 1
        nnz[d] = u
        start = end
    return nnz, out_cols[:k], out_counts[:k]


@njit(cache=True, nogil=True)
def ngram_scores(codes, lens, lo, hi, base, char_bits, table, bits, unigrams, tf_of_count,
                 idf, weights, out):  # pragma: no cover
    """Add to ``out[d]`` the product of text ``d``'s l2-normalised tf-idf row with
    ``weights``, for every text (the arguments up to ``unigrams`` as in
    :func:`ngram_counts`; the batch has fewer than 2**31 n-grams).

    ``tf_of_count[c]``: the tf of a term counted ``c`` times (``log(c) + 1`` for sublinear
    tf), for every count a text of the batch can reach; ``idf``: per column; ``weights``:
    one row per column, float32 (widened exactly to float64 before the product).

    The batch's entries are taken in ascending column order, all texts together (a counting
    sort by column): each text's terms are then still summed one after the other in
    ascending column order, as numpy's tf-idf and scipy's CSR product do, so ``out`` comes
    out with their bits; and the weights are read once per batch, front to back, instead of
    one row at a time wherever each text's next term leads (the rows come from main memory
    then, not the cache: the products took twice as long, and sorting each text's columns
    cost a fifth of the counting). A model of several blocks calls this once per block on
    the same ``out``, which then holds the sum over the blocks in the order of the matrix's
    columns.
    """
    n_docs = lens.shape[0]
    n_terms = idf.shape[0]
    shift = np.uint64(64 - bits)
    room = 0
    for d in range(n_docs):
        room = max(room, lens[d] * (hi - lo + 1))
    count = np.zeros(max(n_terms, 1), np.int32)  # per column, zero between texts
    touched = np.empty(room, np.int64)
    keys = np.empty(room, np.int64)
    cols = np.empty(room, np.int64)
    # the entries (text, column, count), text by text
    total = codes.shape[0] * (hi - lo + 1)
    e_doc = np.empty(total, np.int32)
    e_col = np.empty(total, np.int32)
    e_count = np.empty(total, np.int32)
    head = np.zeros(n_terms + 1, np.int32)  # entries per column, then where each one goes
    k = 0
    start = 0
    for d in range(n_docs):
        end = start + lens[d]
        u = _count_text(codes, start, end, lo, hi, base, char_bits, table, shift, unigrams,
                        count, touched, keys, cols)
        for i in range(u):
            col = touched[i]
            e_doc[k] = d
            e_col[k] = col
            e_count[k] = count[col]
            count[col] = 0
            head[col + 1] += 1
            k += 1
        start = end
    for c in range(n_terms):
        head[c + 1] += head[c]
    # the entries by column (texts ascending within a column), with their tf-idf values
    doc_of = np.empty(k, np.int32)
    col_of = np.empty(k, np.int32)
    vals = np.empty(k, np.float64)
    for i in range(k):
        col = e_col[i]
        p = head[col]
        head[col] = p + 1
        doc_of[p] = e_doc[i]
        col_of[p] = col
        vals[p] = tf_of_count[e_count[i]] * idf[col]
    norm = np.zeros(n_docs, np.float64)
    for p in range(k):
        x = vals[p]
        norm[doc_of[p]] += x * x
    for d in range(n_docs):
        norm[d] = math.sqrt(norm[d])
    k_out = out.shape[1]
    for p in range(k):
        d = doc_of[p]
        a = vals[p] / norm[d]
        col = col_of[p]
        for j in range(k_out):
            out[d, j] += a * np.float64(weights[col, j])
    return out
