"""The command line is a shell: the library checks the arguments (naming the parameter, shown
as the flag) and does the work; every line on standard error has one form."""

import json

import pytest
from typer.testing import CliRunner

from policy_nlp.batch import check_label_arguments, label_inputs
from policy_nlp.cli import app
from policy_nlp.errors import ArgumentError, InputError
from policy_nlp.validation import sample_to_file
from policy_nlp.write import check_json_output

from .conftest import FIXTURES, assert_no_traceback

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"engine": "spark"}, "engine"),
    ({"jobs": 0}, "jobs"),
    ({"commit_every": -1.0}, "commit_every"),
    ({"engine": "dask", "resume": True}, "resume"),
    ({"scheduler": "tcp://127.0.0.1:8786"}, "scheduler"),
    ({"resume": True, "restart": True}, "resume"),
])
def test_label_arguments_are_checked_by_the_library(kwargs, param):
    engine = kwargs.pop("engine", "local")
    with pytest.raises(ArgumentError) as caught:
        check_label_arguments(engine, **kwargs)
    assert caught.value.param == param
    check_label_arguments("dask", scheduler="tcp://127.0.0.1:8786")  # these go together


def test_label_inputs_refuses_before_reading(tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(ArgumentError, match="^resume "):
        label_inputs(["no-such-file.txt"], str(out), engine="dask", resume=True)
    assert not out.exists()


def test_label_inputs_labels_with_the_local_engine(tmp_path, tiny_model_dir):
    src = tmp_path / "r.txt"
    src.write_text("坚持稳中求进工作总基调。\n\n推进碳达峰碳中和。\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = label_inputs([str(src)], str(out), model_dir=tiny_model_dir)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert done.rows == len(lines) == 2 and done.engine == "local" and done.parts is None


def test_cli_shows_the_library_check_as_flags(tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("label", FIXTURES / "labeled.jsonl", "-o", out, "--resume", "--restart")
    assert result.exit_code == 2 and result.stderr.startswith("policy-nlp: error: --resume ")
    assert_no_traceback(result)
    assert not out.exists()


def test_sample_to_file_checks_before_any_work(tmp_path):
    sheet = tmp_path / "sheet.csv"
    with pytest.raises(ArgumentError) as caught:
        sample_to_file(["no-such-file.txt"], str(sheet), 0)
    assert caught.value.param == "n"
    with pytest.raises(ArgumentError) as caught:
        sample_to_file(["no-such-file.txt"], str(sheet), 5, allocation="neyman")
    assert caught.value.param == "allocation"
    with pytest.raises(InputError, match="coding sheet"):
        sample_to_file(["no-such-file.txt"], str(tmp_path / "sheet.txt"), 5)
    assert not sheet.exists()


def test_sample_to_file_writes_the_sheet(tmp_path, tiny_model_dir):
    sheet = tmp_path / "sheet.csv"
    result = sample_to_file([str(FIXTURES / "labeled.jsonl")], str(sheet), 5,
                            model=tiny_model_dir, records="paragraphs", seed=1)
    text = sheet.read_text(encoding="utf-8-sig").splitlines()
    assert result.rows == 5 == len(text) - 1 and result.population == 24
    assert sum(result.sample.taken.values()) == 5


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_json_outputs_refuse_another_extension(tmp_path, command):
    out = tmp_path / "metrics.csv"
    models = ["default", "fast"] if command == "compare" else []
    result = run(command, *models, "--labels", FIXTURES / "labeled.jsonl", "-o", out)
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"policy-nlp: error: {out}: this output is written as JSON, not "
                             ".csv; name it OUT.json\n")
    assert not out.exists()


def test_check_json_output_takes_json_stdout_and_bare_names(tmp_path):
    for name in ("m.json", "m.JSON", "-", "metrics"):
        check_json_output(name if name == "-" else tmp_path / name)
    with pytest.raises(InputError, match="not .txt"):
        check_json_output(tmp_path / "m.txt")


def test_warnings_have_one_form(tmp_path, tiny_model_dir):
    """Every warning, from a command or from the package's log, reads 'policy-nlp: warning:'."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "推进碳达峰碳中和。"}\nnot json\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("label", bad, "-o", out, "-m", tiny_model_dir, "--no-progress")
    assert result.exit_code == 5, result.output
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert warnings and all(line.startswith("policy-nlp: warning: ") for line in warnings)
    # a record with many lines, labeled whole: a warning of the package's log
    record = tmp_path / "long.jsonl"
    record.write_text(json.dumps({"id": "r1", "text": "\n".join(["推进碳达峰碳中和。"] * 12)},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    result = run("label", record, "-o", out, "-m", tiny_model_dir, "--no-progress")
    assert result.exit_code == 0, result.output
    # named FILE:LINE, as every message about a record (it said "r1:", the record's id)
    assert f"policy-nlp: warning: {record}:1: this record has 12 lines" in result.stderr


# --- review: every bad argument a one-line error, exit 2 -----------------------------------------


def test_a_seed_is_checked_by_the_library_before_any_work(tmp_path):
    """numpy refused a negative seed with a ValueError (exit 1, a traceback), scikit-learn
    one past 2**32 - 1 with its InvalidParameterError."""
    from policy_nlp.agreement import agreement_files
    from policy_nlp.compare import compare_files
    from policy_nlp.train import TrainConfig
    from policy_nlp.validation.sample import draw_sample

    missing = str(tmp_path / "no-such.csv")
    calls = [lambda seed: TrainConfig(seed=seed),
             lambda seed: draw_sample(["a"] * 5, 2, seed=seed),
             lambda seed: sample_to_file([missing], str(tmp_path / "s.csv"), 5, seed=seed),
             lambda seed: compare_files("default", "fast", [missing], seed=seed),
             lambda seed: agreement_files([missing, missing], seed=seed)]
    for call in calls:
        for seed in (-1, 2**32):
            with pytest.raises(ArgumentError) as caught:
                call(seed)
            assert caught.value.param == "seed"
    TrainConfig(seed=2**32 - 1)
    assert draw_sample(["a"] * 5, 2, seed=0) == draw_sample(["a"] * 5, 2, seed=0)


@pytest.mark.parametrize("command", [
    ["agreement", "a.csv", "b.csv"], ["train", "--labels", "l.csv", "-o", "m"],
    ["compare", "default", "fast", "--labels", "l.csv"],
    ["validation-sample", "r.txt", "-o", "s.csv"]])
def test_a_negative_seed_is_one_line_naming_the_flag(tmp_path, command):
    result = run(*command, "--seed", "-1")
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stderr == ("policy-nlp: error: --seed must be a whole number from 0 to "
                             "4294967295, not -1\n")


def test_compare_checks_the_resamples_before_loading_anything(tmp_path):
    from policy_nlp.compare import compare_files

    with pytest.raises(ArgumentError) as caught:
        compare_files(tmp_path / "no-model", tmp_path / "no-model",
                      [str(tmp_path / "no-labels.csv")], n_boot=-1)
    assert caught.value.param == "n_boot"


@pytest.mark.parametrize("address", ["bogus", "tcp://host", "tcp://h:x", "tcp://h:0",
                                     "tcp://h:65536", "http://h:8786", "tcp://h:8786/x"])
def test_a_scheduler_address_is_checked_before_any_work(address):
    with pytest.raises(ArgumentError) as caught:
        check_label_arguments("dask", scheduler=address)
    assert caught.value.param == "scheduler"


def test_good_scheduler_addresses_pass():
    for address in ("tcp://127.0.0.1:8786", "10.0.0.1:8786", "tls://[::1]:8786",
                    "tcp://dask-scheduler.cluster.local:8786"):
        check_label_arguments("dask", scheduler=address)


def test_an_unreachable_scheduler_is_a_bad_argument_not_an_output_error(tmp_path,
                                                                        tiny_model_dir):
    """It said 'cannot write the output: Timed out …' with exit 4."""
    pytest.importorskip("distributed")
    import dask

    out = tmp_path / "parts"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(InputError, match="cannot connect to the Dask scheduler at "
                                             "tcp://127.0.0.1:1 ") as caught:
            label_inputs([str(FIXTURES / "labeled.jsonl")], str(out), engine="dask",
                         scheduler="tcp://127.0.0.1:1", model_dir=tiny_model_dir)
    assert caught.value.exit_code == 2
    assert not out.exists() or not any(out.iterdir())  # nothing written


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_json_on_standard_output_is_alone_there(command, tiny_model_dir):
    """evaluate -o - wrote the JSON and then the text table: not JSON."""
    models = [tiny_model_dir, tiny_model_dir] if command == "compare" else ["-m",
                                                                             tiny_model_dir]
    result = run(command, *models, "--labels", FIXTURES / "labeled.jsonl", "-o", "-")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["n"] == 24


@pytest.mark.parametrize("command", [["themes"], ["info"], ["explain", "-t", "推进改革。"],
                                     ["validate-labels", "--labels", FIXTURES / "labeled.jsonl"],
                                     ["agreement", FIXTURES / "labeled.jsonl"]])
def test_json_and_format_text_together_are_refused(command):
    result = run(*command, "--json", "--format", "text")
    assert result.exit_code == 2, result.output
    assert result.stderr == ("policy-nlp: error: --json means --format json, and --format "
                             "text contradicts it: give one\n")
    if command == ["themes"]:  # either alone still works
        assert json.loads(run("themes", "--json").stdout)[0]["id"] == "economy"
        assert json.loads(run("themes", "-f", "json").stdout)[0]["id"] == "economy"


def test_evaluate_report_never_fills_a_folder_that_is_not_a_report(tmp_path, tiny_model_dir):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html>my page</html>", "utf-8")
    args = ["evaluate", "--labels", FIXTURES / "labeled.jsonl", "-m", tiny_model_dir]
    result = run(*args, "--report", site)
    assert result.exit_code == 2 and "not an earlier report's (index.html" in result.stderr
    assert (site / "index.html").read_text("utf-8") == "<html>my page</html>"
    (site / "index.html").unlink()
    (site / "notes.txt").write_text("x")
    result = run(*args, "--report", site)
    assert result.exit_code == 2 and "(notes.txt)" in result.stderr
    report = tmp_path / "report"
    for _ in range(2):  # a new folder, then the same folder again: an earlier report
        result = run(*args, "--report", report)
        assert result.exit_code == 0, result.output
    assert "policy-nlp evaluate --report" in (report / "index.html").read_text("utf-8")


@pytest.mark.parametrize(("name", "given", "fmt"), [
    ("/dev/null", "csv", "csv"), ("/dev/stdout", "jsonl", "jsonl"), ("panel", "parquet",
                                                                      "parquet"),
    ("/dev/null", None, "csv"), ("-", None, "csv")])
def test_a_panel_format_given_is_honoured_for_devices_and_bare_names(name, given, fmt):
    from policy_nlp.write import panel_format

    assert panel_format(name, given) == fmt


def test_profile_writes_a_panel_to_a_device(tiny_model_dir):
    result = run("profile", FIXTURES / "labeled.jsonl", "-o", "/dev/null", "-f", "csv",
                 "-m", tiny_model_dir, "--no-progress")
    assert result.exit_code == 0, result.output


def test_other_numbers_out_of_range_are_refused_not_taken_silently(tmp_path):
    """Found by a sweep of the int and float options: --min-df 0 or -1 trained as 1,
    audit --cv-folds 0 or 1 ran 2 folds, suggest --per-report -1 wrote an empty sheet (exit
    0), --checkpoint-every nan was taken."""
    from policy_nlp.audit import audit_to_file
    from policy_nlp.features import FeatureSpec
    from policy_nlp.suggest import suggest_to_file
    from policy_nlp.train import TrainConfig

    missing = str(tmp_path / "no-such.jsonl")
    calls = [(lambda: TrainConfig(features=FeatureSpec(min_df=0)), "min_df"),
             (lambda: audit_to_file([missing], str(tmp_path / "r.csv"), cv_folds=1),
              "cv_folds"),
             (lambda: audit_to_file([missing], str(tmp_path / "r.csv"), min_df=-1), "min_df"),
             (lambda: suggest_to_file("default", missing, str(tmp_path / "s.csv"), 5,
                                      per_report=-1), "per_report"),
             (lambda: check_label_arguments(commit_every=float("nan")), "commit_every")]
    for call, param in calls:
        with pytest.raises(ArgumentError) as caught:
            call()
        assert caught.value.param == param
    assert not any(tmp_path.iterdir())
