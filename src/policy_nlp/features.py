"""Features: paragraph text -> TF-IDF vectors (character n-grams and word n-grams).

Two implementations of one transform:

* :func:`fit_blocks` / :func:`transform_blocks` use scikit-learn's ``TfidfVectorizer`` for
  *training* (fitting vocabularies and idf weights);
* :class:`Featurizer` replays a fitted union from plain arrays (vocabulary lists and idf
  vectors) for *prediction*, so that a saved model is data, not pickled code, and predicting
  never imports scikit-learn.

``tests/test_features.py`` checks that both give the same matrix.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .tokenize import tokenize

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


def word_analyzer(text: str, ngram: tuple[int, int]) -> list[str]:
    """Word n-grams of :func:`policy_nlp.tokenize.tokenize`, joined by a space (as sklearn)."""
    tokens = tokenize(text)
    lo, hi = ngram
    out: list[str] = []
    for n in range(lo, min(hi, len(tokens)) + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _identity(x):
    return x


def fit_blocks(texts: list[str], tokens: list[list[str]], spec: FeatureSpec) -> list[tuple[str, Any]]:
    """Fit one scikit-learn ``TfidfVectorizer`` per feature block (training only).

    ``tokens`` are ``tokenize(text)`` of each text, computed once by the caller so that
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


def transform_blocks(blocks: list[tuple[str, Any]], texts: list[str], tokens: list[list[str]]):
    """The training-side transform of :func:`fit_blocks`: a CSR matrix, blocks side by side."""
    from scipy.sparse import hstack

    parts = [vec.transform(texts if kind == "char" else tokens) for kind, vec in blocks]
    return hstack(parts, format="csr")


@dataclass
class _Block:
    kind: str  # "char" | "word"
    ngram: tuple[int, int]
    terms: list[str]
    idf: np.ndarray
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.terms)}

    def analyze(self, text: str) -> list[str]:
        if self.kind == "char":
            return char_analyzer(text, self.ngram)
        return word_analyzer(text, self.ngram)


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
            self.blocks.append(_Block(kind, ngram, list(terms), np.asarray(idf, np.float64)))
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
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for block, offset in zip(self.blocks, self.offsets, strict=False):
            counts = Counter(t for t in block.analyze(text) if t in block.index)
            if not counts:
                continue
            idx = np.fromiter((block.index[t] for t in counts), np.int64, len(counts))
            tf = np.fromiter(counts.values(), np.float64, len(counts))
            if self.spec.sublinear_tf:
                tf = np.log(tf) + 1.0
            w = tf * block.idf[idx]
            norm = np.sqrt(np.dot(w, w))
            if norm > 0:
                w /= norm
            order = np.argsort(idx)
            cols.append(idx[order] + offset)
            vals.append(w[order])
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        return np.concatenate(cols), np.concatenate(vals)

    def transform(self, texts: list[str]) -> csr_matrix:
        """Texts -> a CSR matrix of shape (len(texts), n_features)."""
        from scipy.sparse import csr_matrix

        indptr = [0]
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for text in texts:
            c, v = self.transform_one(text)
            cols.append(c)
            vals.append(v)
            indptr.append(indptr[-1] + len(c))
        data = np.concatenate(vals) if vals else np.zeros(0)
        indices = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        return csr_matrix((data, indices, np.asarray(indptr)), shape=(len(texts), self.n_features))
