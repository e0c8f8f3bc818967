"""Text helpers: display width and table cells."""

import pytest

from policy_nlp.text import clip, display_width, pad
from policy_nlp.write import format_table


def test_display_width_counts_chinese_and_its_punctuation_as_two():
    assert display_width("abc") == 3 and display_width("政府") == 4
    assert display_width("“十四五”——") == 14
    assert display_width("ＡＢ") == 4  # full-width forms


def test_ambiguous_punctuation_can_be_narrow(monkeypatch):
    from policy_nlp import text

    monkeypatch.setenv("POLICY_NLP_AMBIGUOUS_WIDTH", "1")
    text._char_width.cache_clear()
    try:
        assert display_width("“十四五”——") == 10
    finally:
        monkeypatch.delenv("POLICY_NLP_AMBIGUOUS_WIDTH")
        text._char_width.cache_clear()


@pytest.mark.parametrize("s", ["政府工作报告“十四五”规划", "abc", "", "a政b府c——", "industry:1.00"])
def test_a_cell_has_its_width_and_a_blank_column_after(s):
    for width in range(4, 24):
        cell = clip(s, width)
        assert display_width(cell) == width and cell.endswith(" "), (width, cell)
        assert cell.rstrip() == s or cell.rstrip().endswith("…")
    assert pad(s, 3).endswith(" ")


def _rec(text, top):
    return {"paragraph": 0, "section": ["一、总体要求"], "text": text, "label": "economy",
            "score": 0.9, "secondary": [], "top": top}


def test_table_columns_line_up_whatever_the_text_and_fit_a_terminal():
    recs = [_rec("“十四五”规划——圆满收官，经济运行稳中向好。" * 3,
                 [["agriculture_rural", 0.5], ["urban_infrastructure", 0.3], ["economy", 0.2]]),
            _rec("稳就业", [["economy", 0.9], ["general", 0.05], ["industry", 0.05]])]
    lines = format_table(recs).splitlines()
    starts = [display_width(line[:line.index(word)])
              for line, word in zip(lines, ("label", "economy", "economy"), strict=True)]
    assert len(set(starts)) == 1, lines
    narrow = format_table(recs, width=100).splitlines()
    assert all(display_width(line) <= 100 for line in narrow[1:]), narrow
    assert "top 3" not in narrow[0] and "label" in narrow[0]


def test_to_simplified_converts_around_lone_surrogates():
    from policy_nlp.text import to_simplified

    assert to_simplified("國防") == "国防"
    assert to_simplified("\ud800中國\udcff們") == "\ud800中国\udcff们"
    assert to_simplified("plain ascii") == "plain ascii"
    assert to_simplified("") == ""


# -- the conversion skipped where OpenCC would change nothing (text.T2S_TRIGGERS) --------------

# traditional texts written for the test (not corpus text): characters of every kind the
# dictionaries change, the phrases whose characters change only together (回覆, 反覆, 深沈,
# 瞭解, 藉口, 英哩, 衹得, 捏坏), a compatibility ideograph (U+F900), characters beyond U+FFFF
# (one of them a trigger), a lone surrogate, NUL, and texts with no trigger at all
TRADITIONAL = [
    "我們第一屆全國人民代表大會第二次會議聽取了政府工作報告。",
    "对来信及时回覆，反覆研究。",  # simplified but for the phrases, changed only as phrases
    "深沈思考，进一步瞭解情况，不找藉口。",
    "英哩与海哩；衹得如此；捏坏的土坏。",
    "\uf900\uf901 兼容字；𠀀𪚥 扩展字；\U0002f800 兼容补充。",
    "推进碳达峰碳中和，\ud800 全覆盖，沈阳，破坏。",
    "国\x00國",
    "推进碳达峰碳中和。",
    "",
    "plain ascii",
]


def _skip_on():
    """The trigger tables, or a skip where the installed OpenCC's dictionaries are not those
    the committed set was made from (another OpenCC release): the skip is then off and every
    text converted, which the tests of equal outputs still check."""
    from policy_nlp.text import _t2s_triggers

    tables = _t2s_triggers()
    if tables is None:
        pytest.skip("the installed OpenCC's dictionaries are not those of "
                    "src/policy_nlp/data/opencc_t2s.json (another release): every text is "
                    "converted; run scripts/opencc_t2s_triggers.py to make the set again")
    return tables


def _always_convert(texts):
    from policy_nlp.text import _convert

    return [_convert(t) for t in texts]


def test_the_skip_gives_what_converting_every_text_gives():
    from policy_nlp.text import _may_change, to_simplified, to_simplified_all

    assert to_simplified_all(TRADITIONAL) == _always_convert(TRADITIONAL)
    assert [to_simplified(t) for t in TRADITIONAL] == _always_convert(TRADITIONAL)
    assert to_simplified_all(TRADITIONAL)[:4] == [
        "我们第一届全国人民代表大会第二次会议听取了政府工作报告。",
        "对来信及时回复，反复研究。", "深沉思考，进一步了解情况，不找借口。",
        "英里与海里；只得如此；捏坯的土坯。"]
    # the batch is read as code points (characters beyond U+FFFF) or as UTF-16 units
    bmp = [t for t in TRADITIONAL if all(ord(c) <= 0xFFFF for c in t)]
    assert to_simplified_all(bmp) == _always_convert(bmp)
    assert to_simplified_all([]) == []
    _skip_on()
    skipped = set(range(len(bmp))) - set(_may_change(bmp))
    assert {bmp[i] for i in skipped} == {"推进碳达峰碳中和。", "", "plain ascii"}


def test_the_skip_on_the_shared_corpus(shared):
    import json

    from policy_nlp.text import _may_change, to_simplified_all

    texts = [json.loads(line)["text"] for line in
             (shared / "corpus" / "paragraphs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert to_simplified_all(texts) == _always_convert(texts)
    _skip_on()
    assert len(_may_change(texts)) < len(texts) / 4  # most paragraphs are not converted


def test_no_code_point_outside_the_triggers_is_changed():
    """Every code point that is no trigger (nor a surrogate), one after the other in one text,
    comes back from OpenCC unchanged."""
    from policy_nlp.text import _convert

    table, _ = _skip_on()
    others = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000
                     and not (c < len(table) and table[c]))
    assert _convert(others) == others


def _trigger_script():
    """scripts/opencc_t2s_triggers.py, which made the trigger set and reads OpenCC's binary
    dictionaries with opencc_dict (shipped in the opencc wheel)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "opencc_t2s_triggers.py"
    spec = importlib.util.spec_from_file_location("opencc_t2s_triggers", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    if not script.dict_tool().is_file():
        pytest.skip(f"{script.dict_tool()} is absent: the dictionaries cannot be read")
    return script


def test_the_committed_triggers_are_those_of_the_installed_opencc():
    script = _trigger_script()
    _skip_on()  # the same dictionaries (sha256): then the same characters
    assert script.main(["--check"]) == 0


def test_random_texts_of_the_dictionaries_characters_without_triggers_are_unchanged():
    """Texts made of the characters of the dictionaries' keys that are no triggers (those of
    the phrases that map to themselves, and the unchanged characters of the changing
    phrases, 深 of 深沈 say), so that parts of phrases meet in every way: OpenCC changes
    none of them, and the skip leaves them alone."""
    import json
    import random

    from policy_nlp.text import _convert, _may_change

    script = _trigger_script()
    share = script.share_dir()
    config = json.loads((share / script.CONFIG).read_text(encoding="utf-8"))
    pairs = [p for name in script.dictionary_files(config)
             for p in script.entries(share / name, script.dict_tool())]
    triggers = script.triggers(pairs)
    chars = sorted({c for key, _ in pairs for c in key} - triggers)
    keys = [k for k, _ in pairs if not set(k) & triggers]  # whole keys that change nothing
    rng = random.Random(5)
    texts = ["".join(rng.choice(chars) if rng.random() < 0.6 else rng.choice(keys)
                     for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    assert [_convert(t) for t in texts] == texts
    _skip_on()
    assert _may_change(texts) == []


def test_a_trigger_set_of_other_dictionaries_is_not_used(tmp_path):
    """Where the installed OpenCC's files are not those the set was derived from, every text
    is converted (None: no skip)."""
    import hashlib

    from policy_nlp.text import trigger_tables

    (tmp_path / "t2s.json").write_text("{}", encoding="utf-8")
    digest = hashlib.sha256(b"{}").hexdigest()
    assert trigger_tables({"files": {"t2s.json": digest}, "chars": "國"}, tmp_path) is not None
    assert trigger_tables({"files": {"t2s.json": "0" * 64}, "chars": "國"}, tmp_path) is None
    assert trigger_tables({"files": {"gone.ocd2": digest}, "chars": "國"}, tmp_path) is None


def test_a_model_scores_the_same_with_the_skip_as_converting_every_text(tiny_model_dir,
                                                                       monkeypatch):
    import numpy as np

    from policy_nlp import text
    from policy_nlp.model import load_model

    model = load_model(tiny_model_dir)
    assert model.featurizer.spec.simplify
    texts = [t for t in TRADITIONAL if t.strip()] * 20  # 140 texts: the batch paths too
    skipping = model.predict_proba(texts)
    one = model.predict_proba(texts[1:2])
    monkeypatch.setattr(text, "_may_change", lambda texts: None)  # convert every text
    assert np.array_equal(model.predict_proba(texts), skipping)
    assert np.array_equal(model.predict_proba(texts[1:2]), one)
