"""Fine-tuned families: a pretrained encoder fine-tuned for chunking with a linear head, one instance per seed.

The encoder is any Hugging Face encoder (hub id, local directory or
``python:<package>``). Each CoNLL word is represented as in the pretrained
families (its pieces' last hidden state pooled by first, last or mean piece;
long sentences split into windows of whole words), and a dropout plus linear
head maps it to a chunk tag. The seed fixes the head's initialisation, the data
order, dropout and the training subset, so several seeds give several
BERT-type instances offline, the material of the cross-model analysis.

A fine-tuned instance is saved like the taggers trained here: ``model.pt``
(encoder and head weights), ``model.json`` (kind, source, labels, pooling,
encoder configuration) and the tokenizer's files beside them, so activation
dumps and model ablation reload it without the source model. Model ablation
zeroes neurons of one hidden state (0 = embeddings, i = output of encoder
layer i) through forward hooks, before the next layer reads them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from neurosieve.analysis.metrics import chunk_scores, token_accuracy
from neurosieve.models.pretrained import (
    POOLINGS,
    load_pretrained,
    max_pieces,
    pad_windows,
    special_affixes,
    window_sequences,
    word_pieces,
)
from neurosieve.models.taggers import apply_mask, load_model
from neurosieve.models.training import evaluate, length_batches, pick_device, seed_everything, subset_sentences
from neurosieve.store.corpus import label_set, sentences
from neurosieve.store.io import atomic_path, versions

log = logging.getLogger(__name__)


KIND = "finetuned"


class FineTunedTagger(nn.Module):
    """A pretrained encoder, pooled per word, then dropout and a linear chunk-tag head."""

    def __init__(self, encoder: nn.Module, num_labels: int, pooling: str = "last", dropout: float = 0.1):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def layer_dims(self) -> list[int]:
        """Width of each hidden state (embeddings first), as for the taggers trained here."""
        return [self.encoder.config.hidden_size] * (self.encoder.config.num_hidden_layers + 1)

    def forward(self, seqs: Sequence[tuple[list[int], list[int]]], n_words: int, pad_id: int) -> torch.Tensor:
        """Logits (words × labels) for the words the windows ``seqs`` cover (owners 0..n_words-1)."""
        device = self.head.weight.device
        batch = pad_windows(seqs, pad_id, self.pooling, device)
        hidden = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention).last_hidden_state
        pooled = torch.zeros(n_words, hidden.shape[-1], device=device, dtype=hidden.dtype)
        pooled = pooled.index_add(0, batch.owner, hidden[batch.rows, batch.cols])
        if self.pooling == "mean":
            counts = torch.zeros(n_words, device=device).index_add(
                0, batch.owner, torch.ones_like(batch.owner, dtype=torch.float)
            )
            pooled = pooled / counts[:, None]
        return self.head(self.drop(pooled))


def encoder_layer_modules(encoder: nn.Module) -> list[nn.Module]:
    """The modules whose outputs are hidden states 0..L: the embeddings, then each encoder layer.

    Works for BERT-style encoders (``embeddings`` plus a list of
    ``num_hidden_layers`` layers: BERT, RoBERTa, ELECTRA, MiniLM, DistilBERT's
    ``transformer.layer``); any other layout is a clear error.
    """
    n = encoder.config.num_hidden_layers
    embeddings = getattr(encoder, "embeddings", None)
    lists = [m for m in encoder.modules() if isinstance(m, nn.ModuleList) and len(m) == n]
    if embeddings is None or not lists:
        raise ValueError(
            f"{type(encoder).__name__}: cannot locate the embeddings and the {n} encoder layers to ablate neurons in"
        )
    return [embeddings, *lists[0]]


@contextlib.contextmanager
def neuron_masks(encoder: nn.Module, masks: Mapping[int, torch.Tensor] | None) -> Iterator[None]:
    """Ablate neurons of hidden state ``i`` by ``masks[i]`` while the context is open (see :func:`~neurosieve.models.taggers.apply_mask`:
    a 0/1 multiplier, or a stack of it and the values removed neurons take instead)."""
    modules = encoder_layer_modules(encoder)
    handles = []
    for layer, mask in (masks or {}).items():
        if not 0 <= layer < len(modules):
            raise ValueError(f"layer {layer} is not a hidden state of this encoder (0..{len(modules) - 1})")

        def hook(module: nn.Module, inputs: Any, output: Any, mask: torch.Tensor = mask) -> Any:
            if isinstance(output, tuple):
                return (apply_mask(output[0], mask.to(output[0].device, output[0].dtype)), *output[1:])
            return apply_mask(output, mask.to(output.device, output.dtype))

        handles.append(modules[layer].register_forward_hook(hook))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


class Windowing:
    """A tokenizer's word pieces and window settings, turning sentences into model inputs."""

    def __init__(self, tokenizer: Any, encoder: nn.Module, max_length: int | None = None):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.limit = max_pieces(tokenizer, encoder, max_length)
        self.prefix, self.suffix = special_affixes(tokenizer)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def inputs(self, pieces: Sequence[Sequence[Sequence[int]]]) -> tuple[list[tuple[list[int], list[int]]], int]:
        return window_sequences(pieces, self.limit, self.prefix, self.suffix)


@torch.no_grad()
def predict_finetuned(
    model: FineTunedTagger,
    windowing: Windowing,
    labels: Sequence[str],
    sents: Sequence[Sequence[str]],
    batch_size: int = 32,
    masks: Mapping[int, torch.Tensor] | None = None,
) -> list[list[str]]:
    """Predicted chunk tags per sentence; ``masks`` ablates neurons of hidden states (see :func:`neuron_masks`)."""
    model.eval()
    pieces = word_pieces(windowing.tokenizer, sents)
    lengths = np.array([sum(len(p) for p in s) for s in pieces])
    out: list[list[str]] = [[] for _ in sents]
    with neuron_masks(model.encoder, masks):
        for idx in length_batches(lengths, batch_size):
            seqs, n = windowing.inputs([pieces[i] for i in idx])
            pred = model(seqs, n, windowing.pad_id).argmax(-1).cpu().numpy()
            offset = 0
            for i in idx:
                out[i] = [labels[k] for k in pred[offset : offset + len(sents[i])]]
                offset += len(sents[i])
    return out


def evaluate_finetuned(
    model: FineTunedTagger,
    windowing: Windowing,
    labels: Sequence[str],
    tokens: pd.DataFrame,
    masks: Mapping[int, torch.Tensor] | None = None,
    batch_size: int = 32,
) -> dict[str, float]:
    """Chunk precision/recall/F1 (conlleval) and token accuracy on a token table."""
    gold = sentences(tokens, "chunk")
    pred = predict_finetuned(model, windowing, labels, sentences(tokens, "word"), batch_size, masks)
    return {**chunk_scores(gold, pred), "token_accuracy": token_accuracy(gold, pred)}


def finetune_tagger(
    train_tokens: pd.DataFrame,
    test_tokens: pd.DataFrame,
    spec: str,
    seed: int,
    train_params: Mapping[str, Any],
    pooling: str = "last",
    max_length: int | None = None,
    subset: float | None = None,
    device: str = "auto",
    progress: bool = True,
) -> tuple[FineTunedTagger, Any, list[str], dict[str, Any]]:
    """Fine-tune ``spec``'s encoder with a fresh linear head for chunking; return model, tokenizer, labels, metrics.

    AdamW with a linear warm-up and decay; the encoder and the head have their
    own learning rates (``lr``, ``head_lr``). The seed fixes the head's
    initialisation, data order, dropout and the training subset.
    """
    start = time.perf_counter()
    dev = pick_device(device)
    seed_everything(seed)
    tokenizer, encoder = load_pretrained(spec, dev)
    train_sents = sentences(train_tokens, "word")
    train_tags = sentences(train_tokens, "chunk")
    keep = subset_sentences(len(train_sents), subset, seed)
    train_sents = [train_sents[i] for i in keep]
    train_tags = [train_tags[i] for i in keep]
    labels = list(label_set(train_tokens["chunk"], test_tokens["chunk"]))
    index = {t: i for i, t in enumerate(labels)}
    torch.manual_seed(seed)
    model = FineTunedTagger(encoder, len(labels), pooling, float(train_params.get("dropout", 0.1))).to(dev)
    windowing = Windowing(tokenizer, encoder, max_length)
    pieces = word_pieces(tokenizer, train_sents)
    targets = [torch.tensor([index[t] for t in tags]) for tags in train_tags]
    lengths = np.array([sum(len(p) for p in s) for s in pieces])
    batch_size = int(train_params["batch_size"])
    epochs = int(train_params["epochs"])
    head = list(model.head.parameters())
    opt = torch.optim.AdamW(
        [
            {"params": list(model.encoder.parameters()), "lr": float(train_params["lr"])},
            {"params": head, "lr": float(train_params.get("head_lr", train_params["lr"]))},
        ],
        weight_decay=float(train_params.get("weight_decay", 0.0)),
    )
    total_steps = epochs * -(-len(train_sents) // batch_size)
    warm = max(1, int(round(float(train_params.get("warmup", 0.1)) * total_steps)))
    # Not transformers' get_linear_schedule_with_warmup: its warm-up starts at 0 (step s gets s/warm, not (s+1)/warm).
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total_steps - s) / max(1, total_steps - warm)))
    )
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    curve = []
    bar = tqdm(total=total_steps, desc=f"fine-tune {spec} seed {seed}", unit="batch", disable=not progress)
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for idx in length_batches(lengths, batch_size, rng):
            seqs, n = windowing.inputs([pieces[i] for i in idx])
            gold = torch.cat([targets[i] for i in idx]).to(dev)
            loss = loss_fn(model(seqs, n, windowing.pad_id), gold)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if train_params.get("clip"):
                nn.utils.clip_grad_norm_(model.parameters(), float(train_params["clip"]))
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
            bar.update(1)
        scores = evaluate_finetuned(model, windowing, labels, test_tokens)
        curve.append({"epoch": epoch, "train_loss": total / count, "test_f1": scores["f1"]})
        log.info("%s seed %d epoch %d: loss %.4f, test F1 %.2f", spec, seed, epoch, total / count, scores["f1"])
    bar.close()
    metrics = {
        "kind": KIND,
        "model": spec,
        "seed": seed,
        "test": scores,  # the last epoch's evaluation is the final model's
        "curve": curve,
        "train_sentences": len(train_sents),
        "labels": labels,
        "layer_dims": model.layer_dims,
        "device": str(dev),
        "wall_seconds": time.perf_counter() - start,
        "settings": {"train": dict(train_params), "pooling": pooling, "max_length": max_length, "subset": subset},
        "versions": versions(),
    }
    return model.eval(), tokenizer, labels, metrics


def save_finetuned(
    model: FineTunedTagger,
    tokenizer: Any,
    labels: Sequence[str],
    directory: str | os.PathLike[str],
    spec: str,
    max_length: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Save the tokenizer's files, then ``model.pt`` (weights), then ``model.json`` (written last: it marks completion)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(d)
    with atomic_path(d / "model.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    cfg = model.encoder.config.to_dict()
    spec_json = {
        "kind": KIND,
        "source": spec,
        "labels": list(labels),
        "pooling": model.pooling,
        "dropout": model.drop.p,
        "max_length": max_length,
        "encoder_config": cfg,
        **(extra or {}),
    }
    with atomic_path(d / "model.json") as tmp:
        tmp.write_text(json.dumps(spec_json, default=str))


def is_finetuned(directory: str | os.PathLike[str]) -> bool:
    """Whether a saved model directory holds a fine-tuned encoder (else a tagger trained here)."""
    spec = Path(directory) / "model.json"
    return spec.is_file() and json.loads(spec.read_text()).get("kind") == KIND


def load_finetuned(
    directory: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[FineTunedTagger, Windowing, list[str]]:
    """Reload a fine-tuned instance saved by :func:`save_finetuned` (no access to its source model), in eval mode."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    d = Path(directory)
    if not is_finetuned(d) or not (d / "model.pt").is_file():
        raise FileNotFoundError(
            f"{d}: not a saved fine-tuned model (model.json of kind {KIND!r} and model.pt expected)"
        )
    spec = json.loads((d / "model.json").read_text())
    cfg = dict(spec["encoder_config"])
    config = AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    encoder = AutoModel.from_config(config)
    model = FineTunedTagger(encoder, len(spec["labels"]), spec["pooling"], spec["dropout"])
    model.load_state_dict(torch.load(d / "model.pt", map_location="cpu", weights_only=True))
    tokenizer = AutoTokenizer.from_pretrained(d, use_fast=True)
    model = model.to(device).eval()
    return model, Windowing(tokenizer, model.encoder, spec["max_length"]), spec["labels"]


def masked_evaluator(
    model_dir: str | os.PathLike[str], tokens: pd.DataFrame, device: str | torch.device = "cpu"
) -> tuple[list[int], Any]:
    """Layer widths of a saved model (fine-tuned or trained here), and ``f(masks) -> chunk scores`` on ``tokens``.

    ``masks`` maps a layer index to a (neurons,) 0/1 tensor; model ablation
    calls ``f`` once per removal, whatever the kind of model.
    """
    if is_finetuned(model_dir):
        model, windowing, labels = load_finetuned(model_dir, device)
        return model.layer_dims, lambda masks: evaluate_finetuned(model, windowing, labels, tokens, masks)

    tagger, vocab = load_model(model_dir, device)
    return tagger.layer_dims, lambda masks: evaluate(tagger, vocab, tokens, masks=masks)
