"""CPU time of ``label_to_file`` on one JSONL input, for two source trees side by side.

    python benchmarks/record_overhead.py INPUT.jsonl --src BASE/src --src NEW/src \
        [--model fast] [--rounds 3] [--jobs 1]

Each round runs every source tree once, in turn (interleaved, so that a busy machine slows
all of them alike), each in a fresh process with that tree first on ``sys.path``. A run loads
the model and labels a few lines first (so that loading and the kernels' compilation are not
counted), then measures ``time.process_time()`` around ``label_to_file(jobs=...)``: the CPU
seconds of this process (with ``--jobs`` > 1, the main process only). Prints each run and the
median per tree. The output files of the runs are compared byte for byte (``cmp``), so a
faster tree that writes something else is caught.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_RUN = r"""
import itertools, json, sys, tempfile, time
from pathlib import Path
from policy_nlp.batch import label_to_file
from policy_nlp.model import model_dir, shipped_model_dir

src, out, model, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
md = str(shipped_model_dir(model) if model in ("fast", "default") else model_dir(model))
with tempfile.TemporaryDirectory() as tmp:  # warm-up: model loading, kernel compilation
    head = Path(tmp) / "head.jsonl"
    with open(src, "rb") as fh:
        head.write_bytes(b"".join(itertools.islice(fh, 64)))
    label_to_file([str(head)], str(Path(tmp) / "o.jsonl"), model_dir=md, jobs=1)
t = time.process_time()
n = label_to_file([src], out, model_dir=md, jobs=jobs, restart=True)
print(json.dumps({"cpu": time.process_time() - t, "units": n}))
"""


def _run(src: str, inp: str, out: str, model: str, jobs: int) -> dict:
    res = subprocess.run([sys.executable, "-c", _RUN, inp, out, model, str(jobs)],
                         env={**os.environ, "PYTHONPATH": src},
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.exit(f"{src}: the run failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("--src", action="append", required=True,
                    help="a source tree (the folder holding policy_nlp); give two or more")
    ap.add_argument("--model", default="fast", help="fast, default or a model directory")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = {s: [] for s in args.src}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {s: str(Path(tmp) / f"out{i}.jsonl") for i, s in enumerate(args.src)}
        for r in range(args.rounds):
            for s in args.src:
                res = _run(s, args.input, outs[s], args.model, args.jobs)
                times[s].append(res["cpu"])
                print(f"round {r + 1}  {s}: {res['cpu']:.3f} s CPU, {res['units']:,} units",
                      flush=True)
        first = args.src[0]
        same = all(filecmp.cmp(outs[first], outs[s], shallow=False) for s in args.src[1:])
    print(f"outputs identical: {same}")
    for s in args.src:
        print(f"median {statistics.median(times[s]):.3f} s CPU  {s}")


if __name__ == "__main__":
    main()
