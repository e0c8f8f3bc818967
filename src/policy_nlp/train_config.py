"""The training configuration (:class:`TrainConfig`), apart from the training workflow
(:mod:`policy_nlp.train`) so that the command line can show its defaults as the defaults of
``train``'s and ``audit``'s flags without importing the workflow: ``classify`` does not load
what it does not use (the labels readers, the splitter of folds, scikit-learn's wrappers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ArgumentError
from .features import FeatureSpec
from .metrics import check_seed


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the model besides the data (recorded in the card)."""

    features: FeatureSpec = field(default_factory=FeatureSpec)
    classifier: str = "linear_svc"  # linear_svc | logistic
    C: float = 0.5
    class_weight: str | None = None
    cv_folds: int = 5
    seed: int = 0
    max_secondary: int = 2
    # the sentences of single-theme paragraphs as extra training rows of this weight
    # (0: none); see :func:`sentence_rows`
    sentence_weight: float = 0.1
    # each era's training rows weighed by (n / (eras * n_era)) ** era_balance (0: no era
    # weights; 1: every era the same total weight); see :func:`era_weights`
    era_balance: float = 0.5
    n_jobs: int = 2  # processes for the cross-validation folds (not a model parameter)

    def __post_init__(self) -> None:
        import math

        if self.cv_folds == 1 or self.cv_folds < 0:
            raise ArgumentError("cv_folds", f"must be 0 (no cross-validation) or at least 2, "
                                            f"not {self.cv_folds}")
        for name in ("sentence_weight", "era_balance"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ArgumentError(name, f"must be 0 or more, not {value}")
        if not (isinstance(self.C, int | float) and math.isfinite(self.C) and self.C > 0):
            raise ArgumentError("C", f"must be more than 0, not {self.C}")
        check_seed(self.seed)
        if self.features.min_df < 1:  # 0 and -1 kept every n-gram, as 1 does, unseen
            raise ArgumentError("min_df", f"must be at least 1, not {self.features.min_df}")
        if self.n_jobs < 1:
            raise ArgumentError("n_jobs", f"must be at least 1, not {self.n_jobs}")
        if self.classifier not in ("linear_svc", "logistic"):
            raise ArgumentError("classifier", f"must be linear_svc or logistic, not "
                                              f"{self.classifier!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = self.features.to_dict()
        d.pop("n_jobs")
        return d

    @classmethod
    def from_card(cls, card: dict[str, Any], **overrides: Any) -> TrainConfig:
        """The configuration a model was trained with, as recorded in its card."""
        recorded = dict(card.get("training", {}))
        known = {f for f in cls.__dataclass_fields__ if f != "features"}
        kwargs = {k: v for k, v in recorded.items() if k in known}
        if recorded:  # a card from before the sentence rows (era weights): without them
            kwargs.setdefault("sentence_weight", 0.0)
            kwargs.setdefault("era_balance", 0.0)
        kwargs["features"] = FeatureSpec.from_dict(card.get("features") or
                                                   recorded.get("features") or {})
        kwargs.update(overrides)
        return cls(**kwargs)
