"""Taggers: deterministic training, save/reload, label maps, neuron masks, activation dumps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from neurosieve.models.extract import tagger_extractor
from neurosieve.models.taggers import load_model, save_model
from neurosieve.models.training import evaluate, subset_sentences, train_tagger
from neurosieve.store.activations import activation_layers, read_keys, read_layer, write_activations
from neurosieve.store.corpus import sentences
from neurosieve.store.io import read_provenance

TINY = {"embedding_dim": 8, "hidden_dim": 8, "num_layers": 2, "num_heads": 2, "dropout": 0.1}
FAST = {"epochs": 2, "batch_size": 16, "lr": 0.01, "clip": 5.0, "word_dropout": 0.05}
# The shared model must have learned chunks for its masks to matter: FAST left CoNLL-2000's first 200 sentences at
# test F1 9.4 and leaves the sample's at 0 (its sentences are shorter: 26 updates); this budget reaches F1 33 on the
# sample, against 3.7 with the top layer zeroed.
LEARN = {**FAST, "epochs": 6, "lr": 0.02}


@pytest.fixture(scope="module")
def trained(small_tokens: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    return train_tagger(small_tokens["train"], small_tokens["test"], "bilstm", 3, TINY, LEARN, progress=False)


@pytest.mark.parametrize("kind", ["bilstm", "transformer"])
def test_same_seed_same_metrics(small_tokens: dict[str, pd.DataFrame], kind: str) -> None:
    runs = [
        train_tagger(small_tokens["train"], small_tokens["test"], kind, 7, TINY, FAST, progress=False)[2]
        for _ in range(2)
    ]
    assert runs[0]["test"] == runs[1]["test"] and runs[0]["curve"] == runs[1]["curve"]
    other = train_tagger(small_tokens["train"], small_tokens["test"], kind, 8, TINY, FAST, progress=False)[2]
    assert other["curve"] != runs[0]["curve"]


def test_metrics_record_everything(trained, small_tokens) -> None:  # type: ignore[no-untyped-def]
    _, vocab, m = trained
    assert set(m["test"]) == {"precision", "recall", "f1", "token_accuracy", "f1_low", "f1_high"}
    assert m["test"]["f1_low"] <= m["test"]["f1"] <= m["test"]["f1_high"]  # the final F1's test-set interval
    assert len(m["curve"]) == LEARN["epochs"] and m["seed"] == 3 and "torch" in m["versions"]
    assert m["layer_dims"] == [8 + 16, 16, 16]
    both = set(small_tokens["train"]["chunk"].astype(str)) | set(small_tokens["test"]["chunk"].astype(str))
    assert m["labels"] == vocab.labels == sorted(both)


def test_label_map_spans_train_and_test() -> None:
    train = pd.DataFrame(
        {"sentence": [0, 0], "position": [0, 1], "word": ["a", "b"], "pos": ["DT", "NN"], "chunk": ["B-NP", "I-NP"]}
    )
    test = pd.DataFrame({"sentence": [0], "position": [0], "word": ["1"], "pos": ["LS"], "chunk": ["I-LST"]})
    _, vocab, m = train_tagger(train, test, "bilstm", 0, TINY, {**FAST, "epochs": 1}, progress=False)
    assert vocab.labels == ["B-NP", "I-LST", "I-NP"]


def test_subset_is_seeded() -> None:
    a, b = subset_sentences(100, 0.5, 1), subset_sentences(100, 0.5, 2)
    assert len(a) == 50 and not np.array_equal(a, b) and np.array_equal(a, subset_sentences(100, 0.5, 1))
    assert len(subset_sentences(100, None, 1)) == 100


def test_near_twin_starts_from_the_same_init_and_ends_different(small_tokens: dict[str, pd.DataFrame]) -> None:
    train, test = small_tokens["train"], small_tokens["test"]
    model, _, m = train_tagger(train, test, "bilstm", 5, TINY, FAST, subset=0.8, progress=False)
    twin, _, t = train_tagger(train, test, "bilstm", 5, TINY, FAST, subset=0.8, progress=False, order_seed=11)
    other = train_tagger(train, test, "bilstm", 6, TINY, FAST, subset=0.8, progress=False)[2]
    # Same initial weights and the same sentences as its partner; another seed draws other ones.
    assert t["init_weights_sha256"] == m["init_weights_sha256"] != other["init_weights_sha256"]
    assert t["train_subset"]["sentences"] == m["train_subset"]["sentences"] != other["train_subset"]["sentences"]
    assert len(m["train_subset"]["sentences"]) == m["train_sentences"] == round(0.8 * m["train_subset"]["of"])
    assert (t["seed"], t["order_seed"], m["order_seed"]) == (5, 11, 5)
    # ...but another data order: the trained weights differ.
    a, b = model.state_dict(), twin.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_reload_reproduces_activations_exactly(trained, small_tokens, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, vocab, _ = trained
    save_model(model, vocab, tmp_path / "m")
    again, vocab2 = load_model(tmp_path / "m")
    test = small_tokens["test"]
    write_activations(
        test, tagger_extractor(model, vocab, 16), tmp_path / "a.parquet", {"x": 1}, block_sentences=25, progress=False
    )
    write_activations(
        test, tagger_extractor(again, vocab2, 16), tmp_path / "b.parquet", {"x": 1}, block_sentences=25, progress=False
    )
    # Other batch compositions change only float rounding.
    write_activations(test, tagger_extractor(again, vocab2, 7), tmp_path / "c.parquet", {"x": 1}, progress=False)
    for layer in activation_layers(tmp_path / "a.parquet"):
        np.testing.assert_array_equal(
            read_layer(tmp_path / "a.parquet", layer), read_layer(tmp_path / "b.parquet", layer)
        )
        np.testing.assert_allclose(
            read_layer(tmp_path / "a.parquet", layer), read_layer(tmp_path / "c.parquet", layer), atol=1e-5
        )
    assert evaluate(model, vocab, test) == evaluate(again, vocab2, test)


def test_activation_table_layout(trained, small_tokens, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, vocab, _ = trained
    test = small_tokens["test"]
    dims = write_activations(
        test, tagger_extractor(model, vocab), tmp_path / "a.parquet", {"seed": 3}, block_sentences=20, progress=False
    )
    path = tmp_path / "a.parquet"
    assert dims == [24, 16, 16] and activation_layers(path) == ["layer_0", "layer_1", "layer_2"]
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == len(test) and meta.num_row_groups == 3  # one row group per block of 20 sentences
    x = read_layer(path, 1)
    assert x.shape == (len(test), 16) and x.dtype == np.float32 and x.flags.writeable
    # Read a row group at a time, the layer is the whole column's values in order.
    whole = pq.read_table(path, columns=["layer_1"]).column("layer_1").combine_chunks().flatten().to_numpy()
    np.testing.assert_array_equal(x, whole.reshape(-1, 16))
    keys = read_keys(path)
    assert keys["word"].astype(str).tolist() == test["word"].astype(str).tolist()
    assert read_provenance(path)["layer_dims"] == [24, 16, 16]
    # The activation of a token does not depend on the block it was computed in (batching is exact).
    direct = model(*_one(vocab, sentences(test)[5]))[1][1][0].detach().numpy()
    start = int(np.flatnonzero(test["sentence"].to_numpy() == 5)[0])
    np.testing.assert_allclose(x[start : start + len(direct)], direct, atol=1e-5)
    with pytest.raises(KeyError, match="layer_9"):
        read_layer(path, 9)


def _one(vocab, words):  # type: ignore[no-untyped-def]
    w, s = vocab.encode_words(words)
    return torch.tensor([w]), torch.tensor([s]), torch.tensor([len(w)])


def test_masks_zero_neurons(trained, small_tokens) -> None:  # type: ignore[no-untyped-def]
    model, vocab, _ = trained
    args = _one(vocab, sentences(small_tokens["test"])[0])
    mask = torch.ones(16)
    mask[:5] = 0
    layers = model(*args, masks={1: mask})[1]
    assert torch.all(layers[1][..., :5] == 0) and torch.any(layers[1][..., 5:] != 0)
    full = evaluate(model, vocab, small_tokens["test"])
    dead = evaluate(model, vocab, small_tokens["test"], masks={2: torch.zeros(16)})
    assert dead["f1"] < full["f1"]


def test_load_missing_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a saved neurosieve model"):
        load_model(tmp_path)


def test_padded_bilstm_equals_packed() -> None:
    """The CPU path (both directions over the padded batch) gives the packed LSTM's outputs and gradients."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from neurosieve.models.taggers import padded_bilstm

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(12, 8, batch_first=True, bidirectional=True)
    lengths = torch.tensor([9, 1, 5, 9, 3, 7])
    x = torch.randn(6, 9, 12) * (torch.arange(9)[None, :, None] < lengths[:, None, None])
    x[1, 4] = 5.0  # junk in the padding must not reach any output
    ref, _ = pad_packed_sequence(
        lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))[0],
        batch_first=True,
        total_length=9,
    )
    got = padded_bilstm(lstm, x, lengths)
    torch.testing.assert_close(got, ref, atol=1e-6, rtol=1e-5)
    assert (got[1, 1:] == 0).all()
    params = list(lstm.parameters())
    g_ref = torch.autograd.grad((ref * torch.randn_like(ref, generator=torch.Generator().manual_seed(1))).sum(), params)
    g_got = torch.autograd.grad((got * torch.randn_like(got, generator=torch.Generator().manual_seed(1))).sum(), params)
    for a, b in zip(g_got, g_ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
