# ruff: noqa: RUF001 (Chinese fixture sentences have full-width punctuation)
"""The batch engines of ``policy-nlp label``: parallel, streaming, resumable after kill -9, and
Dask on a LocalCluster. The paragraphs are written for these tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.batch import (
    RUN_GC_THRESHOLD,
    LabelOptions,
    label_to_file,
    plan_partitions,
    read_partition,
    state_paths,
)
from policy_nlp.cli import app
from policy_nlp.read import iter_documents
from policy_nlp.errors import InputError

PHRASES = [
    "推进碳达峰碳中和，加快发展新质生产力",
    "城镇新增就业五万人，提高城乡居民基础养老金",
    "严格落实中央八项规定精神，持续纠治四风",
    "深化放管服改革，持续优化营商环境",
    "全面推进乡村振兴，稳定粮食播种面积",
    "加强基层社会治理，推进平安建设",
]


def write_corpus(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"{PHRASES[i % len(PHRASES)]}，第{i}项工作。{PHRASES[(i * 7) % len(PHRASES)]}。"
            rec = {"id": f"p{i:06d}", "level": "county", "text": text}
            if i % 97 == 5:
                del rec["id"]  # ids from the line number
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            if i % 50 == 3:
                fh.write("\n")  # blank lines are skipped
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("batch") / "paras.jsonl", 3000)


@pytest.fixture(scope="module")
def reference(corpus, tiny_model_dir, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    label_to_file([str(corpus)], str(out), model_dir=tiny_model_dir, chunk_size=256)
    return out.read_bytes()


def test_reference_has_one_line_per_record(reference):
    lines = reference.decode().splitlines()
    assert len(lines) == 3000
    ids = [json.loads(x)["id"] for x in lines]
    assert len(set(ids)) == 3000 and ids[0] == "p000000" and "paras:7" in ids  # line 7: a blank line before it


def test_jobs_give_the_same_output(corpus, tiny_model_dir, reference, tmp_path):
    out = tmp_path / "jobs.jsonl"
    n = label_to_file([str(corpus)], str(out), model_dir=tiny_model_dir, jobs=2, chunk_size=200)
    assert n == 3000
    assert out.read_bytes() == reference
    assert not any(p.exists() for p in state_paths(out))


def test_the_garbage_collector_skips_the_model_only_while_labeling(corpus, tiny_model_dir,
                                                                    tmp_path):
    """label_to_file freezes the objects alive at its start (gc.freeze) while it runs and
    unfreezes them at the end, so a notebook that calls it keeps its collector as it was."""
    import gc

    seen = []
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    label_to_file([str(corpus)], str(tmp_path / "o.jsonl"), model_dir=tiny_model_dir,
                  chunk_size=100, commit_every=0.0,
                  progress=lambda n: seen.append((gc.get_freeze_count(), gc.get_threshold())))
    assert seen and min(f for f, _ in seen) > 1000
    # the youngest generation is collected less often while labeling, as before after
    assert {t for _, t in seen} == {(max(RUN_GC_THRESHOLD, thresholds[0]), *thresholds[1:])}
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


def test_a_worker_sets_its_collector_up_once(monkeypatch, tiny_model_dir):
    """gc.get_freeze_count() walks every frozen object (the forked model's ~100,000): a worker
    asks it once, not once per block."""
    import gc

    from policy_nlp.batch import workers

    calls = []
    real = gc.get_freeze_count
    assert real() == 0  # (else this test would unfreeze what another froze)
    monkeypatch.setattr(workers, "_worker_set_up", [])
    monkeypatch.setattr(gc, "get_freeze_count", lambda: calls.append(1) or real())
    thresholds = gc.get_threshold()
    try:
        done = [workers.in_worker(lambda _m, task, _o: task * 2, tiny_model_dir, n,
                                   LabelOptions()) for n in range(3)]
        assert done == [0, 2, 4] and len(calls) == 1
        assert real() > 0 and gc.get_threshold()[0] == max(RUN_GC_THRESHOLD, thresholds[0])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_caller_that_switched_automatic_collection_off_keeps_it_off(corpus, tiny_model_dir,
                                                                       tmp_path):
    import gc

    thresholds = gc.get_threshold()
    seen = []
    gc.set_threshold(0, *thresholds[1:])
    try:
        label_to_file([str(corpus)], str(tmp_path / "o.jsonl"), model_dir=tiny_model_dir,
                      chunk_size=100, commit_every=0.0,
                      progress=lambda n: seen.append(gc.get_threshold()[0]))
        assert seen and set(seen) == {0} and gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*thresholds)


def test_a_process_that_froze_objects_itself_keeps_them_frozen(corpus, tiny_model_dir,
                                                                tmp_path):
    import gc

    keep = [[i] for i in range(2000)]  # noqa: F841 - objects to freeze
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        label_to_file([str(corpus)], str(tmp_path / "o.jsonl"), model_dir=tiny_model_dir)
        # (a frozen object can still be freed by reference counting: not exactly equal)
        assert gc.get_freeze_count() > frozen - 1000 > 0
    finally:
        gc.unfreeze()


def test_workers_are_not_forked_from_a_process_with_other_threads(monkeypatch):
    """A fork copies the locks other threads hold (a thread loading the tokenizer, say): a
    worker forked then could wait on one forever. Such a process starts its workers afresh."""
    import threading

    from policy_nlp.batch import pool_context

    if sys.platform != "linux":
        pytest.skip("workers are forked on Linux only")
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    # an earlier test of this process may have left a thread (a Dask client's, a timer's)
    assert pool_context().get_start_method() == ("forkserver" if others else "fork"), others
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert pool_context().get_start_method() == "forkserver"
    finally:
        stop.set()
        thread.join()


def test_csv_output_is_the_same_with_jobs(corpus, tiny_model_dir, tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    opts = LabelOptions(fmt="csv")
    label_to_file([str(corpus)], str(one), model_dir=tiny_model_dir, opts=opts, chunk_size=500)
    label_to_file([str(corpus)], str(two), model_dir=tiny_model_dir, opts=opts, jobs=2,
                  chunk_size=128)
    assert one.read_bytes() == two.read_bytes()
    assert one.read_bytes().startswith(b"\xef\xbb\xbfid,")  # a byte-order mark, for Excel
    lines = one.read_text("utf-8-sig").splitlines()
    assert lines[0].startswith("id,") and len(lines) == 3001


def run_label(corpus: Path, out: Path, model: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "policy_nlp", "label", str(corpus), "-o", str(out),
           "-m", str(model), "--no-progress", *extra]
    return subprocess.run(cmd, capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_resume_after_kill_9_equals_an_uninterrupted_run(tmp_path, tiny_model_dir, jobs):
    corpus = write_corpus(tmp_path / "big.jsonl", 20_000)
    ref = tmp_path / "ref.jsonl"
    label_to_file([str(corpus)], str(ref), model_dir=tiny_model_dir)
    out = tmp_path / "out.jsonl"
    partial, ckpt = state_paths(out)
    cmd = [sys.executable, "-m", "policy_nlp", "label", str(corpus), "-o", str(out),
           "-m", str(tiny_model_dir), "--no-progress", "--jobs", jobs,
           "--checkpoint-every", "0"]  # a checkpoint after every chunk
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some chunks are committed
        try:
            done = json.loads(ckpt.read_text("utf-8"))["units"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            done = 0
        if done >= 2048:
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # the main process; pool workers die with their pipe
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert partial.exists() and ckpt.exists()
    committed = json.loads(ckpt.read_text("utf-8"))
    assert 0 < committed["units"] < 20_000, "killed too late to test resuming"
    with partial.open("ab") as fh:  # as if killed in the middle of writing a chunk
        fh.write(b'{"id": "half a line')
    done = run_label(corpus, out, tiny_model_dir, "--jobs", jobs, "--resume")
    assert done.returncode == 0, done.stderr.decode()
    assert b"resuming after" in done.stderr
    assert out.read_bytes() == ref.read_bytes()  # nothing lost, nothing twice
    assert not partial.exists() and not ckpt.exists()


def test_resume_refuses_a_changed_input(tmp_path, tiny_model_dir):
    corpus = write_corpus(tmp_path / "c.jsonl", 50)
    out = tmp_path / "o.jsonl"
    partial, ckpt = state_paths(out)
    ckpt.write_text(json.dumps({"format": "policy-nlp-label-checkpoint/1", "fingerprint": "x",
                                "units": 10, "bytes": 0}))
    partial.write_bytes(b"")
    result = CliRunner().invoke(app, ["label", str(corpus), "-o", str(out), "-m",
                                      str(tiny_model_dir), "--resume"])
    assert result.exit_code == 2
    assert "changed since the interrupted run" in result.output
    # without --resume the interrupted run's work is not thrown away unasked
    result = CliRunner().invoke(app, ["label", str(corpus), "-o", str(out), "-m",
                                      str(tiny_model_dir)])
    assert result.exit_code == 2 and "continue it with --resume, or start over with --restart" \
        in result.output
    assert ckpt.exists() and partial.exists() and not out.exists()
    # --restart starts over and succeeds
    result = CliRunner().invoke(app, ["label", str(corpus), "-o", str(out), "-m",
                                      str(tiny_model_dir), "--restart"])
    assert result.exit_code == 0, result.output
    assert "starting over" in result.output
    assert len(out.read_text("utf-8").splitlines()) == 50 and not ckpt.exists()


def test_resume_to_stdout_and_bad_jobs_are_refused(tmp_path, tiny_model_dir):
    corpus = write_corpus(tmp_path / "c.jsonl", 5)
    runner = CliRunner()
    r = runner.invoke(app, ["label", str(corpus), "-o", "-", "--resume"])
    assert r.exit_code == 2 and "needs an output file" in r.output
    r = runner.invoke(app, ["label", "-", "-o", str(tmp_path / "o.jsonl"), "--resume"],
                      input="加快发展。\n")
    assert r.exit_code == 2 and "standard input cannot be read again" in r.output
    r = runner.invoke(app, ["label", str(corpus), "-o", str(tmp_path / "x.jsonl"), "-j", "0"])
    assert r.exit_code == 2 and "--jobs must be at least 1" in r.output


def test_partitions_read_exactly_what_the_file_reader_reads(corpus):
    parts = plan_partitions([str(corpus)], partition_rows=700)
    assert len(parts) > 4 and [p.index for p in parts] == list(range(len(parts)))
    docs = [d for p in parts for d in read_partition(p)]
    whole = list(iter_documents([str(corpus)]))
    assert [(d.id, d.text, d.meta, d.source) for d in docs] == [
        (d.id, d.text, d.meta, d.source) for d in whole]


def test_dask_local_cluster_equals_the_single_process_output(corpus, tiny_model_dir, reference,
                                                             tmp_path):
    pytest.importorskip("distributed")
    from policy_nlp.batch import label_dask

    report = tmp_path / "in" / "report.txt"
    report.parent.mkdir()
    report.write_text("一、过去一年工作回顾\n推进碳达峰碳中和。\n提高城乡居民基础养老金。\n",
                      "utf-8")
    out = tmp_path / "parts"
    manifest = label_dask([str(corpus), str(report.parent)], str(out), model_dir=tiny_model_dir,
                          n_workers=2, processes=False, partition_rows=800)
    single = tmp_path / "single.jsonl"
    label_to_file([str(corpus), str(report.parent)], str(single), model_dir=tiny_model_dir)
    names = [p["part"] for p in manifest["parts"]]
    assert len(names) == 5 and names == sorted(names)
    joined = b"".join((out / name).read_bytes() for name in names)
    assert joined == single.read_bytes()
    assert joined.startswith(reference)
    on_disk = json.loads((out / "manifest.json").read_text("utf-8"))
    assert on_disk["rows"] == manifest["rows"] == 3002
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "manifest.json"])


def test_dask_engine_cli_errors(tmp_path, corpus):
    runner = CliRunner()
    r = runner.invoke(app, ["label", str(corpus), "-o", str(tmp_path / "x"), "--scheduler",
                            "tcp://127.0.0.1:1"])
    assert r.exit_code == 2 and "--scheduler needs --engine dask" in r.output
    r = runner.invoke(app, ["label", str(corpus), "-o", str(tmp_path / "x.csv"), "--engine",
                            "dask"])
    assert r.exit_code == 2 and "JSONL parts" in r.output


def test_bad_input_midway_leaves_no_files(tmp_path, tiny_model_dir):
    corpus = write_corpus(tmp_path / "c.jsonl", 3000)
    with corpus.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    out = tmp_path / "o.jsonl"
    r = CliRunner().invoke(app, ["label", str(corpus), "-o", str(out), "-m", str(tiny_model_dir),
                                 "--no-progress", "--strict"])
    assert r.exit_code == 2 and "not valid JSON" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]
    # by default the bad line is skipped and reported, the rest labeled (exit 5)
    r = CliRunner().invoke(app, ["label", str(corpus), "-o", str(out), "-m", str(tiny_model_dir),
                                 "--no-progress", "--jobs", "2"])
    assert r.exit_code == 5 and "not valid JSON" in r.output and "1 skipped" in r.output
    assert len(out.read_text("utf-8").splitlines()) == 3000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "o.jsonl"]


def _messy_corpus(path: Path) -> Path:
    """Good records, with a bad line, a record without text, duplicate ids (one across
    blocks of 64 lines), a multi-line record (a report, split) and a UTF-8 BOM."""
    write_corpus(path, 300)
    lines = path.read_text("utf-8").splitlines(keepends=True)
    lines[10] = "{not json\n"
    lines[20] = json.dumps({"id": "empty", "text": "。。。"}, ensure_ascii=False) + "\n"
    lines[30] = json.dumps({"id": "p000001", "text": "重复的编号。"}, ensure_ascii=False) + "\n"
    lines[200] = json.dumps({"id": "p000002", "text": "又一个重复的编号。"},
                            ensure_ascii=False) + "\n"
    lines[40] = json.dumps({"id": "rep", "text": "一、回顾\n推进碳达峰碳中和。\n提高养老金。"},
                           ensure_ascii=False) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(lines).encode("utf-8"))
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_workers_reading_jsonl_report_what_the_reader_reports(tmp_path, tiny_model_dir,
                                                              monkeypatch, jobs):
    """JSONL files are read by the workers in blocks of lines; the output, the problems and
    their order are those of reading the file in this process (the other path)."""
    from policy_nlp.batch import local_engine
    from policy_nlp.read import SkipAndReport

    src = _messy_corpus(tmp_path / "messy.jsonl")

    def run(name):
        messages: list[str] = []
        out = tmp_path / name
        n = label_to_file([str(src), str(src)], str(out), model_dir=tiny_model_dir, jobs=jobs,
                          chunk_size=64, on_error=SkipAndReport(messages.append))
        return n, out.read_bytes(), messages

    fast = run("fast.jsonl")
    monkeypatch.setattr(local_engine, "jsonl_inputs", lambda inputs: None)
    slow = run("slow.jsonl")
    assert fast == slow
    n, data, messages = fast
    assert n == 2 * (300 - 2 + 1) and len(data.splitlines()) == n  # the report: 2 paragraphs
    assert any("messy.jsonl:11: not valid JSON" in m for m in messages)
    assert any("messy.jsonl:201: duplicate id 'p000002'" in m for m in messages)
    assert len(messages) == 2 * 2 + 2 + 298  # 2 bad lines twice, 2 + 298 duplicate ids


def test_a_block_report_replays_problems_and_duplicate_ids_in_input_order(monkeypatch):
    """The workers send the ids of a block's documents with their keys and the problems
    with their place; the main process reports both as checking each document in turn does:
    a duplicate within the block or of an earlier block, before or after a problem, none
    beyond the memory bound; without a policy the first of them is raised."""
    from policy_nlp import read
    from policy_nlp.batch import BlockReport
    from policy_nlp.read import IdMemory, SkipAndReport, id_keys

    monkeypatch.setattr(read.documents, "UNIQUE_ID_LIMIT", 5)
    blocks = [(["a", "b"], [(0, "bad line 1"), (2, "bad line 4")]),
              (["c", "a", "d", "d", "e", "f", "c", "f"], [(2, "bad line 8"), (8, "bad line 99")])]

    def replayed(ids, on_error):
        for names, problems in blocks:
            sources = [f"x.jsonl:{name}" for name in names]
            BlockReport([(at, InputError(m)) for at, m in problems], id_keys(names), names,
                        sources).replay(ids, on_error)

    def one_by_one(ids, on_error):
        for names, problems in blocks:
            todo = dict(problems)
            for i, name in enumerate(names):
                if i in todo:
                    read.handle_problem(on_error, InputError(todo.pop(i)))
                ids.check(name, f"x.jsonl:{name}", on_error)
            for m in todo.values():
                read.handle_problem(on_error, InputError(m))

    got, expected = [], []
    replayed(IdMemory(), SkipAndReport(got.append))
    one_by_one(IdMemory(), SkipAndReport(expected.append))
    assert got == expected
    assert [m.split(":")[0] for m in got] == [
        "skipped", "skipped", "kept", "skipped", "kept", "kept", "skipped"]
    assert [m.split(": ")[2] for m in got if m.startswith("kept")] == [
        "duplicate id 'a' (an earlier record or report has it)",
        "duplicate id 'd' (an earlier record or report has it)",
        "duplicate id 'c' (an earlier record or report has it)"]
    assert got[-1] == "skipped: bad line 99"
    # 'f' again is not reported: it was the 6th id, beyond the bound of 5
    assert not any("'f'" in m for m in got)
    with pytest.raises(InputError, match="bad line 1"):
        replayed(IdMemory(), None)


@pytest.mark.parametrize("batches", [
    [["h", "h"]],  # a duplicate within the batch
    [["g1", "g2", "g3", "g4", "g5", "g6", "g7"], ["g7", "g5"]],  # beyond the bound, within
    [["g1", "g2"], ["g3", "g4", "g5"], ["g6"], ["g6", "g1"]],  # at the bound, beyond it
])
def test_checking_ids_at_once_reports_what_checking_one_by_one_does(monkeypatch, batches):
    from policy_nlp import read
    from policy_nlp.read import IdMemory, SkipAndReport, id_keys

    monkeypatch.setattr(read.documents, "UNIQUE_ID_LIMIT", 5)
    got, expected = [], []
    at_once, one_by_one = IdMemory(), IdMemory()
    for names in batches:
        at_once.check_many(id_keys(names), names, names, SkipAndReport(got.append))
        for name in names:
            one_by_one.check(name, name, SkipAndReport(expected.append))
    assert got == expected and at_once.seen == one_by_one.seen
    assert len(got) == 1  # "h", "g5", "g1" again


def test_resume_goes_on_from_a_checkpoint_with_or_without_an_input_position(
        tmp_path, tiny_model_dir, corpus, reference):
    """A checkpoint is resumed by skipping the units done, whether or not it also names the
    input position after them (as checkpoints of an earlier version did)."""
    from policy_nlp.batch import fingerprint, process_model

    lines = reference.splitlines(keepends=True)
    done = 1000
    fp = fingerprint([str(corpus)], process_model(str(tiny_model_dir)), LabelOptions())
    text = corpus.read_bytes()
    # the position after the 1000th record: line numbers count the blank lines too
    pos, lineno, records = 0, 1, 0
    while records < done:
        end = text.index(b"\n", pos) + 1
        records += text[pos:end].strip() != b""
        pos, lineno = end, lineno + 1
    for position in (None, [0, pos, lineno]):
        out = tmp_path / "out.jsonl"
        partial, ckpt = state_paths(out)
        partial.write_bytes(b"".join(lines[:done]) + b'{"half')
        state = {"format": "policy-nlp-label-checkpoint/1", "fingerprint": fp, "units": done,
                 "bytes": len(b"".join(lines[:done]))}
        if position:
            state["position"] = position
        ckpt.write_text(json.dumps(state))
        n = label_to_file([str(corpus)], str(out), model_dir=tiny_model_dir, resume=True)
        assert n == 3000
        assert out.read_bytes() == reference


def test_an_output_inside_an_input_directory_is_not_read_back(tmp_path, tiny_model_dir):
    folder = tmp_path / "reports"
    folder.mkdir()
    write_corpus(folder / "c.jsonl", 20)
    out = folder / "labeled.jsonl"
    runner = CliRunner()
    for _ in range(3):  # each run reads c.jsonl only, never its own earlier output
        result = runner.invoke(app, ["label", str(folder), "-o", str(out), "-m",
                                     str(tiny_model_dir), "--no-progress"])
        assert result.exit_code == 0, result.output
        assert len(out.read_text("utf-8").splitlines()) == 20
    # an interrupted run's files in the folder do not change what --resume checks either
    partial, ckpt = state_paths(out)
    result = runner.invoke(app, ["label", str(folder), "-o", str(out), "-m",
                                 str(tiny_model_dir), "--no-progress", "--resume"])
    assert result.exit_code == 0 and "nothing to resume" in result.output


def test_the_output_may_not_be_an_input(tmp_path, tiny_model_dir):
    corpus = write_corpus(tmp_path / "c.jsonl", 5)
    before = corpus.read_bytes()
    result = CliRunner().invoke(app, ["label", str(corpus), "-o", str(corpus), "-m",
                                      str(tiny_model_dir)])
    assert result.exit_code == 2 and "is also the output of this run" in result.output
    assert corpus.read_bytes() == before


def test_an_output_place_that_cannot_be_written_is_exit_4(tmp_path, tiny_model_dir):
    corpus = write_corpus(tmp_path / "c.jsonl", 5)
    result = CliRunner().invoke(app, ["label", str(corpus), "-o", "/proc/x.jsonl", "-m",
                                      str(tiny_model_dir)])
    assert result.exit_code == 4 and "/proc/x.jsonl: cannot write to /proc" in result.output
    assert ".partial" not in result.output


def test_ctrl_c_with_workers_stops_cleanly_and_says_how_to_resume(tmp_path, tiny_model_dir):
    """Ctrl-C reaches every process of the terminal's group: one message, no tracebacks."""
    corpus = write_corpus(tmp_path / "big.jsonl", 20_000)
    out = tmp_path / "out.jsonl"
    partial, ckpt = state_paths(out)
    cmd = [sys.executable, "-m", "policy_nlp", "label", str(corpus), "-o", str(out),
           "-m", str(tiny_model_dir), "--no-progress", "--jobs", "2", "--checkpoint-every", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ckpt.exists():
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # as the terminal does: the whole process group
    _, stderr = proc.communicate(timeout=60)
    stderr = stderr.decode()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert f"the work done so far is kept in {partial}" in stderr and "--resume" in stderr
    assert partial.exists() and not out.exists()
    done = run_label(corpus, out, tiny_model_dir, "--jobs", "2", "--resume")
    assert done.returncode == 0, done.stderr.decode()
    assert len(out.read_text("utf-8").splitlines()) == 20_000


def test_dask_bad_input_leaves_no_parts_without_a_manifest(tmp_path, tiny_model_dir):
    pytest.importorskip("distributed")
    from policy_nlp.batch import label_dask

    good = write_corpus(tmp_path / "good.jsonl", 1000)
    bad = write_corpus(tmp_path / "bad.jsonl", 1000)
    with bad.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    out = tmp_path / "parts"
    with pytest.raises(InputError, match="not valid JSON"):
        label_dask([str(good), str(bad)], str(out), model_dir=tiny_model_dir, n_workers=2,
                   processes=False, partition_rows=400)
    # the good partitions' parts went with the failure, and so did the folder the run made
    # (it was left empty, as if an output had been written)
    assert not out.exists()
    out.mkdir()  # a folder that was there before the run stays
    with pytest.raises(InputError, match="not valid JSON"):
        label_dask([str(good), str(bad)], str(out), model_dir=tiny_model_dir, n_workers=2,
                   processes=False, partition_rows=400)
    assert list(out.iterdir()) == []


def test_a_resumed_run_reports_what_an_uninterrupted_run_reports(tmp_path, tiny_model_dir):
    """Problems and duplicate ids before the checkpoint count in the resumed run too."""
    from policy_nlp.read import SkipAndReport

    corpus = write_corpus(tmp_path / "c.jsonl", 3000)
    lines = corpus.read_text("utf-8").splitlines(keepends=True)
    lines.insert(10, "{not json\n")  # early: before the interruption
    lines.append(lines[1])  # late: the id of line 2 again
    corpus.write_text("".join(lines), "utf-8")
    ref_policy = SkipAndReport()
    ref = tmp_path / "ref.jsonl"
    label_to_file([str(corpus)], str(ref), model_dir=tiny_model_dir, on_error=ref_policy)
    assert (ref_policy.skipped, ref_policy.kept) == (1, 1)

    out = tmp_path / "out.jsonl"
    calls = []

    def interrupt(n):  # Ctrl-C after the first committed chunk
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        label_to_file([str(corpus)], str(out), model_dir=tiny_model_dir, chunk_size=500,
                      commit_every=0, progress=interrupt, on_error=SkipAndReport())
    policy = SkipAndReport()
    label_to_file([str(corpus)], str(out), model_dir=tiny_model_dir, chunk_size=500,
                  resume=True, on_error=policy)
    assert (policy.skipped, policy.kept) == (1, 1)
    assert out.read_bytes() == ref.read_bytes()


def test_a_full_disk_keeps_the_committed_work_for_resume(tmp_path, tiny_model_dir):
    import resource

    corpus = write_corpus(tmp_path / "c.jsonl", 6000)
    ref = tmp_path / "ref.jsonl"
    label_to_file([str(corpus)], str(ref), model_dir=tiny_model_dir)
    out = tmp_path / "out.jsonl"
    partial, ckpt = state_paths(out)

    def small_files():  # files of this process may not grow past 1 MB (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    cmd = [sys.executable, "-m", "policy_nlp", "label", str(corpus), "-o", str(out),
           "-m", str(tiny_model_dir), "--no-progress", "--checkpoint-every", "0"]
    full = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=small_files,
                          timeout=120, check=False)
    assert full.returncode == 4, full.stderr
    assert f"kept in {partial.name} for --resume" in full.stderr
    assert partial.exists() and ckpt.exists() and not out.exists()
    done = run_label(corpus, out, tiny_model_dir, "--resume")
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == ref.read_bytes()


def test_dask_does_not_read_its_own_parts_back(tmp_path, tiny_model_dir):
    pytest.importorskip("distributed")
    from policy_nlp.batch import label_dask

    folder = tmp_path / "in"
    folder.mkdir()
    write_corpus(folder / "a.jsonl", 300)
    for _ in range(2):  # the second run finds the first run's parts inside its input folder
        manifest = label_dask([str(folder)], str(folder / "parts"), model_dir=tiny_model_dir,
                              n_workers=1, processes=False, partition_rows=200)
        assert manifest["rows"] == 300 and len(manifest["parts"]) == 2


def test_a_lone_surrogate_in_a_record_is_labeled_not_a_traceback(tmp_path, tiny_model_dir):
    src = tmp_path / "s.jsonl"
    src.write_text('{"id": "s1", "text": "推进\\ud800改革开放。"}\n{"id": "s2", "text": "稳就业。"}\n',
                   "utf-8")
    out = tmp_path / "o.jsonl"
    for model in (str(tiny_model_dir), "fast"):
        r = CliRunner().invoke(app, ["label", str(src), "-o", str(out), "-m", model])
        assert r.exit_code == 0, r.output
        first = json.loads(out.read_text("utf-8").splitlines()[0])
        assert first["text"] == "推进\ufffd改革开放。"


@pytest.mark.parametrize("max_lines,max_bytes", [(3, 1 << 20), (1024, 40), (4, 25), (1, 1)])
def test_line_blocks_cut_a_file_into_whole_lines_within_the_limits(tmp_path, max_lines,
                                                                    max_bytes):
    from policy_nlp.batch import line_blocks

    lines = [(f'{{"id": {i}, "text": "{"碳" * (i % 7)}"}}\n').encode() for i in range(23)]
    lines[-1] = lines[-1].rstrip(b"\n")  # no line break at the end
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(lines))
    blocks = list(line_blocks([(str(path), "utf-8")], max_lines, max_bytes))
    assert b"".join(b.data for b in blocks) == path.read_bytes()
    lineno = 1
    for k, block in enumerate(blocks):
        n = block.data.count(b"\n") + (not block.data.endswith(b"\n"))
        assert block.first_line == lineno and 1 <= n <= max_lines
        body = block.data.splitlines(keepends=True)
        if k < len(blocks) - 1:  # full by lines, or the last line took it to max_bytes
            assert n == max_lines or (len(block.data) >= max_bytes
                                      and len(block.data) - len(body[-1]) < max_bytes)
        lineno += n
    assert lineno == len(lines) + 1
