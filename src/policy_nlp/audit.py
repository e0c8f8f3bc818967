"""Label audit: out-of-fold probabilities flag training paragraphs whose label looks wrong.

Each labeled paragraph is scored by a model that never saw its report (report-grouped
cross-validation). A label is suspect when that model gives it a low probability and puts
another theme well ahead of it; the *margin* ``p(suggested) - p(given)`` orders the review
sheet, most suspect first (the "confident learning" idea of cleanlab, in its simplest form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .codebook import Codebook, load_codebook
from .labels import LabeledData
from .model import softmax
from .train import (
    Progress,
    TrainConfig,
    quiet,
    check_trainable,
    cross_validate,
    fit_temperature,
    tokenize_all,
)


@dataclass
class AuditRow:
    id: str
    text: str
    given: str
    suggested: str
    margin: float
    p_given: float
    p_suggested: float
    secondary: list[str]
    report_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "report_id": self.report_id, "given": self.given,
            "suggested": self.suggested, "margin": round(self.margin, 4),
            "p_given": round(self.p_given, 4), "p_suggested": round(self.p_suggested, 4),
            "given_secondary": ";".join(self.secondary), "text": self.text,
            "verdict": "",
        }


def audit_labels(data: LabeledData, *, config: TrainConfig | None = None,
                 codebook: Codebook | None = None, progress: Progress = quiet
                 ) -> list[AuditRow]:
    """All paragraphs whose out-of-fold prediction disagrees with the label, most suspect first.

    ``margin`` is the out-of-fold probability of the suggested theme minus that of the given
    label; paragraphs where the two agree are not listed.
    """
    config = config or TrainConfig()
    codebook = codebook or load_codebook()
    check_trainable(data, codebook, max(config.cv_folds, 2))
    themes = codebook.ids
    progress(f"tokenizing {len(data)} paragraphs")
    tokens = tokenize_all(data.texts, config)
    oof = cross_validate(data, tokens, codebook, config, progress)
    y = np.array([themes.index(lbl) for lbl in data.labels])
    proba = softmax(oof, fit_temperature(oof, y))
    rows = []
    for i, row in enumerate(proba):
        best = int(row.argmax())
        if best == y[i]:
            continue
        rows.append(AuditRow(
            id=data.ids[i], text=data.texts[i], given=data.labels[i], suggested=themes[best],
            margin=float(row[best] - row[y[i]]), p_given=float(row[y[i]]),
            p_suggested=float(row[best]), secondary=data.secondary[i],
            report_id=data.groups[i],
        ))
    rows.sort(key=lambda r: (-r.margin, r.id))
    return rows
