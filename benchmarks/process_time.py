"""Wall and CPU time of one whole ``policy-nlp`` process, for two or more source trees
interleaved.

    python benchmarks/process_time.py --src BASE/src --src NEW/src [--rounds 7] -- ARGS...

    # the cold start of classify
    python benchmarks/process_time.py --src /tmp/base/src --src src -- \\
        classify --text 严格落实中央八项规定精神，持续纠治“四风”。
    # labeling, whole process, output to standard output
    python benchmarks/process_time.py --src /tmp/base/src --src src --rounds 3 -- \\
        label corpus-10x.jsonl -o - --jobs 2 --model fast --no-progress

Each round runs ``python -m policy_nlp ARGS...`` once per source tree, in turn (interleaved,
so that a busy machine slows all of them alike), each with that tree first on ``PYTHONPATH``
(a ``git worktree`` of the base commit gives its tree). It measures the wall time of the
process and its CPU time (user + system, its worker processes included), and prints the
median of each per tree, with the ratio to the first tree. The standard output of every run
is kept in a file and compared with the first tree's (sha256), so a faster tree that prints
something else is caught. The load average before and after is printed: the timings are only
comparable within one run of this script.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _run(src: str, args: list[str], out_path: str) -> tuple[float, float, str]:
    """(wall s, CPU s of the process and its children, sha256 of its standard output)."""
    before = os.times()
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        res = subprocess.run([sys.executable, "-m", "policy_nlp", *args], stdout=out,
                             stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": src},
                             check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if res.returncode != 0:
        sys.exit(f"{src}: exit {res.returncode}:\n{res.stderr.decode(errors='replace')}")
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    with open(out_path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return wall, cpu, digest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", action="append", required=True,
                    help="a source tree (the folder holding policy_nlp); give two or more")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("args", nargs=argparse.REMAINDER, help="-- then the command's arguments")
    opts = ap.parse_args(argv)
    args = opts.args[1:] if opts.args[:1] == ["--"] else opts.args
    if not args:
        ap.error("give the command's arguments after --")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    walls: dict[str, list[float]] = {s: [] for s in opts.src}
    cpus: dict[str, list[float]] = {s: [] for s in opts.src}
    digests: dict[str, set[str]] = {s: set() for s in opts.src}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(opts.rounds):
            for i, src in enumerate(opts.src):
                wall, cpu, digest = _run(src, args, os.path.join(tmp, f"out-{i}"))
                walls[src].append(wall)
                cpus[src].append(cpu)
                digests[src].add(digest)
                print(f"round {r + 1} {src}: wall {wall:.3f} s, CPU {cpu:.3f} s", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    first = opts.src[0]
    base_wall, base_cpu = statistics.median(walls[first]), statistics.median(cpus[first])
    for src in opts.src:
        wall, cpu = statistics.median(walls[src]), statistics.median(cpus[src])
        same = "same output" if digests[src] == digests[first] and len(digests[src]) == 1 \
            else f"OUTPUT DIFFERS ({len(digests[src] | digests[first])} distinct)"
        print(f"{src}: median wall {wall:.3f} s ({wall / base_wall:.3f}x), median CPU "
              f"{cpu:.3f} s ({cpu / base_cpu:.3f}x), {same}")


if __name__ == "__main__":
    main()
