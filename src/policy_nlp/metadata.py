"""A report's metadata from the report itself: title, dateline, speaker, region, year, level.

Government work reports open the same way::

    舟山市2024年政府工作报告
    ——2024年1月21日在舟山市第八届人民代表大会第四次会议上
    舟山市人民政府市长 王某某

:func:`report_metadata` reads these lines (the title, the dateline ``——…日在…会议上`` and the
speaker line ``…市长 某某``) from the top of a report's text and gives ``title``, ``date``,
``speaker``, ``region``, ``year`` and ``level``. The region is named in the title, else in the
dateline's assembly, else in the speaker's office; the year is the title's, else the
dateline's (a report delivered in January 2024 is the 2024 report). The level follows from the
region's name (:func:`level_of`), and region names are normalised to their full administrative
form (:func:`normalize_region`: 重庆 and 重庆市 are one region), so that a panel does not count
one region twice.

The table here covers the provincial level (34 names) and the autonomous prefectures, which
have the short forms users write; below that a name is kept as written (a prefecture-level
name without a suffix gets 市 when the level is known).
"""

from __future__ import annotations

import re
from typing import Any

from .text import normalize_text

__all__ = ["LEVELS", "META_FROM_TEXT", "level_of", "normalize_region", "report_metadata"]

#: The fields a report's paragraphs get from its opening lines (where the input does not give
#: them: a record's own fields and a file-name pattern win).
META_FROM_TEXT = ("year", "region", "level")

#: The administrative levels, highest first.
LEVELS = ("national", "provincial", "prefecture", "county", "town")

#: Provincial-level divisions: short name -> full name.
PROVINCES = {
    "北京": "北京市", "天津": "天津市", "上海": "上海市", "重庆": "重庆市",
    "河北": "河北省", "山西": "山西省", "辽宁": "辽宁省", "吉林": "吉林省", "黑龙江": "黑龙江省",
    "江苏": "江苏省", "浙江": "浙江省", "安徽": "安徽省", "福建": "福建省", "江西": "江西省",
    "山东": "山东省", "河南": "河南省", "湖北": "湖北省", "湖南": "湖南省", "广东": "广东省",
    "海南": "海南省", "四川": "四川省", "贵州": "贵州省", "云南": "云南省", "陕西": "陕西省",
    "甘肃": "甘肃省", "青海": "青海省", "台湾": "台湾省",
    "内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区", "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区", "澳门": "澳门特别行政区",
}
#: The four municipalities: their short name is never a city of another level.
MUNICIPALITIES = frozenset(("北京", "天津", "上海", "重庆"))
#: Short provincial names that are also a prefecture-level city's: kept as written when the
#: level is not known.
CITY_HOMONYMS = frozenset(("吉林",))
#: Autonomous prefectures: short name -> full name.
AUTONOMOUS_PREFECTURES = {
    "延边": "延边朝鲜族自治州", "恩施": "恩施土家族苗族自治州", "湘西": "湘西土家族苗族自治州",
    "阿坝": "阿坝藏族羌族自治州", "甘孜": "甘孜藏族自治州", "凉山": "凉山彝族自治州",
    "黔东南": "黔东南苗族侗族自治州", "黔南": "黔南布依族苗族自治州",
    "黔西南": "黔西南布依族苗族自治州", "楚雄": "楚雄彝族自治州", "红河": "红河哈尼族彝族自治州",
    "文山": "文山壮族苗族自治州", "西双版纳": "西双版纳傣族自治州", "大理": "大理白族自治州",
    "德宏": "德宏傣族景颇族自治州", "怒江": "怒江傈僳族自治州", "迪庆": "迪庆藏族自治州",
    "临夏": "临夏回族自治州", "甘南": "甘南藏族自治州", "海北": "海北藏族自治州",
    "黄南": "黄南藏族自治州", "海南州": "海南藏族自治州", "果洛": "果洛藏族自治州",
    "玉树": "玉树藏族自治州", "海西": "海西蒙古族藏族自治州", "昌吉": "昌吉回族自治州",
    "博尔塔拉": "博尔塔拉蒙古自治州", "巴音郭楞": "巴音郭楞蒙古自治州",
    "克孜勒苏": "克孜勒苏柯尔克孜自治州", "伊犁": "伊犁哈萨克自治州",
}
_FULL_PROVINCES = frozenset(PROVINCES.values())
_NATIONAL = frozenset(("全国", "国务院", "中国", "中华人民共和国", "中央"))
#: The suffixes that end a full name (a bare 州 does not: 杭州, 亳州 are cities' names).
_NAME_SUFFIX = re.compile(r"(?:省|自治区|特别行政区|市|自治州|盟|地区|县|区|旗|镇|乡|街道|苏木)$")
_SUFFIX_LEVEL = (
    (re.compile(r"(?:省|自治区|特别行政区)$"), "provincial"),
    (re.compile(r"(?:市|自治州|州|盟|地区)$"), "prefecture"),
    (re.compile(r"(?:县|自治县|区|旗|自治旗|林区|特区)$"), "county"),
    (re.compile(r"(?:镇|乡|民族乡|苏木|街道)$"), "town"),
)


def normalize_region(name: str | None, level: str | None = None) -> str | None:
    """A region's name in its full administrative form, so that two spellings are one region.

    ``全国``/``国务院``/``中国`` -> ``全国``; a provincial-level short name -> its full name
    (``重庆`` -> ``重庆市``, ``广西`` -> ``广西壮族自治区``), except where ``level`` says it is
    a city of the same name (``吉林`` at the prefecture level -> ``吉林市``; without a level,
    ``吉林`` is kept as written); an autonomous
    prefecture's short name -> its full name (``恩施``, ``恩施州`` -> ``恩施土家族苗族自治州``); any
    other prefecture-level name without a suffix gets 市 (``南京`` -> ``南京市``, ``亳州`` ->
    ``亳州市``: a bare 州 is part of a city's name); anything else is kept as written, stripped.

    Examples
    --------
    >>> normalize_region("重庆"), normalize_region("重庆市"), normalize_region("吉林", "prefecture")
    ('重庆市', '重庆市', '吉林市')
    >>> normalize_region("浙江省舟山市"), normalize_region("吉林省吉林市")
    ('舟山市', '吉林市')
    """
    if name is None:
        return None
    name = re.sub(r"\s+", "", str(name))
    if not name:
        return None
    if name in _NATIONAL:
        return "全国"
    # a city or county named with its province first (浙江省舟山市) is the same region as the
    # city alone (舟山市): the province's full name is dropped where a named unit follows it
    for province in _FULL_PROVINCES:
        rest = name[len(province):]
        if name.startswith(province) and len(rest) >= 2 and _NAME_SUFFIX.search(rest):
            name = rest
            break
    if name in PROVINCES and (name in MUNICIPALITIES or level == "provincial"
                              or (level is None and name not in CITY_HOMONYMS)):
        return PROVINCES[name]
    if name.endswith("州") and name[:-1] in AUTONOMOUS_PREFECTURES:  # 恩施州
        return AUTONOMOUS_PREFECTURES[name[:-1]]
    if level == "prefecture" or (level is None and name in AUTONOMOUS_PREFECTURES):
        if name in AUTONOMOUS_PREFECTURES:
            return AUTONOMOUS_PREFECTURES[name]
        if level == "prefecture" and not _NAME_SUFFIX.search(name):  # 南京, 亳州 -> …市
            return name + "市"
    return name


def level_of(region: str | None) -> str | None:
    """The administrative level a (normalised) region name says, or None.

    全国 (国务院) -> national; a province, autonomous region or municipality (北京市 …) ->
    provincial; 市/州/盟/地区 -> prefecture; 县/区/旗 -> county; 镇/乡/街道 -> town. A
    county-level city (义乌市) reads as prefecture: give the level by a name pattern or a
    field where that matters.

    Examples
    --------
    >>> [level_of(r) for r in ("全国", "重庆市", "舟山市", "海拉尔区", "某镇", "某地")]
    ['national', 'provincial', 'prefecture', 'county', 'town', None]
    """
    if not region:
        return None
    if region in _NATIONAL:
        return "national"
    if region in _FULL_PROVINCES:
        return "provincial"
    for rx, level in _SUFFIX_LEVEL:
        if rx.search(region):
            return level
    return None


# --- reading the opening lines -----------------------------------------------------------------

_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_YEAR = r"(?:19|20)\d\d|[一二][〇零○一二三四五六七八九]{3}"
_TITLE = re.compile(rf"^(?:标题[:：])?(?P<before>[\u4e00-\u9fff]*?)(?:(?P<year>{_YEAR})年)?"
                    r"(?P<after>[\u4e00-\u9fff]*?)(?:人民)?政府工作报告"
                    r"(?:[（(](?:摘要|全文|摘登|要点)[）)])?$")
_DATELINE = re.compile(
    rf"^[—－-]{{1,4}}\s*(?:(?P<year>{_YEAR})年(?P<month>[\d一二三四五六七八九十]{{1,2}})月"
    r"(?P<day>[\d一二三四五六七八九十]{1,3})日\s*)?在(?P<where>.+?)(?:上|上的讲话)?$"
)
_ASSEMBLY = re.compile(r"^(?P<region>.*?)(?:第[一二三四五六七八九十百\d]+届)?(?:全国)?人民代表大会")
_ROLE = (r"(?:代理|代)?(?:省长|市长|州长|盟长|县长|区长|旗长|镇长|乡长|主席|总理|"
         r"自治区主席|自治州州长)")
_SPEAKER = re.compile(rf"^(?P<office>[\u4e00-\u9fff]{{0,20}}?)(?:人民政府)?(?P<role>{_ROLE})"
                      r"[\s\u3000]*(?P<name>[\u4e00-\u9fff·]{2,6})$")
_OPENING = re.compile(r"^现在[，,]?\s*我代表(?P<office>[\u4e00-\u9fff]{2,20}?)(?:人民政府|政府)?[，,]?"
                      r"\s*向大会")
#: How many of a report's first non-blank lines are searched.
HEAD_LINES = 12


def _year(text: str | None) -> int | None:
    if not text:
        return None
    digits = text.translate(_CN_DIGITS)
    return int(digits) if digits.isdigit() else None


def _number(text: str) -> int | None:
    """1-31 in digits or Chinese numerals (十二, 二十一)."""
    if text.isdigit():
        return int(text)
    values = dict(zip("一二三四五六七八九", range(1, 10), strict=True))
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (values.get(tens, 1) if tens else 1) * 10 + (values.get(ones, 0) if ones else 0)
    return values.get(text)


def _region_in(text: str) -> str | None:
    """A region name at the start of a title, assembly or office (``舟山市``, ``全国``)."""
    text = re.sub(r"^(?:关于|在)", "", text.strip())
    text = re.sub(r"(?:人民政府|政府|人民)$", "", text)
    if "全国" in text or text.startswith(("国务院", "中华人民共和国")):
        return "全国"
    return text if 2 <= len(text) <= 20 and re.fullmatch(r"[\u4e00-\u9fff]+", text) else None


def report_metadata(text: str) -> dict[str, Any]:
    """The metadata a report states in its opening lines (see the module's description).

    Returns
    -------
    dict
        ``title``, ``date`` (``YYYY-MM-DD``), ``speaker`` (``舟山市人民政府市长 王某某``),
        ``region`` (normalised), ``year`` (int) and ``level``; a key is missing where the
        report does not say.

    Examples
    --------
    >>> report_metadata("舟山市2024年政府工作报告\\n——2024年1月21日在舟山市第八届人民代表大会"
    ...                 "第四次会议上\\n各位代表：\\n现在，我代表市人民政府向大会报告工作。")
    {'title': '舟山市2024年政府工作报告', 'date': '2024-01-21', 'year': 2024, \
'region': '舟山市', 'level': 'prefecture'}
    """
    lines = [re.sub(r"[ \t\u3000]+", " ", ln).strip() for ln in normalize_text(text).split("\n")]
    head = [ln for ln in lines if ln][:HEAD_LINES]
    # a title, dateline and speaker run together on one line (a web page's heading)
    head = [part.strip() for ln in head
            for part in re.sub(r"(?<=.)(——|-{2,4})", r"\n\1", re.sub(r"(会议上)(?=.)", r"\1\n", ln)
                                ).split("\n") if part.strip()]
    out: dict[str, Any] = {}
    regions: list[str | None] = []
    years: list[int | None] = []
    for line in head:
        compact = line.replace(" ", "")
        if "title" not in out and len(compact) <= 40 and (m := _TITLE.match(compact)):
            out["title"] = re.sub(r"^标题[:：]", "", compact)
            years.insert(0, _year(m["year"]))
            regions.insert(0, _region_in(m["before"] + m["after"]))
        elif "date" not in out and (m := _DATELINE.match(compact)):
            if m["year"]:
                month, day = _number(m["month"]), _number(m["day"])
                year = _year(m["year"])
                if year and month and day:
                    out["date"] = f"{year:04d}-{month:02d}-{day:02d}"
                years.append(year)
            if a := _ASSEMBLY.match(m["where"]):
                regions.append(_region_in(a["region"]) if a["region"] else
                               ("全国" if "全国" in m["where"] else None))
        elif "speaker" not in out and (m := _SPEAKER.match(line)):
            out["speaker"] = line
            office = m["office"]
            regions.append("全国" if m["role"] == "总理" or office.startswith("国务院")
                           else _region_in(office))
        elif m := _OPENING.match(compact):  # 现在，我代表南京市人民政府向大会报告工作
            regions.append("全国" if m["office"] == "国务院" else _region_in(m["office"]))
            break  # the speech has begun
    region = next((r for r in regions if r), None)
    year = next((y for y in years if y), None)
    if year:
        out["year"] = year
    if region:
        out["region"] = normalize_region(region)
        level = level_of(out["region"])
        if level:
            out["level"] = level
    return out
