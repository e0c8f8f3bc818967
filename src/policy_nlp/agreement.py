"""Inter-coder agreement (``policy-nlp agreement``): Cohen's κ, Fleiss' κ, Krippendorff's α.

The codings of two or more coders, joined by paragraph id, make an items × coders table of
themes (missing where a coder did not code an item). From it:

* Krippendorff's α (nominal) over every item at least two coders coded (missing values
  allowed): ``1 - (n - 1) (n - Σ_c o_cc) / (n² - Σ_c n_c²)`` with ``o`` the coincidence matrix
  and ``n_c`` its margins (Krippendorff 2011, "Computing Krippendorff's alpha-reliability");
* Fleiss' κ (1971) over the items every coder coded;
* Cohen's κ (1960) for two coders over the items both coded (and for every pair when more);
* per theme: the share of its pairable values on which another coder agrees (specific
  agreement, ``o_cc / n_c``) and Fleiss' per-category κ (theme against the rest);
* the confusion between coders (two coders: coder 1's themes by coder 2's; more: the
  coincidence matrix) and the items on which the coders differ, for adjudication.

Every coefficient has a 95% percentile bootstrap interval over items (the items resampled with
replacement, ``n_boot`` times, ``seed``): each is computed from per-item sums, so a resample
is a weighted sum and all resamples are one matrix product. The formulas are our own numpy code
(the bootstrap needs each coefficient thousands of times, as one matrix product), checked to
1e-9 against the ``krippendorff`` package, statsmodels' ``fleiss_kappa`` and scikit-learn's
``cohen_kappa_score`` in ``tests/test_agreement.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from .errors import InputError
from .metrics import check_resamples, check_seed

MISSING = -1


@dataclass
class Codings:
    """An items × coders table of theme indices (:data:`MISSING` where not coded)."""

    coders: list[str]
    ids: list[str]
    themes: list[str]
    table: np.ndarray  # int, items × coders
    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_labels(cls, coders: dict[str, dict[str, str]], themes: list[str],
                    texts: dict[str, str] | None = None) -> Codings:
        """``coders``: coder -> {id: theme}. Items are every id any coder coded, in order of
        first appearance; themes must be in ``themes``."""
        if len(coders) < 2:
            raise InputError(f"agreement needs two coders or more; got {len(coders)} "
                             f"({', '.join(coders) or 'none'})")
        index = {t: k for k, t in enumerate(themes)}
        ids: dict[str, None] = {}
        for labels in coders.values():
            ids.update(dict.fromkeys(labels))
        order = {pid: i for i, pid in enumerate(ids)}
        table = np.full((len(ids), len(coders)), MISSING, dtype=np.int64)
        for j, labels in enumerate(coders.values()):
            for pid, theme in labels.items():
                if theme not in index:
                    raise InputError(f"coder {list(coders)[j]}: {theme!r} is not a theme")
                table[order[pid], j] = index[theme]
        alone = []
        for j, name in enumerate(coders):
            others = np.delete(table, j, axis=1)
            shared = (table[:, j] != MISSING) & (others != MISSING).any(axis=1)
            if not shared.any():
                some = list(coders[name])[:3]
                alone.append(f"{name} ({len(coders[name])} ids: {', '.join(some)}"
                             f"{', …' if len(coders[name]) > 3 else ''})")
        if alone:
            raise InputError(f"ids that match no other coder's: {'; '.join(alone)}; agreement "
                             "joins the coders by id: are they the same paragraph ids?")
        return cls(coders=list(coders), ids=list(ids), themes=list(themes), table=table,
                   texts=dict(texts or {}))

    def counts(self, rows: np.ndarray | None = None) -> np.ndarray:
        """items × themes: how many coders gave each theme to each item."""
        t = self.table if rows is None else self.table[rows]
        out = np.zeros((len(t), len(self.themes)), dtype=np.float64)
        for j in range(t.shape[1]):
            ok = t[:, j] != MISSING
            np.add.at(out, (np.nonzero(ok)[0], t[ok, j]), 1.0)
        return out


def load_codings(sources, *, codebook=None, paragraphs=None, blank: str = "skip"
                  ) -> tuple[Codings, list[str]]:
    """The codings of coders' files (see :func:`policy_nlp.labels.load_coder_labels`), texts
    from ``paragraphs`` (a paragraphs JSONL) where the files have none, and the places of the
    codes skipped as blank."""
    from .codebook import load_codebook
    from .labels import load_coder_labels, paragraph_texts

    codebook = codebook or load_codebook()
    found = load_coder_labels(sources, codebook=codebook, blank=blank)
    texts = {**paragraph_texts(paragraphs), **found.texts} if paragraphs else found.texts
    return Codings.from_labels(found.coders, codebook.ids, texts=texts), found.blank


def _interval(values: np.ndarray) -> list[float | None]:
    ok = values[np.isfinite(values)]
    if len(ok) < 0.9 * len(values) or not len(ok):
        return [None, None]
    lo, hi = np.percentile(ok, [2.5, 97.5], axis=0)
    return [float(lo), float(hi)]


def _weights(n_items: int, n_boot: int, seed: int) -> np.ndarray:
    """The bootstrap's resamples as weights: how often each item is drawn (n_boot × items)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_items, np.full(n_items, 1.0 / n_items), size=n_boot).astype(
        np.float64)


# -- the coefficients as weighted sums over items (weights 1: the data; else a resample) --

def _alpha_parts(counts: np.ndarray):
    """Per pairable item: its number of values m_i, its agreeing mass Σ_c (n_ic² - n_ic) /
    (m_i - 1), and its counts n_ic."""
    m = counts.sum(axis=1)
    keep = m >= 2
    c, m = counts[keep], m[keep]
    agree = ((c * c - c).sum(axis=1)) / (m - 1)
    return keep, m, agree, c


def _alpha(w: np.ndarray, m: np.ndarray, agree: np.ndarray, c: np.ndarray) -> np.ndarray:
    n = w @ m
    n_c = w @ c
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (n - 1.0) * (n - w @ agree) / (n * n - (n_c * n_c).sum(axis=-1))


def _fleiss(w: np.ndarray, counts: np.ndarray, raters: int) -> np.ndarray:
    n_items = w.sum(axis=-1)
    p_i = ((counts * counts).sum(axis=1) - raters) / (raters * (raters - 1))
    p_bar = (w @ p_i) / n_items
    p_c = (w @ counts) / (n_items[..., None] * raters)
    p_e = (p_c * p_c).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p_bar - p_e) / (1.0 - p_e)


def _fleiss_per_theme(w: np.ndarray, counts: np.ndarray, raters: int) -> np.ndarray:
    """Fleiss' per-category κ_c = 1 - Σ_i n_ic (m - n_ic) / (N m (m - 1) p_c q_c)."""
    n_items = w.sum(axis=-1)[..., None]
    p_c = (w @ counts) / (n_items * raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (w @ (counts * (raters - counts))) / (
            n_items * raters * (raters - 1) * p_c * (1.0 - p_c))


def _cohen(w: np.ndarray, a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    one_a, one_b = np.eye(k)[a], np.eye(k)[b]
    n = w.sum(axis=-1)
    p_o = (w @ (a == b).astype(np.float64)) / n
    p_e = ((w @ one_a) * (w @ one_b)).sum(axis=-1) / (n * n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p_o - p_e) / (1.0 - p_e)


def krippendorff_alpha(codings: Codings) -> float:
    """Krippendorff's α (nominal) of ``codings`` (missing values allowed)."""
    _, m, agree, c = _alpha_parts(codings.counts())
    if not len(m):
        return float("nan")
    return float(_alpha(np.ones(len(m)), m, agree, c))


def fleiss_kappa(codings: Codings) -> float:
    """Fleiss' κ over the items every coder coded."""
    full = (codings.table != MISSING).all(axis=1)
    if not full.any():
        return float("nan")
    return float(_fleiss(np.ones(int(full.sum())), codings.counts(full), len(codings.coders)))


def cohen_kappa(codings: Codings, first: int = 0, second: int = 1) -> float:
    """Cohen's κ of two coders (by position) over the items both coded."""
    a, b = codings.table[:, first], codings.table[:, second]
    both = (a != MISSING) & (b != MISSING)
    return float(_cohen(np.ones(int(both.sum())), a[both], b[both], len(codings.themes)))


def _estimate(point: float, boot: np.ndarray, n: int) -> dict:
    value = None if not np.isfinite(point) else round(float(point), 12)
    lo, hi = _interval(boot) if value is not None else (None, None)
    return {"value": value, "ci95": [lo, hi], "n_items": n}


def agreement(codings: Codings, *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Every coefficient with its 95% bootstrap interval (over items), per-theme agreement,
    the confusion between coders and the disagreements; see the module's docstring.

    Keys: ``coders``, ``n_items``, ``krippendorff_alpha``, ``fleiss_kappa``, ``cohen_kappa``
    (two coders; else None), ``pairs`` (Cohen's κ of every pair), ``per_theme``,
    ``confusion`` (two coders) or ``coincidence``, ``disagreements`` (item ids)."""
    check_resamples(n_boot)
    check_seed(seed)
    k = len(codings.themes)
    counts = codings.counts()
    _, m, agree, c = _alpha_parts(counts)
    w = _weights(len(m), n_boot, seed) if len(m) else np.zeros((n_boot, 0))
    ones = np.ones(len(m))
    alpha = _estimate(_alpha(ones, m, agree, c) if len(m) else np.nan,
                      _alpha(w, m, agree, c) if len(m) else np.array([]), len(m))
    alpha["n_values"] = int(m.sum())

    raters = len(codings.coders)
    full = (codings.table != MISSING).all(axis=1)
    cf = codings.counts(full)
    wf = _weights(len(cf), n_boot, seed + 1) if len(cf) else None
    fleiss = _estimate(_fleiss(np.ones(len(cf)), cf, raters) if len(cf) else np.nan,
                       _fleiss(wf, cf, raters) if len(cf) else np.array([]), len(cf))

    pairs = []
    for x, y in combinations(range(raters), 2):
        a, b = codings.table[:, x], codings.table[:, y]
        both = (a != MISSING) & (b != MISSING)
        nb = int(both.sum())
        if not nb:
            pairs.append({"coders": [codings.coders[x], codings.coders[y]], "value": None,
                          "ci95": [None, None], "n_items": 0, "observed_agreement": None})
            continue
        est = _estimate(_cohen(np.ones(nb), a[both], b[both], k),
                        _cohen(_weights(nb, n_boot, seed + 2), a[both], b[both], k), nb)
        est["observed_agreement"] = round(float((a[both] == b[both]).mean()), 12)
        pairs.append({"coders": [codings.coders[x], codings.coders[y]], **est})

    # per theme: specific agreement o_cc / n_c over pairable items; Fleiss' κ_c over full ones
    o_cc = (c * c - c) / np.maximum(m - 1, 1)[:, None]
    n_c = ones @ c
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_spec = (w @ o_cc) / (w @ c) if len(m) else None
    kappa_c = _fleiss_per_theme(np.ones(len(cf)), cf, raters) if len(cf) else None
    boot_kc = _fleiss_per_theme(wf, cf, raters) if len(cf) else None
    per_theme = []
    for t, theme in enumerate(codings.themes):
        if not n_c[t]:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            spec = _estimate(float(o_cc[:, t].sum() / n_c[t]), boot_spec[:, t], len(m))
        row = {"theme": theme, "n_values": int(n_c[t]),
               "specific_agreement": spec["value"], "specific_agreement_ci95": spec["ci95"]}
        if kappa_c is not None:
            kc = _estimate(float(kappa_c[t]), boot_kc[:, t], len(cf))
            row["fleiss_kappa"], row["fleiss_kappa_ci95"] = kc["value"], kc["ci95"]
        per_theme.append(row)

    # o_ck = Σ_i (n_ic n_ik - [c = k] n_ic) / (m_i - 1)
    scaled = c / np.maximum(m - 1, 1)[:, None]
    coincidence = c.T @ scaled - np.diag(scaled.sum(axis=0))
    out: dict = {
        "coders": codings.coders, "n_items": len(codings.ids),
        "n_items_coded_by_all": int(full.sum()),
        "krippendorff_alpha": alpha, "fleiss_kappa": fleiss,
        "cohen_kappa": pairs[0] if raters == 2 else None,
        "pairs": pairs, "per_theme": per_theme, "themes": codings.themes,
        "coincidence": np.round(coincidence, 12).tolist(),
        "bootstrap": {"resamples": n_boot, "seed": seed, "unit": "item", "interval": "95% "
                      "percentile"},
        "disagreements": disagreements(codings),
    }
    if raters == 2:
        a, b = codings.table[:, 0], codings.table[:, 1]
        both = (a != MISSING) & (b != MISSING)
        conf = np.zeros((k, k), dtype=np.int64)
        np.add.at(conf, (a[both], b[both]), 1)
        out["confusion"] = conf.tolist()
    return out


def disagreements(codings: Codings) -> list[str]:
    """The ids of the items two coders gave different themes."""
    t = codings.table
    out = []
    for i, pid in enumerate(codings.ids):
        values = set(t[i][t[i] != MISSING].tolist())
        if len(values) > 1:
            out.append(pid)
    return out


def disagreement_rows(codings: Codings) -> list[dict]:
    """The adjudication sheet: one row per disputed item: ``id``, ``text`` (where a coder's
    file had it), each coder's theme (a column per coder, blank where not coded), the most
    frequent theme and an empty ``label`` for the adjudicator (filled in, the sheet trains)."""
    rows = []
    index = {pid: i for i, pid in enumerate(codings.ids)}
    for pid in disagreements(codings):
        values = codings.table[index[pid]]
        row = {"id": pid, "text": codings.texts.get(pid, "")}
        for name, v in zip(codings.coders, values, strict=True):
            row[name] = codings.themes[v] if v != MISSING else ""
        given = [codings.themes[v] for v in values if v != MISSING]
        top = max(set(given), key=lambda t: (given.count(t), -given.index(t)))
        row["most_frequent"] = top if given.count(top) > len(given) / 2 else ""
        row["label"] = ""
        rows.append(row)
    return rows


def write_disagreements(codings: Codings, path) -> int:
    """Write the :func:`disagreement_rows` sheet to ``path`` (``OUT.csv``, with a byte-order
    mark for spreadsheets, or ``OUT.jsonl``; ``-``: standard output), atomically; returns the
    number of rows."""
    from .write import format_for_path, write_table

    return write_table(disagreement_rows(codings), path, format_for_path(path, "csv"),
                       sheet=True)


def format_agreement(result: dict, *, top: int = 8) -> str:
    """The text report of :func:`agreement`."""
    def est(e: dict) -> str:
        if e["value"] is None:
            return "undefined"
        lo, hi = e["ci95"]
        ci = f"  95% CI [{lo:.3f}, {hi:.3f}]" if lo is not None else ""
        return f"{e['value']:.3f}{ci}"

    coders = result["coders"]
    lines = [f"{len(coders)} coders ({', '.join(coders)}), {result['n_items']} items, "
             f"{result['n_items_coded_by_all']} coded by all",
             f"Krippendorff's alpha (nominal)  {est(result['krippendorff_alpha'])}  "
             f"({result['krippendorff_alpha']['n_items']} items coded twice or more)",
             f"Fleiss' kappa                   {est(result['fleiss_kappa'])}  "
             f"({result['fleiss_kappa']['n_items']} items coded by all)"]
    for pair in result["pairs"]:
        name = "Cohen's kappa" + ("" if len(coders) == 2 else f" {' vs '.join(pair['coders'])}")
        agree = (f", observed agreement {pair['observed_agreement']:.3f}"
                 if pair["observed_agreement"] is not None else "")
        lines.append(f"{name:<32}{est(pair)}  ({pair['n_items']} items{agree})")
    lines.append(f"bootstrap: {result['bootstrap']['resamples']} resamples of the items, "
                 f"seed {result['bootstrap']['seed']}")
    lines.append("")
    lines.append(f"{'theme':<20}{'values':>8}{'specific agr.':>15}{'kappa':>8}")
    for row in result["per_theme"]:
        spec = row["specific_agreement"]
        kappa = row.get("fleiss_kappa")
        lines.append(f"{row['theme']:<20}{row['n_values']:>8}"
                     f"{'' if spec is None else f'{spec:.3f}':>15}"
                     f"{'' if kappa is None else f'{kappa:.3f}':>8}")
    themes, co = result["themes"], result["coincidence"]
    confused = sorted(((co[i][j], themes[i], themes[j]) for i in range(len(themes))
                       for j in range(i + 1, len(themes)) if co[i][j] > 0), reverse=True)
    if confused:
        lines.append("")
        lines.append("most confused pairs (coincidences: pairs of coders' values):")
        lines += [f"  {a} <-> {b}: {n:g}" for n, a, b in confused[:top]]
    lines.append(f"{len(result['disagreements'])} items with different themes")
    return "\n".join(lines)


@dataclass(frozen=True)
class AgreementResult:
    """What :func:`agreement_files` found and wrote: the coefficients (``result``, see
    :func:`agreement`), the places of the codes skipped as blank, and the number of rows of
    the disagreements sheet (None: not asked for)."""

    result: dict
    blank: list[str]
    disagreements: int | None = None


def agreement_files(sources, *, codebook=None, paragraphs=None, blank: str = "skip",
                    n_boot: int = 1000, seed: int = 0, disagreements=None) -> AgreementResult:
    """``policy-nlp agreement``: read the coders' files (:func:`load_codings`; ``codebook`` a
    TOML file, default the shipped one), measure their agreement (:func:`agreement`) and write
    the items they disagree on to ``disagreements`` (:func:`write_disagreements`), the
    arguments and the output checked before any work."""
    from .codebook import resolve_codebook
    from .write import check_output_file, format_for_path

    check_resamples(n_boot)
    check_seed(seed)
    sources = list(sources) if isinstance(sources, (list, tuple)) else [sources]
    if disagreements is not None:
        format_for_path(disagreements, "csv")
    check_output_file(disagreements, [*sources, paragraphs])
    codings, skipped = load_codings(sources, codebook=resolve_codebook(codebook),
                                    paragraphs=paragraphs, blank=blank)
    result = agreement(codings, n_boot=n_boot, seed=seed)
    written = None if disagreements is None else write_disagreements(codings, disagreements)
    return AgreementResult(result=result, blank=skipped, disagreements=written)
