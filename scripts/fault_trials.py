# ruff: noqa: RUF001 (Chinese fixture sentences have full-width punctuation)
"""Run-to-run figures of ``policy-nlp label`` under faults (issue 17): random ``kill -9``
points across ``-j 1``, ``-j 2`` and the Dask engine, each followed by ``--resume`` (Dask: the
same command again), and Ctrl-C (SIGINT to the process group, as a terminal sends it) at random
points per engine. Every output is compared byte for byte with an uninterrupted run's, and
every standard error is searched for a traceback.

    python scripts/fault_trials.py [--kills 20] [--ctrl-c 10] [--paragraphs 30000]
                                   [--model fast] [--seed 17] [--no-dask]

Prints one line per trial and a summary per engine; exits 1 if any trial lost, doubled or
changed a byte, printed a traceback, or left a process or a file behind. The paragraphs are
generated (no corpus text)."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHRASES = ["推进碳达峰碳中和，加快发展新质生产力", "城镇新增就业五万人，提高城乡居民基础养老金",
           "严格落实中央八项规定精神，持续纠治四风", "深化放管服改革，持续优化营商环境",
           "全面推进乡村振兴，稳定粮食播种面积", "加强基层社会治理，推进平安建设"]


def write_corpus(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"{PHRASES[i % 6]}，第{i}项工作。{PHRASES[(i * 7) % 6]}。"
            fh.write(json.dumps({"id": f"p{i:06d}", "text": text}, ensure_ascii=False) + "\n")


def label_cmd(corpus: Path, out: Path, model: str, engine: str, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "policy_nlp", "label", str(corpus), "-o", str(out), "-m", model,
           "--no-progress"]
    if engine == "dask":
        return [*cmd, "--engine", "dask", "--jobs", "2", "--partition-rows", "2000", *extra]
    return [*cmd, "--jobs", engine[-1], "--checkpoint-every", "0.2", *extra]


def output_bytes(out: Path, engine: str) -> bytes | None:
    if engine != "dask":
        return out.read_bytes() if out.is_file() else None
    try:
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return b"".join((out / p["part"]).read_bytes() for p in manifest["parts"])


def descendants(pid: int) -> list[int]:
    """The live processes (zombies aside) of the process group ``pid``."""
    found = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pid)], capture_output=True,
                           text=True)
    return [int(line.split()[0]) for line in found.stdout.splitlines()
            if line.split()[1:2] != ["Z"] and int(line.split()[0]) != pid]


def trial(corpus, work: Path, model, engine, fault, at: float, reference: bytes) -> dict:
    out = work / ("parts" if engine == "dask" else "out.jsonl")
    proc = subprocess.Popen(label_cmd(corpus, out, model, engine), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(at)
    finished_first = proc.poll() is not None
    if not finished_first:
        if fault == "kill -9":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err1 = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err1 = proc.communicate()
        err1 += "\n[hung: killed after 120 s]"
    ended = time.monotonic()
    while (left := descendants(proc.pid)) and time.monotonic() - ended < 10:
        time.sleep(0.1)  # the rest of the process group (workers) should follow within seconds
    linger = time.monotonic() - ended
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    again = [] if engine == "dask" or finished_first else ["--resume"]
    second = subprocess.run(label_cmd(corpus, out, model, engine, *again), capture_output=True,
                            text=True, timeout=300)
    got = output_bytes(out, engine)
    leftovers = sorted(p.name for p in (out.iterdir() if engine == "dask" else work.iterdir())
                       if p.name not in ("manifest.json", "out.jsonl")
                       and not p.name.startswith("part-"))
    # Ctrl-C after a run's last check (the Dask engine: while its cluster closes, when SIGINT
    # is ignored) lets it finish: exit 0 with the whole output, counted apart
    ok_code = {"kill -9": (-signal.SIGKILL,), "Ctrl-C": (130, 0)}[fault]
    result = {"engine": engine, "fault": fault, "at": round(at, 2),
              "finished_first": finished_first, "exit": proc.returncode,
              "exit_ok": finished_first or proc.returncode in ok_code,
              "finished_despite": not finished_first and proc.returncode == 0,
              "traceback": "Traceback" in err1 + second.stderr,
              "resume_exit": second.returncode, "identical": got == reference,
              "processes_left": len(left), "group_gone_after_s": round(linger, 1),
              "files_left": leftovers}
    result["ok"] = (result["exit_ok"] and not result["traceback"] and second.returncode == 0
                    and result["identical"] and not left and not leftovers)
    if not result["ok"]:
        result["stderr"] = (err1 + second.stderr)[-600:]
    if engine == "dask":
        shutil.rmtree(out, ignore_errors=True)
    else:
        for p in work.iterdir():
            p.unlink()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--ctrl-c", type=int, default=10, help="Ctrl-C trials per engine")
    ap.add_argument("--paragraphs", type=int, default=30_000)
    ap.add_argument("--model", default="fast")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    engines = ["-j1", "-j2"] + ([] if args.no_dask else ["dask"])
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="fault-trials.") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        write_corpus(corpus, args.paragraphs)
        ref = tmp / "ref.jsonl"
        spans = {}
        for engine in engines:  # how long an uninterrupted run takes, start-up included
            out = tmp / ("ref-parts" if engine == "dask" else f"ref{engine}.jsonl")
            t = time.monotonic()
            subprocess.run(label_cmd(corpus, out, args.model, engine), check=True,
                           capture_output=True)
            spans[engine] = time.monotonic() - t
            data = output_bytes(out, engine)
            if engine == "-j1":
                ref.write_bytes(data)
            elif data != ref.read_bytes():
                print(f"{engine}: an uninterrupted run differs from -j 1's output")
                return 1
        reference = ref.read_bytes()
        print(f"{args.paragraphs:,} paragraphs; uninterrupted runs: "
              + ", ".join(f"{e} {s:.1f} s" for e, s in spans.items()))
        plan = [(engines[i % len(engines)], "kill -9") for i in range(args.kills)]
        plan += [(e, "Ctrl-C") for e in engines for _ in range(args.ctrl_c)]
        work = tmp / "work"
        work.mkdir()
        results = []
        for engine, fault in plan:
            at = rng.uniform(0.3, spans[engine])
            r = trial(corpus, work, args.model, engine, fault, at, reference)
            results.append(r)
            print(json.dumps(r, ensure_ascii=False), flush=True)
    bad = 0
    for engine in engines:
        for fault in ("kill -9", "Ctrl-C"):
            rs = [r for r in results if r["engine"] == engine and r["fault"] == fault]
            if not rs:
                continue
            ok = sum(r["ok"] for r in rs)
            bad += len(rs) - ok
            print(f"{engine:4} {fault:8} {ok}/{len(rs)} ok (identical after the rerun, no "
                  f"traceback, nothing left behind); "
                  f"{sum(r['finished_first'] for r in rs)} finished before the fault, "
                  f"{sum(r['finished_despite'] for r in rs)} finished despite it; "
                  f"{sum(r['traceback'] for r in rs)} with a traceback")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
