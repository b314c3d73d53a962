"""The package's shape, as docs/architecture.md states it: every import points down its layers
(an AST import graph of every module, imports inside functions and TYPE_CHECKING blocks
included), no import cycle between modules, no module over 400 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hpsearch"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str) -> set[str]:
    """The hpsearch modules ``name`` imports (a name imported from a package counts as its
    module when it is one)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def unit(name: str) -> str:
    """What the layers name: a top-level module, or a whole package (``hpsearch.store``)."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


def layers() -> list[set[str]]:
    """The layers in docs/architecture.md's ```layers block, lowest first."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    out = []
    for line in block.group(1).splitlines():
        names = line.split(":", 1)[1].split() if ":" in line else []
        if names:
            out.append({"hpsearch" if n == "hpsearch" else f"hpsearch.{n}" for n in names})
    return out


def test_every_module_has_a_layer_and_each_only_one():
    stated = layers()
    every = [n for layer in stated for n in layer]
    assert len(every) == len(set(every)), "a module is in two layers"
    units = {unit(m) for m in MODULES}
    assert units - set(every) == set(), "modules without a layer in docs/architecture.md"
    assert set(every) - units == set(), "layers naming modules that do not exist"


@pytest.mark.slow
def test_every_import_points_down_the_layers():
    level = {n: k for k, layer in enumerate(layers()) for n in layer}
    against = []
    for name in MODULES:
        for other in imports(name):
            a, b = unit(name), unit(other)
            if a != b and level[b] > level[a]:
                against.append(f"{name} -> {other}")
    assert against == [], "imports against the layers of docs/architecture.md"


@pytest.mark.slow
def test_no_import_cycle_between_modules():
    graph = {name: imports(name) for name in MODULES}
    # A package's __init__ re-exporting its own modules is no cycle: leave those edges out.
    for name in graph:
        if MODULES[name].name == "__init__.py":
            graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_no_module_is_over_400_lines():
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.slow
def test_only_the_presentation_imports_rich_and_typer():
    allowed = {"hpsearch.cli", "hpsearch.display", "hpsearch.tables", "hpsearch.console"}
    for name, path in MODULES.items():
        if unit(name) in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                assert not any(n.split(".")[0] in ("rich", "typer") for n in names), name


def test_every_exit_code_comes_from_the_one_mapping():
    """``hpsearch.exits`` names every code; no command ends with a bare number."""
    bare = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("Exit", "exit")
                and any(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in node.args)
            ):
                bare.append(f"{name}:{node.lineno}")
    assert bare == []
