"""Drawing the sample: how it is spread over the strata (:func:`allocate`), the stratified
simple random sample without replacement (:func:`draw_sample`, :class:`Sample`), the coding
sheet of its paragraphs (:func:`sheet_rows`), the sample of a model's labels
(:func:`validation_sheet`) and the whole ``validation-sample`` step, from the inputs to the
sheet's file (:func:`sample_to_file`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ArgumentError, InputError
from ..metrics import check_seed
from .population import Population

#: How the sample is spread over the strata: the same number in each (capped by the stratum's
#: size), or in proportion to their sizes.
ALLOCATIONS = ("equal", "proportional")


@dataclass
class Sample:
    """A stratified simple random sample without replacement: ``rows`` index the population
    (sorted by stratum, then by position), ``sizes`` and ``taken`` give each stratum's N_h
    and n_h."""

    rows: list[int]
    strata: list[str]  # the stratum of each sampled row
    sizes: dict[str, int]
    taken: dict[str, int]
    field: str | None

    def probability(self, stratum: str) -> float:
        return self.taken[stratum] / self.sizes[stratum]


def allocate(sizes: Mapping[str, int], n: int, allocation: str = "equal") -> dict[str, int]:
    """How many of ``n`` to draw from each stratum: the same number (``equal``) or in
    proportion to their sizes, never more than a stratum holds, by largest remainders; a
    stratum of two or more paragraphs gets at least two where ``n`` allows (its variance
    needs two).

    Examples
    --------
    >>> allocate({"a": 1000, "b": 10}, 100)
    {'a': 90, 'b': 10}
    >>> allocate({"a": 900, "b": 100}, 100, "proportional")
    {'a': 90, 'b': 10}
    """
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}, not {allocation!r}")
    total = sum(sizes.values())
    if n > total:
        raise InputError(f"-n {n} is more than the {total:,} paragraphs in the inputs")
    # a stratum's variance needs two coded rows: a sample too small to give each stratum two
    # would be refused by profile --validation after the coding, so it is refused here
    need = sum(min(2, size) for size in sizes.values())
    if n < need:
        raise ArgumentError("n", f"is {n}, fewer than the {need} a stratified sample of these "
                                 f"{len(sizes)} strata needs (two each): draw at least {need}, "
                                 "or fewer strata")
    taken = dict.fromkeys(sizes, 0)
    while (left := n - sum(taken.values())) > 0:
        room = {h: sizes[h] - taken[h] for h in sizes if taken[h] < sizes[h]}
        weight = {h: 1.0 if allocation == "equal" else float(sizes[h]) for h in room}
        quota = {h: left * weight[h] / sum(weight.values()) for h in room}
        add = {h: min(room[h], int(quota[h])) for h in room}
        if not any(add.values()):  # fewer left than strata: the largest quotas get one
            for h in sorted(room, key=lambda h: (-quota[h], h))[:left]:
                add[h] = 1
        for h, k in add.items():
            taken[h] += k
    floor = {h: min(2, size, n // max(len(sizes), 1)) for h, size in sizes.items()}
    # every stratum that can have two gets two, taken from the largest
    for h in sizes:
        while taken[h] < floor[h]:
            donor = max((d for d in sizes if taken[d] > floor[d]), key=lambda d: taken[d],
                        default=None)
            if donor is None:
                break
            taken[donor] -= 1
            taken[h] += 1
    return taken


def draw_sample(strata: Sequence[str], n: int, *, seed: int = 0, allocation: str = "equal",
                field_name: str | None = None) -> Sample:
    """Draw ``n`` of the units whose strata are ``strata``: a simple random sample without
    replacement in each stratum, of the sizes :func:`allocate` gives; reproducible with
    ``seed`` (numpy's PCG64)."""
    if n < 1:
        raise ArgumentError("n", f"must be at least 1, not {n}")
    check_seed(seed)
    members: dict[str, list[int]] = {}
    for i, h in enumerate(strata):
        members.setdefault(h, []).append(i)
    sizes = {h: len(ix) for h, ix in sorted(members.items())}
    taken = allocate(sizes, n, allocation)
    rng = np.random.default_rng(seed)
    rows: list[int] = []
    row_strata: list[str] = []
    for h in sizes:
        chosen = sorted(rng.choice(np.asarray(members[h]), size=taken[h], replace=False).tolist())
        rows.extend(chosen)
        row_strata.extend([h] * len(chosen))
    return Sample(rows=rows, strata=row_strata, sizes=sizes, taken=taken, field=field_name)


def sheet_rows(population: Population, sample: Sample, texts: Sequence[str],
               names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The coding sheet: one row per sampled paragraph with its design (stratum, N_h, n_h,
    inclusion probability), id, report, metadata, text, an empty ``label`` for the coder,
    and the model's label (``predicted``, ``predicted_zh``) last."""
    extra: dict[str, None] = {}
    for i in sample.rows:
        extra.update(dict.fromkeys(population.fields[i]))
    rows = []
    for k, (i, h) in enumerate(zip(sample.rows, sample.strata, strict=True), 1):
        rows.append({
            "row": k, "id": population.ids[i], "report_id": population.report_ids[i],
            **{f: population.fields[i].get(f) for f in extra},
            "stratum_field": sample.field or "", "stratum": h,
            "stratum_size": sample.sizes[h], "stratum_sample": sample.taken[h],
            "inclusion_probability": round(sample.probability(h), 10),
            "text": texts[i], "label": "",
            "predicted": population.labels[i],
            "predicted_zh": names.get(population.labels[i], ""),
        })
    return rows


def validation_sheet(model, documents, n: int, *, strata: str | None = None,
                     allocation: str = "equal", seed: int = 0, records: str = "auto",
                     name_pattern: str | None = None, progress=None
                     ) -> tuple[list[dict[str, Any]], Sample, Population]:
    """Label every paragraph of ``documents`` as ``profile`` does (same ids, same
    ``records`` and ``name_pattern``), draw a sample of ``n`` (stratified by the metadata
    field ``strata``) and return the coding sheet's rows, the sample and the population."""
    from ..aggregate import iter_labeled
    from ..codebook import model_codebook

    population = Population(list(model.themes))
    texts: list[str] = []
    for rec in iter_labeled(model, documents, records=records, name_pattern=name_pattern):
        population.add(rec)
        texts.append(rec["text"])
        if progress is not None:
            progress()
    if not len(population):
        raise InputError("no paragraphs found in the inputs")
    population.index()  # ids must be unique to be matched back
    sample = draw_sample(population.strata(strata), n, seed=seed, allocation=allocation,
                         field_name=strata)
    names = {t.id: t.zh for t in model_codebook(model.card, model.themes).themes}
    return sheet_rows(population, sample, texts, names), sample, population


@dataclass(frozen=True)
class SampleResult:
    """What :func:`sample_to_file` wrote: ``rows`` drawn from ``population`` paragraphs, the
    ``sample`` (its strata's sizes and the number taken from each)."""

    rows: int
    population: int
    sample: Sample


def sample_to_file(inputs: Sequence[str], output: str, n: int = 300, *, model: Any = None,
                   strata: str | None = None, allocation: str = "equal", seed: int = 0,
                   records: str = "auto", name_pattern: str | None = None,
                   text_col: str = "text", id_col: str = "id", on_error: Any = None,
                   progress: Callable[[], None] | None = None) -> SampleResult:
    """``policy-nlp validation-sample``: label every paragraph of ``inputs`` as ``profile``
    does, draw ``n`` of them (:func:`validation_sheet`) and write the coding sheet to
    ``output`` (``.csv`` with a byte-order mark, or ``.xlsx``), atomically. ``model`` is a
    loaded model, or a directory or shipped model's name to load once the arguments and the
    output are checked; ``on_error`` is the reading layer's error policy."""
    from ..model import ThemeModel, load_model
    from ..read import iter_documents
    from ..write import check_output_file, check_sheet_output, refuse_a_coded_sheet, write_sheet

    if n < 1:
        raise ArgumentError("n", f"must be at least 1, not {n}")
    check_seed(seed)
    if allocation not in ALLOCATIONS:
        raise ArgumentError("allocation", f"must be {' or '.join(ALLOCATIONS)}, not "
                                          f"{allocation!r}")
    check_sheet_output(output)
    check_output_file(output, inputs)
    refuse_a_coded_sheet(output)
    m = model if isinstance(model, ThemeModel) else load_model(model)
    docs = iter_documents(inputs, text_col=text_col, id_col=id_col, on_error=on_error)
    rows, sample, population = validation_sheet(
        m, docs, n, strata=strata, allocation=allocation, seed=seed, records=records,
        name_pattern=name_pattern, progress=progress)
    write_sheet(rows, output)
    return SampleResult(rows=len(rows), population=len(population), sample=sample)
