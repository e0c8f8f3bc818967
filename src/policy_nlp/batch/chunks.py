"""The work of one chunk, the same in every engine and worker: the options of a run
(:class:`LabelOptions`), the model loaded once per process (:func:`process_model`), the units
read from the inputs (:func:`read_units`) and cut into chunks (:func:`chunked`), and a chunk
labeled into the bytes to write (:func:`label_chunk`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LabelOptions:
    """How units are read and written (the same for every engine and worker)."""

    fmt: str = "jsonl"  # jsonl | csv
    text_col: str = "text"
    id_col: str = "id"
    records: str = "auto"
    include_text: bool = True
    unit: str = "paragraph"  # or "sentence": each sentence labeled too (predict.label_sentences)



_models: dict[str | None, Any] = {}


def process_model(model_dir: str | None):
    """The model of ``model_dir`` (None: the default), loaded once per process."""
    m = _models.get(model_dir)
    if m is None:
        from ..model import load_model

        m = _models[model_dir] = load_model(model_dir)
    return m


def label_chunk(model, units: list, opts: LabelOptions) -> tuple[bytes, int]:
    """Label a chunk of units: the UTF-8 bytes to write, and the number of units.

    JSONL output gets its lines; CSV output the flattened rows as JSON lines (made into a CSV
    with every column at the end, after a byte-order mark: see
    :func:`~policy_nlp.batch.local_engine.rows_to_csv`)."""
    from ..predict import label_sentences, label_units
    from ..write import flatten, jsonl_line

    labeler = label_sentences if opts.unit == "sentence" else label_units
    records = labeler(model, units, batch_size=max(len(units), 1),
                      include_text=opts.include_text)
    if opts.fmt != "jsonl":
        themes = model.themes
        records = (flatten(r, themes) for r in records)
    return b"".join([jsonl_line(r) for r in records]), len(units)


def chunked(units: Iterable, size: int) -> Iterator[list]:
    """``units`` in lists of ``size`` (the last one shorter)."""
    chunk: list = []
    for u in units:
        chunk.append(u)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_units(inputs: list[str], opts: LabelOptions, on_error=None,
               exclude: Collection[Path] = ()) -> Iterator:
    """The units to label; ``on_error`` is the reading layer's error policy (None: raise);
    ``exclude``: files of the run's own output, never read from an input directory."""
    from ..predict import iter_units
    from ..read import IdMemory, iter_documents

    docs = iter_documents(inputs, text_col=opts.text_col, id_col=opts.id_col, on_error=on_error,
                          exclude=exclude)
    # the ids checked as the output has them: a report's paragraphs' too (r#000)
    return iter_units(docs, records=opts.records, ids=IdMemory(), on_error=on_error)
