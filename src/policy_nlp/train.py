"""Training: labeled paragraphs -> a fitted, calibrated :class:`~policy_nlp.model.ThemeModel`.

Cross-validation is grouped by report (paragraphs of one report never straddle train and test):
its out-of-fold scores give the metrics in the model card, the softmax temperature
(calibration) and the threshold for secondary themes. The final model is then fitted on all
the data.
"""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import __version__
from .codebook import Codebook, load_codebook
from .era import era_of
from .errors import ArgumentError, InputError
from .features import Featurizer, fit_featurizer
from .labels import LabeledData, ValidationReport
from .metrics import expected_calibration_error, metrics_report
from .model import ThemeModel, softmax, text_hashes
from .sentences import split_sentences
from .tokenize import lexicon_sha256, tokenize, tokenizer_name
from .train_config import TrainConfig


Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A progress callback that says nothing (the default of the training functions)."""
    pass


def make_classifier(config: TrainConfig):
    if config.classifier == "linear_svc":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=config.C, class_weight=config.class_weight, random_state=config.seed)
    if config.classifier == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=config.C, class_weight=config.class_weight, max_iter=3000)
    raise ValueError(f"unknown classifier {config.classifier!r} (linear_svc, logistic)")


#: A sentence shorter than this (in characters) is no training row of its own.
MIN_SENTENCE_CHARS = 15


@dataclass
class SentenceRows:
    """Extra training rows: sentences of labeled paragraphs, each with its paragraph's label."""

    owner: np.ndarray  # the index of each sentence's paragraph in the labeled data
    texts: list[str]
    tokens: list[list[str]]
    weight: float

    def of(self, paragraphs: np.ndarray) -> tuple[list[str], list[list[str]], np.ndarray]:
        """(texts, tokens, owners) of the sentences of the given paragraphs, in data order."""
        sel = np.flatnonzero(np.isin(self.owner, paragraphs))
        return ([self.texts[j] for j in sel], [self.tokens[j] for j in sel], self.owner[sel])


def sentence_rows(data: LabeledData, config: TrainConfig) -> SentenceRows | None:
    """The sentences of the paragraphs that are about one theme only, as training rows.

    A paragraph labeled with no secondary theme is, by the codebook, about its primary theme
    throughout, so each of its sentences (of at least :data:`MIN_SENTENCE_CHARS` characters,
    from paragraphs of two sentences or more) is an example of that theme too. Added with a
    small weight (``config.sentence_weight``), they raise report-grouped CV macro-F1 of the
    default configuration by about 0.003 (``benchmarks/stage1_search.py``); sentences of
    paragraphs *with* secondary themes lower it, which is why labels that record no secondary
    themes at all (nothing tells single-theme paragraphs apart) get no sentence rows.
    ``None`` when there are none.
    """
    if config.sentence_weight <= 0 or not any(data.secondary):
        return None
    owner, texts = [], []
    for i, (text, secondary) in enumerate(zip(data.texts, data.secondary, strict=True)):
        if secondary:
            continue
        sentences = split_sentences(text)
        if len(sentences) < 2:
            continue
        for s in sentences:
            if len(s) >= MIN_SENTENCE_CHARS:
                owner.append(i)
                texts.append(s)
    if not texts:
        return None
    return SentenceRows(owner=np.array(owner, dtype=np.int64), texts=texts,
                        tokens=tokenize_all(texts, config), weight=config.sentence_weight)


def era_weights(years: list[int | None], power: float) -> np.ndarray | None:
    """Row weights that balance the eras of the reports (:data:`policy_nlp.era.ERAS`).

    A row of an era with ``n_era`` of the ``n`` rows of known year weighs
    ``(n / (n_eras * n_era)) ** power`` (``n_eras``: the eras present), so that with power 1
    every era has the same total weight, with power 0.5 half-way (on the log scale); a row of
    unknown year weighs 1. None (no weights) for power 0, or fewer than two eras present.
    On the shared labels, where the reports up to 1990 are 16% of the rows, power 0.5 raised
    report-grouped CV accuracy on them by 0.006 (95% CI [+0.002, +0.010]) without lowering
    the other eras and levels (``benchmarks/era_search.py``).
    """
    if power < 0:
        raise ValueError(f"era_balance must be 0 or more, not {power}")
    if power == 0:
        return None
    eras = [era_of(y) for y in years]
    counts = Counter(e for e in eras if e is not None)
    if len(counts) < 2:
        return None
    n = sum(counts.values())
    return np.array([1.0 if e is None else (n / (len(counts) * counts[e])) ** power
                     for e in eras])


def _fit(texts: list[str], tokens: list[list[str]], y: np.ndarray, config: TrainConfig,
         extra: tuple[list[str], list[list[str]], np.ndarray] | None = None,
         extra_weight: float | np.ndarray = 1.0, weights: np.ndarray | None = None):
    """Fit features and classifier; the rows weigh ``weights`` (None: 1 each), the ``extra``
    rows (texts, tokens, labels) ``extra_weight``."""
    if extra is not None and len(extra[0]):
        weights = np.r_[np.ones(len(texts)) if weights is None else weights,
                        np.broadcast_to(extra_weight, len(extra[0]))]
        texts, tokens, y = texts + extra[0], tokens + extra[1], np.r_[y, extra[2]]
    featurizer, X = fit_featurizer(texts, tokens, config.features)
    clf = make_classifier(config).fit(X, y, sample_weight=weights)
    return featurizer, clf


def _fit_rows(texts: list[str], tokens: list[list[str]], y: np.ndarray, rows: np.ndarray,
              config: TrainConfig, sentences: SentenceRows | None,
              years: list[int | None] | None = None):
    """:func:`_fit` on the paragraphs ``rows`` and their sentence rows; with the ``years`` of
    all paragraphs, the rows weighed by :func:`era_weights` (a sentence row: its
    paragraph's weight times the sentence weight)."""
    weights = None if years is None else era_weights([years[i] for i in rows],
                                                     config.era_balance)
    extra, weight = None, 1.0
    if sentences is not None:
        s_texts, s_tokens, owner = sentences.of(rows)
        extra, weight = (s_texts, s_tokens, y[owner]), sentences.weight
        if weights is not None:
            of_paragraph = np.zeros(len(texts))
            of_paragraph[rows] = weights
            weight = weight * of_paragraph[owner]
    return _fit([texts[i] for i in rows], [tokens[i] for i in rows], y[rows], config,
                extra, weight, weights)


def expand_linear(clf, n_themes: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted linear classifier's (coef, intercept) with one row per codebook theme.

    Themes absent from the training data get a zero row and a very low intercept; a binary
    classifier's single score ``s`` becomes ``(-s/2, s/2)`` (the same softmax ranking).
    """
    coef_raw = np.atleast_2d(clf.coef_)
    inter_raw = np.atleast_1d(clf.intercept_)
    if len(clf.classes_) == 2 and coef_raw.shape[0] == 1:
        coef_raw = np.vstack([-coef_raw / 2, coef_raw / 2])
        inter_raw = np.array([-inter_raw[0] / 2, inter_raw[0] / 2])
    coef = np.zeros((n_themes, coef_raw.shape[1]))
    intercept = np.full(n_themes, -1e3)
    coef[clf.classes_] = coef_raw
    intercept[clf.classes_] = inter_raw
    return coef, intercept


def _scores(clf, n_themes: int, X) -> np.ndarray:
    """Decision scores in codebook order, shape (n, n_themes)."""
    coef, intercept = expand_linear(clf, n_themes)
    return np.asarray(X @ coef.T) + intercept


def model_from_fitted(featurizer: Featurizer, clf, themes: list[str], config: TrainConfig
                      ) -> ThemeModel:
    """The array-backed :class:`ThemeModel` of a fitted featurizer and classifier (no card)."""
    coef, intercept = expand_linear(clf, len(themes))
    return ThemeModel(themes=themes, featurizer=featurizer, coef=coef, intercept=intercept,
                      max_secondary=config.max_secondary)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising the negative log-likelihood of ``y``."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = softmax(scores, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))

    res = minimize_scalar(nll, bounds=(np.log(0.01), np.log(100.0)), method="bounded")
    return float(np.exp(res.x))


def fit_secondary_threshold(proba: np.ndarray, gold_sets: list[set[int]],
                            max_secondary: int) -> tuple[float, float]:
    """The threshold maximising sample-averaged F1 of predicted vs gold theme sets.

    The predicted set is the top theme plus the next ``max_secondary`` themes whose
    probability reaches the threshold (as :func:`predicted_set`), computed for all rows at once.
    """
    n = len(proba)
    rows = np.arange(n)[:, None]
    gold = np.zeros(proba.shape, dtype=bool)
    for i, g in enumerate(gold_sets):
        gold[i, list(g)] = True
    order = np.argsort(-proba, axis=1, kind="stable")
    top_hit = gold[rows[:, 0], order[:, 0]].astype(float)
    cand = order[:, 1 : 1 + max_secondary]
    cand_p = proba[rows, cand]
    cand_gold = gold[rows, cand]
    n_gold = gold.sum(axis=1)
    best = (0.5, -1.0)
    for t in np.round(np.arange(0.05, 0.61, 0.01), 2):
        chosen = cand_p >= t
        inter = top_hit + (chosen & cand_gold).sum(axis=1)
        f1 = float(np.mean(2 * inter / (1 + chosen.sum(axis=1) + n_gold))) if n else 0.0
        if f1 > best[1] + 1e-9:
            best = (float(t), f1)
    return best


def predicted_set(row: np.ndarray, threshold: float, max_secondary: int) -> set[int]:
    order = np.argsort(-row, kind="stable")
    chosen = {int(order[0])}
    chosen.update(int(j) for j in order[1 : 1 + max_secondary] if row[j] >= threshold)
    return chosen


def check_trainable(data: LabeledData, codebook: Codebook, cv_folds: int) -> None:
    if cv_folds == 1 or cv_folds < 0:
        raise ArgumentError("cv_folds", f"must be 0 (no cross-validation) or at least 2, "
                                        f"not {cv_folds}")
    if len(data) == 0:
        raise InputError("no labeled paragraphs to train on")
    counts = data.counts()
    if len(counts) < 2:
        only = next(iter(counts))
        raise InputError(f"training data has one class only ({only!r}); a classifier needs "
                         "at least two themes")
    n_groups = len(set(data.groups))
    if cv_folds > 1 and n_groups < cv_folds:
        raise ArgumentError("cv_folds", f"is {cv_folds}, but cross-validation by report needs "
                                        f"as many reports (groups) and the data has {n_groups}: "
                                        f"give {max(n_groups, 0)} or fewer, or 0 to skip it")


def tokenize_all(texts: list[str], config: TrainConfig) -> list[list[str]]:
    """The word tokens of every text as the features see it (``FeatureSpec.prepare``: in
    simplified characters), with the tokenizer backend the configuration names."""
    return [tokenize(t, config.features.tokenizer) for t in config.features.prepare(texts)]


def n_jobs_label(config: TrainConfig) -> str:
    return "1 process" if config.n_jobs == 1 else f"{config.n_jobs} processes"


def _fold_scores(texts, tokens, y, tr, te, n_themes, config, sentences=None, years=None
                 ) -> np.ndarray:
    featurizer, clf = _fit_rows(texts, tokens, y, tr, config, sentences, years)
    return _scores(clf, n_themes, featurizer.transform([texts[i] for i in te]))


def report_folds(data: LabeledData, codebook: Codebook, config: TrainConfig
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs: stratified by theme, a report never on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.array([codebook.ids.index(lbl) for lbl in data.labels])
    cv = StratifiedGroupKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    with warnings.catch_warnings():
        # a rare theme may be missing from a fold's test part; the folds stay valid
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return list(cv.split(np.zeros(len(y)), y, np.array(data.groups)))


#: what a fold keeps together, by the weakest grouping of the labels' rows (LabeledData.grouping)
FOLD_UNITS = {"report": "report", "id prefix": "report (the ids' prefix before '#')",
              "row": "paragraph (some rows name no report)"}


def _cv_and_final(data: LabeledData, tokens: list[list[str]], codebook: Codebook,
                  config: TrainConfig, progress: Progress, final: bool,
                  sentences: SentenceRows | None = None):
    """Out-of-fold scores (or None without CV) and, with ``final``, the model fitted on all
    the data: one pool of ``n_jobs`` processes runs the folds and the final fit together.
    ``sentences``: the sentence rows, if already made (else made here)."""
    from joblib import Parallel, delayed

    themes = codebook.ids
    y = np.array([themes.index(lbl) for lbl in data.labels])
    splits = report_folds(data, codebook, config) if config.cv_folds > 1 else []
    if sentences is None:
        sentences = sentence_rows(data, config)
    tasks = [delayed(_fold_scores)(data.texts, tokens, y, tr, te, len(themes), config,
                                   sentences, data.years)
             for tr, te in splits]
    if final:
        tasks.append(delayed(_fit_rows)(data.texts, tokens, y, np.arange(len(y)), config,
                                        sentences, data.years))
    if splits:
        progress(f"cross-validation: {config.cv_folds} folds by {FOLD_UNITS[data.grouping]}"
                 f"{' and the final fit' if final else ''}, {n_jobs_label(config)}")
    results = Parallel(n_jobs=min(config.n_jobs, len(tasks)))(tasks)
    oof = None
    if splits:
        oof = np.zeros((len(y), len(themes)))
        for (_, te), scores in zip(splits, results, strict=False):
            oof[te] = scores
    return oof, (results[-1] if final else None)


def cross_validate(data: LabeledData, tokens: list[list[str]], codebook: Codebook,
                   config: TrainConfig, progress: Progress = quiet) -> np.ndarray:
    """Out-of-fold decision scores, shape (n, n_themes), from report-grouped folds."""
    oof, _ = _cv_and_final(data, tokens, codebook, config, progress, final=False)
    return oof


@dataclass
class CVResult:
    """Out-of-fold results of report-grouped cross-validation."""

    scores: np.ndarray  # decision scores, (n, n_themes)
    temperature: float
    threshold: float
    metrics: dict[str, Any]

    @property
    def proba(self) -> np.ndarray:
        return softmax(self.scores, self.temperature)


def cv_evaluate(data: LabeledData, tokens: list[list[str]], codebook: Codebook,
                config: TrainConfig, progress: Progress = quiet,
                oof: np.ndarray | None = None) -> CVResult:
    """Cross-validate by report; fit the temperature and secondary threshold out of fold.

    ``oof``: out-of-fold scores already computed (by :func:`_cv_and_final`)."""
    themes = codebook.ids
    y = np.array([themes.index(lbl) for lbl in data.labels])
    if oof is None:
        oof = cross_validate(data, tokens, codebook, config, progress)
    temperature = fit_temperature(oof, y)
    proba = softmax(oof, temperature)
    gold_sets = [{themes.index(lbl), *(themes.index(s) for s in sec)}
                 for lbl, sec in zip(data.labels, data.secondary, strict=True)]
    threshold, set_f1_score = fit_secondary_threshold(proba, gold_sets, config.max_secondary)
    metrics = metrics_report(y_true=data.labels, proba=proba, themes=themes, levels=data.levels,
                             codebook=codebook, years=data.years, samples=data.samples)
    metrics["ece_uncalibrated"] = round(
        expected_calibration_error(softmax(oof, 1.0).max(axis=1), proba.argmax(axis=1) == y), 4)
    metrics["secondary"] = {"threshold": threshold,
                            "sample_f1_of_theme_sets": round(set_f1_score, 4)}
    metrics["folds"] = config.cv_folds
    metrics["grouped_by"] = data.grouping
    progress(f"cross-validation by {FOLD_UNITS[data.grouping].split(' (')[0]}: accuracy "
             f"{metrics['accuracy']:.4f}, "
             f"macro-F1 {metrics['macro_f1']:.4f}")
    return CVResult(scores=oof, temperature=temperature, threshold=threshold, metrics=metrics)


def share_rates(data: LabeledData, proba: np.ndarray, themes: list[str]) -> dict[str, Any]:
    """The out-of-fold misclassification rates the share estimators and intervals need, by
    level and era, with the intervals' scales measured on the out-of-fold reports
    (:func:`policy_nlp.shares.measure_rates`, :func:`~policy_nlp.shares.calibrate_scales`)."""
    from .shares import calibrate_scales, measure_rates

    y = np.array([themes.index(lbl) for lbl in data.labels])
    years = data.years if len(data.years) == len(y) else None
    rates = measure_rates(y, proba, themes, levels=data.levels, years=years)
    return calibrate_scales(rates, y, proba, groups=data.groups, levels=data.levels,
                            years=years, chars=[len(t) for t in data.texts])


def learning_curve(data: LabeledData, tokens: list[list[str]], codebook: Codebook,
                   config: TrainConfig, fractions: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6,
                                                                         0.8, 1.0),
                   progress: Progress = quiet) -> list[dict[str, float]]:
    """Macro-F1 on held-out reports against the number of training paragraphs.

    In each report-grouped fold, the model is trained on a random share of the fold's
    training *reports* (seeded) and scored on the fold's test reports.
    """
    from sklearn.metrics import f1_score

    themes = codebook.ids
    y = np.array([themes.index(lbl) for lbl in data.labels])
    groups = np.array(data.groups)
    rng = np.random.default_rng(config.seed)
    results: dict[float, list[tuple[int, float]]] = {f: [] for f in fractions}
    splits = report_folds(data, codebook, config)
    sentences = sentence_rows(data, config)
    for k, (tr, te) in enumerate(splits, 1):
        reports = np.array(sorted(set(groups[tr])))
        order = rng.permutation(len(reports))
        for f in fractions:
            chosen = set(reports[order[: max(2, round(f * len(reports)))]])
            sub = np.array([i for i in tr if groups[i] in chosen])
            if len(set(y[sub])) < 2:
                continue
            progress(f"learning curve: fold {k}, {len(sub)} training paragraphs")
            scores = _fold_scores(data.texts, tokens, y, sub, te, len(themes), config,
                                  sentences, data.years)
            present = sorted(set(y[te]))
            results[f].append((len(sub), float(f1_score(y[te], scores.argmax(axis=1),
                                                        labels=present, average="macro"))))
    points = []
    for f in fractions:
        if results[f]:
            n, f1 = zip(*results[f], strict=True)
            points.append({"fraction": f, "n_train": int(np.mean(n)),
                           "macro_f1": round(float(np.mean(f1)), 4),
                           "macro_f1_sd": round(float(np.std(f1)), 4)})
    return points


def train(data: LabeledData, *, config: TrainConfig | None = None,
          codebook: Codebook | None = None, progress: Progress = quiet) -> ThemeModel:
    """Train a model: cross-validate by report, calibrate, then fit on all the data.

    Returns the model; its ``card`` holds the cross-validation metrics and provenance.
    """
    config = config or TrainConfig()
    codebook = codebook or load_codebook()
    check_trainable(data, codebook, config.cv_folds)
    themes = codebook.ids
    started = _dt.datetime.now(_dt.UTC)
    progress(f"tokenizing {len(data)} paragraphs")
    backend = config.features.tokenizer
    tokens = tokenize_all(data.texts, config)
    sentences = sentence_rows(data, config)
    if sentences is not None:
        progress(f"{len(sentences.texts)} sentences of single-theme paragraphs as extra "
                 f"training rows (weight {sentences.weight})")

    temperature, threshold, cv_metrics = 1.0, 0.3, None
    oof, (featurizer, clf) = _cv_and_final(data, tokens, codebook, config, progress,
                                           final=True, sentences=sentences)
    if oof is not None:
        cv = cv_evaluate(data, tokens, codebook, config, progress, oof=oof)
        temperature, threshold, cv_metrics = cv.temperature, cv.threshold, cv.metrics
        progress("misclassification rates and interval calibration for shares, by level and era")
        cv_metrics["share_rates"] = share_rates(data, cv.proba, themes)
    model = model_from_fitted(featurizer, clf, themes, config)
    model.temperature, model.secondary_threshold = temperature, threshold
    model.training_hashes = np.unique(text_hashes(data.texts))

    card = {
        "name": "policy-nlp theme model",
        "created": started.isoformat(timespec="seconds"),
        "policy_nlp_version": __version__,
        "codebook": codebook.to_dict(),
        "training": config.to_dict(),
        "tokenizer": {"name": tokenizer_name(backend), "backend": backend,
                      "lexicon_sha256": lexicon_sha256()},
        "data": {
            "n_paragraphs": len(data),
            "n_reports": len(set(data.groups)),
            "sha256": data.sha256(),
            "files": data.files,
            "counts": data.counts(),
            "sentence_rows": 0 if sentences is None else len(sentences.texts),
        },
        "metrics": {"cross_validation": cv_metrics},
        "libraries": library_versions(),
    }
    model.card = card
    return model


@dataclass
class TrainRun:
    """What :func:`train_to_dir` made: the model (also written), the data it was trained on,
    the labels' validation report and the training time in seconds."""
    model: ThemeModel
    data: LabeledData
    report: ValidationReport
    seconds: float


def train_to_dir(output, labels, *, paragraphs=None, columns: dict[str, str] | None = None,
                 codebook=None, config: TrainConfig | None = None, prefer: str | None = None,
                 blank: str = "skip", progress: Progress = quiet,
                 checked: Callable[[LabeledData, ValidationReport], None] | None = None
                 ) -> TrainRun:
    """``policy-nlp train``: labels files -> a model directory with its card.

    The output directory is checked before anything is read (:func:`model.check_model_output`),
    the labels are read and validated (:func:`labels.validate_files`: every bad row found, not
    only the first), ``checked(data, report)`` is called with what was found (for the caller to
    show it before the long part), labels with errors are refused (:class:`InputError`), then
    the model is trained (:func:`train`) and saved with its training time in the card.
    ``labels``, ``paragraphs``, ``columns``, ``codebook``, ``prefer`` and ``blank`` are those of
    :func:`labels.validate_files`.
    """
    from .codebook import resolve_codebook
    from .labels import refuse_bad_labels, sources_name, validate_files
    from .model import check_model_output

    config = config or TrainConfig()
    check_model_output(output)
    book = resolve_codebook(codebook)
    data, report = validate_files(labels, paragraphs=paragraphs, columns=columns, codebook=book,
                                  prefer=prefer, blank=blank)
    if checked is not None:
        checked(data, report)
    refuse_bad_labels(report, sources_name(labels))
    started = time.monotonic()
    model = train(data, config=config, codebook=book, progress=progress)
    seconds = time.monotonic() - started
    model.card["training"]["seconds"] = round(seconds, 1)
    model.save(output)
    return TrainRun(model, data, report, seconds)


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("scikit-learn", "numpy", "scipy", "jieba", "rjieba", "opencc"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "unknown"
    out["platform"] = sys.platform
    return out
