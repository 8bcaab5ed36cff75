"""Training stages (workflow edge): one tagger trained here, or one encoder fine-tuned for chunking,
per (family, seed), saved with its metrics."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from neurosieve.models.finetuning import finetune_tagger, save_finetuned
from neurosieve.models.taggers import save_model
from neurosieve.models.training import train_tagger
from neurosieve.store.corpus import read_tokens
from neurosieve.store.io import write_json

log = logging.getLogger(__name__)


def run_training(
    train_path: str,
    test_path: str,
    model_dir: str,
    metrics_path: str,
    kind: str,
    seed: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    subset: float | None = None,
    device: str = "auto",
    order_seed: int | None = None,
) -> dict[str, Any]:
    """Train one (family, seed) from token tables and save the model and its metrics (workflow edge).

    ``order_seed`` trains a near-twin of ``seed`` (see :func:`train_tagger`).
    """

    model, vocab, metrics = train_tagger(
        read_tokens(train_path),
        read_tokens(test_path),
        kind,
        seed,
        model_params,
        train_params,
        subset,
        device,
        order_seed=order_seed,
    )
    save_model(model, vocab, model_dir, {"seed": seed, "order_seed": metrics["order_seed"], "metrics": metrics["test"]})
    write_json(metrics, metrics_path)
    log.info("%s seed %d: test chunk F1 %.2f in %.0fs", kind, seed, metrics["test"]["f1"], metrics["wall_seconds"])
    return metrics


def run_finetuning(
    train_path: str,
    test_path: str,
    model_dir: str,
    metrics_path: str,
    spec: str,
    seed: int,
    train_params: Mapping[str, Any],
    pooling: str = "last",
    max_length: int | None = None,
    subset: float | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Fine-tune one (family, seed) from token tables; save the model and its metrics (workflow edge)."""

    model, tokenizer, labels, metrics = finetune_tagger(
        read_tokens(train_path), read_tokens(test_path), spec, seed, train_params, pooling, max_length, subset, device
    )
    save_finetuned(model, tokenizer, labels, model_dir, spec, max_length, {"seed": seed, "metrics": metrics["test"]})
    write_json(metrics, metrics_path)
    log.info("%s seed %d: test chunk F1 %.2f in %.0fs", spec, seed, metrics["test"]["f1"], metrics["wall_seconds"])
    return metrics
