"""Validation on the user's own corpus: a coding sample, and shares corrected by it.

The step after aggregate, for shares a researcher can publish. Three parts:

* **the sample** (:func:`draw_sample`, :func:`sheet_rows`): a simple random sample of
  paragraphs without replacement, stratified by a metadata field if asked (``level``), each
  paragraph with its inclusion probability ``n_h / N_h``, written as a coding sheet;
* **the corrected shares** (:func:`corrected_shares`): once people coded the sample, the share
  of each theme in groups of reports (all reports, each level, any grouping by metadata) by
  prediction-powered inference (Angelopoulos et al. 2023, with the power tuning of PPI++,
  Angelopoulos, Duchi & Zrnic 2023). The model's predictions are known for every paragraph
  of the corpus, the coders' labels for the sample: the estimate is the predicted total plus
  the design-weighted total of the coders' corrections,

      theta = (lambda * sum_{i in g} w_i f_i + sum_{i in s, g} w_i (y_i - lambda f_i) / pi_i)
              / sum_{i in g} w_i,

  with ``w_i = 1`` for paragraph shares and ``w_i`` = the paragraph's characters for character
  shares (the denominator, every paragraph's characters in the group, is known, so the ratio
  is linear in the labels). In survey terms it is the difference estimator of a stratified
  sample (Särndal, Swensson & Wretman 1992, ch. 6), and its variance the stratified one with
  the finite-population correction: ``sum_h N_h^2 (1 - n_h/N_h) s_h^2 / n_h`` of the
  residuals, a group being a domain (zeros outside it). ``lambda`` in [0, 1] minimizes that
  variance (``lambda = 0``: the coded sample alone; ``lambda = 1``: plain PPI). The interval
  is for the share the coders would give every paragraph of the group;
* **the model on the sample** (:func:`sample_metrics`): accuracy, macro-F1 and per-theme
  precision, recall and F1, weighted by ``1 / pi`` so that they estimate the corpus's, with
  percentile intervals of a bootstrap that resamples each stratum as it was drawn.

Why our own numpy and not ppi-python: the sample here is a stratified draw without replacement
from a finite corpus whose predictions are all known. The estimator needs design weights and
the finite-population correction, and the predictions' side of the corpus has no sampling
variance; ppi-python assumes independent draws from an infinite population (it would add a
variance term for the unlabeled side and drop the correction), and it pulls in statsmodels
and gdown. The estimator is twenty lines of numpy and is tested on synthetic data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ArgumentError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook

__all__ = [
    "ALLOCATIONS",
    "CodedSheet",
    "Population",
    "Sample",
    "ShareEstimate",
    "allocate",
    "corrected_shares",
    "difference_estimate",
    "draw_sample",
    "format_sample_metrics",
    "model_moments",
    "read_coded_sheet",
    "sample_metrics",
    "sheet_rows",
    "validate_profile",
    "validation_sheet",
]

#: How the sample is spread over the strata: the same number in each (capped by the stratum's
#: size), or in proportion to their sizes.
ALLOCATIONS = ("equal", "proportional")

# --- the corpus -------------------------------------------------------------------------------


@dataclass
class Population:
    """Every paragraph of the corpus as the model labeled it: what the corrections need.

    ``pred[i]`` is paragraph ``i``'s predicted share of each theme (one-hot for a paragraph
    labeled whole, the sentences' shares with ``--unit sentence``); ``fields[i]`` its scalar
    metadata (``level``, ``year`` …, those of its report included).
    """

    themes: list[str]
    ids: list[str] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the model's label of each paragraph
    _pred: list[np.ndarray] = field(default_factory=list, repr=False)
    _proba: list[np.ndarray | None] = field(default_factory=list, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)  # arrays made of the lists above

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, record: dict[str, Any]) -> None:
        """Add one labeled paragraph (a record of :func:`~policy_nlp.aggregate.iter_labeled`)."""
        from .aggregate import paragraph_shares, record_meta

        self._cache.clear()
        index = {t: k for k, t in enumerate(self.themes)}
        row = np.zeros(len(self.themes))
        shares = paragraph_shares(record)
        for theme, share in shares.items():
            row[index[theme]] += share
        self._pred.append(row)
        scores = record.get("scores")
        self._proba.append(np.array([float(scores.get(t, 0.0)) for t in self.themes])
                           if isinstance(scores, dict) else None)
        self.ids.append(str(record["id"]))
        self.report_ids.append(str(record.get("report_id") or record["id"]))
        self.chars.append(len(record.get("text") or ""))
        # a paragraph labeled sentence by sentence: the theme of most of its characters
        self.labels.append(str(record.get("label") or max(shares, key=shares.__getitem__)))
        self.fields.append(record_meta(record))

    def collect(self, records: Iterable[dict[str, Any]]):
        """Pass ``records`` through, adding each (to build the population while profiling)."""
        for rec in records:
            self.add(rec)
            yield rec

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def pred(self) -> np.ndarray:
        return self._cached("pred", lambda: np.vstack(self._pred) if self._pred
                            else np.zeros((0, len(self.themes))))

    @property
    def proba(self) -> np.ndarray | None:
        """The model's (calibrated) probabilities of every paragraph, if all have them."""
        if not self._proba or any(p is None for p in self._proba):
            return None
        return self._cached("proba", lambda: np.vstack(self._proba))

    def groups(self, by: Sequence[str]) -> dict[tuple, np.ndarray]:
        """The paragraphs of each value of the fields ``by`` (a boolean mask each), in
        order of the values."""
        def make():
            members: dict[tuple, list[int]] = {}
            for i, meta in enumerate(self.fields):
                members.setdefault(tuple(meta.get(f) for f in by), []).append(i)
            out = {}
            for key in sorted(members, key=lambda k: tuple("" if v is None else str(v)
                                                           for v in k)):
                mask = np.zeros(len(self), dtype=bool)
                mask[members[key]] = True
                out[key] = mask
            return out

        return self._cached(("groups", tuple(by)), make)

    def index(self) -> dict[str, int]:
        """Paragraph id -> row; an id given twice cannot be matched to a sheet."""
        return self._cached("index", self._index)

    def _index(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, pid in enumerate(self.ids):
            if out.setdefault(pid, i) != i:
                raise InputError(f"paragraph id {pid!r} appears twice in the inputs; a coding "
                                 "sheet is matched by id, so ids must be unique")
        return out

    def strata(self, field_name: str | None) -> list[str]:
        """Each paragraph's stratum: the value of ``field_name`` (``"all"`` without one)."""
        return self._cached(("strata", field_name), lambda: self._strata(field_name))

    def _strata(self, field_name: str | None) -> list[str]:
        if not field_name:
            return ["all"] * len(self)
        out = []
        for i, meta in enumerate(self.fields):
            value = meta.get(field_name)
            if value is None or value == "":
                raise InputError(f"paragraph {self.ids[i]!r} (report {self.report_ids[i]!r}) "
                                 f"has no {field_name!r} to stratify by; give it in the records "
                                 "or with --name-pattern")
            out.append(str(value))
        return out


# --- drawing the sample ------------------------------------------------------------------------


@dataclass
class Sample:
    """A stratified simple random sample without replacement: ``rows`` index the population
    (sorted by stratum, then by position), ``sizes`` and ``taken`` give each stratum's N_h
    and n_h."""

    rows: list[int]
    strata: list[str]  # the stratum of each sampled row
    sizes: dict[str, int]
    taken: dict[str, int]
    field: str | None

    def probability(self, stratum: str) -> float:
        return self.taken[stratum] / self.sizes[stratum]


def allocate(sizes: Mapping[str, int], n: int, allocation: str = "equal") -> dict[str, int]:
    """How many of ``n`` to draw from each stratum: the same number (``equal``) or in
    proportion to their sizes, never more than a stratum holds, by largest remainders; a
    stratum of two or more paragraphs gets at least two where ``n`` allows (its variance
    needs two).

    Examples
    --------
    >>> allocate({"a": 1000, "b": 10}, 100)
    {'a': 90, 'b': 10}
    >>> allocate({"a": 900, "b": 100}, 100, "proportional")
    {'a': 90, 'b': 10}
    """
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}, not {allocation!r}")
    total = sum(sizes.values())
    if n > total:
        raise InputError(f"-n {n} is more than the {total:,} paragraphs in the inputs")
    # a stratum's variance needs two coded rows: a sample too small to give each stratum two
    # would be refused by profile --validation after the coding, so it is refused here
    need = sum(min(2, size) for size in sizes.values())
    if n < need:
        raise ArgumentError("n", f"is {n}, fewer than the {need} a stratified sample of these "
                                 f"{len(sizes)} strata needs (two each): draw at least {need}, "
                                 "or fewer strata")
    taken = dict.fromkeys(sizes, 0)
    while (left := n - sum(taken.values())) > 0:
        room = {h: sizes[h] - taken[h] for h in sizes if taken[h] < sizes[h]}
        weight = {h: 1.0 if allocation == "equal" else float(sizes[h]) for h in room}
        quota = {h: left * weight[h] / sum(weight.values()) for h in room}
        add = {h: min(room[h], int(quota[h])) for h in room}
        if not any(add.values()):  # fewer left than strata: the largest quotas get one
            for h in sorted(room, key=lambda h: (-quota[h], h))[:left]:
                add[h] = 1
        for h, k in add.items():
            taken[h] += k
    floor = {h: min(2, size, n // max(len(sizes), 1)) for h, size in sizes.items()}
    # every stratum that can have two gets two, taken from the largest
    for h in sizes:
        while taken[h] < floor[h]:
            donor = max((d for d in sizes if taken[d] > floor[d]), key=lambda d: taken[d],
                        default=None)
            if donor is None:
                break
            taken[donor] -= 1
            taken[h] += 1
    return taken


def draw_sample(strata: Sequence[str], n: int, *, seed: int = 0, allocation: str = "equal",
                field_name: str | None = None) -> Sample:
    """Draw ``n`` of the units whose strata are ``strata``: a simple random sample without
    replacement in each stratum, of the sizes :func:`allocate` gives; reproducible with
    ``seed`` (numpy's PCG64)."""
    if n < 1:
        raise ArgumentError("n", f"must be at least 1, not {n}")
    members: dict[str, list[int]] = {}
    for i, h in enumerate(strata):
        members.setdefault(h, []).append(i)
    sizes = {h: len(ix) for h, ix in sorted(members.items())}
    taken = allocate(sizes, n, allocation)
    rng = np.random.default_rng(seed)
    rows: list[int] = []
    row_strata: list[str] = []
    for h in sizes:
        chosen = sorted(rng.choice(np.asarray(members[h]), size=taken[h], replace=False).tolist())
        rows.extend(chosen)
        row_strata.extend([h] * len(chosen))
    return Sample(rows=rows, strata=row_strata, sizes=sizes, taken=taken, field=field_name)


def sheet_rows(population: Population, sample: Sample, texts: Sequence[str],
               names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The coding sheet: one row per sampled paragraph with its design (stratum, N_h, n_h,
    inclusion probability), id, report, metadata, text, an empty ``label`` for the coder,
    and the model's label (``predicted``, ``predicted_zh``) last."""
    extra: dict[str, None] = {}
    for i in sample.rows:
        extra.update(dict.fromkeys(population.fields[i]))
    rows = []
    for k, (i, h) in enumerate(zip(sample.rows, sample.strata, strict=True), 1):
        rows.append({
            "row": k, "id": population.ids[i], "report_id": population.report_ids[i],
            **{f: population.fields[i].get(f) for f in extra},
            "stratum_field": sample.field or "", "stratum": h,
            "stratum_size": sample.sizes[h], "stratum_sample": sample.taken[h],
            "inclusion_probability": round(sample.probability(h), 10),
            "text": texts[i], "label": "",
            "predicted": population.labels[i],
            "predicted_zh": names.get(population.labels[i], ""),
        })
    return rows


# --- the coded sheet ---------------------------------------------------------------------------


@dataclass
class CodedSheet:
    """The coded rows of a sheet: id, the coder's label, the stratum; the strata's sizes."""

    ids: list[str]
    labels: list[str]
    strata: list[str]
    sizes: dict[str, int]
    field: str | None
    blank: int  # rows whose label was left empty (left out)
    source: str = ""

    def coded(self) -> dict[str, int]:
        """n_h: the coded rows of each stratum (blank rows are left out of the design)."""
        out = {h: 0 for h in self.sizes}
        for h in self.strata:
            out[h] += 1
        return out

    def weights(self) -> np.ndarray:
        """1 / pi of each coded row, pi = coded rows / size of its stratum."""
        n = self.coded()
        return np.array([self.sizes[h] / n[h] for h in self.strata])


def read_coded_sheet(path: str | Path, themes: Sequence[str], *, label_col: str = "label",
                     id_col: str = "id", codebook: Codebook | None = None) -> CodedSheet:
    """A coding sheet of ``validation-sample``, filled in (CSV or XLSX).

    A label is a theme id, or (with ``codebook``) a theme's Chinese name or a tool's
    ``中文名 English (id)``, as every reader of labels takes them (:func:`labels.theme_id`).

    A blank label is left out and counted (``blank``); a label that is not a theme, a sheet
    without the design columns, an id given twice, or a sheet with no coded row is an
    :class:`InputError` naming the rows.
    """
    from .labels import theme_id
    from .read import table_rows

    path = Path(path)
    ids: list[str] = []
    labels: list[str] = []
    strata: list[str] = []
    sizes: dict[str, int] = {}
    fields: set[str] = set()
    unknown: dict[str, list[int]] = {}
    seen: dict[str, int] = {}
    blank = 0
    known = set(themes)
    for rownum, row in table_rows(path):
        missing = [c for c in (id_col, label_col, "stratum", "stratum_size") if c not in row]
        if missing:
            raise InputError(f"{path}: no column {', '.join(map(repr, missing))}; a sheet of "
                             "policy-nlp validation-sample has id, stratum, stratum_size and "
                             "label")
        label = str(row[label_col] or "").strip()
        pid = str(row[id_col] or "").strip()
        if not pid:
            raise InputError(f"{path}:{rownum}: no id")
        if pid in seen:
            raise InputError(f"{path}:{rownum}: id {pid!r} is given twice (first at row "
                             f"{seen[pid]})")
        seen[pid] = rownum
        stratum = str(row["stratum"] or "").strip() or "all"
        try:
            size = int(float(row["stratum_size"]))
        except (TypeError, ValueError):
            raise InputError(f"{path}:{rownum}: stratum_size {row['stratum_size']!r} is not a "
                             "number") from None
        if sizes.setdefault(stratum, size) != size:
            raise InputError(f"{path}:{rownum}: stratum {stratum!r} has size {size} here but "
                             f"{sizes[stratum]} above")
        fields.add(str(row.get("stratum_field") or "").strip())
        if not label:
            blank += 1
            continue
        if label not in known and codebook is not None:
            label = theme_id(label, codebook)
        if label not in known:
            unknown.setdefault(str(row[label_col]).strip(), []).append(rownum)
            continue
        ids.append(pid)
        labels.append(label)
        strata.append(stratum)
    if unknown:
        listed = "; ".join(f"{lbl!r} (rows {', '.join(map(str, rows[:10]))}"
                           f"{' …' if len(rows) > 10 else ''})" for lbl, rows in unknown.items())
        raise InputError(f"{path}: labels that are not themes of the model: {listed}; the "
                         f"themes are {', '.join(themes)}")
    if not ids:
        raise InputError(f"{path}: no coded rows (every label cell is empty"
                         f"{'' if blank else ', or the sheet has no rows'}); fill in the "
                         "'label' column")
    if len(fields) > 1:
        raise InputError(f"{path}: the rows name different stratum fields: "
                         f"{', '.join(sorted(fields))}")
    sheet = CodedSheet(ids=ids, labels=labels, strata=strata, sizes=sizes,
                       field=next(iter(fields)) or None, blank=blank, source=str(path))
    for h, n_h in sheet.coded().items():
        if n_h == 0:
            raise InputError(f"{path}: stratum {h!r} has no coded row; code at least two of "
                             "its paragraphs")
        if n_h == 1 and sizes[h] > 1:
            raise InputError(f"{path}: stratum {h!r} has one coded row; its variance needs at "
                             "least two")
        if n_h > sizes[h]:
            raise InputError(f"{path}: stratum {h!r} has {n_h} coded rows but size "
                             f"{sizes[h]}")
    return sheet


# --- the estimator -----------------------------------------------------------------------------


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
    per group and theme: ``by`` (the fields, joined by ``,``), ``group`` (their values),
    ``theme``, ``zh``, the group's ``n_reports``, ``n_paragraphs``, ``n_chars`` and ``n_coded``,
    then for ``char_share`` and ``para_share`` each: the corrected estimate, ``_lower``,
    ``_upper``, ``_se``, ``_lambda``, the model's own share (``_predicted``: classify and
    count) and the coded sample's alone (``_coded``, with ``_coded_lower``/``_coded_upper``).
    ``variance`` is as in :func:`difference_estimate` (the model's probabilities are the
    records' ``scores``, where every paragraph has them).
    """
    idx = population.index()
    missing = [pid for pid in sheet.ids if pid not in idx]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (" …" if len(missing) > 5 else "")
        raise InputError(f"{sheet.source}: {len(missing)} coded ids are not paragraphs of the "
                         f"inputs: {shown}; profile the inputs the sample was drawn from")
    _check_strata(population, sheet)
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
                    "group": ",".join("" if v is None else str(v) for v in key) or "all",
                    "n_reports": len(set(reports[members].tolist())),
                    "n_paragraphs": int(members.sum()), "n_chars": int(chars[members].sum()),
                    "n_coded": int(in_s.sum())}
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


# --- the model on the sample -------------------------------------------------------------------


def _weighted_scores(truth: np.ndarray, pred: np.ndarray, w: np.ndarray, k: int
                     ) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    cm = np.bincount(truth * k + pred, weights=w, minlength=k * k).reshape(k, k)
    total = cm.sum()
    tp = np.diag(cm)
    true_n, pred_n = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred_n > 0, tp / pred_n, 0.0)
        recall = np.where(true_n > 0, tp / true_n, np.nan)
        f1 = np.where(true_n > 0, np.where(precision + recall > 0,
                                           2 * precision * recall / (precision + recall), 0.0),
                      np.nan)
    accuracy = float(tp.sum() / total) if total else float("nan")
    return accuracy, float(np.nanmean(f1)), precision, recall, f1


def sample_metrics(y_true: Sequence[str], y_pred: Sequence[str], themes: Sequence[str], *,
                   weights: np.ndarray | None = None, strata: Sequence[str] | None = None,
                   n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
                   ) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the themes the coders used) and per-theme precision, recall
    and F1 of ``y_pred`` against ``y_true``, each weighted by ``weights`` (1 / pi: the
    corpus's, not the sample's) with a percentile interval from ``n_boot`` bootstrap
    resamples of each stratum (its rows drawn with replacement, as many as it has)."""
    k = len(themes)
    pos = {t: i for i, t in enumerate(themes)}
    truth = np.array([pos[t] for t in y_true], dtype=int)
    pred = np.array([pos[t] for t in y_pred], dtype=int)
    w = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=float)
    groups = np.asarray(strata) if strata is not None else np.zeros(len(truth), dtype=int)
    acc, macro, precision, recall, f1 = _weighted_scores(truth, pred, w, k)
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(groups == h) for h in dict.fromkeys(groups.tolist())]
    boot_acc, boot_macro = np.empty(n_boot), np.empty(n_boot)
    boot = np.empty((n_boot, 3, k))
    for b in range(n_boot):
        take = np.concatenate([ix[rng.integers(0, len(ix), len(ix))] for ix in members])
        a, m, p, r, f = _weighted_scores(truth[take], pred[take], w[take], k)
        boot_acc[b], boot_macro[b] = a, m
        boot[b] = (p, r, f)
    alpha = (1 - confidence) / 2
    q = [100 * alpha, 100 * (1 - alpha)]

    def interval(x: np.ndarray) -> list[float]:
        x = x[~np.isnan(x)]
        return [round(float(v), 4) for v in np.percentile(x, q)] if len(x) else [None, None]

    support = np.bincount(truth, minlength=k)
    per_theme = {}
    for i, t in enumerate(themes):
        if support[i] == 0 and not (pred == i).any():
            continue
        entry: dict[str, Any] = {"support": int(support[i])}
        for j, (name, value) in enumerate((("precision", precision), ("recall", recall),
                                           ("f1", f1))):
            entry[name] = None if np.isnan(value[i]) else round(float(value[i]), 4)
            entry[f"{name}_ci"] = interval(boot[:, j, i])
        per_theme[t] = entry
    return {"n": len(truth), "confidence": confidence, "bootstrap_resamples": n_boot,
            "weighted": weights is not None,
            "accuracy": round(acc, 4), "accuracy_ci": interval(boot_acc),
            "macro_f1": round(macro, 4), "macro_f1_ci": interval(boot_macro),
            "per_theme": per_theme}


def format_sample_metrics(metrics: dict[str, Any]) -> str:
    """The model on the coded sample, as a plain-text table."""
    pct = round(100 * metrics["confidence"])

    def ci(v):
        return "" if v[0] is None else f"[{v[0]:.3f}, {v[1]:.3f}]"

    lines = [f"the model on {metrics['n']} coded paragraphs"
             + (" (weighted by 1/inclusion probability: estimates for the corpus)"
                if metrics["weighted"] else "")
             + f"; {pct}% bootstrap intervals",
             f"accuracy {metrics['accuracy']:.3f} {ci(metrics['accuracy_ci'])}   "
             f"macro-F1 {metrics['macro_f1']:.3f} {ci(metrics['macro_f1_ci'])}",
             "",
             f"{'theme':<22}{'n':>5}  {'precision':<22}{'recall':<22}{'F1':<22}"]
    for theme, m in metrics["per_theme"].items():
        cells = []
        for name in ("precision", "recall", "f1"):
            v = m[name]
            cells.append(f"{'' if v is None else f'{v:.3f}'} {ci(m[name + '_ci'])}".ljust(22))
        lines.append(f"{theme:<22}{m['support']:>5}  " + "".join(cells).rstrip())
    return "\n".join(lines)


# --- profile --validation ----------------------------------------------------------------------


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


# --- validation-sample -------------------------------------------------------------------------


def validation_sheet(model, documents, n: int, *, strata: str | None = None,
                     allocation: str = "equal", seed: int = 0, records: str = "auto",
                     name_pattern: str | None = None, progress=None
                     ) -> tuple[list[dict[str, Any]], Sample, Population]:
    """Label every paragraph of ``documents`` as ``profile`` does (same ids, same
    ``records`` and ``name_pattern``), draw a sample of ``n`` (stratified by the metadata
    field ``strata``) and return the coding sheet's rows, the sample and the population."""
    from .aggregate import iter_labeled
    from .codebook import model_codebook

    population = Population(list(model.themes))
    texts: list[str] = []
    for rec in iter_labeled(model, documents, records=records, name_pattern=name_pattern):
        population.add(rec)
        texts.append(rec["text"])
        if progress is not None:
            progress()
    if not len(population):
        raise InputError("no paragraphs found in the inputs")
    population.index()  # ids must be unique to be matched back
    sample = draw_sample(population.strata(strata), n, seed=seed, allocation=allocation,
                         field_name=strata)
    names = {t.id: t.zh for t in model_codebook(model.card, model.themes).themes}
    return sheet_rows(population, sample, texts, names), sample, population
