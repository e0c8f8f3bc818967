"""label --unit sentence: as classify and profile have it, for many inputs into one file."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app

from .conftest import FIXTURES


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_label_unit_sentence(tiny_model_dir, tmp_path, fmt):
    runner = CliRunner()
    base = ["label", str(FIXTURES / "report.txt"), "-m", str(tiny_model_dir), "--no-progress"]
    by_paragraph = tmp_path / f"p.{fmt}"
    by_sentence = tmp_path / f"s.{fmt}"
    assert runner.invoke(app, [*base, "-o", str(by_paragraph)]).exit_code == 0
    result = runner.invoke(app, [*base, "-o", str(by_sentence), "--unit", "sentence"])
    assert result.exit_code == 0, result.output
    if fmt == "jsonl":
        para = [json.loads(line) for line in by_paragraph.read_text("utf-8").splitlines()]
        sent = [json.loads(line) for line in by_sentence.read_text("utf-8").splitlines()]
    else:
        para = list(csv.DictReader(by_paragraph.read_text("utf-8-sig").splitlines()))
        sent = list(csv.DictReader(by_sentence.read_text("utf-8-sig").splitlines()))
    # one record per paragraph, as without --unit, with the paragraph's own label kept
    assert [r["id"] for r in sent] == [r["id"] for r in para]
    assert [r["label"] for r in sent] == [r["label"] for r in para]
    for rec in sent:
        if fmt == "jsonl":
            assert abs(sum(rec["themes"].values()) - 1) < 1e-3
            assert "".join(s["text"] for s in rec["sentences"]) == rec["text"].replace(" ", "")
        else:
            assert rec["themes"] and json.loads(rec["sentences"])
    assert "sentences" not in para[0] and "themes" not in para[0]
