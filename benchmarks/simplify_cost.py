"""What the conversion to simplified characters costs when labeling (``FeatureSpec.simplify``).

    python benchmarks/simplify_cost.py [--model default] [--runs 5] [--repeat 1]

Labels the shared corpus's paragraphs (``../shared/corpus/paragraphs.jsonl``, ``--repeat``
times over) with the shipped model and with a copy of it whose card says ``simplify: false``
(the same weights; texts as they come), the two processes interleaved, ``--runs`` each, and
prints the median wall time of each and their ratio; then, in this process, the model's
``predict_proba`` over the same paragraphs with and without the conversion (interleaved,
``--runs`` each: the featurizing and scoring alone, without start-up and writing, where the
conversion's share would show most). It also checks what the conversion changes in the
outputs: the labels of the paragraphs where the two copies disagree.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
POLICY_NLP = str(Path(sys.executable).parent / "policy-nlp")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default", choices=["default", "fast"])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    corpus = SHARED / "corpus" / "paragraphs.jsonl"
    if not corpus.is_file():
        print(f"{corpus} is absent: this benchmark needs ../shared", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = work / "corpus.jsonl"
        text = corpus.read_text(encoding="utf-8")
        inputs.write_text(text * args.repeat if args.repeat == 1 else "".join(
            line.replace('"id": "', f'"id": "r{r}/', 1) + "\n"
            for r in range(args.repeat) for line in text.splitlines()), encoding="utf-8")
        models = {"simplify": work / "simplify", "as they come": work / "as-is"}
        shutil.copytree(ROOT / "models" / args.model, models["simplify"])
        shutil.copytree(ROOT / "models" / args.model, models["as they come"])
        card_path = models["as they come"] / "model.json"
        card = json.loads(card_path.read_text(encoding="utf-8"))
        card["features"]["simplify"] = False
        card_path.write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
        walls: dict[str, list[float]] = {k: [] for k in models}
        for run in range(args.runs):
            for name, model in models.items():
                out = work / f"{model.name}.jsonl"
                start = time.perf_counter()
                subprocess.run([POLICY_NLP, "label", str(inputs), "--model", str(model),
                                "--records", "paragraphs", "-o", str(out), "--jobs", "1"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                walls[name].append(time.perf_counter() - start)
                out.rename(work / f"{model.name}-{run}.jsonl")
        med = {k: statistics.median(v) for k, v in walls.items()}
        labels = {name: [json.loads(line)["label"] for line in
                         (work / f"{m.name}-0.jsonl").read_text(encoding="utf-8").splitlines()]
                  for name, m in models.items()}
    n = len(labels["simplify"])
    differ = sum(a != b for a, b in zip(labels["simplify"], labels["as they come"], strict=True))
    print(f"policy-nlp label, {n:,} paragraphs, --jobs 1, model {args.model}, "
          f"{args.runs} interleaved runs each (median wall seconds):")
    for name, m in med.items():
        print(f"  {name:<13} {m:6.2f} s  ({', '.join(f'{w:.2f}' for w in walls[name])})")
    print(f"  ratio simplify / as they come: {med['simplify'] / med['as they come']:.3f}")
    print(f"  labels that differ between the two: {differ:,} of {n:,}")
    in_process(args, corpus)
    return 0


def in_process(args, corpus: Path) -> None:
    from dataclasses import replace

    from policy_nlp.model import load_model

    texts = [json.loads(line)["text"] for line in
             corpus.read_text(encoding="utf-8").splitlines()] * args.repeat
    model = load_model(args.model)
    spec = model.featurizer.spec
    model.predict_proba(texts[:100])  # warm: the hash tables and the compiled kernel
    walls: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.runs):
        for simplify in (True, False):
            model.featurizer.spec = replace(spec, simplify=simplify)
            start = time.perf_counter()
            model.predict_proba(texts)
            walls[simplify].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in walls.items()}
    print(f"in-process predict_proba of the {len(texts):,} paragraphs, {args.runs} interleaved "
          f"runs each (median seconds): simplify {med[True]:.2f}, as they come "
          f"{med[False]:.2f}, ratio {med[True] / med[False]:.3f}")


if __name__ == "__main__":
    sys.exit(main())
