import numpy as np
import pytest

from policy_nlp.features import (
    Featurizer,
    FeatureSpec,
    char_analyzer,
    fit_blocks,
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


def test_char_analyzer_folds_whitespace_and_case():
    assert char_analyzer("A  b", (1, 2)) == ["a", " ", "b", "a ", " b"]


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
