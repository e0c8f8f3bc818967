"""The Python API for notebooks: a model whose answers are pandas DataFrames.

::

    from policy_nlp import load_model

    model = load_model()                               # the shipped default model
    model.predict(["推进碳达峰碳中和。"])               # one row per text
    model.classify_report("report.txt")                # one row per paragraph
    model.profile(["reports/", "more.jsonl"])          # one row per report: the panel
    model.profile(reports_df)                          # or a DataFrame of reports

A text with nothing to classify (empty, or only punctuation) raises
:class:`~policy_nlp.errors.InputError`, as the command line refuses it; an empty list gives an
empty frame with the usual columns. A problem that loses nothing (a file name that does not
match ``name_pattern``, a duplicated id) does not stop :meth:`Model.profile` or
:meth:`Model.classify_report`: each is collected, listed in the frame's ``attrs["problems"]``
and announced by one :class:`ReadWarning` (a :class:`UserWarning`), as the command line
reports it (``kept: …``) and goes on.
:class:`Model` is a facade over :class:`~policy_nlp.model.ThemeModel` (``model.theme_model``),
which stays as it is for the code that uses it; each method here is a few lines over the
plain functions of the package (read, predict, aggregate, explain).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .aggregate import long_panel, profile_documents
from .codebook import Codebook, model_codebook
from .errors import InputError, InputWarning
from .explain import explain_text, top_terms
from .model import ThemeModel
from .model import load_model as _load_theme_model
from .predict import Unit, iter_units, label_sentences, label_units
from .read import Document, has_content, iter_documents, normalize_text

__all__ = ["Model", "ReadWarning", "load_model"]


class ReadWarning(UserWarning):
    """Some inputs had a problem that loses nothing (kept, as the command line's ``kept: …``)."""


class _KeepAndWarn:
    """The notebook's policy for problems found while reading: an :class:`InputWarning` is
    collected and the input kept; any other :class:`InputError` is raised."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, problem: InputError) -> None:
        if not isinstance(problem, InputWarning):
            raise problem
        self.problems.append(str(problem))

    def finish(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Attach the problems to ``frame`` and announce them in one warning."""
        if self.problems:
            frame.attrs["problems"] = list(self.problems)
            shown = "; ".join(self.problems[:3])
            more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
            warnings.warn(f"kept {len(self.problems)} input(s) with a problem: {shown}{more}; "
                          "all are in the result's attrs['problems']", ReadWarning,
                          stacklevel=3)
        return frame


def load_model(directory: str | Path | None = None) -> Model:
    """Load a model directory (``None``: the shipped default model) for use in a notebook."""
    return Model(_load_theme_model(directory))


class Model:
    """A theme model whose methods return pandas DataFrames.

    Parameters
    ----------
    theme_model : ThemeModel
        The model (:func:`policy_nlp.model.load_model`).

    Attributes
    ----------
    theme_model : ThemeModel
    codebook : Codebook
        Its themes with their groups and names.
    """

    def __init__(self, theme_model: ThemeModel):
        self.theme_model = theme_model
        self.codebook: Codebook = model_codebook(theme_model.card, theme_model.themes)

    @property
    def themes(self) -> list[str]:
        return list(self.theme_model.themes)

    def __repr__(self) -> str:
        return (f"<policy_nlp Model: {len(self.themes)} themes, "
                f"{self.theme_model.featurizer.n_features:,} features>")

    # -- paragraphs -------------------------------------------------------------------------------
    def predict(self, texts: Iterable[str] | pd.Series | pd.DataFrame, *,
                unit: str = "paragraph", text_col: str = "text") -> pd.DataFrame:
        """Label texts: one row per text with ``label``, ``score``, ``secondary``, ``top`` and a
        ``score_<theme>`` column per theme; with ``unit="sentence"`` also ``themes`` (each
        theme's share of the text, from its sentences) and ``sentences``.

        ``texts`` is a list of strings (the result has a ``text`` column), or a Series, or a
        DataFrame whose ``text_col`` holds the texts: then the result is indexed like the input
        and has no ``text`` column, so that ``df.join(model.predict(df))`` adds the labels.
        """
        if isinstance(texts, str):
            raise TypeError("predict expects a list of texts, not one string: "
                            "model.predict([text])")
        if isinstance(texts, pd.DataFrame):
            if text_col not in texts.columns:
                raise InputError(f"the DataFrame has no text column {text_col!r}; columns: "
                                 f"{', '.join(map(str, texts.columns))} (name it with "
                                 f"text_col=...)")
            texts = texts[text_col]
        index = texts.index if isinstance(texts, pd.Series) else None
        texts = list(texts)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            where = index[bad] if index is not None else bad
            raise InputError(f"text {where!r} is not a string but {type(texts[bad]).__name__}")
        empty = next((i for i, t in enumerate(texts) if not has_content(t)), None)
        if empty is not None:
            where = index[empty] if index is not None else empty
            raise InputError(f"text {where!r} is empty or only punctuation: nothing to classify")
        units = [Unit(id=str(i), text=t) for i, t in enumerate(texts)]
        records = self._label(units, unit)
        frame = _frame(records, self._columns(unit)).drop(columns="id")
        if index is not None:
            frame = frame.drop(columns="text")
            frame.index = index
        return frame

    def explain(self, text: str, *, theme: str | None = None, top: int = 10) -> pd.DataFrame:
        """The terms that contributed most to ``text``'s theme (or ``theme``): one row per term,
        with ``term``, ``kind``, ``weight`` (the model's coefficient), ``tfidf`` and
        ``contribution`` (their product); the frame's ``attrs`` hold the theme, its
        probability, score and intercept.
        """
        found = explain_text(self.theme_model, text, theme=theme, top=top)
        frame = pd.DataFrame([c.to_dict(digits=6) for c in found.terms],
                             columns=["term", "kind", "weight", "tfidf", "contribution"])
        frame.attrs.update({k: v for k, v in found.to_dict(digits=6).items() if k != "terms"})
        return frame

    def top_terms(self, n: int = 20, *, themes: Iterable[str] | None = None) -> pd.DataFrame:
        """Each theme's ``n`` strongest terms (largest weights): ``theme``, ``rank``, ``term``,
        ``kind``, ``weight``.
        """
        rows = [{"theme": t, "rank": r, **x.to_dict(digits=6)}
                for t in (themes or self.themes)
                for r, x in enumerate(top_terms(self.theme_model, t, n), 1)]
        return pd.DataFrame(rows, columns=["theme", "rank", "term", "kind", "weight"])

    # -- reports ----------------------------------------------------------------------------------
    def classify_report(self, path: str | Path, *, unit: str = "paragraph",
                        text_col: str = "text", id_col: str = "id") -> pd.DataFrame:
        """Every paragraph of one report file: one row per paragraph, as ``classify`` prints."""
        policy = _KeepAndWarn()
        docs = iter_documents([path], text_col=text_col, id_col=id_col, on_error=policy)
        units = list(iter_units(docs, records="reports"))
        if not units:
            raise InputError(f"{path}: no paragraphs found")
        return policy.finish(_frame(self._label(units, unit), self._columns(unit)))

    def profile(self, reports: str | Path | Iterable[str | Path] | pd.DataFrame, *,
                unit: str = "paragraph", long: bool = False, name_pattern: str | None = None,
                records: str = "auto", text_col: str = "text", id_col: str = "id",
                estimator: str = "cc", ci: float | None = None,
                by: list[str] | None = None) -> pd.DataFrame:
        """The panel of some reports: one row per report (see :mod:`policy_nlp.aggregate`).

        Parameters
        ----------
        reports : path, list of paths, or DataFrame
            Report files, directories, CSV/JSONL files (as ``policy-nlp profile`` reads them),
            or a DataFrame with one report per row: a ``text_col`` column, an ``id_col``
            column (else the index is the id) and metadata columns (level, region, year …).
        unit : {"paragraph", "sentence"}
            Attribute whole paragraphs, or each sentence, to themes.
        long : bool
            The tidy form: one row per report and theme (then group).
        name_pattern : str, optional
            Metadata from file names, e.g. ``"{region}_{year}.txt"``.
        records : {"auto", "reports", "paragraphs"}
            How CSV/JSONL records are read (as in ``label``).
        estimator, ci, by
            As ``policy-nlp profile --estimator/--ci/--by`` (see
            :func:`policy_nlp.aggregate.profile_estimated`).

        A file name that does not match ``name_pattern``, or a duplicated id, does not stop
        it: the report is kept (with the metadata its text states), the problem listed in
        the frame's ``attrs["problems"]`` and announced by a :class:`ReadWarning`.
        """
        policy = _KeepAndWarn()
        if isinstance(reports, pd.DataFrame):
            docs: Iterable[Document] = _documents_of_frame(reports, text_col, id_col)
        else:
            docs = iter_documents(reports, text_col=text_col, id_col=id_col, on_error=policy)
        rows = profile_documents(self.theme_model, docs, unit=unit, records=records,
                                 name_pattern=name_pattern, estimator=estimator, ci=ci, by=by,
                                 on_error=policy)
        if long:
            rows = long_panel(rows, self.codebook, themes=self.themes)
        frame = pd.DataFrame(rows)
        if "year" in frame and frame["year"].notna().any():
            frame["year"] = pd.to_numeric(frame["year"], errors="coerce").astype("Int64")
        return policy.finish(frame)

    def _columns(self, unit: str) -> list[str]:
        """The columns of :meth:`predict`'s frame (before ``id`` is dropped), in order."""
        fields = ["id", "text", "label", "score", "secondary", "top"]
        if self.theme_model.theme_groups:
            fields.append("group")
        if unit == "sentence":
            fields += ["themes", "sentences"]
        return fields + [f"score_{t}" for t in self.themes]

    def _label(self, units: list[Unit], unit: str) -> Iterator[dict[str, Any]]:
        if unit == "sentence":
            return label_sentences(self.theme_model, units)
        if unit != "paragraph":
            raise ValueError(f"unit must be 'paragraph' or 'sentence', not {unit!r}")
        return label_units(self.theme_model, units)


def _frame(records: Iterable[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Labeled records as a DataFrame: ``scores`` spread into ``score_<theme>`` columns; no
    records give an empty frame with ``columns``."""
    themes = [c.removeprefix("score_") for c in columns if c.startswith("score_")]
    rows = []
    for rec in records:
        row = {k: v for k, v in rec.items() if k != "scores"}
        row.update({f"score_{t}": rec["scores"][t] for t in themes})
        rows.append(row)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=float if c.startswith("score") else object)
                             for c in columns})
    return pd.DataFrame(rows)


def _documents_of_frame(frame: pd.DataFrame, text_col: str, id_col: str) -> Iterator[Document]:
    """One record :class:`Document` per row of a DataFrame of reports."""
    if text_col not in frame.columns:
        raise InputError(f"the DataFrame has no text column {text_col!r}; columns: "
                         f"{', '.join(map(str, frame.columns))}")
    for index, row in zip(frame.index, frame.to_dict("records"), strict=True):
        text = row.pop(text_col)
        if not isinstance(text, str):
            raise InputError(f"row {index!r}: the {text_col!r} value is not a string")
        rid = row.pop(id_col, None)
        meta = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in row.items()}
        yield Document(id=str(index if rid is None else rid), text=normalize_text(text),
                       source=f"<DataFrame>:row {index}", meta=meta, kind="record")
