"""Figures of a panel: policy_nlp.plot and the plot command.

The tests pass with or without a font that has Chinese glyphs: where there is none,
use_cjk_font warns and the figures are drawn all the same.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from policy_nlp import plot
from policy_nlp.aggregate import long_panel, profile_records
from policy_nlp.cli import app
from policy_nlp.codebook import load_codebook
from policy_nlp.errors import InputError
from policy_nlp.write import write_panel

BOOK = load_codebook()
pytestmark = pytest.mark.filterwarnings(
    "ignore::policy_nlp.plot.MissingCJKFontWarning", "ignore:Glyph .* missing from")


def records():
    """Paragraph records of six reports: three regions, two years."""
    themes = ["economy", "environment", "innovation", "integrity", "general"]
    for r, region in enumerate(["甲省", "乙省", "丙市"]):
        for year in (2024, 2026):
            for k, theme in enumerate(themes):
                yield {"id": f"{region}{year}#{k}", "report_id": f"{region}/{year}",
                       "region": region, "year": year, "level": "provincial",
                       "text": "字" * (10 + 7 * ((k + r + year) % 5)), "label": theme}


@pytest.fixture(scope="module")
def rows():
    return profile_records(records(), BOOK)


@pytest.fixture(scope="module")
def panel(rows):
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def chinese():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plot.use_cjk_font() is not None


def tick_labels(axis):
    return [t.get_text() for t in axis.get_ticklabels()]


def test_bars(panel, chinese):
    fig = plot.bars(panel)
    ax = fig.axes[0]
    # sorted by level, year, region; the first on top
    assert tick_labels(ax.yaxis) == ["丙市 2024", "乙省 2024", "甲省 2024", "丙市 2026",
                                     "乙省 2026", "甲省 2026"]
    assert [t.get_position()[1] for t in ax.yaxis.get_ticklabels()] == [5, 4, 3, 2, 1, 0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 17
    assert legend[0] == ("宏观经济与发展目标" if chinese else "economy")
    # each bar ends at 100%
    right = {}
    for patch in ax.patches:
        y = round(patch.get_y(), 3)
        right[y] = max(right.get(y, 0), patch.get_x() + patch.get_width())
    assert list(right.values()) == pytest.approx([100] * 6)


def test_heatmap_and_groups(panel, chinese):
    fig = plot.heatmap(panel)
    ax = fig.axes[0]
    assert tick_labels(ax.yaxis) == ["丙市 (n=2)", "乙省 (n=2)", "甲省 (n=2)"]
    assert len(tick_labels(ax.xaxis)) == 17
    fig = plot.heatmap(panel, rows="year", groups=True, measure="paragraphs")
    assert tick_labels(fig.axes[0].yaxis) == ["2024 (n=3)", "2026 (n=3)"]
    assert tick_labels(fig.axes[0].xaxis)[0] == ("经济" if chinese else "economic")
    with pytest.raises(InputError, match="no column 'province'"):
        plot.heatmap(panel, rows="province")


def test_trends(panel):
    fig = plot.trends(panel, themes=["economy", "integrity"])
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 and list(lines[0].get_xdata()) == [2024, 2026]
    expected = panel.groupby("year")["char_share_economy"].mean() * 100
    assert list(lines[0].get_ydata()) == pytest.approx(expected.tolist())
    default = plot.trends(panel)  # the largest themes, general left out
    assert len(default.axes[0].get_lines()) == 4
    with pytest.raises(InputError, match="no such theme"):
        plot.trends(panel, themes=["sports"])


def test_trends_break_across_long_gaps(panel):
    far = panel.assign(year=panel["year"].replace({2026: 2040}))
    (line, *_) = plot.trends(far, themes=["economy"]).axes[0].get_lines()
    ys = list(line.get_ydata())
    assert len(ys) == 3 and pd.isna(ys[1])


def test_read_panel_wide_long_and_formats(rows, panel, tmp_path):
    write_panel(rows, tmp_path / "p.csv")
    write_panel(rows, tmp_path / "p.parquet")
    write_panel(long_panel(rows, BOOK), tmp_path / "long.jsonl")
    for name in ("p.csv", "p.parquet", "long.jsonl"):
        back = plot.read_panel(tmp_path / name)
        assert back["report_id"].tolist() == panel["report_id"].tolist()
        assert back["char_share_economy"].tolist() == pytest.approx(
            panel["char_share_economy"].tolist())
        assert back["para_share_group_general"].tolist() == pytest.approx(
            panel["para_share_group_general"].tolist())
        # how the shares were made: one value per report, not a share to draw
        assert back["estimator"].tolist() == ["cc"] * len(panel)
        assert "estimator" not in plot.share_columns(back)
        assert len(plot.filter_panel(back, ["estimator=cc"])) == len(panel)
    assert len(plot.read_panel([tmp_path / "p.csv", tmp_path / "p.parquet"])) == 12
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(InputError, match="not a panel"):
        plot.read_panel(tmp_path / "other.csv")


def test_without_a_cjk_font_it_warns_and_still_draws(panel, monkeypatch, tmp_path):
    monkeypatch.setattr(plot, "_font", [])
    monkeypatch.setattr(plot, "_find_cjk_font", lambda font_manager: None)
    with pytest.warns(plot.MissingCJKFontWarning, match="no font with Chinese glyphs"):
        fig = plot.heatmap(panel)
    assert tick_labels(fig.axes[0].xaxis)[0] == "economy"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning per missing glyph on top of that one
        plot.save_figure(fig, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_a_font_file_can_be_named(monkeypatch, tmp_path):
    monkeypatch.setattr(plot, "_font", [])
    monkeypatch.setenv("POLICY_NLP_CJK_FONT", str(tmp_path / "missing.otf"))
    with pytest.raises(InputError, match="no such font file"):
        plot.use_cjk_font()


def test_plot_command(rows, tmp_path):
    panel = tmp_path / "panel.csv"
    write_panel(rows, panel)
    runner = CliRunner()
    result = runner.invoke(app, ["plot", str(panel), "-o", str(tmp_path / "figs")])
    assert result.exit_code == 0, result.stderr
    for kind in ("bars", "heatmap", "trends"):
        assert (tmp_path / "figs" / f"{kind}.png").read_bytes()[:4] == b"\x89PNG"
    svg = tmp_path / "one.svg"
    result = runner.invoke(app, ["plot", str(panel), "-o", str(svg), "--kind", "trends",
                                 "--themes", "economy,environment", "--where", "region=甲省"])
    assert result.exit_code == 0, result.stderr
    assert "<svg" in svg.read_text("utf-8")[:500]
    bad = runner.invoke(app, ["plot", str(panel), "-o", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "give --kind" in bad.stderr
    bad = runner.invoke(app, ["plot", str(panel), "-o", str(tmp_path / "f"), "--where",
                              "region=丁省"])
    assert bad.exit_code == 2 and "no report left" in bad.stderr


def test_the_classify_path_imports_no_plotting_or_pandas():
    code = ("import sys; from typer.testing import CliRunner; from policy_nlp.cli import app; "
            "r = CliRunner().invoke(app, ['classify', '--text', '推进碳达峰碳中和。']); "
            "assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('matplotlib', 'pandas', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_filter_panel_keeps_the_reports_matching_every_condition(panel):
    kept = plot.filter_panel(panel, ["region=乙省", "year=2026"])
    assert list(kept["region"]) == ["乙省"] and list(kept["year"]) == [2026]
    assert len(plot.filter_panel(panel, [])) == len(panel) == 6
    with pytest.raises(InputError, match="no report left"):
        plot.filter_panel(panel, ["region=乙省", "year=1999"])
    with pytest.raises(InputError, match="give COLUMN=VALUE"):
        plot.filter_panel(panel, ["province=乙省"])


def test_plot_and_profile_check_the_output_place_first(rows, tmp_path):
    panel = tmp_path / "panel.csv"
    write_panel(rows, panel)
    (tmp_path / "afile").write_text("x")
    bad = CliRunner().invoke(app, ["plot", str(panel), "-o", str(tmp_path / "afile")])
    assert bad.exit_code == 2 and "is a file, expected a directory" in bad.stderr
    bad = CliRunner().invoke(app, ["plot", str(panel), "-o", "/proc/figs"])
    assert bad.exit_code == 4 and "cannot write" in bad.stderr


def test_many_reports_make_several_readable_figures(tmp_path):
    """150 regions: bars and heatmap rows are cut into figures of at most --per-figure."""
    themes = ["economy", "environment", "general"]
    recs = [{"id": f"r{r}#{k}", "report_id": f"r{r}", "region": f"地区{r:03d}", "year": 2024,
             "level": "prefecture", "text": "字" * (10 + r % 7 + k), "label": t}
            for r in range(150) for k, t in enumerate(themes)]
    panel = tmp_path / "panel.csv"
    write_panel(profile_records(recs, BOOK), panel)
    result = CliRunner().invoke(app, ["plot", str(panel), "-o", str(tmp_path / "figs"),
                                      "--per-figure", "40", "--dpi", "50"])
    assert result.exit_code == 0, result.stderr
    made = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert made == [f"bars-{i}.png" for i in range(1, 5)] + [
        f"heatmap-{i}.png" for i in range(1, 5)] + ["trends.png"]
    frame = pd.DataFrame(profile_records(recs, BOOK))
    parts = plot.pages(frame, "heatmap", per_page=40)
    assert [p["region"].nunique() for p in parts] == [40, 40, 40, 30]
    assert sorted(pd.concat(parts)["report_id"]) == sorted(frame["report_id"])
    for part in plot.pages(frame, "bars", per_page=40):
        fig = plot.bars(part)
        assert fig.get_size_inches()[1] < 15  # was 1.6 + 0.26 x 150 = 40.6 inches
    assert len(plot.pages(frame, "bars", per_page=0)) == 1


def test_group_rows_of_a_by_panel_are_not_counted_as_reports(rows):
    """profile --by adds rows for groups of reports: plot leaves them out unless asked."""
    groups = [dict(r, report_id="level=provincial", by="level", region=None, year=None)
              for r in rows[:1]]
    panel = pd.DataFrame([dict(r, by="") for r in rows] + groups)
    kept = plot.filter_panel(panel, [])
    assert len(kept) == len(rows) and (kept["by"] == "").all()
    only = plot.filter_panel(panel, ["by=level"])
    assert list(only["report_id"]) == ["level=provincial"]


def test_a_stata_panel_is_refused_with_what_plot_reads(rows, tmp_path):
    path = tmp_path / "panel.dta"
    path.write_bytes(b"\x00not read")
    with pytest.raises(InputError, match="plot reads the panel as .csv, .parquet or .jsonl"):
        plot.read_panel(path)


# --- review: what -o and --format say is what is written ---------------------------------------


def _plot(tmp_path, rows, *args):
    panel = tmp_path / "panel.csv"
    write_panel(rows, panel)
    return CliRunner().invoke(app, ["plot", str(panel), *map(str, args)])


@pytest.mark.parametrize("dpi", ["0", "-5", "601"])
def test_a_dpi_out_of_range_is_one_line(rows, tmp_path, dpi):
    result = _plot(tmp_path, rows, "-o", tmp_path / "f", "--kind", "trends", "--dpi", dpi)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 2
    assert result.stderr == f"policy-nlp: error: --dpi must be from 1 to 600, not {dpi}\n"
    assert not (tmp_path / "f").exists()


def test_a_pdf_name_is_a_pdf_not_a_folder(rows, tmp_path):
    """-o x.pdf made a folder x.pdf full of PNGs."""
    pdf = tmp_path / "x.pdf"
    result = _plot(tmp_path, rows, "-o", pdf, "--kind", "trends")
    assert result.exit_code == 0, result.stderr
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    result = _plot(tmp_path, rows, "-o", tmp_path / "all.pdf")  # three kinds, one file
    assert result.exit_code == 2 and "give --kind, or a folder" in result.stderr
    assert not (tmp_path / "all.pdf").exists()


@pytest.mark.parametrize(("name", "args", "message"), [
    ("t.png", ["-f", "svg"], "t.png: --format svg but the name says png"),
    ("x.jpg", [], "x.jpg: a figure is written as .png, .svg or .pdf, not .jpg"),
    ("t.png", ["-f", "gif"], "--format must be png, svg or pdf, not 'gif'")])
def test_a_name_or_format_that_plot_does_not_write_is_refused(rows, tmp_path, name, args,
                                                              message):
    """-o t.png -f svg silently wrote a PNG; -o x.jpg made a folder."""
    result = _plot(tmp_path, rows, "-o", tmp_path / name, "--kind", "trends", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / name).exists()


def test_a_folder_takes_the_format_and_may_have_a_dot(rows, tmp_path):
    out = tmp_path / "figs.v2"
    result = _plot(tmp_path, rows, "-o", f"{out}/", "--kind", "trends", "-f", "svg")
    assert result.exit_code == 0, result.stderr
    assert "<svg" in (out / "trends.svg").read_text("utf-8")[:500]
    result = _plot(tmp_path, rows, "-o", out, "--kind", "bars", "-f", "pdf")  # exists: a folder
    assert result.exit_code == 0, result.stderr
    assert (out / "bars.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_parquet_panel_without_pyarrow_names_the_install(rows, tmp_path, monkeypatch):
    """It was pandas' ImportError traceback (README: exit 2 with the pip install line)."""
    import importlib.util

    from policy_nlp.errors import MissingDependencyError

    panel = tmp_path / "panel.parquet"
    panel.write_bytes(b"PAR1")  # never read: refused before
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    with pytest.raises(MissingDependencyError,
                       match=r"pip install 'pyarrow>=14' \(or pip install '\.\[parquet\]'"):
        plot.read_panel(panel)
    result = CliRunner().invoke(app, ["plot", str(panel), "-o", str(tmp_path / "f")])
    assert result.exit_code == 2
    assert result.stderr == ("policy-nlp: error: reading a Parquet panel needs pyarrow: "
                             "pip install 'pyarrow>=14' (or pip install '.[parquet]' in "
                             "policy-nlp's folder)\n")


@pytest.mark.parametrize("value, what", [("abc", "'abc' is not a number"),
                                         ("-0.5", "-0.5 is not a share from 0 to 1"),
                                         ("1.5", "1.5 is not a share from 0 to 1")])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_share_that_is_no_share_is_named_at_its_line(rows, tmp_path, value, what, suffix):
    """A hand-edited panel: a share cell that is not a number was a ValueError traceback
    (exit 1); one out of 0..1 was drawn as it was (a negative bar)."""
    path = tmp_path / f"panel{suffix}"
    edited = [dict(r) for r in rows]
    edited[2]["char_share_economy"] = value
    write_panel(edited, path)
    line = 4 if suffix == ".csv" else 3  # the third report's row (a CSV has its header)
    with pytest.raises(InputError, match=rf"panel{suffix}:{line}: char_share_economy {what}"):
        plot.read_panel(path)
    result = CliRunner().invoke(app, ["plot", str(path), "-o", str(tmp_path / "f")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize("column, value, what", [("year", "二〇二〇", "'二〇二〇' is not a number"),
                                                 ("n_chars", "x", "'x' is not a number")])
def test_a_count_or_year_that_is_no_number_is_named_at_its_line(rows, tmp_path, column, value,
                                                                 what):
    # a year written in hanzi made the trends figure a TypeError traceback (exit 1)
    path = tmp_path / "panel.csv"
    edited = [dict(r) for r in rows]
    edited[2][column] = value
    write_panel(edited, path)
    result = CliRunner().invoke(app, ["plot", str(path), "-o", str(tmp_path / "f")])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"policy-nlp: error: {path}:4: {column} {what}\n"


def test_a_kind_the_panel_cannot_draw_is_refused_before_any_figure(rows, tmp_path):
    # a panel without regions: bars.png was written, then the heatmap failed (exit 2 with a
    # figure written)
    path = tmp_path / "panel.csv"
    write_panel([{k: v for k, v in r.items() if k != "region"} for r in rows], path)
    out = tmp_path / "f"
    result = CliRunner().invoke(app, ["plot", str(path), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "the panel has no column 'region' to make the heatmap's rows" in result.stderr
    assert not out.exists()
    result = CliRunner().invoke(app, ["plot", str(path), "-o", str(out), "--kind", "bars"])
    assert result.exit_code == 0, result.stderr


def test_a_table_that_is_no_panel_of_reports_is_refused(rows, tmp_path):
    # profile --validation's corrected shares (by, group, theme, char_share, _lower …): its
    # columns char_share_lower, char_share_se … were drawn as themes 'lower', 'se' …
    path = tmp_path / "p.validated.csv"
    write_panel([{"by": "all", "group": "all", "theme": "economy", "char_share": 0.2,
                  "char_share_lower": 0.1, "char_share_upper": 0.3, "char_share_se": 0.05}],
                path)
    with pytest.raises(InputError, match="not a panel of policy-nlp profile"):
        plot.read_panel(path)


@pytest.mark.parametrize("form", ["wide", "long"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_reading_a_panel_of_many_columns_does_not_fragment_it(rows, tmp_path, form, suffix):
    """A panel with --ci has some 150 columns. The CSV reader set them one at a time, which
    left the frame in as many pieces, and the next column added (the heatmap's rows) made
    pandas warn 'DataFrame is highly fragmented' (PerformanceWarning): the frame is now built
    at once. Every format and form, every kind of figure, warnings as errors."""
    with_bounds = []
    for row in rows:
        row = dict(row)
        for col in [c for c in row if c.startswith(("char_share_", "para_share_"))]:
            row[f"{col}_lower"], row[f"{col}_upper"] = 0.9 * row[col], min(1.0, 1.1 * row[col])
        with_bounds.append(row)
    assert len(with_bounds[0]) > 120  # past pandas' 100 pieces
    path = tmp_path / f"panel{suffix}"
    write_panel(with_bounds if form == "wide" else long_panel(with_bounds, BOOK), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        back = plot.read_panel(path)
        written = plot.draw_figures(path, tmp_path / "figs")
    assert [k for k, _ in written] == ["bars", "heatmap", "trends"]
    assert back["char_share_economy_upper"].tolist() == pytest.approx(
        [r["char_share_economy_upper"] for r in with_bounds])


def test_panels_made_differently_are_not_drawn_together(rows, tmp_path):
    """Stacked panels of two estimators (or units, or interval levels) would be averaged and
    drawn side by side as if alike: refused, exit 2, naming the column; --where keeps one."""
    a, b = tmp_path / "cc.csv", tmp_path / "emq.csv"
    write_panel(rows, a)
    write_panel([{**row, "estimator": "emq"} for row in rows], b)
    out = tmp_path / "figs"
    result = CliRunner().invoke(app, ["plot", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "estimator: cc, emq" in result.output and "--where estimator=cc" in result.output
    assert not out.exists()
    result = CliRunner().invoke(app, ["plot", str(a), str(b), "--where", "estimator=emq",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    with pytest.raises(InputError, match="unit: paragraph, sentence"):
        plot.check_made_alike(pd.DataFrame({"unit": ["paragraph", "sentence"]}))
    plot.check_made_alike(pd.DataFrame({"estimator": ["cc", None]}))  # an older panel's row
