"""What lets a run of the local engine resume: its state files beside the output ``OUT``
(:func:`state_paths`: ``OUT.partial`` and ``OUT.checkpoint.json``), the fingerprint of what
must not change between a run and its resumption (:func:`fingerprint`, with
:func:`content_hash` of each input), and the checkpoint read (:func:`read_checkpoint`,
:func:`was_finished`) and advanced only over bytes that are on disk (:func:`commit`)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..outputs import lock_path, replace_json
from .chunks import LabelOptions

CHECKPOINT_FORMAT = "policy-nlp-label-checkpoint/1"

def fingerprint(inputs: list[str], model, opts: LabelOptions,
                exclude: Collection[Path] = ()) -> str:
    """What must not change between a run and its resumption (``exclude``: the run's own
    files, which change as it goes): the input files, as reading lists them, with their size,
    modification time and a hash of their content (:func:`content_hash`), the model's file
    hashes and the options."""
    from ..read import input_files

    files = []
    for p in inputs:
        path = Path(p)
        found = input_files(path) if path.is_dir() else [path]
        for f in found:
            if f.is_file() and f.resolve() not in exclude:
                st = f.stat()
                files.append([str(f.resolve()), st.st_size, st.st_mtime_ns,
                              content_hash(f, st.st_size)])
    data = {"inputs": files, "model": model.card.get("files"), "options": asdict(opts)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# an input up to this size is hashed whole for the fingerprint; a larger one by its first and
# last SAMPLE_BYTES and CONTENT_SAMPLES blocks of 4 KiB spread evenly between them
SAMPLE_BYTES = 1 << 19
CONTENT_SAMPLES = 64


def content_hash(path: Path, size: int) -> str:
    """A hash of the content of the input ``path`` of ``size`` bytes, for the fingerprint: an
    edit that keeps the size (and, copied with ``cp -p`` or ``rsync -t``, the modification
    time) changes it. Whole files up to ``2 * SAMPLE_BYTES``; of a larger one, its head, its
    tail and blocks spread between them -- an edit of the same size in the middle of a large
    file, between those blocks, with its modification time put back, is not seen."""
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            if size <= 2 * SAMPLE_BYTES:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            else:
                h.update(fh.read(SAMPLE_BYTES))
                step = (size - 2 * SAMPLE_BYTES) // (CONTENT_SAMPLES + 1)
                for i in range(1, CONTENT_SAMPLES + 1):
                    fh.seek(SAMPLE_BYTES + i * step)
                    h.update(fh.read(4096))
                fh.seek(size - SAMPLE_BYTES)
                h.update(fh.read(SAMPLE_BYTES))
    except OSError as exc:  # reading it reports the problem in its turn
        return f"unreadable: {exc.strerror}"
    return h.hexdigest()


def state_paths(output: Path) -> tuple[Path, Path]:
    """The partial output and the checkpoint of ``output``."""
    return (output.with_name(output.name + ".partial"),
            output.with_name(output.name + ".checkpoint.json"))


def own_files(output: Path) -> frozenset[Path]:
    """The files a run writing ``output`` makes (resolved): the output, its partial output,
    its checkpoint and its lock file. An input directory that holds them is read without
    them."""
    return frozenset(p.resolve() for p in (output, *state_paths(output), lock_path(output)))


def read_checkpoint(ckpt: Path) -> dict[str, Any]:
    try:
        state = json.loads(ckpt.read_text("utf-8"))
        ok = isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{ckpt}: not a readable checkpoint; start over with --restart")
    return state


def was_finished(state: dict[str, Any], out: Path, partial: Path, opts: LabelOptions) -> bool:
    """Whether the run of checkpoint ``state`` had finished: killed after it renamed its
    partial output into place and before it removed the checkpoint. Its last checkpoint says
    so (``final``); one written before ``final`` existed, of a JSONL output, by the output's
    length."""
    if partial.exists() or not out.is_file():
        return False
    if state.get("final"):
        return True
    return opts.fmt == "jsonl" and out.stat().st_size == state.get("bytes")


def commit(fh, ckpt: Path, state: dict[str, Any], n: int) -> None:
    """Make the chunks written so far durable, then record them in the checkpoint."""
    fh.flush()
    os.fsync(fh.fileno())
    state["units"] += n
    state["bytes"] = fh.tell()
    replace_json(ckpt, state)

