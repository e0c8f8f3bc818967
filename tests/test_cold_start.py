"""What ``policy-nlp classify --text`` loads: only what classifying one text uses (issue 5's
cold start, timed by ``benchmarks/speed`` and ``benchmarks/process_time.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

from policy_nlp.features import Featurizer, FeatureSpec

# modules that classify --text does not use: the training workflow and what only it loads
# (the label readers, scikit-learn), the large-batch paths (scipy's sparse product, numba's
# kernel), the DataFrame API, the reference segmenter
NOT_LOADED = ("policy_nlp.train", "policy_nlp.labels", "policy_nlp.evaluate", "policy_nlp.audit",
              "sklearn", "scipy", "numba", "pandas", "jieba")


def test_classify_text_does_not_import_the_training_workflow(tiny_model_dir):
    code = textwrap.dedent("""
        import json, sys
        import policy_nlp.__main__ as entry
        sys.argv = ["policy-nlp", "classify", "--text", "推进碳达峰碳中和。", "--model", MODEL,
                    "--format", "jsonl"]
        try:
            entry.main()
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
    """).replace("MODEL", repr(str(tiny_model_dir)))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    result = json.loads(run.stderr.strip().splitlines()[-1])
    assert result["exit"] == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[0])["label"] == "environment"
    loaded = set(result["modules"])
    assert "policy_nlp.model" in loaded  # the check sees the modules the run loaded
    assert sorted(m for m in NOT_LOADED if m in loaded) == []


def test_the_train_flags_show_the_library_defaults():
    """The defaults of train's flags come from TrainConfig (one source of the defaults), now
    from policy_nlp.train_config, which the workflow re-exports."""
    from policy_nlp import train, train_config
    from policy_nlp.cli.options import train_defaults

    assert train.TrainConfig is train_config.TrainConfig
    assert train_defaults() == train_config.TrainConfig()


def _block_columns(terms: list[str], grams: list[str]) -> list[int]:
    featurizer = Featurizer(FeatureSpec(word_ngram=None, simplify=False),
                            [("char", terms, np.ones(len(terms)))])
    return featurizer.blocks[0].columns(grams)


def test_columns_by_bisection_equal_the_dict_lookup():
    """A vocabulary in ascending order is searched by bisection (no dict of every term for
    one text); any other order, and a term given twice, by the dict, as before."""
    terms = sorted({"碳", "碳达", "碳达峰", "中", "中和", "a", "b c", "峰"})
    grams = ["碳达", "碳中", "峰", "", "a", "zz", "碳", "中和", "\uffff", "b c"]
    by_dict = {t: i for i, t in enumerate(terms)}
    assert _block_columns(terms, grams) == [by_dict.get(g, -1) for g in grams]
    shuffled = terms[::-1]
    by_dict = {t: i for i, t in enumerate(shuffled)}
    assert _block_columns(shuffled, grams) == [by_dict.get(g, -1) for g in grams]
    twice = ["a", "b", "b", "c"]  # not strictly ascending: the dict (the last "b")
    assert _block_columns(twice, ["b", "c"]) == [2, 3]


def test_columns_switch_to_the_dict_after_many_lookups():
    terms = [f"{i:04d}" for i in range(400)]
    featurizer = Featurizer(FeatureSpec(word_ngram=None, simplify=False),
                            [("char", terms, np.ones(len(terms)))])
    block = featurizer.blocks[0]
    assert block.columns(["0003", "x"]) == [3, -1]
    assert block._index is None  # bisection
    assert block.columns(terms[:150]) == list(range(150))
    assert block._index is not None  # past a quarter of the terms: the dict
    assert block.columns(["0399", "x"]) == [399, -1]
