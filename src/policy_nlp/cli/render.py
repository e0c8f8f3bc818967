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


def warn(message: str) -> None:
    log(f"policy-nlp: warning: {message}")


class _StderrHandler(logging.Handler):
    """Log records of ``policy_nlp`` to the standard error of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        log(f"policy-nlp: {record.getMessage()}")


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
    for problem in report.warnings:
        warn(problem.message)
    if len(report.errors) > 1:
        for problem in report.errors:
            log(f"policy-nlp: bad label: {problem.message}")
