import csv
import json

import numpy as np
from typer.testing import CliRunner

from policy_nlp.audit import audit_labels
from policy_nlp.cli import app
from policy_nlp.features import FeatureSpec
from policy_nlp.train import TrainConfig


def test_audit_rows_are_disagreements_sorted_by_margin(fixture_data):
    data = fixture_data.subset(range(len(fixture_data)))
    data.labels[data.labels.index("economy")] = "integrity"
    rows = audit_labels(data, config=TrainConfig(features=FeatureSpec(min_df=1), cv_folds=6,
                                                 n_jobs=1))
    assert rows, "a flipped label must give at least one disagreement"
    assert all(r.given != r.suggested for r in rows)
    assert all(a.margin >= b.margin for a, b in zip(rows, rows[1:], strict=False))
    for r in rows:
        assert abs(r.margin - (r.p_suggested - r.p_given)) < 1e-9
        assert 0 <= r.p_given < r.p_suggested <= 1


def test_audit_finds_labels_flipped_in_real_data(shared):
    """Flip 15 real labels to a wrong theme: most of them must top the audit."""
    from policy_nlp.labels import load_joined

    data = load_joined(shared / "labels" / "train.jsonl", shared / "corpus" / "paragraphs.jsonl")
    # the random and rare rows, as the labels were when this test was written (the era and
    # census rows that came later add whole reports' worth of real disagreements to the top)
    with open(shared / "labels" / "train.jsonl", encoding="utf-8") as fh:
        drawn = {r["id"] for r in map(json.loads, fh) if r.get("sample") in ("random", "rare")}
    data = data.subset([i for i, pid in enumerate(data.ids) if pid in drawn])
    rng = np.random.default_rng(0)
    reports = sorted(set(data.groups))
    keep = set(rng.choice(reports, size=70, replace=False))
    data = data.subset([i for i, g in enumerate(data.groups) if g in keep])
    env = [i for i, lbl in enumerate(data.labels) if lbl == "environment"]
    flipped = set(rng.choice(env, size=15, replace=False).tolist())
    for i in flipped:
        data.labels[i] = "culture"
    rows = audit_labels(data, config=TrainConfig(n_jobs=1))
    top = {r.id for r in rows[: 3 * len(flipped)]}
    found = sum(data.ids[i] in top for i in flipped)
    assert found >= 0.7 * len(flipped), f"only {found} of {len(flipped)} flipped labels found"


def test_audit_command_writes_a_review_sheet(fixture_data, tmp_path):
    src = tmp_path / "labels.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "report_id", "text", "label"])
        for pid, g, t, lbl in zip(fixture_data.ids, fixture_data.groups, fixture_data.texts,
                                  fixture_data.labels, strict=True):
            w.writerow([pid, g, t, "integrity" if pid == "fixture/r0#economy" else lbl])
    out = tmp_path / "sheet.csv"
    result = CliRunner().invoke(app, ["audit", "--labels", str(src), "-o", str(out),
                                      "--cv-folds", "6", "--min-df", "1", "-j", "1"])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for spreadsheets
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["id"] == "fixture/r0#economy"
    assert rows[0]["given"] == "integrity" and rows[0]["suggested"] == "economy"
    assert set(rows[0]) >= {"id", "text", "given", "suggested", "margin", "verdict"}
    assert "suspect labels" in result.stderr


def test_audit_sheet_never_holds_a_formula_and_reads_back(fixture_data, tmp_path):
    """The review sheet is opened in a spreadsheet: an id, report or text that starts as a
    formula would (=HYPERLINK…, -…, +…, @…, '=…) gets a ' before it, and the sheet read back
    as a labels table gives the ids, texts and reports as they were."""
    from policy_nlp.labels import load_labels

    starts = ['=HYPERLINK("http://x.org","点")', "-", "+", "@", "'=", ""]
    src = tmp_path / "labels.jsonl"  # (JSONL: a CSV's own '= would be read as a sheet's)
    truth = {}
    with open(src, "w", encoding="utf-8") as fh:
        for k, (pid, g, t, lbl) in enumerate(zip(fixture_data.ids, fixture_data.groups,
                                                 fixture_data.texts, fixture_data.labels,
                                                 strict=True)):
            start = starts[k % len(starts)]
            new_id = (start if len(start) <= 2 else "=") + pid
            lbl = "integrity" if pid == "fixture/r0#economy" else lbl
            truth[new_id] = (start + t, "-" + g, lbl)
            fh.write(json.dumps({"id": new_id, "report_id": "-" + g, "text": start + t,
                                 "label": lbl}, ensure_ascii=False) + "\n")
    out = tmp_path / "review.csv"
    result = CliRunner().invoke(app, ["audit", "--labels", str(src), "-o", str(out),
                                      "--cv-folds", "6", "--min-df", "1", "-j", "1"])
    assert result.exit_code == 0, result.stderr
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["id"] == "'=fixture/r0#economy"
    assert rows[0]["text"].startswith('\'=HYPERLINK("http://x.org","点")')
    cells = [c for row in rows for c in row.values()]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    back = load_labels([f"{out}:label=given"])
    assert len(back.ids) == len(rows)
    for pid, text, group, label in zip(back.ids, back.texts, back.groups, back.labels,
                                       strict=True):
        assert (text, group, label) == truth[pid]
