"""The prediction-powered estimates (see the package's docstring for the estimator): one
group's shares (:func:`difference_estimate`, with the floor :func:`model_moments` gives), every
group's (:func:`corrected_shares`), and ``profile --validation`` (:func:`validate_profile`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .population import Population
from .scores import sample_metrics
from .sheet import CodedSheet, read_coded_sheet

if TYPE_CHECKING:  # pragma: no cover
    from ..codebook import Codebook


def _lambda_moments(y: np.ndarray, f: np.ndarray, strata: np.ndarray,
                    sizes: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """``sum_h c_h cov_h(y, f)`` and ``sum_h c_h var_h(f)`` over the strata (column by
    column), ``c_h = N_h^2 (1 - n_h/N_h) / n_h``: the variance of the estimate is
    ``var(y) - 2 lambda cov + lambda^2 var(f)`` in these terms, least at their ratio."""
    cov = np.zeros(y.shape[1])
    var_f = np.zeros(y.shape[1])
    for h, size in sizes.items():
        m = strata == h
        n = int(m.sum())
        if n < 2 or n >= size:
            continue  # a stratum coded whole has no sampling variance
        c = size * size * (1 - n / size) / n
        dy = y[m] - y[m].mean(axis=0)
        df = f[m] - f[m].mean(axis=0)
        cov += c * (dy * df).sum(axis=0) / (n - 1)
        var_f += c * (df * df).sum(axis=0) / (n - 1)
    return cov, var_f


@dataclass
class ShareEstimate:
    """Estimates of the shares of every theme in one group, one entry per theme."""

    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se: np.ndarray
    lam: np.ndarray
    predicted: np.ndarray  # classify and count (the model's own share)


def model_moments(f: np.ndarray, proba: np.ndarray, weights: np.ndarray,
                  strata: Sequence[str], sizes: Mapping[str, int]
                  ) -> dict[str, tuple[np.ndarray, ...]]:
    """What the model's probabilities say of the residuals ``w (y - lambda f)`` of each
    stratum's whole population, before any coding: the sums of ``w^2 p``, ``w^2 f p``,
    ``w^2 f^2``, ``w p`` and ``w f`` (``p``: the probability that a coder gives the theme),
    from which :func:`difference_estimate` gets the residuals' expected variance for any
    lambda (``weights`` are 0 outside the group)."""
    strata = np.asarray(strata)
    w = np.asarray(weights, dtype=float)[:, None]
    out = {}
    for h in sizes:
        m = strata == h
        wm, fm, pm = w[m], f[m], proba[m]
        out[h] = ((wm * wm * pm).sum(0), (wm * wm * fm * pm).sum(0), (wm * wm * fm * fm).sum(0),
                  (wm * pm).sum(0), (wm * fm).sum(0))
    return out


def difference_estimate(y: np.ndarray, f: np.ndarray, strata: Sequence[str],
                        sizes: Mapping[str, int], f_total: np.ndarray, denominator: float, *,
                        confidence: float = 0.95, tuning: str = "ppi++",
                        floor: Mapping[str, tuple[np.ndarray, ...]] | None = None,
                        variance: str = "max") -> ShareEstimate:
    """Prediction-powered estimate of ``sum_i y_i / denominator`` over a finite population.

    Parameters
    ----------
    y, f : (n, K) arrays
        The coded values and the predictions of the sampled units (already multiplied by
        each unit's weight and set to 0 for units outside the group).
    strata : the stratum of each sampled unit; sizes : N_h of every stratum.
    f_total : (K,) array
        The sum of the predictions over the whole group (known: every unit is predicted).
    denominator : the group's total weight (paragraphs, or characters).
    tuning : ``"ppi++"`` (lambda minimizing the variance, clipped to [0, 1]), ``"ppi"``
        (lambda = 1) or ``"classical"`` (lambda = 0: the coded sample alone).
    floor : :func:`model_moments` of the group, optional
        Each stratum's residual variance is then the larger of the sample's and the one the
        model's probabilities imply for the stratum: a sample that happens to hold no error
        on a theme (a rare theme, a small sample) would otherwise give it an interval of no
        width.
    variance : ``"max"`` (that larger one), or, to measure the choice, ``"sample"`` (the
        sample's alone) or ``"model"`` (the probabilities' alone); without ``floor``, the
        sample's.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    if tuning not in ("ppi++", "ppi", "classical"):
        raise ValueError(f"tuning must be ppi++, ppi or classical, not {tuning!r}")
    if denominator <= 0:
        raise ValueError("the group is empty")
    if variance not in ("max", "sample", "model"):
        raise ValueError(f"variance must be max, sample or model, not {variance!r}")
    strata = np.asarray(strata)
    counts = {h: int((strata == h).sum()) for h in sizes}
    expand = np.array([sizes[h] / counts[h] for h in strata]) if len(strata) else np.zeros(0)
    cov, var_f = _lambda_moments(y, f, strata, sizes)
    if tuning == "ppi++":
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(var_f > 0, cov / np.where(var_f > 0, var_f, 1), 1.0)
        lam = np.clip(lam, 0.0, 1.0)
    else:
        lam = np.full(y.shape[1], 1.0 if tuning == "ppi" else 0.0)
    resid = y - lam * f
    total = lam * f_total + (resid * expand[:, None]).sum(axis=0)
    var = np.zeros(y.shape[1])
    for h, size in sizes.items():
        n = counts[h]
        if n == 0:
            raise ValueError(f"stratum {h!r} has no sampled unit")
        if n >= size:
            continue  # a stratum coded whole has no sampling variance
        r = resid[strata == h]
        s2 = r.var(axis=0, ddof=1) if n > 1 else np.zeros(y.shape[1])
        if floor is not None and variance != "sample":
            a, b, c, d, e = floor[h]
            mean_sq = (a - 2 * lam * b + lam * lam * c) / size
            mean = (d - lam * e) / size
            implied = mean_sq - mean * mean
            s2 = implied if variance == "model" else np.maximum(s2, implied)
        var += size * size * (1 - n / size) / n * s2
    se = np.sqrt(np.maximum(var, 0)) / denominator
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    est = total / denominator
    return ShareEstimate(estimate=np.clip(est, 0, 1), lower=np.clip(est - z * se, 0, 1),
                         upper=np.clip(est + z * se, 0, 1), se=se, lam=lam,
                         predicted=f_total / denominator)


def corrected_shares(population: Population, sheet: CodedSheet, *,
                     by: Sequence[Sequence[str]] = ((), ("level",)), confidence: float = 0.95,
                     tuning: str = "ppi++", themes_zh: Mapping[str, str] | None = None,
                     variance: str = "max") -> list[dict[str, Any]]:
    """The share of every theme in groups of reports, corrected by the coded sample.

    ``by`` lists the groupings: ``()`` is every report together, ``("level",)`` each level,
    ``("level", "year")`` each level and year (a paragraph's group is given by its metadata
    fields; a grouping by a field no paragraph has is left out). Returns the long form, one row
    per group and theme: ``by`` (the fields, joined by ``,``), ``group`` (their values;
    ``(missing)`` for a paragraph without one, :data:`policy_nlp.aggregate.MISSING`),
    the group's ``n_reports``, ``n_paragraphs``, ``n_chars`` and ``n_coded``, how the
    shares are made (``unit``, the population's; ``estimator``, the ``tuning``: ``ppi++``;
    ``ci_level``, the ``confidence``), ``theme``, ``zh``, then for ``char_share`` and
    ``para_share`` each: the corrected estimate, ``_lower``, ``_upper``, ``_se``,
    ``_lambda``, the model's own share (``_predicted``: classify and count) and the coded
    sample's alone (``_coded``, with ``_coded_lower``/``_coded_upper``).
    ``variance`` is as in :func:`difference_estimate` (the model's probabilities are the
    records' ``scores``, where every paragraph has them).
    """
    from ..aggregate import group_label

    idx = population.index()
    missing = [pid for pid in sheet.ids if pid not in idx]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (" …" if len(missing) > 5 else "")
        raise InputError(f"{sheet.source}: {len(missing)} coded ids are not paragraphs of the "
                         f"inputs: {shown}; profile the inputs the sample was drawn from")
    _check_strata(population, sheet)
    _check_coded_strata(population, sheet, idx)
    themes = population.themes
    k_of = {t: k for k, t in enumerate(themes)}
    rows_s = np.array([idx[pid] for pid in sheet.ids])
    y_s = np.zeros((len(rows_s), len(themes)))
    y_s[np.arange(len(rows_s)), [k_of[lbl] for lbl in sheet.labels]] = 1.0
    pred = population.pred
    proba = population.proba
    strata_all = population.strata(sheet.field)
    f_s = pred[rows_s]
    chars = np.asarray(population.chars, dtype=float)
    reports = np.asarray(population.report_ids)
    zh = themes_zh or {}
    out = []
    for fields in by:
        fields = tuple(fields)
        if fields and not any(all(m.get(f) not in (None, "") for f in fields)
                              for m in population.fields):
            continue
        for key, members in population.groups(fields).items():
            in_s = members[rows_s]
            head = {"by": ",".join(fields) or "all",
                    "group": ",".join(group_label(v) for v in key) if fields else "all",
                    "n_reports": len(set(reports[members].tolist())),
                    "n_paragraphs": int(members.sum()), "n_chars": int(chars[members].sum()),
                    "n_coded": int(in_s.sum()),
                    # how the shares are made (the model's own, _predicted, are counts)
                    "unit": population.unit, "estimator": tuning, "ci_level": confidence}
            results = {}
            for measure, w in (("char_share", chars), ("para_share", np.ones(len(chars)))):
                w_s = (w[rows_s] * in_s)[:, None]
                denom = float(w[members].sum())
                if denom <= 0:
                    w, w_s = np.ones(len(chars)), in_s[:, None].astype(float)
                    denom = float(members.sum())
                f_total = (pred[members] * w[members][:, None]).sum(axis=0)
                args = (y_s * w_s, f_s * w_s, sheet.strata, sheet.sizes, f_total, denom)
                floor = None if proba is None else population._cached(
                    ("moments", sheet.field, fields, key, measure),
                    lambda w=w, members=members: model_moments(
                        pred, proba, w * members, strata_all, sheet.sizes))
                results[measure] = (
                    difference_estimate(*args, confidence=confidence, tuning=tuning,
                                        floor=floor, variance=variance),
                    difference_estimate(*args, confidence=confidence, tuning="classical"))
            for k, theme in enumerate(themes):
                row = {**head, "theme": theme, "zh": zh.get(theme, "")}
                for measure, (ppi, coded) in results.items():
                    row[measure] = float(ppi.estimate[k])
                    row[f"{measure}_lower"] = float(ppi.lower[k])
                    row[f"{measure}_upper"] = float(ppi.upper[k])
                    row[f"{measure}_se"] = float(ppi.se[k])
                    row[f"{measure}_lambda"] = float(ppi.lam[k])
                    row[f"{measure}_predicted"] = float(ppi.predicted[k])
                    row[f"{measure}_coded"] = float(coded.estimate[k])
                    row[f"{measure}_coded_lower"] = float(coded.lower[k])
                    row[f"{measure}_coded_upper"] = float(coded.upper[k])
                out.append(row)
    return out


def _check_strata(population: Population, sheet: CodedSheet) -> None:
    """The sheet's strata sizes must be the inputs': else its probabilities are not theirs."""
    try:
        strata = population.strata(sheet.field)
    except InputError as exc:
        raise InputError(f"{sheet.source}: the sample was stratified by {sheet.field!r}: {exc}"
                         ) from None
    counts = dict(Counter(strata))
    for h, size in sheet.sizes.items():
        if counts.get(h, 0) != size:
            raise InputError(
                f"{sheet.source}: stratum {h!r} had {size:,} paragraphs when the sample was "
                f"drawn but the inputs have {counts.get(h, 0):,}; profile the inputs the "
                "sample was drawn from (with the same --records and --name-pattern)")
    extra = sorted(set(counts) - set(sheet.sizes))
    if extra:
        raise InputError(f"{sheet.source}: the inputs have paragraphs of strata the sample "
                         f"was not drawn from: {', '.join(extra)}")


def _check_coded_strata(population: Population, sheet: CodedSheet, idx: Mapping[str, int]
                        ) -> None:
    """Each coded paragraph must be in the stratum the sheet says it was drawn from: its
    weight is that stratum's size over its coded rows (the sizes may agree while paragraphs
    changed strata: a level edited in the inputs, another --name-pattern)."""
    strata = population.strata(sheet.field)
    moved = [(pid, h, strata[idx[pid]]) for pid, h in zip(sheet.ids, sheet.strata, strict=True)
             if strata[idx[pid]] != h]
    if moved:
        shown = ", ".join(f"{pid!r} ({h} on the sheet, {now} in the inputs)"
                          for pid, h, now in moved[:5]) + (" …" if len(moved) > 5 else "")
        raise InputError(f"{sheet.source}: {len(moved)} coded paragraphs are in another "
                         f"stratum in the inputs: {shown}; profile the inputs the sample was "
                         "drawn from (with the same --records and --name-pattern)")


def validate_profile(population: Population, sheet_path: str | Path, *,
                     by: Sequence[Sequence[str]] = ((), ("level",)), confidence: float = 0.95,
                     themes_zh: Mapping[str, str] | None = None,
                     codebook: Codebook | None = None, n_boot: int = 1000,
                     seed: int = 0) -> tuple[list[dict[str, Any]], dict[str, Any], CodedSheet]:
    """Read a coded sheet and correct the population's shares with it: the corrected group
    shares (:func:`corrected_shares`), the model's scores on the coded paragraphs
    (:func:`sample_metrics`), and the sheet as read (its ``blank`` rows were left out)."""
    sheet = read_coded_sheet(sheet_path, population.themes, codebook=codebook)
    rows = corrected_shares(population, sheet, by=by, confidence=confidence,
                            themes_zh=themes_zh)
    idx = population.index()
    predicted = [population.labels[idx[pid]] for pid in sheet.ids]
    metrics = sample_metrics(sheet.labels, predicted, population.themes,
                             weights=sheet.weights(), strata=sheet.strata, n_boot=n_boot,
                             confidence=confidence, seed=seed)
    return rows, metrics, sheet
