"""Fitting the TF-IDF features (training only): vocabularies and idf weights.

:func:`fit_arrays` fits and transforms the training texts in one vectorised pass;
:func:`fit_blocks` / :func:`transform_blocks` do the same with scikit-learn's
``TfidfVectorizer`` (the reference, and the fallback where n-grams do not fit an int64 key).
:func:`policy_nlp.features.fit_featurizer` makes either a
:class:`~policy_nlp.features.Featurizer`, which replays the fit at prediction time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .ngram_keys import char_codes, decode_key, ngram_key_pairs

if TYPE_CHECKING:  # pragma: no cover
    from scipy.sparse import csr_matrix

    from .features import FeatureSpec


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


def fit_arrays(texts: list[str], tokens: list[list[str]], spec: FeatureSpec
               ) -> tuple[list[tuple[str, list[str], np.ndarray]], csr_matrix] | None:
    """Fit the TF-IDF blocks and transform the training texts in one go, vectorised: the
    blocks ``(kind, terms, idf)`` of a :class:`~policy_nlp.features.Featurizer` and the
    matrix (what :func:`~policy_nlp.features.fit_featurizer` returns as a featurizer).

    The same vocabularies (sorted as scikit-learn sorts them), idf weights and matrix as
    ``fit_blocks`` + ``transform_blocks`` (tested), about 15x faster: every n-gram becomes an
    int64 key (dense ids of the characters or tokens, in base V + 1), and one ``np.unique``
    over (key, paragraph) pairs gives the counts and, the keys coming out sorted, the
    document frequencies. None where key and paragraph do not fit in 62 bits together (long
    n-grams, huge vocabularies or corpora): fit with scikit-learn then.
    """
    from scipy.sparse import coo_matrix, hstack

    n_docs = len(texts)
    doc_bits = max(n_docs, 1).bit_length()
    blocks, mats = [], []
    for kind, ngram in (("char", spec.char_ngram), ("word", spec.word_ngram)):
        if ngram is None:
            continue
        # dense ids 1..V of the characters (or tokens) of the training texts
        if kind == "char":
            points, lens = char_codes(texts)
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
            return None  # keys too wide (long n-grams, a huge vocabulary)
        doc, key = ngram_key_pairs(codes, lens, ngram, base)
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
        terms = [decode_key(int(k), names, base, sep) for k in ukeys[kept]]
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
    return blocks, hstack(mats, format="csr")


def transform_blocks(blocks: list[tuple[str, Any]], texts: list[str], tokens: list[list[str]]):
    """The training-side transform of :func:`fit_blocks`: a CSR matrix, blocks side by side."""
    from scipy.sparse import hstack

    parts = [vec.transform(texts if kind == "char" else tokens) for kind, vec in blocks]
    return hstack(parts, format="csr")
