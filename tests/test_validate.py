"""The validation report before training: each bad-label case named with its row number."""

import json

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.labels import load_joined, load_table, validate

from .conftest import FIXTURES

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _fixture_rows():
    return [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _kinds(report, severity):
    return [p.kind for p in report.problems if p.severity == severity]


def test_clean_fixture_has_warnings_only(fixture_data):
    report = validate(fixture_data)
    assert report.ok
    # 6 examples a theme: below 20, and 13 of the 17 codebook themes have none
    assert _kinds(report, "warning").count("too_few") == 4
    assert "no_examples" in _kinds(report, "warning")
    assert report.imbalance == 1.0 and report.n_rows == 24


def test_unknown_ids_are_listed_with_their_lines(tmp_path):
    paras = _write(tmp_path / "p.jsonl", [{"id": "a#1", "report_id": "a", "text": "稳增长。"},
                                          {"id": "b#1", "report_id": "b", "text": "治污染。"}])
    labels = _write(tmp_path / "l.jsonl", [{"id": "a#1", "label": "economy"},
                                           {"id": "x#9", "label": "economy"},
                                           {"id": "b#1", "label": "environment"},
                                           {"id": "y#9", "label": "economy"}])
    data = load_joined(labels, paras, strict=False)
    assert data.ids == ["a#1", "b#1"]  # the bad rows are out of the data ...
    report = validate(data)
    errors = [p.message for p in report.errors]  # ... and in the report, each with its line
    assert any(m.endswith("l.jsonl:2: id 'x#9' is not in " + str(paras)) for m in errors)
    assert any("l.jsonl:4: id 'y#9'" in m for m in errors)
    assert _kinds(report, "error").count("unknown_id") == 2


def test_conflicting_duplicate_texts_are_an_error(tmp_path):
    rows = _fixture_rows()
    rows.append({**rows[0], "id": "dup", "label": "livelihood"})  # same text, other theme
    rows.append({**rows[7], "id": "dup2"})  # same text, same theme: a warning
    data = load_table(_write(tmp_path / "l.jsonl", rows), strict=False)
    report = validate(data)
    (conflict,) = [p for p in report.errors if p.kind == "conflicting_duplicate"]
    assert "l.jsonl:1 (economy)" in conflict.message
    assert "l.jsonl:25 (livelihood)" in conflict.message
    (same,) = [p for p in report.warnings if p.kind == "duplicate_text"]
    assert "l.jsonl:8" in same.message and "l.jsonl:26" in same.message


def test_empty_texts_and_labels_name_their_rows(tmp_path):
    path = tmp_path / "coded.csv"
    path.write_text("text,label,report_id\n稳增长。,economy,a\n  ,economy,b\n治污染。,,c\n"
                    "惠民生。,livelihood,d\n", "utf-8")
    data = load_table(path, strict=False)
    assert len(data) == 2
    report = validate(data)
    assert [p.message for p in report.errors if p.kind in ("empty_text", "empty_label")] == [
        f"{path}:3: empty text"]
    assert any(p.kind == "blank_label" and f"{path}:4" in p.message for p in report.warnings)
    messages = [p.message for p in validate(load_table(path, strict=False,
                                                       blank="error")).errors]
    assert f"{path}:3: empty text" in messages
    assert any(m.startswith(f"{path}:4: empty label") for m in messages)


def test_unknown_theme_and_duplicate_id(tmp_path):
    rows = _fixture_rows()
    rows[3] = {**rows[3], "label": "economics"}
    rows.append({**rows[10], "text": "另一段文字。"})
    report = validate(load_table(_write(tmp_path / "l.jsonl", rows), strict=False))
    messages = [p.message for p in report.errors]
    assert any("l.jsonl:4: unknown theme 'economics'" in m for m in messages)
    assert any("l.jsonl:25: id 'fixture/r4#environment' is labeled twice (first at "
               in m for m in messages)


def test_too_few_examples_refuse_below_2_warn_below_20(tmp_path):
    rows = _fixture_rows()
    rows.append({"id": "x#1", "report_id": "x", "text": "深化国防动员。", "label":
                 "defense_foreign"})
    report = validate(load_table(_write(tmp_path / "l.jsonl", rows), strict=False))
    (err,) = report.errors
    assert err.kind == "too_few" and "'defense_foreign' has 1 example" in err.message
    assert "l.jsonl:25" in err.message
    warned = [p.message for p in report.warnings if p.kind == "too_few"]
    assert len(warned) == 4 and any("'economy' has only 6 examples" in m for m in warned)
    assert validate(load_table(_write(tmp_path / "l.jsonl", rows), strict=False),
                    min_warn=5).warnings[0].kind != "too_few"


def test_class_imbalance_is_warned(tmp_path):
    rows = _fixture_rows()
    rows += [{"id": f"e{i}", "report_id": f"fixture/r{i % 6}", "text": f"经济增长第{i}段。",
              "label": "economy"} for i in range(60)]
    report = validate(load_table(_write(tmp_path / "l.jsonl", rows)))
    assert report.imbalance == 11.0
    (warn,) = [p for p in report.warnings if p.kind == "imbalance"]
    assert "11.0:1 (economy 66, environment 6)" in warn.message
    assert validate(load_table(FIXTURES / "labeled.jsonl")).imbalance == 1.0


def test_strict_loading_still_stops_at_the_first_bad_row(tmp_path):
    from policy_nlp.errors import InputError

    rows = _fixture_rows()
    rows[2] = {**rows[2], "label": "nope"}
    with pytest.raises(InputError, match=r"l.jsonl:3: unknown theme 'nope'"):
        load_table(_write(tmp_path / "l.jsonl", rows))


def test_train_prints_warnings_and_refuses_on_errors(tmp_path):
    rows = _fixture_rows()
    rows.append({**rows[0], "id": "dup", "label": "integrity"})
    rows.append({"id": "z", "report_id": "z", "text": "", "label": "economy"})
    labels = _write(tmp_path / "l.jsonl", rows)
    result = run("train", "--labels", labels, "-o", tmp_path / "m", "--cv-folds", "3",
                 "--min-df", "1", "-j", "1")
    assert result.exit_code == 2
    assert "policy-nlp: bad label: l.jsonl:26: empty text" in result.stderr.replace(
        str(tmp_path) + "/", "")
    assert "one text, different labels" in result.stderr
    assert "warning: theme 'economy' has only 6 examples" in result.stderr
    assert result.stderr.rstrip().endswith("2 bad labels (listed above); nothing trained")
    assert not (tmp_path / "m").exists()


def test_validate_labels_command(tmp_path):
    ok = run("validate-labels", "--labels", FIXTURES / "labeled.jsonl")
    assert ok.exit_code == 0, ok.stderr
    assert "24 labeled rows, 4 themes, imbalance 1.0:1: 0 errors" in ok.stdout
    rows = _fixture_rows()
    rows[5] = {**rows[5], "label": ""}
    partial = run("validate-labels", "--labels", _write(tmp_path / "l.jsonl", rows), "--json")
    assert partial.exit_code == 0  # a row not coded yet is skipped, with a warning
    assert json.loads(partial.stdout)["warnings"][0]["kind"] == "blank_label"
    bad = run("validate-labels", "--labels", tmp_path / "l.jsonl", "--json", "--strict")
    assert bad.exit_code == 2
    report = json.loads(bad.stdout)
    assert [e["kind"] for e in report["errors"]] == ["empty_label"]
    assert ":6: empty label" in report["errors"][0]["message"]
