"""policy-nlp: label the paragraphs of Chinese government work reports by policy theme.

The data flows one way, one module per step::

    read -> split -> tokenize -> features -> model -> predict -> aggregate -> write

The command line (``cli``) is a thin shell over plain functions that a notebook can call too.
"""

__version__ = "0.1.0"
