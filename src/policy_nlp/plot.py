"""Figures of a panel (see :mod:`policy_nlp.aggregate`): where each report's attention went.

Three figures, each a function that takes the panel as a pandas DataFrame and returns a
matplotlib ``Figure``:

* :func:`bars`: one stacked bar per report, its theme (or group) shares;
* :func:`heatmap`: regions (or any other column) x themes, the mean share in each cell;
* :func:`trends`: chosen themes over the years, the mean share of the year's reports.

matplotlib (and pandas) are imported by this module only, which nothing on the classify path
imports. Install them with ``pip install '.[plot]'`` in policy-nlp's folder.

**Chinese labels.** Theme names and regions are Chinese, which matplotlib's own fonts lack.
:func:`use_cjk_font` picks, in this order: the font file named by ``POLICY_NLP_CJK_FONT``; a
font with Chinese glyphs that the system has (Noto Sans CJK SC, Source Han Sans SC, WenQuanYi
Micro Hei, SimHei, Microsoft YaHei, PingFang SC …; Debian: ``apt-get install fonts-noto-cjk``);
the Noto Sans CJK SC that the ``mplfonts`` package ships (a dependency of the ``plot`` extra,
SIL Open Font License). With none of them, a :class:`MissingCJKFontWarning` says so, themes are
named by their ids and other Chinese text (regions) shows as boxes.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codebook import Codebook, load_codebook
from .errors import InputError, install_hint

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "KINDS",
    "MissingCJKFontWarning",
    "bars",
    "heatmap",
    "pages",
    "read_panel",
    "save_figure",
    "share_columns",
    "trends",
    "use_cjk_font",
]

KINDS = ("bars", "heatmap", "trends")
#: the formats a figure is written in (by ``--format``, or a file name's extension)
FIGURE_FORMATS = ("png", "svg", "pdf")
#: the resolutions of a PNG figure: journals ask for 300 to 600 dpi; at 600 a heatmap of 40
#: rows (12.7 x 14.6 inches) is 7,600 x 8,800 pixels, some 270 MB to draw, and more grows fast
DPI_RANGE = (1, 600)
MEASURES = {"chars": "char_share_", "paragraphs": "para_share_"}
_MEASURE_NAMES = {"chars": "characters", "paragraphs": "paragraphs"}
#: Font families with Chinese glyphs looked for among the fonts the system has, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Sarasa Gothic SC", "SimHei", "Microsoft YaHei",
    "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "AR PL UMing CN",
    "AR PL UKai CN", "Noto Serif CJK SC", "Droid Sans Fallback",
)
_PACKAGED = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")
_LONG_COLUMNS = ("kind", "theme", "group", "zh", "char_share", "para_share")
#: The bounds of a panel made with ``profile --ci`` (a share column's name + one of these).
_BOUNDS = ("_lower", "_upper")
_LONG_BOUNDS = tuple(f"{m}{b}" for m in ("char_share", "para_share") for b in _BOUNDS)
# colour maps of the default codebook's groups, so that a group's themes share a hue
_GROUP_CMAPS = {"economic": "Blues", "construction_ecology": "Greens", "social": "Oranges",
                "government": "Purples", "general": "Greys"}


class MissingCJKFontWarning(UserWarning):
    """No font with Chinese glyphs was found: Chinese labels will not render."""


_font: list[str | None] = []  # the font family chosen, once per process


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese: find a CJK font, put it first; its family, or ``None``.

    See the module's docstring for where it looks. Without a font, warns once
    (:class:`MissingCJKFontWarning`) and returns ``None``.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    if not _font:
        _font.append(_find_cjk_font(font_manager))
    family = _font[0]
    if family is None:
        warnings.warn(
            "no font with Chinese glyphs found, so Chinese labels will show as boxes: "
            f"{install_hint('plot')} (mplfonts brings Noto Sans CJK SC), install one "
            "(e.g. apt-get install fonts-noto-cjk), or set POLICY_NLP_CJK_FONT to a font file",
            MissingCJKFontWarning, stacklevel=2)
        return None
    rest = [f for f in mpl.rcParams["font.sans-serif"] if f != family]
    mpl.rcParams["font.sans-serif"] = [family, *rest]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False
    return family


def _find_cjk_font(font_manager: Any) -> str | None:
    env = os.environ.get("POLICY_NLP_CJK_FONT")
    if env:
        if not Path(env).is_file():
            raise InputError(f"POLICY_NLP_CJK_FONT={env}: no such font file")
        return _register(font_manager, env)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    spec = importlib.util.find_spec(_PACKAGED[0])
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / _PACKAGED[1]
        if path.is_file():
            return _register(font_manager, str(path))
    return None


def _register(font_manager: Any, path: str) -> str:
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


# --- the panel -----------------------------------------------------------------------------------


def read_panel(paths: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Read panels written by ``policy-nlp profile`` (CSV, Parquet or JSONL, wide or long).

    Several panels are stacked; a long (tidy) panel is turned back into the wide form.
    """
    import pandas as pd

    from .write import panel_format

    from .errors import require

    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if any(Path(p).is_file() and panel_format(p) == "parquet" for p in paths):
        require("pyarrow", "parquet", "reading a Parquet panel")
    frames = []
    for p in paths:
        if not Path(p).is_file():
            raise InputError(f"{p}: no such panel file")
        fmt = panel_format(p)
        if fmt == "dta":
            raise InputError(f"{p}: a Stata panel is for Stata; plot reads the panel as .csv, "
                             ".parquet or .jsonl (write one with profile -o panel.csv)")
        if fmt == "parquet":
            try:
                frames.append(pd.read_parquet(p))
            except (ValueError, OSError) as exc:
                raise InputError(f"{p}: cannot read the panel ({exc})") from None
        else:
            frames.append(_table_frame(Path(p), numbers=fmt == "csv"))
    panel = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if set(_LONG_COLUMNS) <= set(panel.columns):
        panel = _wide(panel)
    if not share_columns(panel):
        raise InputError(f"{paths[0]}: not a panel of policy-nlp profile (no char_share_ columns)")
    if "report_id" not in panel.columns:  # profile --validation's corrected shares, say
        raise InputError(f"{paths[0]}: not a panel of policy-nlp profile (no report_id column: "
                         "one row per report)")
    return panel


def _table_frame(path: Path, *, numbers: bool) -> pd.DataFrame:
    """A CSV or JSONL panel, read by the one reader of tables (:mod:`policy_nlp.read.records`,
    so that a bad row is named ``FILE:LINE`` as in every command). An empty CSV cell is
    missing; a CSV column whose cells are all numbers (``numbers``) is read as numbers."""
    import pandas as pd

    from .read import table_rows

    rows = list(table_rows(path))
    frame = pd.DataFrame.from_records([row for _, row in rows])
    if numbers:
        # the columns converted, then made one frame at once: set one by one, the 150 columns
        # of a panel with --ci stay 150 pieces, and pandas warns of it at the next column
        # added (pd.concat(axis=1) keeps the pieces too; a frame made of a dict joins them by
        # dtype)
        frame = pd.DataFrame({col: _numbers(frame[col]) for col in frame.columns})
    return _check_shares(frame, [line for line, _ in rows], path)


def _numbers(column: pd.Series) -> pd.Series:
    """A CSV column with its empty cells missing, as numbers where every cell is one."""
    import pandas as pd

    values = column.mask(column == "")
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError):
        return values


#: The columns that say how a panel's shares were made (``profile``): figures that put rows
#: side by side or average them need one value of each.
MADE_BY = ("unit", "estimator", "ci_level")


def check_made_alike(panel: pd.DataFrame) -> None:
    """Refuse (:class:`InputError`) a panel whose rows were made differently: stacked panels
    of paragraph and sentence shares, of two estimators, or of intervals of two levels, which
    a figure would draw side by side, or average, as if they were alike. A row without the
    column (a panel written before it) is not counted."""
    for col in MADE_BY:
        if col not in panel.columns:
            continue
        values = sorted({str(v) for v in panel[col].dropna() if str(v) != ""})
        if len(values) > 1:
            raise InputError(
                f"the panels' shares were made differently ({col}: {', '.join(values)}): "
                f"plot them apart, or keep one with --where {col}={values[0]}")


def _check_shares(frame: pd.DataFrame, lines: Sequence[int], path: Path) -> pd.DataFrame:
    """The frame with its share, count and year columns as numbers, refusing at its line a
    cell that is not one, or a share not from 0 to 1 (a hand-edited panel; missing cells stay
    missing); made at once, as :func:`_table_frame` makes it."""
    import pandas as pd

    checked: dict[str, pd.Series] = {}
    for col in frame.columns:
        share = str(col).startswith(("char_share", "para_share"))
        if not (share or col in ("year", "n_paragraphs", "n_chars", "n_sentences")):
            continue
        cells = frame[col].mask(frame[col] == "")
        values = pd.to_numeric(cells, errors="coerce")
        bad = values.isna() & cells.notna()
        if share:
            bad |= (values < -1e-9) | (values > 1 + 1e-9)
        if bad.any():
            i = int(bad.to_numpy().argmax())
            cell = cells.iloc[i]
            what = (f"{cell!r} is not a number" if pd.isna(values.iloc[i])
                    else f"{cell} is not a share from 0 to 1")
            raise InputError(f"{path}:{lines[i]}: {col} {what}")
        checked[col] = values
    if not checked:
        return frame
    return pd.DataFrame({col: checked.get(col, frame[col]) for col in frame.columns})


def filter_panel(panel: pd.DataFrame, where: Iterable[str]) -> pd.DataFrame:
    """The reports of ``panel`` whose column equals a value, for each ``COLUMN=VALUE`` of
    ``where`` (all must hold), e.g. ``["level=provincial", "year=2024"]``. Values compare as
    text, so ``year=2024`` matches a column read as numbers.

    A panel made with ``profile --by`` also holds rows for groups of reports (their ``by`` column
    says which grouping): they are left out, so that a report is never counted twice, unless a
    condition names ``by`` (``by=level,year`` keeps those groups' rows instead)."""
    where = list(where)
    if "by" in panel.columns and not any(c.partition("=")[0] == "by" for c in where):
        panel = panel[panel["by"].fillna("").astype(str) == ""]
    for cond in where:
        col, sep, value = cond.partition("=")
        if not sep or col not in panel.columns:
            raise InputError(f"--where {cond}: give COLUMN=VALUE with a column of the panel "
                             f"({', '.join(c for c in panel.columns if '_share_' not in c)})")
        panel = panel[panel[col].astype(str).str.removesuffix(".0") == value]
        if panel.empty:
            raise InputError(f"--where {cond}: no report left")
    return panel


def _wide(long: pd.DataFrame) -> pd.DataFrame:
    """A long panel back in the wide form, one row per report."""
    key = long["theme"].where(long["kind"] == "theme", "group_" + long["theme"])
    bounds = [c for c in _LONG_BOUNDS if c in long.columns]
    values = long.assign(_key=key).pivot(index="report_id", columns="_key",
                                         values=["char_share", "para_share", *bounds])
    values.columns = [f"{measure}_{k}" if measure in ("char_share", "para_share") else
                      f"{measure[:-6]}_{k}{measure[-6:]}" for measure, k in values.columns]
    base = [c for c in long.columns if c not in _LONG_COLUMNS and c not in bounds]
    reports = long.drop_duplicates("report_id")[base].set_index("report_id")
    return reports.join(values).reset_index()


def share_columns(panel: pd.DataFrame, measure: str = "chars", *, groups: bool = False
                  ) -> list[str]:
    """The panel's share columns of themes (or of groups), in panel order."""
    prefix = MEASURES[measure] + ("group_" if groups else "")
    cols = [c for c in panel.columns if c.startswith(prefix) and not c.endswith(_BOUNDS)]
    return cols if groups else [c for c in cols if not c.startswith(prefix + "group_")]


def _names(ids: Sequence[str], codebook: Codebook, *, groups: bool, chinese: bool) -> list[str]:
    """Chinese names of themes or groups; their ids where Chinese cannot be drawn."""
    if not chinese:
        return list(ids)
    if groups:
        return [codebook.groups.get(i, {}).get("zh") or i for i in ids]
    return [codebook.theme(i).zh or i if i in codebook.ids else i for i in ids]


def _colors(ids: Sequence[str], codebook: Codebook, *, groups: bool) -> list[Any]:
    from matplotlib import colormaps

    if groups:
        return [colormaps[_GROUP_CMAPS.get(g, "Greys")](0.65) for g in ids]
    by_group: dict[str, list[str]] = {}
    for t in ids:
        by_group.setdefault(codebook.group_of(t) if t in codebook.ids else "", []).append(t)
    if not set(by_group) <= set(_GROUP_CMAPS):
        tab = colormaps["tab20"]
        return [tab(i % 20) for i in range(len(ids))]
    color = {}
    for g, members in by_group.items():
        cmap = colormaps[_GROUP_CMAPS[g]]
        n = len(members)
        for k, t in enumerate(members):
            color[t] = cmap(0.85 - 0.55 * k / max(n - 1, 1)) if n > 1 else cmap(0.6)
    return [color[t] for t in ids]


def _report_labels(panel: pd.DataFrame) -> list[str]:
    """``region year`` where the panel has them, else the report id."""
    labels = []
    for _, row in panel.iterrows():
        parts = [str(row[c]) for c in ("region", "year")
                 if c in panel.columns and row[c] is not None and str(row[c]) not in ("", "nan")]
        labels.append(" ".join(p.removesuffix(".0") for p in parts) or str(row["report_id"]))
    return labels


def _sorted(panel: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("level", "year", "region", "report_id") if c in panel.columns]
    return panel.sort_values(keys, kind="stable") if keys else panel


# --- figures -------------------------------------------------------------------------------------


def _figure(figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and its axes, made without pyplot: no GUI backend, no global state.

    In a notebook, a cell that ends with the figure shows it.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, **kwargs)
    return fig, fig.subplots()


def bars(panel: pd.DataFrame, *, measure: str = "chars", groups: bool = False,
         codebook: Codebook | None = None, title: str | None = None) -> Figure:
    """One horizontal stacked bar per report: the share of each theme (or group)."""
    chinese = use_cjk_font() is not None
    book = codebook or load_codebook()
    cols = share_columns(panel, measure, groups=groups)
    ids = [c.removeprefix(MEASURES[measure] + ("group_" if groups else "")) for c in cols]
    data = _sorted(panel)
    n = len(data)
    fig, ax = _figure(figsize=(11, 1.6 + 0.26 * max(n, 4)), layout="constrained")
    left = [0.0] * n
    y = list(range(n))[::-1]  # the first report on top
    for col, name, color in zip(cols, _names(ids, book, groups=groups, chinese=chinese),
                                _colors(ids, book, groups=groups), strict=True):
        values = [100 * float(v) for v in data[col].fillna(0)]
        ax.barh(y, values, left=left, color=color, label=name, height=0.8, linewidth=0)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(y, _report_labels(data))
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel(f"share of the report, % ({_MEASURE_NAMES[measure]})")
    ax.set_title(title or f"Attention by {'theme group' if groups else 'theme'}, per report")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    return fig


def heatmap(panel: pd.DataFrame, *, rows: str = "region", measure: str = "chars",
            groups: bool = False, codebook: Codebook | None = None,
            title: str | None = None) -> Figure:
    """``rows`` (a panel column: region, year, level …) x themes, the mean share per cell."""
    chinese = use_cjk_font() is not None
    book = codebook or load_codebook()
    if rows not in panel.columns:
        raise InputError(f"the panel has no column {rows!r} to make the heatmap's rows")
    cols = share_columns(panel, measure, groups=groups)
    ids = [c.removeprefix(MEASURES[measure] + ("group_" if groups else "")) for c in cols]
    keyed = panel.assign(_row=panel[rows].astype(object).fillna(panel["report_id"]).astype(str))
    table = keyed.groupby("_row", sort=True)[cols].mean() * 100
    counts = keyed.groupby("_row", sort=True).size()
    labels = [f"{r} (n={counts[r]})" if counts[r] > 1 else r for r in table.index]
    names = _names(ids, book, groups=groups, chinese=chinese)
    fig, ax = _figure(figsize=(2.2 + 0.62 * len(cols), 1.8 + 0.32 * len(table)),
                           layout="constrained")
    image = ax.imshow(table.to_numpy(), aspect="auto", cmap="YlOrRd", vmin=0)
    ax.set_xticks(range(len(cols)), names, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(table)), labels)
    top = float(table.to_numpy().max()) if table.size else 0.0
    for (i, j), v in _cells(table.to_numpy()):
        ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7,
                color="white" if v > 0.6 * top else "black")
    fig.colorbar(image, ax=ax, shrink=0.6,
                 label="mean share, %" if (counts > 1).any() else "share, %")
    what = "theme group" if groups else "theme"
    ax.set_title(title or f"Attention by {what} and {rows} "
                          f"(% of {_MEASURE_NAMES[measure]})")
    return fig


def pages(panel: pd.DataFrame, kind: str, *, rows: str = "region",
          per_page: int = 40) -> list[pd.DataFrame]:
    """``panel`` cut into the parts that make readable figures of ``kind``: at most
    ``per_page`` bars (reports) or heatmap rows (values of ``rows``) each, in drawing order.
    Trends are one figure whatever the number of reports; ``per_page`` 0 never cuts."""
    if per_page < 0:
        raise InputError(f"per_page must be 0 (one figure) or more, not {per_page}")
    if kind == "bars" and per_page and len(panel) > per_page:
        data = _sorted(panel)
        return [data.iloc[i:i + per_page] for i in range(0, len(data), per_page)]
    if kind == "heatmap" and per_page and rows in panel.columns:
        keys = panel[rows].astype(object).fillna(panel["report_id"]).astype(str)
        values = sorted(keys.unique())
        if len(values) > per_page:
            return [panel[keys.isin(values[i:i + per_page])]
                    for i in range(0, len(values), per_page)]
    return [panel]


def _cells(array: Any) -> Iterable[tuple[tuple[int, int], float]]:
    for i, row in enumerate(array):
        for j, v in enumerate(row):
            yield (i, j), float(v)


def trends(panel: pd.DataFrame, *, themes: Sequence[str] | None = None, x: str = "year",
           measure: str = "chars", groups: bool = False, codebook: Codebook | None = None,
           title: str | None = None, n_default: int = 6, max_gap: int = 5) -> Figure:
    """Shares of chosen themes (or groups) over ``x`` (the year): the mean of each year's reports.

    ``themes`` defaults to the ``n_default`` largest on average, ``general`` left out. A line
    is broken where more than ``max_gap`` years pass without a report. A panel made with
    ``profile --ci`` whose rows have one ``x`` each (one report a year, or the group rows of
    ``--by year``) gets its intervals drawn as bands.
    """
    import pandas as pd

    chinese = use_cjk_font() is not None
    book = codebook or load_codebook()
    if x not in panel.columns or panel[x].isna().all():
        raise InputError(f"the panel has no {x!r} values to draw trends over")
    prefix = MEASURES[measure] + ("group_" if groups else "")
    available = [c.removeprefix(prefix) for c in share_columns(panel, measure, groups=groups)]
    if themes:
        unknown = [t for t in themes if t not in available]
        if unknown:
            raise InputError(f"no such {'group' if groups else 'theme'} in the panel: "
                             f"{', '.join(unknown)} (it has {', '.join(available)})")
        chosen = list(themes)
    else:
        means = panel[[prefix + t for t in available]].mean().sort_values(ascending=False)
        chosen = [c.removeprefix(prefix) for c, v in means.items()
                  if c != prefix + "general" and v > 0][:n_default]
    data = panel.dropna(subset=[x])
    table = data.groupby(x, sort=True)[[prefix + t for t in chosen]].mean() * 100
    per_x = data.groupby(x).size()
    gaps = [a + 1 for a, b in zip(table.index[:-1], table.index[1:], strict=True)
            if b - a > max_gap]
    if gaps:  # a row of NaN in each long gap breaks the lines there
        table = pd.concat([table, pd.DataFrame(index=gaps, columns=table.columns, dtype=float)]
                          ).sort_index()
    from matplotlib import colormaps

    colors = colormaps["tab10"]
    fig, ax = _figure(figsize=(10, 5.2), layout="constrained")
    bands = bool((per_x == 1).all()) and all(
        prefix + t + b in data.columns for t in chosen for b in _BOUNDS)
    for k, (t, name) in enumerate(zip(chosen, _names(chosen, book, groups=groups,
                                                      chinese=chinese), strict=True)):
        ax.plot(table.index, table[prefix + t], marker="o", markersize=3.5, linewidth=1.6,
                color=colors(k % 10), label=name)
        if bands:  # (on the lines' index: a long gap breaks the band too)
            by_x = data.set_index(x)[[prefix + t + b for b in _BOUNDS]].reindex(table.index)
            ax.fill_between(table.index, by_x[prefix + t + "_lower"] * 100,
                            by_x[prefix + t + "_upper"] * 100, color=colors(k % 10),
                            alpha=0.18, linewidth=0)
    ax.set_xlabel(x)
    several = bool((per_x > 1).any())
    ax.set_ylabel(f"{'mean ' if several else ''}share of the report, % "
                  f"({_MEASURE_NAMES[measure]})")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(title or f"Attention to {'theme groups' if groups else 'themes'} over the "
                          f"{x}s ({len(data)} reports)")
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write a figure as PNG, SVG or PDF (from the extension), atomically."""
    from .write import atomic_path

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise InputError(f"{path}: figures are written as .png, .svg or .pdf")
    with warnings.catch_warnings():
        if not _font or _font[0] is None:  # warned once already: no warning per glyph
            warnings.filterwarnings("ignore", message="Glyph .* missing from")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
    return path


def figure_targets(output: str | Path, kinds: Sequence[str], fmt: str | None = None
                   ) -> list[Path]:
    """Where the figures of ``kinds`` go: ``output`` itself when it names a figure file
    (``FILE.png``, ``.svg`` or ``.pdf``: one kind only, and ``fmt``, if given, the same), else
    ``KIND.<fmt>`` (default png) in the folder ``output``. A name with another extension is
    refused unless it is a folder already (or ends in ``/``): ``-o x.pdf`` is a PDF, not a
    folder called x.pdf."""
    from .errors import ArgumentError

    if fmt is not None and fmt not in FIGURE_FORMATS:
        raise ArgumentError("fmt", f"must be png, svg or pdf, not {fmt!r}")
    folder = str(output).endswith(("/", os.sep)) or Path(output).is_dir()
    output = Path(output)
    suffix = output.suffix.lower().lstrip(".")
    if suffix in FIGURE_FORMATS and not folder:
        if len(kinds) > 1:
            raise InputError(f"{output}: one file holds one figure; give --kind, or a folder")
        if fmt is not None and fmt != suffix:
            raise InputError(f"{output}: --format {fmt} but the name says {suffix}")
        return [output]
    if suffix and not folder:
        raise InputError(f"{output}: a figure is written as .png, .svg or .pdf, not "
                         f"{output.suffix}; for a folder of figures, give a name without an "
                         f"extension (or end it with /)")
    return [output / f"{k}.{fmt or 'png'}" for k in kinds]


def draw_figures(panels: str | Path | Iterable[str | Path], output: str | Path, *,
                 kind: str = "all", fmt: str | None = None, where: Iterable[str] = (),
                 themes: Sequence[str] | None = None, measure: str = "chars",
                 groups: bool = False, rows: str = "region", dpi: int = 150,
                 per_figure: int = 40, progress: Any = None) -> list[tuple[str, Path]]:
    """Read panels written by ``profile``, keep the reports ``where`` says (``COLUMN=VALUE``
    each), and draw the figures of ``kind`` (one of :data:`KINDS`, or ``all``) into
    ``output``: a folder (``KIND.png``, ``.svg`` or ``.pdf``, by ``fmt``), or one
    ``FILE.png`` / ``.svg`` / ``.pdf`` for a single kind (:func:`figure_targets`); ``dpi``
    (PNG) from 1 to 600. A kind with more than ``per_figure`` bars or heatmap rows
    makes several figures, ``KIND-1.png`` … Returns (kind, path) of every figure written, each
    also passed to ``progress(kind, path)`` as it is; a missing Chinese font is warned about
    once (:class:`MissingCJKFontWarning`)."""
    from .errors import ArgumentError, require
    from .write import check_output_dir, check_output_file

    require("matplotlib", "plot", "plot")
    if kind != "all" and kind not in KINDS:
        raise ArgumentError("kind", f"must be {', '.join(KINDS)} or all, not {kind!r}")
    if measure not in MEASURES:
        raise ArgumentError("measure", f"must be {' or '.join(MEASURES)}, not {measure!r}")
    if per_figure < 0:
        raise ArgumentError("per_figure", f"must be 0 (one figure) or more, not {per_figure}")
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise ArgumentError("dpi", f"must be from {DPI_RANGE[0]} to {DPI_RANGE[1]}, not {dpi}")
    kinds = list(KINDS) if kind == "all" else [kind]
    targets = figure_targets(output, kinds, fmt)
    output = Path(output)
    panel = filter_panel(read_panel(panels), where)
    check_made_alike(panel)
    for k in kinds:  # before any figure: a kind the panel cannot draw writes none
        if k == "heatmap" and rows not in panel.columns:
            raise InputError(f"the panel has no column {rows!r} to make the heatmap's rows "
                             "(--rows names another; --kind draws one kind)")
        if k == "trends" and ("year" not in panel.columns or panel["year"].isna().all()):
            raise InputError("the panel has no 'year' values to draw trends over (--kind "
                             "draws one kind)")
    if len(targets) == 1 and targets[0] == output:
        check_output_file(output)
    else:
        check_output_dir(output)
        output.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, Path]] = []
    for k, target in zip(kinds, targets, strict=True):
        parts = pages(panel, k, rows=rows, per_page=per_figure)
        for i, part in enumerate(parts, 1):
            title = None if len(parts) == 1 else f"{k}, part {i} of {len(parts)}"
            if k == "bars":
                fig = bars(part, measure=measure, groups=groups, title=title)
            elif k == "heatmap":
                fig = heatmap(part, rows=rows, measure=measure, groups=groups, title=title)
            else:
                fig = trends(part, themes=themes, measure=measure, groups=groups)
            path = target if len(parts) == 1 else target.with_name(
                f"{target.stem}-{i}{target.suffix}")
            save_figure(fig, path, dpi=dpi)
            written.append((k, path))
            if progress is not None:
                progress(k, path)
    return written
