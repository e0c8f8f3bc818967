"""Outputs inside a folder given as input: never read back, never replacing an input.

A folder is often where the outputs of a run go too. The outputs of policy-nlp found there (a
label output, a panel, a coding sheet) are recognised by their columns and left out with a
warning, so that no paragraph is counted twice; an output name that is an input file of the
folder is refused (exit 2) before any work, the file left as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.read import input_files, own_output_kind

runner = CliRunner()

REPORT = ("一、过去一年工作回顾\n"
          "推进碳达峰碳中和，持续改善生态环境质量，加强大气污染防治。\n"
          "稳定就业，提高居民收入，完善社会保障体系，办好人民满意的教育。\n"
          "扩大有效投资，促进消费回升，推动经济运行持续向好。\n")


def run(*args):
    result = runner.invoke(app, [*map(str, args)])
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture()
def folder(tmp_path) -> Path:
    d = tmp_path / "d"
    d.mkdir()
    (d / "r.txt").write_text(REPORT, "utf-8")
    return d


def test_label_output_in_the_folder_is_not_profiled_again(folder, tiny_model_dir, tmp_path):
    first = run("label", folder, "-o", folder / "labeled.jsonl", "-m", tiny_model_dir)
    assert first.exit_code == 0, first.stderr
    n = len((folder / "labeled.jsonl").read_text("utf-8").splitlines())
    result = run("profile", folder, "-o", tmp_path / "p.csv", "-m", tiny_model_dir)
    assert result.exit_code == 0, result.stderr
    assert f"1 reports ({n} paragraphs)" in result.stderr
    assert ("warning: " + str(folder / "labeled.jsonl") + ": not read: a label output of "
            "policy-nlp") in result.stderr


def test_csv_outputs_and_sheets_are_recognised(folder, tiny_model_dir, tmp_path):
    assert run("label", folder, "-o", folder / "l.csv", "-m", tiny_model_dir).exit_code == 0
    assert run("profile", folder, "-o", folder / "p.csv", "-m", tiny_model_dir).exit_code == 0
    sheet = run("validation-sample", folder, "-n", 2, "-o", folder / "sheet.csv", "-m",
                tiny_model_dir)
    assert sheet.exit_code == 0, sheet.stderr
    assert own_output_kind(folder / "l.csv") == "a label output"
    assert own_output_kind(folder / "p.csv") == "a profile panel"
    assert own_output_kind(folder / "sheet.csv") == "a validation-sample coding sheet"
    assert input_files(folder) == [folder / "r.txt"]
    # drawn again: the sheet is not read back (it held paragraphs: "appears twice" before)
    again = run("validation-sample", folder, "-n", 2, "-o", folder / "sheet.csv", "-m",
                tiny_model_dir)
    assert again.exit_code == 0, again.stderr
    assert "sheet.csv: not read: a validation-sample coding sheet" in again.stderr


def test_a_table_of_ones_own_is_read(folder, tmp_path):
    (folder / "coded.csv").write_text("id,text,label,score\nx,推进改革。,reform_opening,1\n",
                                      "utf-8")
    assert own_output_kind(folder / "coded.csv") is None
    assert folder / "coded.csv" in input_files(folder)


def test_output_named_as_an_input_of_the_folder_is_refused(folder, tiny_model_dir, tmp_path):
    records = folder / "a.jsonl"
    before = json.dumps({"id": "a", "text": "推进碳达峰碳中和。"}, ensure_ascii=False) + "\n"
    records.write_text(before, "utf-8")
    for command in ("profile", "label"):
        result = run(command, folder, "-o", records, "-m", tiny_model_dir)
        assert result.exit_code == 2, result.stderr
        assert "is an input of this run (in the folder" in result.stderr
        assert records.read_text("utf-8") == before
    # a file the walk does not read (hidden) or an earlier output may be replaced
    hidden = folder / ".old"
    hidden.mkdir()
    (hidden / "a.jsonl").write_text(before, "utf-8")
    assert run("label", folder, "-o", hidden / "a.jsonl", "-m", tiny_model_dir).exit_code == 0
    assert run("label", folder, "-o", folder / "out.jsonl", "-m", tiny_model_dir).exit_code == 0
    assert run("profile", folder, "-o", folder / "out.jsonl", "-m",
               tiny_model_dir).exit_code == 0
