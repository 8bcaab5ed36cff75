"""Fine-tuned families: a tiny random BERT fine-tuned for chunking per seed; save, reload, dump, ablate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from neurosieve.models.finetuning import (
    evaluate_finetuned,
    finetune_tagger,
    is_finetuned,
    load_finetuned,
    neuron_masks,
    predict_finetuned,
)
from neurosieve.models.pretrained import word_pieces
from neurosieve.settings import FinetuneSettings, ModelAblationSettings
from neurosieve.stages.activations import dump_pretrained_activations, dump_tagger_activations
from neurosieve.stages.training import run_finetuning
from neurosieve.store.activations import activation_layers, read_layer
from neurosieve.store.corpus import first_sentences, sentences, token_table_to_arrow
from neurosieve.store.io import read_json, write_parquet

FAST = {"epochs": 2, "batch_size": 8, "lr": 1e-3, "head_lr": 5e-3, "warmup": 0.1, "clip": 1.0, "dropout": 0.1}


@pytest.fixture(scope="module")
def data(small_tokens: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {"train": first_sentences(small_tokens["train"], 80), "test": first_sentences(small_tokens["test"], 30)}


@pytest.fixture(scope="module")
def saved(tiny_bert: Path, data: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fine-tuned instance saved through the workflow edge (token tables on disk, seed 3, half the sentences)."""
    d = tmp_path_factory.mktemp("ft")
    for split, tokens in data.items():
        write_parquet(token_table_to_arrow(tokens), d / f"{split}.parquet")
    run_finetuning(
        str(d / "train.parquet"),
        str(d / "test.parquet"),
        str(d / "model"),
        str(d / "metrics.json"),
        FinetuneSettings(model=str(tiny_bert), train=FAST, pooling="last", max_length=None, subset=0.5, device="cpu"),
        3,
    )
    return d


def test_seed_fixes_everything(tiny_bert: Path, data: dict[str, pd.DataFrame]) -> None:
    runs = [
        finetune_tagger(data["train"], data["test"], str(tiny_bert), 5, FAST, subset=0.5, device="cpu", progress=False)
        for _ in range(2)
    ]
    assert runs[0][3]["curve"] == runs[1][3]["curve"]
    for a, b in zip(runs[0][0].state_dict().values(), runs[1][0].state_dict().values()):
        assert torch.equal(a, b)
    other = finetune_tagger(
        data["train"], data["test"], str(tiny_bert), 6, FAST, subset=0.5, device="cpu", progress=False
    )
    assert other[3]["curve"] != runs[0][3]["curve"]
    assert not torch.equal(other[0].head.weight, runs[0][0].head.weight)


def test_fine_tuning_learns_chunks(saved: Path) -> None:
    m = read_json(saved / "metrics.json")
    assert m["kind"] == "finetuned" and m["seed"] == 3 and m["train_sentences"] == 40
    assert set(m["test"]) == {"precision", "recall", "f1", "token_accuracy"}
    assert m["layer_dims"] == [32, 32, 32]
    # A random 2-layer BERT, 40 sentences: far from good, but well above the untrained head's chance level.
    assert m["curve"][-1]["train_loss"] < m["curve"][0]["train_loss"]
    assert m["test"]["token_accuracy"] > 30


def test_reload_predicts_the_same(saved: Path, tiny_bert: Path, data: dict[str, pd.DataFrame]) -> None:
    assert is_finetuned(saved / "model") and not is_finetuned(tiny_bert)
    model, windowing, labels = load_finetuned(saved / "model")
    scores = evaluate_finetuned(model, windowing, labels, data["test"])
    assert scores == pytest.approx(read_json(saved / "metrics.json")["test"])
    # Batch composition does not change predictions.
    sents = sentences(data["test"], "word")
    assert predict_finetuned(model, windowing, labels, sents, 3) == predict_finetuned(
        model, windowing, labels, sents, 64
    )


def test_activations_of_the_fine_tuned_encoder(saved: Path, tiny_bert: Path, tmp_path: Path) -> None:
    dims = dump_tagger_activations(
        saved / "model",
        saved / "test.parquet",
        tmp_path / "ft.parquet",
        batch_size=4,
        device="cpu",
        layers=[0, 2],
        dtype="float16",
    )
    assert dims == [32, 32] and activation_layers(tmp_path / "ft.parquet") == ["layer_0", "layer_2"]
    dump_pretrained_activations(
        str(tiny_bert), saved / "test.parquet", tmp_path / "src.parquet", device="cpu", layers=[2]
    )
    tuned, source = read_layer(tmp_path / "ft.parquet", 2), read_layer(tmp_path / "src.parquet", 2)
    assert tuned.shape == source.shape
    assert np.abs(tuned - source).mean() > 1e-2  # fine-tuning moved the encoder


def test_masks_ablate_inside_the_encoder(saved: Path, data: dict[str, pd.DataFrame]) -> None:
    model, windowing, labels = load_finetuned(saved / "model")
    sents = sentences(data["test"], "word")[:5]
    seqs, n = windowing.inputs(word_pieces(windowing.tokenizer, sents))
    with torch.no_grad():
        plain = model(seqs, n, windowing.pad_id)
        with neuron_masks(model.encoder, {1: torch.ones(32)}):
            ones = model(seqs, n, windowing.pad_id)
        with neuron_masks(model.encoder, {1: torch.zeros(32)}):
            zeroed = model(seqs, n, windowing.pad_id)
        again = model(seqs, n, windowing.pad_id)
    torch.testing.assert_close(ones, plain)
    assert not torch.allclose(zeroed, plain)
    torch.testing.assert_close(again, plain)  # hooks are removed when the context closes
    with pytest.raises(ValueError, match="layer 7"):
        with neuron_masks(model.encoder, {7: torch.zeros(32)}):
            pass


def test_model_ablation_runs_on_a_fine_tuned_instance(saved: Path, tmp_path: Path) -> None:
    from neurosieve.stages.ablation import run_model_ablation

    order = pd.DataFrame({"method": "lca", "rank": np.arange(32), "neuron": np.random.default_rng(0).permutation(32)})
    order.to_parquet(tmp_path / "orderings.parquet")
    curves = run_model_ablation(
        str(saved / "model"),
        str(saved / "test.parquet"),
        2,
        str(tmp_path / "orderings.parquet"),
        None,
        "seed3",
        str(tmp_path / "curve.parquet"),
        ModelAblationSettings(remove_percent=(50,), random_repeats=1, fills=("zero",), seed=0, device="cpu"),
        rankings=["lca"],
    )
    f1 = curves[curves["metric"] == "f1"]
    full = read_json(saved / "metrics.json")["test"]["f1"]
    assert f1[f1["k"] == 0]["value"].iloc[0] == pytest.approx(full)
    assert set(f1["k"]) == {0, 16, 32} and set(f1["direction"]) == {"top", "bottom", "random"}
    # All 32 neurons of the last layer removed: the head sees only its bias.
    assert f1[f1["k"] == 32]["value"].iloc[0] != pytest.approx(full)
