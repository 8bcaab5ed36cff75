"""The package's layers import downward only, with no import circle, and the store needs no torch.

Every import counts, at any depth (a function-level import is still a dependency), read with
:mod:`ast` so nothing is imported. ``test_checker_catches_a_back_import`` shows the check fails
when a lower layer imports from a higher one.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "neurosieve"

#: Bottom to top: a module may import from its own layer and the layers before it.
LAYERS = ["core", "store", "analysis", "models", "api", "settings", "config", "plan", "stages", "report"]

#: Third-party modules a layer must not import (``store`` reads and writes tables: no torch).
FORBIDDEN = {"core": {"torch", "transformers"}, "store": {"torch", "transformers", "sklearn", "matplotlib"}}


def module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """The layer index of a dotted module inside the package ('' is the package itself: no layer)."""
    head = module.split(".")[0]
    return LAYERS.index(head) if head in LAYERS else None


def imports_of(path: Path, module: str, package: str = "neurosieve") -> tuple[set[str], set[str]]:
    """(the package's modules one file imports, the third-party top-level names it imports)."""
    own: set[str] = set()
    third: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if module else []
                own.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module and (node.module == package or node.module.startswith(f"{package}.")):
                own.add(node.module.removeprefix(package).lstrip("."))
            elif node.module:
                third.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{package}."):
                    own.add(alias.name.removeprefix(f"{package}."))
                else:
                    third.add(alias.name.split(".")[0])
    return {o for o in own if o}, third


def import_graph(package_dir: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    graph: dict[str, set[str]] = {}
    third: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        mod = module_name(path, package_dir)
        graph[mod], third[mod] = imports_of(path, mod)
    known = set(graph)
    # `from neurosieve.store import io` names a module; `from neurosieve.store.io import x` a symbol's module
    graph = {m: {d if d in known else d.rpartition(".")[0] for d in deps} - {m, ""} for m, deps in graph.items()}
    return graph, third


def layering_violations(package_dir: Path) -> list[str]:
    """Every import that goes up a layer or into a forbidden library, and every import circle."""
    graph, third = import_graph(package_dir)
    problems: list[str] = []
    for mod, deps in graph.items():
        here = layer_of(mod)
        if mod and here is None:
            problems.append(f"{mod}: belongs to no layer ({LAYERS})")
            continue
        for dep in sorted(deps):
            there = layer_of(dep)
            if here is not None and there is not None and there > here:
                problems.append(f"{mod} ({LAYERS[here]}) imports {dep} ({LAYERS[there]}), a higher layer")
        if here is not None and LAYERS[here] in FORBIDDEN:
            for lib in sorted(third[mod] & FORBIDDEN[LAYERS[here]]):
                problems.append(f"{mod} ({LAYERS[here]}) imports {lib}")
    # circles: depth-first search for a back edge
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                problems.append("import circle: " + " -> ".join([*stack[stack.index(dep) :], dep]))
            elif dep in graph and not state.get(dep):
                visit(dep, [*stack, dep])
        state[node] = 2

    for mod in sorted(graph):
        if not state.get(mod):
            visit(mod, [mod])
    return problems


def test_layers_import_downward_only_without_circles() -> None:
    assert layering_violations(PACKAGE_DIR) == []


def test_every_module_is_in_a_layer() -> None:
    graph, _ = import_graph(PACKAGE_DIR)
    assert {m.split(".")[0] for m in graph if m} <= set(LAYERS)
    # each layer is populated: the map in neurosieve/__init__.py is the real one
    assert {m.split(".")[0] for m in graph if m} == set(LAYERS)


def test_checker_catches_a_back_import(tmp_path: Path) -> None:
    copy = tmp_path / "neurosieve"
    shutil.copytree(PACKAGE_DIR, copy)
    target = copy / "store" / "io.py"
    # a function-level import from a higher layer is a violation too
    target.write_text(
        target.read_text() + "\n\ndef _sneaky():\n    from neurosieve.analysis.probing import probe_layer\n"
    )
    problems = layering_violations(copy)
    assert any("store.io (store) imports analysis.probing (analysis)" in p for p in problems), problems
    assert any(p.startswith("import circle:") for p in problems), problems


def test_checker_catches_a_forbidden_library(tmp_path: Path) -> None:
    copy = tmp_path / "neurosieve"
    shutil.copytree(PACKAGE_DIR, copy)
    target = copy / "store" / "corpus.py"
    target.write_text(target.read_text() + "\nimport torch  # noqa\n")
    assert "store.corpus (store) imports torch" in layering_violations(copy)


@pytest.mark.parametrize("relative", ["from ..analysis import probing", "from ..analysis.probing import probe_layer"])
def test_relative_imports_are_resolved(tmp_path: Path, relative: str) -> None:
    copy = tmp_path / "neurosieve"
    shutil.copytree(PACKAGE_DIR, copy)
    target = copy / "store" / "corpus.py"
    target.write_text(target.read_text() + f"\n{relative}  # noqa\n")
    assert any("store.corpus (store) imports analysis" in p for p in layering_violations(copy))
