"""The corpus contract, light: split names, canonical sources and counts, the token table's key columns, the
corpus error, and the checks parsing the workflow makes on a config's corpus (no file is read here).

Standard library only, so that parsing the workflow imports nothing heavy; reading, verifying and parsing
the files is :mod:`neurosieve.store.corpus`.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

SPLITS = ("train", "test")


CANONICAL_URLS = {
    "train": "https://www.clips.uantwerpen.be/conll2000/chunking/train.txt.gz",
    "test": "https://www.clips.uantwerpen.be/conll2000/chunking/test.txt.gz",
}


#: sha256 of the *decompressed* text (the gzip wrapper differs between mirrors).
CANONICAL_SHA256 = {
    "train": "82033cd7a72b209923a98007793e8f9de3abc1c8b79d646c50648eb949b87cea",
    "test": "73b7b1e565fa75a1e22fe52ecdf41b6624d6f59dacb591d44252bf4d692b1628",
}


#: (sentences, tokens) of the full splits.
EXPECTED_COUNTS = {"train": (8936, 211727), "test": (2012, 47377)}


TOKEN_COLUMNS = ("sentence", "position", "word", "pos", "chunk")


#: CoNLL-2000's fields, in file order; a user's column-format corpus names its own (``word`` required).
CONLL2000_COLUMNS = ("word", "pos", "chunk")


#: Columns every token table has before the file's own fields.
KEY_COLUMNS = ("sentence", "position")


class DataError(ValueError):
    """Bad CoNLL-2000 input: names the file and, where there is one, the line."""


def local_split_file(local_dir: str | os.PathLike[str], split: str) -> Path | None:
    """The file of ``split`` in a local directory: ``{split}.txt.gz``, else ``{split}.txt``, else None."""
    for name in (f"{split}.txt.gz", f"{split}.txt"):
        if (Path(local_dir) / name).is_file():
            return Path(local_dir) / name
    return None


def is_url(location: str) -> bool:
    """Whether a corpus location is a URL (http, https, ftp or file) rather than a path."""
    return urllib.parse.urlparse(str(location)).scheme in ("http", "https", "ftp", "file")


def check_columns(columns: Sequence[str], source: str = "data.corpus.columns") -> tuple[str, ...]:
    """Validate the field names of a column-format corpus: ``word`` present, names unique, none reserved."""
    cols = tuple(columns)
    problems = []
    if "word" not in cols:
        problems.append("needs a 'word' column")
    if len(set(cols)) != len(cols):
        problems.append("column names must be unique")
    reserved = [c for c in cols if c in KEY_COLUMNS or c.startswith("layer_")]
    if reserved:
        problems.append(f"reserved name(s) {reserved} (sentence, position and layer_* are the workflow's own)")
    if problems:
        raise DataError(f"{source} {list(cols)}: " + "; ".join(problems))
    return cols


__all__ = [
    "CANONICAL_SHA256",
    "CANONICAL_URLS",
    "CONLL2000_COLUMNS",
    "DataError",
    "EXPECTED_COUNTS",
    "KEY_COLUMNS",
    "SPLITS",
    "TOKEN_COLUMNS",
    "check_columns",
    "is_url",
    "local_split_file",
]
