"""Imports point down the layers only, and no two modules import each other.

Every ``import medlab...`` in every module counts, at the top of the file or inside a function
(an import deferred for speed is still a dependency). A module may import one in its own layer
or a lower one; a cycle is refused even inside a layer. A new module goes into ``LAYERS``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "medlab"

# lowest first: a module imports only from its own row or the rows above it
LAYERS: list[tuple[str, ...]] = [
    ("types", "defaults", "lazy", "levels"),
    ("schemas", "schema_check", "prompts", "validate", "lexicon", "knowledge", "runfiles",
     "manifest", "jsonl"),
    ("metrics", "tasks", "evalset_check", "evalsets", "evalsets_public"),
    ("models",),
    ("runner", "records", "cache", "provenance", "judgements", "reviews"),
    ("stats", "charts", "report", "judge", "agreement"),
    ("chatbot", "serve", "webui", "widgets", "review", "notebooks", "demo", "cli", "__main__",
     "__init__"),
]  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["medlab", *path.relative_to(PACKAGE).with_suffix("").parts]
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def layer(module: str) -> int:
    """Row of ``LAYERS`` that holds a module (a sub-package's modules share its row)."""
    top = module.split(".")[1] if module != "medlab" else "__init__"
    for i, row in enumerate(LAYERS):
        if top in row:
            return i
    raise KeyError(f"{module} is in no row of LAYERS ({__file__}): add it")


def _owner(name: str) -> str:
    """The module a dotted import name loads (``medlab.metrics.drugs.x`` -> its module)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports_in(source: str, module: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(imported medlab module, line) for every import statement of ``source``, the text of
    ``module``, wherever it stands: top level, inside a function, under ``TYPE_CHECKING``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            # ``from medlab import charts`` imports the module medlab.charts
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        for name in names:
            if name == "medlab" or name.startswith("medlab."):
                target = _owner(name)
                if target != module:
                    found.append((target, node.lineno))
    return found


def imports(module: str) -> list[tuple[str, int]]:
    path = MODULES[module]
    return imports_in(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")


GRAPH = {m: imports(m) for m in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    here = layer(module)
    upward = [
        f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} (row {here}) imports "
        f"{target} (row {layer(target)})"
        for target, line in GRAPH[module]
        if layer(target) > here
    ]
    assert upward == []


def _cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        for t, _ in graph[m]:
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            group = []
            while True:
                t = stack.pop()
                group.append(t)
                if t == m:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return groups


def test_no_import_cycle():
    # a package's __init__ may re-export its modules; they then import each other, not it
    assert _cycles(GRAPH) == []


SOURCES = [
    ("import json\nfrom medlab.types import Message\n", [("medlab.types", 2)]),
    ("def f():\n    from medlab.runner import run_eval\n", [("medlab.runner", 2)]),
    ("if TYPE_CHECKING:\n    from medlab.records import RunResult\n", [("medlab.records", 2)]),
    ("from medlab import charts, stats\n", [("medlab.charts", 1), ("medlab.stats", 1)]),
    ("from medlab.metrics.drugs import drug_mentions\n", [("medlab.metrics.drugs", 1)]),
    ("from .drugs import drug_mentions\n", [("medlab.metrics.drugs", 1)]),
    ("from .. import types\n", [("medlab.types", 1)]),
    ("import medlab.cli\n", [("medlab.cli", 1)]),
    ("from medlab.metrics.referral import referral_level\n", []),  # itself
    ("import numpy\nfrom pathlib import Path\n", []),
]


@pytest.mark.parametrize(("source", "expected"), SOURCES)
def test_every_kind_of_import_is_seen(source, expected):
    assert imports_in(source, "medlab.metrics.referral") == expected


def test_an_upward_import_and_a_cycle_would_be_caught():
    assert layer("medlab.metrics.drugs") == layer("medlab.metrics") > layer("medlab.types")
    assert layer("medlab.cli") > layer("medlab.runner") > layer("medlab.models")
    graph = {"a": [("b", 1)], "b": [("c", 1)], "c": [("a", 1)], "d": [("a", 1)]}
    assert _cycles(graph) == [["a", "b", "c"]]
