"""Activation tables: every layer's activation for every token, one Parquet file per (family, instance, split).

Columns: the token key (``sentence``, ``position``, ``word`` and the corpus's other fields,
for CoNLL-2000 ``pos`` and ``chunk``),
then ``layer_0`` … ``layer_L``, each a fixed-size list of float32 (one row per
token). Reading one layer reads only its column and becomes a (tokens ×
neurons) array without a per-row copy. Files are written a block of sentences
at a time (one row group each), so memory stays bounded by the block.
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
import torch
from tqdm.auto import tqdm

from .data import field_columns, sentences, token_table_to_arrow
from .io import PROVENANCE_KEY, atomic_path
from .models import Tagger, Vocab
from .training import length_batches, make_batch

#: A function from a list of sentences (lists of words) to one (tokens × neurons) float32 array per layer.
Extractor = Callable[[Sequence[Sequence[str]]], list[np.ndarray]]


def layer_name(i: int) -> str:
    """Column name of layer ``i`` (0 is the embedding layer)."""
    return f"layer_{i}"


def _fixed_list(values: np.ndarray) -> pa.FixedSizeListArray:
    values = np.ascontiguousarray(values, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def write_activations(
    tokens: pd.DataFrame,
    extract: Extractor,
    path: str | os.PathLike[str],
    meta: Mapping[str, Any],
    block_sentences: int = 1024,
    progress: bool = True,
) -> list[int]:
    """Run ``extract`` over the sentences of ``tokens`` a block at a time and stream the table to ``path``.

    Returns the width of each layer. The file appears only once complete.
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
                layers = extract(block)
                key = token_table_to_arrow(tokens.iloc[starts[b] : starts[b + len(block)]])
                n = len(key)
                for i, arr in enumerate(layers):
                    if arr.shape[0] != n:
                        raise ValueError(f"layer {i}: {arr.shape[0]} rows for {n} tokens")
                    key = key.append_column(layer_name(i), _fixed_list(arr))
                if writer is None:
                    dims = [a.shape[1] for a in layers]
                    md = {PROVENANCE_KEY: json.dumps({**meta, "layer_dims": dims}, default=str).encode()}
                    # The key columns are re-encoded per block; store them plain so blocks share one schema.
                    schema = key.schema.with_metadata(md)
                    schema = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema], metadata=md)
                    writer = pq.ParquetWriter(tmp, schema, use_dictionary=field_columns(schema.names))
                writer.write_table(key.cast(writer.schema))
                bar.update(len(block))
            bar.close()
        finally:
            if writer is not None:
                writer.close()
    return dims


def activation_layers(path: str | os.PathLike[str]) -> list[str]:
    """Names of the layer columns of an activation file."""
    return [n for n in pq.read_schema(path).names if n.startswith("layer_")]


def read_layer(path: str | os.PathLike[str], layer: int | str) -> np.ndarray:
    """One layer of an activation file as a (tokens × neurons) float32 array, reading only its column."""
    name = layer if isinstance(layer, str) else layer_name(layer)
    if name not in activation_layers(path):
        raise KeyError(f"{path}: no column {name!r}; layers are {activation_layers(path)}")
    col = pq.read_table(path, columns=[name]).column(name).combine_chunks()
    width = col.type.list_size
    return col.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)


def read_keys(path: str | os.PathLike[str], derived: bool = True) -> pd.DataFrame:
    """The token key columns of an activation file (every column but the layers).

    With ``derived`` the derived token properties the corpus supports
    (:func:`neurosieve.properties.add_derived`: position bins, capitalisation, ...)
    are appended, so every consumer can use them as it uses ``pos``.
    """
    from .properties import add_derived

    names = [n for n in pq.read_schema(path).names if not n.startswith("layer_")]
    keys = pq.read_table(path, columns=names).to_pandas()
    return add_derived(keys) if derived else keys


def tagger_extractor(model: Tagger, vocab: Vocab, batch_size: int = 64) -> Extractor:
    """An :data:`Extractor` for a tagger trained here: all layers, batched by length, in eval mode."""
    device = next(model.parameters()).device

    @torch.no_grad()
    def extract(block: Sequence[Sequence[str]]) -> list[np.ndarray]:
        model.eval()
        encoded = [vocab.encode_words(s) for s in block]
        lengths = np.array([len(s) for s in block])
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        out = [np.empty((offsets[-1], d), dtype=np.float32) for d in model.layer_dims]
        for idx in length_batches(lengths, batch_size):
            b = make_batch(idx, encoded, None).to(device)
            layers = model(b.words, b.shapes, b.lengths)[1]
            layers = [h.float().cpu().numpy() for h in layers]
            for row, i in enumerate(idx):
                for arr, h in zip(out, layers):
                    arr[offsets[i] : offsets[i + 1]] = h[row, : lengths[i]]
        return out

    return extract


__all__ = [
    "activation_layers",
    "dump_tagger_activations",
    "layer_name",
    "read_keys",
    "read_layer",
    "tagger_extractor",
    "write_activations",
]


def dump_tagger_activations(
    model_dir: str | os.PathLike[str],
    tokens_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    batch_size: int = 64,
    device: str = "auto",
    settings: Mapping[str, Any] | None = None,
) -> list[int]:
    """Dump every layer of a saved tagger over a token table (workflow edge)."""
    from .data import read_tokens
    from .io import provenance
    from .models import load_model
    from .training import pick_device

    model, vocab = load_model(model_dir, pick_device(device))
    meta = provenance({"model": str(model_dir), "tokens": str(tokens_path), "batch_size": batch_size, **(settings or {})})
    return write_activations(read_tokens(tokens_path), tagger_extractor(model, vocab, batch_size), out_path, meta)
