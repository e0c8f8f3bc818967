"""The ``policy-nlp`` command line: a thin shell over the package's plain functions.

Each command parses its arguments, calls the library and prints what it returned: results go
to standard output (or ``--output``), progress and logs to standard error (all of that text is
made in :mod:`.render`). The commands, by family:

* :mod:`.labeling`: ``classify``, ``label``
* :mod:`.panels`: ``profile``, ``validation-sample``, ``plot``
* :mod:`.training`: ``train``, ``evaluate``, ``compare``, ``audit``
* :mod:`.coding`: ``suggest``, ``label-config``, ``agreement``, ``validate-labels``
* :mod:`.show`: ``info``, ``themes``, ``explain``

The application, its error handling and exit codes are in :mod:`.application`, the options several
commands share in :mod:`.options`.
"""

from __future__ import annotations

from . import coding, labeling, panels, show, training
from .application import app, flag_of, handle_errors, run

__all__ = ["EXAMPLES", "app", "flag_of", "main"]

#: every command in the order --help lists them, with one example each, shown at the end of
#: its --help (tests/test_docs.py checks that every command has one, and runs the README tour)
COMMANDS = [
    (training.train, "policy-nlp train --labels coded.csv --label-col 主题 -o my-model"),
    (labeling.classify, "policy-nlp classify report.txt --format csv > report.csv"),
    (labeling.label, "policy-nlp label reports/ records.jsonl -o labeled.jsonl --jobs 2"),
    (panels.profile, "policy-nlp profile reports/ -o panel.csv --long --ci 0.95 "
                     "--by level,year"),
    (panels.validation_sample, "policy-nlp validation-sample reports/ -n 300 --strata level "
                               "-o sheet.xlsx"),
    (panels.plot, "policy-nlp plot panel.csv -o figures/ --where level=national"),
    (show.explain, "policy-nlp explain --text 推进碳达峰碳中和。"),
    (show.themes, "policy-nlp themes --top-terms 20 --theme environment"),
    (training.evaluate, "policy-nlp evaluate --labels heldout.csv -m my-model -o metrics.json"),
    (training.audit, "policy-nlp audit --labels coded.csv -o review.csv --top 200"),
    (coding.suggest, "policy-nlp suggest --pool pool.jsonl -n 200 -o sheet.csv"),
    (training.compare, "policy-nlp compare default my-model --labels heldout.csv"),
    (coding.validate_labels, "policy-nlp validate-labels --labels coded.csv"),
    (coding.label_config, "policy-nlp label-config > config.xml"),
    (coding.agreement, "policy-nlp agreement alice.csv bob.csv --disagreements "
                       "to-adjudicate.csv"),
    (show.info, "policy-nlp info --model fast"),
]

#: command name -> its example
EXAMPLES = {}
for _command, _example in COMMANDS:
    _name = _command.__name__.replace("_", "-")
    EXAMPLES[_name] = _example
    app.command(_name, epilog=f"Example: {_example}")(handle_errors(_command))


def main() -> None:
    run()
