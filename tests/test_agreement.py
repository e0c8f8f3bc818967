"""agreement: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha against the reference libraries
and published worked examples; bootstrap intervals and their coverage; the command."""

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from policy_nlp.agreement import (
    MISSING,
    Codings,
    agreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)
from policy_nlp.cli import app

from .conftest import assert_no_traceback

runner = CliRunner()
THEMES = ["economy", "environment", "livelihood", "integrity", "industry"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _codings(table) -> Codings:
    """Codings of an items × coders array of category numbers 1.. (0 or nan: missing)."""
    t = np.nan_to_num(np.asarray(table, dtype=float), nan=0).astype(int) - 1
    t[t < 0] = MISSING
    k = int(t.max()) + 1
    return Codings(coders=[f"c{j}" for j in range(t.shape[1])],
                   ids=[f"i{i}" for i in range(len(t))], themes=[str(c) for c in range(k)],
                   table=t)


def _random(seed, n_items=60, n_coders=3, k=4, missing=0.0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_items)
    noise = rng.integers(0, k, (n_items, n_coders))
    keep = rng.random((n_items, n_coders)) < 0.7
    t = np.where(keep, truth[:, None], noise) + 1
    if missing:
        t = np.where(rng.random(t.shape) < missing, 0, t)
    return t


# -- published worked examples ----------------------------------------------------------

def test_krippendorff_published_nominal_example():
    """Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 observers x
    12 units example with missing values: alpha (nominal) = 0.743."""
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3]
    c = [0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0]
    alpha = krippendorff_alpha(_codings(np.array([a, b, c, d]).T))
    assert round(alpha, 3) == 0.743


def test_fleiss_worked_example():
    """Fleiss' kappa's worked example (10 subjects, 14 raters, 5 categories; the table of
    Wikipedia's 'Fleiss' kappa' article): P = 0.378, P_e = 0.213, kappa = 0.210."""
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
              [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
              [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    # rater identities do not matter to Fleiss' kappa: deal each subject's ratings out
    table = np.array([[c + 1 for c, n in enumerate(row) for _ in range(n)] for row in counts])
    assert round(fleiss_kappa(_codings(table)), 3) == 0.210


# -- parity with the reference libraries on random data --------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_alpha_equals_krippendorff_package(seed):
    krippendorff = pytest.importorskip("krippendorff")
    t = _random(seed, n_coders=2 + seed % 4, k=2 + seed % 5, missing=0.25)
    data = np.where(t == 0, np.nan, t).T.astype(float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert abs(krippendorff_alpha(_codings(t)) - expected) < 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_fleiss_equals_statsmodels(seed):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    t = _random(seed, n_coders=2 + seed % 5, k=2 + seed % 4)
    table, _ = inter_rater.aggregate_raters(t - 1, n_cat=int(t.max()))
    expected = inter_rater.fleiss_kappa(table, method="fleiss")
    assert abs(fleiss_kappa(_codings(t)) - expected) < 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_cohen_equals_scikit_learn(seed):
    from sklearn.metrics import cohen_kappa_score

    t = _random(seed, n_coders=2, k=2 + seed % 6)
    expected = cohen_kappa_score(t[:, 0], t[:, 1])
    assert abs(cohen_kappa(_codings(t)) - expected) < 1e-9
    # with missing values: over the items both coded
    t = _random(seed + 100, n_coders=2, k=3, missing=0.2)
    both = (t > 0).all(axis=1)
    assert abs(cohen_kappa(_codings(t)) - cohen_kappa_score(t[both, 0], t[both, 1])) < 1e-9


def test_result_matches_the_single_functions_and_is_reproducible():
    t = _random(3, n_items=80, n_coders=3, k=5, missing=0.1)
    codings = _codings(t)
    result = agreement(codings, n_boot=300, seed=1)
    assert result["krippendorff_alpha"]["value"] == pytest.approx(krippendorff_alpha(codings),
                                                                  abs=1e-12)
    assert result["fleiss_kappa"]["value"] == pytest.approx(fleiss_kappa(codings), abs=1e-12)
    assert result["cohen_kappa"] is None and len(result["pairs"]) == 3
    for key in ("krippendorff_alpha", "fleiss_kappa"):
        lo, hi = result[key]["ci95"]
        assert lo < result[key]["value"] < hi
    assert agreement(codings, n_boot=300, seed=1) == result
    # the coincidence matrix: symmetric, its total the number of pairable values
    co = np.array(result["coincidence"])
    assert np.allclose(co, co.T)
    assert co.sum() == pytest.approx(result["krippendorff_alpha"]["n_values"])
    # per theme: Fleiss' per-category kappa against the binary (theme vs rest) Fleiss' kappa
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    full = (t > 0).all(axis=1)
    for row in result["per_theme"]:
        c = int(row["theme"])
        binary = (t[full] == c + 1).astype(int)
        table, _ = inter_rater.aggregate_raters(binary, n_cat=2)
        assert row["fleiss_kappa"] == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-9)


def test_two_coders_confusion_and_disagreements():
    t = np.array([[1, 1], [2, 2], [1, 2], [3, 3], [3, 1], [2, 2]])
    codings = _codings(t)
    result = agreement(codings, n_boot=200)
    assert result["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert result["disagreements"] == ["i2", "i4"]
    assert result["cohen_kappa"]["observed_agreement"] == pytest.approx(4 / 6)


@pytest.mark.slow
def test_bootstrap_interval_coverage():
    """The 95% intervals' coverage over simulated studies whose population value is known:
    each coder gives the true theme with probability r, else a theme at random; then the
    population alpha = kappa = (p_o - p_e) / (1 - p_e), p_o = P(two coders agree), p_e the
    chance agreement of the coders' common margins."""
    rng = np.random.default_rng(7)
    k, r, n_items, reps = 4, 0.7, 80, 200
    p = np.array([0.4, 0.3, 0.2, 0.1])
    q = r * p + (1 - r) / k  # a coder's margins
    same = r + (1 - r) / k
    p_o = same * same + (k - 1) * ((1 - r) / k) ** 2
    p_e = float(q @ q)
    truth = (p_o - p_e) / (1 - p_e)
    hits = {"krippendorff_alpha": 0, "fleiss_kappa": 0, "cohen_kappa": 0}
    for _ in range(reps):
        true = rng.choice(k, n_items, p=p)
        t = np.where(rng.random((n_items, 2)) < r, true[:, None],
                     rng.integers(0, k, (n_items, 2))) + 1
        result = agreement(_codings(t), n_boot=300, seed=int(rng.integers(1 << 30)))
        for key in hits:
            lo, hi = result[key]["ci95"]
            hits[key] += lo <= truth <= hi
    coverage = {key: n / reps for key, n in hits.items()}
    # binomial sd of a 95% coverage over 200 studies: 1.5 points
    assert all(0.90 <= c <= 0.99 for c in coverage.values()), coverage


# -- the command ------------------------------------------------------------------------

def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _coders(tmp_path):
    rng = np.random.default_rng(0)
    ids = [f"r{i // 5}#{i % 5:03d}" for i in range(40)]
    truth = rng.choice(THEMES, len(ids))
    a = [{"id": i, "label": t, "text": f"第{i}段。"} for i, t in zip(ids, truth, strict=True)]
    b = [dict(r) for r in a]
    for k in (3, 7, 11):
        b[k]["label"] = "economy" if a[k]["label"] != "economy" else "industry"
    b[20]["label"] = ""  # not coded yet: skipped with a warning
    return _jsonl(tmp_path / "alice.jsonl", a), b


def test_agreement_command_jsonl_and_csv(tmp_path):
    alice, b = _coders(tmp_path)
    bob = tmp_path / "bob.csv"
    with bob.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "主题"])
        writer.writerows([[r["id"], r["label"]] for r in b])
    out = tmp_path / "disputes.csv"
    result = run("agreement", alice, bob, "--format", "json", "--disagreements", out,
                 "--resamples", 200)
    assert result.exit_code == 0, result.stderr
    assert "1 row with a blank label skipped" in result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha"}
    assert report["coders"] == ["alice", "bob"] and report["n_items"] == 40
    assert report["cohen_kappa"]["n_items"] == 39
    assert report["cohen_kappa"]["observed_agreement"] == pytest.approx(36 / 39)
    from sklearn.metrics import cohen_kappa_score

    pairs = [(x["label"], y["label"]) for x, y in zip(json.loads("[" + ",".join(
        alice.read_text("utf-8").splitlines()) + "]"), b, strict=True) if y["label"]]
    expected = cohen_kappa_score([p[0] for p in pairs], [p[1] for p in pairs])
    assert report["cohen_kappa"]["value"] == pytest.approx(expected, abs=1e-9)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [f"r{k // 5}#{k % 5:03d}" for k in (3, 7, 11)]
    assert list(rows[0]) == ["id", "text", "alice", "bob", "most_frequent", "label"]
    assert rows[0]["text"] == "第r0#003段。" and rows[0]["label"] == ""
    text = run("agreement", alice, bob, "--resamples", 200)
    assert text.exit_code == 0
    assert "Cohen's kappa" in text.stdout and "Krippendorff's alpha" in text.stdout
    assert "3 items with different themes" in text.stdout


def test_agreement_bad_inputs(tmp_path):
    alice, b = _coders(tmp_path)
    stranger = _jsonl(tmp_path / "stranger.jsonl", [{"id": "x1", "label": "economy"}])
    result = run("agreement", alice, stranger)
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "ids that match no other coder's: alice (40 ids: r0#000, r0#001, r0#002, …); " \
        "stranger (1 ids: x1); agreement joins the coders by id" in result.stderr
    odd = _jsonl(tmp_path / "odd.jsonl", [{**r, "label": "经济"} if k < 2 else r
                                          for k, r in enumerate(b)])
    result = run("agreement", alice, odd)
    assert result.exit_code == 2
    assert "choices that are not themes of the codebook" in result.stderr
    assert "'经济' (2x, first at" in result.stderr
    assert run("agreement", alice).exit_code == 2
    strict = run("agreement", alice, _jsonl(tmp_path / "bob.jsonl", b), "--strict")
    assert strict.exit_code == 2 and "bob.jsonl:21: empty label" in strict.stderr


def test_disagreements_sheet_takes_texts_from_paragraphs(tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", [{"id": "p1", "label": "economy"},
                                      {"id": "p2", "label": "industry"}])
    b = _jsonl(tmp_path / "b.jsonl", [{"id": "p1", "label": "economy"},
                                      {"id": "p2", "label": "economy"}])
    paras = _jsonl(tmp_path / "paragraphs.jsonl", [{"id": "p1", "text": "稳增长。"},
                                                   {"id": "p2", "text": "建园区。"}])
    out = tmp_path / "d.jsonl"
    result = run("agreement", a, b, "--paragraphs", paras, "--disagreements", out,
                 "--resamples", 100)
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert row == {"id": "p2", "text": "建园区。", "a": "industry", "b": "economy",
                   "most_frequent": "", "label": ""}


def test_xlsx_coder_file(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    alice, b = _coders(tmp_path)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编号", "主题"])
    for r in b:
        sheet.append([r["id"], r["label"] or None])
    book.save(tmp_path / "bob.xlsx")
    result = run("agreement", alice, tmp_path / "bob.xlsx", "--format", "json",
                 "--resamples", 100)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cohen_kappa"]["n_items"] == 39
    assert report["cohen_kappa"]["observed_agreement"] == pytest.approx(36 / 39)


def test_disagreements_sheet_never_holds_a_formula_and_reads_back(tmp_path):
    """The adjudication sheet is opened in a spreadsheet: ids, texts and coder names (column
    names) that start as a formula would get a ' before them; filled in, the sheet trains
    with the ids and texts as they were."""
    from policy_nlp.labels import load_labels

    ids = ["=cmd|' /C calc'!A0", "-p2", "+p3", "@p4", "'=p5", "p6"]
    texts = ['=HYPERLINK("http://x.org","点")稳增长。', "-国内生产总值增长。", "+严守八项规定。",
             "@优化营商环境。", "'=改善生态环境。", "办好民生实事。"]
    a = _jsonl(tmp_path / "=a.jsonl", [{"id": i, "text": t, "label": "economy"}
                                       for i, t in zip(ids, texts, strict=True)])
    b = _jsonl(tmp_path / "b.jsonl", [{"id": i, "label": "industry"} for i in ids])
    out = tmp_path / "d.csv"
    result = run("agreement", a, b, "--disagreements", out, "--resamples", 100)
    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert rows[0] == ["id", "text", "'=a", "b", "most_frequent", "label"]
    rows[1:] = [[*row[:-1], "livelihood"] for row in rows[1:]]
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    back = load_labels([out])
    assert dict(zip(back.ids, back.texts, strict=True)) == dict(zip(ids, texts, strict=True))
