"""Label audit: out-of-fold probabilities flag training paragraphs whose label looks wrong.

Each labeled paragraph is scored by a model that never saw its report (report-grouped
cross-validation). A label is suspect when that model gives it a low probability and puts
another theme well ahead of it; the *margin* ``p(suggested) - p(given)`` orders the review
sheet, most suspect first (the "confident learning" idea of cleanlab, in its simplest form).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class AuditResult:
    """What :func:`audit_to_file` wrote: ``written`` suspect labels of the ``data`` audited
    (its ``blank`` rows skipped)."""

    written: int
    data: LabeledData


def audit_to_file(labels, output: str, *, fmt: str | None = None,
                  paragraphs: str | Path | None = None, columns: dict[str, str] | None = None,
                  prefer: str | None = None, blank: str = "skip",
                  codebook: str | Path | None = None, top: int = 0, cv_folds: int = 5,
                  min_df: int | None = None, n_jobs: int = 2, progress: Progress = quiet
                  ) -> AuditResult:
    """``policy-nlp audit``: read the ``labels`` files (coded with ``codebook``, a TOML file;
    default: the shipped one), :func:`audit_labels` them with ``cv_folds`` report-grouped
    folds (at least 2) and write the ``top`` most suspect (0: all) to ``output`` as CSV (with
    a byte-order mark) or JSONL (``fmt``, else by the extension), atomically; the output is
    checked before any work."""
    from .codebook import resolve_codebook
    from .errors import ArgumentError
    from .features import FeatureSpec
    from .labels import load_labels
    from .write import check_output_file, format_for_path, write_table

    if top < 0:
        raise ArgumentError("top", f"must be 0 (all) or more, not {top}")
    if cv_folds < 2:  # 0 and 1 silently became 2
        raise ArgumentError("cv_folds", f"must be at least 2 (each paragraph is scored by a "
                                        f"model trained without its report), not {cv_folds}")
    sources = labels if isinstance(labels, (list, tuple)) else [labels]
    fmt = format_for_path(output, "csv", given=fmt)
    check_output_file(output, [*sources, paragraphs])
    spec = FeatureSpec() if min_df is None else FeatureSpec(min_df=min_df)
    config = TrainConfig(features=spec, cv_folds=cv_folds, n_jobs=n_jobs)
    book = resolve_codebook(codebook)
    data = load_labels(sources, paragraphs=paragraphs, columns=columns, codebook=book,
                       prefer=prefer, blank=blank)
    rows = audit_labels(data, config=config, codebook=book, progress=progress)
    if top:
        rows = rows[:top]
    written = write_table((r.to_dict() for r in rows), output, fmt, sheet=True)
    return AuditResult(written=written, data=data)
