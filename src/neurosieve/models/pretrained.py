"""Pretrained Hugging Face encoders as model instances: loading, and word-level activations from subword pieces.

Each CoNLL word becomes one row: its pieces' hidden states pooled by the last
piece (NeuroX's default, so the default matches the toolkit the report used),
the first, or the mean piece. Sentences longer than the model's maximum length are split
into consecutive windows of whole words (each window encoded with the model's
special tokens), never silently truncated. A word the tokenizer reduces to no
piece at all (e.g. a lone zero-width character) is encoded as the unknown
token, so every word gets a row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neurosieve.models.modelspec import resolve_model_spec  # noqa: F401 (part of this module's interface)
from neurosieve.store.activations import Extractor, select_layers

log = logging.getLogger(__name__)


POOLINGS = ("first", "last", "mean")


def _not_found(spec: str, exc: Exception) -> FileNotFoundError:
    return FileNotFoundError(
        f"model {spec!r} could not be loaded: not a local model directory, and not found on the "
        f"Hugging Face hub or in its local cache (offline?): {exc}"
    )


def load_tokenizer(spec: str) -> Any:
    """Load the fast tokenizer of a model spec, ready for pre-split words.

    Byte-level BPE tokenizers (RoBERTa, GPT-2) encode a word differently at the
    start of a text and after a space; with pre-split words they need
    ``add_prefix_space=True``, so every word is encoded as it is mid-sentence.
    """
    from transformers import AutoTokenizer

    source = resolve_model_spec(spec)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True)
        if getattr(tokenizer, "add_prefix_space", None) is False:
            tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True, add_prefix_space=True)
    except (OSError, ValueError) as exc:
        raise _not_found(spec, exc) from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"model {spec!r}: a fast tokenizer is needed to map pieces back to words")
    return tokenizer


def load_pretrained(
    spec: str, device: torch.device | str = "cpu", random_init_seed: int | None = None
) -> tuple[Any, Any]:
    """Load a fast tokenizer and an encoder (all hidden states) for a model spec, in eval mode.

    With ``random_init_seed`` the encoder is the spec's architecture at a seeded
    random initialisation (no pretrained weights): the untrained-model baseline.
    """
    from transformers import AutoConfig, AutoModel

    tokenizer = load_tokenizer(spec)
    source = resolve_model_spec(spec)
    try:
        if random_init_seed is None:
            model = AutoModel.from_pretrained(source)
        else:
            config = AutoConfig.from_pretrained(source)
            torch.manual_seed(int(random_init_seed))
            model = AutoModel.from_config(config)
    except (OSError, ValueError) as exc:
        raise _not_found(spec, exc) from exc
    return tokenizer, model.to(device).eval()


def max_pieces(tokenizer: Any, model: Any, max_length: int | None = None) -> int:
    """How many word pieces fit in one window, after the model's special tokens."""
    limits = [
        n
        for n in (max_length, getattr(model.config, "max_position_embeddings", None), tokenizer.model_max_length)
        if n and n < 1_000_000
    ]
    # Some position tables reserve slots (e.g. RoBERTa's padding offset); the tokenizer's limit accounts for it.
    return min(limits) - tokenizer.num_special_tokens_to_add(pair=False)


def word_pieces(tokenizer: Any, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """The piece ids of each word of each sentence; a word with no piece becomes the unknown token."""
    enc = tokenizer([list(s) for s in sentences], is_split_into_words=True, add_special_tokens=False)
    unk = tokenizer.unk_token_id
    out = []
    for b, sent in enumerate(sentences):
        pieces: list[list[int]] = [[] for _ in sent]
        for tok, w in zip(enc["input_ids"][b], enc.word_ids(b)):
            if w is not None:
                pieces[w].append(tok)
        for w, p in enumerate(pieces):
            if not p:
                if unk is None:
                    raise ValueError(f"word {sent[w]!r} has no word piece and the tokenizer has no unknown token")
                p.append(unk)
        out.append(pieces)
    return out


def windows(pieces: Sequence[Sequence[int]], limit: int) -> list[tuple[int, int]]:
    """Split a sentence's words into consecutive (start, end) windows of at most ``limit`` pieces.

    A single word longer than ``limit`` gets a window of its own, keeping its first ``limit`` pieces.
    """
    out, start, used = [], 0, 0
    for w, p in enumerate(pieces):
        n = min(len(p), limit)
        if used + n > limit and w > start:
            out.append((start, w))
            start, used = w, 0
        used += n
    out.append((start, len(pieces)))
    return out


def special_affixes(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens a tokenizer puts before and after a single sequence (e.g. [CLS] and [SEP])."""
    bare = tokenizer(["a"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    full = tokenizer(["a"], is_split_into_words=True, add_special_tokens=True)["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return full[:i], full[i + len(bare) :]
    raise ValueError("cannot locate the special tokens this tokenizer adds around a sequence")


def window_sequences(
    pieces: Sequence[Sequence[Sequence[int]]], limit: int, prefix: Sequence[int], suffix: Sequence[int]
) -> tuple[list[tuple[list[int], list[int]]], int]:
    """One model input per window of whole words, and the number of words in the block.

    Each input is (piece ids with the special tokens, per position the index
    of the word it belongs to across the whole block, -1 for a special token).
    """
    first_token = np.concatenate([[0], np.cumsum([len(s) for s in pieces])])
    seqs: list[tuple[list[int], list[int]]] = []
    for s, sent_pieces in enumerate(pieces):
        for a, b in windows(sent_pieces, limit):
            ids, owner = list(prefix), [-1] * len(prefix)
            for w in range(a, b):
                p = list(sent_pieces[w][:limit])
                ids.extend(p)
                owner.extend([int(first_token[s]) + w] * len(p))
            seqs.append((ids + list(suffix), owner + [-1] * len(suffix)))
    return seqs, int(first_token[-1])


@dataclass
class WindowBatch:
    """Padded model inputs, and where each pooled piece sits: (rows, cols) of the hidden states, owner = its word."""

    input_ids: torch.Tensor
    attention: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    owner: torch.Tensor


def pad_windows(
    batch: Sequence[tuple[Sequence[int], Sequence[int]]], pad_id: int, pooling: str, device: torch.device | str
) -> WindowBatch:
    """Pad windows into tensors and pick the pieces a pooling reads (first or last piece of a word, or all)."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    owners = np.full((len(batch), width), -1, dtype=np.int64)
    attention = np.zeros((len(batch), width), dtype=np.int64)
    for r, (ids, own) in enumerate(batch):
        input_ids[r, : len(ids)] = ids
        owners[r, : len(own)] = own
        attention[r, : len(ids)] = 1
    keep = owners >= 0
    if pooling != "mean":
        # The first (last) piece of a word is where the owner differs from the previous (next) position's.
        neighbour = np.full_like(owners, -2)
        if pooling == "first":
            neighbour[:, 1:] = owners[:, :-1]
        else:
            neighbour[:, :-1] = owners[:, 1:]
        keep &= owners != neighbour
    rows, cols = (torch.from_numpy(x).to(device) for x in np.nonzero(keep))
    return WindowBatch(
        torch.from_numpy(input_ids).to(device),
        torch.from_numpy(attention).to(device),
        rows,
        cols,
        torch.from_numpy(owners[keep]).to(device),
    )


def pretrained_extractor(
    tokenizer: Any,
    model: Any,
    pooling: str = "last",
    batch_size: int = 32,
    max_length: int | None = None,
    layers: Sequence[int] | None = None,
) -> Extractor:
    """An :data:`~neurosieve.store.activations.Extractor` over all hidden states (embeddings included), pooled per word.

    ``layers`` keeps only those hidden states (0 = embeddings), in that order;
    the others are never pooled or copied off the device.

    Each block is tokenised once; windows are assembled from the word pieces
    with the model's special tokens, batched by length, and pooled on the
    device by precomputed indices.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    device = next(model.parameters()).device
    limit = max_pieces(tokenizer, model, max_length)
    prefix, suffix = special_affixes(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @torch.no_grad()
    def extract(block: Sequence[Sequence[str]]) -> list[np.ndarray]:
        seqs, n_tokens = window_sequences(word_pieces(tokenizer, block), limit, prefix, suffix)
        order = np.argsort([-len(ids) for ids, _ in seqs], kind="stable")
        outs: list[torch.Tensor] | None = None
        counts = torch.zeros(n_tokens, device=device)
        for start in range(0, len(order), batch_size):
            batch = pad_windows([seqs[i] for i in order[start : start + batch_size]], pad_id, pooling, device)
            hidden = model(
                input_ids=batch.input_ids, attention_mask=batch.attention, output_hidden_states=True
            ).hidden_states
            if layers is not None:
                hidden = [h for _, h in select_layers(hidden, layers)]
            if outs is None:
                outs = [torch.zeros(n_tokens, h.shape[-1], device=device) for h in hidden]
            for acc, h in zip(outs, hidden):
                acc.index_add_(0, batch.owner, h[batch.rows, batch.cols].float())
            counts.index_add_(0, batch.owner, torch.ones_like(batch.owner, dtype=torch.float))
        assert outs is not None
        if bool((counts == 0).any()):
            raise RuntimeError("some words received no word piece; this is a bug in the piece-to-word mapping")
        if pooling == "mean":
            outs = [acc / counts[:, None] for acc in outs]
        return [acc.cpu().numpy() for acc in outs]

    return extract
