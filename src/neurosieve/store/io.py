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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PROVENANCE_KEY = b"neurosieve"
#: The row count a table was written with (schema metadata), checked on every read.
ROWS_KEY = b"neurosieve.rows"


class IntermediateError(RuntimeError):
    """A table the workflow wrote earlier is damaged, truncated or was changed since: the message names the file
    and the command that rebuilds it."""


def damaged(path: str | os.PathLike[str], what: str) -> IntermediateError:
    return IntermediateError(
        f"{path}: {what}. It was written by an earlier job of the workflow; rebuild it with "
        f"`snakemake --cores all --force {path}` (and rerun what depends on it with a plain `snakemake --cores all`)"
    )


def open_parquet(path: str | os.PathLike[str]) -> pq.ParquetFile:
    """Open a Parquet file with its page checksums verified on read; a truncated or unreadable file gives an
    :class:`IntermediateError` naming it and the command that rebuilds it."""
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise damaged(path, f"cannot be read as Parquet ({exc})") from exc
    rows = (pf.schema_arrow.metadata or {}).get(ROWS_KEY)
    if rows is not None and int(rows) != pf.metadata.num_rows:
        pf.close()
        raise damaged(path, f"holds {pf.metadata.num_rows} rows but was written with {int(rows)}")
    return pf


def read_table(path: str | os.PathLike[str], columns: list[str] | Callable[[str], bool] | None = None) -> Any:
    """A Parquet table as a pandas DataFrame, verified: page checksums, and the row count it was written with.

    ``columns`` names the columns to read, or is a test of a column's name (the file is opened once).
    """
    with open_parquet(path) as pf:
        if callable(columns):
            columns = [n for n in pf.schema_arrow.names if columns(n)]
        try:
            return pf.read(columns=columns).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise damaged(path, f"is damaged ({exc})") from exc


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
    """Write a pyarrow Table (or pandas DataFrame) atomically, with ``meta`` and its row count in the schema
    metadata and page checksums, so that :func:`read_table` detects a damaged or altered file."""
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    existing = dict(table.schema.metadata or {})
    if meta is not None:
        existing[PROVENANCE_KEY] = json.dumps(meta, default=str).encode()
    existing[ROWS_KEY] = str(table.num_rows).encode()
    table = table.replace_schema_metadata(existing)
    with atomic_path(path) as tmp:
        # page checksums: a flipped byte is caught on read (open_parquet), not read as a wrong number
        pq.write_table(table, tmp, write_page_checksum=True)


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
