"""Activation tables: every layer's activation for every token, one Parquet file per (family, instance, split).

Columns: the token key (``sentence``, ``position``, ``word`` and the corpus's other fields,
for CoNLL-2000 ``pos`` and ``chunk``),
then ``layer_0`` … ``layer_L``, each a fixed-size list of float32, or of
float16 when stored at half precision (one row per token). A dump may hold
only some layers (``layer_2``, ``layer_12``: the names keep the model's layer
index). Reading one layer reads only its column and becomes a (tokens ×
neurons) float32 array, whatever the stored precision. Files are written a
block of sentences at a time (one row group each), so memory stays bounded by
the block; no stage ever reads more than the layer it analyses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from neurosieve.store.corpus import field_columns, sentences, token_table_to_arrow
from neurosieve.store.io import PROVENANCE_KEY, atomic_path, damaged, open_parquet, read_table
from neurosieve.store.properties import add_derived

#: A function from a list of sentences (lists of words) to one (tokens × neurons) float32 array per layer.
Extractor = Callable[[Sequence[Sequence[str]]], list[np.ndarray]]


def layer_name(i: int) -> str:
    """Column name of layer ``i`` (0 is the embedding layer)."""
    return f"layer_{i}"


#: Storage precisions of activation files: float32 (exact) or float16 (half the disk; read back as float32).
STORAGE_DTYPES = ("float32", "float16")


def _fixed_list(values: np.ndarray, dtype: str = "float32") -> pa.FixedSizeListArray:
    if dtype not in STORAGE_DTYPES:
        raise ValueError(f"activation storage dtype must be one of {STORAGE_DTYPES}, got {dtype!r}")
    if dtype == "float16":
        big = np.abs(values) > np.finfo(np.float16).max
        if big.any():
            raise ValueError(
                f"{int(big.sum())} activations exceed float16's range (±65504); store this model as float32"
            )
    values = np.ascontiguousarray(values, dtype=dtype)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def select_layers(layers: Sequence[np.ndarray], wanted: Sequence[int] | None) -> list[tuple[int, np.ndarray]]:
    """(index, array) of the wanted layers of an extractor's output (all when ``wanted`` is None)."""
    if wanted is None:
        return list(enumerate(layers))
    bad = [i for i in wanted if not 0 <= i < len(layers)]
    if bad:
        raise ValueError(f"layers {bad} requested, but the model has layers 0..{len(layers) - 1}")
    return [(i, layers[i]) for i in wanted]


def write_activations(
    tokens: pd.DataFrame,
    extract: Extractor,
    path: str | os.PathLike[str],
    meta: Mapping[str, Any],
    block_sentences: int = 1024,
    progress: bool = True,
    layers: Sequence[int] | None = None,
    dtype: str = "float32",
) -> list[int]:
    """Run ``extract`` over the sentences of ``tokens`` a block at a time and stream the table to ``path``.

    ``layers`` names the extractor's outputs when it was built to return only
    those layer indices (None: it returns every layer, 0 first); ``dtype`` is the storage precision (see :data:`STORAGE_DTYPES`). Returns
    the width of each stored layer. The file appears only once complete.
    """
    words = sentences(tokens, "word")
    starts = np.concatenate([[0], np.cumsum([len(s) for s in words])])
    writer = None
    dims: list[int] = []
    with atomic_path(path) as tmp:
        try:
            bar = tqdm(total=len(words), desc=f"activations {Path(path).name}", unit="sent", disable=not progress)
            for b in range(0, len(words), block_sentences):
                block = words[b : b + block_sentences]
                out = extract(block)
                if layers is not None and len(out) != len(layers):
                    raise ValueError(
                        f"the extractor returned {len(out)} layers for the {len(layers)} requested ({list(layers)})"
                    )
                chosen = list(enumerate(out)) if layers is None else list(zip(layers, out))
                key = token_table_to_arrow(tokens.iloc[starts[b] : starts[b + len(block)]])
                n = len(key)
                for i, arr in chosen:
                    if arr.shape[0] != n:
                        raise ValueError(f"layer {i}: {arr.shape[0]} rows for {n} tokens")
                    key = key.append_column(layer_name(i), _fixed_list(arr, dtype))
                if writer is None:
                    dims = [a.shape[1] for _, a in chosen]
                    info = {"layer_dims": dims, "layers": [i for i, _ in chosen], "dtype": dtype}
                    md = {PROVENANCE_KEY: json.dumps({**meta, **info}, default=str).encode()}
                    # The key columns are re-encoded per block; store them plain so blocks share one schema.
                    schema = key.schema.with_metadata(md)
                    schema = pa.schema(
                        [f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema],
                        metadata=md,
                    )
                    writer = pq.ParquetWriter(
                        tmp, schema, use_dictionary=field_columns(schema.names), write_page_checksum=True
                    )
                writer.write_table(key.cast(writer.schema))
                bar.update(len(block))
            bar.close()
        finally:
            if writer is not None:
                writer.close()
    return dims


def row_count(path: str | os.PathLike[str]) -> int:
    """How many tokens (rows) an activation file holds, from its Parquet footer (no column is read)."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def activation_layers(path: str | os.PathLike[str]) -> list[str]:
    """Names of the layer columns of an activation file."""
    return [n for n in pq.read_schema(path).names if n.startswith("layer_")]


def stored_dtype(path: str | os.PathLike[str], layer: int | str) -> np.dtype:
    """The precision a layer is stored in (float16 or float32; :func:`read_layer` widens both to float32)."""
    name = layer if isinstance(layer, str) else layer_name(layer)
    return np.dtype(pq.read_schema(path).field(name).type.value_type.to_pandas_dtype())


def read_layer(path: str | os.PathLike[str], layer: int | str) -> np.ndarray:
    """One layer of an activation file as a writable (tokens × neurons) float32 array, reading only its column.

    A float16 column is widened to float32 here, so every stage computes in float32.
    """
    return read_layers(path, [layer])[0]


def read_layers(
    path: str | os.PathLike[str], layers: Sequence[int | str], *, stored: bool = False
) -> tuple[np.ndarray, list[int]]:
    """Several layers side by side as one writable (tokens × neurons of every layer) float32 array, and each
    layer's width.

    Each layer is read straight into its own columns, so the result equals
    ``np.concatenate([read_layer(path, n) for n in layers], axis=1)`` without holding the layers twice: the
    all-layers pool of a BERT-base model over CoNLL-2000's train split is 8.5 GB once. With ``stored`` and
    every layer stored as float16, the array stays float16 (4.3 GB for that pool, the file's values exactly):
    the probes widen it a batch of rows at a time (:func:`neurosieve.analysis.probe.activation_matrix`).
    """
    names = [layer if isinstance(layer, str) else layer_name(layer) for layer in layers]
    with open_parquet(path) as pf:
        for name in names:
            if name not in pf.schema_arrow.names:
                raise KeyError(f"{path}: no column {name!r}; layers are {activation_layers(path)}")
        widths = [pf.schema_arrow.field(name).type.list_size for name in names]
        half = [pa.types.is_float16(pf.schema_arrow.field(name).type.value_type) for name in names]
        dtype = np.float16 if stored and names and all(half) else np.float32
        out = np.empty((pf.metadata.num_rows, sum(widths)), dtype=dtype)
        col = 0
        for name, width in zip(names, widths):
            # One row group at a time into the layer's columns: Arrow's buffers stay one block's size, and the
            # assignment widens float16 and detaches the values from Arrow's read-only memory in one pass.
            start = 0
            try:
                for g in range(pf.num_row_groups):
                    for chunk in pf.read_row_group(g, columns=[name]).column(name).chunks:
                        values = chunk.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
                        out[start : start + len(values), col : col + width] = values
                        start += len(values)
            except (OSError, pa.ArrowException) as exc:
                raise damaged(path, f"column {name!r} is damaged ({exc})") from exc
            if start != len(out):
                raise ValueError(f"{path}: column {name!r} holds {start} rows, the file's metadata says {len(out)}")
            col += width
    return out, widths


def read_keys(path: str | os.PathLike[str], derived: bool = True) -> pd.DataFrame:
    """The token key columns of an activation file (every column but the layers).

    With ``derived`` the derived token properties the corpus supports
    (:func:`neurosieve.core.properties.add_derived`: position bins, capitalisation, ...)
    are appended, so every consumer can use them as it uses ``pos``.
    """

    keys = read_table(path, columns=lambda name: not name.startswith("layer_"))
    return add_derived(keys) if derived else keys


__all__ = [
    "activation_layers",
    "layer_name",
    "read_keys",
    "read_layer",
    "stored_dtype",
    "read_layers",
    "select_layers",
    "write_activations",
]
