"""The Label Studio round trip against a real server on 127.0.0.1 (slow; skipped with the
reason where Label Studio cannot be installed or started).

Label Studio is installed in its own virtual environment, never the project's (its pins would
clash with ours), under ``$POLICY_NLP_CACHE`` (default ``~/.cache/policy-nlp``) and reused
across runs, with its data folder (so that its database migrations run once). Measured on the
2-core machine: installing it 518 s (while six other installs ran), the first start 160-189 s
(the migrations), a later start 24 s, the round trip itself about 10 s.

``POLICY_NLP_LABEL_STUDIO=http://127.0.0.1:PORT TOKEN`` uses a server already running instead
(loopback only).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy_nlp.cli import app
from policy_nlp.labels import load_table

from .conftest import fixture_rows, write_pool

pytestmark = pytest.mark.slow
runner = CliRunner()
VERSION = "label-studio>=1.20,<2"
TOKEN = "policy-nlp-test-token"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _cache() -> Path:
    return Path(os.environ.get("POLICY_NLP_CACHE", Path.home() / ".cache" / "policy-nlp"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _install(venv: Path) -> Path:
    exe = venv / "bin" / "label-studio"
    if exe.exists():
        return exe
    started = time.monotonic()
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", VERSION], check=True,
                       capture_output=True, timeout=3000)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        tail = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"Label Studio could not be installed ({exc}): "
                    f"{tail.decode(errors='replace')[-300:]}")
    print(f"Label Studio installed in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return exe


class Server:
    def __init__(self, url: str, token: str):
        assert url.startswith(("http://127.0.0.1:", "http://localhost:")), url
        self.url, self.token = url.rstrip("/"), token

    def call(self, method: str, path: str, body=None, raw: bool = False):
        req = urllib.request.Request(
            self.url + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Token {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            data = resp.read()
        return data if raw else (json.loads(data) if data else None)


@pytest.fixture(scope="module")
def server():
    given = os.environ.get("POLICY_NLP_LABEL_STUDIO")
    if given:
        url, token = given.split()
        yield Server(url, token)
        return
    exe = _install(_cache() / "label-studio-venv")
    data_dir = _cache() / "label-studio-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data_dir / "server.log").open("wb")
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port),
         "--host", url, "--data-dir", str(data_dir), "--username", "coder@example.com",
         "--password", "policy-nlp-test", "--user-token", TOKEN, "--enable-legacy-api-token"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                pytest.skip(f"Label Studio exited at start (code {proc.returncode}): "
                            f"{(data_dir / 'server.log').read_text(errors='replace')[-300:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() - started > 900:
                pytest.skip("Label Studio did not answer on 127.0.0.1 within 900 s")
            time.sleep(2)
        print(f"Label Studio up in {time.monotonic() - started:.0f} s", file=sys.stderr)
        yield Server(url, TOKEN)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_round_trip_through_a_real_server(tmp_path, tiny_model_dir, server):
    rows = fixture_rows()
    gold = {r["id"]: r["label"] for r in rows}
    pool = write_pool(tmp_path / "pool.jsonl")
    tasks_file = tmp_path / "tasks.json"
    made = run("suggest", "-m", tiny_model_dir, "--pool", pool, "-n", 24, "--per-report", 4,
               "--format", "label-studio", "-o", tasks_file)
    assert made.exit_code == 0, made.stderr
    config = run("label-config", "-m", tiny_model_dir)
    assert config.exit_code == 0

    project = server.call("POST", "/api/projects",
                          {"title": f"policy-nlp test {time.time():.0f}",
                           "label_config": config.stdout})
    try:
        pid = project["id"]
        imported = server.call("POST", f"/api/projects/{pid}/import",
                               json.loads(tasks_file.read_text("utf-8")))
        assert imported["task_count"] == 24 and imported["prediction_count"] == 24
        listed = server.call("GET", f"/api/tasks?project={pid}&page_size=100")
        tasks = listed["tasks"] if isinstance(listed, dict) else listed
        assert len(tasks) == 24
        # the model's guess is there as a pre-annotation, with its score
        one = server.call("GET", f"/api/tasks/{tasks[0]['id']}")
        (pred,) = one["predictions"]
        assert pred["result"][0]["value"]["choices"] == [one["data"]["guess"]]
        assert pred["score"] == pytest.approx(one["data"]["probability"])
        # the first coder annotates 20 tasks (the guess accepted or changed), 4 are left
        # uncoded; a second codes 10 of them and differs on 2, where a third sides with the
        # first (so that every task has a majority)
        stamp = time.time_ns()
        second, third = (server.call("POST", "/api/users", {
            "email": f"coder{k}-{stamp}@example.com", "username": f"coder{k}-{stamp}"})["id"]
            for k in (2, 3))
        ordered = sorted(tasks, key=lambda t: t["id"])
        for k, task in enumerate(ordered[:20]):
            theme = gold[task["data"]["paragraph_id"]]
            result = [{"from_name": "theme", "to_name": "text", "type": "choices",
                       "value": {"choices": [theme]}}]
            if k % 5 == 0:
                result.append({"from_name": "secondary", "to_name": "text",
                               "type": "choices", "value": {"choices": ["industry"]}})
            server.call("POST", f"/api/tasks/{task['id']}/annotations",
                        {"result": result, "lead_time": 2.0})
            if k < 10:
                other = theme if k >= 2 else ("integrity" if theme != "integrity" else
                                              "economy")
                server.call("POST", f"/api/tasks/{task['id']}/annotations", {
                    "completed_by": second, "result": [
                        {"from_name": "theme", "to_name": "text", "type": "choices",
                         "value": {"choices": [other]}}]})
            if k < 2:
                server.call("POST", f"/api/tasks/{task['id']}/annotations", {
                    "completed_by": third, "result": result})
        exports = {}
        for kind, name in (("JSON", "export.json"), ("JSON_MIN", "export-min.json"),
                           ("CSV", "export.csv")):
            body = server.call("GET", f"/api/projects/{pid}/export?exportType={kind}"
                                      "&download_all_tasks=true", raw=True)
            exports[kind] = tmp_path / name
            exports[kind].write_bytes(body)
    finally:
        server.call("DELETE", f"/api/projects/{project['id']}")

    full = json.loads(exports["JSON"].read_text("utf-8"))
    assert len(full) == 24 and sum(bool(t["annotations"]) for t in full) == 20
    for kind, path in exports.items():
        out = tmp_path / f"model-{kind}"
        trained = run("train", "--labels", path, "-o", out, "--cv-folds", 0, "--min-df", 1,
                      "-j", 1)
        assert trained.exit_code == 0, (kind, trained.stderr)
        card = json.loads((out / "model.json").read_text("utf-8"))
        assert card["data"]["n_paragraphs"] == 20, kind
        if kind == "JSON":
            assert "4 rows with a blank label skipped" in trained.stderr
        checked = run("validate-labels", "--labels", path, "--json")
        report = json.loads(checked.stdout)
        assert sum(report["counts"].values()) == 20, kind
    # the export's annotators as coders
    agreed = run("agreement", exports["JSON"], "--format", "json", "--resamples", 100)
    assert agreed.exit_code == 0, agreed.stderr
    result = json.loads(agreed.stdout)
    assert len(result["coders"]) == 3 and result["n_items"] == 20
    (pair,) = [p for p in result["pairs"] if p["coders"] == ["export/1", f"export/{second}"]]
    assert pair["n_items"] == 10 and pair["observed_agreement"] == pytest.approx(0.8)
    assert result["krippendorff_alpha"]["n_items"] == 10
    # the export as one coder's file (the majorities), against the gold labels
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("".join(json.dumps({"id": k, "label": v}) + "\n"
                                 for k, v in gold.items()), "utf-8")
    majority = tmp_path / "majority.jsonl"
    data = load_table(exports["JSON"])
    majority.write_text("".join(json.dumps({"id": i, "label": lbl}) + "\n"
                                for i, lbl in zip(data.ids, data.labels, strict=True)), "utf-8")
    agreed = run("agreement", majority, gold_file, "--format", "json", "--resamples", 100)
    assert agreed.exit_code == 0, agreed.stderr
    result = json.loads(agreed.stdout)
    assert result["cohen_kappa"]["value"] == 1.0 and result["cohen_kappa"]["n_items"] == 20
    with exports["CSV"].open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert {"paragraph_id", "theme", "annotator"} <= set(header)
