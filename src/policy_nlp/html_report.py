"""Evaluation report pages: a self-contained ``index.html`` with PNG figures beside it.

Figures (matplotlib, imported only here): the confusion matrix as a heatmap, the reliability
diagram of the top-label probability, and the learning curve. Theme ids are ASCII, so no CJK
font is needed. The page embeds no script and loads nothing from the network: it reads
offline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def require_matplotlib(what: str) -> None:
    """Raise a one-line error (exit 2) naming the extra to install when matplotlib is missing."""
    from .errors import require

    require("matplotlib", "plot", what)


#: what a report's folder holds: the page, its figures, the page's temporary file
REPORT_FILES = ("index.html", "confusion.png", "reliability.png", "learning_curve.png",
                ".index.html.tmp")
#: the mark of a page this module wrote, in its <head>
_GENERATOR = "<meta name='generator' content='policy-nlp evaluate --report'>"


def check_report_dir(directory: str | Path) -> None:
    """Refuse, before any work, a folder that a report would spoil: one holding anything but
    an earlier report's own files (:data:`REPORT_FILES`, its page written by this module),
    so that ``--report`` never replaces the ``index.html`` (or a figure) of a web site or of
    another program. An absent or empty folder, or an earlier report, is fine."""
    from .errors import InputError

    directory = Path(directory)
    if not directory.is_dir():
        return
    others = sorted(p.name for p in directory.iterdir() if p.name not in REPORT_FILES)
    page = directory / "index.html"
    if not others and page.is_file():
        with page.open("rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
        if _GENERATOR not in head:
            others = ["index.html (not a page of evaluate --report)"]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3
                                         else "")
        raise InputError(f"{directory}: holds files that are not an earlier report's "
                         f"({shown}); give an empty or new folder for --report")


def _figure(figsize: tuple[float, float]):
    """A figure and its axes without pyplot (no GUI backend, no global state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=110)
    return fig, fig.subplots()


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10
                     ) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) of each non-empty equal-width bin."""
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    out = []
    for b in range(n_bins):
        m = bins == b
        if m.any():
            out.append((float(confidence[m].mean()), float(correct[m].mean()), int(m.sum())))
    return out


def plot_reliability(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """Reliability diagram: accuracy against confidence, one line per named curve."""
    fig, ax = _figure((5, 5))
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="perfect calibration")
    for name, (conf, correct) in curves.items():
        pts = reliability_bins(conf, correct)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    ax.set_xlabel("predicted probability of the top theme")
    ax.set_ylabel("share correct")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_confusion(matrix: Sequence[Sequence[int]], labels: list[str], path: Path) -> Path:
    """Row-normalised confusion matrix heatmap with counts."""
    cm = np.asarray(matrix, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = _figure((9, 8))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true theme")
    ax.set_title("Confusion matrix (rows: true theme)")
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_learning_curve(points: Sequence[dict[str, float]], path: Path) -> Path:
    """Macro-F1 (mean ± sd over folds) against the number of training paragraphs."""
    n = [p["n_train"] for p in points]
    f1 = np.array([p["macro_f1"] for p in points])
    sd = np.array([p.get("macro_f1_sd", 0.0) for p in points])
    fig, ax = _figure((6, 4))
    ax.plot(n, f1, marker="o")
    ax.fill_between(n, f1 - sd, f1 + sd, alpha=0.2)
    ax.set_xlabel("training paragraphs")
    ax.set_ylabel("macro-F1 on held-out reports")
    ax.set_title("Learning curve (report-grouped CV)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    return path


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _subset_table(what: str, scores: dict[str, dict[str, Any]]) -> str:
    """A table of n, accuracy and macro-F1 per subset (level, sample …)."""
    return _table([what, "paragraphs", "accuracy", "macro-F1"],
                  [[k, v["n"], f"{v['accuracy']:.4f}", f"{v['macro_f1']:.4f}"]
                   for k, v in scores.items()])


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}
img{max-width:100%;border:1px solid #eee}.low{color:#b00}
"""


def write_report(directory: str | Path, metrics: dict[str, Any], *,
                 reliability: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                 learning_curve: Sequence[dict[str, float]] | None = None,
                 title: str = "policy-nlp evaluation") -> Path:
    """Write ``index.html`` and its PNG figures into ``directory``; returns the page's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{_GENERATOR}"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(str(metrics.get('evaluated', '')))}</p>",
             _table(["paragraphs", "accuracy", "macro-F1", "expected calibration error"],
                    [[metrics["n"], f"{metrics['accuracy']:.4f}", f"{metrics['macro_f1']:.4f}",
                      f"{metrics['ece']:.4f}"]])]
    if metrics.get("secondary"):
        sec = metrics["secondary"]
        parts.append(f"<p>Theme sets (primary + secondary themes with probability ≥ "
                     f"{sec['threshold']}): sample-averaged F1 "
                     f"{sec['sample_f1_of_theme_sets']:.4f}.</p>")
    if metrics.get("per_level"):
        parts.append("<h2>By government level</h2>")
        parts.append(_subset_table("level", metrics["per_level"]))
    if metrics.get("per_era"):
        from .metrics import era_rows

        parts.append("<h2>By era of the report</h2>")
        parts.append(_table(["era", "level", "paragraphs", "accuracy", "macro-F1"],
                            [[era, lv, n, f"{acc:.4f}", f"{f1:.4f}"]
                             for era, (lv, n, acc, f1) in era_rows(metrics["per_era"])]))
    if metrics.get("per_sample"):
        parts.append("<h2>By sample (how the labeled rows were chosen)</h2>")
        parts.append(_subset_table("sample", metrics["per_sample"]))
    if metrics.get("groups"):
        g = metrics["groups"]
        parts.append("<h2>By theme group</h2>")
        parts.append(f"<p>Each theme replaced by its codebook group: accuracy "
                     f"{g['accuracy']:.4f}, macro-F1 {g['macro_f1']:.4f}.</p>")
        parts.append(_table(["group", "themes", "precision", "recall", "F1", "support"],
                            [[k, ", ".join(v["themes"]), f"{v['precision']:.4f}",
                              f"{v['recall']:.4f}", f"{v['f1']:.4f}", v["support"]]
                             for k, v in g["per_group"].items()]))
    parts.append("<h2>By theme</h2>")
    parts.append(_table(["theme", "precision", "recall", "F1", "support"],
                        [[k, f"{v['precision']:.4f}", f"{v['recall']:.4f}", f"{v['f1']:.4f}",
                          v["support"]] for k, v in metrics["per_theme"].items()]))
    cm = metrics["confusion_matrix"]
    plot_confusion(cm["rows_true_cols_predicted"], cm["labels"], directory / "confusion.png")
    parts.append("<h2>Confusion matrix</h2><img src='confusion.png' alt='confusion matrix'>")
    if reliability:
        plot_reliability(reliability, directory / "reliability.png")
        parts.append("<h2>Calibration</h2><p>Share of paragraphs whose top theme is right, "
                     "against the probability the model gave it, in ten bins.</p>"
                     "<img src='reliability.png' alt='reliability diagram'>")
    if learning_curve:
        plot_learning_curve(learning_curve, directory / "learning_curve.png")
        parts.append("<h2>Learning curve</h2><img src='learning_curve.png' alt='learning curve'>")
        parts.append(_table(["training paragraphs", "macro-F1", "sd over folds"],
                            [[p["n_train"], f"{p['macro_f1']:.4f}",
                              f"{p.get('macro_f1_sd', 0):.4f}"] for p in learning_curve]))
    parts.append("</body></html>")
    page = directory / "index.html"
    tmp = directory / ".index.html.tmp"
    tmp.write_text("\n".join(parts), "utf-8")
    tmp.replace(page)
    return page
