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
    assert "policy-nlp: warning: r1: this record has 12 lines" in result.stderr
