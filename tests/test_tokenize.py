# ruff: noqa: RUF001 (Chinese fixture sentences have full-width punctuation)
"""Tests of policy_nlp.tokenize: golden segmentations, the policy lexicon, the private jieba
tokenizer, and pickling with scikit-learn. The sentences are written for these tests."""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
import subprocess
import sys
import threading
from importlib import resources

import jieba
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from policy_nlp import tokenize as tk
from policy_nlp.tokenize import (
    NUM_TOKEN,
    TOKENIZER_NAME,
    lexicon_sha256,
    lexicon_terms,
    segment,
    tokenize,
)

# (sentence, segment(sentence), tokenize(sentence)), each read by eye.
GOLDEN = [
    (
        "加快发展新质生产力，推进碳达峰碳中和。",
        ["加快", "发展", "新质生产力", "，", "推进", "碳达峰", "碳中和", "。"],
        ["加快", "发展", "新质生产力", "推进", "碳达峰", "碳中和"],
    ),
    (
        "坚定拥护“两个确立”、坚决做到“两个维护”，严格落实中央八项规定精神。",
        ["坚定拥护", "“", "两个确立", "”", "、", "坚决", "做到", "“", "两个维护", "”", "，",
         "严格", "落实", "中央", "八项规定", "精神", "。"],
        ["坚定拥护", "两个确立", "坚决", "做到", "两个维护", "严格", "落实", "中央", "八项规定",
         "精神"],
    ),
    (
        "深化“放管服”改革，持续优化营商环境，培育更多专精特新企业。",
        ["深化", "“", "放管服", "”", "改革", "，", "持续", "优化", "营商环境", "，", "培育",
         "更", "多", "专精特新", "企业", "。"],
        ["深化", "放管服", "改革", "持续", "优化", "营商环境", "培育", "更", "多", "专精特新",
         "企业"],
    ),
    (
        "全面推行河长制，推动乡村振兴取得新成效，“一网通办”事项达到1,200项。",
        ["全面推行", "河长制", "，", "推动", "乡村振兴", "取得", "新", "成效", "，", "“",
         "一网通办", "”", "事项", "达到", "1", ",", "200", "项", "。"],
        ["全面推行", "河长制", "推动", "乡村振兴", "取得", "新", "成效", "一网通办", "事项",
         "达到", NUM_TOKEN, "项"],
    ),
    (
        "2024年地区生产总值增长5.2%，GDP突破3万亿元。",
        ["2024", "年", "地区生产总值", "增长", "5.2%", "，", "GDP", "突破", "3", "万亿元", "。"],
        [NUM_TOKEN, "年", "地区生产总值", "增长", NUM_TOKEN, "gdp", "突破", NUM_TOKEN, "万亿元"],
    ),
    (
        "坚持过紧日子，压减三公经费，做好双拥和信访工作。",
        ["坚持", "过紧日子", "，", "压减", "三公经费", "，", "做好", "双拥", "和", "信访", "工作",
         "。"],
        ["坚持", "过紧日子", "压减", "三公经费", "做好", "双拥", "和", "信访", "工作"],
    ),
]  # fmt: skip

KEY_TERMS = """
新质生产力 碳中和 碳达峰 双碳 两个确立 两个维护 四个意识 四个自信 八项规定 四风 放管服 营商环境
乡村振兴 脱贫攻坚 河长制 林长制 一网通办 一网统管 专精特新 稳增长 过紧日子 三公经费 城市更新
保障性住房 民生实事 平安建设 双拥 信访 扫黑除恶 供给侧结构性改革 高质量发展 新发展理念
新发展格局 共同富裕 一带一路 自由贸易试验区 京津冀协同发展 长三角一体化 粤港澳大湾区
""".split()

CONTEXTS = ["{}", "加快推进{}工作。", "全面落实{}，取得新成效。", "围绕{}深化改革", "坚持{}和{}。"]

CORPUS = [
    "加快发展新质生产力，推进碳达峰碳中和。",
    "深化“放管服”改革，持续优化营商环境。",
    "全面推进乡村振兴，建设高标准农田5万亩。",
    "严格落实中央八项规定精神，坚持过紧日子。",
    "GDP增长5.2%，一般公共预算收入增长3.1%。",
]


@pytest.mark.parametrize(("text", "segments", "_"), GOLDEN, ids=range(len(GOLDEN)))
def test_segment_golden(text, segments, _):
    assert segment(text) == segments


@pytest.mark.parametrize(("text", "_", "tokens"), GOLDEN, ids=range(len(GOLDEN)))
def test_tokenize_golden(text, _, tokens):
    assert tokenize(text) == tokens


def test_segment_keeps_every_character():
    text = " 推进 “两个确立”\n——2024年５．２％ GDP\t"
    assert "".join(segment(text)) == text


@pytest.mark.parametrize("term", KEY_TERMS)
def test_key_term_is_in_the_lexicon_and_stays_whole(term):
    assert term in lexicon_terms()
    for context in CONTEXTS:
        sentence = context.format(term, term)
        assert term in tokenize(sentence), (sentence, tokenize(sentence))


def test_punctuation_and_whitespace_are_dropped():
    text = "  新质生产力\t——“碳中和”《规划》（试行）、【通知】！？……；：\n\u3000"
    assert tokenize(text) == ["新质生产力", "碳中和", "规划", "试行", "通知"]
    assert tokenize("，。！ \n") == []
    assert tokenize("") == segment("") == []


def test_latin_is_lower_cased_and_full_width_normalised():
    assert tokenize("GDP和CPI") == ["gdp", "和", "cpi"]
    assert tokenize("ＧＤＰ") == ["gdp"]
    assert tokenize("建设5G基站") == ["建设", "5g", "基站"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("增长5.2%", ["增长", NUM_TOKEN]),
        ("增长６．５％", ["增长", NUM_TOKEN]),
        ("完成1,234.5亿元", ["完成", NUM_TOKEN, "亿元"]),
        ("2021-2025年", [NUM_TOKEN, NUM_TOKEN, "年"]),
        ("拨打12345热线", ["拨打", "12345热线"]),
    ],
)
def test_numbers_become_one_token(text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize("bad", [None, b"\xe6\x96\xb0", ["新质生产力"]])
def test_non_text_is_refused(bad):
    with pytest.raises(TypeError, match="expects a str"):
        tokenize(bad)
    with pytest.raises(TypeError, match="expects a str"):
        segment(bad)


def test_global_jieba_is_untouched():
    tokenize("加快发展新质生产力")  # build the private tokenizer first
    assert tk._jieba() is not jieba.dt
    assert "新质生产力" not in jieba.dt.FREQ
    assert not jieba.dt.user_word_tag_tab
    assert jieba.lcut("加快发展新质生产力") != ["加快", "发展", "新质生产力"]
    assert "新质生产力" not in jieba.dt.FREQ


def test_concurrent_first_use_builds_one_tokenizer(monkeypatch):
    monkeypatch.setattr(tk, "_tokenizer", None)
    built = []
    threads = [threading.Thread(target=lambda: built.append(tk._jieba())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 4
    assert all(b is built[0] for b in built)


def test_tokenize_pickles_by_reference():
    assert pickle.loads(pickle.dumps(tokenize)) is tokenize


def fitted_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=tokenize, sublinear_tf=True).fit(CORPUS)


def test_vectorizer_round_trips_through_pickle():
    vec = fitted_vectorizer()
    back = pickle.loads(pickle.dumps(vec))
    assert back.get_params() == vec.get_params()
    assert back.vocabulary_ == vec.vocabulary_
    assert "新质生产力" in vec.vocabulary_
    assert (back.transform(CORPUS) != vec.transform(CORPUS)).nnz == 0


def test_pickled_vectorizer_works_in_a_fresh_process():
    """What a joblib worker does: unpickle and transform, building its own tokenizer."""
    vec = TfidfVectorizer(analyzer=functools.partial(tokenize, backend="jieba"),
                          sublinear_tf=True).fit(CORPUS)
    code = (
        "import pickle, sys, jieba\n"
        "vec, corpus = pickle.loads(sys.stdin.buffer.read())\n"
        "out = vec.transform(corpus)\n"
        "sys.stdout.buffer.write(pickle.dumps((out, jieba.lcut('新质生产力'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps((vec, CORPUS)),
        capture_output=True,
        check=True,
        timeout=60,
    )
    out, global_cut = pickle.loads(done.stdout)
    assert (out != vec.transform(CORPUS)).nnz == 0
    assert global_cut != ["新质生产力"]
    assert b"prefix dict" not in done.stderr  # jieba's logging is silenced


def test_import_is_light():
    code = "import sys, policy_nlp.tokenize; print('jieba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_lexicon_file_is_well_formed():
    raw = resources.files("policy_nlp").joinpath("data", "policy_lexicon.txt").read_bytes()
    text = raw.decode("utf-8")
    assert not text.startswith("\ufeff")
    assert text.endswith("\n")
    lines = text.splitlines()
    assert 300 <= len(lines) <= 3000
    bad = [line for line in lines if not re.fullmatch(r"\S{2,12} [1-9]\d*", line)]
    assert not bad
    terms = [line.split(" ")[0] for line in lines]
    assert len(set(terms)) == len(terms)
    assert terms == sorted(terms)
    assert frozenset(terms) == lexicon_terms()
    assert lexicon_sha256() == hashlib.sha256(raw).hexdigest()


def test_tokenizer_name_names_jieba_and_the_lexicon():
    assert TOKENIZER_NAME == f"jieba-{jieba.__version__}+policy-lexicon"


@pytest.mark.parametrize("backend", tk.BACKENDS)
@pytest.mark.parametrize(("text", "segments", "tokens"), GOLDEN, ids=range(len(GOLDEN)))
def test_both_backends_agree_on_the_golden_sentences(backend, text, segments, tokens):
    assert segment(text, backend) == segments
    assert tokenize(text, backend) == tokens


@pytest.mark.parametrize("backend", tk.BACKENDS)
def test_hyphenated_ranges_are_cut_as_jieba_does(backend):
    text = "每年新增1-2个项目，推广Micro-LED和PM_2.5监测。"
    assert "".join(segment(text, backend)) == text
    assert tokenize(text, backend) == tokenize(text, "jieba")
    assert tokenize(text, backend)[:3] == ["每年", "新增", NUM_TOKEN]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown tokenizer backend"):
        tokenize("推进改革", "thulac")
    with pytest.raises(ValueError, match="unknown tokenizer backend"):
        tk.tokenizer_name("thulac")


def test_tokenizer_name_names_the_backend():
    import rjieba  # noqa: F401

    from importlib.metadata import version

    assert tk.tokenizer_name("rjieba") == f"rjieba-{version('rjieba')}+policy-lexicon"
    assert tk.DEFAULT_BACKEND == "rjieba"


@pytest.mark.corpus
def test_backends_agree_on_the_shared_corpus(shared):
    """rjieba and jieba give the same features for (nearly) every paragraph; the full list of
    differences: scripts/tokenizer_parity.py."""
    import json

    lines = (shared / "corpus" / "paragraphs.jsonl").read_text("utf-8").splitlines()[::25]
    texts = [json.loads(line)["text"] for line in lines]
    same = sum(tokenize(t, "rjieba") == tokenize(t, "jieba") for t in texts)
    assert same / len(texts) >= 0.995


def _split_batch(tokens):
    docs = [[]]
    for t in tokens:
        if t == tk.BATCH_SEPARATOR:
            docs.append([])
        else:
            docs[-1].append(t)
    return docs


def test_a_batch_cut_at_once_gives_each_text_its_own_tokens():
    texts = [t for t, _, _ in GOLDEN] + ["每年新增1-2个项目", "1,234,567元", "ＧＤＰ", "a", "-x-"]
    tokens = tk.raw_tokens_batch(texts)
    assert tokens is not None
    assert _split_batch(tokens) == [tk.raw_tokens(t) for t in texts]
    # a text with a line break of its own cannot be told from the separator: not batched
    assert tk.raw_tokens_batch(["一\n二", "三"]) is None
    assert tk.raw_tokens_batch(["一", "二"], "jieba") is None


def test_dashes_are_cut_only_inside_longer_tokens():
    assert tk._split_dashes(["1-2", "-", "年", "a_b"], "1-2-年a_b") == ["1", "-", "2", "-", "年",
                                                                      "a", "_", "b"]
    # tokens that do not join to the text: every token is looked at
    assert tk._split_dashes(["x-y"], "other") == ["x", "-", "y"]


@pytest.mark.corpus
def test_batch_cut_equals_text_by_text_on_the_shared_corpus(shared):
    import json

    lines = (shared / "corpus" / "paragraphs.jsonl").read_text("utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    for i in range(0, len(texts), 1024):
        batch = texts[i : i + 1024]
        tokens = tk.raw_tokens_batch(batch)
        assert tokens is not None
        assert _split_batch(tokens) == [tk.raw_tokens(t) for t in batch]


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
def test_a_lone_surrogate_is_segmented_as_a_replacement_character(backend):
    """jieba-rs takes only UTF-8, which a lone surrogate is not: it is cut as U+FFFD."""
    text = "\udcff推进碳达峰碳中和。"
    assert tokenize(text, backend) == tokenize("\ufffd推进碳达峰碳中和。", backend)
    assert "碳达峰" in tokenize(text, backend)
