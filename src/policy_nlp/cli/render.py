"""All the command line's terminal text: results on standard output (tables, the model card,
explanations, reports as text or JSON), progress, logs and warnings on standard error.

Nothing here computes a result: each function takes what a library function returned and
prints it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from ..text import pad


def log(message: str) -> None:
    """One line on standard error (progress, logs, warnings), flushed."""
    print(message, file=sys.stderr, flush=True)


#: what starts every line of the command line's own on standard error that is not progress:
#: ``policy-nlp: error: …``, ``policy-nlp: warning: …``, ``policy-nlp: skipped: …``
PREFIX = "policy-nlp: "


def error(message: str) -> None:
    """The one line a command that stops shows (the README's "Errors")."""
    log(f"{PREFIX}error: {message}")


def warn(message: str) -> None:
    """Something the user should look at; the command goes on."""
    log(f"{PREFIX}warning: {message}")


def note(message: str) -> None:
    """How an option applies; the command goes on."""
    log(f"{PREFIX}note: {message}")


def problem(message: str) -> None:
    """A bad input reported as it is met (``skipped: …``, ``kept: …``, ``bad label: …``)."""
    log(f"{PREFIX}{message}")


class _StderrHandler(logging.Handler):
    """Log records of ``policy_nlp`` to the standard error of the moment; warnings as
    :func:`warn` shows them."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            warn(record.getMessage())
        else:
            problem(record.getMessage())


def set_verbose(verbose: bool) -> None:
    """Show the package's log (each file read, with --verbose; else only its warnings)."""
    logger = logging.getLogger("policy_nlp")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


class Progress:
    """A one-line progress counter on standard error (redrawn on a terminal)."""

    def __init__(self, what: str, enabled: bool = True):
        self.what, self.enabled = what, enabled
        self.tty = sys.stderr.isatty()
        self.n = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if self.enabled and now - self.last >= (0.2 if self.tty else 5.0):
            self.last = now
            self._show(end="\r" if self.tty else "\n")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _show(self, end: str) -> None:
        elapsed = max(self.elapsed, 1e-9)
        sys.stderr.write(f"{self.what}: {self.n:,} ({self.n / elapsed:,.0f}/s, "
                         f"{elapsed:.1f}s){end}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._show(end="\n")


def version(number: str) -> None:
    print(f"policy-nlp {number}")


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def records(rows: list[dict], fmt: str, themes: list[str]) -> None:
    """Labeled paragraphs on standard output: a table as wide as the terminal, JSONL or CSV."""
    from ..write import format_table, write_csv, write_jsonl

    if fmt == "table":
        import shutil

        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        sys.stdout.write(format_table(rows, width=width))
    elif fmt == "jsonl":
        write_jsonl(rows, sys.stdout)
    else:
        write_csv(rows, sys.stdout, themes)


def explanation(found, ranked: list[tuple[str, float]]) -> None:
    """``explain``: the theme, the top three, the score's parts and the terms behind it."""
    print(f"theme   {found.theme}  probability {found.probability:.3f}")
    print("top 3   " + "  ".join(f"{t} {p:.3f}" for t, p in ranked[:3]))
    shown = sum(c.contribution for c in found.terms)
    rest = found.score - found.intercept - shown
    print(f"score   {found.score:+.3f} = intercept {found.intercept:+.3f} + these "
          f"{len(found.terms)} terms {shown:+.3f} + the other terms {rest:+.3f}")
    print()
    print(f"{'term':<24}{'kind':<6}{'tf-idf':>8}{'weight':>9}{'contribution':>14}")
    for c in found.terms:
        print(f"{pad(c.term.replace(' ', '·'), 24)}{c.kind:<6}{c.tfidf:>8.3f}{c.weight:>+9.3f}"
              f"{c.contribution:>+14.3f}")


def themes(entries: list[dict], with_terms: bool) -> None:
    """``themes``: id, group and names of each theme, with its strongest terms if asked."""
    for entry in entries:
        print(f"{entry['id']:<22}{entry['group']:<22}{pad(entry['zh'], 20)}{entry['en']}")
        for rank, x in enumerate(entry.get("top_terms", []), 1):
            print(f"    {rank:>3} {pad(x['term'].replace(' ', '·'), 20)}{x['kind']:<6}"
                  f"{x['weight']:+.3f}")
        if with_terms:
            print()


def model_card(directory, card: dict, secondary_threshold: float, max_secondary: int) -> None:
    """``info``: the model card, the themes with their counts and CV F1, the confusion matrix."""
    data = card.get("data", {})
    cv = (card.get("metrics") or {}).get("cross_validation") or {}
    print(f"model       {directory}")
    print(f"created     {card.get('created', '?')}  (policy-nlp {card.get('policy_nlp_version')})")
    print(f"trained on  {data.get('n_paragraphs')} paragraphs of {data.get('n_reports')} "
          f"reports, sha256 {str(data.get('sha256', ''))[:16]}…")
    if cv:
        print(f"report-grouped {cv.get('folds')}-fold CV: accuracy {cv['accuracy']:.4f}, "
              f"macro-F1 {cv['macro_f1']:.4f}, ECE {cv['ece']:.4f}")
        if cv.get("groups"):
            print(f"  by group: accuracy {cv['groups']['accuracy']:.4f}, "
                  f"macro-F1 {cv['groups']['macro_f1']:.4f}")
        if cv.get("per_era"):
            print("  by era (accuracy): " + ", ".join(
                f"{era} {m['accuracy']:.4f} (n={m['n']})" for era, m in cv["per_era"].items()))
    t = card.get("training", {})
    print(f"classifier  {t.get('classifier')} C={t.get('C')}, features {card.get('features')}")
    print(f"tokenizer   {card.get('tokenizer', {}).get('name')}")
    print(f"secondary   themes with probability >= {secondary_threshold} "
          f"(at most {max_secondary})")
    libs = card.get("libraries", {})
    print("libraries   " + ", ".join(f"{k} {v}" for k, v in libs.items()))
    print()
    counts = data.get("counts", {})
    per = cv.get("per_theme", {})
    print(f"{'theme':<22}{'group':<22}{'n':>6}{'CV F1':>8}  name")
    for th in card.get("codebook", {}).get("themes", []):
        f1 = per.get(th["id"], {}).get("f1")
        print(f"{th['id']:<22}{th['group']:<22}{counts.get(th['id'], 0):>6}"
              f"{(f'{f1:.3f}' if f1 is not None else ''):>8}  {th['zh']}")
    if cv.get("confusion_matrix"):
        from ..metrics import format_confusion

        print()
        print(f"report-grouped cross-validation, {format_confusion(cv['confusion_matrix'])}")


def validation_report(report) -> None:
    """``validate-labels``: every problem, the summary, the count of each theme."""
    for problem in report.problems:
        print(problem)
    print(report.summary())
    print("  ".join(f"{t} {n}" for t, n in report.counts.items()))


def label_problems(report) -> None:
    """The validation report's findings before training, on standard error."""
    for found in report.warnings:
        warn(found.message)
    if len(report.errors) > 1:
        for found in report.errors:
            problem(f"bad label: {found.message}")


def interrupted(kept=None) -> None:
    """A run stopped by Ctrl-C or SIGTERM: what it kept for ``--resume``, if anything."""
    if kept:
        problem(f"interrupted; the work done so far is kept in {kept}: run the same command "
                "with --resume to continue it")
    else:
        problem("interrupted; no output file was written")


def skipped_summary(n: int, summary: str) -> None:
    """The end of a run that skipped (or kept with a problem) some inputs or records."""
    warn(f"{n} paragraphs labeled; {summary}")


def labeled(run, output: str, seconds: float) -> None:
    """``label``: how many paragraphs, how long, where (a Dask run: how many parts)."""
    if run.rows == 0:
        warn("no paragraphs found in the inputs")
    if run.parts is None:
        log(f"{run.rows} paragraphs labeled in {seconds:.1f}s -> {output}")
    else:
        log(f"{run.rows} paragraphs labeled in {seconds:.1f}s -> {output}/ "
            f"({run.parts} parts, manifest.json)")


def sample_drawn(result, output: str) -> None:
    """``validation-sample``: how many paragraphs of how many, per stratum, and what next."""
    sample = result.sample
    per = ", ".join(f"{h} {sample.taken[h]} of {sample.sizes[h]:,}" for h in sample.sizes)
    log(f"{result.rows} of {result.population:,} paragraphs drawn ({per}) -> {output}; fill in "
        "the 'label' column, then: policy-nlp profile ... --validation " + output)


def profiled(result, output: str, validation, seconds: float) -> None:
    """``profile``: how many reports and paragraphs, where; with ``--validation``, the
    corrected shares' file and how the model did on the coded sample (on standard output,
    unless the panel went there)."""
    groups = f" and {result.groups} groups of reports" if result.groups else ""
    log(f"{result.reports} reports{groups} ({result.paragraphs} paragraphs) profiled in "
        f"{seconds:.1f}s -> {output}")
    if result.corrected is None:
        return
    from ..validation import format_sample_metrics

    if result.sheet.blank:
        warn(f"{validation}: {result.sheet.blank} rows with an empty label were left out (the "
             "rest of each stratum is taken as its random sample)")
    log(f"shares corrected by {len(result.sheet.ids)} coded paragraphs -> {result.corrected}")
    print(format_sample_metrics(result.metrics),
          file=sys.stderr if output == "-" else sys.stdout)


def blank_labels(where: list[str]) -> None:
    """The rows of labels files skipped for a blank label (not coded yet), in one warning."""
    if where:
        from ..labels import blank_summary

        warn(blank_summary(where))


def _on_stdout(output) -> bool:
    """``-o -``: the JSON went to standard output, which then holds it alone."""
    return output is not None and str(output) == "-"


def evaluation(found, group_col: str = "report_id") -> None:
    """``evaluate``: warnings, the files written, then the metrics on standard output."""
    from ..metrics import format_metrics

    blank_labels(found.data.blank)
    if found.overlap:
        warn(f"{found.overlap}, so scores on them are optimistic; score it on labels it was "
             "not trained on, or use --cv-folds 5 (or the card's cross-validation metrics)")
    if found.metrics.get("grouped_by") == "row":  # cross-validated
        _ungrouped(group_col)
    if found.page is not None:
        log(f"report written to {found.page}")
    if _on_stdout(found.output):  # -o -: standard output holds the JSON, nothing else
        return
    if found.output is not None:
        log(f"metrics written to {found.output}")
    print(format_metrics(found.metrics))


def comparison(found, first: str, second: str) -> None:
    """``compare``: warnings, the file written, then the comparison on standard output."""
    from ..compare import format_comparison

    blank_labels(found.data.blank)
    for overlap in found.overlaps:
        warn(f"{overlap}, so the comparison favours it; compare on labels held out from both")
    if found.data.grouping == "row":
        warn("some rows name no report, so the bootstrap resamples them as single paragraphs "
             "and the interval is too narrow")
    if _on_stdout(found.output):  # -o -: standard output holds the JSON, nothing else
        return
    if found.output is not None:
        log(f"comparison written to {found.output}")
    print(format_comparison(found.result, first, second))


def audited(found, output: str, group_col: str = "report_id") -> None:
    """``audit``: how many suspect labels of how many, where; that the folds split single
    paragraphs where the labels name no report (each was scored by a model that saw its
    report's other paragraphs)."""
    blank_labels(found.data.blank)
    if found.data.grouping == "row":
        _ungrouped(group_col)
    log(f"{found.written} suspect labels of {len(found.data)} written to {output}")


def agreement(found, disagreements, as_json: bool) -> None:
    """``agreement``: the codes skipped, the sheet written, the coefficients (text or JSON)."""
    blank_labels(found.blank)
    if found.disagreements is not None:
        log(f"{found.disagreements} disagreements written to {disagreements}")
    if as_json:
        print_json(found.result)
    else:
        from ..agreement import format_agreement

        print(format_agreement(found.result))


def training_data(data, group_col: str) -> None:
    """``train``: what it trains on; a warning where the cross-validation cannot group."""
    log(f"{len(data)} labeled paragraphs from {len(set(data.groups))} reports, "
        f"{len(data.counts())} themes")
    if data.grouping == "row":
        _ungrouped(group_col)


def _ungrouped(group_col: str) -> None:
    warn(f"some rows name no report (no {group_col!r} column value, no '#' in the id), so "
         "cross-validation splits them as single paragraphs; paragraphs of one report are "
         "correlated and the scores will be optimistic")


def trained(model, output, seconds: float) -> None:
    """``train``: where the model went; its cross-validation scores on standard output."""
    from ..metrics import format_metrics

    log(f"model written to {output} ({seconds:.1f}s)")
    cv = model.card["metrics"]["cross_validation"]
    if cv:
        print(f"report-grouped {cv['folds']}-fold cross-validation")
        print(format_metrics(cv))


def document(text: str) -> None:
    """A document made by the library (Label Studio's XML configuration), on standard output
    as it is."""
    sys.stdout.write(text)


#: the annotation tools ``suggest`` writes tasks for, by format
TOOLS = {"label-studio": "Label Studio", "doccano": "doccano"}


def suggested(result, output: str, n: int) -> None:
    """``suggest``: how many of the ``n`` asked for, where, and what to do next."""
    if result.written < n:
        log(f"only {result.written} paragraphs could be suggested (pool size, --per-report and "
            "duplicate texts limit the choice)")
    if result.fmt in TOOLS:
        log(f"{result.written} tasks written to {output}; import them into "
            f"{TOOLS[result.fmt]}, code them, export, then policy-nlp train --labels EXPORT "
            "-o MODEL")
    else:
        log(f"{result.written} paragraphs to code written to {output}; fill in the 'label' "
            f"column, then policy-nlp train --labels {output} -o MODEL")


def figure_written(kind: str, path) -> None:
    """``plot``: one line per figure written."""
    log(f"{kind}: {path}")
