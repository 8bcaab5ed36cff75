"""Model ablation from a cached layer: run a tagger once, then score every neuron selection from that layer up.

Removing neurons of layer L changes nothing below L. :class:`LayerCache` runs
the model once over the test sentences (in the batches
:func:`neurosieve.models.training.predict` uses), keeps layer L's output of every batch
in memory, and scores an ablation by running only the layers above L and the
output head on the ablated copy (for the top layer: the output head alone).
The predictions, and so the scores, equal those of re-running the whole model
with the mask (see :meth:`neurosieve.models.taggers.Tagger.forward_from`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from neurosieve.analysis.metrics import COUNTS_KEY, chunk_counts, chunks, scores_from_counts
from neurosieve.models.taggers import Tagger, Vocab
from neurosieve.models.training import length_batches, make_batch
from neurosieve.store.corpus import sentences


class LayerCache:
    """One layer's outputs for every sentence of a token table, and chunking scores with neurons of it ablated."""

    def __init__(self, model: Tagger, vocab: Vocab, tokens: pd.DataFrame, layer: int, batch_size: int = 256):

        if not 0 <= layer < len(model.layer_dims):
            raise ValueError(f"layer {layer} is not a layer of this model (0..{len(model.layer_dims) - 1})")
        self.model = model.eval()
        self.layer = layer
        self.width = model.layer_dims[layer]
        self.device = next(model.parameters()).device
        self.labels = np.asarray(vocab.labels, dtype=object)
        sents = sentences(tokens, "word")
        self.gold = sentences(tokens, "chunk")
        self.gold_chunks = [chunks(g) for g in self.gold]
        self.gold_ids = np.concatenate([vocab.encode_labels(g, "test chunk tags") for g in self.gold])
        self.lengths = np.array([len(s) for s in sents])
        encoded = [vocab.encode_words(s) for s in sents]
        self.batches: list[tuple[np.ndarray, torch.Tensor, torch.Tensor]] = []
        with torch.no_grad():
            for idx in length_batches(self.lengths, batch_size):
                b = make_batch(idx, encoded, None).to(self.device)
                self.batches.append((idx, b.lengths, model(b.words, b.shapes, b.lengths)[1][layer]))

    def keep_mask(self, removed: Sequence[int] | np.ndarray) -> torch.Tensor:
        """The (neurons,) float mask that is 0 at ``removed`` and 1 elsewhere."""
        keep = torch.ones(self.width)
        keep[torch.as_tensor(np.array(removed, dtype=np.int64), dtype=torch.long)] = 0.0
        return keep.to(self.device)

    @torch.no_grad()
    def predict_ids(
        self, removed: Sequence[int] | np.ndarray, fill: np.ndarray | torch.Tensor | None = None
    ) -> list[np.ndarray]:
        """Predicted label indices per sentence with the ``removed`` neurons of the layer replaced by ``fill``.

        ``fill`` holds one replacement value per neuron of the layer (only the
        removed neurons' entries are used); None replaces by 0, as a mask does.
        """
        keep = self.keep_mask(removed)
        shift = None
        if fill is not None:
            fill = torch.as_tensor(np.asarray(fill, dtype=np.float32)).to(self.device)
            if fill.shape != (self.width,):
                raise ValueError(
                    f"fill must hold one value per neuron of layer {self.layer} ({self.width}), got shape {tuple(fill.shape)}"
                )
            shift = fill * (1.0 - keep)
        out: list[np.ndarray] = [np.zeros(0, np.int64) for _ in self.lengths]
        for idx, lengths, h in self.batches:
            ablated = h * keep if shift is None else h * keep + shift
            pred = self.model.forward_from(self.layer, ablated, lengths).argmax(-1).cpu().numpy()
            for row, i in enumerate(idx):
                out[i] = pred[row, : self.lengths[i]]
        return out

    def predict(
        self, removed: Sequence[int] | np.ndarray, fill: np.ndarray | torch.Tensor | None = None
    ) -> list[list[str]]:
        """Predicted chunk tags per sentence (see :meth:`predict_ids`)."""
        return [self.labels[ids].tolist() for ids in self.predict_ids(removed, fill)]

    def score(
        self, removed: Sequence[int] | np.ndarray, fill: np.ndarray | torch.Tensor | None = None
    ) -> dict[str, Any]:
        """Chunk precision/recall/F1 (conlleval) and token accuracy (in %) with ``removed`` ablated (see :meth:`predict_ids`),
        and the per-sentence chunk counts (under :data:`~neurosieve.analysis.metrics.COUNTS_KEY`) that a sentence
        bootstrap of the ablation resamples."""
        ids = self.predict_ids(removed, fill)
        pred = [self.labels[i].tolist() for i in ids]
        right = self.token_right(ids)
        counts = chunk_counts(self.gold, pred, self.gold_chunks)
        return {**scores_from_counts(counts), "token_accuracy": 100.0 * float(np.mean(right)), COUNTS_KEY: counts}

    def token_right(self, ids: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Each test token's correctness (bool, in token-table order): of the predicted label ``ids`` per sentence
        (:meth:`predict_ids`), or, when None, of the model with nothing ablated."""
        return np.concatenate(self.predict_ids([]) if ids is None else ids) == self.gold_ids
