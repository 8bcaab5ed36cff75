"""Activations of any ``torch.nn.Module`` at the hook points a user names, aligned to words.

A residual stream, an MLP's hidden units, an LSTM's outputs: any submodule whose output is a
(batch × sequence × features) tensor (or a tuple or list whose first element is one, as an LSTM
returns) can be read by a forward hook. The user's ``encode`` turns a batch of sentences (lists of
words) into the module's input and, for every input position, the index of the word it belongs to
(``None`` for special tokens and padding), as a Hugging Face tokenizer's ``word_ids()`` gives it. A
word's activation is that of its first position, so the tables have one row per word, as the
workflow's own extractors write them (:data:`~neurosieve.store.activations.Extractor`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from neurosieve.store.activations import Extractor

#: ``encode(sentences) -> (inputs, word_ids)``: the module's input for a batch of sentences (a tensor, a tuple of
#: positional arguments or a mapping of keyword arguments) and, per sentence, the word index of each position.
Encoder = Callable[[Sequence[Sequence[str]]], tuple[Any, Sequence[Sequence[int | None]]]]


def _tensor(output: Any, name: str) -> torch.Tensor:
    out = output[0] if isinstance(output, (tuple, list)) else output
    if not isinstance(out, torch.Tensor) or out.dim() != 3:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"hook point {name!r}: expected a (batch, sequence, features) tensor, got {shape}")
    return out


def module_extractor(
    module: torch.nn.Module,
    encode: Encoder,
    hook_points: Sequence[str],
    batch_size: int = 32,
) -> Extractor:
    """An :data:`~neurosieve.store.activations.Extractor` reading ``hook_points`` (names from
    ``module.named_modules()``) with forward hooks, in eval mode and without gradients, one layer per hook point,
    in the given order. Each word takes the activation of its first input position."""
    named = dict(module.named_modules())
    missing = [h for h in hook_points if h not in named]
    if missing:
        known = [n for n in named if n][:20]
        raise KeyError(f"hook point(s) {missing} are not submodules of the model; some that are: {known}")

    @torch.no_grad()
    def extract(block: Sequence[Sequence[str]]) -> list[np.ndarray]:
        module.eval()
        parts: list[list[np.ndarray]] = [[] for _ in hook_points]
        for start in range(0, len(block), batch_size):
            batch = block[start : start + batch_size]
            inputs, word_ids = encode(batch)
            seen: dict[str, torch.Tensor] = {}
            handles = [
                named[h].register_forward_hook(lambda _m, _i, out, h=h: seen.__setitem__(h, _tensor(out, h)))
                for h in hook_points
            ]
            try:
                if isinstance(inputs, Mapping):
                    module(**inputs)
                elif isinstance(inputs, tuple):
                    module(*inputs)
                else:
                    module(inputs)
            finally:
                for handle in handles:
                    handle.remove()
            rows, cols = [], []
            for b, (sentence, ids) in enumerate(zip(batch, word_ids)):
                first: dict[int, int] = {}
                for t, w in enumerate(ids):
                    if w is not None and w not in first:
                        first[int(w)] = t
                lost = [w for w in range(len(sentence)) if w not in first]
                if lost:
                    raise ValueError(f"sentence {start + b}: words {lost} have no input position (truncated?)")
                rows += [b] * len(sentence)
                cols += [first[w] for w in range(len(sentence))]
            r, c = torch.tensor(rows), torch.tensor(cols)
            for i, h in enumerate(hook_points):
                parts[i].append(seen[h][r.to(seen[h].device), c.to(seen[h].device)].float().cpu().numpy())
        return [np.concatenate(p) if p else np.empty((0, 0), np.float32) for p in parts]

    return extract


__all__ = ["Encoder", "module_extractor"]
