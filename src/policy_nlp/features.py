"""Features: paragraph text -> TF-IDF vectors (character n-grams and word n-grams).

Two implementations of one transform:

* :func:`fit_blocks` / :func:`transform_blocks` use scikit-learn's ``TfidfVectorizer`` for
  *training* (fitting vocabularies and idf weights);
* :class:`Featurizer` replays a fitted union from plain arrays (vocabulary lists and idf
  vectors) for *prediction*, so that a saved model is data, not pickled code, and predicting
  never imports scikit-learn.

The featurizer works on a whole batch of texts at once, with numpy and no loop per paragraph:
characters become integer code points, every character n-gram (n <= 3) one int64 key (21 bits
a character), looked up with ``np.searchsorted`` among the sorted keys of the vocabulary;
tokens map to ids through a dict, word n-grams to int64 keys the same way; ``np.unique`` counts
(paragraph, column) pairs, which give the CSR matrix. Blocks it cannot key in 63 bits (char
n-grams longer than 3, huge word vocabularies) fall back to the per-paragraph reference
:meth:`Featurizer.transform_one_reference`.

``tests/test_features.py`` checks that both give the same matrix as scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .tokenize import (
    BATCH_SEPARATOR,
    DEFAULT_BACKEND,
    feature_of,
    raw_tokens,
    raw_tokens_batch,
    tokenize,
)

if TYPE_CHECKING:  # pragma: no cover
    from scipy.sparse import csr_matrix

# scikit-learn's own whitespace folding for character analyzers
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class FeatureSpec:
    """Hyperparameters of the TF-IDF features (stored in the model card).

    A block is skipped when its n-gram range is ``None``.
    """

    char_ngram: tuple[int, int] | None = (1, 3)
    word_ngram: tuple[int, int] | None = (1, 2)
    sublinear_tf: bool = True
    min_df: int = 5
    max_df: float = 1.0
    tokenizer: str = DEFAULT_BACKEND  # word segmenter: "rjieba" or "jieba" (tokenize.BACKENDS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        def rng(v: Any) -> tuple[int, int] | None:
            return None if v is None else (int(v[0]), int(v[1]))

        d = cls()
        return cls(
            char_ngram=rng(data.get("char_ngram", d.char_ngram)),
            word_ngram=rng(data.get("word_ngram", d.word_ngram)),
            sublinear_tf=bool(data.get("sublinear_tf", d.sublinear_tf)),
            min_df=int(data.get("min_df", d.min_df)),
            max_df=float(data.get("max_df", d.max_df)),
            # models from before the rjieba backend were tokenized by jieba
            tokenizer=str(data.get("tokenizer", "jieba")),
        )


def char_analyzer(text: str, ngram: tuple[int, int]) -> list[str]:
    """Character n-grams exactly as scikit-learn's ``analyzer="char"`` (lowercased)."""
    doc = _WHITE_SPACES.sub(" ", text.lower())
    lo, hi = ngram
    n_chars = len(doc)
    out: list[str] = []
    for n in range(lo, min(hi, n_chars) + 1):
        out.extend(doc[i : i + n] for i in range(n_chars - n + 1))
    return out


def word_analyzer(text: str, ngram: tuple[int, int], backend: str = DEFAULT_BACKEND) -> list[str]:
    """Word n-grams of :func:`policy_nlp.tokenize.tokenize`, joined by a space (as sklearn)."""
    tokens = tokenize(text, backend)
    lo, hi = ngram
    out: list[str] = []
    for n in range(lo, min(hi, len(tokens)) + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _identity(x):
    return x


def fit_blocks(texts: list[str], tokens: list[list[str]], spec: FeatureSpec) -> list[tuple[str, Any]]:
    """Fit one scikit-learn ``TfidfVectorizer`` per feature block (training only).

    ``tokens`` are ``tokenize(text, spec.tokenizer)`` of each text, computed once by the
    caller so that
    cross-validation folds do not segment the same paragraphs again.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = {"sublinear_tf": spec.sublinear_tf, "min_df": spec.min_df, "max_df": spec.max_df,
              "dtype": np.float64}
    blocks: list[tuple[str, Any]] = []
    if spec.char_ngram:
        vec = TfidfVectorizer(analyzer="char", ngram_range=spec.char_ngram, **common)
        blocks.append(("char", _fit_vectorizer(vec, texts, "char", spec)))
    if spec.word_ngram:
        vec = TfidfVectorizer(analyzer="word", tokenizer=_identity, preprocessor=_identity,
                              token_pattern=None, lowercase=False,
                              ngram_range=spec.word_ngram, **common)
        blocks.append(("word", _fit_vectorizer(vec, tokens, "word", spec)))
    if not blocks:
        raise ValueError("FeatureSpec needs at least one of char_ngram and word_ngram")
    return blocks


def _fit_vectorizer(vec, docs, kind: str, spec: FeatureSpec):
    try:
        return vec.fit(docs)
    except ValueError as exc:  # sklearn: "After pruning, no terms remain" / "empty vocabulary"
        from .errors import InputError

        raise InputError(
            f"no {kind} n-gram occurs in at least min_df={spec.min_df} of the {len(docs)} "
            f"training paragraphs ({exc}); lower --min-df or add data"
        ) from None


def fit_featurizer(texts: list[str], tokens: list[list[str]], spec: FeatureSpec
                   ) -> tuple[Featurizer, csr_matrix]:
    """Fit the TF-IDF blocks and transform the training texts in one go, vectorised.

    The same vocabularies (sorted as scikit-learn sorts them), idf weights and matrix as
    ``fit_blocks`` + ``transform_blocks`` (tested), about 15x faster: every n-gram becomes an
    int64 key (dense ids of the characters or tokens, in base V + 1), and one ``np.unique``
    over (key, paragraph) pairs gives the counts and, the keys coming out sorted, the
    document frequencies. Falls back to scikit-learn where key and paragraph do not fit in
    62 bits together (long n-grams, huge vocabularies or corpora).
    """
    from scipy.sparse import coo_matrix, hstack

    def sklearn_fit() -> tuple[Featurizer, csr_matrix]:
        fitted = fit_blocks(texts, tokens, spec)
        return Featurizer.from_fitted(spec, fitted), transform_blocks(fitted, texts, tokens)

    n_docs = len(texts)
    doc_bits = max(n_docs, 1).bit_length()
    blocks, mats = [], []
    for kind, ngram in (("char", spec.char_ngram), ("word", spec.word_ngram)):
        if ngram is None:
            continue
        # dense ids 1..V of the characters (or tokens) of the training texts
        if kind == "char":
            points, lens = _char_codes(texts)
            present = np.bincount(points, minlength=1) > 0  # no sort: a table of code points
            uniq = np.flatnonzero(present)
            table = np.zeros(len(present), np.int64)
            table[uniq] = np.arange(1, len(uniq) + 1)
            codes = table[points]
            names = [""] + [chr(int(c) - 1) for c in uniq]
            sep = ""
        else:
            vocab: dict[str, int] = {}
            for doc in tokens:
                for tok in doc:
                    vocab.setdefault(tok, len(vocab) + 1)
            lens = np.fromiter(map(len, tokens), np.int64, n_docs)
            codes = np.fromiter((vocab[t] for doc in tokens for t in doc), np.int64,
                                int(lens.sum()))
            names = ["", *vocab]
            sep = " "
        base = len(names)
        if (base ** ngram[1]).bit_length() + doc_bits > 62:
            return sklearn_fit()  # keys too wide (long n-grams, a huge vocabulary)
        doc, key = _ngram_keys(codes, lens, ngram, base)
        # one sort of (key, doc) pairs: counts per pair, and the keys come out sorted
        pair, counts = np.unique((key << doc_bits) | doc, return_counts=True)
        pkey, pdoc = pair >> doc_bits, pair & ((1 << doc_bits) - 1)
        new_key = np.empty(len(pkey), bool)
        new_key[:1] = True
        np.not_equal(pkey[1:], pkey[:-1], out=new_key[1:])
        key_id = np.cumsum(new_key) - 1
        ukeys = pkey[new_key]
        df = np.bincount(key_id, minlength=len(ukeys))
        max_count = spec.max_df if isinstance(spec.max_df, int) else spec.max_df * n_docs
        kept = np.flatnonzero((df >= spec.min_df) & (df <= max_count))
        if len(kept) == 0:
            from .errors import InputError

            raise InputError(
                f"no {kind} n-gram occurs in at least min_df={spec.min_df} of the {n_docs} "
                "training paragraphs; lower --min-df or add data")
        terms = [_decode_key(int(k), names, base, sep) for k in ukeys[kept]]
        order = sorted(range(len(terms)), key=terms.__getitem__)  # scikit-learn's column order
        terms = [terms[i] for i in order]
        col_of = np.full(len(ukeys), -1, np.int64)
        col_of[kept[order]] = np.arange(len(kept))
        idf = np.log((1.0 + n_docs) / (1.0 + df[kept[order]])) + 1.0
        col = col_of[key_id]
        sel = col >= 0
        pdoc, col, tf = pdoc[sel], col[sel], counts[sel].astype(np.float64)
        if spec.sublinear_tf:
            tf = np.log(tf) + 1.0
        w = tf * idf[col]
        norm = np.sqrt(np.bincount(pdoc, w * w, minlength=n_docs))
        w /= norm[pdoc]
        mat = coo_matrix((w, (pdoc, col)), shape=(n_docs, len(terms))).tocsr()
        mat.sort_indices()
        mats.append(mat)
        blocks.append((kind, terms, idf))
    return Featurizer(spec, blocks), hstack(mats, format="csr")


# which code points are whitespace (``\s``, str.isspace): up to U+3000, the last one, and then
# False for all above
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x3001)] + [False])


def _char_codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code point + 1 of every character of the analysed texts (as ``char_analyzer``), and
    each text's length."""
    docs = [t.lower() for t in texts]
    points = np.frombuffer("".join(docs).encode("utf-32-le", "surrogatepass"), np.uint32)
    space = _IS_SPACE[np.minimum(points, len(_IS_SPACE) - 1)]
    if (space[1:] & space[:-1]).any():  # runs of whitespace to fold (rare: the search is
        # dearer than this test, and a run across two texts only costs the search)
        docs = [_WHITE_SPACES.sub(" ", d) for d in docs]
        points = np.frombuffer("".join(docs).encode("utf-32-le", "surrogatepass"), np.uint32)
    lens = np.fromiter(map(len, docs), np.int64, len(docs))
    codes = points.astype(np.int64)
    codes += 1
    return codes, lens


def _ngram_keys(codes: np.ndarray, lens: np.ndarray, ngram: tuple[int, int],
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
                key |= nxt << (_CHAR_BITS * j)
            else:
                key += nxt * base**j
        docs_out.append(doc_of[:m][valid])
        keys_out.append(key[valid])
    if not docs_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(docs_out), np.concatenate(keys_out)


def _decode_key(key: int, names: list[str], base: int, sep: str) -> str:
    parts = []
    while key:
        key, r = divmod(key, base)
        parts.append(names[r])
    return sep.join(parts)


def transform_blocks(blocks: list[tuple[str, Any]], texts: list[str], tokens: list[list[str]]):
    """The training-side transform of :func:`fit_blocks`: a CSR matrix, blocks side by side."""
    from scipy.sparse import hstack

    parts = [vec.transform(texts if kind == "char" else tokens) for kind, vec in blocks]
    return hstack(parts, format="csr")


_CHAR_BITS = 21  # every code point (< 0x110000) + 1 fits in 21 bits; three fit in an int64
_MAX_TOKEN_CACHE = 1 << 20


@dataclass
class _Block:
    kind: str  # "char" | "word"
    ngram: tuple[int, int]
    terms: list[str]
    idf: np.ndarray
    backend: str = DEFAULT_BACKEND
    _index: dict[str, int] | None = field(init=False, repr=False, default=None)
    # the vectorised path: rows of (key, column), an open-addressing hash table of the terms'
    # int64 keys (see _hash_table); None: no fast path
    _table: np.ndarray | None = field(init=False, repr=False, default=None)
    _token_ids: dict[str, int] | None = field(init=False, repr=False, default=None)
    _base: int = field(init=False, repr=False, default=0)  # word n-gram keys: ids in this base
    _unigrams: np.ndarray | None = field(init=False, repr=False, default=None)
    _prepared: bool = field(init=False, repr=False, default=False)

    @property
    def index(self) -> dict[str, int]:
        """term -> column within the block (built on first use)."""
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.terms)}
        return self._index

    def analyze(self, text: str) -> list[str]:
        if self.kind == "char":
            return char_analyzer(text, self.ngram)
        return word_analyzer(text, self.ngram, self.backend)

    # -- the vectorised path ----------------------------------------------------------------
    def _prepare(self) -> bool:
        """Build the hash table of the vocabulary's keys once; False when the block has no fast
        path."""
        if self._prepared:
            return self._table is not None
        self._prepared = True
        if self.kind == "char":
            if self.ngram[1] > 3:
                return False
            keys = _char_keys(self.terms)
        else:
            ids: dict[str, int] = {}
            split = [t.split(" ") for t in self.terms]
            for parts in split:
                for tok in parts:
                    ids.setdefault(tok, len(ids) + 1)  # 0 is "not in any term"
            base = len(ids) + 1
            if base ** self.ngram[1] >= 1 << 62:
                return False
            keys = np.zeros(len(self.terms), np.int64)
            for i, parts in enumerate(split):
                k = 0
                for j, tok in enumerate(parts):
                    k += ids[tok] * base**j
                keys[i] = k
            self._token_ids = _TokenIds(ids)
            self._base = base
        # the column of each single character or token, by its code: what the kernel looks up
        # for 1-grams instead of the hash table (a term given twice: its first column, as the
        # hash table gives it)
        single = np.flatnonzero(keys < (1 << _CHAR_BITS) if self.kind == "char" else
                                np.array([" " not in t for t in self.terms], bool))[::-1]
        unigrams = np.full(int(keys[single].max(initial=0)) + 1, -1, np.int32)
        unigrams[keys[single]] = single
        self._unigrams = unigrams
        # last: another thread takes a block with a hash table as ready for the kernel
        self._table = _hash_table(keys)
        return True

    def _lookup(self, keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(doc, column) of the keys that are vocabulary terms."""
        assert self._table is not None
        cols = _hash_lookup(self._table, keys)
        hit = cols >= 0
        return docs[hit], cols[hit]

    def codes(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per-position integer codes of a batch (code point + 1, or token id, 0 = none) and
        the length of each text in positions."""
        if self.kind == "char":
            return _char_codes(texts)
        ids = self._token_ids
        assert ids is not None
        get, backend = ids.__getitem__, self.backend
        tokens = raw_tokens_batch(texts, backend)  # the texts' tokens, separated
        if tokens is None:  # texts to cut one by one
            seqs = [list(map(get, raw_tokens(text, backend))) for text in texts]
            lens = np.fromiter(map(len, seqs), np.int64, len(seqs))
            flat = np.fromiter(chain.from_iterable(seqs), np.int64, int(lens.sum()))
            doc_of = np.repeat(np.arange(len(seqs)), lens)
        else:
            flat = np.fromiter(map(get, tokens), np.int64, len(tokens))
            doc_of = np.zeros(len(flat), np.int64)
            np.cumsum(flat[:-1] == _SEPARATOR_ID, out=doc_of[1:])
        # tokens that tokenize() drops (punctuation, whitespace) have id -1, the separator -2
        keep = flat >= 0
        flat = flat[keep]
        lens = np.bincount(doc_of[keep], minlength=len(texts)).astype(np.int64)
        return flat, lens

    def pairs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(doc, column) of every n-gram occurrence in the batch that is a vocabulary term."""
        codes, lens = self.codes(texts)
        doc, key = _ngram_keys(codes, lens, self.ngram, None if self.kind == "char" else
                               self._base)
        return self._lookup(key, doc)

    def counts(self, texts: list[str], kernel: bool) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
        """(doc, column, count) of the vocabulary terms in each text of the batch, sorted by
        doc then column: with the compiled kernel (:mod:`policy_nlp.kernels`) or numpy."""
        if kernel:
            from .kernels import ngram_counts

            codes, lens = self.codes(texts)
            nnz, col, count = ngram_counts(codes, lens, *self._kernel_args(), len(self.terms))
            return np.repeat(np.arange(len(texts), dtype=np.int64), nnz), col, count
        doc, col = self.pairs(texts)
        n_terms = max(len(self.terms), 1)
        pair = doc * n_terms + col
        if len(texts) * n_terms < 1 << 31:
            pair = pair.astype(np.int32)  # sorts about twice as fast
        pair, count = np.unique(pair, return_counts=True)
        pair = pair.astype(np.int64)
        return pair // n_terms, pair % n_terms, count

    def _kernel_args(self) -> tuple:
        """The arguments of the compiled kernels that describe the block's n-grams and its
        hash table."""
        assert self._table is not None
        return (self.ngram[0], self.ngram[1], 0 if self.kind == "char" else self._base,
                _CHAR_BITS, self._table, len(self._table).bit_length() - 1, self._unigrams)

    def add_scores(self, texts: list[str], sublinear_tf: bool, weights: np.ndarray,
                   out: np.ndarray) -> None:
        """Add the product of the batch's tf-idf rows (this block's) with ``weights`` (one
        float32 row per term) to ``out``, in the compiled kernel; the block is prepared."""
        from .kernels import ngram_scores

        codes, lens = self.codes(texts)
        # the tf of every count a text can reach, computed by numpy as _block_entries does
        tf = np.arange(int(lens.max(initial=0)) + 1, dtype=np.float64)
        if sublinear_tf:
            with np.errstate(divide="ignore"):  # count 0 is never looked up
                tf = np.log(tf) + 1.0
        args = self._kernel_args()
        # the kernel numbers a batch's n-grams with int32: longer batches go in parts
        most = KERNEL_MAX_NGRAMS // (self.ngram[1] - self.ngram[0] + 1)
        ends = np.cumsum(lens)
        first = start = 0
        while first < len(lens):
            last = max(int(np.searchsorted(ends, start + most, side="right")), first + 1)
            end = int(ends[last - 1])
            ngram_scores(codes[start:end], lens[first:last], *args, tf, self.idf, weights,
                         out[first:last])
            first, start = last, end


_EMPTY = -1  # keys are positive
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _slots(keys: np.ndarray, bits: int) -> np.ndarray:
    """Fibonacci hashing of int64 keys to ``bits``-bit slots."""
    h = keys.view(np.uint64) * _GOLDEN
    h >>= np.uint64(64 - bits)
    return h.view(np.int64)


def _hash_table(keys: np.ndarray) -> np.ndarray:
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


def _hash_lookup(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
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


def _char_keys(terms: list[str]) -> np.ndarray:
    """The int64 key of each term of at most 3 characters (code point + 1, 21 bits each)."""
    lens = np.fromiter(map(len, terms), np.int64, len(terms))
    codes = np.frombuffer("".join(terms).encode("utf-32-le", "surrogatepass"), np.uint32)
    codes = codes.astype(np.int64) + 1
    starts = np.zeros(len(terms), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    keys = np.zeros(len(terms), np.int64)
    for j in range(int(lens.max()) if len(terms) else 0):
        sel = lens > j
        keys[sel] |= codes[starts[sel] + j] << (_CHAR_BITS * j)
    return keys


# batches of at most this many texts use the per-text reference path until a bigger batch
# has built the vocabulary's hash table
REFERENCE_MAX_TEXTS = 4
_SEPARATOR_ID = -2  # the id of tokenize.BATCH_SEPARATOR between the texts of a batch
# the compiled kernel for batches of at least this many texts, if numba is installed (a
# smaller batch, such as classify's one text, does not pay for importing numba)
KERNEL_MIN_TEXTS = 64
# the most n-grams (all lengths) one call of the kernel counts (it numbers them with int32)
KERNEL_MAX_NGRAMS = (1 << 31) - 1
_kernel_ok: bool | None = None


def _use_kernel(n_texts: int) -> bool:
    global _kernel_ok
    if n_texts < KERNEL_MIN_TEXTS:
        return False
    if _kernel_ok is None:
        try:
            from . import kernels  # noqa: F401 - numba, if it is installed and works
        except Exception:  # any failure to load numba (or compile) means: use numpy
            _kernel_ok = False
        else:
            _kernel_ok = True
    return _kernel_ok


class _TokenIds(dict):
    """Raw token -> id of its feature among the vocabulary's tokens: 0 when no term has it,
    -1 when :func:`~policy_nlp.tokenize.tokenize` drops it (a cache over ``feature_of``);
    the batch separator is -2."""

    def __init__(self, ids: dict[str, int]):
        super().__init__()
        self.feature_ids = ids
        self[BATCH_SEPARATOR] = _SEPARATOR_ID

    def __missing__(self, token: str) -> int:
        feature = feature_of(token)
        value = -1 if feature is None else self.feature_ids.get(feature, 0)
        if len(self) >= _MAX_TOKEN_CACHE:  # an endless stream of new numbers or names
            self.clear()
            self[BATCH_SEPARATOR] = _SEPARATOR_ID
        self[token] = value
        return value


class Featurizer:
    """A fitted TF-IDF feature union replayed from arrays, with no scikit-learn needed.

    Parameters
    ----------
    spec : FeatureSpec
    blocks : list of (kind, terms, idf)
        One entry per block in union order: ``kind`` is ``"char"`` or ``"word"``,
        ``terms`` the vocabulary in column order, ``idf`` the idf weights.
    """

    def __init__(self, spec: FeatureSpec, blocks: list[tuple[str, list[str], np.ndarray]]):
        self.spec = spec
        ngrams = {"char": spec.char_ngram, "word": spec.word_ngram}
        self.blocks = []
        for kind, terms, idf in blocks:
            ngram = ngrams[kind]
            if ngram is None or len(terms) != len(idf):
                raise ValueError(f"inconsistent feature block {kind!r}")
            self.blocks.append(_Block(kind, ngram, list(terms), np.asarray(idf, np.float64),
                                      spec.tokenizer))
        self.offsets = np.cumsum([0] + [len(b.terms) for b in self.blocks])

    @property
    def n_features(self) -> int:
        return int(self.offsets[-1])

    @classmethod
    def from_fitted(cls, spec: FeatureSpec, fitted: list[tuple[str, Any]]) -> Featurizer:
        """Export the vectorizers of :func:`fit_blocks` as arrays."""
        blocks = []
        for kind, vec in fitted:
            terms = [""] * len(vec.vocabulary_)
            for term, col in vec.vocabulary_.items():
                terms[col] = term
            blocks.append((kind, terms, vec.idf_.copy()))
        return cls(spec, blocks)

    def feature_names(self) -> list[str]:
        return [f"{b.kind}:{t}" for b in self.blocks for t in b.terms]

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text -> (column indices, tf-idf values), l2-normalised per block."""
        _, cols, vals = self.transform_arrays([text])
        return cols, vals

    def transform_one_reference(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`transform_one` the slow, obvious way (a Counter of n-gram strings): the
        reference the vectorised path is tested against, and the path of blocks it cannot key."""
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for block, offset in zip(self.blocks, self.offsets, strict=False):
            c, v = self._reference_block(block, text)
            cols.append(c + offset)
            vals.append(v)
        return np.concatenate(cols), np.concatenate(vals)

    def _reference_block(self, block: _Block, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(t for t in block.analyze(text) if t in block.index)
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        idx = np.fromiter((block.index[t] for t in counts), np.int64, len(counts))
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        order = np.argsort(idx)
        idx, tf = idx[order], tf[order]
        # the same operations in the same order as the vectorised path: the same bits
        if self.spec.sublinear_tf:
            tf = np.log(tf) + 1.0
        w = tf * block.idf[idx]
        norm = np.sqrt(np.bincount(np.zeros(len(w), np.intp), w * w))
        w /= norm[0]
        return idx, w

    def _block_entries(self, block: _Block, texts: list[str]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc, column, tf-idf) of one block over a batch, sorted by doc then column.

        A few texts (``classify --text``) are featurized one by one the reference way until
        the block's hash table exists: building it costs more than they do."""
        if (len(texts) <= REFERENCE_MAX_TEXTS and not block._prepared) or not block._prepare():
            docs, cols, vals = [], [], []
            for i, text in enumerate(texts):
                c, v = self._reference_block(block, text)
                docs.append(np.full(len(c), i, np.int64))
                cols.append(c)
                vals.append(v)
            return np.concatenate(docs), np.concatenate(cols), np.concatenate(vals)
        doc, col, counts = block.counts(texts, _use_kernel(len(texts)))
        tf = counts.astype(np.float64)
        if self.spec.sublinear_tf:
            tf = np.log(tf) + 1.0
        w = tf * block.idf[col]
        norm = np.sqrt(np.bincount(doc, w * w, minlength=len(texts)))
        w /= norm[doc]
        return doc, col, w

    def transform_arrays(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Texts -> CSR arrays ``(indptr, indices, data)`` of shape (len(texts), n_features)."""
        docs, cols, vals = [], [], []
        for block, offset in zip(self.blocks, self.offsets, strict=False):
            d, c, v = self._block_entries(block, texts)
            docs.append(d)
            cols.append(c + offset)
            vals.append(v)
        n = len(texts)
        counts = [np.bincount(d, minlength=n) for d in docs]
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(sum(counts), out=indptr[1:])
        if len(self.blocks) == 1:
            return indptr, cols[0], vals[0]
        # blocks side by side: scatter each block's entries (sorted by doc) after the entries
        # of the blocks before it in the same row; columns rise with the block offsets
        col = np.empty(int(indptr[-1]), np.int64)
        val = np.empty(int(indptr[-1]), np.float64)
        before = indptr[:-1].copy()
        for d, c, v, k in zip(docs, cols, vals, counts, strict=True):
            block_start = np.cumsum(k) - k  # where each doc's entries start in this block
            dest = before[d] + (np.arange(len(d)) - block_start[d])
            col[dest], val[dest] = c, v
            before += k
        return indptr, col, val

    def dot(self, texts: list[str], weights: np.ndarray) -> np.ndarray | None:
        """The product of the texts' tf-idf matrix with ``weights`` (float32, one row per
        feature), computed by the compiled kernel without building the matrix, with the bits
        of scipy's product ``transform(texts) @ weights``; None where the kernel is not used
        (a batch of fewer than ``KERNEL_MIN_TEXTS`` texts, numba missing, a block it cannot
        key)."""
        if not _use_kernel(len(texts)) or not all(b._prepare() for b in self.blocks):
            return None
        out = np.zeros((len(texts), weights.shape[1]))
        for block, start, end in zip(self.blocks, self.offsets, self.offsets[1:], strict=False):
            block.add_scores(texts, self.spec.sublinear_tf, weights[start:end], out)
        return out

    def transform(self, texts: list[str]) -> csr_matrix:
        """Texts -> a CSR matrix of shape (len(texts), n_features)."""
        from scipy.sparse import csr_matrix

        indptr, cols, vals = self.transform_arrays(texts)
        return csr_matrix((vals, cols, indptr), shape=(len(texts), self.n_features))
