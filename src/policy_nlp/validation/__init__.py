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

The modules: :mod:`.population` (the corpus as the model labeled it), :mod:`.sample` (drawing
the sample, the coding sheet, ``validation-sample``), :mod:`.sheet` (reading the coded sheet),
:mod:`.estimate` (the prediction-powered estimates, ``profile --validation``) and
:mod:`.scores` (the model on the sample); this package re-exports what callers use.
"""

from __future__ import annotations

from .estimate import (
    ShareEstimate,
    corrected_shares,
    difference_estimate,
    model_moments,
    validate_profile,
)
from .population import Population
from .sample import (
    ALLOCATIONS,
    Sample,
    SampleResult,
    allocate,
    draw_sample,
    sample_to_file,
    sheet_rows,
    validation_sheet,
)
from .scores import format_sample_metrics, sample_metrics
from .sheet import CodedSheet, read_coded_sheet

__all__ = [
    "ALLOCATIONS",
    "CodedSheet",
    "Population",
    "Sample",
    "SampleResult",
    "ShareEstimate",
    "allocate",
    "corrected_shares",
    "difference_estimate",
    "draw_sample",
    "format_sample_metrics",
    "model_moments",
    "read_coded_sheet",
    "sample_metrics",
    "sample_to_file",
    "sheet_rows",
    "validate_profile",
    "validation_sheet",
]
