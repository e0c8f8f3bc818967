"""``python -m policy_nlp.cli``: the command line (``python -m policy_nlp`` and the
``policy-nlp`` script also set up the process first: see :mod:`policy_nlp.__main__`)."""

from . import main

main()
