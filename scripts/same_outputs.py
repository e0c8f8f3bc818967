"""Do two revisions of policy-nlp give the same outputs, byte for byte, on the shared corpus?

For a change that should not change behaviour (a refactor, a move of modules), run::

    python scripts/same_outputs.py BEFORE [AFTER]      # revisions: a commit, a branch, HEAD~3

AFTER defaults to the working tree. Each revision is checked out into a temporary work tree
(``git worktree``) and run with this checkout's Python (its ``.venv``), its ``src`` first on the
path, so the only difference is the package's code. For each it runs, with the shipped default
model of the *same* revision:

* ``label`` of ``../shared/corpus/paragraphs.jsonl`` (JSONL and CSV),
* ``classify`` of each raw sample report in ``../shared/samples/raw`` (JSONL),
* ``profile`` of ``../shared/corpus/reports.jsonl`` (CSV, wide and ``--long``),
* ``train`` on the shared labels (``--cv-folds 0`` unless ``--full-train``: the weights, the
  vocabulary and the card without its time stamps),

and prints one line per output, ``same`` or ``DIFFERENT`` with the first differing line, and
exits 1 if any differs. It writes only under a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _tree(rev: str | None, where: Path) -> Path:
    """A work tree of ``rev`` under ``where`` (None: this checkout as it is)."""
    if rev is None:
        return ROOT
    path = where / f"tree-{len(list(where.iterdir()))}"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), rev],
                   check=True)
    return path


def _run(tree: Path, out: Path, full_train: bool) -> dict[str, Path]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    made: dict[str, Path] = {}

    def cli(name: str, *args: str, stdout: Path | None = None) -> None:
        cmd = [sys.executable, "-m", "policy_nlp", *args]
        with open(stdout, "wb") if stdout else open(os.devnull, "wb") as fh:
            subprocess.run(cmd, cwd=tree, env=env, stdout=fh, stderr=subprocess.DEVNULL,
                           check=False)
        made[name] = stdout or out / name

    paragraphs = SHARED / "corpus" / "paragraphs.jsonl"
    cli("label.jsonl", "label", str(paragraphs), "-o", str(out / "label.jsonl"), "--no-progress")
    cli("label.csv", "label", str(paragraphs), "-o", str(out / "label.csv"), "--no-progress")
    for sample in sorted((SHARED / "samples" / "raw").glob("*.txt")):
        cli(f"classify-{sample.stem}.jsonl", "classify", str(sample), "--format", "jsonl",
            stdout=out / f"classify-{sample.stem}.jsonl")
    reports = SHARED / "corpus" / "reports.jsonl"
    cli("profile.csv", "profile", str(reports), "-o", str(out / "profile.csv"), "--no-progress")
    cli("profile-long.csv", "profile", str(reports), "-o", str(out / "profile-long.csv"),
        "--long", "--no-progress")
    model = out / "model"
    cli("model", "train", "--labels", str(SHARED / "labels" / "train.jsonl"), "--paragraphs",
        str(paragraphs), "-o", str(model), *([] if full_train else ["--cv-folds", "0"]))
    for name in ("weights.npz", "vocabulary.json"):
        made[f"train/{name}"] = model / name
    card = model / "model.json"
    if card.exists():
        data = json.loads(card.read_text("utf-8"))
        data.pop("created", None)
        data.get("training", {}).pop("seconds", None)
        (out / "card.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        made["train/model.json (no time stamps)"] = out / "card.json"
    made.pop("model", None)
    return made


def _first_difference(a: Path, b: Path) -> str:
    try:
        la, lb = a.read_bytes().splitlines(), b.read_bytes().splitlines()
    except OSError as exc:
        return str(exc)
    for i, (x, y) in enumerate(zip(la, lb, strict=False), 1):
        if x != y:
            return f"line {i}: {x[:120]!r} / {y[:120]!r}"
    return f"{len(la)} lines / {len(lb)} lines"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--full-train", action="store_true",
                        help="train with the default 5-fold cross-validation (minutes) instead "
                             "of --cv-folds 0")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} is absent: the shared corpus sits beside the checkout", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "trees").mkdir()
        trees = [_tree(args.before, tmp / "trees"), _tree(args.after, tmp / "trees")]
        try:
            outputs = []
            for k, tree in enumerate(trees):
                out = tmp / f"out-{k}"
                out.mkdir()
                outputs.append(_run(tree, out, args.full_train))
        finally:
            for tree in trees:
                if tree != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(tree)], check=False)
        differ = 0
        for name in outputs[0]:
            a, b = outputs[0][name], outputs[1].get(name)
            ha = hashlib.sha256(a.read_bytes()).hexdigest() if a.exists() else None
            hb = hashlib.sha256(b.read_bytes()).hexdigest() if b and b.exists() else None
            if ha is not None and ha == hb:
                print(f"same       {name}")
            else:
                differ += 1
                print(f"DIFFERENT  {name}: {_first_difference(a, b) if b else 'missing'}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
