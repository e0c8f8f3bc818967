"""The ``profile`` workflow: inputs -> labeled paragraphs -> one row per report -> a panel file,
with its shares corrected by a coded validation sample when one is given.

The steps are :func:`policy_nlp.aggregate.iter_labeled` and
:func:`~policy_nlp.aggregate.profile_estimated` (the data flow's aggregate step, whose name says
what it does to paragraphs), the share estimators of :mod:`policy_nlp.shares` and the
corrections of :mod:`policy_nlp.validation`; this module runs them in order and checks every
argument and output before the work starts, so that a bad name or a missing writer stops the
run at once rather than after the whole corpus is labeled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ArgumentError, InputError


@dataclass
class ProfileResult:
    """What a run of :func:`profile_to_file` wrote."""

    reports: int
    paragraphs: int
    #: the rows for groups of reports (``by``), after the reports' own
    groups: int = 0
    #: the corrected shares' file, the coded sheet and the model's scores on it (validation)
    corrected: str | None = None
    sheet: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)


def corrected_path(output: str, corrected: str | None) -> str:
    """Where the shares corrected by a validation sample go: ``corrected``, or the panel's
    name with ``.validated`` before its extension."""
    if corrected is None and output == "-":
        raise ArgumentError("corrected", "FILE is needed for the corrected shares of "
                                         "validation when the panel goes to standard output")
    corrected = corrected or str(Path(output).with_suffix(".validated" + Path(output).suffix))
    if output != "-" and Path(corrected).resolve() == Path(output).resolve():
        raise ArgumentError("corrected", f"{corrected} is the panel's own output; name "
                                         "another file")
    return corrected


def profile_to_file(inputs: Sequence[str], output: str, *, model: Any = None,
                    unit: str = "paragraph", long: bool = False, name_pattern: str | None = None,
                    records: str = "auto", text_col: str = "text", id_col: str = "id",
                    on_error: Any = None, validation: str | Path | None = None,
                    corrected: str | None = None, estimator: str | None = None,
                    ci: float | None = None, by: Sequence[str] | None = None,
                    fmt: str | None = None, progress: Callable[[int], None] | None = None) -> ProfileResult:
    """Profile ``inputs`` into the panel ``output`` (``.csv``, ``.parquet``, ``.jsonl``,
    ``.dta``, or ``fmt``; ``-``: CSV or JSONL on standard output), one row per report (``long``: per report and
    theme). ``model`` is a loaded model, or a directory or shipped model's name to load once the
    outputs are checked. With ``validation`` (a coded sheet of ``validation-sample``), the
    shares of all reports and of each level corrected by it go to ``corrected``, with
    intervals at the level ``ci`` (95% without it)."""
    from .aggregate import check_by_names, iter_labeled, long_panel, profile_estimated
    from .codebook import resolve_codebook
    from .model import ThemeModel, load_model
    from .read import iter_documents
    from .shares import DEFAULT_ESTIMATOR, ShareRates, check_estimator
    from .write import check_output_file, check_panel_writer, panel_format, write_panel

    fmt = panel_format(output, fmt)
    if by:
        check_by_names(list(by))
    check_panel_writer(output, fmt)
    read_too = [*inputs, validation]  # an output must not replace what the run reads
    check_output_file(output, read_too)
    if validation is not None:
        corrected = corrected_path(output, corrected)
        check_panel_writer(corrected, panel_format(corrected))
        check_output_file(corrected, read_too)
    m = model if isinstance(model, ThemeModel) else load_model(model)
    book = resolve_codebook(model=m)
    population = None
    if validation is not None:
        from .validation import Population, read_coded_sheet

        read_coded_sheet(validation, m.themes, codebook=book)  # a bad sheet stops here
        population = Population(list(m.themes), unit=unit)
    rates = ShareRates.from_card(m.card, m.themes)
    estimator = estimator or DEFAULT_ESTIMATOR
    check_estimator(estimator, rates)
    n = 0

    def counted():
        nonlocal n
        docs = iter_documents(inputs, text_col=text_col, id_col=id_col, on_error=on_error)
        for rec in iter_labeled(m, docs, unit=unit, records=records, name_pattern=name_pattern,
                                on_error=on_error,
                                sentence_scores=estimator != "cc" or ci is not None):
            n += 1
            if progress is not None:
                progress(1)
            yield rec

    labeled = counted() if population is None else population.collect(counted())
    rows = profile_estimated(labeled, book, themes=m.themes, unit=unit, estimator=estimator,
                             ci=ci, rates=rates, by=list(by) if by else None)
    if not rows:
        skipped = getattr(on_error, "skipped", 0)
        raise InputError("no paragraphs found in the inputs"
                         + (f" (every input was skipped: {skipped})" if skipped else ""))
    groups = sum(1 for row in rows if row.get("by"))
    result = ProfileResult(reports=len(rows) - groups, paragraphs=n, groups=groups)
    if population is not None:
        from .validation import validate_profile

        shares, result.metrics, result.sheet = validate_profile(
            population, validation, themes_zh={t.id: t.zh for t in book.themes}, codebook=book,
            confidence=0.95 if ci is None else ci)  # the panel's level, where --ci gives one
    write_panel(long_panel(rows, book, themes=m.themes) if long else rows, output, fmt,
                codebook=book)
    if population is not None:
        write_panel(shares, corrected, codebook=book)
        result.corrected = corrected
    return result
