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
from typing import Any

import neurosieve

PACKAGE = "neurosieve"
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _imports(path: Path, module: str = "") -> tuple[set[str], set[str]]:
    """(top-level names of absolute imports, dotted names inside the package that one file imports).

    ``module`` is the file's own dotted name inside the package (``analysis.probing``), which
    resolves its relative imports; a name may be a module or a symbol of one (resolved by the caller).
    """
    names: set[str] = set()
    own: set[str] = set()
    package = module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name.split(".")[0])
                if alias.name.startswith(f"{PACKAGE}."):
                    own.add(alias.name.removeprefix(f"{PACKAGE}."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: a module of the package
                parts = package.split(".") if package else []
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                mod = ".".join(p for p in (base, node.module or "") if p)
            elif node.module:
                names.add(node.module.split(".")[0])
                if node.module != PACKAGE and not node.module.startswith(f"{PACKAGE}."):
                    continue
                mod = node.module.removeprefix(PACKAGE).lstrip(".")
            else:
                continue
            if mod:
                own.add(mod)
            own |= {".".join(p for p in (mod, a.name) if p) for a in node.names}
    return names, own


def _source(package_dir: Path, dotted: str) -> list[Path]:
    """The files importing ``dotted`` runs: the module (or package ``__init__``) and every parent ``__init__``."""
    parts = dotted.split(".") if dotted else []
    files = [package_dir / "__init__.py"]
    files += [package_dir.joinpath(*parts[:i], "__init__.py") for i in range(1, len(parts) + 1)]
    if parts:
        files.append(package_dir.joinpath(*parts[:-1], f"{parts[-1]}.py"))
    return [f for f in files if f.is_file()]


def package_modules(script: str | os.PathLike[str], package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> list[Path]:
    """The package's source files a script uses, directly or through other package modules (sorted)."""
    package_dir = Path(package_dir)
    seen: set[Path] = set()
    todo: list[tuple[Path, str]] = [(Path(script), "")]
    while todo:
        path, module = todo.pop()
        _, own = _imports(path, module)
        for dotted in sorted(own):
            for src in _source(package_dir, dotted):
                if src not in seen:
                    seen.add(src)
                    rel = src.relative_to(package_dir).with_suffix("").parts
                    todo.append((src, ".".join(rel if rel[-1] != "__init__" else (*rel[:-1], "__init__"))))
    return sorted(seen)


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
    package_dir = Path(package_dir)
    h = hashlib.sha256()
    for path in package_modules(script, package_dir):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def add_package_code_params(workflow: Any) -> None:
    """Give each script rule of a Snakemake ``workflow`` a ``package_code`` param: the digest of the package
    modules its script uses (:func:`code_digest`), so that a change to them reruns exactly those rules.

    The package digested is the one the jobs run (``workflow/rules/setup.smk`` chose it: the clone's
    ``src/`` or the installed package); scripts are read through Snakemake's source cache, so a workflow
    used as a remote module works too.
    """
    package_dir = Path(neurosieve.__file__).resolve().parent
    for rule in workflow.rules:
        if rule.script:
            script = workflow.sourcecache.get_path(rule.basedir.join(rule.script))
            rule.set_params(package_code=code_digest(script, package_dir))
