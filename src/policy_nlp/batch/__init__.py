"""Batch labeling engines behind ``policy-nlp label``: streaming, parallel, resumable, Dask.

:func:`label_inputs` (:mod:`.run`) is the one entry: it checks the options of a run (which go
together, which need which engine) and calls the engine.

:func:`label_to_file` (the local engine, :mod:`.local_engine`) reads the inputs as a stream,
labels them in chunks of ``chunk_size`` units (:mod:`.chunks`), in this process (``jobs=1``) or
in ``jobs`` worker processes (:mod:`.workers`; JSONL inputs are read by the workers themselves,
:mod:`.blocks`), and writes each chunk as soon as it (and every chunk before it) is done, so
memory stays flat whatever the size of the input and the output order is the input order.

Crash safety and ``--resume`` (:mod:`.checkpoint`). A file output ``OUT`` is written as
``OUT.partial`` beside it, with a checkpoint ``OUT.checkpoint.json``. After each chunk (at most
every 2 s) the partial file is flushed and fsync'd, and then the checkpoint -- the number of
input units done, the partial file's byte length at that point, and a fingerprint of the run
(inputs with their sizes, mtimes and content hashes, the model's file hashes, the options) --
is written to a temporary file, fsync'd and renamed over the old one. So the checkpoint only
ever names bytes that are on disk. ``resume=True`` checks the fingerprint, truncates the partial
file to the committed length (dropping a half-written chunk), skips the committed units of the
input (reading, not labeling them) and goes on. At the end the last checkpoint is marked
``final``, the partial file is renamed to ``OUT`` (atomically) and the checkpoint removed; a
checkpoint marked final beside a finished ``OUT`` (a kill between the two) is recognised and
removed by the next run. One run at a time writes an output
(:func:`~policy_nlp.outputs.run_lock`). Ctrl-C and SIGTERM stop a run between two chunks
(:class:`Interrupted`, :mod:`.stop`), a worker that dies stops it at once
(:class:`~policy_nlp.errors.WorkerDied`), both with the chunks written so far committed for
``--resume``.

:func:`label_dask` (the Dask engine, :mod:`.dask_engine`) cuts the inputs into partitions,
labels each on a Dask worker into ``part-NNNNN.jsonl`` of an output directory and writes
``manifest.json`` when all are done; concatenating the parts in manifest order gives exactly the
local engine's JSONL output, and nothing in the output directory that the engine did not make
is touched.

The modules import downhill: ``chunks`` (the work of one chunk) and ``stop`` (signals) import
no other; ``workers`` (processes) imports both, ``blocks`` (JSONL read by the workers) and
``checkpoint`` import ``chunks``; ``local_engine`` imports them all, ``dask_engine`` ``chunks``,
``stop`` and ``blocks``; ``run`` imports the two engines. This package re-exports what
callers use.
"""

from __future__ import annotations

from .blocks import BLOCK_BYTES, BlockReport, LineBlock, jsonl_inputs, label_block, line_blocks
from .checkpoint import (
    CHECKPOINT_FORMAT,
    CONTENT_SAMPLES,
    SAMPLE_BYTES,
    content_hash,
    fingerprint,
    own_files,
    state_paths,
)
from .chunks import LabelOptions, chunked, label_chunk, process_model, read_units
from .dask_engine import (
    DASK_LOCK,
    DASK_STAGE,
    MANIFEST_FORMAT,
    Partition,
    label_dask,
    label_partition,
    plan_partitions,
    read_partition,
)
from .local_engine import label_to_file, rows_to_csv
from .run import ENGINES, LabelRun, check_label_arguments, label_inputs
from .stop import Interrupted, check_stop, stop_between_chunks
from .workers import RUN_GC_THRESHOLD, collect_for_a_run, in_worker, ordered, pool_context

__all__ = [
    "BLOCK_BYTES",
    "CHECKPOINT_FORMAT",
    "CONTENT_SAMPLES",
    "DASK_LOCK",
    "DASK_STAGE",
    "ENGINES",
    "MANIFEST_FORMAT",
    "RUN_GC_THRESHOLD",
    "SAMPLE_BYTES",
    "BlockReport",
    "Interrupted",
    "LabelOptions",
    "LabelRun",
    "LineBlock",
    "Partition",
    "check_label_arguments",
    "check_stop",
    "chunked",
    "collect_for_a_run",
    "content_hash",
    "fingerprint",
    "in_worker",
    "jsonl_inputs",
    "label_block",
    "label_chunk",
    "label_dask",
    "label_inputs",
    "label_partition",
    "label_to_file",
    "line_blocks",
    "ordered",
    "own_files",
    "plan_partitions",
    "pool_context",
    "process_model",
    "read_partition",
    "read_units",
    "rows_to_csv",
    "state_paths",
    "stop_between_chunks",
]
