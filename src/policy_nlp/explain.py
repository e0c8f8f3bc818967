"""Evidence: which terms made the model choose a theme, read from its own weights.

The model is linear: the score of theme *k* for a text is ``intercept[k] + sum_j x_j * coef[k, j]``
over the text's TF-IDF features *j*, and its probability a softmax of the scores. So the
contribution of a term to a theme is exactly its TF-IDF weight in the text times the theme's
coefficient for it, and the contributions and the intercept add up to the score.

:func:`explain_text` lists the terms that contributed most to one theme for one text;
:func:`top_terms` lists the terms with the largest coefficients of a theme, whatever the text.
A term is a character n-gram (``kind="char"``) or a word n-gram (``kind="word"``, words joined
by a space) of :mod:`policy_nlp.features`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import softmax

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook
    from .model import ThemeModel

__all__ = ["Contribution", "Explanation", "Term", "explain_text", "feature_term", "readable_term",
           "top_terms"]


@dataclass(frozen=True)
class Term:
    """A feature of the model and a theme's coefficient for it.

    Attributes
    ----------
    term : str
        The n-gram (word n-grams are words joined by a space).
    kind : str
        ``"char"`` or ``"word"``: the feature block it belongs to.
    weight : float
        The theme's coefficient for it.
    """

    term: str
    kind: str
    weight: float

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        return {k: round(v, digits) if isinstance(v, float) else v
                for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Contribution(Term):
    """A term's part in a theme's score for one text.

    Attributes
    ----------
    tfidf : float
        The term's TF-IDF weight in the text.
    contribution : float
        ``tfidf * weight``: what it adds to the theme's score.
    """

    tfidf: float
    contribution: float


@dataclass(frozen=True)
class Explanation:
    """Why a text got a theme: its score, split into the intercept and the terms.

    Attributes
    ----------
    theme : str
        The theme explained (the predicted one unless another was asked for).
    probability : float
        Its calibrated probability.
    score : float
        Its linear score: ``intercept`` plus the contributions of all the text's terms.
    intercept : float
    terms : list of Contribution
        The terms that contributed most, largest first.
    """

    theme: str
    probability: float
    score: float
    intercept: float
    terms: list[Contribution]

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        return {"theme": self.theme, "probability": round(self.probability, digits),
                "score": round(self.score, digits), "intercept": round(self.intercept, digits),
                "terms": [c.to_dict(digits) for c in self.terms]}


def feature_term(model: ThemeModel, column: int) -> tuple[str, str]:
    """The (kind, term) of a feature column of the model."""
    feats = model.featurizer
    block = int(np.searchsorted(feats.offsets, column, side="right")) - 1
    b = feats.blocks[block]
    return b.kind, b.terms[column - int(feats.offsets[block])]


def readable_term(term: str) -> bool:
    """Whether a reader can make sense of a term alone: two characters or more (a single
    character is a piece of many words) with a letter, digit or Chinese character among them
    (not only punctuation)."""
    surface = term.replace(" ", "")
    return len(surface) >= 2 and any(c.isalnum() for c in surface)


def _readable_first(pairs, n: int) -> list[tuple[int, str, str]]:
    """The first ``n`` of (column, kind, term) in the given order that a reader understands,
    each text once: a character n-gram and a word with the same characters are one term to a
    reader, listed where the stronger of the two ranks, with its kind."""
    out, seen = [], set()
    for j, kind, term in pairs:
        if len(out) >= n:
            break
        surface = term.replace(" ", "")
        if surface in seen or not readable_term(term):
            continue
        seen.add(surface)
        out.append((j, kind, term))
    return out


def _theme_index(model: ThemeModel, theme: str) -> int:
    try:
        return model.themes.index(theme)
    except ValueError:
        from .errors import InputError

        raise InputError(f"unknown theme {theme!r}; the model's themes are "
                         f"{', '.join(model.themes)}") from None


def explain_text(model: ThemeModel, text: str, *, theme: str | None = None,
                 top: int = 10, readable: bool = True) -> Explanation:
    """The terms of ``text`` that contributed most to a theme's score.

    Parameters
    ----------
    model : ThemeModel
    text : str
    theme : str, optional
        The theme to explain; by default the predicted one.
    top : int
        How many terms to list (those with the largest positive contributions).
    readable : bool
        Leave out single characters and punctuation (:func:`readable_term`), and list a text
        once when it is both a character n-gram and a word; ``False`` lists the terms as
        they are.

    Examples
    --------
    >>> from policy_nlp.model import load_model
    >>> e = explain_text(load_model(), "推进碳达峰碳中和。", top=3)
    >>> e.theme, len(e.terms), e.terms[0].contribution >= e.terms[1].contribution
    ('environment', 3, True)
    """
    from .errors import InputError
    from .text import has_content

    if not has_content(text):
        raise InputError("the text is empty or only punctuation: nothing to explain")
    cols, vals = model.featurizer.transform_one(text)
    weights = model.coef[:, cols].astype(np.float64)  # (n_themes, n_terms)
    contrib = weights * vals
    scores = contrib.sum(axis=1) + model.intercept  # = model.decision_function([text])[0]
    proba = softmax(scores[None, :], model.temperature)[0]
    k = int(np.argmax(proba)) if theme is None else _theme_index(model, theme)
    order = [int(j) for j in np.argsort(-contrib[k], kind="stable") if contrib[k, j] > 0]
    ranked = ((j, *feature_term(model, int(cols[j]))) for j in order)
    chosen = _readable_first(ranked, top) if readable else list(ranked)[:top]
    terms = [Contribution(term, kind, float(weights[k, j]), float(vals[j]), float(contrib[k, j]))
             for j, kind, term in chosen]
    return Explanation(model.themes[k], float(proba[k]), float(scores[k]),
                       float(model.intercept[k]), terms)


def top_terms(model: ThemeModel, theme: str, n: int = 20, *,
              readable: bool = True) -> list[Term]:
    """The ``n`` terms with the largest coefficients for ``theme``: its strongest evidence
    (with ``readable``, as in :func:`explain_text`, the terms a reader understands alone)."""
    k = _theme_index(model, theme)
    row = model.coef[k]
    order = np.argsort(-row, kind="stable")
    ranked = ((int(j), *feature_term(model, int(j))) for j in order)
    chosen = _readable_first(ranked, n) if readable else [next(ranked) for _ in
                                                          range(min(n, row.shape[0]))]
    return [Term(term, kind, float(row[j])) for j, kind, term in chosen]


def top_themes(model: ThemeModel, text: str, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable themes of ``text`` with their probabilities, best first."""
    proba = model.predict_proba([text])[0]
    return sorted(zip(model.themes, (float(p) for p in proba), strict=True),
                  key=lambda tp: -tp[1])[:k]


def explain_paragraph(model: ThemeModel, text: str, *, theme: str | None = None,
                      top: int = 10, rivals: int = 3
                      ) -> tuple[Explanation, list[tuple[str, float]]]:
    """``policy-nlp explain``: the :func:`explain_text` of a pasted ``text`` (lone surrogates,
    which a terminal can pass, replaced) and its ``rivals`` most probable themes
    (:func:`top_themes`)."""
    from .errors import ArgumentError
    from .text import without_surrogates

    if top < 1:
        raise ArgumentError("top", f"must be at least 1, not {top}")
    text = without_surrogates(text)
    return explain_text(model, text, theme=theme, top=top), top_themes(model, text, rivals)


def theme_entries(model: ThemeModel, codebook: Codebook, themes: Sequence[str] | None = None,
                  *, top: int = 0) -> list[dict[str, Any]]:
    """The model's ``themes`` (default: all) as the codebook names them (``id``, ``group``,
    ``zh``, ``en``), with each one's ``top`` strongest terms (``top_terms``, see
    :func:`top_terms`) when ``top`` is above 0 (``policy-nlp themes``)."""
    from .errors import ArgumentError

    if top < 0:
        raise ArgumentError("top", f"must be 0 or more, not {top}")
    chosen = list(themes or model.themes)
    for t in chosen:
        _theme_index(model, t)  # an unknown theme: the same message as everywhere
    out = []
    for t in chosen:
        th = codebook.theme(t)
        entry: dict[str, Any] = {"id": t, "group": th.group, "zh": th.zh, "en": th.en}
        if top:
            entry["top_terms"] = [x.to_dict() for x in top_terms(model, t, top)]
        out.append(entry)
    return out
