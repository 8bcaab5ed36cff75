"""neurosieve's Python API on a model of your own: any ``torch.nn.Module``, read at the submodules you name.

A small word-level BiLSTM tagger with an MLP head (random weights: replace it with yours) is read at two hook
points, its LSTM outputs and its MLP's hidden units; its neurons are ranked by every probe ranking for POS,
and two rankings are placed between random neurons and the greedy oracle. The sentences are the synthetic
CoNLL-format sample the repository ships. Run it from the repository root::

    .venv/bin/python examples/custom_module.py
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import torch

from neurosieve import api
from neurosieve.store.corpus import parse_conll, sentences

SAMPLE = Path(__file__).resolve().parents[1] / "tests/data/conll-sample/train.txt.gz"


class Tagger(torch.nn.Module):
    """Embeddings, a BiLSTM, an MLP head: the kind of model a user brings."""

    def __init__(self, vocab: int, tags: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, 32, padding_idx=0)
        self.lstm = torch.nn.LSTM(32, 24, batch_first=True, bidirectional=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(48, 64), torch.nn.ReLU(), torch.nn.Linear(64, tags))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(ids))  # the hook at "lstm" sees (output, (h, c)): its first element is read
        return self.mlp(out)


def main(n_sentences: int = 300, **probe: object) -> dict[str, float]:
    """Run the example; ``probe`` overrides the probe's settings (the tests give it a smaller budget)."""
    tokens = parse_conll(gzip.decompress(SAMPLE.read_bytes()), str(SAMPLE))
    tokens = tokens[tokens["sentence"] < n_sentences]
    words, tags = sentences(tokens, "word"), tokens["pos"].astype(str).to_numpy()
    vocab = {w: i + 1 for i, w in enumerate(sorted({w for s in words for w in s}))}
    torch.manual_seed(0)
    model = Tagger(len(vocab) + 1, 45)

    def encode(batch: Sequence[Sequence[str]]) -> tuple[torch.Tensor, list[list[int | None]]]:
        width = max(len(s) for s in batch)
        ids = torch.zeros(len(batch), width, dtype=torch.long)
        for b, s in enumerate(batch):
            ids[b, : len(s)] = torch.tensor([vocab[w] for w in s])
        # One position per word here; a subword model maps each position to its word (None for padding).
        return ids, [[*range(len(s)), *[None] * (width - len(s))] for s in batch]

    lstm, hidden = api.activations(api.module_extractor(model, encode, ["lstm", "mlp.1"]), words)
    assert lstm.shape == (len(tags), 48) and hidden.shape == (len(tags), 64)

    train = tokens["sentence"].to_numpy() < int(0.8 * n_sentences)  # whole sentences on each side
    rankings = api.probe_rankings(hidden[train], tags[train], **probe)
    print("top 5 MLP neurons by standardised LCA:", rankings["lca_std"].top(5).tolist())
    test = api.ablation_test(
        {name: rankings[name] for name in ("lca_std", "activation_sd")},
        hidden[train],
        tags[train],
        hidden[~train],
        tags[~train],
        groups=tokens["sentence"].to_numpy()[train],
        neurons=(1, 2, 4, 8, 16),
        random_repeats=5,
        oracle_neurons=16,
        **probe,
    )
    areas = {name: test.area(name) for name in ("lca_std", "activation_sd")}
    print("calibrated areas (0 = random neurons, 1 = greedy oracle):", {k: round(v, 2) for k, v in areas.items()})
    return areas


if __name__ == "__main__":
    main()
