"""Atomic file output, Parquet tables with provenance, and JSON records.

Every output is written under a temporary name beside its target and renamed
only when complete, so a killed job never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PROVENANCE_KEY = b"neurosieve"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file (or directory) is removed and ``target``
    is left untouched, so no half-written output survives.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        if tmp_path.is_dir():
            import shutil

            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            tmp_path.unlink(missing_ok=True)
        raise


#: Modules whose versions are recorded, and the distributions that install them.
_DISTRIBUTIONS = {
    "neurosieve": "neurosieve",
    "numpy": "numpy",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "torch": "torch",
    "transformers": "transformers",
    "sklearn": "scikit-learn",
}


def versions() -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour shapes the numbers."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name, dist in _DISTRIBUTIONS.items():
        mod = sys.modules.get(name)
        if mod is not None:
            out[name] = str(getattr(mod, "__version__", "unknown"))
            continue
        # Not imported by this job: the installed distribution's version, without importing it
        # (importing transformers or scikit-learn just to read a version costs a second per job).
        try:
            out[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def provenance(settings: Mapping[str, Any] | None = None, seed: int | None = None) -> dict[str, Any]:
    """The record stored beside every result: settings, seed and library versions."""
    return {"settings": dict(settings or {}), "seed": seed, "versions": versions()}


def write_parquet(
    table: pa.Table | Any,
    path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write a pyarrow Table (or pandas DataFrame) atomically, with ``meta`` in the schema metadata."""
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    if meta is not None:
        existing = dict(table.schema.metadata or {})
        existing[PROVENANCE_KEY] = json.dumps(meta, default=str).encode()
        table = table.replace_schema_metadata(existing)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance record stored in a Parquet file written by :func:`write_parquet`."""
    md = pq.read_schema(path).metadata or {}
    raw = md.get(PROVENANCE_KEY)
    return json.loads(raw) if raw else {}


def write_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())
