"""Training and scoring the chunking taggers: one (family, seed) per call, deterministic per seed."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from neurosieve.analysis.metrics import chunk_counts, chunk_f1_interval, chunk_scores, token_accuracy
from neurosieve.models.taggers import Tagger, TaggerConfig, Vocab, build_model
from neurosieve.store.corpus import label_set, sentences
from neurosieve.store.io import versions

log = logging.getLogger(__name__)


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA GPU is available")
    return torch.device(requested)


def seed_everything(seed: int) -> None:
    """Seed torch's generators and make its kernels deterministic (cuBLAS included, on a GPU)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


@dataclass
class Batch:
    """A padded batch of sentences and the indices of those sentences."""

    index: np.ndarray
    words: torch.Tensor
    shapes: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor | None

    def to(self, device: torch.device) -> Batch:
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Batch(self.index, move(self.words), move(self.shapes), self.lengths, move(self.labels))


def make_batch(
    index: np.ndarray, encoded: Sequence[tuple[list[int], list[int]]], labels: Sequence[list[int]] | None
) -> Batch:
    """Pad the sentences ``index`` picks into tensors (labels padded with -100, which the loss ignores)."""
    lengths = torch.tensor([len(encoded[i][0]) for i in index])
    n, t = len(index), int(lengths.max())
    words = torch.zeros(n, t, dtype=torch.long)
    shapes = torch.zeros(n, t, dtype=torch.long)
    tags = torch.full((n, t), -100, dtype=torch.long) if labels is not None else None
    for row, i in enumerate(index):
        w, s = encoded[i]
        words[row, : len(w)] = torch.tensor(w)
        shapes[row, : len(s)] = torch.tensor(s)
        if tags is not None:
            tags[row, : len(w)] = torch.tensor(labels[i])
    return Batch(np.asarray(index), words, shapes, lengths, tags)


@dataclass
class PaddedCorpus:
    """Every sentence's word, shape and label indices padded once into arrays (labels with -100).

    A batch is then one slice of these arrays (:meth:`batch`) instead of a
    Python loop over its sentences; it equals :func:`make_batch`'s.
    """

    words: np.ndarray
    shapes: np.ndarray
    labels: np.ndarray | None
    lengths: np.ndarray

    @classmethod
    def build(
        cls, encoded: Sequence[tuple[list[int], list[int]]], labels: Sequence[list[int]] | None = None
    ) -> PaddedCorpus:
        lengths = np.array([len(w) for w, _ in encoded], dtype=np.int64)
        width = int(lengths.max(initial=1))
        words = np.zeros((len(encoded), width), dtype=np.int64)
        shapes = np.zeros((len(encoded), width), dtype=np.int64)
        tags = np.full((len(encoded), width), -100, dtype=np.int64) if labels is not None else None
        for row, (w, s) in enumerate(encoded):
            words[row, : len(w)] = w
            shapes[row, : len(s)] = s
            if tags is not None:
                tags[row, : len(w)] = labels[row]
        return cls(words, shapes, tags, lengths)

    def batch(self, index: np.ndarray) -> Batch:
        """The padded batch of the sentences ``index`` picks, as wide as its longest sentence."""
        index = np.asarray(index)
        lengths = self.lengths[index]
        t = int(lengths.max())
        words = torch.from_numpy(self.words[index, :t])
        tags = None if self.labels is None else torch.from_numpy(self.labels[index, :t])
        return Batch(index, words, torch.from_numpy(self.shapes[index, :t]), torch.from_numpy(lengths), tags)


def make_optimizer(
    model: nn.Module, train_params: Mapping[str, Any], steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, Any]:
    """Adam with the configured rate and weight decay, and the linear decay schedule (or None) over all steps."""
    opt = torch.optim.Adam(
        model.parameters(), lr=train_params["lr"], weight_decay=train_params.get("weight_decay", 0.0)
    )
    if train_params.get("lr_decay", "linear") != "linear":
        return opt, None
    total_steps = int(train_params["epochs"]) * steps_per_epoch
    # Not LinearLR: its chained (recursive) factors differ from this closed form in the last bits, so weights would change.
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda step: max(0.05, 1.0 - step / max(total_steps, 1)))


def train_epoch(
    model: Tagger,
    corpus: PaddedCorpus,
    batches: Iterator[np.ndarray],
    opt: torch.optim.Optimizer,
    sched: Any,
    device: torch.device,
    clip: float | None = None,
    word_dropout: float = 0.0,
    gen: torch.Generator | None = None,
) -> float:
    """One pass of training over ``batches`` (sentence indices into ``corpus``); returns the mean loss per sentence.

    The loop does no per-step host work beyond slicing the padded corpus: the
    running loss stays a tensor until the epoch ends.
    """
    model.train()
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    total = torch.zeros((), dtype=torch.float64, device=device)
    count = 0
    for idx in batches:
        b = corpus.batch(idx)
        if word_dropout:
            drop = (torch.rand(b.words.shape, generator=gen) < word_dropout) & (b.words > 0)
            b.words[drop] = 1  # the <unk> index: teaches the model unseen words
        b = b.to(device)
        logits = model(b.words, b.shapes, b.lengths)[0]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), b.labels.reshape(-1))
        opt.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        total += loss.detach().double() * len(idx)
        count += len(idx)
    return float(total) / count


def length_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Sentence indices in batches of similar length: shuffled in pools when ``rng`` is given, else sorted."""
    if rng is None:
        order = np.argsort(-lengths, kind="stable")
        yield from (order[i : i + batch_size] for i in range(0, len(order), batch_size))
        return
    perm = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for p in range(0, len(perm), pool):
        chunk = perm[p : p + pool]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    for b in rng.permutation(len(batches)):
        yield batches[b]


@torch.no_grad()
def predict(
    model: Tagger,
    vocab: Vocab,
    sents: Sequence[Sequence[str]],
    batch_size: int = 256,
    masks: Mapping[int, torch.Tensor] | None = None,
) -> list[list[str]]:
    """Predicted chunk tags per sentence; ``masks`` ablates neurons (see :meth:`Tagger.forward`)."""
    model.eval()
    device = next(model.parameters()).device
    encoded = [vocab.encode_words(s) for s in sents]
    lengths = np.array([len(s) for s in sents])
    out: list[list[str]] = [[] for _ in sents]
    masks = {k: v.to(device) for k, v in (masks or {}).items()}
    for idx in length_batches(lengths, batch_size):
        b = make_batch(idx, encoded, None).to(device)
        pred = model(b.words, b.shapes, b.lengths, masks)[0].argmax(-1).cpu().numpy()
        for row, i in enumerate(idx):
            out[i] = [vocab.labels[k] for k in pred[row, : lengths[i]]]
    return out


def evaluate(
    model: Tagger,
    vocab: Vocab,
    tokens: pd.DataFrame,
    masks: Mapping[int, torch.Tensor] | None = None,
    batch_size: int = 256,
    interval: bool = False,
) -> dict[str, float]:
    """Chunk precision/recall/F1 (conlleval) and token accuracy on a token table; with ``interval``, also F1's
    95 % sentence-bootstrap interval (``f1_low``, ``f1_high``: the test set's sampling noise of one model)."""
    sents = sentences(tokens, "word")
    gold = sentences(tokens, "chunk")
    pred = predict(model, vocab, sents, batch_size, masks)
    scores = {**chunk_scores(gold, pred), "token_accuracy": token_accuracy(gold, pred)}
    if interval:
        scores["f1_low"], scores["f1_high"] = chunk_f1_interval(chunk_counts(gold, pred))
    return scores


def subset_sentences(n: int, fraction: float | None, seed: int) -> np.ndarray:
    """The sentence indices a seed trains on: all (``fraction`` null or 1), or its own seeded random fraction.

    The draw depends on ``seed`` only (not on the data-order seed), so a
    near-twin trained with another order seed sees exactly the same sentences.
    """
    if fraction is None or fraction >= 1:
        return np.arange(n)
    rng = np.random.default_rng([seed, 1])
    k = max(1, int(round(fraction * n)))
    return np.sort(rng.choice(n, size=k, replace=False))


def weights_sha256(model: nn.Module) -> str:
    """A checksum of a model's parameters (to show that two runs start from the same initialisation)."""
    import hashlib

    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def train_tagger(
    train_tokens: pd.DataFrame,
    test_tokens: pd.DataFrame,
    kind: str,
    seed: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    subset: float | None = None,
    device: str = "auto",
    progress: bool = True,
    order_seed: int | None = None,
) -> tuple[Tagger, Vocab, dict[str, Any]]:
    """Train one tagger for chunking from words alone; return it, its vocabulary and its metrics.

    ``seed`` fixes the initialisation and the training subset; ``order_seed``
    (default: ``seed``) fixes everything random during training: data order,
    dropout and word dropout. Two runs with the same ``seed`` and different
    ``order_seed`` are near-twins: same initial weights, same sentences,
    different order. The metrics record the subset's sentence indices and a
    checksum of the initial weights. The chunk label map spans train and test
    (CoNLL-2000's ``I-LST`` is test-only). ``epochs = 0`` returns the model at
    its seeded random initialisation (the untrained-model baseline).
    """
    start = time.perf_counter()
    dev = pick_device(device)
    order_seed = seed if order_seed is None else int(order_seed)
    seed_everything(seed)
    train_sents = sentences(train_tokens, "word")
    train_tags = sentences(train_tokens, "chunk")
    n_all = len(train_sents)
    keep = subset_sentences(n_all, subset, seed)
    train_sents = [train_sents[i] for i in keep]
    train_tags = [train_tags[i] for i in keep]
    mp = dict(model_params)
    min_freq = mp.pop("min_word_freq", 1)
    vocab = Vocab.build(train_sents, label_set(train_tokens["chunk"], test_tokens["chunk"]), min_freq)
    model = build_model(TaggerConfig(kind=kind, vocab_size=len(vocab.words), num_labels=len(vocab.labels), **mp)).to(
        dev
    )
    init_sha = weights_sha256(model)
    torch.manual_seed(order_seed)  # from here on the order seed drives dropout
    epochs = int(train_params["epochs"])
    opt, sched = make_optimizer(model, train_params, -(-len(train_sents) // int(train_params["batch_size"])))
    corpus = PaddedCorpus.build(
        [vocab.encode_words(s) for s in train_sents], [vocab.encode_labels(t, "train chunk tags") for t in train_tags]
    )
    rng = np.random.default_rng(order_seed)
    word_dropout = float(train_params.get("word_dropout", 0.0))
    gen = torch.Generator().manual_seed(order_seed)
    curve = []
    for epoch in tqdm(range(1, epochs + 1), desc=f"{kind} seed {seed}", unit="epoch", disable=not progress):
        batches = length_batches(corpus.lengths, int(train_params["batch_size"]), rng)
        train_loss = train_epoch(model, corpus, batches, opt, sched, dev, train_params.get("clip"), word_dropout, gen)
        scores = evaluate(model, vocab, test_tokens, interval=epoch == epochs)  # the last epoch's are the final
        curve.append({"epoch": epoch, "train_loss": train_loss, "test_f1": scores["f1"]})
        log.info("%s seed %d epoch %d: loss %.4f, test F1 %.2f", kind, seed, epoch, train_loss, scores["f1"])
    # The last epoch's scores are the final ones (the model is unchanged since): no second pass over the test set.
    final = scores if epochs >= 1 else evaluate(model, vocab, test_tokens, interval=True)
    metrics = {
        "kind": kind,
        "seed": seed,
        "order_seed": order_seed,
        "test": final,
        "curve": curve,
        "train_sentences": len(train_sents),
        "train_subset": {"fraction": subset, "of": n_all, "sentences": keep.tolist()},
        "init_weights_sha256": init_sha,
        "vocab_size": len(vocab.words),
        "labels": vocab.labels,
        "layer_dims": model.layer_dims,
        "device": str(dev),
        "wall_seconds": time.perf_counter() - start,
        "settings": {"model": dict(model_params), "train": dict(train_params), "subset": subset},
        "versions": versions(),
    }
    return model.eval(), vocab, metrics
