"""Codebooks as data: theme ids, names and groups.

The default codebook (``data/codebook.toml``) transcribes ``../shared/codebook.md``. Its theme
ids are a contract: the model, its outputs and every file use them verbatim.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import InputError


@dataclass(frozen=True)
class Theme:
    id: str
    group: str
    zh: str
    en: str
    description: str = ""


@dataclass(frozen=True)
class Codebook:
    name: str
    themes: tuple[Theme, ...]
    groups: dict[str, dict[str, str]]

    def __post_init__(self) -> None:
        # by id, for lookups in constant time (a codebook may have many themes)
        object.__setattr__(self, "_by_id", {t.id: t for t in self.themes})

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def __contains__(self, theme_id: object) -> bool:
        """Whether the codebook has a theme of this id."""
        return theme_id in self._by_id

    def theme(self, theme_id: str) -> Theme:
        return self._by_id[theme_id]

    def listed(self, limit: int = 30) -> str:
        """The theme ids for a message: all of them, or the first ``limit`` and how many more."""
        ids = [t.id for t in self.themes[:limit]]
        more = len(self.themes) - len(ids)
        return ", ".join(ids) + (f", … ({more:,} more)" if more > 0 else "")

    def group_of(self, theme_id: str) -> str:
        return self.theme(theme_id).group

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "groups": [{"id": k, **v} for k, v in self.groups.items()],
            "themes": [t.__dict__ for t in self.themes],
        }

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "codebook") -> Codebook:
        try:
            groups = {g["id"]: {k: v for k, v in g.items() if k != "id"} for g in data["groups"]}
            themes = tuple(
                Theme(
                    id=t["id"],
                    group=t["group"],
                    zh=t.get("zh", ""),
                    en=t.get("en", ""),
                    description=t.get("description", ""),
                )
                for t in data["themes"]
            )
        except (KeyError, TypeError) as exc:
            raise InputError(f"{source}: malformed codebook, missing field {exc}") from None
        ids = [t.id for t in themes]
        if len(set(ids)) != len(ids):
            raise InputError(f"{source}: duplicate theme ids in codebook")
        unknown = sorted({t.group for t in themes} - set(groups))
        if unknown:
            raise InputError(f"{source}: themes name unknown groups {unknown}")
        if len(themes) < 2:
            raise InputError(f"{source}: a codebook needs at least two themes")
        return cls(name=str(data.get("name", source)), themes=themes, groups=groups)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load a codebook TOML file; ``None`` gives the default 17-theme codebook."""
    if path is None:
        text = resources.files("policy_nlp").joinpath("data/codebook.toml").read_text("utf-8")
        source = "default codebook"
    else:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise InputError(f"{p}: cannot read codebook ({exc.strerror})") from None
        source = str(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc})") from None
    return Codebook.from_dict(data, source=source)


DEFAULT_THEMES: tuple[str, ...] = tuple(load_codebook().ids)


def model_codebook(card: dict, themes: list[str]) -> Codebook:
    """The codebook a model was trained with, from its card (``card["codebook"]``).

    A card without one (a model made by hand) gets the default codebook if that holds the
    model's themes, else a codebook of the model's themes, each its own group.
    """
    if "codebook" in card:
        book = Codebook.from_dict(card["codebook"], source="model card")
        if set(themes) <= set(book.ids):
            return book
    book = load_codebook()
    if set(themes) <= set(book.ids):
        return book
    return Codebook(name="model themes",
                    themes=tuple(Theme(id=t, group=t, zh=t, en=t) for t in themes),
                    groups={t: {"zh": t, "en": t} for t in themes})


def resolve_codebook(path: str | Path | None = None, *, model: Any = None) -> Codebook:
    """The codebook a command works with, found the same way by every command: the codebook
    file ``path`` if given, else the codebook of ``model`` (anything with ``card`` and
    ``themes``, see :func:`model_codebook`) if given, else the default codebook.

    Raises
    ------
    InputError
        Both a path and a model are given (they could disagree: an
        :class:`~policy_nlp.errors.ArgumentError`), or the file is not a codebook.
    """
    if path is not None and model is not None:
        from .errors import ArgumentError

        raise ArgumentError("codebook", "or `model`, not both: the codebook is a file's or a "
                                        "model's")
    if path is not None:
        return load_codebook(path)
    if model is not None:
        return model_codebook(model.card, list(model.themes))
    return load_codebook()
