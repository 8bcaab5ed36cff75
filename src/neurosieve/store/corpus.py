"""CoNLL-2000: obtaining the files, verifying them, and parsing them into token tables.

A token table has one row per token: ``sentence`` (0-based id within the
split), ``position`` (0-based index within the sentence), ``word``, ``pos`` and
``chunk``. Strings are stored dictionary-encoded in Parquet.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from neurosieve.core.corpus import (
    CANONICAL_SHA256,
    CANONICAL_URLS,
    CONLL2000_COLUMNS,
    EXPECTED_COUNTS,
    KEY_COLUMNS,
    SPLITS,
    TOKEN_COLUMNS,
    DataError,
    check_columns,
    is_url,
    local_split_file,
)
from neurosieve.store.io import provenance, read_table, write_parquet


def parse_conll(
    text: str | bytes, source: str = "<string>", columns: Sequence[str] = CONLL2000_COLUMNS, comment: str | None = None
) -> pd.DataFrame:
    """Parse column-format text (one token per line, whitespace-separated fields named by ``columns``,
    a blank line between sentences) into a token table. CoNLL-2000 is ``word POS chunk``.

    Lines starting with ``comment`` (e.g. ``"# "`` for CoNLL-U) are skipped when it is given. A line
    without exactly ``len(columns)`` fields, or an input without tokens, is a :class:`DataError`
    naming ``source`` and the 1-based line number.
    """
    columns = check_columns(columns, f"{source}: columns")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{source}: not UTF-8 text ({exc})") from exc
    sent_ids: list[int] = []
    positions: list[int] = []
    fields_per_token: list[list[str]] = []
    sent, pos = 0, 0
    width = len(columns)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if comment and line.startswith(comment):
            continue
        fields = line.split()
        if not fields:
            if pos:
                sent, pos = sent + 1, 0
            continue
        if len(fields) != width:
            raise DataError(
                f"{source}, line {lineno}: expected {width} fields ({' '.join(columns)}), got {len(fields)}: {line!r}"
            )
        sent_ids.append(sent)
        positions.append(pos)
        fields_per_token.append(fields)
        pos += 1
    if not fields_per_token:
        raise DataError(f"{source}: no tokens (empty file?)")
    values = list(zip(*fields_per_token))
    table = {"sentence": np.asarray(sent_ids, dtype=np.int32), "position": np.asarray(positions, dtype=np.int32)}
    for name, col in zip(columns, values):
        table[name] = list(col) if name == "word" else pd.Categorical(col)
    return pd.DataFrame(table)


def first_sentences(tokens: pd.DataFrame, n: int | None) -> pd.DataFrame:
    """The first ``n`` sentences of a token table (all of them when ``n`` is None)."""
    if n is None:
        return tokens
    return tokens[tokens["sentence"] < n].reset_index(drop=True)


def check_counts(tokens: pd.DataFrame, split: str, source: str) -> None:
    """Raise unless a full split has the published sentence and token counts."""
    want = EXPECTED_COUNTS[split]
    got = (int(tokens["sentence"].nunique()), len(tokens))
    if got != want:
        raise DataError(f"{source}: {got[0]} sentences / {got[1]} tokens, expected {want[0]} / {want[1]}")


def token_table_to_arrow(tokens: pd.DataFrame) -> pa.Table:
    """A token table as Arrow: the key columns as int32, every field column as dictionary-encoded strings."""
    table = {c: pa.array(tokens[c].to_numpy(np.int32)) for c in KEY_COLUMNS}
    for c in field_columns(tokens.columns):
        table[c] = pa.array(tokens[c].astype(str).tolist()).dictionary_encode()
    return pa.table(table)


def field_columns(columns: Sequence[str]) -> list[str]:
    """The corpus fields among a table's columns (everything but the key and ``layer_*`` columns)."""
    return [c for c in columns if c not in KEY_COLUMNS and not str(c).startswith("layer_")]


def build_token_table(
    raw_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    split: str,
    max_sentences: int | None = None,
    columns: Sequence[str] = CONLL2000_COLUMNS,
    comment: str | None = None,
    check_published_counts: bool = True,
) -> pd.DataFrame:
    """Parse a verified split into its Parquet token table (optionally only its first sentences).

    ``columns`` and ``comment`` describe a user's column-format corpus (see
    :func:`parse_conll`); CoNLL-2000's published counts are checked only for
    CoNLL-2000 itself (``check_published_counts``).
    """
    raw_path = Path(raw_path)
    tokens = parse_conll(raw_path.read_bytes(), str(raw_path), columns, comment)
    if max_sentences is None and check_published_counts and split in EXPECTED_COUNTS:
        check_counts(tokens, split, str(raw_path))
    tokens = first_sentences(tokens, max_sentences)
    meta = provenance(
        {"split": split, "max_sentences": max_sentences, "source": str(raw_path), "columns": list(columns)}
    )
    meta["counts"] = {"sentences": int(tokens["sentence"].nunique()), "tokens": len(tokens)}
    write_parquet(token_table_to_arrow(tokens), out_path, meta)
    return tokens


def read_tokens(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a token table (verified: :func:`neurosieve.store.io.read_table`); string columns come back as pandas
    categoricals."""
    return read_table(path)


def sentences(tokens: pd.DataFrame, column: str = "word") -> list[list[str]]:
    """Group one column of a token table into per-sentence lists, in sentence order."""
    values = tokens[column].astype(str).to_numpy()
    starts = np.flatnonzero(tokens["position"].to_numpy() == 0)
    bounds = list(starts[1:]) + [len(values)]
    return [values[s:e].tolist() for s, e in zip(starts, bounds)]


def label_set(*columns: Sequence[str]) -> list[str]:
    """The sorted union of labels over several splits (CoNLL-2000 has chunk tags in test only)."""
    out: set[str] = set()
    for col in columns:
        out.update(map(str, col))
    return sorted(out)


def label_codes(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct labels and each label's index among them: ``np.unique(values, return_inverse=True)``.

    By hashing instead of sorting every token (``np.unique`` sorts 200k strings
    per call, a large share of a probe job's time outside its fits); the
    distinct values keep the input's dtype, and input of any shape is flattened
    as ``np.unique`` does. A missing label (None or NaN in an object array) is an
    error, naming the first token that has one.
    """
    arr = np.asarray(values).ravel()
    if arr.dtype == object:
        missing = pd.isna(arr)
        if missing.any():
            raise ValueError(
                f"{int(missing.sum())} missing labels (the first at token {int(np.flatnonzero(missing)[0])})"
            )
    codes, uniques = pd.factorize(arr, sort=True, use_na_sentinel=False)
    return np.asarray(uniques, dtype=arr.dtype), codes.astype(np.intp)


__all__ = [  # the corpus contract (neurosieve.core.corpus) is re-exported for the readers of this module
    "CANONICAL_SHA256",
    "CANONICAL_URLS",
    "CONLL2000_COLUMNS",
    "DataError",
    "EXPECTED_COUNTS",
    "KEY_COLUMNS",
    "build_token_table",
    "check_columns",
    "check_counts",
    "field_columns",
    "first_sentences",
    "is_url",
    "label_codes",
    "label_set",
    "parse_conll",
    "read_tokens",
    "SPLITS",
    "TOKEN_COLUMNS",
    "local_split_file",
    "sentences",
]
