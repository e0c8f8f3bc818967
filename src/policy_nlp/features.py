"""Features: paragraph text -> TF-IDF vectors (character n-grams and word n-grams).

Two implementations of one transform:

* :func:`fit_featurizer` (and :func:`fit_blocks` / :func:`transform_blocks`, with
  scikit-learn's ``TfidfVectorizer``) fit vocabularies and idf weights for *training*
  (:mod:`policy_nlp.features_fit`, exported here);
* :class:`Featurizer` replays a fitted union from plain arrays (vocabulary lists and idf
  vectors) for *prediction*, so that a saved model is data, not pickled code, and predicting
  never imports scikit-learn.

The featurizer works on a whole batch of texts at once, with numpy and no loop per paragraph:
characters become integer code points, every character n-gram (n <= 3) one int64 key (21 bits
a character), looked up with ``np.searchsorted`` among the sorted keys of the vocabulary;
tokens map to ids through a dict, word n-grams to int64 keys the same way; ``np.unique`` counts
(paragraph, column) pairs, which give the CSR matrix (the keys and hash tables:
:mod:`policy_nlp.ngram_keys`). Blocks it cannot key in 63 bits (char
n-grams longer than 3, huge word vocabularies) fall back to the per-paragraph reference
:meth:`Featurizer.transform_one_reference`.

``tests/test_features.py`` checks that both give the same matrix as scikit-learn.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections import Counter
from itertools import chain, islice
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .features_fit import fit_arrays, fit_blocks, transform_blocks
from .ngram_keys import (
    CHAR_BITS,
    WHITE_SPACES,
    char_codes,
    char_keys,
    hash_lookup,
    hash_table,
    ngram_key_pairs,
)
from .text import to_simplified_all
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
    #: texts converted to simplified characters before both blocks (:func:`text.to_simplified`)
    simplify: bool = True

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
            # models from before the conversion saw texts as they came
            simplify=bool(data.get("simplify", False)),
        )

    def prepare(self, texts: list[str]) -> list[str]:
        """The texts as the blocks see them: in simplified characters where ``simplify``."""
        return to_simplified_all(texts) if self.simplify else texts


def char_analyzer(text: str, ngram: tuple[int, int]) -> list[str]:
    """Character n-grams exactly as scikit-learn's ``analyzer="char"`` (lowercased)."""
    doc = WHITE_SPACES.sub(" ", text.lower())
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
    # int64 keys (see hash_table); None: no fast path
    _table: np.ndarray | None = field(init=False, repr=False, default=None)
    _token_ids: dict[str, int] | None = field(init=False, repr=False, default=None)
    _base: int = field(init=False, repr=False, default=0)  # word n-gram keys: ids in this base
    _unigrams: np.ndarray | None = field(init=False, repr=False, default=None)
    _prepared: bool = field(init=False, repr=False, default=False)
    # whether the terms are in strictly ascending order (None: not checked yet)
    _ascending: bool | None = field(init=False, repr=False, default=None)
    _looked_up: int = field(init=False, repr=False, default=0)  # grams given to columns()

    @property
    def index(self) -> dict[str, int]:
        """term -> column within the block (built on first use)."""
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.terms)}
        return self._index

    def columns(self, grams: list[str]) -> list[int]:
        """The column of each of ``grams`` within the block, -1 for one that is no term: what
        :attr:`index` gives, found by bisection where the terms are in strictly ascending
        order (as scikit-learn's vocabulary and :func:`fit_arrays` give them), so that
        classifying one paragraph does not build a dict of the whole vocabulary (~0.05 s of
        the cold start for the default model's 250,000 terms, checking the order ~0.01 s).
        Once the grams looked up reach a quarter of the terms, the dict is built and used:
        a bisection costs about as much as four entries of it."""
        if self._index is None and self._ascending is None:
            terms = self.terms
            self._ascending = all(map(operator.lt, terms, islice(terms, 1, None)))
        self._looked_up += len(grams)
        if self._index is not None or not self._ascending or \
                self._looked_up > len(self.terms) // 4:
            get = self.index.get
            return [get(g, -1) for g in grams]
        terms, n = self.terms, len(self.terms)
        out = []
        for g in grams:
            i = bisect_left(terms, g)
            out.append(i if i < n and terms[i] == g else -1)
        return out

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
            keys = char_keys(self.terms)
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
        single = np.flatnonzero(keys < (1 << CHAR_BITS) if self.kind == "char" else
                                np.array([" " not in t for t in self.terms], bool))[::-1]
        unigrams = np.full(int(keys[single].max(initial=0)) + 1, -1, np.int32)
        unigrams[keys[single]] = single
        self._unigrams = unigrams
        # last: another thread takes a block with a hash table as ready for the kernel
        self._table = hash_table(keys)
        return True

    def _lookup(self, keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(doc, column) of the keys that are vocabulary terms."""
        assert self._table is not None
        cols = hash_lookup(self._table, keys)
        hit = cols >= 0
        return docs[hit], cols[hit]

    def codes(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per-position integer codes of a batch (code point + 1, or token id, 0 = none) and
        the length of each text in positions."""
        if self.kind == "char":
            return char_codes(texts)
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
        doc, key = ngram_key_pairs(codes, lens, self.ngram, None if self.kind == "char" else
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
                CHAR_BITS, self._table, len(self._table).bit_length() - 1, self._unigrams)

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
        (text,) = self.spec.prepare([text])
        for block, offset in zip(self.blocks, self.offsets, strict=False):
            c, v = self._reference_block(block, text)
            cols.append(c + offset)
            vals.append(v)
        return np.concatenate(cols), np.concatenate(vals)

    def _reference_block(self, block: _Block, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(block.analyze(text))
        found = [(c, n) for c, n in zip(block.columns(list(counts)), counts.values(),
                                        strict=True) if c >= 0]
        if not found:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        idx = np.fromiter((c for c, _ in found), np.int64, len(found))
        tf = np.fromiter((n for _, n in found), np.float64, len(found))
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
        texts = self.spec.prepare(texts)
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
        texts = self.spec.prepare(texts)
        out = np.zeros((len(texts), weights.shape[1]))
        for block, start, end in zip(self.blocks, self.offsets, self.offsets[1:], strict=False):
            block.add_scores(texts, self.spec.sublinear_tf, weights[start:end], out)
        return out

    def transform(self, texts: list[str]) -> csr_matrix:
        """Texts -> a CSR matrix of shape (len(texts), n_features)."""
        from scipy.sparse import csr_matrix

        indptr, cols, vals = self.transform_arrays(texts)
        return csr_matrix((vals, cols, indptr), shape=(len(texts), self.n_features))


def fit_featurizer(texts: list[str], tokens: list[list[str]], spec: FeatureSpec
                   ) -> tuple[Featurizer, csr_matrix]:
    """Fit the TF-IDF blocks on the training texts: the featurizer and the texts' matrix
    (:func:`~policy_nlp.features_fit.fit_arrays`, vectorised; with scikit-learn,
    :func:`fit_blocks`, where its keys do not fit an int64). ``tokens`` are the word tokens
    of ``spec.prepare(texts)`` (:func:`policy_nlp.train.tokenize_all` gives them)."""
    texts = spec.prepare(texts)
    fitted = fit_arrays(texts, tokens, spec)
    if fitted is None:
        vectorizers = fit_blocks(texts, tokens, spec)
        return (Featurizer.from_fitted(spec, vectorizers),
                transform_blocks(vectorizers, texts, tokens))
    blocks, matrix = fitted
    return Featurizer(spec, blocks), matrix
