"""Training stages (workflow edge): one tagger trained here, or one encoder fine-tuned for chunking,
per (family, seed), saved with its metrics."""

from __future__ import annotations

import logging
from typing import Any

from neurosieve.models.finetuning import finetune_tagger, save_finetuned
from neurosieve.models.taggers import save_model
from neurosieve.models.training import train_tagger
from neurosieve.settings import FinetuneSettings, TrainSettings
from neurosieve.store.corpus import read_tokens
from neurosieve.store.io import write_json

log = logging.getLogger(__name__)


def run_training(
    train_path: str,
    test_path: str,
    model_dir: str,
    metrics_path: str,
    settings: TrainSettings,
    seed: int,
    order_seed: int | None = None,
) -> dict[str, Any]:
    """Train one (family, seed) from token tables and save the model and its metrics (workflow edge).

    ``order_seed`` trains a near-twin of ``seed`` (see :func:`train_tagger`).
    """

    kind = settings.kind
    model, vocab, metrics = train_tagger(
        read_tokens(train_path),
        read_tokens(test_path),
        kind,
        seed,
        settings.model,
        settings.train,
        settings.subset,
        settings.device,
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
    settings: FinetuneSettings,
    seed: int,
) -> dict[str, Any]:
    """Fine-tune one (family, seed) from token tables; save the model and its metrics (workflow edge)."""

    s, spec = settings, settings.model
    model, tokenizer, labels, metrics = finetune_tagger(
        read_tokens(train_path),
        read_tokens(test_path),
        spec,
        seed,
        s.train,
        s.pooling,
        s.max_length,
        s.subset,
        s.device,
    )
    save_finetuned(model, tokenizer, labels, model_dir, spec, s.max_length, {"seed": seed, "metrics": metrics["test"]})
    write_json(metrics, metrics_path)
    log.info("%s seed %d: test chunk F1 %.2f in %.0fs", spec, seed, metrics["test"]["f1"], metrics["wall_seconds"])
    return metrics
