"""Sentences: split_sentences, and labeling paragraphs sentence by sentence.

The paragraphs below are written for these tests in the style of a report's review of the
government's own work: one sentence each on political building, efficiency, rule of law and
integrity.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.predict import Unit, label_sentences
from policy_nlp.split import split_sentences

FOUR = {"political", "governance", "rule_of_law", "integrity"}
REVIEWS = [
    # political building, efficiency, rule of law, integrity: one sentence each
    "我们始终把党的政治建设摆在首位，深刻领悟“两个确立”的决定性意义。"
    "大力推进数字政府建设，行政审批时限压缩一半，督查督办机制不断完善。"
    "自觉接受人大法律监督和政协民主监督，深入开展法治宣传教育，推进严格规范公正文明执法。"
    "坚决纠治形式主义、官僚主义，强化审计监督，一体推进不敢腐、不能腐、不想腐。",
    # the same four, other words, and a quotation with its own full stops kept whole
    "坚持用党的创新理论武装头脑，认真落实巡视整改任务，坚决做到“两个维护”。"
    "深化机关作风建设，12345热线诉求按时办结率达到百分之九十九，政府执行力和公信力持续提升。"
    "严格落实重大行政决策程序规定，扎实推进行政复议体制改革，认真办理人大代表建议和政协提案。"
    "驰而不息落实中央八项规定精神，政府带头过紧日子，“三公”经费只减不增。",
]


# --- split_sentences ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("稳增长。促改革！调结构？惠民生；防风险",
         ["稳增长。", "促改革！", "调结构？", "惠民生；", "防风险"]),
        ("half-width;forms!too?yes", ["half-width;", "forms!", "too?", "yes"]),
        # quotes stay whole, with the marks that close the sentence
        ("他强调：“要实干。要担当！”我们照办。", ["他强调：“要实干。要担当！”我们照办。"]),
        ("会议提出“稳中求进。”", ["会议提出“稳中求进。”"]),
        ("通过《关于改革的决定？》。继续。", ["通过《关于改革的决定？》。", "继续。"]),
        ("完成目标（详见附表；下同）。好", ["完成目标（详见附表；下同）。", "好"]),
        ('he said "stop! now?" then left; ok', ['he said "stop! now?" then left;', "ok"]),
        # repeated terminators and closers go with their sentence
        ("真好！！”还有？！再见。）", ["真好！！”", "还有？！", "再见。）"]),
        # a quote never closed protects nothing
        ("他说：“第一句。第二句。", ["他说：“第一句。", "第二句。"]),
        # decimals are not sentence ends; whitespace between sentences goes
        ("增长5.2%。 \n 下降0.3个百分点。", ["增长5.2%。", "下降0.3个百分点。"]),
        ("", []),
        ("   ", []),
        ("一句话没有句号", ["一句话没有句号"]),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_split_sentences_loses_only_whitespace():
    for text in REVIEWS:
        assert "".join(split_sentences(text)) == text
        assert len(split_sentences(text)) == 4


# --- sentence-level themes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_model():
    from policy_nlp.model import load_model

    return load_model()


def test_a_paragraph_through_four_themes_gets_all_four(default_model):
    units = [Unit(id=f"review{i}", text=t) for i, t in enumerate(REVIEWS)]
    for rec in label_sentences(default_model, units):
        assert [s["label"] for s in rec["sentences"]] == [
            "political", "governance", "rule_of_law", "integrity"], rec["id"]
        assert set(rec["themes"]) == FOUR
        assert abs(sum(rec["themes"].values()) - 1) < 1e-3
        assert list(rec["themes"].values()) == sorted(rec["themes"].values(), reverse=True)
        # the paragraph's own prediction is there too, as label_units writes it
        assert rec["label"] in default_model.themes and len(rec["top"]) == 3


def test_sentence_shares_follow_the_characters(default_model):
    text = ("推进碳达峰碳中和，深入打好蓝天碧水净土保卫战，持续改善生态环境质量。"
            "严格落实中央八项规定精神。")
    (rec,) = label_sentences(default_model, [Unit(id="p", text=text)], paragraph=False)
    first, second = (len(s) for s in split_sentences(text))
    assert rec["themes"] == {"environment": round(first / (first + second), 4),
                             "integrity": round(second / (first + second), 4)}
    assert "label" not in rec  # paragraph=False: no paragraph-level prediction


def test_classify_unit_sentence_cli():
    result = CliRunner().invoke(app, ["classify", "--text", REVIEWS[0], "--unit", "sentence",
                                      "-f", "jsonl"])
    assert result.exit_code == 0, result.stderr
    (rec,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(rec["themes"]) == FOUR and len(rec["sentences"]) == 4
    table = CliRunner().invoke(app, ["classify", "--text", REVIEWS[0], "--unit", "sentence"])
    assert table.exit_code == 0 and "themes" in table.stdout.splitlines()[0]
    csv_out = CliRunner().invoke(app, ["classify", "--text", REVIEWS[0], "--unit", "sentence",
                                       "-f", "csv"])
    header, row = csv_out.stdout.splitlines()
    assert "themes" in header.split(",") and "political:0." in row
