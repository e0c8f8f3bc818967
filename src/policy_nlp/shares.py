"""Shares: the attention each theme gets, estimated from predictions, with intervals.

Classify and count (``cc``: the share of paragraphs, or characters, whose predicted label is a
theme) is biased wherever the classifier's errors do not cancel (Forman 2008). This module
holds the estimators of the quantification literature, named as in QuaPy:

``cc``
    classify and count;
``pcc``
    probabilistic classify and count: the mean of the calibrated probabilities;
``acc``, ``pacc``
    (probabilistic) adjusted classify and count: the observed (mean-probability) shares
    corrected by the misclassification rates, ``q = R^T p``, solved for ``p`` on the simplex
    (Bella et al. 2010);
``emq``
    the EM prior adjustment of Saerens, Latinne & Decaestecker (2002): the posteriors are
    re-weighted to the report's own theme prevalence until the two agree;
``bayesian_cc``
    the posterior mean of the true shares under the latent-class model below (QuaPy's
    BayesianCC, Ziegler & Czyz 2023): each paragraph's true theme given its predicted theme
    and confidence, with the report's prevalence and the rates both uncertain.

The rates (``R[t, j]``: the chance that a paragraph of true theme ``t`` is predicted ``j``, by
confidence bin of the top probability, :data:`CONFIDENCE_BINS`; and, for ``pacc``, the mean
probabilities of the paragraphs of each true theme) are measured out of fold, cross-validated
by report, when a model is trained (:func:`measure_rates`), and kept in the model card by
*cell*: all levels pooled, each government level, and each level and era (:data:`ERAS`), with
the counts behind them. A report uses the most specific cell with at least
:data:`MIN_CELL_ROWS` out-of-fold rows (:meth:`ShareRates.cell`); each row of its rates is
shrunk towards the cell above with :data:`PRIOR_ROWS` pseudo-rows, so a theme seen a few times
in a cell leans on the level's (or the pooled) rates.

Intervals (:func:`truth_draws`) are for the share that careful coders would give the same
paragraphs: the posterior of the report's true shares under a latent-class model, drawn by
Gibbs sampling. Each draw takes rates from their Dirichlet posterior given the out-of-fold
counts (the finite evidence behind the correction), each paragraph's true theme given its
predicted theme and confidence bin, the report's prevalence and the rates, and the prevalence
given the themes. Cells where the model is weaker (the planned-economy national reports) have
flatter rates, hence wider intervals. Draws of rates are shared by every report of a cell, so
intervals of groups of reports (weighted sums of the reports' draws) carry the correlated
part of the error. Reports differ more than a model of independent paragraphs allows, most
where the classifier is weak, so each cell's intervals are calibrated on the out-of-fold
reports themselves (:func:`calibrate_scales`): a wider percentile interval of the draws, or
draws spread further (:func:`scaled`), whichever is narrower and covers. A model card without
rates gives no intervals.

Which estimator gives the point is the user's choice; the default (:data:`DEFAULT_ESTIMATOR`)
is the one ``benchmarks/shares.py`` picked: classify and count, whose share error per report was
the lowest at every government level (the corrections add more noise than the bias they
remove in reports of 50-100 paragraphs).

This module only computes: no reading, no printing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .era import year_or_none
from .errors import ArgumentError, InputError

__all__ = [
    "ADJUSTED",
    "CONFIDENCE_BINS",
    "DEFAULT_ESTIMATOR",
    "ERAS",
    "ESTIMATORS",
    "CellRates",
    "ShareRates",
    "check_estimator",
    "era_of",
    "estimate",
    "interval",
    "measure_rates",
    "calibrate_scales",
    "scaled",
    "truth_draws",
]

#: The estimators, in the order of the benchmark's tables.
ESTIMATORS = ("cc", "pcc", "acc", "pacc", "emq", "bayesian_cc")
#: The estimators that need the misclassification rates of the model card.
ADJUSTED = ("acc", "pacc", "emq", "bayesian_cc")
#: The estimator ``profile`` uses unless told otherwise: the one ``benchmarks/shares.py``
#: picked (see ``benchmarks/results/shares.md``).
DEFAULT_ESTIMATOR = "cc"
#: Eras of the reports (first year, last year; None: open), by the history of the economy the
#: reports govern: the planned economy, the reform years, the socialist market economy (from
#: the 14th Party Congress, 1992). Rates are measured per level and era where counts allow.
ERAS: tuple[tuple[int | None, int | None], ...] = ((None, 1977), (1978, 1992), (1993, None))
#: Upper edges of the confidence bins of the top probability (the last bin goes to 1): the
#: latent-class model's "prediction" is the predicted theme and its bin.
CONFIDENCE_BINS = (0.5, 0.8, 0.95)
#: A cell of rates is used when it has at least this many out-of-fold rows (else the cell
#: above it: the level, then all levels pooled).
MIN_CELL_ROWS = 200
#: A cell's interval scale is its own when measured on at least this many reports (else the
#: cell above's).
MIN_CELL_REPORTS = 5
#: The interval levels whose calibration is measured.
SCALE_LEVELS = (0.5, 0.8, 0.9, 0.95, 0.99)
#: The percentile intervals of the draws a calibration may take instead of the nominal one.
CALIBRATION_QUANTILES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99,
                         0.995)
#: The widest scale (where even that does not cover, the intervals are too narrow and the
#: benchmark shows it).
MAX_SCALE = 4.0
#: Pseudo-rows of the cell above that each row of a cell's rates is shrunk towards.
PRIOR_ROWS = 10.0
#: Card format of the rates.
RATES_FORMAT = 1
#: The Dirichlet prior of a report's theme prevalence in the latent-class model, for each
#: theme (uniform; a prior at the cell's prevalence gave the rare themes no chance to appear
#: and intervals that missed them: coverage measured in ``benchmarks/shares.py``).
PREVALENCE_PRIOR = 1.0
#: Gibbs sweeps dropped before the draws are kept.
BURN_IN = 50


def era_of(year: Any) -> str | None:
    """The era label of a year (``"-1977"``, ``"1978-1992"``, ``"1993-"``), None if unknown
    (not a four-digit year: :func:`policy_nlp.era.year_or_none`)."""
    y = year_or_none(year)
    if y is None:
        return None
    for lo, hi in ERAS:
        if (lo is None or y >= lo) and (hi is None or y <= hi):
            return f"{lo or ''}-{hi or ''}"
    return None  # pragma: no cover  (the eras cover every year)


def predicted_columns(proba: np.ndarray, bins: Sequence[float] = CONFIDENCE_BINS) -> np.ndarray:
    """Each row's column of the binned rates: predicted theme x confidence bin."""
    top = proba.max(axis=1)
    return proba.argmax(axis=1) * (len(bins) + 1) + np.searchsorted(bins, top, side="right")


# --- measuring the rates (at training) ---------------------------------------------------------


def measure_rates(y: Sequence[int] | np.ndarray, proba: np.ndarray, themes: list[str], *,
                  levels: Sequence[str | None] | None = None,
                  years: Sequence[Any] | None = None) -> dict[str, Any]:
    """The misclassification rates of out-of-fold predictions, by cell, for the model card.

    Parameters
    ----------
    y : sequence of int
        The true theme of each row (an index into ``themes``).
    proba : ndarray, shape (n, n_themes)
        Out-of-fold calibrated probabilities (report-grouped cross-validation).
    levels, years : sequences, optional
        Each row's government level and year: cells by level, and by level and era.

    Returns
    -------
    dict
        ``{"format", "themes", "eras", "confidence_bins", "min_cell_rows", "prior_rows",
        "cells"}``; each cell (``"all"``, ``"<level>"``, ``"<level>/<era>"``) holds ``n``,
        ``confusion`` (counts, rows true theme, columns predicted theme x confidence bin, see
        :func:`predicted_columns`) and ``posterior`` (the sums of the probabilities of the
        rows of each true theme: their mean posteriors times the row counts).
    """
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=float)
    k = len(themes)
    if proba.shape != (len(y), k):
        raise ValueError(f"proba must have shape ({len(y)}, {k}), not {proba.shape}")
    cols = predicted_columns(proba)
    nb = len(CONFIDENCE_BINS) + 1
    keys: dict[str, np.ndarray] = {"all": np.ones(len(y), dtype=bool)}
    if levels is not None:
        lv = np.array([str(v) if v else "" for v in levels], dtype=object)
        eras = np.array([era_of(v) or "" for v in (years if years is not None
                                                      else [None] * len(y))], dtype=object)
        for name in sorted(set(lv) - {""}):
            keys[name] = lv == name
            for era in sorted(set(eras[lv == name]) - {""}):
                keys[f"{name}/{era}"] = (lv == name) & (eras == era)
    cells = {}
    for key, m in keys.items():
        conf = np.zeros((k, k * nb), dtype=np.int64)
        np.add.at(conf, (y[m], cols[m]), 1)
        post = np.zeros((k, k))
        np.add.at(post, y[m], proba[m])
        cells[key] = {"n": int(m.sum()), "confusion": conf.tolist(),
                      "posterior": np.round(post, 3).tolist()}
    return {"format": RATES_FORMAT, "themes": list(themes),
            "eras": [list(e) for e in ERAS], "confidence_bins": list(CONFIDENCE_BINS),
            "min_cell_rows": MIN_CELL_ROWS, "prior_rows": PRIOR_ROWS, "cells": cells}


# --- the rates a report uses -------------------------------------------------------------------


def _stable_hash(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode("utf-8"))


@dataclass
class CellRates:
    """The rates of one cell as Dirichlet parameters per true theme (row), shrunk towards the
    cell above."""

    key: str
    n: int
    binned: np.ndarray  # (k, k * n_bins): P(predicted theme and bin | true theme)
    posterior: np.ndarray  # (k, k): the mean posterior of the rows of each true theme
    prior: np.ndarray  # (k,) the training prevalence of the themes (emq's prior)
    bins: tuple[float, ...]  # the confidence bins' upper edges
    # interval level -> (the draws' percentile interval to take, the scale to widen them by)
    scales: dict[float, tuple[float, float]] = field(default_factory=dict)
    _draws: dict[tuple[str, int, int], np.ndarray] = field(default_factory=dict, repr=False)

    def mean(self, kind: str) -> np.ndarray:
        """The posterior-mean rates: ``"binned"``, ``"confusion"`` (bins summed) or
        ``"posterior"``."""
        a = self.posterior if kind == "posterior" else self.binned
        m = a / a.sum(axis=1, keepdims=True)
        return self._unbin(m) if kind == "confusion" else m

    def _unbin(self, m: np.ndarray) -> np.ndarray:
        return m.reshape(*m.shape[:-1], -1, len(self.bins) + 1).sum(axis=-1)

    def calibration(self, level: float) -> tuple[float, float]:
        """(percentile level, scale) that make intervals of ``level`` cover at ``level`` in
        this cell, as measured out of fold by :func:`calibrate_scales` (that of the nearest
        measured level at or above it; ``(level, 1)`` where unmeasured)."""
        if not self.scales:
            return level, 1.0
        above = sorted(lv for lv in self.scales if lv >= level - 1e-9)
        q, scale = self.scales[above[0] if above else max(self.scales)]
        return max(q, level), scale

    def draws(self, kind: str, n_draws: int, seed: int) -> np.ndarray:
        """``n_draws`` rates matrices from their Dirichlet posterior (cached: the same for
        every report of the cell), shape (n_draws, k, columns)."""
        key = (kind, n_draws, seed)
        if key not in self._draws:
            if kind == "confusion":
                self._draws[key] = self._unbin(self.draws("binned", n_draws, seed))
                return self._draws[key]
            a = self.posterior if kind == "posterior" else self.binned
            rng = np.random.default_rng([seed, _stable_hash(self.key), len(kind)])
            g = rng.standard_gamma(np.broadcast_to(a, (n_draws, *a.shape)))
            self._draws[key] = g / np.maximum(g.sum(axis=2, keepdims=True), 1e-300)
        return self._draws[key]


class ShareRates:
    """The misclassification rates of a model card, by cell (see :func:`measure_rates`)."""

    def __init__(self, rates: dict[str, Any], themes: list[str]):
        if list(rates.get("themes", [])) != list(themes):
            raise InputError("the model card's misclassification rates are for other themes "
                             "than the model's: retrain the model")
        self.themes = list(themes)
        self.bins = tuple(rates.get("confidence_bins", CONFIDENCE_BINS))
        self.min_rows = int(rates.get("min_cell_rows", MIN_CELL_ROWS))
        self.prior_rows = float(rates.get("prior_rows", PRIOR_ROWS))
        self.raw = rates["cells"]
        self._cells: dict[str, CellRates] = {}

    @classmethod
    def from_card(cls, card: dict[str, Any], themes: list[str]) -> ShareRates | None:
        """The rates of a model card, None for a card without them (trained before they were
        measured, or without cross-validation)."""
        cv = (card.get("metrics") or {}).get("cross_validation") or {}
        rates = cv.get("share_rates")
        return cls(rates, themes) if rates else None

    def _parent(self, key: str) -> str | None:
        return None if key == "all" else key.rsplit("/", 1)[0] if "/" in key else "all"

    def _build(self, key: str) -> CellRates:
        k = len(self.themes)
        raw = self.raw[key]
        conf = np.asarray(raw["confusion"], dtype=float)
        post = np.clip(np.asarray(raw["posterior"], dtype=float), 0, None)
        parent = self._parent(key)
        if parent is None:  # all levels pooled: a flat prior of one pseudo-row per theme
            base_c, base_p, rows = np.full(conf.shape, 1.0 / conf.shape[1]), np.full(
                (k, k), 1.0 / k), 1.0
        else:
            up = self.get(parent)
            base_c, base_p, rows = up.mean("binned"), up.mean("posterior"), self.prior_rows
        counts = np.asarray(self.raw["all"]["confusion"], dtype=float).sum(axis=1) + 1.0
        scales = raw.get("interval_scale")
        if scales and scales["reports"] >= MIN_CELL_REPORTS:
            scales = {lv: (q, sc) for lv, q, sc in zip(
                scales["levels"], scales["quantile"], scales["scale"], strict=True)}
        elif parent is not None:
            scales = self.get(parent).scales
        else:
            scales = {}
        return CellRates(key=key, n=int(raw["n"]), binned=conf + rows * base_c,
                         posterior=post + rows * base_p, prior=counts / counts.sum(),
                         bins=self.bins, scales=scales)

    def get(self, key: str) -> CellRates:
        if key not in self._cells:
            self._cells[key] = self._build(key)
        return self._cells[key]

    def cell_key(self, level: Any = None, year: Any = None) -> str:
        """The most specific cell with enough rows for a report of this level and year."""
        level = str(level) if level else ""
        era = era_of(year)
        for key in (f"{level}/{era}" if level and era else "", level):
            if key and key in self.raw and self.raw[key]["n"] >= self.min_rows:
                return key
        return "all"

    def cell(self, level: Any = None, year: Any = None) -> CellRates:
        return self.get(self.cell_key(level, year))


# --- the estimators ----------------------------------------------------------------------------


def _simplex_solve(rates: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The shares ``p`` on the simplex with ``rates.T @ p`` closest to ``q`` (least squares)."""
    from scipy.optimize import nnls

    k = len(q)
    a = np.vstack([rates.T, np.full((1, k), 10.0)])
    b = np.r_[q, 10.0]
    p, _ = nnls(a, b, maxiter=50 * k)
    s = p.sum()
    return p / s if s > 0 else np.full(k, 1.0 / k)


def _emq(proba: np.ndarray, w: np.ndarray, prior: np.ndarray, *, tol: float = 1e-6,
         max_iter: int = 200) -> np.ndarray:
    """Saerens et al.'s EM: the shares at which the re-weighted posteriors agree."""
    prior = np.clip(prior, 1e-12, None)
    p = w @ proba
    for _ in range(max_iter):
        post = proba * (p / prior)
        post /= np.maximum(post.sum(axis=1, keepdims=True), 1e-300)
        new = w @ post
        done = np.abs(new - p).max() < tol
        p = new
        if done:
            break
    return p


def _hard(proba: np.ndarray) -> np.ndarray:
    hard = np.zeros_like(proba)
    hard[np.arange(len(proba)), proba.argmax(axis=1)] = 1.0
    return hard


def check_estimator(method: str, rates: ShareRates | None) -> None:
    """An :class:`InputError` if ``method`` is unknown or needs rates the model lacks."""
    if method not in ESTIMATORS:
        raise ArgumentError("estimator", f"is {method!r}, not one of {', '.join(ESTIMATORS)}")
    if method in ADJUSTED and rates is None:
        raise InputError(
            f"--estimator {method} needs the misclassification rates measured when the model "
            "was trained (report-grouped cross-validation), and this model's card has none "
            "(trained before they were measured, or with --cv-folds 0): retrain it with "
            "policy-nlp train, or use --estimator cc or pcc")


def _normalised(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    if total <= 0:
        raise ValueError("the weights must have a positive sum")
    return w / total


def estimate(method: str, proba: np.ndarray, weights: np.ndarray,
             cell: CellRates | None = None, draws: np.ndarray | None = None) -> np.ndarray:
    """The theme shares of one report (or any set of units) by ``method``.

    ``proba``: each unit's calibrated probabilities (n, k); ``weights``: each unit's weight
    (its characters for character shares, 1 for paragraph shares); ``cell``: the rates of the
    report's cell, for the adjusted estimators; ``draws``: for ``bayesian_cc``, the
    :func:`truth_draws` of these weights, if already made. The shares sum to 1.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4]])
    >>> estimate("cc", p, np.ones(2)).tolist(), estimate("pcc", p, np.ones(2)).tolist()
    ([1.0, 0.0], [0.75, 0.25])
    """
    proba = np.asarray(proba, dtype=float)
    w = _normalised(weights)
    if method == "cc":
        return w @ _hard(proba)
    if method == "pcc":  # (probabilities rounded in the records need not sum to 1)
        p = w @ proba
        return p / p.sum() if p.sum() > 0 else p
    if method not in ESTIMATORS:
        raise ValueError(f"unknown estimator {method!r}; one of {', '.join(ESTIMATORS)}")
    if cell is None:
        raise ValueError(f"the {method} estimator needs misclassification rates")
    if method == "acc":
        return _simplex_solve(cell.mean("confusion"), w @ _hard(proba))
    if method == "pacc":
        return _simplex_solve(cell.mean("posterior"), w @ proba)
    if method == "emq":
        return _emq(proba, w, cell.prior)
    if draws is None:
        draws = truth_draws(proba, [w], cell)[0]
    return draws.mean(axis=0)


def truth_draws(proba: np.ndarray, weights: Sequence[np.ndarray], cell: CellRates, *,
                n_draws: int = 400, seed: int = 0, report_seed: int = 0) -> list[np.ndarray]:
    """Draws of a report's true shares, one array (n_draws, k) per weight vector.

    Gibbs sampling of the latent-class model (see the module docstring):
    sweep ``b`` takes the cell's rates draw ``b`` (shared by every report of the cell), draws
    each unit's true theme given its column (:func:`predicted_columns`), the prevalence and the
    rates, then the prevalence given the themes (Dirichlet, prior: :data:`PREVALENCE_PRIOR`
    for every theme). The weighted shares of the drawn themes are the draws.
    """
    proba = np.asarray(proba, dtype=float)
    ws = [_normalised(w) for w in weights]
    n, k = proba.shape
    rng = np.random.default_rng([seed, report_seed, 11])
    themes = np.empty((n_draws, n), dtype=np.int64)
    rates = cell.draws("binned", n_draws + BURN_IN, seed)
    cols = predicted_columns(proba, cell.bins)
    alpha = np.full(k, PREVALENCE_PRIOR)
    pi = np.clip(_normalised(np.ones(n)) @ proba, 1e-6, None)
    for b in range(n_draws + BURN_IN):
        like = rates[b][:, cols].T  # (n, k): P(column of unit i | true theme t)
        post = like * pi
        post /= np.maximum(post.sum(axis=1, keepdims=True), 1e-300)
        y = _categorical(np.cumsum(post, axis=1), rng)
        pi = rng.dirichlet(alpha + np.bincount(y, minlength=k))
        if b >= BURN_IN:
            themes[b - BURN_IN] = y
    out = []
    for w in ws:
        d = np.zeros((n_draws, k))
        rows = np.repeat(np.arange(n_draws), n)
        np.add.at(d, (rows, themes.ravel()), np.tile(w, n_draws))
        out.append(d)
    return out


def _categorical(cum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the categorical distributions with cumulative sums ``cum``."""
    u = rng.random((len(cum), 1)) * cum[:, -1:]
    return np.minimum((u > cum).sum(axis=1), cum.shape[1] - 1)


def scaled(draws: np.ndarray, scale: float) -> np.ndarray:
    """Draws spread ``scale`` times as far from their mean, kept in [0, 1]."""
    if scale == 1.0:
        return draws
    mean = draws.mean(axis=0)
    return np.clip(mean + scale * (draws - mean), 0.0, 1.0)


def calibrate_scales(rates: dict[str, Any], y: Sequence[int] | np.ndarray, proba: np.ndarray,
                     *, groups: Sequence[str], levels: Sequence[str | None] | None = None,
                     years: Sequence[Any] | None = None, chars: Sequence[float] | None = None,
                     n_draws: int = 200, seed: int = 0) -> dict[str, Any]:
    """Measure how much each cell's intervals must widen to cover at their level.

    The latent-class model treats a report's paragraphs as independent given the cell's
    rates; reports differ more than that (their own style, topics the cell's rates describe
    badly), most where the model is weak. So the intervals are calibrated on the out-of-fold
    reports themselves: for each report (``groups``) its :func:`truth_draws` with rates that
    leave its own rows out (paragraph
    shares, and character shares given each row's ``chars``), and for each cell (the
    report's own cell and the cells above it) and each level of :data:`SCALE_LEVELS`, the
    narrowest intervals, a wider percentile interval of the draws and a factor that spreads
    them (:func:`scaled`), that hold the true shares of at least that share of the cell's
    report x theme cells, both measures pooled. Adds ``interval_scale`` (``levels``,
    ``quantile``, ``scale``, ``reports``, ``pairs``) to the cells of ``rates`` (a dict of
    :func:`measure_rates`), which it returns.
    """
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=float)
    share_rates = ShareRates(rates, rates["themes"])
    k = proba.shape[1]
    groups = np.asarray([str(g) for g in groups], dtype=object)
    per_cell: dict[str, list[list[tuple[np.ndarray, ...]]]] = {}
    quantiles = ([(1 - q) / 2 for q in CALIBRATION_QUANTILES]
                 + [(1 + q) / 2 for q in CALIBRATION_QUANTILES])
    for n_report, rid in enumerate(dict.fromkeys(groups)):
        rows = np.flatnonzero(groups == rid)
        level = levels[rows[0]] if levels is not None else None
        year = years[rows[0]] if years is not None else None
        key = share_rates.cell_key(level, year)
        weights = [np.ones(len(rows))]
        if chars is not None and sum(chars[i] for i in rows) > 0:
            weights.append(np.asarray([chars[i] for i in rows], dtype=float))
        # the report's own rows left out of the rates, as for a report the model never saw
        own = measure_rates(y[rows], proba[rows], rates["themes"],
                            levels=None if levels is None else [level] * len(rows),
                            years=None if years is None else [year] * len(rows))
        without = ShareRates(_minus(rates, own), rates["themes"])
        draws = truth_draws(proba[rows], weights, without.get(key), n_draws=n_draws,
                            seed=seed, report_seed=n_report)
        items = []
        for w, d in zip(weights, draws, strict=True):
            truth = np.bincount(y[rows], weights=w, minlength=k) / w.sum()
            items.append((truth, d.mean(axis=0), np.quantile(d, quantiles, axis=0)))
        while key is not None:
            cell = per_cell.setdefault(key, [[], []])
            for j, item in enumerate(items):
                cell[j].append(item)
            key = share_rates._parent(key)
    for key, by_measure in per_cell.items():
        found = _calibrate([item for items in by_measure for item in items])
        rates["cells"][key]["interval_scale"] = {
            "levels": list(SCALE_LEVELS), "quantile": [q for q, _ in found],
            "scale": [sc for _, sc in found], "reports": len(by_measure[0]),
            "pairs": len(by_measure[0]) * k}
    return rates


def _minus(rates: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """The rates without the rows of ``part`` (rates of some of the same rows)."""
    cells = {}
    for key, cell in rates["cells"].items():
        sub = part["cells"].get(key)
        if sub is None:
            cells[key] = cell
            continue
        cells[key] = {"n": cell["n"] - sub["n"],
                      "confusion": (np.asarray(cell["confusion"])
                                    - np.asarray(sub["confusion"])).tolist(),
                      "posterior": (np.asarray(cell["posterior"])
                                    - np.asarray(sub["posterior"])).tolist()}
    return {**rates, "cells": cells}


def _calibrate(items: list[tuple[np.ndarray, ...]]) -> list[tuple[float, float]]:
    """For each of :data:`SCALE_LEVELS`, the narrowest (percentile level, scale) with which
    the items' intervals (truth, mean, quantiles of :data:`CALIBRATION_QUANTILES`) cover at
    least that level: the level from :data:`CALIBRATION_QUANTILES` at or above it, the scale
    from 1 to :data:`MAX_SCALE` by 0.05 (where none covers: the widest)."""
    grid = np.round(np.arange(1.0, MAX_SCALE + 0.001, 0.05), 2)[:, None, None]
    truth = np.stack([t for t, _, _ in items])[None]  # (1, reports, k)
    mean = np.stack([mu for _, mu, _ in items])[None]
    qs = np.stack([q for _, _, q in items], axis=1)  # (2 x quantiles, reports, k)
    m = len(CALIBRATION_QUANTILES)
    cover, width = [], []
    for j in range(m):
        lo = np.clip(mean + grid * (qs[j] - mean), 0, 1)  # (grid, reports, k)
        hi = np.clip(mean + grid * (qs[m + j] - mean), 0, 1)
        cover.append(((lo <= truth + 1e-9) & (truth <= hi + 1e-9)).mean(axis=(1, 2)))
        width.append((hi - lo).mean(axis=(1, 2)))
    cover_a, width_a = np.array(cover), np.array(width)  # (quantiles, grid)
    out = []
    for level in SCALE_LEVELS:
        ok = (cover_a >= level) & (np.array(CALIBRATION_QUANTILES)[:, None] >= level - 1e-9)
        if ok.any():
            j, g = np.unravel_index(np.argmin(np.where(ok, width_a, np.inf)), ok.shape)
        else:
            j, g = m - 1, len(grid) - 1
        out.append((float(CALIBRATION_QUANTILES[j]), float(grid[g, 0, 0])))
    return out


def interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` percentile interval of draws (n_draws, k): (lower, upper)."""
    if not 0 < level < 1:
        raise ValueError(f"the interval level must be between 0 and 1, not {level}")
    a = (1 - level) / 2
    lo, hi = np.quantile(draws, [a, 1 - a], axis=0)
    return lo, hi
