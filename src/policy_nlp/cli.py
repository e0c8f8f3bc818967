"""The ``policy-nlp`` command line: a thin shell over the package's plain functions.

Results go to standard output (or ``--output``), progress and logs to standard error. A
problem with the user's input or model ends the command with a one-line message and a
non-zero exit code (2 for input, 3 for model problems, 4 for an output that cannot be written),
never a traceback. ``classify`` and ``label`` skip a bad file or record and report it instead
(exit 5 at the end, the output written), unless ``--strict``; see :mod:`policy_nlp.errors`.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_SKIPPED, ArgumentError, InputError, OutputError, PolicyNLPError
from .text import pad

app = typer.Typer(
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 80},
    rich_markup_mode=None,
    help="Label the paragraphs of work reports (政府工作报告) by policy theme.",
)


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"policy-nlp {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Label the paragraphs of work reports (政府工作报告) by policy theme."""


def _train_defaults():
    from .train import TrainConfig

    return TrainConfig()


_DEFAULTS = _train_defaults()


class OutFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


class TextFormat(str, Enum):
    text = "text"
    json = "json"


class TableFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


class Records(str, Enum):
    auto = "auto"
    paragraphs = "paragraphs"
    reports = "reports"


class Classifier(str, Enum):
    linear_svc = "linear_svc"
    logistic = "logistic"


class FeatureSet(str, Enum):
    char_word = "char+word"
    char = "char"


class ClassWeight(str, Enum):
    none = "none"
    balanced = "balanced"


class UnitOpt(str, Enum):
    paragraph = "paragraph"
    sentence = "sentence"


class PlotKind(str, Enum):
    bars = "bars"
    heatmap = "heatmap"
    trends = "trends"
    all = "all"


class SheetFormat(str, Enum):
    auto = "auto"
    label_studio = "label-studio"
    doccano = "doccano"


class Measure(str, Enum):
    chars = "chars"
    paragraphs = "paragraphs"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: library parameters whose flag is not ``--`` + the name with dashes
FLAGS = {"n": "-n", "n_boot": "--resamples", "n_jobs": "--jobs", "C": "--C"}


def flag_of(param: str) -> str:
    """The command-line flag that sets a library parameter (``cv_folds`` -> ``--cv-folds``)."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def handle_errors(func):
    """Turn :class:`PolicyNLPError` into a one-line message and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ArgumentError as exc:  # a library parameter: shown as the flag that sets it
            log(f"policy-nlp: error: {flag_of(exc.param)} {exc.problem}")
            raise typer.Exit(exc.exit_code) from None
        except PolicyNLPError as exc:
            log(f"policy-nlp: error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:  # Ctrl-C (130), or SIGTERM where a run stops (143)
            log("policy-nlp: interrupted; no output file was written")
            raise typer.Exit(getattr(exc, "exit_code", 130)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except OSError as exc:
            # reading goes through read.py, which reports its own problems as InputError: an
            # OSError that gets here is a file or directory being made or written (a full
            # disk, no permission, a missing or read-only place)
            where = f"{exc.filename}: " if exc.filename else ""
            log(f"policy-nlp: error: {where}cannot write the output: {exc.strerror or exc}")
            raise typer.Exit(OutputError.exit_code) from None

    return wrapper


FormatOpt = Annotated[TextFormat, typer.Option(
    "--format", "-f", help="text for people, or json for programs.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="The same as --format json (its older "
                                                      "name).")]
ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory, or a shipped model: default, or fast "
                                       "(character n-grams only, ~3x faster to label).",
                 show_default=False),
]
TextCol = Annotated[str, typer.Option(help="Text column of CSV/JSONL inputs.")]
IdCol = Annotated[str, typer.Option(help="Id column of CSV/JSONL inputs.")]
LabelCol = Annotated[str, typer.Option(help="Label column of a labels table.")]
GroupCol = Annotated[str, typer.Option(help="Report column of a labels table.")]
ParagraphsOpt = Annotated[Path | None, typer.Option(help="Paragraphs JSONL (as for train).")]
LabelsOpt = Annotated[list[str], typer.Option(
    "--labels", help="Labels (as for train); repeatable, merged by id.")]
PreferOpt = Annotated[str | None, typer.Option(
    help="An id labeled differently in two --labels files: first (the file given first "
         "wins), last, or a file name (that file wins); without it, a conflict is an error.")]
StrictLabelsOpt = Annotated[bool, typer.Option(
    "--strict", help="A blank label cell (a row not coded yet) is an error instead of being "
                     "skipped with a warning.")]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Stop at the first bad file or record (exit 2, no output written) instead "
                     "of reporting and skipping it (then exit 5 with the rest labeled).")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Log each file read, with its format and encoding.")]


class _StderrHandler(logging.Handler):
    """Log records of ``policy_nlp`` to the standard error of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        log(f"policy-nlp: {record.getMessage()}")


def set_verbose(verbose: bool) -> None:
    logger = logging.getLogger("policy_nlp")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def error_policy(strict: bool):
    """The reading layer's error policy: None (raise) for --strict, else skip and report."""
    from .read import SkipAndReport

    return None if strict else SkipAndReport(report=lambda m: log(f"policy-nlp: {m}"))


def finish(policy, n: int) -> None:
    """After a run: exit 5 (EXIT_SKIPPED) with a summary if the policy reported problems."""
    if policy is not None and policy.problems:
        log(f"policy-nlp: warning: {n} paragraphs labeled; {policy.summary()}")
        raise typer.Exit(EXIT_SKIPPED)


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

    def _show(self, end: str) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        sys.stderr.write(f"{self.what}: {self.n:,} ({self.n / elapsed:,.0f}/s, "
                         f"{elapsed:.1f}s){end}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._show(end="\n")


@app.command()
@handle_errors
def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    labels: Annotated[list[str], typer.Option(
        "--labels", help="Labels: JSONL with id/label (joined to --paragraphs), a "
                         "CSV/JSONL/XLSX table with text and label columns, a Label Studio "
                         "export (JSON, JSON-MIN, CSV) or doccano JSONL. Repeatable (merged "
                         "by id); FILE:text=COL,label=COL,id=COL,group=COL names one file's "
                         "columns (the rest are found by name).")],
    paragraphs: Annotated[Path | None, typer.Option(
        help="Paragraphs JSONL (id, report_id, level, text) that --labels refers to by id.")] = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: Annotated[str, typer.Option(
        help="Report column of a labels table: cross-validation never splits a report.")
    ] = "report_id",
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook TOML (default: the 17 policy themes).")] = None,
    classifier: Annotated[Classifier, typer.Option(help="Linear classifier.")] = (
        Classifier.linear_svc),
    c: Annotated[float, typer.Option("--C", help="Inverse regularization strength.")] = (
        _DEFAULTS.C),
    cv_folds: Annotated[int, typer.Option(
        help="Report-grouped cross-validation folds for the card's metrics, the calibration "
             "and the secondary-theme threshold (0 skips them).")] = 5,
    min_df: Annotated[int, typer.Option(
        help="Keep only n-grams found in at least this many paragraphs.")] = (
        _DEFAULTS.features.min_df),
    features: Annotated[FeatureSet, typer.Option(
        help="char+word: character 1-3-grams and word 1-2-grams (the default model); char: "
             "character 1-3-grams only: no word segmentation, ~3x faster to label, as "
             "accurate on the shared labels, explanations in character n-grams (the shipped "
             "'fast' model).")] = FeatureSet.char_word,
    class_weight: Annotated[ClassWeight, typer.Option(
        help="balanced: weigh each theme's paragraphs by the inverse of its share, for "
             "labels where some themes are rare (on the shared labels it scored slightly "
             "lower: benchmarks/results/model_search.md).")] = ClassWeight.none,
    sentence_weight: Annotated[float, typer.Option(
        help="Weight of the sentences of single-theme paragraphs (no secondary theme) as "
             "extra training rows (0: none; labels without secondary themes get none).")] = (
        _DEFAULTS.sentence_weight),
    era_balance: Annotated[float, typer.Option(
        help="Weigh each era's rows (up to 1990, 1991-2012, after 2012; from the year of "
             "the paragraphs file or a 'year' column) by (n / (eras x n_era)) ** this: 1 gives "
             "every era the same weight, 0 none (labels without years get none).")] = (
        _DEFAULTS.era_balance),
    seed: Annotated[int, typer.Option(help="Random seed of the folds.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j",
                                      help="Processes for the cross-validation folds.")] = 2,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Train a model from labeled paragraphs and write it with its model card."""
    from .codebook import resolve_codebook
    from .metrics import format_metrics
    from .features import FeatureSpec
    from .train import TrainConfig
    from .model import check_model_output
    from .train import train as train_model

    # the configuration first: a bad argument stops the command before the labels are read
    spec = FeatureSpec(min_df=min_df) if features is FeatureSet.char_word else FeatureSpec(
        min_df=min_df, word_ngram=None)
    config = TrainConfig(features=spec, classifier=classifier.value, C=c,
                         cv_folds=cv_folds, seed=seed, sentence_weight=sentence_weight,
                         era_balance=era_balance, n_jobs=jobs,
                         class_weight=None if class_weight is ClassWeight.none else "balanced")
    check_model_output(output)
    book = resolve_codebook(codebook)
    data = _load_labels(labels, paragraphs, text_col, label_col, id_col, group_col, book,
                        strict=False, prefer=prefer, blank_errors=strict, warn_blank=False)
    _check_labels(data, book, labels)
    log(f"{len(data)} labeled paragraphs from {len(set(data.groups))} reports, "
        f"{len(data.counts())} themes")
    if data.grouping == "row":
        log(f"warning: some rows name no report (no {group_col!r} column value, no '#' in the "
            "id), so cross-validation splits them as single paragraphs; paragraphs of one "
            "report are correlated and the scores will be optimistic")
    started = time.monotonic()
    model = train_model(data, config=config, codebook=book, progress=log)
    model.card["training"]["seconds"] = round(time.monotonic() - started, 1)
    model.save(output)
    log(f"model written to {output} ({time.monotonic() - started:.1f}s)")
    cv = model.card["metrics"]["cross_validation"]
    if cv:
        print(f"report-grouped {cv['folds']}-fold cross-validation")
        print(format_metrics(cv))


def _load(model: Path | None):
    from .model import load_model

    return load_model(model)


@app.command()
@handle_errors
def classify(
    file: Annotated[str | None, typer.Argument(
        help="A report file (.txt, .docx, .pdf, .html, .csv, .jsonl), or - for standard input.",
        show_default=False)] = None,
    text: Annotated[str | None, typer.Option("--text", "-t",
                                             help="Classify this text instead of a file.")] = None,
    format: Annotated[OutFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutFormat.table),
    model: ModelOpt = None,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    unit: Annotated[UnitOpt, typer.Option(
        help="sentence: also label each sentence and give each paragraph the themes its "
             "sentences carry, with their shares (themes, sentences).")] = UnitOpt.paragraph,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Add the evidence: the terms that contributed most to each "
                          "paragraph's label (TF-IDF weight x the model's coefficient).")] = False,
    explain_terms: Annotated[int, typer.Option(min=1, help="Terms of evidence per paragraph.")
                             ] = 5,
) -> None:
    """Classify every paragraph of one report (or one pasted text)."""
    from .predict import iter_units, label_sentences, label_units, units_of_text
    from .read import iter_documents

    if file is None and text is None:
        raise InputError("nothing to classify: give a report FILE (or - for standard input) "
                         "or --text TEXT")
    if file is not None and text is not None:
        raise InputError("give a report FILE (or - for standard input) or --text, not both")
    set_verbose(verbose)
    policy = error_policy(strict)
    m = _load(model)
    if text is not None:
        units = units_of_text(text)
    else:
        docs = iter_documents([file], text_col=text_col, id_col=id_col, on_error=policy)
        units = list(iter_units(docs, records="reports"))
        if not units:
            raise InputError(f"{file}: no paragraphs found")
    labeler = label_sentences if unit is UnitOpt.sentence else label_units
    records = list(labeler(m, units))
    if explain:
        from .explain import explain_text

        for rec in records:
            found = explain_text(m, rec["text"], theme=rec["label"], top=explain_terms)
            rec["evidence"] = [c.to_dict() for c in found.terms]
    _emit(records, format, m.themes)
    finish(policy, len(records))


def _emit(records: list[dict], fmt: OutFormat, themes: list[str]) -> None:
    from .write import format_table, write_csv, write_jsonl

    if fmt is OutFormat.table:
        import shutil

        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        sys.stdout.write(format_table(records, width=width))
    elif fmt is OutFormat.jsonl:
        write_jsonl(records, sys.stdout)
    else:
        write_csv(records, sys.stdout, themes)


class Engine(str, Enum):
    local = "local"
    dask = "dask"


@app.command()
@handle_errors
def label(
    inputs: Annotated[list[str], typer.Argument(
        help="Report files (.txt, .docx, .pdf, .html), directories, CSV/JSONL files of records; "
             "- for standard input.")],
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="OUT.jsonl or OUT.csv (- for standard output); "
                                             "with --engine dask, a directory of parts.")],
    format: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="jsonl or csv (default: from the output's extension).",
        show_default=False)] = None,
    model: ModelOpt = None,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    records: Annotated[Records, typer.Option(
        help="A CSV/JSONL record is one paragraph (one output line per input line), a report "
             "to split into paragraphs, or auto: split when it has several lines.")] = (
        Records.paragraphs),
    include_text: Annotated[bool, typer.Option(
        "--include-text/--no-include-text", "--text/--no-text",
        help="Copy each paragraph's text to the output (--no-text: the older name).")] = True,
    progress: Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="Show progress on standard error.")] = True,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (local engine), "
                                      "or workers of the local Dask cluster.")] = 1,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue an interrupted run (killed, crashed) of the same command "
                         "from its checkpoint OUT.checkpoint.json.")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="Start over, discarding the work an interrupted run left "
                          "(without --resume or --restart, such a run is refused).")] = False,
    checkpoint_every: Annotated[float, typer.Option(
        help="Seconds between checkpoints (fsync of the partial output and the checkpoint): "
             "at most this much work is redone by --resume.")] = 2.0,
    engine: Annotated[Engine, typer.Option(help="local: this machine, streaming; dask: "
                                                "partitions on a Dask cluster.")] = Engine.local,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://HOST:PORT); default: start a local cluster.",
        show_default=False)] = None,
    partition_rows: Annotated[int, typer.Option(
        help="Dask engine: JSONL lines per partition.")] = 20_000,
    unit: Annotated[UnitOpt, typer.Option(
        help="sentence: also label each sentence and give each paragraph the themes its "
             "sentences carry, with their shares (themes, sentences).")] = UnitOpt.paragraph,
) -> None:
    """Label every paragraph of many inputs into one JSONL or CSV file."""
    from .batch import LabelOptions, label_dask, label_to_file
    from .write import format_for_path

    fmt = format_for_path(output, given=format.value if format else None)
    set_verbose(verbose)
    policy = error_policy(strict)
    opts = LabelOptions(fmt=fmt, text_col=text_col, id_col=id_col, records=records.value,
                        include_text=include_text, unit=unit.value)
    started = time.monotonic()
    if engine is Engine.dask:
        if resume:
            raise InputError("--resume is for the local engine; the dask engine rewrites its "
                             "parts")
        if verbose:
            log("note: --verbose applies to the local engine; the dask engine stops at the "
                "first bad input (duplicate ids are reported as kept, or stop it with --strict)")
        manifest = label_dask(inputs, output, model_dir=model, opts=opts, scheduler=scheduler,
                              n_workers=jobs, partition_rows=partition_rows, log=log,
                              on_error=policy)
        n = manifest["rows"]
        log(f"{n} paragraphs labeled in {time.monotonic() - started:.1f}s -> {output}/ "
            f"({len(manifest['parts'])} parts, manifest.json)")
        finish(policy, n)
        return
    if scheduler:
        raise InputError("--scheduler needs --engine dask")
    if resume and restart:
        raise InputError("--resume continues an interrupted run, --restart discards it: "
                         "give one")
    bar = Progress("paragraphs labeled", enabled=progress)
    try:
        n = label_to_file(inputs, output, model_dir=model, opts=opts, jobs=jobs,
                          resume=resume, restart=restart, commit_every=checkpoint_every,
                          progress=bar.update, log=log, on_error=policy)
    except KeyboardInterrupt as exc:
        bar.close()
        if getattr(exc, "kept", None):
            log(f"policy-nlp: interrupted; the work done so far is kept in {exc.kept}: run the "
                "same command with --resume to continue it")
            raise typer.Exit(exc.exit_code) from None
        raise
    bar.close()
    if n == 0:
        log("warning: no paragraphs found in the inputs")
    log(f"{n} paragraphs labeled in {time.monotonic() - started:.1f}s -> {output}")
    finish(policy, n)


@app.command()
@handle_errors
def profile(
    inputs: Annotated[list[str], typer.Argument(
        help="Report files, directories, CSV/JSONL files of reports (or of paragraphs with a "
             "report_id); - for standard input.")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="The panel: OUT.csv, OUT.parquet or OUT.jsonl (- for CSV on "
                               "standard output).")],
    model: ModelOpt = None,
    unit: Annotated[UnitOpt, typer.Option(
        help="Attribute whole paragraphs to their label, or each sentence to its own (a "
             "paragraph is then shared among its sentences' themes).")] = UnitOpt.paragraph,
    long: Annotated[bool, typer.Option(
        "--long", help="Tidy form: one row per report and theme (then per report and group), "
                       "with char_share and para_share columns.")] = False,
    name_pattern: Annotated[str | None, typer.Option(
        help="Metadata from file names, e.g. '{region}_{year}.txt' or '{level}/{region}/"
             "{year}.txt' (matched against the end of each report file's path, or each "
             "record's id).", show_default=False)] = None,
    records: Annotated[Records, typer.Option(
        help="A CSV/JSONL record is a report to split into paragraphs, one paragraph of the "
             "report named by its report_id field, or auto: split when it has several lines."
    )] = Records.auto,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    progress: Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="Show progress on standard error.")] = True,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    validation: Annotated[Path | None, typer.Option(
        help="A coded sheet of validation-sample (CSV or XLSX, its 'label' column filled in): "
             "writes each theme's share in all reports and in each level, corrected by the "
             "coded sample (prediction-powered, with 95% intervals), to --corrected, and "
             "prints how the model did on the sample.", show_default=False)] = None,
    corrected: Annotated[str | None, typer.Option(
        help="Where --validation writes the corrected shares (.csv, .parquet, .jsonl, .dta; "
             "default: the output's name with .validated before its extension).",
        show_default=False)] = None,
    estimator: Annotated[str | None, typer.Option(
        help="How shares are estimated: cc (classify and count), pcc (mean probabilities), "
             "acc, pacc (corrected by the model's misclassification rates for the report's "
             "level and era), emq (EM prior adjustment), bayesian_cc (posterior mean). "
             "Default: the one benchmarks/shares.py picked, cc (see the README).",
        show_default=False)] = None,
    ci: Annotated[float | None, typer.Option(
        help="Add lower and upper bounds of this level (e.g. 0.95) beside every share: "
             "intervals for the shares careful coders would give, calibrated by level and era "
             "(needs a model trained with this version).", show_default=False)] = None,
    by: Annotated[str | None, typer.Option(
        help="Comma-separated metadata columns (e.g. level,year; decade comes from year): "
             "add a row per group of reports, shares weighted by characters.",
        show_default=False)] = None,
) -> None:
    """Profile reports: one row per report with its metadata and each theme's share."""
    from .aggregate import iter_labeled, long_panel, profile_estimated
    from .shares import DEFAULT_ESTIMATOR, ShareRates, check_estimator
    from .codebook import resolve_codebook
    from .read import iter_documents
    from .write import check_output_file, check_panel_writer, panel_format, write_panel

    fmt = panel_format(output)
    check_panel_writer(output, fmt)
    read_too = [*inputs, validation]  # an output must not replace what the run reads
    check_output_file(output, read_too)
    if validation is not None:  # profile --validation
        from .validation import Population, read_coded_sheet, validate_profile

        if corrected is None and output == "-":
            raise InputError("--validation with the panel on standard output needs "
                             "--corrected FILE for the corrected shares")
        corrected = corrected or str(Path(output).with_suffix(".validated"
                                                              + Path(output).suffix))
        if output != "-" and Path(corrected).resolve() == Path(output).resolve():
            raise InputError(f"--corrected {corrected} is the panel's own output; name "
                             "another file")
        check_panel_writer(corrected, panel_format(corrected))
        check_output_file(corrected, read_too)
    set_verbose(verbose)
    policy = error_policy(strict)
    m = _load(model)
    book = resolve_codebook(model=m)
    population = None
    if validation is not None:
        # a bad sheet stops here, before any work
        read_coded_sheet(validation, m.themes, codebook=book)
        population = Population(list(m.themes))
    rates = ShareRates.from_card(m.card, m.themes)
    estimator = estimator or DEFAULT_ESTIMATOR
    check_estimator(estimator, rates)
    by_cols = [c.strip() for c in by.split(",") if c.strip()] if by else None
    bar = Progress("paragraphs profiled", enabled=progress)
    started = time.monotonic()

    def counted():
        docs = iter_documents(inputs, text_col=text_col, id_col=id_col, on_error=policy)
        for rec in iter_labeled(m, docs, unit=unit.value, records=records.value,
                                name_pattern=name_pattern, on_error=policy,
                                sentence_scores=estimator != "cc" or ci is not None):
            bar.update()
            yield rec

    labeled = counted() if population is None else population.collect(counted())
    rows = profile_estimated(labeled, book, themes=m.themes, unit=unit.value,
                             estimator=estimator, ci=ci, rates=rates, by=by_cols)
    bar.close()
    if not rows:
        skipped = policy.skipped if policy is not None else 0
        raise InputError("no paragraphs found in the inputs"
                         + (f" (every input was skipped: {skipped})" if skipped else ""))
    if population is not None:
        shares, metrics, sheet = validate_profile(
            population, validation, themes_zh={t.id: t.zh for t in book.themes}, codebook=book)
    write_panel(long_panel(rows, book, themes=m.themes) if long else rows, output, fmt,
                codebook=book)
    log(f"{len(rows)} reports ({bar.n} paragraphs) profiled in "
        f"{time.monotonic() - started:.1f}s -> {output}")
    if population is not None:
        from .validation import format_sample_metrics

        write_panel(shares, corrected, codebook=book)
        if sheet.blank:
            log(f"warning: {validation}: {sheet.blank} rows with an empty label were left "
                "out (the rest of each stratum is taken as its random sample)")
        log(f"shares corrected by {len(sheet.ids)} coded paragraphs -> {corrected}")
        print(format_sample_metrics(metrics), file=sys.stderr if output == "-" else sys.stdout)
    finish(policy, bar.n)


class Allocation(str, Enum):
    equal = "equal"
    proportional = "proportional"


@app.command("validation-sample")
@handle_errors
def validation_sample(
    inputs: Annotated[list[str], typer.Argument(
        help="The inputs you will profile (as for profile).")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="The coding sheet: OUT.csv (UTF-8 with a BOM) or OUT.xlsx.")],
    n: Annotated[int, typer.Option("-n", help="Paragraphs to draw.")] = 300,
    strata: Annotated[str | None, typer.Option(
        help="Stratify by this metadata field (e.g. level): a random sample within each of "
             "its values.", show_default=False)] = None,
    allocation: Annotated[Allocation, typer.Option(
        help="equal: the same number from each stratum (capped by its size); proportional: "
             "in proportion to the strata's sizes.")] = Allocation.equal,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same sample.")
                    ] = 0,
    model: ModelOpt = None,
    name_pattern: Annotated[str | None, typer.Option(
        help="As for profile.", show_default=False)] = None,
    records: Annotated[Records, typer.Option(help="As for profile.")] = Records.auto,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """A random sample of paragraphs to code by hand, for profile --validation.

    Each row has the paragraph's inclusion probability (n_h / N_h of its stratum), id, report,
    metadata and text, an empty 'label' column for the coder, and the model's label last
    ('predicted': hide it while coding). Once coded:
    policy-nlp profile INPUT... -o panel.csv --validation sheet.csv
    """
    from .read import iter_documents
    from .validation import validation_sheet
    from .write import check_output_file, check_sheet_output, write_sheet

    check_sheet_output(output)
    check_output_file(output, inputs)
    set_verbose(verbose)
    policy = error_policy(strict)
    m = _load(model)
    docs = iter_documents(inputs, text_col=text_col, id_col=id_col, on_error=policy)
    bar = Progress("paragraphs labeled")
    rows, sample, population = validation_sheet(
        m, docs, n, strata=strata, allocation=allocation.value, seed=seed,
        records=records.value, name_pattern=name_pattern, progress=bar.update)
    bar.close()
    write_sheet(rows, output)
    per = ", ".join(f"{h} {sample.taken[h]} of {sample.sizes[h]:,}" for h in sample.sizes)
    log(f"{len(rows)} of {len(population):,} paragraphs drawn ({per}) -> {output}; fill in "
        "the 'label' column, then: policy-nlp profile ... --validation " + output)
    finish(policy, len(population))


@app.command()
@handle_errors
def plot(
    panels: Annotated[list[Path], typer.Argument(
        help="Panels written by profile (CSV, Parquet or JSONL; wide or --long).")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="A folder for the figures (KIND.png …), or one FILE.png / "
                               "FILE.svg for a single --kind.")],
    kind: Annotated[PlotKind, typer.Option(
        help="bars: stacked theme shares per report; heatmap: rows (regions) x themes; "
             "trends: chosen themes over the years; all: the three.")] = PlotKind.all,
    fmt: Annotated[str, typer.Option("--format", help="png or svg, for a folder.")] = "png",
    where: Annotated[list[str] | None, typer.Option(
        help="Keep the reports whose COLUMN equals VALUE, e.g. level=national; repeat to "
             "narrow further.", metavar="COLUMN=VALUE", show_default=False)] = None,
    themes: Annotated[str | None, typer.Option(
        help="Comma-separated theme (or with --groups, group) ids for the trends "
             "(default: the six largest, general left out).", show_default=False)] = None,
    measure: Annotated[Measure, typer.Option(
        help="Shares by characters or by paragraphs.")] = Measure.chars,
    groups: Annotated[bool, typer.Option("--groups", help="Theme groups instead of themes.")
                      ] = False,
    rows: Annotated[str, typer.Option(help="The panel column the heatmap's rows are.")
                    ] = "region",
    dpi: Annotated[int, typer.Option(help="Resolution of PNG figures.")] = 150,
    per_figure: Annotated[int, typer.Option(
        min=0, help="At most this many bars (reports) or heatmap rows per figure; more make "
                    "several figures, KIND-1.png, KIND-2.png … (0: one figure).")] = 40,
) -> None:
    """Draw figures of a panel: stacked bars, a regions x themes heatmap, trends over years."""
    import warnings

    from .report import require_matplotlib

    require_matplotlib("plot")
    from . import plot as plots
    from .write import check_output_dir, check_output_file

    panel = plots.filter_panel(plots.read_panel(panels), where or [])
    kinds = list(plots.KINDS) if kind is PlotKind.all else [kind.value]
    if output.suffix.lower() in (".png", ".svg"):
        if len(kinds) > 1:
            raise InputError(f"{output}: one file holds one figure; give --kind, or a folder")
        check_output_file(output)
        targets = [output]
    else:
        if fmt not in ("png", "svg"):
            raise InputError(f"--format {fmt}: figures are png or svg")
        check_output_dir(output)
        output.mkdir(parents=True, exist_ok=True)
        targets = [output / f"{k}.{fmt}" for k in kinds]
    chosen = [t.strip() for t in themes.split(",") if t.strip()] if themes else None
    common = {"measure": measure.value, "groups": groups}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", plots.MissingCJKFontWarning)
        for k, target in zip(kinds, targets, strict=True):
            parts = plots.pages(panel, k, rows=rows, per_page=per_figure)
            for i, part in enumerate(parts, 1):
                title = None if len(parts) == 1 else f"{k}, part {i} of {len(parts)}"
                if k == "bars":
                    fig = plots.bars(part, title=title, **common)
                elif k == "heatmap":
                    fig = plots.heatmap(part, rows=rows, title=title, **common)
                else:
                    fig = plots.trends(part, themes=chosen, **common)
                path = target if len(parts) == 1 else target.with_name(
                    f"{target.stem}-{i}{target.suffix}")
                plots.save_figure(fig, path, dpi=dpi)
                log(f"{k}: {path}")
    for w in {str(w.message) for w in caught}:
        log(f"warning: {w}")


@app.command()
@handle_errors
def explain(
    text: Annotated[str, typer.Option("--text", "-t", help="The paragraph to explain.")],
    theme: Annotated[str | None, typer.Option(
        help="Explain this theme's score (default: the predicted theme).", show_default=False)
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many terms to show.")] = 10,
    model: ModelOpt = None,
    output_format: FormatOpt = TextFormat.text,
    as_json: JsonOpt = False,
) -> None:
    """Show why a text got its theme: the terms that contributed most (TF-IDF x weight)."""
    from .explain import explain_text
    from .read import without_surrogates

    m = _load(model)
    text = without_surrogates(text)
    found = explain_text(m, text, theme=theme, top=top)
    if as_json or output_format is TextFormat.json:
        print(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
        return
    proba = m.predict_proba([text])[0]
    ranked = sorted(zip(m.themes, proba, strict=True), key=lambda tp: -tp[1])
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


@app.command()
@handle_errors
def themes(
    top_terms: Annotated[int, typer.Option(
        min=0, help="Also list each theme's N strongest terms (largest model weights).")] = 0,
    theme: Annotated[list[str] | None, typer.Option(
        help="Only this theme (repeatable).", show_default=False)] = None,
    model: ModelOpt = None,
    output_format: FormatOpt = TextFormat.text,
    as_json: JsonOpt = False,
) -> None:
    """List the model's themes (id, group, name), with --top-terms their strongest terms."""
    from .codebook import resolve_codebook
    from .explain import top_terms as strongest

    m = _load(model)
    book = resolve_codebook(model=m)
    chosen = theme or m.themes
    unknown = [t for t in chosen if t not in m.themes]
    if unknown:
        raise InputError(f"unknown theme {unknown[0]!r}; the model's themes are "
                         f"{', '.join(m.themes)}")
    out = []
    for t in chosen:
        th = book.theme(t)
        entry = {"id": t, "group": th.group, "zh": th.zh, "en": th.en}
        if top_terms:
            entry["top_terms"] = [x.to_dict() for x in strongest(m, t, top_terms)]
        out.append(entry)
    if as_json or output_format is TextFormat.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for entry in out:
        print(f"{entry['id']:<22}{entry['group']:<22}{pad(entry['zh'], 20)}{entry['en']}")
        for rank, x in enumerate(entry.get("top_terms", []), 1):
            print(f"    {rank:>3} {pad(x['term'].replace(' ', '·'), 20)}{x['kind']:<6}"
                  f"{x['weight']:+.3f}")
        if top_terms:
            print()


@app.command()
@handle_errors
def evaluate(
    labels: LabelsOpt,
    paragraphs: ParagraphsOpt = None,
    model: ModelOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    cv_folds: Annotated[int, typer.Option(
        help="Instead of scoring the model as it is, retrain its configuration in K "
             "report-grouped folds on these labels and score the held-out reports.")] = 0,
    learning_curve: Annotated[bool, typer.Option(
        "--learning-curve", help="With --cv-folds: also train on 10%…100% of each fold's "
                                 "training reports (slow) for a learning curve.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the metrics as JSON here.")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Write an HTML report (index.html with figures) into this directory.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for the folds.")] = 2,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Accuracy, macro-F1, per-theme precision/recall/F1 and the confusion matrix."""
    from .codebook import resolve_codebook
    from .evaluate import (evaluate_as_is, evaluate_configuration, format_metrics,
                           training_overlap)
    from .write import atomic_output, check_output_dir, check_output_file

    check_output_file(output, [*labels, paragraphs])
    if report is not None:
        from .report import require_matplotlib

        require_matplotlib("evaluate --report")
        check_output_dir(report)
    m = _load(model)
    book = resolve_codebook(model=m)
    data = _load_labels(labels, paragraphs, text_col, label_col, id_col, group_col, book,
                        prefer=prefer, blank_errors=strict)
    curve = None
    if cv_folds:
        metrics, reliability, curve = evaluate_configuration(
            m, data, cv_folds=cv_folds, n_jobs=jobs, with_learning_curve=learning_curve,
            source=_labels_name(labels), progress=log)
    else:
        if overlap := training_overlap(m, data):
            log(f"warning: {overlap}, so scores on them are optimistic; score it on labels it "
                "was not trained on, or use --cv-folds 5 (or the card's cross-validation "
                "metrics)")
        metrics, reliability = evaluate_as_is(m, data, source=_labels_name(labels))
    if output is not None:
        with atomic_output(output) as fh:
            fh.write(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n")
        log(f"metrics written to {output}")
    if report is not None:
        from .report import write_report

        page = write_report(report, metrics, reliability=reliability, learning_curve=curve)
        log(f"report written to {page}")
    print(format_metrics(metrics))


@app.command()
@handle_errors
def audit(
    labels: LabelsOpt,
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="Review sheet: OUT.csv or OUT.jsonl.")],
    paragraphs: ParagraphsOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    top: Annotated[int, typer.Option(help="Write at most this many rows (0: all).")] = 0,
    cv_folds: Annotated[int, typer.Option(help="Report-grouped folds.")] = 5,
    min_df: Annotated[int, typer.Option(help="As for train.")] = _DEFAULTS.features.min_df,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for the folds.")] = 2,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
    codebook: Annotated[Path | None, typer.Option(
        help="The codebook the labels are coded with (TOML; default: the shipped one), as for "
             "train.", show_default=False)] = None,
) -> None:
    """Flag labeled paragraphs whose label looks wrong, most suspect first.

    Every paragraph is scored by a model trained without its report; the sheet lists those
    where that model prefers another theme, with the margin p(suggested) - p(given), and an
    empty 'verdict' column for the reviewer.
    """
    from .audit import audit_labels
    from .codebook import resolve_codebook
    from .features import FeatureSpec
    from .train import TrainConfig
    from .write import check_output_file, format_for_path, write_table

    fmt = format_for_path(output, "csv")
    check_output_file(output, [*labels, paragraphs])
    book = resolve_codebook(codebook)
    data = _load_labels(labels, paragraphs, text_col, label_col, id_col, group_col, book,
                        prefer=prefer, blank_errors=strict)
    config = TrainConfig(features=FeatureSpec(min_df=min_df), cv_folds=max(cv_folds, 2),
                         n_jobs=jobs)
    rows = audit_labels(data, config=config, codebook=book, progress=log)
    if top:
        rows = rows[:top]
    n = write_table((r.to_dict() for r in rows), output, fmt)
    log(f"{n} suspect labels of {len(data)} written to {output}")


@app.command()
@handle_errors
def suggest(
    pool: Annotated[Path, typer.Option(help="Unlabeled paragraphs: JSONL (id, text, "
                                            "report_id), CSV, or reports to split.")],
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="Coding sheet: OUT.csv (opens in a spreadsheet) "
                                             "or OUT.jsonl.")],
    n: Annotated[int, typer.Option("-n", help="How many paragraphs to suggest.")] = 200,
    model: ModelOpt = None,
    per_report: Annotated[int | None, typer.Option(
        help="At most this many paragraphs of one report (default: twice the even share, "
             "at least 2).")] = None,
    labeled: Annotated[list[Path] | None, typer.Option(
        help="Labels already coded or given out (CSV/JSONL/XLSX with an id column, Label "
             "Studio or doccano files): their ids are skipped. Repeatable.")] = None,
    text_col: TextCol = "text",
    id_col: IdCol = "id",
    sheet_format: Annotated[SheetFormat, typer.Option(
        "--format", help="auto: CSV or JSONL by the output's extension; label-studio: Label "
                         "Studio tasks (JSON) with the model's guess as a prediction; doccano: "
                         "doccano text-classification JSONL.")] = None,
) -> None:
    """Paragraphs worth coding next, as a coding sheet with the model's guess.

    Margin sampling (the smallest gap between the two most probable themes first), spread
    by taking predicted themes in turn and capping each report. Fill in the empty 'label'
    column and train on the sheet: policy-nlp train --labels sheet.csv -o my-model.
    """
    from .active import read_pool
    from .active import suggest as make_sheet
    from .labels import label_file_ids
    from .write import atomic_output, check_output_file, format_for_path, write_table

    tool = sheet_format is not None and sheet_format is not SheetFormat.auto
    if tool:  # a tool's file: its own extension, never a .csv that holds JSON
        wanted = ".json" if sheet_format is SheetFormat.label_studio else ".jsonl"
        if output != "-" and Path(output).suffix.lower() != wanted:
            raise InputError(f"{output}: --format {sheet_format.value} writes {wanted[1:]}; "
                             f"name the output OUT{wanted}")
    else:
        fmt = format_for_path(output, "csv")
    check_output_file(output, [pool, *(labeled or [])])
    m = _load(model)
    items = read_pool(pool, text_col=text_col, id_col=id_col)
    done: set[str] = set()
    for path in labeled or []:
        done |= label_file_ids(path, id_col=id_col)
    log(f"{len(items)} paragraphs of {len({i.report_id for i in items})} reports in the pool"
        + (f", {len(done)} ids already labeled" if done else ""))
    rows = make_sheet(m, items, n, per_report=per_report, labeled_ids=done)
    if tool:
        from .annotate import write_sheet

        with atomic_output(output) as out:
            written = write_sheet(rows, out, sheet_format.value,
                                  model_version=str(m.card.get("name") or model or "default"))
    else:
        written = write_table(rows, output, fmt)
    if written < n:
        log(f"only {written} paragraphs could be suggested (pool size, --per-report and "
            "duplicate texts limit the choice)")
    if tool:
        log(f"{written} tasks written to {output}; import them into "
            f"{'Label Studio' if sheet_format is SheetFormat.label_studio else 'doccano'}, "
            f"code them, export, then policy-nlp train --labels EXPORT -o MODEL")
    else:
        log(f"{written} paragraphs to code written to {output}; fill in the 'label' column, "
            f"then policy-nlp train --labels {output} -o MODEL")


@app.command()
@handle_errors
def compare(
    first: Annotated[Path, typer.Argument(help="The first model directory (the baseline).")],
    second: Annotated[Path, typer.Argument(help="The second model directory.")],
    labels: Annotated[list[str], typer.Option(
        "--labels", help="Labels (as for train; repeatable), held out from both.")],
    paragraphs: ParagraphsOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the reports.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the comparison as JSON here.")
                      ] = None,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Which model is better on these labels: overall, per theme, and a 95% interval for the
    macro-F1 difference (second minus first) from a paired bootstrap over reports."""
    from .compare import compare_models, format_comparison
    from .evaluate import training_overlap
    from .write import atomic_output

    from .codebook import resolve_codebook

    m1, m2 = _load(first), _load(second)
    data = _load_labels(labels, paragraphs, text_col, label_col, id_col, group_col,
                        resolve_codebook(model=m1), prefer=prefer, blank_errors=strict)
    for name, m in ((first, m1), (second, m2)):
        if overlap := training_overlap(m, data, str(name)):
            log(f"warning: {overlap}, so the comparison favours it; compare on labels held "
                "out from both")
    if data.grouping == "row":
        log("warning: some rows name no report, so the bootstrap resamples them as single "
            "paragraphs and the interval is too narrow")
    result = compare_models(m1, m2, data, n_boot=resamples, seed=seed)
    if output is not None:
        with atomic_output(output) as fh:
            fh.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        log(f"comparison written to {output}")
    print(format_comparison(result, str(first), str(second)))


def _load_labels(labels, paragraphs, text_col, label_col, id_col, group_col, book,
                 strict: bool = True, prefer: str | None = None, blank_errors: bool = False,
                 warn_blank: bool = True):
    """The labels of one or more --labels files; the rows skipped for a blank label are
    warned about here (``warn_blank``) or by the validation report."""
    from .labels import blank_summary, load_labels

    data = load_labels(labels, paragraphs=paragraphs, codebook=book, strict=strict,
                       prefer=prefer, blank="error" if blank_errors else "skip",
                       columns={"text": text_col, "label": label_col, "id": id_col,
                                "group": group_col})
    if warn_blank and data.blank:
        log(f"policy-nlp: warning: {blank_summary(data.blank)}")
    return data


def _labels_name(labels: list[str]) -> str:
    from .labels import LabelSource

    return "+".join(LabelSource.parse(s).path.name for s in labels)


def _check_labels(data, book, labels: list[str]):
    """Print the validation report's findings to stderr; refuse on errors."""
    from .labels import validate

    report = validate(data, book)
    for problem in report.warnings:
        log(f"policy-nlp: warning: {problem.message}")
    if len(report.errors) == 1:
        raise InputError(report.errors[0].message)
    if report.errors:
        for problem in report.errors:
            log(f"policy-nlp: bad label: {problem.message}")
        raise InputError(f"{_labels_name(labels)}: {len(report.errors)} bad labels (listed "
                         "above); nothing trained")
    return report


@app.command("validate-labels")
@handle_errors
def validate_labels(
    labels: LabelsOpt,
    paragraphs: ParagraphsOpt = None,
    text_col: TextCol = "text",
    label_col: LabelCol = "label",
    id_col: IdCol = "id",
    group_col: GroupCol = "report_id",
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook TOML (default: the 17 policy themes).")] = None,
    output_format: FormatOpt = TextFormat.text,
    as_json: JsonOpt = False,
    prefer: PreferOpt = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """The validation report train runs first: every bad row with its row number.

    Errors (training refuses): unknown ids, unknown themes, empty texts, ids labeled twice,
    one id or text with different labels, themes with fewer than 2 examples. Warnings: rows
    with a blank label (skipped; errors with --strict), themes with fewer than 20 examples,
    duplicate texts, class imbalance above 10:1, codebook themes without examples. Exit 0
    without errors, 2 with.
    """
    from .codebook import resolve_codebook
    from .labels import validate

    book = resolve_codebook(codebook)
    data = _load_labels(labels, paragraphs, text_col, label_col, id_col, group_col, book,
                        strict=False, prefer=prefer, blank_errors=strict, warn_blank=False)
    report = validate(data, book)
    if as_json or output_format is TextFormat.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            print(problem)
        print(report.summary())
        print("  ".join(f"{t} {n}" for t, n in report.counts.items()))
    if not report.ok:
        raise typer.Exit(2)


@app.command("label-config")
@handle_errors
def label_config_cmd(
    model: Annotated[Path | None, typer.Option(
        "--model", "-m", help="Take the codebook of this model's card.", show_default=False)
    ] = None,
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook TOML (default: the 17 policy themes).")] = None,
) -> None:
    """The Label Studio labeling configuration (XML) of the codebook: paste it into a
    project's Settings > Labeling Interface, then import `suggest --format label-studio`."""
    from .annotate import label_config
    from .codebook import resolve_codebook

    if model is not None and codebook is not None:
        raise InputError("give --model or --codebook, not both")
    book = resolve_codebook(codebook, model=_load(model) if model is not None else None)
    sys.stdout.write(label_config(book))


@app.command("agreement")
@handle_errors
def agreement_cmd(
    coded: Annotated[list[str], typer.Argument(
        help="Two or more coders' files (JSONL of id/label, CSV, XLSX, Label Studio export, "
             "doccano JSONL), joined by id; FILE:id=COL,label=COL names one file's columns. A "
             "file with a 'coder' column, or a Label Studio export with several annotators, "
             "holds several coders.")],
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook TOML (default: the 17 policy themes).")] = None,
    disagreements: Annotated[str | None, typer.Option(
        help="Write the items the coders disagree on here (OUT.csv or OUT.jsonl): each "
             "coder's theme and an empty 'label' for the adjudicator.")] = None,
    output_format: Annotated[TextFormat, typer.Option(
        "--format", help="text, or json (keys cohen_kappa, fleiss_kappa, "
                         "krippendorff_alpha, …).")] = TextFormat.text,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the items.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    paragraphs: Annotated[Path | None, typer.Option(
        help="Paragraphs JSONL (id, text): the texts of the disagreements sheet, where the "
             "coders' files have none.")] = None,
    strict: StrictLabelsOpt = False,
) -> None:
    """Inter-coder agreement: Cohen's kappa (two coders, and each pair), Fleiss' kappa and
    Krippendorff's alpha (nominal), with 95% bootstrap intervals over items; per-theme
    agreement, the most confused themes, and a sheet of the disagreements."""
    from .agreement import agreement, disagreement_rows, format_agreement, load_codings
    from .codebook import resolve_codebook
    from .labels import blank_summary
    from .write import atomic_output, check_output_file, format_for_path, write_rows

    check_output_file(disagreements, [*coded, paragraphs])
    codings, blank = load_codings(coded, codebook=resolve_codebook(codebook),
                                  paragraphs=paragraphs, blank="error" if strict else "skip")
    if blank:
        log(f"policy-nlp: warning: {blank_summary(blank)}")
    result = agreement(codings, n_boot=resamples, seed=seed)
    if disagreements is not None:
        fmt = format_for_path(disagreements, "csv")
        with atomic_output(disagreements) as out:
            if fmt == "csv":
                out.write("\ufeff")
            n = write_rows(disagreement_rows(codings), out, fmt)
        log(f"{n} disagreements written to {disagreements}")
    if output_format is TextFormat.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_agreement(result))


@app.command()
@handle_errors
def info(
    model: ModelOpt = None,
    output_format: FormatOpt = TextFormat.text,
    as_json: JsonOpt = False,
) -> None:
    """Show the model card and the themes."""
    from .model import model_dir, read_card

    directory = model_dir(model)
    m = _load(directory)
    card = read_card(directory)
    if as_json or output_format is TextFormat.json:
        print(json.dumps(card, ensure_ascii=False, indent=2))
        return
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
    print(f"secondary   themes with probability >= {m.secondary_threshold} "
          f"(at most {m.max_secondary})")
    libs = card.get("libraries", {})
    print("libraries   " + ", ".join(f"{k} {v}" for k, v in libs.items()))
    print()
    themes = card.get("codebook", {}).get("themes", [])
    counts = data.get("counts", {})
    per = cv.get("per_theme", {})
    print(f"{'theme':<22}{'group':<22}{'n':>6}{'CV F1':>8}  name")
    for th in themes:
        f1 = per.get(th["id"], {}).get("f1")
        print(f"{th['id']:<22}{th['group']:<22}{counts.get(th['id'], 0):>6}"
              f"{(f'{f1:.3f}' if f1 is not None else ''):>8}  {th['zh']}")
    if cv.get("confusion_matrix"):
        from .metrics import format_confusion

        print()
        print(f"report-grouped cross-validation, {format_confusion(cv['confusion_matrix'])}")


#: one example per command, shown at the end of its --help (tests/test_docs.py checks that
#: every command has one, and that it parses)
EXAMPLES = {
    "train": "policy-nlp train --labels coded.csv --label-col 主题 -o my-model",
    "classify": "policy-nlp classify report.txt --format csv > report.csv",
    "label": "policy-nlp label reports/ records.jsonl -o labeled.jsonl --jobs 2",
    "profile": "policy-nlp profile reports/ -o panel.csv --long --ci 0.95 --by level,year",
    "validation-sample": "policy-nlp validation-sample reports/ -n 300 --strata level "
                         "-o sheet.xlsx",
    "plot": "policy-nlp plot panel.csv -o figures/ --where level=national",
    "explain": "policy-nlp explain --text 推进碳达峰碳中和。",
    "themes": "policy-nlp themes --top-terms 20 --theme environment",
    "evaluate": "policy-nlp evaluate --labels heldout.csv -m my-model -o metrics.json",
    "audit": "policy-nlp audit --labels coded.csv -o review.csv --top 200",
    "suggest": "policy-nlp suggest --pool pool.jsonl -n 200 -o sheet.csv",
    "compare": "policy-nlp compare default my-model --labels heldout.csv",
    "validate-labels": "policy-nlp validate-labels --labels coded.csv",
    "label-config": "policy-nlp label-config > config.xml",
    "agreement": "policy-nlp agreement alice.csv bob.csv --disagreements to-adjudicate.csv",
    "info": "policy-nlp info --model fast",
}
for _command in app.registered_commands:
    _name = _command.name or _command.callback.__name__.replace("_", "-")
    _command.epilog = f"Example: {EXAMPLES[_name]}"


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
