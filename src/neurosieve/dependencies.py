"""Which modules a workflow script uses, found statically (standard library only).

Two things need it: the digest that makes a change to the package's code rerun exactly
the rules whose scripts use the changed modules (:func:`code_digest`, a ``params:`` entry
of every rule), and the test that checks each conda environment provides every library
its rules import (:func:`imported_modules`). Imports are read from the source with
:mod:`ast`, at any depth (imports inside functions count), following the package's own
modules; nothing is imported.
"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
from pathlib import Path

PACKAGE = "neurosieve"
PACKAGE_DIR = Path(__file__).resolve().parent


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(top-level names of absolute imports, names of the package's modules imported) of one file."""
    names: set[str] = set()
    own: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name.split(".")[0])
                if alias.name.startswith(f"{PACKAGE}."):
                    own.add(alias.name.split(".")[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: a module of the package
                own |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif node.module:
                names.add(node.module.split(".")[0])
                if node.module.startswith(f"{PACKAGE}."):
                    own.add(node.module.split(".")[1])
                elif node.module == PACKAGE:
                    own |= {a.name for a in node.names}
    return names, own


def package_modules(script: str | os.PathLike[str], package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> list[Path]:
    """The package's source files a script uses, directly or through other package modules (sorted)."""
    package_dir = Path(package_dir)
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        path = todo.pop()
        _, own = _imports(path)
        for mod in sorted(own):
            src = package_dir / f"{mod}.py"
            if src.is_file() and src not in seen:
                seen.add(src)
                todo.append(src)
    init = package_dir / "__init__.py"  # imported with any module of the package
    return sorted(seen | ({init} if init.is_file() else set()))


def imported_modules(script: str | os.PathLike[str], package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> set[str]:
    """Top-level names of the third-party modules a script imports, directly or through the package."""
    names: set[str] = set()
    for path in [Path(script), *package_modules(script, package_dir)]:
        names |= _imports(path)[0]
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("__future__", PACKAGE)}


def code_digest(script: str | os.PathLike[str], package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> str:
    """sha256 over the source of the package modules a script uses (with their names).

    As a ``params:`` entry it makes Snakemake rerun a rule when, and only when, code the
    rule's script relies on changes (Snakemake itself tracks only the script file).
    """
    h = hashlib.sha256()
    for path in package_modules(script, package_dir):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
