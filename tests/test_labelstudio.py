"""Label Studio and doccano: the labeling configuration, tasks with pre-annotations, the
exports (JSON, JSON-MIN, CSV; several annotators) read back for training and agreement."""

import csv
import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from policy_nlp.annotate import (
    annotations_from_export,
    label_config,
    label_studio_tasks,
    write_label_studio_tasks,
)
from policy_nlp.cli import app
from policy_nlp.codebook import load_codebook
from policy_nlp.errors import InputError
from policy_nlp.labels import load_coder_labels, load_table

from .conftest import assert_no_traceback, fixture_rows, write_pool

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_label_config_groups_and_choices():
    book = load_codebook()
    root = ET.fromstring(label_config(book))
    primary, secondary = root.findall("Choices")
    assert primary.get("name") == "theme" and primary.get("choice") == "single-radio"
    assert secondary.get("name") == "secondary" and secondary.get("choice") == "multiple"
    groups = primary.findall("View")
    assert len(groups) == len(book.groups)
    headers = [g.find("Header").get("value") for g in groups]
    for group in book.groups.values():
        assert any(h.startswith(group["zh"]) for h in headers)
    stored = [c.get("alias") for g in groups for c in g.findall("Choice")]
    assert sorted(stored) == sorted(book.ids)
    assert [c.get("alias") for c in secondary.findall("Choice")] == book.ids
    economy = next(c for g in groups for c in g.findall("Choice") if c.get("alias") == "economy")
    assert book.theme("economy").zh in economy.get("value")
    printed = run("label-config")
    assert printed.exit_code == 0 and printed.stdout == label_config(book)


def test_tasks_carry_the_guess_as_a_prediction(tmp_path, tiny_model_dir):
    rows = fixture_rows()
    pool = write_pool(tmp_path / "pool.jsonl")
    out = tmp_path / "tasks.json"
    made = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 6, "--format",
               "label-studio", "-o", out)
    assert made.exit_code == 0, made.stderr
    tasks = json.loads(out.read_text("utf-8"))
    assert len(tasks) == 6
    ids = {r["id"] for r in rows}
    for task in tasks:
        data = task["data"]
        assert data["paragraph_id"] in ids and data["text"] and "label" not in data
        (pred,) = task["predictions"]
        (res,) = pred["result"]
        assert res["from_name"] == "theme" and res["value"]["choices"] == [data["guess"]]
        assert res["score"] == pred["score"] == data["probability"]
    doccano = tmp_path / "doccano.jsonl"
    assert run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 6, "--format",
               "doccano", "-o", doccano).exit_code == 0
    records = [json.loads(line) for line in doccano.read_text("utf-8").splitlines()]
    assert all(r["label"] == [] and r["paragraph_id"] in ids for r in records)


def test_writer_for_other_commands():
    """write_label_studio_tasks takes any rows with a text (validation-sample's too)."""
    import io

    out = io.StringIO()
    n = write_label_studio_tasks([{"id": "a#1", "text": "稳增长。", "predicted": "economy",
                                   "p": 0.9}, {"id": "a#2", "text": "治污染。"}], out,
                                 guess_key="predicted", score_key="p")
    tasks = json.loads(out.getvalue())
    assert n == 2 and tasks[0]["predictions"][0]["score"] == 0.9
    assert "predictions" not in tasks[1] and tasks[1]["data"]["paragraph_id"] == "a#2"
    with pytest.raises(InputError, match="a task needs a text"):
        label_studio_tasks([{"id": "x"}])


# -- exports as Label Studio writes them ------------------------------------------------

def _export(rows, coded):
    """A Label Studio JSON export: task k holds rows[k]; ``coded[k]``: annotator -> (theme,
    secondary) (no entry: no annotation)."""
    tasks = []
    for k, row in enumerate(rows):
        anns = []
        for who, (theme, second) in coded.get(k, {}).items():
            result = [{"id": f"r{k}", "from_name": "theme", "to_name": "text",
                       "type": "choices", "value": {"choices": [theme]}, "origin": "manual"}]
            if second:
                result.append({"id": f"s{k}", "from_name": "secondary", "to_name": "text",
                               "type": "choices", "value": {"choices": second}})
            anns.append({"id": 100 * k + who, "completed_by": who, "result": result,
                         "was_cancelled": False, "lead_time": 3.5})
        tasks.append({"id": k + 1, "data": {"paragraph_id": row["id"], "text": row["text"],
                                            "report_id": row["report_id"]},
                      "annotations": anns, "predictions": []})
    return tasks


def _json_min(tasks):
    flat = []
    for t in tasks:
        base = {"id": t["id"], **t["data"]}
        if not t["annotations"]:
            flat.append(base)
        for a in t["annotations"]:
            rec = {**base, "annotator": a["completed_by"], "annotation_id": a["id"],
                   "created_at": "2026-12-06T08:00:00Z", "lead_time": 3.5}
            for res in a["result"]:
                choices = res["value"]["choices"]
                rec[res["from_name"]] = choices[0] if res["from_name"] == "theme" else {
                    "choices": choices}
            flat.append(rec)
    return flat


def _csv_export(path, flat):
    columns = list(dict.fromkeys(k for rec in flat for k in rec))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for rec in flat:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
                             for k, v in rec.items()})
    return path


@pytest.fixture
def coded():
    rows = fixture_rows()
    plan = {k: {1: (r["label"], ["industry"] if k == 0 else [])} for k, r in enumerate(rows)}
    plan[1] = {1: (rows[1]["label"], []), 2: (rows[1]["label"], []), 3: ("integrity", [])}
    plan[2] = {}  # a task no one coded
    plan[3] = {1: (rows[3]["label"], []), 2: ("livelihood", [])}  # a tie
    return rows, _export(rows, plan)


@pytest.mark.parametrize("shape", ["json", "json-min", "csv"])
def test_exports_train_by_majority(tmp_path, coded, shape):
    rows, tasks = coded
    if shape == "json":
        path = tmp_path / "export.json"
        path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    elif shape == "json-min":
        path = tmp_path / "export.json"
        path.write_text(json.dumps(_json_min(tasks), ensure_ascii=False), "utf-8")
    else:
        path = _csv_export(tmp_path / "export.csv", _json_min(tasks))
    data = load_table(path, strict=False)
    assert data.ids == [r["id"] for k, r in enumerate(rows) if k not in (2, 3)]
    assert data.labels == [r["label"] for k, r in enumerate(rows) if k not in (2, 3)]
    assert data.secondary[0] == ["industry"] and data.groups[0] == rows[0]["report_id"]
    assert data.blank == [f"{path}: task 3"]
    (tie,) = data.problems
    assert tie.kind == "no_majority" and f"{path}: task 4 (id {rows[3]['id']!r})" in tie.message
    assert "disagree with no majority: 1 (" in tie.message


def test_export_for_agreement_one_coder_per_annotator(tmp_path, coded):
    rows, tasks = coded
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    found = load_coder_labels([path])
    assert sorted(found.coders) == ["export/1", "export/2", "export/3"]
    assert found.coders["export/2"] == {rows[1]["id"]: rows[1]["label"],
                                        rows[3]["id"]: "livelihood"}
    assert found.blank == [f"{path}: task 3"]
    result = run("agreement", path, "--format", "json", "--resamples", 100)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cohen_kappa"] is None and report["krippendorff_alpha"]["n_items"] == 2


def test_export_with_foreign_choices_is_refused(tmp_path, coded):
    _, tasks = coded
    tasks[5]["annotations"][0]["result"][0]["value"]["choices"] = ["Economy!"]
    tasks[6]["annotations"][0]["result"][0]["value"]["choices"] = ["其他"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    result = run("train", "--labels", path, "-o", tmp_path / "m")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "task 6: unknown theme 'Economy!'" in result.stderr
    assert "task 7: unknown theme '其他'" in result.stderr
    assert not (tmp_path / "m").exists()
    agree = run("agreement", path)
    assert agree.exit_code == 2
    assert "'Economy!' (1x" in agree.stderr and "'其他' (1x" in agree.stderr


def test_export_with_no_annotation_is_refused(tmp_path, coded):
    rows, tasks = coded
    for t in tasks:
        t["annotations"] = []
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    result = run("train", "--labels", path, "-o", tmp_path / "m")
    assert result.exit_code == 2
    assert f"no labeled rows ({len(rows)} rows with a blank label)" in result.stderr


def test_shown_names_and_chinese_names_map_to_ids(tmp_path, coded):
    rows, tasks = coded
    book = load_codebook()
    theme = book.theme(rows[0]["label"])
    tasks[0]["annotations"][0]["result"][0]["value"]["choices"] = [
        f"{theme.zh} {theme.en} ({theme.id})"]
    tasks[4]["annotations"][0]["result"][0]["value"]["choices"] = [
        book.theme(rows[4]["label"]).zh]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    data = load_table(path, strict=False)
    assert data.labels[0] == rows[0]["label"] and rows[4]["label"] in data.labels


def test_annotations_reader_shapes():
    anns = annotations_from_export([{"id": 7, "text": "稳增长。", "theme": "economy",
                                     "secondary": '{"choices": ["industry", "finance"]}',
                                     "annotator": "a@x.org", "annotation_id": 3}], "e.csv")
    (a,) = anns
    assert (a.id, a.coder, a.label, a.secondary) == ("7", "a@x.org", "economy",
                                                      ["industry", "finance"])
    with pytest.raises(InputError, match="2 primary themes"):
        annotations_from_export([{"id": 1, "theme": {"choices": ["a", "b"]},
                                  "annotator": 1}], "e.json")


def test_doccano_round_trip(tmp_path):
    rows = fixture_rows()
    path = tmp_path / "doccano.jsonl"
    path.write_text("".join(json.dumps({"id": k + 1, "text": r["text"], "label": [r["label"]]
                                        if k != 5 else [], "paragraph_id": r["id"],
                                        "report_id": r["report_id"]}, ensure_ascii=False)
                            + "\n" for k, r in enumerate(rows)), "utf-8")
    data = load_table(path)
    assert data.ids == [r["id"] for k, r in enumerate(rows) if k != 5]
    assert data.groups[0] == rows[0]["report_id"] and data.blank == [f"{path}:6"]
    trained = run("train", "--labels", path, "-o", tmp_path / "m", "--cv-folds", 0,
                  "--min-df", 1, "-j", 1)
    assert trained.exit_code == 0, trained.stderr
    path.write_text(json.dumps({"id": 1, "text": "稳增长。", "label": ["economy", "industry"]})
                    + "\n", "utf-8")
    with pytest.raises(InputError, match=r"2 labels .* tick 'Allow single label'"):
        load_table(path)


def test_tasks_given_out_are_not_suggested_again(tmp_path, tiny_model_dir):
    pool = write_pool(tmp_path / "pool.jsonl")
    first = tmp_path / "tasks.json"
    assert run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 10, "--per-report", 4,
               "--format", "label-studio", "-o", first).exit_code == 0
    given = {t["data"]["paragraph_id"] for t in json.loads(first.read_text("utf-8"))}
    more = tmp_path / "more.jsonl"
    result = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 30, "--per-report", 4,
                 "--labeled", first, "-o", more)
    assert result.exit_code == 0, result.stderr
    again = {json.loads(line)["id"] for line in more.read_text("utf-8").splitlines()}
    assert len(again) == 14 and not again & given


def test_one_file_with_a_coder_column(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,coder,label\na,ann,economy\na,bo,economy\nb,ann,industry\n"
                    "b,bo,economy\nc,ann,integrity\nc,bo,\n", "utf-8")
    found = load_coder_labels([path])
    assert found.coders == {"long/ann": {"a": "economy", "b": "industry", "c": "integrity"},
                            "long/bo": {"a": "economy", "b": "economy"}}
    assert found.blank == [f"{path}:7"]
    bad = tmp_path / "twice.csv"
    bad.write_text("id,coder,label\na,ann,economy\na,ann,industry\n", "utf-8")
    with pytest.raises(InputError, match=r"twice.csv:3: coder twice/ann gives id 'a' "
                                         r"'industry', and 'economy' at .*twice.csv:2"):
        load_coder_labels([bad])


def test_export_of_another_configuration_names_its_controls(tmp_path, coded):
    _, tasks = coded
    for t in tasks:
        for a in t["annotations"]:
            for res in a["result"]:
                res["from_name"] = "topic" if res["from_name"] == "theme" else res["from_name"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    with pytest.raises(InputError, match=r"no choices named 'theme', but topic: a project "
                                         r"with another labeling configuration\?"):
        load_table(path)
    assert len(load_table(path, columns={"label": "topic"}, strict=False)) == 22
    checked = run("validate-labels", "--labels", f"{path}:label=topic", "--json")
    report = json.loads(checked.stdout)
    assert sum(report["counts"].values()) == 22
    assert [e["kind"] for e in report["errors"]] == ["no_majority"]


def test_a_tool_format_needs_its_own_extension(tmp_path):
    """suggest --format label-studio never writes JSON into a .csv (nor doccano's JSONL)."""
    from typer.testing import CliRunner as Runner

    from policy_nlp.cli import app as cli_app

    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"id": "a#1", "report_id": "a", "text": "推进碳达峰碳中和。"}\n'
                    '{"id": "a#2", "report_id": "a", "text": "严格落实中央八项规定精神。"}\n',
                    encoding="utf-8")
    for fmt, name in (("label-studio", "t.csv"), ("doccano", "t.json")):
        result = Runner().invoke(cli_app, ["suggest", "--pool", str(pool), "-n", "1",
                                           "--format", fmt, "-o", str(tmp_path / name)])
        assert result.exit_code == 2 and "name the output OUT." in result.stderr
        assert not (tmp_path / name).exists()


def _coded_locally(tasks, themes):
    """Our tasks, each given one annotation (as a coder would, editing the file by hand)."""
    for task, theme in zip(tasks, themes, strict=True):
        task["annotations"] = [{"completed_by": 1, "was_cancelled": False, "result": [
            {"from_name": "theme", "to_name": "text", "type": "choices",
             "value": {"choices": [theme]}}]}]
    return tasks


@pytest.mark.parametrize("numbered", [True, False])
def test_our_tasks_coded_outside_label_studio_stay_one_per_paragraph(tmp_path, numbered):
    # tasks without a number (as suggest wrote them before) all had the task id "": they
    # collapsed into one task ("1 rows with a blank label", or annotators who "disagree")
    rows = fixture_rows()[:6]
    tasks = label_studio_tasks([{k: v for k, v in r.items() if k != "label"} for r in rows])
    assert [t["id"] for t in tasks] == list(range(1, 7))
    if not numbered:
        for t in tasks:
            del t["id"]
    path = tmp_path / "coded.json"
    path.write_text(json.dumps(_coded_locally(tasks, [r["label"] for r in rows]),
                               ensure_ascii=False), "utf-8")
    data = load_table(path)
    assert data.ids == [r["id"] for r in rows]
    assert data.labels == [r["label"] for r in rows]
    assert not data.blank and not data.problems


def test_annotations_of_one_paragraph_in_two_rows_are_taken_together(tmp_path, coded):
    # a flat export without task numbers: one row per annotation, joined by paragraph id
    rows, tasks = coded
    flat = [{k: v for k, v in rec.items() if k != "id"} for rec in _json_min(tasks)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(flat, ensure_ascii=False), "utf-8")
    data = load_table(path, strict=False)
    assert data.ids == [r["id"] for k, r in enumerate(rows) if k not in (2, 3)]
    assert [p.kind for p in data.problems] == ["no_majority"]


@pytest.mark.parametrize("task, what", [
    ({"id": 6, "data": {"text": "稳增长。"}, "annotations": "oops"},
     "task 6: 'annotations' is not a list of objects"),
    ({"id": 6, "data": {"text": "稳增长。"}, "annotations": ["oops"]},
     "task 6: 'annotations' is not a list of objects"),
    ({"id": 6, "data": {"text": "稳增长。"}, "annotations": [{"result": {"a": 1}}]},
     "task 6: an annotation's 'result' is not a list of objects"),
    ({"id": 6, "data": {"text": "稳增长。"}, "annotations": [{"result": [3]}]},
     "task 6: an annotation's 'result' is not a list of objects"),
])
def test_a_damaged_export_is_named_not_a_traceback(tmp_path, task, what):
    # an export edited by hand or by a script: AttributeError tracebacks (exit 1)
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task], ensure_ascii=False), "utf-8")
    with pytest.raises(InputError, match=what):
        annotations_from_export([task], str(path))
    result = CliRunner().invoke(app, ["validate-labels", "--labels", str(path)])
    assert_no_traceback(result)
    assert result.exit_code == 2 and what in result.stderr, result.stderr
