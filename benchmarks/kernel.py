#!/usr/bin/env python3
"""The compiled kernel (numba: n-gram counts, tf-idf and scores) against the numpy path.

    python benchmarks/kernel.py [--shared ../shared] [--model default|fast|DIR] [--runs 4]

Labels the shared corpus (``predict_proba`` in batches of 1,024, as ``label`` does) with the
kernel and without it (the tf-idf matrix built with numpy and multiplied with scipy),
interleaved, in one process, and prints the CPU seconds of each run, the medians and their
ratio. Both paths give the same numbers (``tests/test_features.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import policy_nlp.features as features
from policy_nlp.model import load_model

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared")
    ap.add_argument("--model", default=None)
    ap.add_argument("--runs", type=int, default=4)
    args = ap.parse_args()
    model = load_model(args.model)
    lines = (args.shared / "corpus" / "paragraphs.jsonl").read_text("utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    batches = [texts[i:i + 1024] for i in range(0, len(texts), 1024)]

    def run(kernel: bool) -> float:
        features._kernel_ok = kernel
        started = time.process_time()
        for batch in batches:
            model.predict_proba(batch)
        return time.process_time() - started

    run(True), run(False)  # compile (or load the cached machine code), warm the caches
    secs: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.runs):
        for kernel in (True, False):
            secs[kernel].append(run(kernel))
    chars = sum(map(len, texts))
    print(f"model {args.model or 'default'}: {len(texts):,} paragraphs, {chars:,} chars, "
          f"CPU seconds per pass, {args.runs} interleaved runs each")
    for kernel, name in ((True, "numba kernel"), (False, "numpy")):
        print(f"  {name:<13}{' '.join(f'{s:.2f}' for s in secs[kernel])}   median "
              f"{statistics.median(secs[kernel]):.2f}")
    print(f"  numpy / kernel: {statistics.median(secs[False]) / statistics.median(secs[True]):.2f}x")


if __name__ == "__main__":
    main()
