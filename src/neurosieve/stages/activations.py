"""Activation stages (workflow edge): a saved tagger, a fine-tuned encoder or a pretrained encoder
run over a token table, every requested layer written as one activation table."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from neurosieve.models.extract import tagger_extractor
from neurosieve.models.finetuning import is_finetuned, load_finetuned
from neurosieve.models.modelspec import resolve_model_spec  # noqa: F401 (part of this module's interface)
from neurosieve.models.pretrained import (
    load_pretrained,
    pretrained_extractor,
)
from neurosieve.models.taggers import load_model
from neurosieve.models.training import pick_device
from neurosieve.settings import EncoderActivationSettings, TaggerActivationSettings
from neurosieve.store.activations import write_activations
from neurosieve.store.corpus import read_tokens
from neurosieve.store.io import provenance


def _layers(layers: Sequence[int] | None) -> list[int] | None:
    return None if layers is None else list(layers)


def run_tagger_activations(
    model_dir: str | os.PathLike[str],
    tokens_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    settings: TaggerActivationSettings,
) -> list[int]:
    """The activation job of a model saved here (a tagger or a fine-tuned encoder) over one split (workflow edge)."""
    s = settings
    return dump_tagger_activations(
        model_dir,
        tokens_path,
        out_path,
        batch_size=s.batch_size,
        device=s.device,
        unk_rate=s.unk_rate,
        seed=s.seed,
        layers=_layers(s.layers),
        dtype=s.dtype,
    )


def run_encoder_activations(
    spec: str,
    tokens_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    settings: EncoderActivationSettings,
) -> list[int]:
    """The activation job of a pretrained encoder (or the untrained baseline of one) over one split (workflow edge)."""
    s = settings
    return dump_pretrained_activations(
        spec,
        tokens_path,
        out_path,
        pooling=s.pooling,
        batch_size=s.batch_size,
        max_length=s.max_length,
        device=s.device,
        random_init_seed=s.random_init_seed,
        layers=_layers(s.layers),
        dtype=s.dtype,
    )


def dump_tagger_activations(
    model_dir: str | os.PathLike[str],
    tokens_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    batch_size: int = 64,
    device: str = "auto",
    settings: Mapping[str, Any] | None = None,
    unk_rate: float = 0.0,
    seed: int = 0,
    layers: Sequence[int] | None = None,
    dtype: str = "float32",
) -> list[int]:
    """Dump every layer (or only ``layers``) of a saved tagger over a token table, stored as ``dtype`` (workflow edge).

    See :func:`tagger_extractor` for ``unk_rate``. A fine-tuned encoder's
    directory is dumped by :func:`neurosieve.stages.activations.dump_finetuned_activations`.
    """

    if is_finetuned(model_dir):
        return dump_finetuned_activations(model_dir, tokens_path, out_path, batch_size, device, layers, dtype)

    model, vocab = load_model(model_dir, pick_device(device))
    meta = provenance(
        {
            "model": str(model_dir),
            "tokens": str(tokens_path),
            "batch_size": batch_size,
            "unk_rate": unk_rate,
            **(settings or {}),
        },
        seed,
    )
    extract = tagger_extractor(model, vocab, batch_size, unk_rate, seed, layers)
    return write_activations(read_tokens(tokens_path), extract, out_path, meta, layers=layers, dtype=dtype)


def dump_finetuned_activations(
    model_dir: str | os.PathLike[str],
    tokens_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    batch_size: int = 32,
    device: str = "auto",
    layers: Sequence[int] | None = None,
    dtype: str = "float32",
) -> list[int]:
    """Dump every hidden state (or only ``layers``) of a fine-tuned encoder, pooled per word as it was trained (workflow edge)."""

    model, windowing, _ = load_finetuned(model_dir, pick_device(device))
    meta = provenance(
        {"model": str(model_dir), "tokens": str(tokens_path), "batch_size": batch_size, "pooling": model.pooling}
    )
    extract = pretrained_extractor(
        windowing.tokenizer, model.encoder, model.pooling, batch_size, windowing.max_length, layers
    )
    return write_activations(read_tokens(tokens_path), extract, out_path, meta, layers=layers, dtype=dtype)


def dump_pretrained_activations(
    spec: str,
    tokens_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    pooling: str = "last",
    batch_size: int = 32,
    max_length: int | None = None,
    device: str = "auto",
    random_init_seed: int | None = None,
    layers: Sequence[int] | None = None,
    dtype: str = "float32",
) -> list[int]:
    """Dump every hidden state (or only ``layers``) of a pretrained encoder, pooled per CoNLL word, over a token
    table, stored as ``dtype`` (workflow edge).

    ``random_init_seed`` dumps the untrained baseline: the same architecture at a seeded random initialisation.
    """

    tokenizer, model = load_pretrained(spec, pick_device(device), random_init_seed)
    settings = {
        "model": spec,
        "pooling": pooling,
        "batch_size": batch_size,
        "max_length": max_length,
        "random_init_seed": random_init_seed,
    }
    meta = provenance({**settings, "tokens": str(tokens_path)})
    extract = pretrained_extractor(tokenizer, model, pooling, batch_size, max_length, layers)
    return write_activations(read_tokens(tokens_path), extract, out_path, meta, layers=layers, dtype=dtype)


__all__ = ["dump_tagger_activations", "run_encoder_activations", "run_tagger_activations"]
