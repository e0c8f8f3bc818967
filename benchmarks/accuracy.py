"""Accuracy benchmark: the project's model against baselines, by report-grouped 5-fold CV.

    python benchmarks/accuracy.py [--out benchmarks/results] [--no-learning-curve]

All systems are trained and scored on the same folds of ``../shared/labels`` (the folds of
``policy-nlp train``: stratified by theme, a report never on both sides, seed 0):

* keyword counting with a codebook dictionary (no training: the theme whose keywords occur
  most; ``general`` when none occurs),
* jieba TF-IDF + LogisticRegression with default settings,
* character 1-3-gram TF-IDF + LinearSVC,
* fastText on jieba tokens (where ``fasttext`` imports),
* policy-nlp's default configuration (``TrainConfig()``).

Every system is scored by level, by era of the report (up to 1990, 1991-2012, after 2012;
:mod:`policy_nlp.era`), for national reports by era, and on the ``random`` rows alone (the rows
drawn at random by level; the ``era`` and ``census`` rows are every paragraph of the national
and provincial reports, so they weigh those levels more than the corpus does).

Writes ``accuracy.md`` (the table the README links to), ``accuracy.json``, the reliability
diagram (``reliability.png``: uncalibrated vs calibrated, temperature fitted on the other
folds) and the learning curve (``learning_curve.png``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"

# A dictionary written from the codebook's "covers" column: the keyword baseline researchers
# use when they count by hand.
KEYWORDS: dict[str, list[str]] = {
    "economy": ["生产总值", "GDP", "经济增长", "财政收入", "一般公共预算", "居民消费价格",
                "固定资产投资", "社会消费品零售", "稳增长", "扩大内需", "预期目标", "债务",
                "金融风险", "经济运行"],
    "industry": ["制造业", "产业链", "产业集群", "工业", "服务业", "旅游", "企业", "招商引资",
                 "重大项目", "园区", "数字经济", "新质生产力", "能源"],
    "innovation": ["科技创新", "研发", "创新平台", "实验室", "高新技术企业", "科技成果转化",
                   "人才", "产学研", "科研"],
    "reform_opening": ["改革", "放管服", "营商环境", "市场主体", "民营经济", "外贸", "进出口",
                       "外资", "自由贸易", "口岸", "开放", "一体化", "协同发展", "对口"],
    "agriculture_rural": ["农业", "粮食", "耕地", "乡村振兴", "农村", "农民", "脱贫", "扶贫",
                          "集体经济", "三农"],
    "urban_infrastructure": ["城市更新", "交通", "铁路", "公路", "机场", "供水", "燃气",
                             "住房", "房地产", "城市规划", "基础设施", "城市管理", "棚户区"],
    "environment": ["污染", "生态", "环境", "河长制", "绿色", "低碳", "碳达峰", "碳中和",
                    "节能", "造林", "湿地", "空气质量"],
    "livelihood": ["就业", "收入", "社会保险", "养老", "托育", "社会救助", "保障性住房",
                   "民生实事", "低保", "社保"],
    "public_services": ["教育", "学校", "医疗", "医院", "卫生", "医保", "公共卫生", "人口",
                        "体育", "健康"],
    "culture": ["文化", "文物", "遗产", "文明城市", "核心价值观", "精神文明", "媒体", "艺术"],
    "social_governance": ["基层治理", "信访", "平安", "公共安全", "安全生产", "应急", "防灾",
                          "疫情防控", "食品安全", "民族", "宗教", "社会稳定", "扫黑除恶"],
    "defense_foreign": ["国防", "军队", "双拥", "民兵", "武装", "外交", "港澳", "台湾", "侨"],
    "political": ["党的领导", "两个确立", "两个维护", "习近平新时代", "政治", "巡视", "意识形态",
                  "阶级斗争", "整风"],
    "governance": ["行政效能", "政务服务", "数字政府", "12345", "督查", "干部", "作风",
                   "执行力", "一网通办"],
    "rule_of_law": ["法治", "依法行政", "法律", "普法", "行政复议", "人大", "政协", "监督",
                    "建议提案"],
    "integrity": ["八项规定", "四风", "反腐", "腐败", "审计", "过紧日子", "三公经费", "廉政",
                  "廉洁"],
    "general": [],
}


def keyword_predict(texts: list[str], themes: list[str]) -> np.ndarray:
    out = np.empty(len(texts), dtype=int)
    general = themes.index("general")
    for i, text in enumerate(texts):
        counts = [sum(text.count(k) for k in KEYWORDS.get(t, [])) for t in themes]
        out[i] = int(np.argmax(counts)) if max(counts) > 0 else general
    return out


def _jieba_lcut():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut


def run_baseline(name, texts, tokens_jieba, y, splits, themes):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    pred = np.empty(len(y), dtype=int)
    for tr, te in splits:
        tr_texts = [texts[i] for i in tr]
        te_texts = [texts[i] for i in te]
        if name == "keyword counting (codebook dictionary)":
            pred[te] = keyword_predict(te_texts, themes)
            continue
        if name == "jieba TF-IDF + LogisticRegression (defaults)":
            vec = TfidfVectorizer(tokenizer=_jieba_lcut(), token_pattern=None, lowercase=False)
            clf = LogisticRegression()
        elif name == "char 1-3-gram TF-IDF + LinearSVC":
            vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
            clf = LinearSVC()
        else:
            raise ValueError(name)
        clf.fit(vec.fit_transform(tr_texts), y[tr])
        pred[te] = clf.predict(vec.transform(te_texts))
    return pred


def run_fasttext(tokens_jieba, y, splits, themes):
    """fastText supervised on jieba tokens; None where fasttext does not import."""
    try:
        import fasttext
    except ImportError:
        return None
    pred = np.empty(len(y), dtype=int)
    with tempfile.TemporaryDirectory() as tmp:
        for tr, te in splits:
            path = Path(tmp) / "train.txt"
            with open(path, "w", encoding="utf-8") as fh:
                for i in tr:
                    fh.write(f"__label__{themes[y[i]]} {' '.join(tokens_jieba[i])}\n")
            model = fasttext.train_supervised(str(path), epoch=25, lr=0.5, wordNgrams=2,
                                              dim=100, minCount=1, seed=0, thread=1,
                                              verbose=0)
            for i in te:
                # the C++ binding directly: fasttext's Python predict() breaks on numpy 2
                ((_, label),) = model.f.predict(" ".join(tokens_jieba[i]), 1, 0.0, "strict")
                pred[i] = themes.index(label.removeprefix("__label__"))
    return pred


def scores_table(y, pred, levels, themes, eras, samples):
    from sklearn.metrics import accuracy_score, f1_score

    from policy_nlp.era import ERA_NAMES
    from policy_nlp.evaluate import subset_scores

    rnd = samples == "random"
    out = {"accuracy": float(accuracy_score(y, pred)),
           "macro_f1": float(f1_score(y, pred, average="macro")),
           "macro_f1_random": float(f1_score(y[rnd], pred[rnd], average="macro")),
           "per_level": {}, "per_theme": {},
           "per_era": {e: subset_scores(y, pred, eras == e) for e in ERA_NAMES},
           "national_per_era": {e: subset_scores(y, pred, (eras == e) & (levels == "national"))
                                for e in ERA_NAMES}}
    for lv in ("national", "provincial", "prefecture", "county"):
        m = levels == lv
        if m.any():
            present = sorted(set(y[m]))
            out["per_level"][lv] = float(f1_score(y[m], pred[m], labels=present,
                                                  average="macro"))
    f1s = f1_score(y, pred, labels=list(range(len(themes))), average=None, zero_division=0)
    out["per_theme"] = {t: float(f) for t, f in zip(themes, f1s, strict=True)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--no-learning-curve", action="store_true")
    args = ap.parse_args(argv)
    if not (SHARED / "labels" / "train.jsonl").is_file():
        print(f"{SHARED} is absent: the accuracy benchmark needs the shared labels",
              file=sys.stderr)
        return 2

    from policy_nlp.codebook import load_codebook
    from policy_nlp.era import ERA_NAMES, era_of
    from policy_nlp.evaluate import expected_calibration_error
    from policy_nlp.labels import load_joined
    from policy_nlp.model import softmax
    from policy_nlp.html_report import plot_learning_curve, plot_reliability
    from policy_nlp.train import (
        TrainConfig,
        cross_validate,
        fit_temperature,
        learning_curve,
        report_folds,
        tokenize_all,
    )

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    data = load_joined(SHARED / "labels" / "train.jsonl", SHARED / "corpus" / "paragraphs.jsonl")
    book = load_codebook()
    themes = book.ids
    config = TrainConfig()
    y = np.array([themes.index(lbl) for lbl in data.labels])
    levels = np.array([str(v) for v in data.levels])
    eras = np.array([str(era_of(v)) for v in data.years])
    samples = np.array([str(v) for v in data.samples])
    splits = report_folds(data, book, config)
    lcut = _jieba_lcut()
    tokens_jieba = [lcut(t) for t in data.texts]

    results, seconds = {}, {}
    for name in ("keyword counting (codebook dictionary)",
                 "jieba TF-IDF + LogisticRegression (defaults)",
                 "char 1-3-gram TF-IDF + LinearSVC"):
        t0 = time.perf_counter()
        pred = run_baseline(name, data.texts, tokens_jieba, y, splits, themes)
        seconds[name] = time.perf_counter() - t0
        results[name] = scores_table(y, pred, levels, themes, eras, samples)
        log(f"{name}: macro-F1 {results[name]['macro_f1']:.4f}")
    t0 = time.perf_counter()
    ft = run_fasttext(tokens_jieba, y, splits, themes)
    if ft is not None:
        name = "fastText on jieba tokens"
        seconds[name] = time.perf_counter() - t0
        results[name] = scores_table(y, ft, levels, themes, eras, samples)
        log(f"{name}: macro-F1 {results[name]['macro_f1']:.4f}")
    else:
        log("fastText: not installed (pip install fasttext-wheel), left out")

    t0 = time.perf_counter()
    tokens = tokenize_all(data.texts, config)
    oof = cross_validate(data, tokens, book, config, log)
    ours = "policy-nlp (default configuration)"
    seconds[ours] = time.perf_counter() - t0
    results[ours] = scores_table(y, oof.argmax(axis=1), levels, themes, eras,
                                  samples)
    log(f"{ours}: macro-F1 {results[ours]['macro_f1']:.4f}")

    # calibration: the temperature of each fold is fitted on the other folds' scores
    calibrated = np.zeros_like(oof)
    for _, te in splits:
        rest = np.setdiff1d(np.arange(len(y)), te)
        calibrated[te] = softmax(oof[te], fit_temperature(oof[rest], y[rest]))
    raw = softmax(oof, 1.0)
    correct = oof.argmax(axis=1) == y
    ece_raw = expected_calibration_error(raw.max(axis=1), correct)
    ece_cal = expected_calibration_error(calibrated.max(axis=1), correct)
    args.out.mkdir(parents=True, exist_ok=True)
    plot_reliability({f"uncalibrated softmax of SVM scores (ECE {ece_raw:.3f})":
                      (raw.max(axis=1), correct),
                      f"temperature-scaled, fitted on other folds (ECE {ece_cal:.3f})":
                      (calibrated.max(axis=1), correct)}, args.out / "reliability.png")

    curve = None
    if not args.no_learning_curve:
        curve = learning_curve(data, tokens, book, config, progress=log)
        plot_learning_curve(curve, args.out / "learning_curve.png")

    names = list(results)
    best_baseline = max((n for n in names if n != ours), key=lambda n: results[n]["macro_f1"])
    lines = [
        "# Accuracy benchmark",
        "",
        f"Report-grouped 5-fold cross-validation on the {len(y):,} shared labeled paragraphs "
        f"({len(set(data.groups))} reports); every system on the same folds. "
        "Command: `python benchmarks/accuracy.py` (its docstring lists the systems).",
        "",
        "Per level: macro-F1.",
        "",
        "| system | accuracy | macro-F1 | macro-F1 random rows | national | provincial | "
        "prefecture | county | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in names:
        r = results[n]
        lv = r["per_level"]
        lines.append(f"| {n} | {r['accuracy']:.4f} | **{r['macro_f1']:.4f}** | "
                     f"{r['macro_f1_random']:.4f} | "
                     f"{lv.get('national', 0):.4f} | {lv.get('provincial', 0):.4f} | "
                     f"{lv.get('prefecture', 0):.4f} | {lv.get('county', 0):.4f} | "
                     f"{seconds[n]:.0f} |")
    n_era = {e: results[ours]["per_era"][e]["n"] for e in ERA_NAMES}
    n_nat = {e: results[ours]["national_per_era"][e]["n"] for e in ERA_NAMES}
    lines += ["", "## By era of the report", "",
              "Accuracy / macro-F1 of the paragraphs of each era's reports, all levels, then "
              "national reports alone.", "",
              "| system | " + " | ".join(f"{e} (n={n_era[e]})" for e in ERA_NAMES) + " | "
              + " | ".join(f"national {e} (n={n_nat[e]})" for e in ERA_NAMES) + " |",
              "|---|" + "---|" * (2 * len(ERA_NAMES))]
    for n in names:
        r = results[n]
        lines.append(f"| {n} | " + " | ".join(
            f"{r[part][e]['accuracy']:.4f} / {r[part][e]['macro_f1']:.4f}"
            for part in ("per_era", "national_per_era") for e in ERA_NAMES) + " |")
    lines += ["", f"policy-nlp minus the best baseline ({best_baseline}): "
              f"{results[ours]['macro_f1'] - results[best_baseline]['macro_f1']:+.4f} macro-F1.",
              "", "## Per-theme F1", "",
              "| theme | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for t in themes:
        lines.append(f"| {t} | " + " | ".join(f"{results[n]['per_theme'][t]:.3f}"
                                              for n in names) + " |")
    lines += ["", "## Calibration", "",
              f"Expected calibration error of the top theme's probability (10 bins): "
              f"{ece_raw:.4f} for a plain softmax of the SVM scores, {ece_cal:.4f} after "
              "temperature scaling (the temperature of each fold fitted on the other folds).",
              "", "![reliability diagram](reliability.png)", ""]
    if curve:
        lines += ["## Learning curve", "",
                  "| training paragraphs | macro-F1 | sd over folds |", "|---|---|---|"]
        lines += [f"| {p['n_train']} | {p['macro_f1']:.4f} | {p['macro_f1_sd']:.4f} |"
                  for p in curve]
        lines += ["", "![learning curve](learning_curve.png)", ""]
    (args.out / "accuracy.md").write_text("\n".join(lines) + "\n", "utf-8")
    (args.out / "accuracy.json").write_text(json.dumps(
        {"results": results, "seconds": seconds, "ece_uncalibrated": ece_raw,
         "ece_calibrated": ece_cal, "learning_curve": curve}, indent=2), "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
