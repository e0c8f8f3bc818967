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
