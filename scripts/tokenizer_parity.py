#!/usr/bin/env python3
"""Parity of the tokenizer backends: rjieba (the default) against jieba (the reference).

    python scripts/tokenizer_parity.py [../shared/corpus/paragraphs.jsonl] [--limit 50]

Tokenizes every paragraph with both backends (the policy lexicon loaded into each) and prints
the share of paragraphs whose :func:`policy_nlp.tokenize.tokenize` features are identical, the
same for the raw :func:`~policy_nlp.tokenize.segment`, and the differing stretches of the
paragraphs that differ (as ``rjieba | jieba``), with a count of each distinct difference.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from collections import Counter
from pathlib import Path

from policy_nlp.tokenize import segment, tokenize

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "paragraphs.jsonl"


def diffs(a: list[str], b: list[str]) -> list[str]:
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [f"{' '.join(a[i1:i2])} | {' '.join(b[j1:j2])}"
            for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paragraphs", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--limit", type=int, default=50, help="distinct differences to list")
    args = ap.parse_args()
    texts = [json.loads(line)["text"] for line in args.paragraphs.open(encoding="utf-8")
             if line.strip()]
    times = {}
    tokens = {}
    for backend in ("rjieba", "jieba"):
        start = time.perf_counter()
        tokens[backend] = [tokenize(t, backend) for t in texts]
        times[backend] = time.perf_counter() - start
    same_tok = sum(a == b for a, b in zip(tokens["rjieba"], tokens["jieba"], strict=True))
    same_seg = sum(segment(t, "rjieba") == segment(t, "jieba") for t in texts)
    n, chars = len(texts), sum(map(len, texts))
    print(f"{n} paragraphs, {chars:,} characters")
    print(f"identical tokenize(): {same_tok}/{n} = {same_tok / n:.4%}")
    print(f"identical segment():  {same_seg}/{n} = {same_seg / n:.4%}")
    for backend, secs in times.items():
        print(f"tokenize() with {backend}: {secs:.1f}s, {chars / secs / 1e6:.2f} M chars/s")
    counts: Counter[str] = Counter()
    for a, b in zip(tokens["rjieba"], tokens["jieba"], strict=True):
        if a != b:
            counts.update(diffs(a, b))
    if counts:
        print(f"\ndiffering stretches (rjieba | jieba), {len(counts)} distinct:")
        for d, k in counts.most_common(args.limit):
            print(f"{k:>5}  {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
