"""Activation extractors for the taggers trained here: every layer (or the requested ones) of a
:class:`~neurosieve.models.taggers.Tagger`, batched by sentence length."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from neurosieve.models.taggers import UNK, Tagger, Vocab
from neurosieve.models.training import length_batches, make_batch
from neurosieve.store.activations import Extractor, select_layers


def tagger_extractor(
    model: Tagger,
    vocab: Vocab,
    batch_size: int = 64,
    unk_rate: float = 0.0,
    seed: int = 0,
    layers: Sequence[int] | None = None,
) -> Extractor:
    """An :data:`Extractor` for a tagger trained here: all layers (or only ``layers``), batched by length, in eval mode.

    ``unk_rate`` applies the tagger's own rare-word policy (its training word
    dropout): each word is replaced by ``<unk>`` with that probability (seeded,
    the same draws on every run), so a probe trained on these activations sees
    ``<unk>`` inputs as the test set's unknown words produce them.
    """
    device = next(model.parameters()).device
    wanted = list(range(len(model.layer_dims))) if layers is None else list(layers)
    rng = np.random.default_rng([seed, 11])
    unk = vocab.word_index[UNK]

    def encode(sentence: Sequence[str]) -> tuple[list[int], list[int]]:
        ids, shapes = vocab.encode_words(sentence)
        if unk_rate:
            ids = np.where(rng.random(len(ids)) < unk_rate, unk, ids).tolist()
        return ids, shapes

    @torch.no_grad()
    def extract(block: Sequence[Sequence[str]]) -> list[np.ndarray]:
        model.eval()
        encoded = [encode(s) for s in block]
        lengths = np.array([len(s) for s in block])
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        out = [np.empty((offsets[-1], model.layer_dims[w]), dtype=np.float32) for w in wanted]
        for idx in length_batches(lengths, batch_size):
            b = make_batch(idx, encoded, None).to(device)
            hidden = [h for _, h in select_layers(model(b.words, b.shapes, b.lengths)[1], wanted)]
            hidden = [h.float().cpu().numpy() for h in hidden]
            for row, i in enumerate(idx):
                for arr, h in zip(out, hidden):
                    arr[offsets[i] : offsets[i + 1]] = h[row, : lengths[i]]
        return out

    return extract


__all__ = ["tagger_extractor"]
