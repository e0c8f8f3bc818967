"""Build the policy lexicon: a jieba user dictionary of policy terms.

Usage::

    python scripts/build_lexicon.py --corpus ../shared/corpus/paragraphs.jsonl \\
        --output src/policy_nlp/data/policy_lexicon.txt

The lexicon is the union of two lists:

* **hand terms**, curated in ``scripts/policy_terms_hand.txt``: slogans, campaigns, institutions
  and policy instruments of the codebook's themes (新质生产力, 两个确立, 放管服, 河长制, ...);
* **mined terms**, found in the corpus by this script: multi-character strings that plain jieba
  (a fresh private ``jieba.Tokenizer()`` without the lexicon) splits into pieces, yet that
  behave like one word in the reports.

Mining, on runs of Han characters (so no candidate crosses punctuation, digits or Latin):

1. count every n-gram of 1 to ``MAX_LEN`` characters; candidates are ``MIN_LEN``..``MAX_LEN``
   characters long and occur at least ``--min-freq`` times;
2. drop strings that are not term-like: starting or ending with a function character
   (``EDGE_CHARS``: 的 了 和 与 及 在 是 等 为 对 把 将 也 都 要 年 来 第 ...), holding 的/了
   anywhere, starting with a clause-opening verb or adverb (``VERB_PREFIXES``: 加快 推进 加强
   进一步 ...), or made mostly of numerals, dates and counters (二〇二三年, 三年来);
3. keep strings found in at least ``--min-reports`` reports of at least ``--min-regions``
   regions (so one county's place names or one year's project names do not get in);
4. keep strings whose edges fall on plain jieba's token boundaries in at least
   ``--min-alignment`` of their occurrences: 业增加值 (always the tail of 工业/产业 + 增加值) never
   does, and as a term it would tear 工业 apart;
5. keep strings whose characters stick together: the cohesion, the smallest pointwise mutual
   information ``log2 p(w) / (p(a) p(b))`` over every split ``w = a + b``, is at least
   ``--min-pmi`` bits;
6. keep strings that are free on both sides: the entropy of the characters just left and just
   right of the occurrences (each run edge counts as a neighbour of its own) is at least
   ``--min-entropy`` bits on each side; this removes fragments of longer terms (质生产力 is
   always preceded by 新);
7. keep strings that plain jieba (precise mode, HMM as in ``policy_nlp.tokenize``) cuts into two
   or more pieces (the others need no help), none of them a function word by jieba's own
   part-of-speech tags (关心/和/支持) and the first not a pronoun or adverb (有些/地方);
8. keep strings whose jieba pieces depend on each other: at every boundary between pieces, the
   larger of p(right | left) and p(left | right) is at least ``--min-dependency`` (营商 is
   nearly always followed by 环境: 0.9; 部分/干部: 0.02). This is what separates terms from the
   frequent free phrases (初步建成, 产量达到) that pass the statistics above;
9. drop a mined term that holds another lexicon term (海绵城市建设 holds 海绵城市): the shorter
   term is the better feature, and the longer one would hide it from the model;
10. drop a mined term that, segmenting the corpus with the whole lexicon, cuts into a hand term
    (打好蓝天 would take 蓝天 from 蓝天保卫战).

Every term is written as ``term FREQ`` (jieba's user-dict format; jieba reads no comments, so
this docstring and ``src/policy_nlp/data/policy_lexicon.README.md`` are the documentation),
one a line, sorted by code point, with one frequency for all terms (``TERM_FREQ``): high
enough that jieba keeps every term whole inside sentences, checked at the end of the build.
The build is deterministic: the same corpus and hand list give the same bytes.
"""

# ruff: noqa: RUF001 (Chinese text has full-width punctuation)
from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jieba
import jieba.posseg

from policy_nlp.tokenize import HMM  # segment as the package does

HERE = Path(__file__).resolve().parent
DEFAULT_HAND = HERE / "policy_terms_hand.txt"

MIN_LEN, MAX_LEN = 3, 7
# The frequency every lexicon term gets. jieba's dictionary counts 60 million tokens; 5,000 puts
# a term among its 0.5% most common words, so it beats any split into common words (发展 x 经济
# needs only ~60) and the compounds that jieba already lists with a small count (信访工作, 3,
# would otherwise swallow 信访). On the corpus, 1,000 to 50,000 keep the same occurrences whole
# (all but those inside a longer lexicon term, 长三角 in 长三角一体化); higher values only move
# more boundaries of the words around the terms.
TERM_FREQ = 5000

HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Function characters that no term starts or ends with.
EDGE_CHARS = frozenset(
    "的了和与及在是等为对把将也都要并而或被从向以于由其之个着过吗呢吧啊所就还又再更很最已"
    "年月日来中上下里内外后前时达至第做"
)
INNER_STOP = frozenset("的了")
# Verbs and adverbs that open clauses, not terms: 加快发展, 进一步加强, 积极推进, ...
VERB_PREFIXES = tuple(
    """
    加快 加强 推进 推动 促进 深化 实施 坚持 全面 进一步 不断 积极 大力
    着力 持续 扎实 完善 提高 提升 建立 健全 落实 开展 做好 抓好 强化
    支持 鼓励 引导 推广 实现 确保 加大 打造 培育 发展 建设 保持 巩固
    扩大 优化 创新 继续 努力 切实 认真 深入 广泛 有效 稳步 统筹 围绕
    按照 通过 坚决 全力 依法 严格 主动 重点 着眼 贯彻 加速 新建 完成
    组织 开工 启动 取得 我们 我国 我省 我市 我区 我县 全国 全省 全市
    全区 全县 各级 各地 各类 各项 一批 一些 一个 一是 二是 三是 四是
    五是 六是 七是 八是 九是 十是 这些 这个 这一 今年 明年 去年 过去
    目前 当前 同时 其中 没有 能够 可以 应当 必须 需要 一定 有关 相关
    主要 基本 总体 比上年 同比 增长 下降 达到 超过 累计 共计 分别 占比
    发挥 迈出 得到 表示 采取 提供 解决 感受 经得起 作为 入选 聚焦 催生 彰显
    """.split()
)
# jieba part-of-speech tags (first letter) of function words: conjunction, preposition,
# particle, interjection, modal, onomatopoeia.
FUNCTION_POS = frozenset("cpueyo")
# Numerals, counters and date characters: a candidate made mostly of these is a number or date.
NUMBERISH = frozenset("〇零一二三四五六七八九十百千万亿两几多余第届次个项条批年月日号期")


@dataclass
class Stats:
    """What the second pass learns about one candidate."""

    left: Counter = field(default_factory=Counter)
    right: Counter = field(default_factory=Counter)
    left_edges: int = 0
    right_edges: int = 0
    reports: set = field(default_factory=set)
    regions: set = field(default_factory=set)
    count: int = 0
    aligned: int = 0  # occurrences whose two edges are token boundaries of plain jieba


def read_runs(corpus: Path) -> list[tuple[str, str, list[str]]]:
    """Each paragraph as (report id, region, its runs of Han characters)."""
    docs = []
    with corpus.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                report_id, text = row["report_id"], row["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                sys.exit(f"{corpus}:{lineno}: expected a JSON object with report_id, text ({exc})")
            region = report_id.split("/")[1] if report_id.count("/") >= 2 else report_id
            docs.append((report_id, region, HAN_RUN.findall(text)))
    return docs


def count_ngrams(docs, max_len: int, min_freq: int, min_len: int) -> Counter:
    """Counts of all n-grams up to ``max_len``; those of ``min_len`` or more below ``min_freq``
    are dropped (their parts, being at least as frequent, are all kept)."""
    counts: Counter = Counter()
    for n in range(1, max_len + 1):
        c: Counter = Counter()
        for _, _, runs in docs:
            for run in runs:
                for i in range(len(run) - n + 1):
                    c[run[i : i + n]] += 1
        if n >= min_len:
            c = Counter({k: v for k, v in c.items() if v >= min_freq})
        counts.update(c)
    return counts


def term_like(w: str) -> bool:
    """Lexical filters: function characters, clause-opening verbs, numbers and dates."""
    if w[0] in EDGE_CHARS or w[-1] in EDGE_CHARS:
        return False
    if any(ch in INNER_STOP for ch in w):
        return False
    if w.startswith(VERB_PREFIXES):
        return False
    return sum(ch not in NUMBERISH for ch in w) >= 2 and w[0] not in NUMBERISH - set("两第")


def function_pieces(pieces: list[str], tags: dict[str, str]) -> bool:
    """Whether jieba's pieces of a candidate hold a function word (conjunction, preposition,
    particle, interjection), or open with a pronoun or adverb: 关心和支持, 有些地方."""
    flags = [tags.get(p, "x") for p in pieces]
    return any(f[0] in FUNCTION_POS for f in flags) or flags[0] in ("r", "d")


def dependency(w: str, pieces: list[str], counts: Counter) -> float:
    """How much the pieces need each other: at each boundary ``w = a + b`` between jieba's
    pieces, the larger of p(b | a) and p(a | b); the smallest over the boundaries. 营商环境 is
    near 1 (营商 is nearly always followed by 环境); 部分干部 is 0.02."""
    cuts = [sum(map(len, pieces[:i])) for i in range(1, len(pieces))]
    return min(max(counts[w] / counts[w[:c]], counts[w] / counts[w[c:]]) for c in cuts)


def cut_points(run: str, plain: jieba.Tokenizer) -> set[int]:
    """The offsets in ``run`` where plain jieba puts a token boundary (0 and len included)."""
    points, at = {0}, 0
    for token in plain.cut(run, HMM=HMM):
        at += len(token)
        points.add(at)
    return points


def neighbour_stats(
    docs, candidates: set[str], plain: jieba.Tokenizer, min_len: int, max_len: int
) -> dict[str, Stats]:
    """Second pass: where each candidate occurs, what stands beside it, and whether plain
    jieba's token boundaries agree with its edges."""
    stats: dict[str, Stats] = defaultdict(Stats)
    for report_id, region, runs in docs:
        for run in runs:
            size = len(run)
            cuts = None
            for n in range(min_len, min(max_len, size) + 1):
                for i in range(size - n + 1):
                    w = run[i : i + n]
                    if w not in candidates:
                        continue
                    if cuts is None:
                        cuts = cut_points(run, plain)
                    s = stats[w]
                    s.count += 1
                    s.aligned += i in cuts and i + n in cuts
                    if i == 0:
                        s.left_edges += 1
                    else:
                        s.left[run[i - 1]] += 1
                    if i + n == size:
                        s.right_edges += 1
                    else:
                        s.right[run[i + n]] += 1
                    s.reports.add(report_id)
                    s.regions.add(region)
    return stats


def entropy(neighbours: Counter, edges: int) -> float:
    """Entropy in bits of the neighbour distribution; each run edge is a distinct neighbour."""
    total = sum(neighbours.values()) + edges
    if total == 0:
        return 0.0
    h = -sum(c / total * math.log2(c / total) for c in neighbours.values())
    if edges:
        h += edges * (1 / total) * math.log2(total)
    return h


def cohesion(w: str, counts: Counter, total: int) -> float:
    """Smallest PMI (bits) over the binary splits of ``w``."""
    pw = counts[w] / total
    return min(
        math.log2(pw * total * total / (counts[w[:i]] * counts[w[i:]])) for i in range(1, len(w))
    )


def plain_tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def mine(docs, args) -> dict[str, dict]:
    """The mined terms, each with the numbers that let it in."""
    counts = count_ngrams(docs, MAX_LEN, args.min_freq, MIN_LEN)
    total = sum(len(run) for _, _, runs in docs for run in runs)
    candidates = {
        w
        for w, c in counts.items()
        if MIN_LEN <= len(w) <= MAX_LEN and c >= args.min_freq and term_like(w)
    }
    plain = plain_tokenizer()
    stats = neighbour_stats(docs, candidates, plain, MIN_LEN, MAX_LEN)
    tags = jieba.posseg.POSTokenizer(plain).word_tag_tab
    mined = {}
    for w in sorted(candidates):
        s = stats[w]
        if len(s.reports) < args.min_reports or len(s.regions) < args.min_regions:
            continue
        alignment = s.aligned / s.count
        if alignment < args.min_alignment:
            continue
        pmi = cohesion(w, counts, total)
        if pmi < args.min_pmi:
            continue
        h_left, h_right = entropy(s.left, s.left_edges), entropy(s.right, s.right_edges)
        if min(h_left, h_right) < args.min_entropy:
            continue
        pieces = plain.lcut(w, HMM=HMM)
        if len(pieces) < 2 or function_pieces(pieces, tags):
            continue
        dep = dependency(w, pieces, counts)
        if dep < args.min_dependency:
            continue
        mined[w] = {
            "freq": counts[w],
            "reports": len(s.reports),
            "regions": len(s.regions),
            "pmi": round(pmi, 2),
            "h_left": round(h_left, 2),
            "h_right": round(h_right, 2),
            "dependency": round(dep, 2),
            "alignment": round(alignment, 2),
            "plain": pieces,
        }
    return mined


def atomic(mined: dict[str, dict], hand: list[str]) -> dict[str, dict]:
    """Drop the mined terms that hold another lexicon term (海绵城市建设 holds 海绵城市): the
    shorter term is the better feature, and the longer one would hide it from the model."""
    known = set(mined) | set(hand)
    return {w: m for w, m in mined.items() if not any(t in w for t in known if len(t) < len(w))}


def spoilers(mined: dict[str, dict], hand: list[str], docs) -> set[str]:
    """Mined terms that break a hand term where they overlap it in the corpus: with 打好蓝天 in
    the lexicon, 打好蓝天保卫战 would lose 蓝天保卫战."""
    tok = plain_tokenizer()
    for w in sorted(set(hand) | set(mined)):
        tok.add_word(w, TERM_FREQ)
    hand_re = re.compile("|".join(sorted(map(re.escape, hand), key=len, reverse=True)))
    found = set()
    for _, _, runs in docs:
        for run in runs:
            occurrences = [m.span() for m in hand_re.finditer(run)]
            if not occurrences:
                continue
            spans, at = {}, 0
            for token in tok.cut(run, HMM=HMM):
                spans[at, at + len(token)] = token
                at += len(token)
            for start, end in occurrences:
                if (start, end) in spans:
                    continue
                for (a, z), token in spans.items():
                    if a < end and start < z and token in mined and token not in hand:
                        found.add(token)
    return found


def read_hand_terms(path: Path) -> list[str]:
    """One term a line; ``#`` starts a comment; blank lines are skipped."""
    terms = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        term = line.split("#", 1)[0].strip()
        if not term:
            continue
        if any(ch.isspace() for ch in term) or not 2 <= len(term) <= 12:
            sys.exit(f"{path}:{lineno}: a hand term is 2-12 characters without spaces: {term!r}")
        terms.append(term)
    return terms


def check_whole(terms: list[str], freq: int) -> list[str]:
    """Terms that a tokenizer with the lexicon still splits when they stand in a sentence."""
    tok = plain_tokenizer()
    for w in terms:
        tok.add_word(w, freq)
    broken = []
    for w in terms:
        for context in (w, f"加快推进{w}工作。", f"全面落实{w}，"):
            if w not in tok.lcut(context, HMM=HMM):
                broken.append(w)
                break
    return broken


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True, help="paragraphs.jsonl")
    ap.add_argument("--output", type=Path, required=True, help="the jieba user dictionary to write")
    ap.add_argument("--hand", type=Path, default=DEFAULT_HAND, help="hand-curated terms")
    ap.add_argument("--min-freq", type=int, default=10)
    ap.add_argument("--min-reports", type=int, default=5)
    ap.add_argument("--min-regions", type=int, default=3)
    ap.add_argument("--min-pmi", type=float, default=5.0)
    ap.add_argument("--min-entropy", type=float, default=2.0)
    ap.add_argument("--min-dependency", type=float, default=0.4)
    ap.add_argument("--min-alignment", type=float, default=0.6)
    ap.add_argument("--report", type=Path, help="also write the mined terms and their scores, TSV")
    args = ap.parse_args(argv)

    hand = read_hand_terms(args.hand)
    docs = read_runs(args.corpus)
    mined = atomic(mine(docs, args), hand)
    for w in spoilers(mined, hand, docs):
        del mined[w]
    terms = sorted(set(hand) | set(mined))
    if args.report:
        with args.report.open("w", encoding="utf-8", newline="\n") as f:
            columns = "freq reports regions pmi h_left h_right dependency alignment plain"
            f.write("term\t" + columns.replace(" ", "\t") + "\n")
            for w, m in mined.items():
                f.write(
                    f"{w}\t{m['freq']}\t{m['reports']}\t{m['regions']}\t{m['pmi']}\t"
                    f"{m['h_left']}\t{m['h_right']}\t{m['dependency']}\t{m['alignment']}\t"
                    f"{'/'.join(m['plain'])}\n"
                )
    broken = check_whole(terms, TERM_FREQ)
    if broken:
        sys.exit(f"jieba still splits {len(broken)} lexicon terms: {' '.join(broken[:20])}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{w} {TERM_FREQ}\n" for w in terms)
    only_mined = len(set(mined) - set(hand))
    print(
        f"{len(terms)} terms: {len(set(hand))} by hand, {len(mined)} mined "
        f"({only_mined} not in the hand list) -> {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
