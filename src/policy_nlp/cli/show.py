"""The model and its evidence: ``info`` (the model card), ``themes`` (the codebook as the model
has it, with each theme's strongest terms) and ``explain`` (the terms behind one text's
theme)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import render
from .application import json_wanted, load
from .options import FormatOpt, JsonOpt, ModelOpt


def explain(
    text: Annotated[str, typer.Option("--text", "-t", help="The paragraph to explain.")],
    theme: Annotated[str | None, typer.Option(
        help="Explain this theme's score (default: the predicted theme).", show_default=False)
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many terms to show.")] = 10,
    model: ModelOpt = None,
    output_format: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show why a text got its theme: the terms that contributed most (TF-IDF x weight)."""
    from ..explain import explain_paragraph

    as_json = json_wanted(output_format, as_json)
    found, ranked = explain_paragraph(load(model), text, theme=theme, top=top)
    if as_json:
        render.print_json(found.to_dict())
    else:
        render.explanation(found, ranked)


def themes(
    top_terms: Annotated[int, typer.Option(
        min=0, help="Also list each theme's N strongest terms (largest model weights).")] = 0,
    theme: Annotated[list[str] | None, typer.Option(
        help="Only this theme (repeatable).", show_default=False)] = None,
    model: ModelOpt = None,
    output_format: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the model's themes (id, group, name), with --top-terms their strongest terms."""
    from ..codebook import resolve_codebook
    from ..explain import theme_entries

    as_json = json_wanted(output_format, as_json)
    m = load(model)
    entries = theme_entries(m, resolve_codebook(model=m), theme, top=top_terms)
    if as_json:
        render.print_json(entries)
    else:
        render.themes(entries, with_terms=bool(top_terms))


def info(
    model: ModelOpt = None,
    output_format: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the model card and the themes."""
    from ..model import model_dir

    as_json = json_wanted(output_format, as_json)
    directory = model_dir(model)  # a shipped model's name: shown as its directory
    m = load(directory)
    if as_json:
        render.print_json(m.card)
    else:
        render.model_card(directory, m.card, m.secondary_threshold, m.max_secondary)
