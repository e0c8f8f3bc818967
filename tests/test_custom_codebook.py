"""A custom codebook end to end: train, evaluate (theme and group level), classify."""

import json

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app

from .conftest import FIXTURES

runner = CliRunner()

# the five groups of the default codebook, as the themes of a coarser scheme, themselves in
# two groups (a two-level scheme of its own)
FIVE = """
name = "five-groups"

[[groups]]
id = "development"
zh = "发展"
en = "Development"

[[groups]]
id = "society_state"
zh = "社会与国家"
en = "Society and state"

[[themes]]
id = "economic"
group = "development"
zh = "经济"
en = "Economic"

[[themes]]
id = "construction_ecology"
group = "development"
zh = "建设与生态"
en = "Construction & ecology"

[[themes]]
id = "social"
group = "society_state"
zh = "社会"
en = "Social"

[[themes]]
id = "government"
group = "society_state"
zh = "政府"
en = "Government"

[[themes]]
id = "general"
group = "society_state"
zh = "综述"
en = "General"
"""

TO_GROUP = {"economy": "economic", "environment": "construction_ecology",
            "livelihood": "social", "integrity": "government"}

# short general passages of report style, written for this test
GENERAL = [
    "过去一年，我们坚持稳中求进，各项工作取得新的成效，全市人民倍感振奋。",
    "各位代表，新的征程已经开启，让我们团结一心、奋勇争先，再创新的辉煌。",
    "现在，我代表市人民政府，向大会报告政府工作，请予审议，并请政协委员提出意见。",
    "回顾过去五年，我们走过的路很不平凡，成绩来之不易，经验弥足珍贵。",
    "今年是全面实施规划的关键之年，做好政府工作意义重大，任务艰巨而光荣。",
    "同时也要清醒看到，我们的工作还存在一些差距和不足，我们将认真加以解决。",
]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def five(tmp_path_factory):
    d = tmp_path_factory.mktemp("five")
    book = d / "five.toml"
    book.write_text(FIVE, "utf-8")
    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text("utf-8")
            .splitlines()]
    lines = ["段落,类别,报告"]
    lines += [f"{r['text']},{TO_GROUP[r['label']]},{r['report_id']}" for r in rows]
    lines += [f"{t},general,fixture/r{i}" for i, t in enumerate(GENERAL)]
    labels = d / "coded.csv"
    labels.write_text("\n".join(lines) + "\n", "utf-8")
    model = d / "model"
    result = run("train", "--labels", labels, "--codebook", book, "--text-col", "段落",
                 "--label-col", "类别", "--group-col", "报告", "-o", model, "--cv-folds", "3",
                 "--min-df", "1", "-j", "1")
    assert result.exit_code == 0, result.stderr
    assert "groups: accuracy" in result.stdout
    return d, book, labels, model, result


def test_trains_with_the_codebook_and_group_metrics_in_the_card(five):
    _, _, _, model, result = five
    card = json.loads((model / "model.json").read_text("utf-8"))
    assert card["codebook"]["name"] == "five-groups"
    assert [t["id"] for t in card["codebook"]["themes"]] == [
        "economic", "construction_ecology", "social", "government", "general"]
    cv = card["metrics"]["cross_validation"]
    assert set(cv["per_theme"]) == {"economic", "construction_ecology", "social",
                                    "government", "general"}
    groups = cv["groups"]
    assert groups["per_group"]["development"]["support"] == 12
    assert groups["per_group"]["society_state"]["support"] == 18
    assert groups["per_group"]["development"]["themes"] == ["economic", "construction_ecology"]
    # a group is right whenever its theme is, so group accuracy is at least theme accuracy
    assert groups["accuracy"] >= cv["accuracy"]
    assert "warning: theme 'general' has only 6 examples" in result.stderr


def test_evaluates_with_groups(five, tmp_path):
    _, _, labels, model, _ = five
    out = tmp_path / "m.json"
    result = run("evaluate", "--labels", labels, "-m", model, "--text-col", "段落",
                 "--label-col", "类别", "--group-col", "报告", "-o", out)
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(out.read_text("utf-8"))
    assert metrics["n"] == 30 and metrics["groups"]["per_group"]["society_state"]["support"] == 18
    assert "development" in result.stdout and "groups: accuracy" in result.stdout
    cv = run("evaluate", "--labels", labels, "-m", model, "--text-col", "段落", "--label-col",
             "类别", "--group-col", "报告", "--cv-folds", "3", "-j", "1")
    assert cv.exit_code == 0, cv.stderr
    assert "society_state" in cv.stdout


def test_classifies_with_the_five_themes(five):
    _, _, _, model, _ = five
    result = run("classify", "--text", "严格落实中央八项规定精神，持续纠治四风，深化廉洁政府建设。",
                 "-m", model, "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    (rec,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(rec["scores"]) == {"economic", "construction_ecology", "social", "government",
                                  "general"}
    assert rec["label"] == "government"
    info = run("info", "-m", model)
    assert "by group: accuracy" in info.stdout and "construction_ecology" in info.stdout


def test_labels_outside_the_custom_codebook_are_refused(five, tmp_path):
    _, book, _, _, _ = five
    labels = tmp_path / "l.csv"
    labels.write_text("text,label,report_id\n稳增长。,economy,a\n治污染。,social,b\n", "utf-8")
    result = run("train", "--labels", labels, "--codebook", book, "-o", tmp_path / "m")
    assert result.exit_code == 2
    assert "l.csv:2: unknown theme 'economy'; the codebook 'five-groups' has" in result.stderr


def test_default_codebook_groups_on_the_tiny_model(tiny_model_dir, fixture_data):
    from policy_nlp.evaluate import evaluate
    from policy_nlp.model import load_model

    metrics = evaluate(load_model(tiny_model_dir), fixture_data)
    per = metrics["groups"]["per_group"]
    assert list(per) == ["economic", "construction_ecology", "social", "government", "general"]
    assert [per[g]["support"] for g in per] == [6, 6, 6, 6, 0]
    assert "environment" in per["construction_ecology"]["themes"]


def test_audit_reads_labels_of_a_custom_codebook(five, tmp_path):
    """audit takes --codebook as train does (it refused every label of a custom codebook)."""
    _, book, labels, _, _ = five
    out = tmp_path / "review.csv"
    common = ["audit", "--labels", labels, "--text-col", "段落", "--label-col", "类别",
              "--group-col", "报告", "--cv-folds", "3", "--min-df", "1", "-j", "1", "-o", out]
    refused = run(*common)
    assert refused.exit_code == 2 and "economic" in refused.stderr and not out.exists()
    result = run(*common, "--codebook", book)
    assert result.exit_code == 0, result.stderr
    assert out.exists()


def test_every_command_finds_the_codebook_the_same_way(five, tiny_model_dir):
    from policy_nlp.codebook import load_codebook, resolve_codebook
    from policy_nlp.model import load_model
    from policy_nlp.errors import InputError

    _, book, _, model_dir, _ = five
    model = load_model(model_dir)
    assert resolve_codebook().ids == load_codebook().ids
    assert resolve_codebook(book).ids == load_codebook(book).ids
    assert list(resolve_codebook(model=model).ids) == list(model.themes) == list(
        load_codebook(book).ids)
    with pytest.raises(InputError, match="not both"):
        resolve_codebook(book, model=model)
