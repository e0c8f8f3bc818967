"""The command line, through typer's CliRunner: exit codes, stdout and stderr."""

import json
import shutil
import sys

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app

from .conftest import FIXTURES, assert_no_traceback

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return tiny_model_dir


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for cmd in ("train", "classify", "label", "evaluate", "info"):
        assert cmd in result.stdout


def test_version_and_short_help():
    from policy_nlp import __version__

    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"policy-nlp {__version__}"
    for args in (("-h",), ("classify", "-h"), ("label", "-h")):
        result = run(*args)
        assert result.exit_code == 0 and "Usage" in result.stdout, args


def test_classify_text(model):
    result = run("classify", "--text", "严格落实中央八项规定精神，纠治四风。", "-m", model,
                 "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    (rec,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert rec["label"] == "integrity"
    assert abs(sum(rec["scores"].values()) - 1) < 1e-3
    assert [t for t, _ in rec["top"]][0] == "integrity" and len(rec["top"]) == 3


def test_classify_report_file_as_table_and_csv(model):
    table = run("classify", FIXTURES / "report.txt", "-m", model)
    assert table.exit_code == 0, table.stderr
    assert "livelihood" in table.stdout and "integrity" in table.stdout
    assert "各位代表：" not in table.stdout
    csv_out = run("classify", FIXTURES / "report.txt", "-m", model, "-f", "csv")
    header, *rows = csv_out.stdout.splitlines()
    # year, region, level: what the report's opening lines state (2031年某市政府工作报告)
    assert header.startswith("id,report_id,paragraph,section,year,region,level,text,label,score,"
                             "secondary,top")
    assert rows[0].split(",")[4:7] == ["2031", "某市", "prefecture"]
    assert "score_general" in header and len(rows) == 6


def test_classify_stdin(model):
    text = (FIXTURES / "report.txt").read_text("utf-8")
    result = run("classify", "-", "-m", model, "-f", "jsonl", input=text)
    assert result.exit_code == 0, result.stderr
    recs = [json.loads(line) for line in result.stdout.splitlines()]
    assert recs[0]["text"].startswith("现在，我代表")
    assert recs[2]["section"] == ["一、2030年工作回顾"]
    assert recs[4]["section"] == ["二、2031年主要任务", "（二）加强政府自身建设"]


def test_label_jsonl_contract(model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "text": "新增就业三万人，提高养老金。", "year": 2031}\n'
        '\n'
        '{"id": "b", "text": "空气质量优良天数比例提高。", "region": "某省"}\n', "utf-8")
    out = tmp_path / "out.jsonl"
    result = run("label", src, "-o", out, "-m", model)
    assert result.exit_code == 0, result.stderr
    recs = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in recs] == ["a", "b"]
    assert recs[0]["year"] == 2031 and recs[1]["region"] == "某省"  # fields pass through
    for r in recs:
        assert {"id", "label", "score", "scores", "secondary"} <= set(r)
        assert len(r["scores"]) == 17 and abs(sum(r["scores"].values()) - 1) < 1e-3
        assert r["score"] == max(r["scores"].values())
    assert "paragraphs labeled" in result.stderr


def test_label_report_files_adds_report_fields(model, tmp_path):
    d = tmp_path / "reports"
    d.mkdir()
    shutil.copy(FIXTURES / "report.txt", d / "某市_2031.txt")
    out = tmp_path / "out.csv"
    result = run("label", d, "-o", out, "-m", model, "--no-progress")
    assert result.exit_code == 0, result.stderr
    lines = out.read_text("utf-8-sig").splitlines()
    # year, region and level from the report's title (某市 is a city: prefecture level)
    assert lines[0].startswith("id,report_id,paragraph,section,year,region,level,")
    assert lines[1].startswith("某市_2031#000,某市_2031,0,")
    assert lines[1].split(",")[4:7] == ["2031", "某市", "prefecture"]
    assert len(lines) == 7


def test_info(model):
    result = run("info", "-m", model)
    assert result.exit_code == 0, result.stderr
    assert "rule_of_law" in result.stdout and "法治政府建设" in result.stdout
    card = json.loads(run("info", "-m", model, "--json").stdout)
    cm = card["metrics"]["cross_validation"]["confusion_matrix"]  # the tiny model has 3-fold CV
    rows = result.stdout.split("columns: predicted)\n", 1)[1].splitlines()[1:]
    assert [[int(v) for v in r.split()[1:]] for r in rows] == cm["rows_true_cols_predicted"]
    assert card["format"] == "policy-nlp-linear/1"


def test_train_and_evaluate(tmp_path):
    out = tmp_path / "m"
    result = run("train", "--labels", FIXTURES / "labeled.jsonl", "-o", out, "--cv-folds", "3",
                 "--min-df", "1")
    assert result.exit_code == 0, result.stderr
    assert "macro-F1" in result.stdout and (out / "model.json").is_file()
    metrics = tmp_path / "metrics.json"
    ev = run("evaluate", "--labels", FIXTURES / "labeled.jsonl", "-m", out, "-o", metrics)
    assert ev.exit_code == 0, ev.stderr
    assert "24 of these 24 paragraphs (100%) are training paragraphs" in ev.stderr
    m = json.loads(metrics.read_text("utf-8"))
    assert m["accuracy"] == 1.0 and len(m["confusion_matrix"]["rows_true_cols_predicted"]) == 17


# -- bad input: one line on stderr, a non-zero exit code, no traceback, no half-written file --

def _bad_jsonl(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": "a", "text": "稳增长。"}\n{"id": "b", "text": \n', "utf-8")
    return p


def _no_text_jsonl(tmp_path):
    p = tmp_path / "notext.jsonl"
    p.write_text('{"id": "a", "text": "稳增长。"}\n{"id": "b", "body": "x"}\n', "utf-8")
    return p


def _undecodable(tmp_path):
    p = tmp_path / "bytes.txt"
    p.write_bytes(b"\x81\x30\xff\xfe\xfa" * 40)
    return p


def _empty(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    return p


def _unknown_theme(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("text,label\n稳增长。,economy\n推进碳中和。,ecology\n", "utf-8")
    return p


def _one_class(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("text,label\n稳增长。,economy\n扩内需。,economy\n", "utf-8")
    return p


@pytest.mark.parametrize(("make", "args", "code", "message"), [
    (lambda t: t / "missing.txt", ["classify", "{p}"], 2, "missing.txt: no such file"),
    (_empty, ["classify", "{p}"], 2, "empty"),
    (_undecodable, ["classify", "{p}"], 2, "bytes.txt"),
    # without --strict these are skipped and reported (exit 5): tests/test_bad_inputs.py
    (_bad_jsonl, ["label", "{p}", "-o", "{t}/out.jsonl", "--strict"], 2,
     "bad.jsonl:2: not valid JSON"),
    (_no_text_jsonl, ["label", "{p}", "-o", "{t}/out.jsonl", "--strict"], 2, "notext.jsonl:2"),
    (_unknown_theme, ["train", "--labels", "{p}", "-o", "{t}/m"], 2, "unknown theme 'ecology'"),
    (_one_class, ["train", "--labels", "{p}", "-o", "{t}/m"], 2, "one class"),
    (_one_class, ["train", "--labels", "{p}", "-o", "{t}/m", "--sentence-weight", "-1"], 2,
     "--sentence-weight must be 0 or more"),
    (lambda t: t, ["classify", "--text", "稳增长", "-m", "{t}/nomodel"], 3,
     "no such model directory"),
    (_empty, ["label", "{p}", "-o", "{t}/nodir/out.jsonl"], 2, "does not exist"),
])
def test_bad_input(tmp_path, model, make, args, code, message):
    p = make(tmp_path)
    argv = [a.format(p=p, t=tmp_path) for a in args]
    if argv[0] in ("classify", "label") and "-m" not in argv:
        argv += ["-m", str(model)]
    result = run(*argv)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert message in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and result.stderr.splitlines()[-1].startswith("policy-nlp: error:")
    assert_no_traceback(result)
    assert not (tmp_path / "out.jsonl").exists()
    assert not (tmp_path / "m").exists()


def test_corrupt_model_is_refused(model, tmp_path):
    bad = tmp_path / "m"
    shutil.copytree(model, bad)
    (bad / "weights.npz").write_bytes(b"junk")
    result = run("classify", "--text", "稳增长", "-m", bad)
    assert result.exit_code == 3 and "sha256 does not match" in result.stderr


def test_failed_label_run_keeps_the_previous_output(model, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", "utf-8")
    result = run("label", _bad_jsonl(tmp_path), "-o", out, "-m", model, "--strict")
    assert result.exit_code == 2
    assert out.read_text("utf-8") == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_classify_needs_file_or_text(model):
    result = run("classify", "-m", model)
    assert result.exit_code == 2 and "nothing to classify" in result.stderr
    assert "--text" in result.stderr and "not both" not in result.stderr
    result = run("classify", "x.txt", "--text", "推进改革。", "-m", model)
    assert result.exit_code == 2 and "not both" in result.stderr


def test_output_places_are_checked_before_any_work(model, tmp_path):
    """A long run must not end on an output it cannot write: train and profile refuse first."""
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.docx").write_text("precious")
    result = run("train", "--labels", FIXTURES / "labeled.jsonl", "-o", thesis, "--cv-folds", "0")
    assert result.exit_code == 2 and "not a policy-nlp model directory" in result.stderr
    assert "labeled paragraphs" not in result.stderr  # refused before reading the labels
    assert_no_traceback(result)
    result = run("train", "--labels", FIXTURES / "labeled.jsonl", "-o", "/proc/m",
                 "--cv-folds", "0")
    assert result.exit_code == 4 and "cannot write" in result.stderr
    report = tmp_path / "report.txt"
    report.write_text("x", "utf-8")
    for out, code, message in ((tmp_path / "nodir" / "p.csv", 2, "does not exist"),
                               ("/proc/p.csv", 4, "cannot write")):
        result = run("profile", report, "-o", out, "-m", model, "--no-progress")
        assert result.exit_code == code and message in result.stderr, result.stderr
        assert "profiled" not in result.stderr
        assert_no_traceback(result)


def test_train_class_weight_balanced_is_recorded_and_changes_the_model(tmp_path, model):
    rows = [json.loads(line) for line in
            (FIXTURES / "labeled.jsonl").read_text("utf-8").splitlines()]
    seen: dict[str, int] = {}
    skewed = tmp_path / "skewed.jsonl"  # one theme keeps two paragraphs
    with skewed.open("w", encoding="utf-8") as fh:
        for row in rows:
            seen[row["label"]] = seen.get(row["label"], 0) + 1
            if row["label"] != "integrity" or seen["integrity"] <= 2:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    cards = {}
    for weight in ("none", "balanced"):
        out = tmp_path / weight
        result = run("train", "--labels", skewed, "-o", out, "--cv-folds", "0", "--min-df", "1",
                     "--class-weight", weight)
        assert result.exit_code == 0, result.stderr
        cards[weight] = json.loads((out / "model.json").read_text("utf-8"))
    assert cards["balanced"]["training"]["class_weight"] == "balanced"
    assert cards["none"]["training"]["class_weight"] is None
    assert cards["balanced"]["files"]["weights.npz"] != cards["none"]["files"]["weights.npz"]


def test_label_warns_once_when_records_look_like_whole_reports(model, tmp_path, monkeypatch):
    import policy_nlp.predict

    monkeypatch.setattr(policy_nlp.predict, "_warned", [])  # once per process: not yet here
    report = "\n".join(["一、工作回顾", "经济增长。", "就业稳定。", "生态改善。", "二、今年安排",
                        "加强法治。"])
    src = tmp_path / "reports.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{k}", "text": report}, ensure_ascii=False)
                           + "\n" for k in range(3)), "utf-8")
    out = tmp_path / "out.jsonl"
    result = run("label", src, "-o", out, "-m", model, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("labeled whole, as one paragraph") == 1
    assert f"{src}:1: this record has 6 lines" in result.stderr  # FILE:LINE, not the id
    assert len(out.read_text("utf-8").splitlines()) == 3  # still one line out per line in
    result = run("label", src, "-o", out, "-m", model, "--no-progress", "--records", "reports")
    assert result.exit_code == 0 and "labeled whole" not in result.stderr
    assert len(out.read_text("utf-8").splitlines()) == 12


def test_evaluate_warns_when_some_labels_are_training_paragraphs(model, tmp_path):
    """A 'held-out' sample cut from the training labels is found paragraph by paragraph."""
    rows = [json.loads(line) for line in
            (FIXTURES / "labeled.jsonl").read_text("utf-8").splitlines()]
    mixed = tmp_path / "mixed.jsonl"
    new = [{"id": "new#1", "report_id": "new", "text": "全面推进依法行政，加强法治政府建设。",
            "label": "integrity"},
           {"id": "new#2", "report_id": "new", "text": "空气质量持续 改善，河湖水质稳定向好。",
            "label": "environment"}]
    reused = [dict(r, text=" " + r["text"].replace("，", "， ")) for r in rows[:5]]  # spacing aside
    mixed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reused + new),
                     "utf-8")
    metrics = tmp_path / "m.json"
    ev = run("evaluate", "--labels", mixed, "-m", model, "-o", metrics)
    assert ev.exit_code == 0, ev.stderr
    assert "5 of these 7 paragraphs (71%) are training paragraphs of the model" in ev.stderr
    assert json.loads(metrics.read_text("utf-8"))["seen_in_training"] == 5
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new), "utf-8")
    ev = run("evaluate", "--labels", clean, "-m", model, "-o", metrics)
    assert ev.exit_code == 0 and "training paragraphs" not in ev.stderr
    assert json.loads(metrics.read_text("utf-8"))["seen_in_training"] == 0


@pytest.mark.parametrize("env, expected", [
    ({}, 1), ({"OPENBLAS_NUM_THREADS": "2"}, 2), ({"OMP_NUM_THREADS": "2"}, 2)])
def test_the_command_runs_one_blas_thread_unless_told_otherwise(env, expected):
    """The policy-nlp command (policy_nlp.__main__) has OpenBLAS start one thread, whose
    spinning threads took CPU from the labeling workers: it sets OPENBLAS_NUM_THREADS before
    numpy is imported, unless the user set a thread count OpenBLAS reads. Run in a fresh
    interpreter, as the command is: numpy reads the variable once, when it loads."""
    import os
    import subprocess
    import textwrap

    code = textwrap.dedent("""
        import sys
        import policy_nlp.__main__ as entry
        assert "numpy" not in sys.modules, "numpy imported before the variable is set"
        sys.argv = ["policy-nlp", "--help"]
        try:
            entry.main()
        except SystemExit:
            pass
        from threadpoolctl import threadpool_info
        print(sorted({p["num_threads"] for p in threadpool_info()
                      if p["internal_api"] == "openblas"}))
    """)
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    run = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    counts = eval(run.stdout.strip().splitlines()[-1])
    if not counts:
        pytest.skip("numpy is not built with OpenBLAS here")
    # (OpenBLAS uses at most one thread per core: 2 asked for on a 1-core machine gives 1)
    assert counts == [min(expected, os.cpu_count() or 1)]


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv"])
def test_a_text_argument_with_a_byte_that_is_not_utf8_is_classified(fmt):
    """Python decodes a bad byte of a command-line argument to a lone surrogate, which is no
    character: it becomes U+FFFD, as in the readers, instead of a traceback from the
    segmenter or the writer."""
    result = runner.invoke(app, ["classify", "-f", fmt, "--text", "\udcff推进碳达峰碳中和。"])
    assert result.exit_code == 0, result.output
    assert "\ufffd推进碳达峰碳中和。" in result.stdout
    if fmt == "jsonl":
        assert json.loads(result.stdout)["text"] == "\ufffd推进碳达峰碳中和。"
    explained = runner.invoke(app, ["explain", "--json", "--text", "\udcff推进碳达峰碳中和。"])
    assert explained.exit_code == 0 and json.loads(explained.stdout)["theme"] == "environment"


def test_label_output_format_follows_the_name_and_never_mismatches(model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "推进碳达峰碳中和。"}\n', encoding="utf-8")
    for name, args, message in (("out.parquet", (), "not .parquet"),
                                ("out.txt", (), "not .txt"),
                                ("out.jsonl", ("--format", "csv"), "--format csv but the name")):
        result = run("label", src, "-o", tmp_path / name, "-m", model, "--no-progress", *args)
        assert result.exit_code == 2 and message in result.stderr, result.stderr
        assert not (tmp_path / name).exists()
    result = run("label", src, "-o", tmp_path / "o.csv", "-m", model, "--no-progress",
                 "--no-include-text")
    assert result.exit_code == 0, result.stderr
    header = (tmp_path / "o.csv").read_text("utf-8-sig").splitlines()[0]
    assert "label" in header and "text" not in header.split(",")
    result = run("label", src, "-o", tmp_path / "old.jsonl", "-m", model, "--no-progress",
                 "--no-text")  # the older name still works
    assert result.exit_code == 0 and "text" not in json.loads(
        (tmp_path / "old.jsonl").read_text("utf-8"))


def test_a_missing_optional_package_is_found_before_the_work(model, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    missing = {"pyarrow", "matplotlib"}
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in missing else real(name, *a))
    src = tmp_path / "r.txt"
    src.write_text("一、总体要求\n推进碳达峰碳中和。\n", encoding="utf-8")
    out = tmp_path / "p.parquet"
    result = run("profile", src, "-o", out, "-m", model, "--no-progress")
    assert result.exit_code == 2 and "pip install 'pyarrow>=14'" in result.stderr
    assert "pip install '.[parquet]' in policy-nlp's folder" in result.stderr
    assert "policy-nlp[" not in result.stderr  # would fetch whatever PyPI has of that name
    assert "profiled" not in result.stderr and not out.exists()  # refused before the work
    panel = tmp_path / "p.csv"
    panel.write_text("id,char_share_economy\nr,1\n", encoding="utf-8")
    result = run("plot", panel, "-o", tmp_path / "figs")
    assert result.exit_code == 2 and "pip install 'matplotlib>=3.8' 'mplfonts" in result.stderr


def test_the_install_hint_names_the_packages_or_the_folder(monkeypatch):
    """policy-nlp is installed from its folder: a hint never sends pip to a package index for
    a package named policy-nlp, installed or not."""
    import importlib.metadata

    from policy_nlp.errors import install_hint

    assert install_hint("dask") == ("pip install 'dask>=2024.1' 'distributed>=2024.1' "
                                    "(or pip install '.[dask]' in policy-nlp's folder)")

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "requires", not_installed)
    assert install_hint("parquet") == "pip install '.[parquet]' in policy-nlp's folder"


def test_json_output_is_format_json_in_every_command(model):
    """--format json (or its older name --json) prints the same JSON in each command."""
    for argv in (["info"], ["themes"], ["explain", "--text", "推进碳达峰碳中和。"]):
        new = run(*argv, "-m", model, "--format", "json")
        old = run(*argv, "-m", model, "--json")
        assert new.exit_code == 0 and old.exit_code == 0, (argv, new.stderr)
        assert json.loads(new.stdout) == json.loads(old.stdout)
        assert not run(*argv, "-m", model).stdout.lstrip().startswith(("{", "["))


def test_old_flag_names_work_but_are_hidden(model, tmp_path):
    """--text/--no-text (label) and --json are kept for scripts, out of --help."""
    assert "--no-text" not in run("label", "-h").stdout
    assert "--include-text" in run("label", "-h").stdout
    for name in ("info", "themes", "explain", "validate-labels", "agreement"):
        assert "--json" not in run(name, "-h").stdout, name
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "推进碳达峰碳中和。"}\n', encoding="utf-8")
    result = run("label", src, "-o", "-", "-m", model, "--no-progress", "--text")
    assert result.exit_code == 0 and json.loads(result.stdout)["text"] == "推进碳达峰碳中和。"


def test_table_outputs_take_format_from_the_name_or_the_flag(model, tmp_path):
    """profile and audit: --format where the name does not say (standard output), never a
    format the name contradicts; the refusal comes before any work."""
    src = tmp_path / "r.txt"
    src.write_text("一、总体要求\n推进碳达峰碳中和。\n稳住经济增长。\n", encoding="utf-8")
    result = run("profile", src, "-o", "-", "-f", "jsonl", "-m", model, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["report_id"]
    for out, fmt in (("p.csv", "parquet"), ("p.parquet", "jsonl")):
        result = run("profile", src, "-o", tmp_path / out, "-f", fmt, "-m", model,
                     "--no-progress")
        assert result.exit_code == 2 and f"--format {fmt} but the name" in result.stderr
        assert not (tmp_path / out).exists() and "profiled" not in result.stderr
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"id": "a", "text": "推进碳达峰碳中和。", "label": "environment"}\n',
                      encoding="utf-8")
    result = run("audit", "--labels", labels, "-o", tmp_path / "a.csv", "-f", "jsonl")
    assert result.exit_code == 2 and "--format jsonl but the name says csv" in result.stderr


def test_library_checks_name_the_parameter(model):
    """Argument checks moved out of the command line live in the library and name the
    parameter; the command line shows the flag."""
    from policy_nlp.codebook import load_codebook
    from policy_nlp.errors import ArgumentError
    from policy_nlp.explain import theme_entries
    from policy_nlp.model import load_model
    from policy_nlp.plot import draw_figures
    from policy_nlp.predict import classify_input
    from policy_nlp.profile import corrected_path
    from policy_nlp.suggest import check_sheet_format
    from policy_nlp.write import panel_format

    m = load_model(model)
    for call, param in ((lambda: classify_input(m), "source"),
                        (lambda: classify_input(m, "a.txt", text="x"), "source"),
                        (lambda: classify_input(m, text="x", unit="word"), "unit"),
                        (lambda: draw_figures([], "f", kind="pie"), "kind"),
                        (lambda: draw_figures([], "f", fmt="gif"), "fmt"),
                        (lambda: corrected_path("-", None), "corrected"),
                        (lambda: check_sheet_format("s.csv", "xml"), "fmt"),
                        (lambda: panel_format("p.csv", "xlsx"), "fmt"),
                        (lambda: theme_entries(m, None, top=-1), "top")):
        with pytest.raises(ArgumentError) as caught:
            call()
        assert caught.value.param == param
    entries = theme_entries(m, load_codebook(), ["economy"], top=3)
    assert [e["id"] for e in entries] == ["economy"] and len(entries[0]["top_terms"]) == 3
    assert check_sheet_format("s.jsonl", None) == "jsonl"
    assert check_sheet_format("-", "csv") == "csv"
    bad = run("plot", "p.csv", "-o", "figs", "--format", "gif")
    assert bad.exit_code == 2 and "--format must be png, svg or pdf, not 'gif'" in bad.stderr


def test_python_m_policy_nlp_cli_runs():
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "policy_nlp.cli", "--version"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("policy-nlp ")


def test_evaluate_learning_curve_needs_folds(model, tmp_path):
    """Once ignored without --cv-folds; now refused, by the library, under the flag's name."""
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"id": "a#1", "text": "推进碳达峰碳中和。", "label": "environment"}\n',
                      encoding="utf-8")
    result = run("evaluate", "--labels", labels, "-m", model, "--learning-curve")
    assert result.exit_code == 2, result.stderr
    assert "--learning-curve needs cross-validation folds" in result.stderr


def _labels_without_reports(tmp_path):
    """The fixture labels with ids that name no report (no report_id, no '#')."""
    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]
    path = tmp_path / "ungrouped.jsonl"
    path.write_text("".join(json.dumps({"id": f"p{i}", "text": r["text"], "label": r["label"]},
                                       ensure_ascii=False) + "\n" for i, r in enumerate(rows)),
                    "utf-8")
    return path


def test_evaluate_cross_validation_of_rows_without_reports_is_warned(tmp_path, tiny_model_dir):
    """Labels that name no report (no report_id, no '#' in the ids): the folds split single
    paragraphs, whose scores are optimistic. train warned; evaluate --cv-folds printed them
    as 'cross-validation: 3 folds by report' without a word."""
    path = _labels_without_reports(tmp_path)
    result = run("evaluate", "--labels", path, "-m", tiny_model_dir, "--cv-folds", "3")
    assert result.exit_code == 0, result.stderr
    assert "folds by report" not in result.stderr
    assert ("policy-nlp: warning: some rows name no report (no 'report_id' column value, no '#' "
            "in the id), so cross-validation splits them as single paragraphs") in result.stderr


@pytest.mark.parametrize("args, says", [
    (["profile", "x.txt", "--ci", "abc"], "Invalid value for '--ci'"),
    (["classify", "--bogus"], "No such option: --bogus"),
    (["profile"], "Missing argument"),
    (["bogus"], "No such command 'bogus'"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, says):
    """The README's "Errors": one line `policy-nlp: error: …`, where click prints four."""
    import subprocess

    run = subprocess.run([sys.executable, "-m", "policy_nlp", *args], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("policy-nlp: error: ") and says in lines[0]
    assert " -h)" in lines[0] and "Traceback" not in run.stderr


def test_the_bare_command_prints_its_help_and_version_and_help_exit_0():
    import subprocess

    bare = subprocess.run([sys.executable, "-m", "policy_nlp"], capture_output=True, text=True,
                          timeout=120)
    assert bare.returncode == 2 and "Usage: " in bare.stdout + bare.stderr
    for flag in ("--version", "-h"):
        run = subprocess.run([sys.executable, "-m", "policy_nlp", flag], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0 and run.stdout and not run.stderr, flag


def test_audit_of_rows_without_reports_is_warned(tmp_path):
    """As train and evaluate --cv-folds: audit's folds split single paragraphs where the
    labels name no report, each scored by a model that saw the rest of its report."""
    path = _labels_without_reports(tmp_path)
    result = run("audit", "--labels", path, "-o", tmp_path / "audit.csv", "--cv-folds", "3",
                 "--min-df", "1")
    assert result.exit_code == 0, result.stderr
    assert ("policy-nlp: warning: some rows name no report (no 'report_id' column value, no '#' "
            "in the id), so cross-validation splits them as single paragraphs") in result.stderr
    grouped = run("audit", "--labels", FIXTURES / "labeled.jsonl", "-o", tmp_path / "g.csv",
                  "--cv-folds", "3", "--min-df", "1")
    assert grouped.exit_code == 0 and "name no report" not in grouped.stderr, grouped.stderr
