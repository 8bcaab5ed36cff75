"""Taggers trained here from scratch (BiLSTM, small Transformer encoder) for CoNLL-2000 chunking.

Both expose every layer's output as one layer of neurons (layer 0 is the input
embedding) and accept per-layer neuron masks, so the same model serves training,
activation dumps and ablation. A model is saved as ``model.pt`` (weights) plus
``model.json`` (architecture, vocabulary and label map), and reloads without
Snakemake through :func:`load_model`.
"""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from neurosieve.store.io import atomic_path

PAD, UNK = "<pad>", "<unk>"


#: Word-shape classes derived from the word itself: lower, Capitalised, ALLCAPS, has digit, other.
N_SHAPES = 5


_DIGITS = re.compile(r"\d")


def normalise(word: str) -> str:
    """The vocabulary key of a word: lower-cased, digits mapped to 0."""
    return _DIGITS.sub("0", word.lower())


def shape(word: str) -> int:
    """A word's shape class (see :data:`N_SHAPES`)."""
    if any(c.isdigit() for c in word):
        return 3
    if word.isupper() and any(c.isalpha() for c in word):
        return 2
    if word[:1].isupper():
        return 1
    if word.islower():
        return 0
    return 4


@dataclass
class Vocab:
    """Word and label maps, saved with the model."""

    words: list[str]
    labels: list[str]

    @classmethod
    def build(cls, train_sentences: Sequence[Sequence[str]], labels: Sequence[str], min_freq: int = 1) -> Vocab:
        """Words seen at least ``min_freq`` times in train; labels as given (train and test together)."""
        counts = Counter(normalise(w) for s in train_sentences for w in s)
        words = [PAD, UNK] + sorted(w for w, c in counts.items() if c >= min_freq)
        return cls(words=words, labels=list(labels))

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}

    def encode_words(self, sentence: Sequence[str]) -> tuple[list[int], list[int]]:
        unk = self.word_index[UNK]
        return [self.word_index.get(normalise(w), unk) for w in sentence], [shape(w) for w in sentence]

    def encode_labels(self, tags: Sequence[str], source: str = "labels") -> list[int]:
        try:
            return [self.label_index[t] for t in tags]
        except KeyError as exc:
            raise ValueError(f"{source}: label {exc.args[0]!r} is not in the model's label map") from exc


@dataclass
class TaggerConfig:
    """Architecture of a tagger; saved in ``model.json``."""

    kind: str
    vocab_size: int
    num_labels: int
    embedding_dim: int = 128
    hidden_dim: int = 256
    num_layers: int = 2
    num_heads: int = 4
    dropout: float = 0.3
    max_positions: int = 512
    shape_dim: int = 16
    extra: dict[str, Any] = field(default_factory=dict)


def apply_mask(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Ablate neurons of a layer output: ``mask`` is a (neurons,) multiplier (0 removes a neuron, i.e. zero
    ablation), or a (2, neurons) stack of that multiplier and the values removed neurons take instead
    (e.g. their mean activation: mean ablation)."""
    if mask.dim() == 1:
        return h * mask
    keep, fill = mask[0], mask[1]
    return h * keep + fill * (1 - keep)


class Tagger(nn.Module, ABC):
    """Shared parts of the taggers: embeddings, dropout, output layer, masked layer outputs."""

    def __init__(self, cfg: TaggerConfig, input_dim: int, layer_dims: Sequence[int]):
        super().__init__()
        self.cfg = cfg
        self.word_emb = nn.Embedding(cfg.vocab_size, cfg.embedding_dim, padding_idx=0)
        self.shape_emb = nn.Embedding(N_SHAPES, cfg.shape_dim)
        self.drop = nn.Dropout(cfg.dropout)
        self.layer_dims = [input_dim, *layer_dims]
        self.out = nn.Linear(layer_dims[-1], cfg.num_labels)

    def embed(self, words: torch.Tensor, shapes: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.word_emb(words), self.shape_emb(shapes)], dim=-1)

    @abstractmethod
    def encode(
        self, x: torch.Tensor, lengths: torch.Tensor, masks: Mapping[int, torch.Tensor], start: int = 0
    ) -> list[torch.Tensor]:
        """Outputs of layers start+1..L for the (dropped-out) input of layer start+1, masks applied.

        ``start=0`` reads the embedded batch; a higher ``start`` resumes from a
        layer's output, so that what lies below it need not be recomputed.
        """

    def forward(
        self,
        words: torch.Tensor,
        shapes: torch.Tensor,
        lengths: torch.Tensor,
        masks: Mapping[int, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (batch × time × labels) and every layer's output, layer 0 being the embedding.

        ``masks`` maps a layer index to a (neurons,) tensor multiplied into that
        layer's output before the next layer reads it: 0 ablates a neuron (or to
        a multiplier and replacement values, see :func:`apply_mask`).
        """
        masks = masks or {}
        x = self.embed(words, shapes)
        if 0 in masks:
            x = apply_mask(x, masks[0])
        layers = [x, *self.encode(self.drop(x), lengths, masks)]
        return self.out(self.drop(layers[-1])), layers

    def forward_from(self, layer: int, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits computed from layer ``layer``'s output ``h`` (ablated or not): only the layers above it and the head.

        Evaluation only (dropout off): with ``h`` the output that :meth:`forward`
        computes for the same batch, times a mask, the logits equal those of
        ``forward(..., masks={layer: mask})`` exactly, since the same operations run.
        """
        if self.training:
            raise RuntimeError("forward_from is for evaluation: call model.eval() first")
        outs = self.encode(h, lengths, {}, start=layer)
        return self.out(outs[-1] if outs else h)


def padded_bilstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """A one-layer bidirectional ``nn.LSTM`` over a padded batch, equal to running it on the packed batch.

    On the CPU torch runs an LSTM over a padded batch with oneDNN's fused
    kernels, forward and backward, far faster than over a packed one. The
    forward direction reads each sentence from its start, so padding at the end
    cannot reach its outputs; the backward direction runs the same way over each
    sentence reversed within its length, and its outputs are reversed back.
    Outputs at padding are 0, as ``pad_packed_sequence`` leaves them.
    """
    b, t, _ = x.shape
    pos = torch.arange(t)[None, :]
    lengths = lengths.cpu()[:, None]
    valid = pos < lengths
    rev = torch.where(valid, lengths - 1 - pos, pos).to(x.device)  # reverse within each sentence's length
    h0 = x.new_zeros(1, b, lstm.hidden_size)

    def direction(inp: torch.Tensor, suffix: str) -> torch.Tensor:
        weights = [getattr(lstm, f"{n}_l0{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        return torch._VF.lstm(inp, (h0, h0), weights, True, 1, 0.0, lstm.training, False, True)[0]

    def flip(a: torch.Tensor) -> torch.Tensor:
        return a.gather(1, rev[..., None].expand(-1, -1, a.shape[2]))

    out = torch.cat([direction(x, ""), flip(direction(flip(x), "_reverse"))], dim=2)
    return out * valid.to(x.device)[..., None].to(out.dtype)


class BiLSTMTagger(Tagger):
    """Embedding, then stacked bidirectional LSTMs; each layer's forward+backward output is a layer of neurons."""

    def __init__(self, cfg: TaggerConfig):
        in_dim = cfg.embedding_dim + cfg.shape_dim
        super().__init__(cfg, in_dim, [2 * cfg.hidden_dim] * cfg.num_layers)
        dims = [in_dim] + [2 * cfg.hidden_dim] * (cfg.num_layers - 1)
        self.lstms = nn.ModuleList(nn.LSTM(d, cfg.hidden_dim, batch_first=True, bidirectional=True) for d in dims)

    def encode(
        self, x: torch.Tensor, lengths: torch.Tensor, masks: Mapping[int, torch.Tensor], start: int = 0
    ) -> list[torch.Tensor]:
        outs = []
        total = x.shape[1]
        for i, lstm in enumerate(self.lstms[start:], start=start + 1):
            if x.device.type == "cpu":
                h = padded_bilstm(lstm, x, lengths)
            else:
                packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
                h, _ = pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=total)
            if i in masks:
                h = apply_mask(h, masks[i])
            outs.append(h)
            x = self.drop(h)
        return outs


class TransformerTagger(Tagger):
    """Embedding plus learned positions, then Transformer encoder layers; each layer's output is a layer of neurons."""

    def __init__(self, cfg: TaggerConfig):
        super().__init__(cfg, cfg.hidden_dim, [cfg.hidden_dim] * cfg.num_layers)
        self.proj = nn.Linear(cfg.embedding_dim + cfg.shape_dim, cfg.hidden_dim)
        self.pos_emb = nn.Embedding(cfg.max_positions, cfg.hidden_dim)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                cfg.hidden_dim, cfg.num_heads, 4 * cfg.hidden_dim, cfg.dropout, batch_first=True, norm_first=True
            )
            for _ in range(cfg.num_layers)
        )

    def embed(self, words: torch.Tensor, shapes: torch.Tensor) -> torch.Tensor:
        if words.shape[1] > self.cfg.max_positions:
            raise ValueError(
                f"sentence of {words.shape[1]} tokens exceeds the model's max_positions={self.cfg.max_positions}"
            )
        pos = torch.arange(words.shape[1], device=words.device)
        return self.proj(super().embed(words, shapes)) + self.pos_emb(pos)[None]

    def encode(
        self, x: torch.Tensor, lengths: torch.Tensor, masks: Mapping[int, torch.Tensor], start: int = 0
    ) -> list[torch.Tensor]:
        pad = torch.arange(x.shape[1], device=x.device)[None] >= lengths.to(x.device)[:, None]
        outs = []
        for i, layer in enumerate(self.layers[start:], start=start + 1):
            x = layer(x, src_key_padding_mask=pad)
            if i in masks:
                x = apply_mask(x, masks[i])
            outs.append(x)
        return outs


ARCHITECTURES: dict[str, type[Tagger]] = {"bilstm": BiLSTMTagger, "transformer": TransformerTagger}


def build_model(cfg: TaggerConfig) -> Tagger:
    """Instantiate the architecture a config names."""
    if cfg.kind not in ARCHITECTURES:
        raise ValueError(f"unknown model kind {cfg.kind!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[cfg.kind](cfg)


def save_model(
    model: Tagger, vocab: Vocab, directory: str | os.PathLike[str], extra: Mapping[str, Any] | None = None
) -> None:
    """Save weights (``model.pt``) and architecture, vocabulary and labels (``model.json``)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    spec = {"config": asdict(model.cfg), "words": vocab.words, "labels": vocab.labels, **(extra or {})}
    with atomic_path(d / "model.json") as tmp:
        tmp.write_text(json.dumps(spec))
    with atomic_path(d / "model.pt") as tmp:
        torch.save(model.state_dict(), tmp)


def load_model(directory: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[Tagger, Vocab]:
    """Reload a model saved by :func:`save_model`, in eval mode."""
    d = Path(directory)
    if not (d / "model.json").is_file() or not (d / "model.pt").is_file():
        raise FileNotFoundError(f"{d}: not a saved neurosieve model (model.json and model.pt expected)")
    spec = json.loads((d / "model.json").read_text())
    model = build_model(TaggerConfig(**spec["config"]))
    model.load_state_dict(torch.load(d / "model.pt", map_location=device, weights_only=True))
    return model.to(device).eval(), Vocab(spec["words"], spec["labels"])
