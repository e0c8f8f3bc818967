import numpy as np
import pytest

from policy_nlp.features import (
    Featurizer,
    FeatureSpec,
    char_analyzer,
    fit_blocks,
    fit_featurizer,
    transform_blocks,
)
from policy_nlp.tokenize import tokenize

TEXTS = [
    "推进碳达峰碳中和，加快发展新质生产力。",
    "城镇新增就业 5 万人，  提高养老金。",
    "严格落实中央八项规定精神，持续纠治四风。",
    "GDP增长5.2%，CPI上涨2%。",
]
UNSEEN = ["加快建设  现代化产业体系，推动碳中和。", "", "ABC abc 全新的词语组合"]


@pytest.mark.parametrize(
    "spec",
    [FeatureSpec(min_df=1), FeatureSpec(char_ngram=(2, 4), word_ngram=None, min_df=1),
     FeatureSpec(char_ngram=None, word_ngram=(1, 3), sublinear_tf=False, min_df=1)],
)
def test_array_featurizer_equals_sklearn(spec):
    tokens = [tokenize(t) for t in TEXTS]
    blocks = fit_blocks(TEXTS, tokens, spec)
    feat = Featurizer.from_fitted(spec, blocks)
    for texts in (TEXTS, UNSEEN):
        expected = transform_blocks(blocks, texts, [tokenize(t) for t in texts]).toarray()
        got = feat.transform(texts).toarray()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "spec",
    [FeatureSpec(min_df=1), FeatureSpec(min_df=2, max_df=0.9),
     FeatureSpec(char_ngram=(2, 3), word_ngram=None, min_df=1),
     FeatureSpec(char_ngram=None, word_ngram=(1, 3), sublinear_tf=False, min_df=1),
     FeatureSpec(char_ngram=(2, 4), word_ngram=(1, 1), min_df=1)],  # the scikit-learn fallback
)
def test_vectorised_fit_equals_sklearn(spec):
    texts = TEXTS + UNSEEN + ["ĞİŞ Ａ  Ｂ\t全新\n的  词", "推进碳达峰碳中和，加快发展新质生产力。"]
    tokens = [tokenize(t) for t in texts]
    blocks = fit_blocks(texts, tokens, spec)
    feat, X = fit_featurizer(texts, tokens, spec)
    ref = Featurizer.from_fitted(spec, blocks)
    assert feat.feature_names() == ref.feature_names()
    for a, b in zip(feat.blocks, ref.blocks, strict=True):
        np.testing.assert_allclose(a.idf, b.idf, rtol=1e-12)
    expected = transform_blocks(blocks, texts, tokens)
    np.testing.assert_allclose(X.toarray(), expected.toarray(), rtol=1e-12, atol=1e-12)
    assert X.has_sorted_indices


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
def test_fast_transform_equals_reference_one_by_one(backend):
    spec = FeatureSpec(min_df=1, tokenizer=backend)
    tokens = [tokenize(t, backend) for t in TEXTS]
    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, tokens, spec))
    texts = TEXTS + UNSEEN + ["每年新增1-2个项目，推广Micro-LED。", "。。。", "\u3000"]
    indptr, cols, vals = feat.transform_arrays(texts)
    for i, text in enumerate(texts):
        ref_cols, ref_vals = feat.transform_one_reference(text)
        np.testing.assert_array_equal(cols[indptr[i]:indptr[i + 1]], ref_cols)
        # the same bits: a text classified alone scores as in a batch
        np.testing.assert_array_equal(vals[indptr[i]:indptr[i + 1]], ref_vals)
        one_cols, one_vals = feat.transform_one(text)
        np.testing.assert_array_equal(one_cols, ref_cols)
        np.testing.assert_array_equal(one_vals, ref_vals)


def test_a_few_texts_skip_building_the_hash_table():
    spec = FeatureSpec(min_df=1)
    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, [tokenize(t) for t in TEXTS], spec))
    one = feat.transform(TEXTS[:2])
    assert not any(b._prepared for b in feat.blocks)  # classify's path: no table built
    both = feat.transform(TEXTS * 2)  # a batch builds it
    assert all(b._prepared for b in feat.blocks)
    np.testing.assert_array_equal(one.toarray(), both[:2].toarray())
    np.testing.assert_array_equal(one.toarray(), feat.transform(TEXTS[:2]).toarray())


def test_spec_without_tokenizer_is_an_old_jieba_model():
    assert FeatureSpec.from_dict({"char_ngram": [1, 3], "word_ngram": None}).tokenizer == "jieba"
    assert FeatureSpec().tokenizer == "rjieba"


def test_char_analyzer_folds_whitespace_and_case():
    assert char_analyzer("A  b", (1, 2)) == ["a", " ", "b", "a ", " b"]


def test_a_batch_too_long_for_one_kernel_call_is_scored_in_parts(monkeypatch):
    """The kernel numbers a batch's n-grams with int32; a longer batch is cut between texts
    into calls below the limit, with the same scores."""
    pytest.importorskip("numba")
    import policy_nlp.features as features
    from policy_nlp import kernels

    spec = FeatureSpec(min_df=1)
    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, [tokenize(t) for t in TEXTS], spec))
    texts = (KERNEL_TEXTS * 8)[:96]
    weights = np.random.default_rng(0).normal(size=(feat.n_features, 3)).astype(np.float32)
    whole = feat.dot(texts, weights)
    calls = []
    kernel = kernels.ngram_scores
    monkeypatch.setattr(kernels, "ngram_scores",
                        lambda *args: calls.append(len(args[1])) or kernel(*args))
    monkeypatch.setattr(features, "KERNEL_MAX_NGRAMS", 200)
    parts = feat.dot(texts, weights)
    assert len(calls) > 2 * len(feat.blocks) and sum(calls) == len(texts) * len(feat.blocks)
    assert whole is not None and np.array_equal(parts, whole)


def test_a_block_sets_its_hash_table_last(monkeypatch):
    """A block with a hash table is ready for the kernel, whatever thread looks at it (a model
    shared by a notebook's or a Dask worker's threads): everything else the kernel reads is
    set before the table."""
    import policy_nlp.features as features

    spec = FeatureSpec(min_df=1)
    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, [tokenize(t) for t in TEXTS], spec))
    order: list[str] = []

    def spy(block, name, value):
        order.append(name)
        object.__setattr__(block, name, value)

    monkeypatch.setattr(features._Block, "__setattr__", spy)
    for block in feat.blocks:
        order.clear()
        assert block._prepare()
        assert order[-1] == "_table" and "_unigrams" in order, (block.kind, order)


def test_a_term_given_twice_is_counted_in_its_first_column_on_every_path():
    from policy_nlp.features import _Block

    block = _Block("char", (1, 2), ["a", "b", "a", "ab"], np.ones(4))
    assert block._prepare()
    texts = ["abab", "ba"] * 40  # enough texts for the kernel
    kernel = block.counts(texts, kernel=True)
    numpy_path = block.counts(texts, kernel=False)
    for got, expected in zip(kernel, numpy_path, strict=True):
        assert np.array_equal(got, expected)
    assert 2 not in kernel[1].tolist()


def test_char_codes_fold_whitespace_as_scikit_learn_does():
    """The batch's code points are those of scikit-learn's character analyzer, text by text:
    runs of whitespace (any Unicode space) folded to one space, within a text only."""
    from sklearn.feature_extraction.text import CountVectorizer

    from policy_nlp.ngram_keys import char_codes

    analyzer = CountVectorizer(analyzer="char", ngram_range=(1, 1)).build_analyzer()
    batches = [
        ["一、回顾", "增长 。"],  # no run: the whitespace search is skipped
        ["A  b", "x\u3000\u3000y", "ends \t", " starts", "\n\u2028\u2029", "İ  Σ", ""],
        ["ends ", " starts"],  # a run only across two texts
    ]
    for texts in batches:
        codes, lens = char_codes(texts)
        assert lens.tolist() == [len(analyzer(t)) for t in texts]
        assert (codes - 1).tolist() == [ord(c) for t in texts for c in analyzer(t)]


def test_spec_round_trips_through_dict():
    spec = FeatureSpec(char_ngram=(1, 4), word_ngram=None, sublinear_tf=False, min_df=3)
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_min_df_prunes_rare_terms():
    tokens = [tokenize(t) for t in TEXTS]
    n1 = Featurizer.from_fitted(FeatureSpec(min_df=1), fit_blocks(TEXTS, tokens,
                                                                   FeatureSpec(min_df=1)))
    n2 = Featurizer.from_fitted(FeatureSpec(min_df=2), fit_blocks(TEXTS, tokens,
                                                                   FeatureSpec(min_df=2)))
    assert 0 < n2.n_features < n1.n_features


KERNEL_TEXTS = TEXTS + UNSEEN + [
    "每年新增1-2个项目，推广Micro-LED。", "。。。", "\u3000", "第一行\n第二行 1,234 万元",
    "𠀀𠀁 astral 字符 𠀀𠀁", "ＡＢＣ１２３，全角字符", "碳中和" * 50,
]


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
@pytest.mark.parametrize(
    "spec",
    [FeatureSpec(min_df=1), FeatureSpec(char_ngram=(2, 3), word_ngram=(1, 3), min_df=1,
                                        sublinear_tf=False)],
)
def test_compiled_kernel_counts_what_numpy_counts(backend, spec):
    pytest.importorskip("numba")
    spec = FeatureSpec(**{**spec.to_dict(), "tokenizer": backend})
    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, [tokenize(t, backend) for t in TEXTS],
                                                   spec))
    for block in feat.blocks:
        assert block._prepare()
        for texts in (KERNEL_TEXTS, KERNEL_TEXTS[::-1] * 3, ["", ""]):
            fast = block.counts(texts, kernel=True)
            slow = block.counts(texts, kernel=False)
            assert len(fast[0]) > 0 or texts == ["", ""]
            for a, b in zip(fast, slow, strict=True):
                np.testing.assert_array_equal(a, b)


def test_big_batches_use_the_kernel_and_match_the_reference(monkeypatch):
    """A batch of at least KERNEL_MIN_TEXTS texts goes through the compiled kernel; its rows
    are those of the per-paragraph reference."""
    pytest.importorskip("numba")
    import policy_nlp.features as features

    spec = FeatureSpec(min_df=1)
    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, [tokenize(t) for t in TEXTS], spec))
    used = []
    real = features._Block.counts
    monkeypatch.setattr(features._Block, "counts",
                        lambda self, texts, kernel: used.append(kernel) or real(self, texts,
                                                                                 kernel))
    texts = (KERNEL_TEXTS * 10)[: features.KERNEL_MIN_TEXTS]
    indptr, cols, vals = feat.transform_arrays(texts)
    assert used and all(used)
    for i, text in enumerate(texts):
        ref_cols, ref_vals = feat.transform_one_reference(text)
        np.testing.assert_array_equal(cols[indptr[i]:indptr[i + 1]], ref_cols)
        np.testing.assert_allclose(vals[indptr[i]:indptr[i + 1]], ref_vals, rtol=1e-12)


@pytest.mark.parametrize(
    "spec",
    [FeatureSpec(min_df=1), FeatureSpec(char_ngram=(1, 3), word_ngram=None, min_df=1),
     FeatureSpec(char_ngram=(2, 3), word_ngram=(1, 3), min_df=1, sublinear_tf=False)],
)
def test_compiled_scores_have_the_bits_of_the_sparse_product(spec):
    """Featurizer.dot (counts, tf-idf and product in the compiled kernel, no matrix) gives
    exactly scipy's product of the tf-idf matrix with the weights, block after block."""
    pytest.importorskip("numba")
    import policy_nlp.features as features

    feat = Featurizer.from_fitted(spec, fit_blocks(TEXTS, [tokenize(t) for t in TEXTS], spec))
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((feat.n_features, 17)).astype(np.float32)
    texts = (KERNEL_TEXTS * 12)[: features.KERNEL_MIN_TEXTS + 5] + ["碳中和" * 400]
    got = feat.dot(texts, weights)
    assert got is not None and got.shape == (len(texts), 17)
    expected = feat.transform(texts) @ weights.astype(np.float64)
    np.testing.assert_array_equal(got, expected)
    assert np.abs(got).sum() > 0
    # below KERNEL_MIN_TEXTS the caller builds the matrix instead
    assert feat.dot(texts[: features.KERNEL_MIN_TEXTS - 1], weights) is None


def test_model_scores_do_not_depend_on_the_kernel(tiny_model_dir, monkeypatch):
    """A model's probabilities are those of the numpy path (matrix and sparse product) when
    the compiled kernel computes them."""
    pytest.importorskip("numba")
    import policy_nlp.features as features
    from policy_nlp.model import load_model

    tiny_model = load_model(tiny_model_dir)

    texts = (KERNEL_TEXTS * 12)[: features.KERNEL_MIN_TEXTS * 2]
    with_kernel = tiny_model.predict_proba(texts)
    monkeypatch.setattr(features, "_kernel_ok", False)
    without = tiny_model.predict_proba(texts)
    np.testing.assert_allclose(with_kernel, without, rtol=1e-12, atol=1e-15)
    assert len(set(with_kernel.argmax(axis=1).tolist())) > 1



def test_a_paragraph_gets_the_same_scores_alone_or_in_any_batch(tiny_model_dir):
    """The compiled kernel (batches of 64+), the numpy product (smaller batches) and the
    reference featurizer (one to four texts) sum a row's products in the same order: the
    same bits, so classify and label never disagree in the last digit."""
    from policy_nlp.model import load_model

    model = load_model(tiny_model_dir)
    texts = (KERNEL_TEXTS * 12)[:80]
    batch = model.decision_function(texts)
    assert np.array_equal(batch, np.vstack([model.decision_function([t]) for t in texts]))
    assert np.array_equal(batch[:10], model.decision_function(texts[:10]))


# fixture text written for the tests: simplified sentences and their traditional twins
SIMPLIFIED = ["发展国民经济的计划，关于农业生产。", "我们要加强国防建设，巩固人民民主专政。"]
TRADITIONAL = ["發展國民經濟的計劃，關於農業生產。", "我們要加強國防建設，鞏固人民民主專政。"]


def test_simplify_is_the_default_and_old_cards_keep_texts_as_they_came():
    assert FeatureSpec().simplify is True
    assert FeatureSpec.from_dict({"char_ngram": [1, 3], "word_ngram": [1, 2]}).simplify is False
    spec = FeatureSpec(simplify=False, min_df=1)
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    assert spec.prepare(TRADITIONAL) == TRADITIONAL
    assert FeatureSpec().prepare(TRADITIONAL) == SIMPLIFIED


@pytest.mark.parametrize("simplify", [True, False])
def test_a_traditional_text_has_the_features_of_its_simplified_twin(simplify):
    from policy_nlp.train import TrainConfig, tokenize_all

    spec = FeatureSpec(min_df=1, simplify=simplify)
    texts = TEXTS + SIMPLIFIED
    feat, X = fit_featurizer(texts, tokenize_all(texts, TrainConfig(features=spec)), spec)
    simp, trad = feat.transform(SIMPLIFIED).toarray(), feat.transform(TRADITIONAL).toarray()
    np.testing.assert_array_equal(simp, X[-2:].toarray())
    assert np.array_equal(trad, simp) == simplify
    for text, row in zip(TRADITIONAL, trad, strict=True):  # the reference path: the same
        cols, vals = feat.transform_one_reference(text)
        np.testing.assert_array_equal(np.flatnonzero(row), cols)
        np.testing.assert_allclose(row[cols], vals)


def test_a_model_fitted_on_traditional_texts_sees_them_simplified():
    """Training converts too: the vocabulary holds simplified n-grams only."""
    from policy_nlp.train import TrainConfig, tokenize_all

    spec = FeatureSpec(min_df=1)
    feat, _ = fit_featurizer(TRADITIONAL, tokenize_all(TRADITIONAL, TrainConfig(features=spec)),
                             spec)
    names = feat.feature_names()
    assert "char:经济" in names and "char:經濟" not in names
    assert any(n.startswith("word:") and "经济" in n for n in names)


def test_the_kernel_path_simplifies_too():
    pytest.importorskip("numba")
    spec = FeatureSpec(min_df=1)
    feat = Featurizer.from_fitted(spec, fit_blocks(SIMPLIFIED + TEXTS,
                                                   [tokenize(t) for t in SIMPLIFIED + TEXTS],
                                                   spec))
    weights = np.random.default_rng(0).normal(size=(feat.n_features, 3)).astype(np.float32)
    simp, trad = feat.dot(SIMPLIFIED * 40, weights), feat.dot(TRADITIONAL * 40, weights)
    assert simp is not None and np.array_equal(simp, trad)
