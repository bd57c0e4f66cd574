"""The package shows its layers: each layer imports only from those below it, SimPy lives in the
engine alone, outputs read nothing of the engine but its records type, and no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "simulation"
# a layer may import from the layers listed after it (and from itself)
ORDER = ["shell", "calibration", "experiments", "files", "outputs", "engine", "scenario", "base"]
LAYER = {
    "scenario": "scenario", "engine": "engine", "outputs": "outputs",
    "experiments": "experiments", "results": "files", "folders": "files", "theory": "base",
    "calibration": "calibration",
}  # fmt: skip


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return LAYER.get(parts[1], "shell") if len(parts) > 1 else "shell"


def _imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif top_level_only and isinstance(node, ast.If):  # TYPE_CHECKING blocks do not count
            continue
    return found


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_from_its_layer_or_below(module: str) -> None:
    mine = ORDER.index(_layer(module))
    for name in _imports(MODULES[module], top_level_only=False):
        if name.split(".")[0] == "simpy":
            assert _layer(module) == "engine", f"{module} imports simpy"
        if not name.startswith("simulation.") or name not in MODULES:
            continue
        theirs = ORDER.index(_layer(name))
        assert theirs >= mine, f"{module} ({_layer(module)}) imports {name} ({_layer(name)})"
        if _layer(module) == "outputs" and _layer(name) == "engine":
            assert name == "simulation.engine.records", f"{module} imports {name}"


def test_no_import_cycles() -> None:
    graph = {
        m: {n for n in _imports(p, top_level_only=True) if n in MODULES and n != m}
        for m, p in MODULES.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
