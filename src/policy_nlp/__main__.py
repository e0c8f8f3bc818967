"""The ``policy-nlp`` command (also ``python -m policy_nlp``): settings for the whole process,
made before numpy is imported, then :func:`policy_nlp.cli.main`."""

import os

# where OpenBLAS takes its number of threads from
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def main() -> None:
    # OpenBLAS (numpy's, and scipy's, which numba loads) starts one thread per core that
    # spins for a while after it starts and after each call, waiting for work. The command
    # makes no BLAS call worth a second thread (training runs its folds in processes), and on
    # two cores the spinning took CPU from the labeling workers: `label -j2` on the 10x
    # corpus used 0.5 s less CPU with one BLAS thread. A thread count the user set (any of
    # the variables OpenBLAS reads) is kept.
    if not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        from .cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # Ctrl-C while the modules load, before a command handles it
        import sys

        print("policy-nlp: interrupted; nothing was written", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
