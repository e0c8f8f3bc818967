"""The import contract: every import of the package runs downhill, and nothing imports a cycle.

Read from the source with :mod:`ast` (no module is imported): every ``import`` of a
``policy_nlp`` module counts, at the top of a module or inside a function (a lazy import is
a dependency all the same); imports under ``if TYPE_CHECKING:`` do not, as they never run.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "policy_nlp"

#: The layers, bottom first. A module may import its own layer and the layers below it. A
#: package's modules (batch.chunks, validation.sheet…) are in the package's layer; inside a
#: package they must not import each other in a cycle (test_no_import_cycles).
LAYERS: list[tuple[str, set[str]]] = [
    ("foundations", {"errors", "text", "kernels", "era", "limits", "outputs"}),
    ("reading", {"read", "codebook"}),
    ("text steps and writing", {"split", "sentences", "tokenize", "write", "stata", "metadata"}),
    ("features", {"ngram_keys", "features_fit", "features"}),
    ("model", {"model"}),
    ("prediction", {"predict", "explain"}),
    ("aggregation, labels, scores", {"aggregate", "shares", "labels", "annotate", "metrics"}),
    ("workflows", {"train", "train_config", "evaluate", "compare", "audit", "suggest",
                   "html_report", "plot", "api", "agreement", "validation", "batch", "profile"}),
    # the package cli/ and every module in it (cli.application, cli.render, cli.labeling …)
    ("command line", {"cli"}),
    ("entry points", {"__main__", "__init__"}),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _layer_of(module: str) -> int:
    for rank, (_, members) in enumerate(LAYERS):
        if module in members or module.split(".")[0] in members:
            return rank
    raise AssertionError(f"module {module!r} is in no layer of tests/test_layers.py: add it")


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports(path: Path, source: str | None = None) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for each import of a package module (its
    ``source``, by default the file's)."""
    tree = ast.parse(path.read_text("utf-8") if source is None else source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    here = _module_name(path).split(".")
    package = here[:-1] if path.name != "__init__.py" else here
    out = []
    for node in ast.walk(tree):
        if _under_type_checking(node, parents):
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("policy_nlp"):
                target = node.module.removeprefix("policy_nlp").lstrip(".")
            else:
                continue
            names = [a.name for a in node.names]
            folder = SRC.joinpath(*target.split(".")) if target else SRC
            # from . import x, from .batch import chunks: a name that is a module counts as one
            modules = [n for n in names if (folder / f"{n}.py").exists() or (folder / n).is_dir()]
            out.extend((".".join(filter(None, [target, n])), [], node.lineno) for n in modules)
            rest = [n for n in names if n not in modules]
            if target and (rest or not modules):  # from . import render: the module, not cli
                out.append((target, rest, node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("policy_nlp."):
                    out.append((a.name.removeprefix("policy_nlp."), [], node.lineno))
    return out


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _resolve(target: str) -> str:
    """The module an import names: itself, or the longest module (a package's submodule, else
    the package) it starts with."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return target


GRAPH = {m: {_resolve(t) for t, _, _ in _imports(p)} - {m} for m, p in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downhill(module):
    rank = _layer_of(module)
    uphill = [f"{t} ({LAYERS[_layer_of(t)][0]})" for t in sorted(GRAPH[module])
              if _layer_of(t) > rank]
    assert not uphill, (f"{module} ({LAYERS[rank][0]}) imports from above it: "
                        f"{', '.join(uphill)}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_cross_modules(module):
    private = [f"{t}.{n} (line {line})" for t, names, line in _imports(MODULES[module])
               for n in names if n.startswith("_") and not n.startswith("__")]
    assert not private, f"{module} imports private names of other modules: {private}"


def test_no_import_cycles():
    """Tarjan's strongly connected components of the import graph: all of size one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH.get(v, ())):
            if w not in MODULES:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def _cli_users(graph: dict[str, set[str]]) -> list[str]:
    return [m for m, targets in graph.items()
            if m.split(".")[0] not in ("cli", "__main__") and "cli" in targets]


def test_the_library_never_imports_the_command_line():
    users = _cli_users(GRAPH)
    assert not users, f"library modules import the CLI: {users}"


@pytest.mark.parametrize("line", ["from .cli.render import log", "from .cli import app",
                                  "from . import cli", "import policy_nlp.cli.application",
                                  "from policy_nlp.cli.labeling import classify"])
def test_an_import_of_the_command_line_is_caught(line):
    """The contract sees a library module that imports the CLI or any module of cli/."""
    path = SRC / "predict.py"  # predict.py's own source, with one more (lazy) import
    source = path.read_text("utf-8") + f"\n\ndef _uphill():\n    {line}\n"
    targets = {t.split(".")[0] if t.split(".")[0] in MODULES else t
               for t, _, _ in _imports(path, source)}
    assert _cli_users({"predict": targets}) == ["predict"]
    assert _layer_of("cli.render") > _layer_of("predict")


def test_the_cli_modules_are_not_shadowed_by_the_app():
    """`policy_nlp.cli.application` is the module (as the README names it), `cli.app` the typer app."""
    import typer

    import policy_nlp.cli.application as application
    from policy_nlp import cli

    assert application.flag_of("cv_folds") == "--cv-folds"
    assert cli.application is application
    assert isinstance(cli.app, typer.Typer)
    for name in ("render", "options", "labeling", "panels", "training", "coding", "show"):
        assert inspect.ismodule(getattr(cli, name)), name
