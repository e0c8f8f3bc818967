"""Duplicate ids as the output has them: a record whose id is that of a report's paragraph
(``r#000``) is reported, ``kept: …: duplicate id``, in every engine and in profile; the
paragraphs of a report whose own id repeats are not reported once more each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.batch import LabelOptions, label_inputs
from policy_nlp.cli import app
from policy_nlp.read import IdMemory, SkipAndReport

REPORT = "推进碳达峰碳中和，持续改善生态环境质量。\n"


def _inputs(tmp: Path) -> list[str]:
    (tmp / "r.txt").write_text(REPORT, "utf-8")
    rec = {"id": "r#000", "text": "推进改革。"}
    (tmp / "dup.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n", "utf-8")
    return [str(tmp / "r.txt"), str(tmp / "dup.jsonl")]


def _label(inputs, out, model, **kw) -> tuple[list[str], list[str]]:
    said: list[str] = []
    policy = SkipAndReport(report=said.append)
    label_inputs(inputs, str(out), model_dir=model, on_error=policy, **kw)
    ids = [json.loads(line)["id"] for line in Path(out).read_text("utf-8").splitlines()
           ] if Path(out).is_file() else []
    return said, ids


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_record_with_a_paragraph_id_is_reported(tmp_path, tiny_model_dir, jobs):
    said, ids = _label(_inputs(tmp_path), tmp_path / "out.jsonl", tiny_model_dir, jobs=jobs)
    assert ids == ["r#000", "r#000"]
    assert said == [f"kept: {tmp_path / 'dup.jsonl'}:1: duplicate id 'r#000' (an earlier "
                    "record or report has it)"]


def test_a_paragraph_with_a_record_id_is_reported(tmp_path, tiny_model_dir):
    said, _ = _label(_inputs(tmp_path)[::-1], tmp_path / "out.jsonl", tiny_model_dir)
    assert said == [f"kept: {tmp_path / 'r.txt'}: duplicate id 'r#000' (paragraph 0 of this "
                    "report; an earlier record or report has it)"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_records_split_by_the_workers_are_checked(tmp_path, tiny_model_dir, jobs):
    rows = [{"id": "x", "text": "推进碳达峰碳中和。\n持续改善生态环境质量。"},
            {"id": "x#000", "text": "推进改革。"}]
    path = tmp_path / "rep.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    said, _ = _label([str(path)], tmp_path / "out.jsonl", tiny_model_dir, jobs=jobs,
                     opts=LabelOptions(records="reports"))
    assert said == [f"kept: {path}:2: duplicate id 'x#000' (an earlier record or report has "
                    "it)"]


def test_dask_engine(tmp_path, tiny_model_dir):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    said, _ = _label(_inputs(tmp_path), tmp_path / "parts", tiny_model_dir, engine="dask",
                     jobs=1)
    assert said == [f"kept: {tmp_path / 'dup.jsonl'}:1: duplicate id 'r#000' (an earlier "
                    "record or report has it)"]


def test_a_repeated_report_is_reported_once():
    said: list[str] = []
    memory = IdMemory()
    memory.check("r", "a/r.txt", said.append, parts=3)
    memory.check("r", "b/r.txt", said.append, parts=3)
    assert len(said) == 1 and "b/r.txt: duplicate id 'r'" in str(said[0])


def test_profile_and_validation_sample(tmp_path, tiny_model_dir):
    runner = CliRunner()
    inputs = _inputs(tmp_path)
    result = runner.invoke(app, ["profile", *inputs, "-o", str(tmp_path / "p.csv"), "-m",
                                 str(tiny_model_dir)])
    assert result.exit_code == 5, result.stderr
    assert "kept: " + inputs[1] + ":1: duplicate id 'r#000'" in result.stderr
    result = runner.invoke(app, ["validation-sample", *inputs, "-n", "2", "-o",
                                 str(tmp_path / "s.csv"), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2, result.stderr  # a sheet is matched by id: refused
    assert "duplicate id 'r#000'" in result.stderr
    assert not (tmp_path / "s.csv").exists()


def _same_names(tmp: Path) -> list[str]:
    for folder in ("北京", "上海"):
        (tmp / folder).mkdir()
        (tmp / folder / "2024.txt").write_text(REPORT, "utf-8")
    return [str(tmp / "北京"), str(tmp / "上海")]


@pytest.mark.parametrize("engine, jobs", [("local", 1), ("local", 2), ("dask", 1)])
def test_files_of_one_name_in_two_folders_are_two_reports(tmp_path, tiny_model_dir, engine,
                                                          jobs):
    """北京/2024.txt and 上海/2024.txt: the second is named by its path, as profile names it
    (label kept both as '2024', reported a duplicate id and exited 5; profile of that output
    then merged the two reports into one)."""
    if engine == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed")
    out = tmp_path / ("parts" if engine == "dask" else "out.jsonl")
    said: list[str] = []
    label_inputs(_same_names(tmp_path), str(out), model_dir=tiny_model_dir, engine=engine,
                 jobs=jobs, on_error=SkipAndReport(report=said.append))
    parts = sorted(out.glob("part-*.jsonl")) if engine == "dask" else [out]
    lines = [line for p in parts for line in p.read_text("utf-8").splitlines()]
    assert said == []
    assert [json.loads(line)["id"] for line in lines] == [
        "2024#000", f"{(tmp_path / '上海' / '2024.txt').as_posix()}#000"]
    result = CliRunner().invoke(app, ["classify", str(tmp_path), "--format", "jsonl", "-m",
                                      str(tiny_model_dir)])
    assert result.exit_code == 0, result.stderr
    assert len({json.loads(line)["id"] for line in result.stdout.splitlines()}) == 2
