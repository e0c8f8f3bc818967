"""policy-nlp: label the paragraphs of Chinese government work reports by policy theme.

The data flows one way, one module per step::

    read -> split -> tokenize -> features -> model -> predict -> aggregate -> write

The command line (``cli``) is a thin shell over plain functions that a notebook can call too;
:func:`load_model` gives a model whose answers are pandas DataFrames (see :mod:`policy_nlp.api`)::

    from policy_nlp import load_model
    model = load_model()
    model.profile(["reports/"])

Importing the package is cheap: ``load_model`` and ``Model`` are imported on first use.
"""

__version__ = "0.1.0"
__all__ = ["Model", "__version__", "load_model"]

_LAZY = {"load_model": "api", "Model": "api"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
