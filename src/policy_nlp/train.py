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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import __version__
from .codebook import Codebook, load_codebook
from .errors import InputError
from .evaluate import metrics_report, set_f1
from .features import FeatureSpec, fit_featurizer
from .labels import LabeledData
from .model import ThemeModel, softmax
from .tokenize import lexicon_sha256, tokenize, tokenizer_name


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the model besides the data (recorded in the card)."""

    features: FeatureSpec = field(default_factory=FeatureSpec)
    classifier: str = "linear_svc"  # linear_svc | logistic
    C: float = 1.0
    class_weight: str | None = None
    cv_folds: int = 5
    seed: int = 0
    max_secondary: int = 2
    n_jobs: int = 2  # processes for the cross-validation folds (not a model parameter)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = self.features.to_dict()
        d.pop("n_jobs")
        return d


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def make_classifier(config: TrainConfig):
    if config.classifier == "linear_svc":
        from sklearn.svm import LinearSVC

        return LinearSVC(C=config.C, class_weight=config.class_weight, random_state=config.seed)
    if config.classifier == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=config.C, class_weight=config.class_weight, max_iter=3000)
    raise ValueError(f"unknown classifier {config.classifier!r} (linear_svc, logistic)")


def _fit(texts: list[str], tokens: list[list[str]], y: np.ndarray, config: TrainConfig):
    featurizer, X = fit_featurizer(texts, tokens, config.features)
    clf = make_classifier(config).fit(X, y)
    return featurizer, clf


def _scores(clf, n_themes: int, X) -> np.ndarray:
    """Decision scores in codebook order, shape (n, n_themes); absent classes get -inf-ish."""
    raw = clf.decision_function(X)
    out = np.full((X.shape[0], n_themes), -1e3)
    out[:, clf.classes_] = raw
    return out


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
    """The threshold maximising sample-averaged F1 of predicted vs gold theme sets."""
    best = (0.5, -1.0)
    for t in np.round(np.arange(0.05, 0.61, 0.01), 2):
        pred_sets = [predicted_set(row, float(t), max_secondary) for row in proba]
        f1 = set_f1(pred_sets, gold_sets)
        if f1 > best[1] + 1e-9:
            best = (float(t), f1)
    return best


def predicted_set(row: np.ndarray, threshold: float, max_secondary: int) -> set[int]:
    order = np.argsort(-row, kind="stable")
    chosen = {int(order[0])}
    chosen.update(int(j) for j in order[1 : 1 + max_secondary] if row[j] >= threshold)
    return chosen


def check_trainable(data: LabeledData, codebook: Codebook, cv_folds: int) -> None:
    if len(data) == 0:
        raise InputError("no labeled paragraphs to train on")
    counts = data.counts()
    if len(counts) < 2:
        only = next(iter(counts))
        raise InputError(f"training data has one class only ({only!r}); a classifier needs "
                         "at least two themes")
    n_groups = len(set(data.groups))
    if cv_folds > 1 and n_groups < cv_folds:
        raise InputError(f"cross-validation by report needs at least {cv_folds} reports "
                         f"(groups), the data has {n_groups}; use --cv-folds {max(n_groups, 0)} "
                         "or fewer, or --cv-folds 0 to skip it")


def n_jobs_label(config: TrainConfig) -> str:
    return "1 process" if config.n_jobs == 1 else f"{config.n_jobs} processes"


def _fold_scores(texts, tokens, y, tr, te, n_themes, config) -> np.ndarray:
    featurizer, clf = _fit([texts[i] for i in tr], [tokens[i] for i in tr], y[tr], config)
    return _scores(clf, n_themes, featurizer.transform([texts[i] for i in te]))


def _splits(data: LabeledData, y: np.ndarray, config: TrainConfig) -> list:
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    with warnings.catch_warnings():
        # a rare theme may be missing from a fold's test part; the folds stay valid
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return list(cv.split(np.zeros(len(y)), y, np.array(data.groups)))


def _cv_and_final(data: LabeledData, tokens: list[list[str]], codebook: Codebook,
                  config: TrainConfig, progress: Progress, final: bool):
    """Out-of-fold scores (or None without CV) and, with ``final``, the model fitted on all
    the data: one pool of ``n_jobs`` processes runs the folds and the final fit together."""
    from joblib import Parallel, delayed

    themes = codebook.ids
    y = np.array([themes.index(lbl) for lbl in data.labels])
    splits = _splits(data, y, config) if config.cv_folds > 1 else []
    tasks = [delayed(_fold_scores)(data.texts, tokens, y, tr, te, len(themes), config)
             for tr, te in splits]
    if final:
        tasks.append(delayed(_fit)(data.texts, tokens, y, config))
    if splits:
        progress(f"cross-validation: {config.cv_folds} folds by report"
                 f"{' and the final fit' if final else ''}, {n_jobs_label(config)}")
    results = Parallel(n_jobs=min(config.n_jobs, len(tasks)))(tasks)
    oof = None
    if splits:
        oof = np.zeros((len(y), len(themes)))
        for (_, te), scores in zip(splits, results, strict=False):
            oof[te] = scores
    return oof, (results[-1] if final else None)


def cross_validate(data: LabeledData, tokens: list[list[str]], codebook: Codebook,
                   config: TrainConfig, progress: Progress = _quiet) -> np.ndarray:
    """Out-of-fold decision scores, shape (n, n_themes), from report-grouped folds."""
    oof, _ = _cv_and_final(data, tokens, codebook, config, progress, final=False)
    return oof


def train(data: LabeledData, *, config: TrainConfig | None = None,
          codebook: Codebook | None = None, progress: Progress = _quiet) -> ThemeModel:
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
    tokens = [tokenize(t, backend) for t in data.texts]
    y = np.array([themes.index(lbl) for lbl in data.labels])

    temperature, threshold, cv_metrics = 1.0, 0.3, None
    oof, (featurizer, clf) = _cv_and_final(data, tokens, codebook, config, progress, final=True)
    if oof is not None:
        temperature = fit_temperature(oof, y)
        proba = softmax(oof, temperature)
        gold_sets = [{themes.index(lbl), *(themes.index(s) for s in sec)}
                     for lbl, sec in zip(data.labels, data.secondary, strict=True)]
        threshold, set_f1_score = fit_secondary_threshold(proba, gold_sets, config.max_secondary)
        cv_metrics = metrics_report(
            y_true=data.labels, proba=proba, themes=themes, levels=data.levels,
        )
        cv_metrics["secondary"] = {"threshold": threshold, "sample_f1_of_theme_sets":
                                   round(set_f1_score, 4)}
        cv_metrics["folds"] = config.cv_folds
        cv_metrics["grouped_by"] = "report"
        progress(f"cross-validation by report: accuracy {cv_metrics['accuracy']:.4f}, "
                 f"macro-F1 {cv_metrics['macro_f1']:.4f}")
    coef = np.zeros((len(themes), featurizer.n_features), dtype=np.float32)
    intercept = np.full(len(themes), -1e3)
    coef_raw = np.atleast_2d(clf.coef_)
    inter_raw = np.atleast_1d(clf.intercept_)
    if len(clf.classes_) == 2 and coef_raw.shape[0] == 1:  # binary: one score for class 1
        coef_raw = np.vstack([-coef_raw / 2, coef_raw / 2])
        inter_raw = np.array([-inter_raw[0] / 2, inter_raw[0] / 2])
    coef[clf.classes_] = coef_raw
    intercept[clf.classes_] = inter_raw

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
        },
        "metrics": {"cross_validation": cv_metrics},
        "libraries": library_versions(),
    }
    return ThemeModel(themes=themes, featurizer=featurizer, coef=coef, intercept=intercept,
                      temperature=temperature, secondary_threshold=threshold,
                      max_secondary=config.max_secondary, card=card)


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("scikit-learn", "numpy", "scipy", "jieba", "rjieba"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "unknown"
    out["platform"] = sys.platform
    return out
