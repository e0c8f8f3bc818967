"""Report metadata from the report's own opening lines; region names and levels."""

from __future__ import annotations

import json

import pytest

from policy_nlp.metadata import level_of, normalize_region, report_metadata
from policy_nlp.read import read_documents

from .conftest import FIXTURES


@pytest.mark.parametrize(("head", "expected"), [
    ("舟山市2024年政府工作报告\n——2024年1月21日在舟山市第八届人民代表大会第四次会议上\n"
     "舟山市人民政府市长 王某某\n各位代表：",
     {"title": "舟山市2024年政府工作报告", "date": "2024-01-21", "year": 2024, "region": "舟山市",
      "level": "prefecture", "speaker": "舟山市人民政府市长 王某某"}),
    # a web page's heading: title, dateline and speaker on one line; national
    ("政府工作报告——2031年3月5日在第十九届全国人民代表大会第一次会议上国务院总理　某某某\n各位代表：",
     {"title": "政府工作报告", "date": "2031-03-05", "year": 2031, "region": "全国",
      "level": "national", "speaker": "国务院总理 某某某"}),
    # a spaced-out title, an ASCII dash, the region only in the dateline and speaker
    ("政 府 工 作 报 告\n----2030年2月9日在某某区第三届人民代表大会第二次会议上\n某某区人民政府区长　某某",
     {"title": "政府工作报告", "date": "2030-02-09", "year": 2030, "region": "某某区",
      "level": "county"}),
    # year first, a short provincial name, Chinese numerals
    ("二〇三一年重庆政府工作报告\n——二〇三一年一月二十日在重庆市第七届人民代表大会第三次会议上",
     {"year": 2031, "region": "重庆市", "level": "provincial", "date": "2031-01-20"}),
    ("某某镇2029年政府工作报告\n各位代表：", {"year": 2029, "region": "某某镇", "level": "town"}),
    # only the opening line names the government
    ("各位代表：\n现在，我代表某某市人民政府向大会报告工作，请予审议。", {"region": "某某市"}),
    ("一、总体要求\n坚持稳中求进。", {}),
])
def test_report_metadata(head, expected):
    got = report_metadata(head)
    assert {k: got.get(k) for k in expected} == expected
    if not expected:
        assert got == {}


@pytest.mark.parametrize("name", ["clean.txt", "saved-page.txt", "saved-page.html"])
def test_fixture_set_metadata(name):
    (doc,) = read_documents(FIXTURES / "saved" / name)
    got = report_metadata(doc.text)
    assert (got["year"], got["region"], got["level"], got["date"]) == (
        2031, "青川市", "prefecture", "2031-01-14")


@pytest.mark.parametrize(("name", "level", "full"), [
    ("重庆", None, "重庆市"), ("重庆市", None, "重庆市"), ("北京", "provincial", "北京市"),
    ("广西", None, "广西壮族自治区"), ("吉林", "prefecture", "吉林市"), ("吉林", None, "吉林"),
    ("吉林省", None, "吉林省"), ("恩施", "prefecture", "恩施土家族苗族自治州"),
    ("南京", "prefecture", "南京市"), ("海拉尔区", "county", "海拉尔区"), ("国务院", None, "全国"),
    (" 上海 ", None, "上海市"), ("", None, None),
])
def test_normalize_region(name, level, full):
    assert normalize_region(name, level) == full


@pytest.mark.parametrize(("region", "level"), [
    ("全国", "national"), ("北京市", "provincial"), ("内蒙古自治区", "provincial"),
    ("河北省", "provincial"), ("舟山市", "prefecture"), ("恩施土家族苗族自治州", "prefecture"),
    ("锡林郭勒盟", "prefecture"), ("高阳县", "county"), ("海拉尔区", "county"),
    ("鄂温克族自治旗", "county"), ("某镇", "town"), ("某乡", "town"), ("某街道", "town"),
    ("某地", None), (None, None),
])
def test_level_of(region, level):
    assert level_of(region) == level


@pytest.mark.corpus
def test_the_corpus_region_pairs_are_one_region_each(shared):
    """重庆/重庆市, 北京/北京市, 上海/上海市, 天津/天津市 are one region each; 吉林 (the city)
    and 吉林省 stay two; and the level each name says agrees with the corpus's level."""
    names: dict[tuple[str, str], set[str]] = {}
    disagree = []
    with (shared / "corpus" / "reports.jsonl").open(encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    for rec in recs:
        full = normalize_region(rec["region"], rec["level"])
        names.setdefault((full, rec["level"]), set()).add(rec["region"])
        said = level_of(full)
        if said is not None and said != rec["level"]:
            disagree.append((rec["region"], full, rec["level"], said))
    merged = {k: v for k, v in names.items() if len(v) > 1}
    assert {k[0] for k in merged} == {"重庆市", "北京市", "上海市", "天津市"}
    assert ("吉林市", "prefecture") in names and ("吉林省", "provincial") in names
    assert disagree == []
