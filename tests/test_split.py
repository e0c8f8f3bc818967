"""Tests of policy_nlp.split: headings and sections, preamble, chrome, broken lines, samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from policy_nlp.read import read_documents
from policy_nlp.split import Paragraph, SplitReport, split_report

SHARED = Path(__file__).resolve().parents[2] / "shared"
RAW = SHARED / "samples" / "raw"
CORPUS_PARAGRAPHS = SHARED / "corpus" / "paragraphs.jsonl"

# fixture text in the style of a report, written for these tests
OPENING = "现在，我代表县政府向大会报告工作，请予审议。"
SPEECH = f"""各位代表：
{OPENING}
一、过去一年工作回顾
过去一年，全县经济稳中有进。
（一）工业经济加快发展。新建项目十个，投资增长一成。
园区建设取得进展。
（二）民生保障持续加强
新增就业一千人。
二、今年主要任务
今年要做好以下工作。
（一）扩大有效投资。加快项目建设，推动投资稳定增长。
各位代表！
让我们共同努力！"""


def texts(report: SplitReport) -> list[str]:
    return [p.text for p in report.paragraphs]


def sections(report: SplitReport) -> list[list[str]]:
    return [p.section for p in report.paragraphs]


# --- headings and sections ----------------------------------------------------------------------


def test_speech_headings_and_sections() -> None:
    r = split_report(SPEECH, "县/2024")
    assert r.preamble == ["各位代表："]
    assert r.headings == [
        "一、过去一年工作回顾",
        "（一）工业经济加快发展",
        "（二）民生保障持续加强",
        "二、今年主要任务",
        "（一）扩大有效投资",
    ]
    assert texts(r) == [
        OPENING,
        "过去一年，全县经济稳中有进。",
        "（一）工业经济加快发展。新建项目十个，投资增长一成。",
        "园区建设取得进展。",
        "新增就业一千人。",
        "今年要做好以下工作。",
        "（一）扩大有效投资。加快项目建设，推动投资稳定增长。",
        "让我们共同努力！",
    ]
    assert sections(r) == [
        [],
        ["一、过去一年工作回顾"],
        ["一、过去一年工作回顾", "（一）工业经济加快发展"],
        ["一、过去一年工作回顾", "（一）工业经济加快发展"],
        ["一、过去一年工作回顾", "（二）民生保障持续加强"],
        ["二、今年主要任务"],
        ["二、今年主要任务", "（一）扩大有效投资"],
        ["二、今年主要任务", "（一）扩大有效投资"],
    ]
    assert [p.index for p in r.paragraphs] == list(range(8))
    assert {p.report_id for p in r.paragraphs} == {"县/2024"}
    assert r.paragraphs[0] == Paragraph("县/2024", 0, OPENING, [])


def test_all_heading_levels() -> None:
    text = (
        "第一部分 总体要求\n一、主要目标\n(一)稳定增长\n1.扩大投资\n（1）重大项目\n项目加快。\n"
        "(2) 中小项目\n稳步推进。\n2、促进消费\n消费回升。\n第二部分 重点任务\n落实任务。"
    )
    r = split_report(text, "x")
    assert sections(r) == [
        ["第一部分 总体要求", "一、主要目标", "(一)稳定增长", "1.扩大投资", "（1）重大项目"],
        ["第一部分 总体要求", "一、主要目标", "(一)稳定增长", "1.扩大投资", "(2) 中小项目"],
        ["第一部分 总体要求", "一、主要目标", "(一)稳定增长", "2、促进消费"],
        ["第二部分 重点任务"],
    ]
    assert r.headings == [
        "第一部分 总体要求",
        "一、主要目标",
        "(一)稳定增长",
        "1.扩大投资",
        "（1）重大项目",
        "(2) 中小项目",
        "2、促进消费",
        "第二部分 重点任务",
    ]


def test_a_deeper_heading_without_outer_one() -> None:
    r = split_report("（三）生态建设\n植树造林。", "x")
    assert sections(r) == [["（三）生态建设"]]


def test_heading_with_final_full_stop() -> None:
    r = split_report("（一）用改革的办法推进结构调整。\n要巩固成果。", "x")
    assert r.headings == ["（一）用改革的办法推进结构调整"]
    assert texts(r) == ["要巩固成果。"]


def test_short_marker_line_with_two_sentences_is_a_paragraph() -> None:
    r = split_report("（一）经济增长。全年增长五成。", "x")
    assert texts(r) == ["（一）经济增长。全年增长五成。"]
    assert sections(r) == [["（一）经济增长"]]


def test_long_lead_clause_is_cut_at_its_first_comma() -> None:
    first = "（二）以物流园区建设为重点做强现代服务业"
    lead = first + "，推进城乡一体化发展" * 5
    assert len(lead) > 60
    r = split_report(f"{lead}。全年计划投资十亿元。", "x")
    assert r.headings == [first]


def test_long_lead_clause_without_comma_is_truncated() -> None:
    line = "（三）" + "加快" * 40 + "。其余。"
    (entry,) = split_report(line, "x").headings
    assert entry == line[:60] + "…"


def test_numbers_are_not_markers() -> None:
    text = "1.5亿元投资到位。\n2024年经济增长。\n一是加快发展，二是稳定就业。\n（2024年）报告。"
    r = split_report(text, "x")
    assert r.headings == []
    assert len(r.paragraphs) == 4


# --- preamble and chrome ------------------------------------------------------------------------

WEBPAGE = f"""下载
打印
全屏
【字号：
加大
还原
减小
】
标题：2024年某县政府工作报告
发文单位：某县人民政府
来源URL：https://www.example.gov.cn/a/b/c.html
正文：
政 府 工 作 报 告
——2024年1月10日在某县第十届人民代表大会第三次会议上
某县人民政府县长 张某某
张某某作政府工作报告。本报记者 李某 摄
各位代表：
{OPENING}
一、过去一年工作回顾
全县经济稳中有进。
张某某作政府工作报告。
今年要加大
投入力度。
相关报道：
某县召开人代会"""


def test_webpage_preamble_is_dropped() -> None:
    r = split_report(WEBPAGE, "x")
    assert r.preamble[0] == "下载"
    assert r.preamble[-1] == "各位代表："
    assert len(r.preamble) == 17
    assert r.title == "2024年某县政府工作报告"
    # the caption's text repeated later is dropped, a lone 加大 in a broken line is kept
    assert texts(r) == [OPENING, "全县经济稳中有进。", "今年要加大投入力度。"]


@pytest.mark.parametrize(
    ("preamble", "title"),
    [
        ("政 府 工 作 报 告\n----2012年2月29日在区人代会上\n区长\u3000王某", "政府工作报告"),
        ("新华社北京3月6日电\n政府工作报告——2025年3月5日在某会议上\n\n", "政府工作报告"),
        ("某市市长 赵某", None),
    ],
)
def test_title_from_preamble(preamble: str, title: str | None) -> None:
    r = split_report(f"{preamble}\n各位代表：\n{OPENING}", "x")
    assert (r.title, texts(r)) == (title, [OPENING])


def test_opening_line_without_salutation_starts_the_speech() -> None:
    r = split_report(f"2025年政府工作报告\n——2025年1月在某会议上\n{OPENING}\n增长。", "x")
    assert r.preamble == ["2025年政府工作报告", "——2025年1月在某会议上"]
    assert texts(r) == [OPENING, "增长。"]


def test_without_salutation_only_chrome_is_dropped() -> None:
    text = "2025年政府工作报告\n\n新华社北京3月6日电\n\n加快发展。\n\n下载\n打印\n\n稳就业。"
    r = split_report(text, "x")
    assert r.preamble == []
    assert texts(r) == ["2025年政府工作报告", "加快发展。", "稳就业。"]


def test_bare_salutations_are_not_paragraphs() -> None:
    text = "各位代表！\n\n过去一年成绩很大。\n各位代表、同志们！\n各位代表，我们要努力。\n各位代表"
    assert texts(split_report(text, "x")) == ["过去一年成绩很大。", "各位代表，我们要努力。"]


def test_symbol_and_metadata_lines_are_dropped_anywhere() -> None:
    r = split_report("加快发展。\n>>\n©\n|\n时间：2024-01-26\n来源：某日报\n稳定就业。", "x")
    assert texts(r) == ["加快发展。", "稳定就业。"]


def test_page_holding_the_speech_twice_is_cut() -> None:
    once = f"各位代表：\n{OPENING}\n一、回顾\n成绩很大。\n让我们努力奋斗！"
    footer = "网站地图\n关于本站\n主办：某县人民政府办公厅\n政府工作报告\n2024年01月26日"
    r = split_report(f"{once}\n{footer}\n{once}\n{footer}\n是否继续？\n放弃", "x")
    assert texts(r) == [OPENING, "成绩很大。", "让我们努力奋斗！"]
    assert r.headings == ["一、回顾"]


def _review(n: int, topic: str) -> list[str]:
    """``n`` prose lines (over 60 characters, with sentences) of a speech's review."""
    return [f"{topic}第{k}项工作取得新进展，" + "各项指标稳中有进，人民群众获得感持续增强。" * 3
            for k in range(n)]


def test_a_salutation_after_the_review_does_not_drop_the_review() -> None:
    """A speech without an opening line: its mid-speech 各位代表： starts nothing."""
    review = _review(5, "过去一年")
    text = "\n".join(["一、2016年工作回顾", *review, "各位代表：", "二、2017年工作总体部署",
                      "今年要稳中求进。"])
    r = split_report(text, "x")
    assert r.preamble == []
    assert texts(r) == [*review, "今年要稳中求进。"]


def test_a_page_lead_and_caption_still_stand_before_the_salutation() -> None:
    lead = _review(2, "新闻导语")
    r = split_report("\n".join([*lead, "各位代表：", OPENING, "加快发展。"]), "x")
    assert r.preamble == [*lead, "各位代表："]
    assert texts(r) == [OPENING, "加快发展。"]


def test_reports_sharing_a_stock_opening_are_not_cut_as_a_second_copy() -> None:
    """Many reports in one text file all open with 现在，我代表…: none is a copy of the first."""
    first = f"各位代表：\n{OPENING}\n一、回顾\n甲县成绩很大。\n让我们努力奋斗！"
    second = f"{OPENING}\n一、回顾\n乙县成绩也很大。\n让我们继续奋斗！"
    r = split_report(f"{first}\n{second}", "x")
    assert texts(r) == [OPENING, "甲县成绩很大。", "让我们努力奋斗！", OPENING, "乙县成绩也很大。",
                        "让我们继续奋斗！"]


def test_footer_is_dropped_after_a_speech_only() -> None:
    footer = "\n网站地图\n\n联系我们\n"
    assert texts(split_report(f"各位代表：\n{OPENING}{footer}", "x")) == [OPENING]
    assert texts(split_report(f"加快发展。{footer}", "x")) == ["加快发展。", "网站地图", "联系我们"]


def test_related_links_end_the_text() -> None:
    text = "加快发展。\n相关报道：\n某县政府工作报告解读，干货满满。"
    assert texts(split_report(text, "x")) == ["加快发展。"]


# --- broken lines and separators ----------------------------------------------------------------


def test_broken_lines_are_rejoined() -> None:
    text = (
        "深入学习贯彻总书记视察本省\n重要讲话\n精神，推动发展。\n"
        "研发投入强度位居\n全国第一\n，企业上云率保持\n全国第一\n。\n"
        "坚决做到“\n两个维护\n”，扎实工作。"
    )
    assert texts(split_report(text, "x")) == [
        "深入学习贯彻总书记视察本省重要讲话精神，推动发展。",
        "研发投入强度位居全国第一，企业上云率保持全国第一。",
        "坚决做到“两个维护”，扎实工作。",
    ]


def test_marker_line_broken_in_the_middle_is_rejoined() -> None:
    text = "（三）区域发展成效明显。坚决贯彻会上的\n重要讲话\n精神，加快发展。\n新区建设取得进展。"
    r = split_report(text, "x")
    assert texts(r) == [
        "（三）区域发展成效明显。坚决贯彻会上的重要讲话精神，加快发展。",
        "新区建设取得进展。",
    ]
    assert sections(r) == [["（三）区域发展成效明显"]] * 2


def test_headings_are_not_glued() -> None:
    text = "一、过去一年工作回顾\n过去一年\n（一）经济运行回升向好\n投资增长"
    r = split_report(text, "x")
    assert texts(r) == ["过去一年", "投资增长"]
    assert r.headings == ["一、过去一年工作回顾", "（一）经济运行回升向好"]


def test_dash_items_and_blank_lines_are_not_joined() -> None:
    text = "主要成绩是\n——经济增长\n——就业稳定\n\n一年来\n\n我们努力工作"
    expected = ["主要成绩是", "——经济增长", "——就业稳定", "一年来", "我们努力工作"]
    assert texts(split_report(text, "x")) == expected


def test_ascii_words_are_joined_with_a_space() -> None:
    assert texts(split_report("GDP growth\nreached 5%.", "x")) == ["GDP growth reached 5%."]


def test_blank_line_and_newline_separated_paragraphs_agree() -> None:
    single = split_report(SPEECH, "x")
    double = split_report(SPEECH.replace("\n", "\n\n"), "x")
    crlf = split_report("\u3000\u3000" + SPEECH.replace("\n", "\r\n\u3000\u3000"), "x")
    assert single == double == crlf


# --- small inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["加快发展新质生产力，推动产业升级。", "加快发展新质生产力", "\u3000加快，\r\n升级。\n"]
)
def test_single_paragraph(text: str) -> None:
    r = split_report(text, "pasted")
    assert len(r.paragraphs) == 1
    assert r.paragraphs[0].section == []
    assert (r.title, r.preamble, r.headings) == (None, [], [])


@pytest.mark.parametrize("text", ["", "\n\n", "各位代表：", "下载\n打印"])
def test_nothing_to_split(text: str) -> None:
    assert split_report(text, "x").paragraphs == []


# --- the raw samples in ../shared ---------------------------------------------------------------

# file -> (corpus report id or None, a generous range for the number of paragraphs)
SAMPLES = {
    "nanjing-2024-utf8.txt": ("prefecture/南京/2024", (55, 85)),
    "national-2017-gb18030-webpage.txt": ("national/全国/2017", (80, 115)),
    "hebei-2024-with-header.txt": ("provincial/河北/2024", (40, 70)),
    "shanghai-2026-webpage.csv": ("provincial/上海/2026", (80, 115)),
    "hailaer-2012-gb18030-crlf.txt": ("county/海拉尔区/2012", (20, 35)),
}
CHROME_STARTS = ("下载", "打印", "【字号", "标题：", "来源URL：", "正文：", "发文单位：", "新华社")
BROKEN_FRAGMENTS = {"重要讲话", "全国第一", "亲自", "两个维护", "创建省", "地更加"}


def require_shared() -> None:
    if not RAW.is_dir():
        pytest.skip(f"../shared is absent: no raw samples at {RAW}")


@pytest.fixture(scope="module")
def corpus_counts() -> Counter[str]:
    """Paragraphs per report in the corpus, for the sample reports only."""
    require_shared()
    ids = {report_id for report_id, _ in SAMPLES.values()}
    counts: Counter[str] = Counter()
    with CORPUS_PARAGRAPHS.open(encoding="utf-8") as f:
        for line in f:
            report_id = json.loads(line)["report_id"]
            if report_id in ids:
                counts[report_id] += 1
    return counts


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_raw_sample(name: str, corpus_counts: Counter[str]) -> None:
    require_shared()
    (doc,) = read_documents(RAW / name)  # the CSV's one row: its full_text column
    r = split_report(doc.text, doc.id)
    paragraphs = texts(r)

    assert paragraphs[0].startswith("现在，我代表")
    assert "各位代表：" in r.preamble
    for text in paragraphs:
        assert not text.startswith(CHROME_STARTS), text
        assert not (text.endswith("摄") and "记者" in text), text
        assert text not in r.preamble, text
        assert text not in BROKEN_FRAGMENTS, text
        assert text.endswith(tuple("。！？!?：”")), f"ends in mid-sentence: {text[-20:]}"
    assert len(set(paragraphs)) == len(paragraphs), "a paragraph is repeated"

    assert len(r.headings) >= 3
    assert any(h.startswith("一、") for h in r.headings)
    assert all(p.section for p in r.paragraphs[1:])

    report_id, (low, high) = SAMPLES[name]
    nonblank = sum(1 for line in doc.text.split("\n") if line.strip())
    assert low <= len(paragraphs) <= min(high, nonblank - len(r.preamble))
    if corpus_counts[report_id]:  # the corpus version may differ from the raw file
        assert 0.4 <= len(paragraphs) / corpus_counts[report_id] <= 2.5


# --- web-page chrome in the text, bare headings, parts closed at the right level ------------------

TOWN = """镇2031年政府工作报告-42篇(第61/122页)
全镇上下团结一心，全年完成固定资产投资三亿元，新建村级道路二十公里，群众生活水平稳步提高。
2031年工作安排
今年全镇工作的总体思路是：稳中求进，产业兴镇，生态立镇，全面推进乡村振兴。
（一）发展特色产业。扩大茶叶种植面积两千亩，新建冷链仓储中心一个。
（二）改善人居环境。完成农村厕所改造五百户，实现生活垃圾集中处理全覆盖。
分享到：微信 微博 QQ空间
【打印本页】【关闭窗口】
上一篇：某镇2030年政府工作报告
下一篇:某镇人民政府关于做好春耕生产工作的通知"""


def test_pagination_next_article_and_share_lines_are_chrome() -> None:
    r = split_report(TOWN, "x")
    assert texts(r)[0].startswith("全镇上下团结一心")  # not glued to the pagination line
    assert not any(s in t for t in texts(r) for s in ("篇(第", "上一篇", "下一篇", "微博", "打印"))
    assert len(r.paragraphs) == 4


def test_bare_heading_is_a_heading_of_its_own() -> None:
    r = split_report(TOWN, "x")
    assert "2031年工作安排" in r.headings
    assert sections(r)[1:] == [["2031年工作安排"],
                               ["2031年工作安排", "（一）发展特色产业"],
                               ["2031年工作安排", "（二）改善人居环境"]]


@pytest.mark.parametrize("text", [
    # a line broken at a fixed width: no shorter than the next, or not after a sentence's end
    "推进重点领域改革扩大有效投资稳定和\n扩大就业切实保障和改善民生推动经济\n实现质的有效提升。",
    "全年地区生产总值增长，\n重点领域改革扩大有效投资\n稳定和扩大就业，切实保障和改善民生，推动经济实现质的有效提升。",
    # under a heading line, a short line is that section's text
    "一、总体要求\n稳中求进\n（一）扩大内需",
    # a title and dateline: not followed by prose
    "青川市2031年政府工作报告\n——2031年1月14日在青川市第八届人民代表大会第五次会议上",
])
def test_not_bare_headings(text: str) -> None:
    r = split_report(text, "x")
    assert not any(h for h in r.headings if h[0] not in "一（")


CLOSING = """一、过去一年工作回顾
（一）工业经济加快发展。新建项目十个，投资增长一成。
（二）城乡建设扎实推进。新建道路二十公里。
（三）民生保障持续加强。新增就业一千人。
这些成绩的取得，是全县人民团结奋斗的结果。
同时，我们也清醒地看到，发展中还存在不少困难和问题。
二、今年主要任务
（一）扩大有效投资。加快项目建设。
（二）促进消费升级。办好促消费活动。
推动投资稳定增长，仍是今年工作的重中之重。
（三）加强生态保护。推进污染治理。
三、加强政府自身建设
（一）坚持依法行政。接受人大监督。
各位代表！建设法治政府，是我们的共同责任。"""


def test_closing_paragraphs_of_a_part_belong_to_the_part() -> None:
    r = split_report(CLOSING, "x")
    got = dict(zip(texts(r), sections(r), strict=True))
    part1 = ["一、过去一年工作回顾"]
    assert got["这些成绩的取得，是全县人民团结奋斗的结果。"] == part1
    assert got["同时，我们也清醒地看到，发展中还存在不少困难和问题。"] == part1
    # a sub-section followed by more siblings keeps its paragraphs
    assert got["推动投资稳定增长，仍是今年工作的重中之重。"] == ["二、今年主要任务", "（二）促进消费升级"]
    # an address to the delegates speaks to the part, whatever comes next
    assert got["各位代表！建设法治政府，是我们的共同责任。"] == ["三、加强政府自身建设"]


def test_a_last_subsection_as_long_as_its_siblings_keeps_its_paragraphs() -> None:
    text = """一、工作回顾
（一）经济增长。全年增长百分之五。
投资和消费稳步增长。
（二）民生改善。新增就业一千人。
城乡居民收入稳步提高。
（三）生态向好。空气质量持续改善。
河湖水质稳定达标。
二、今年任务"""
    r = split_report(text, "x")
    assert sections(r)[-1] == ["一、工作回顾", "（三）生态向好"]


@pytest.mark.parametrize("name", ["saved-page.txt", "saved-page.html"])
def test_saved_pages_read_as_the_clean_text(name: str) -> None:
    fixtures = Path(__file__).resolve().parent / "fixtures" / "saved"
    ref = split_report((fixtures / "clean.txt").read_text("utf-8"), "ref")
    (doc,) = read_documents(fixtures / name)
    got = split_report(doc.text, "x")
    assert texts(got) == texts(ref)
    assert sections(got) == sections(ref)
    assert got.headings == ref.headings
    assert "过去一年工作回顾" in ref.headings and "今年工作安排" in ref.headings
    assert sections(ref)[5] == ["过去一年工作回顾"]  # the part's closing paragraph


@pytest.mark.parametrize("chrome", [
    "上一篇：\n某镇2030年政府工作报告",  # the link on the line below its label
    "【下一篇】某镇人民政府关于做好春耕生产工作的通知",
    "分享到：",
    "1 2 3 4 5 下一页 尾页",
    "第1页/共3页",
    "（来源：某镇人民政府）",
    "【打印本页】 【关闭窗口】",
])
def test_chrome_variants_after_the_speech(chrome: str) -> None:
    r = split_report(TOWN.replace("分享到：微信 微博 QQ空间", chrome), "x")
    assert len(r.paragraphs) == 4, texts(r)
    r = split_report(chrome + "\n" + TOWN, "x")  # and above it
    assert len(r.paragraphs) == 4, texts(r)


def test_no_bare_headings_where_lines_break_sentences() -> None:
    """Enumeration words and a text whose lines mostly break sentences give no bare heading."""
    enumerated = "要做好三方面工作。\n一是\n加强基础设施建设，推进城乡融合发展，提升公共服务水平。"
    assert split_report(enumerated, "x").headings == []
    broken = ("全年地区生产总值增长\n百分之五，财政收入\n增长百分之四。\n经济运行稳\n中向好，民生\n"
              "持续改善。\n城乡面貌\n明显改观，新建道路二十公里，建成公园十个，群众满意度稳步提升。")
    assert split_report(broken, "x").headings == []


def test_items_of_a_last_subsection_and_addresses_inside_a_part_stay() -> None:
    text = """一、今年主要任务
（一）扩大有效投资。加快项目建设。
各位代表！投资是稳增长的关键，我们要扭住不放。
（二）促进消费升级。办好促消费活动。
（三）维护社会稳定。坚持和发展新时代枫桥经验。
建设更高水平平安城市。完善立体化治安防控体系，严厉打击违法犯罪。
三是加强应急管理。健全应急预案体系，提升防灾减灾救灾能力。
同时，我们也清醒地看到，发展中还存在不少困难和问题。
二、加强政府自身建设"""
    got = dict(zip(texts(split_report(text, "x")), sections(split_report(text, "x")),
                   strict=True))
    third = ["一、今年主要任务", "（三）维护社会稳定"]
    assert got["各位代表！投资是稳增长的关键，我们要扭住不放。"] == ["一、今年主要任务",
                                                               "（一）扩大有效投资"]
    assert got["建设更高水平平安城市。完善立体化治安防控体系，严厉打击违法犯罪。"] == third
    assert got["三是加强应急管理。健全应急预案体系，提升防灾减灾救灾能力。"] == third
    assert got["同时，我们也清醒地看到，发展中还存在不少困难和问题。"] == ["一、今年主要任务"]


def test_a_list_dash_broken_off_its_text_is_no_heading() -> None:
    # a web page broke "——改革开放深入推进。" at a link: the dash alone, the linked words
    # alone. The words are the item's text, not a part heading over the rest of the speech.
    text = ("各位代表：\n一、过去一年工作回顾\n全年主要目标任务圆满完成。\n"
            "——就业增长超出预期。城镇新增就业一千万人。\n——\n改革开放\n"
            "深入推进。重要领域和关键环节改革取得突破性进展，供给侧结构性改革初见成效。\n"
            "——经济结构加快调整。消费在经济增长中发挥主要拉动作用。\n"
            "二、今年工作总体部署\n今年发展的主要预期目标是：国内生产总值增长六点五左右。\n")
    r = split_report(text, "x")
    assert "改革开放" not in r.headings
    texts = [p.text for p in r.paragraphs]
    assert "——改革开放深入推进。重要领域和关键环节改革取得突破性进展，供给侧结构性改革初见成效。" in texts
    assert [p.section for p in r.paragraphs][-1] == ["二、今年工作总体部署"]
    assert all(p.section == ["一、过去一年工作回顾"] for p in r.paragraphs[:-1])


def test_a_dash_line_before_a_heading_is_still_dropped() -> None:
    r = split_report("各位代表：\n一、回顾\n全年任务圆满完成。\n——\n二、部署\n今年预期目标是增长。\n", "x")
    assert [p.text for p in r.paragraphs] == ["全年任务圆满完成。", "今年预期目标是增长。"]
    assert r.headings == ["一、回顾", "二、部署"]


def test_a_single_dash_line_is_no_list_dash() -> None:
    # only "——" opens a list item; a lone "—" above text is a symbols-only line, dropped
    head = "各位代表：\n一、回顾\n全年任务圆满完成。\n"
    r = split_report(head + "—\n推进碳达峰碳中和。\n", "r")
    assert [p.text for p in r.paragraphs] == ["全年任务圆满完成。", "推进碳达峰碳中和。"]


def test_a_list_dash_above_a_page_number_is_dropped() -> None:
    # "——" joins only a line of prose; above a page number ("— 3 —") it is chrome
    head = "各位代表：\n一、回顾\n全年任务圆满完成。\n"
    r = split_report(head + "——\n— 3 —\n\n推进碳达峰碳中和。\n", "r")
    assert not any(p.text.startswith("——") for p in r.paragraphs)
    assert "推进碳达峰碳中和。" in [p.text for p in r.paragraphs]


@pytest.mark.parametrize("number", ["— 3 —", "- 3 -", "－12－", "— 23", "第3页", "第 3 页"])
def test_a_page_number_line_of_a_text_is_chrome(number: str) -> None:
    # a text saved from a paginated document: the page number stood glued to the paragraph
    # below it ('— 3 —稳定就业，…'), or inside a sentence the page broke ('…并致— 8 —以崇高的
    # 敬意！', a report of the shared corpus), its characters counted as the paragraph's
    head = "各位代表：\n一、回顾\n全年任务圆满完成，经济运行总体平稳。\n"
    r = split_report(head + number + "\n稳定就业，提高居民收入水平。\n", "r")
    assert [p.text for p in r.paragraphs] == ["全年任务圆满完成，经济运行总体平稳。",
                                              "稳定就业，提高居民收入水平。"]
    r = split_report(head + "向各界朋友表示衷心的感谢并致\n" + number + "\n以崇高的敬意！\n", "r")
    assert r.paragraphs[-1].text == "向各界朋友表示衷心的感谢并致以崇高的敬意！"


@pytest.mark.parametrize("line", ["2024", "12345", "3.5", "第3页至第5页的表格说明如下："])
def test_a_year_or_a_number_that_is_no_page_number_stays(line: str) -> None:
    r = split_report("各位代表：\n一、回顾\n" + line + "\n\n稳定就业。\n", "r")
    assert r.paragraphs[0].text == line


def test_a_bare_digit_inside_a_broken_sentence_stays() -> None:
    # a subscript a PDF put on a line of its own (national report 2015: 'M\n2\n预期增长'):
    # content, not a page number
    r = split_report("各位代表：\n一、回顾\n广义货币M\n2\n预期增长12%左右。\n", "r")
    assert r.paragraphs[0].text.replace(" ", "") == "广义货币M2预期增长12%左右。"
