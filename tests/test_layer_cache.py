"""Model ablation from a cached layer gives exactly the scores of re-running the whole masked model."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from neurosieve.analysis.metrics import COUNTS_KEY, scores_from_counts
from neurosieve.models.layer_cache import LayerCache
from neurosieve.models.training import evaluate, train_tagger

# The tests' workflow configuration's two trained architectures and sizes (tests/config/workflow.yaml), trained a little longer.
FAMILIES = {
    "bilstm": ({"embedding_dim": 16, "hidden_dim": 16, "num_layers": 2}, {"epochs": 6, "batch_size": 32, "lr": 0.01}),
    "transformer": (
        {"embedding_dim": 16, "hidden_dim": 32, "num_layers": 2, "num_heads": 2, "dropout": 0.1},
        {"epochs": 6, "batch_size": 32, "lr": 0.003},
    ),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def trained(request, small_tokens):  # type: ignore[no-untyped-def]
    model_params, train_params = FAMILIES[request.param]
    model, vocab, _ = train_tagger(
        small_tokens["train"], small_tokens["test"], request.param, 1, model_params, train_params, progress=False
    )
    return model, vocab


def removals(width: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.array([], dtype=np.int64), np.arange(width)] + [
        rng.choice(width, size=k, replace=False) for k in (1, width // 4, width // 2, 3 * width // 4)
    ]


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_cache_equals_full_rerun(trained, small_tokens, layer: int) -> None:  # type: ignore[no-untyped-def]
    model, vocab = trained
    cache = LayerCache(model, vocab, small_tokens["test"], layer, batch_size=16)
    width = model.layer_dims[layer]
    seen = set()
    for removed in removals(width, layer):
        mask = torch.ones(width)
        mask[torch.as_tensor(removed, dtype=torch.long)] = 0.0
        full = evaluate(model, vocab, small_tokens["test"], masks={layer: mask}, batch_size=16)
        fast = cache.score(removed)
        counts = fast.pop(COUNTS_KEY)  # and the per-sentence chunk counts a bootstrap resamples
        assert counts.shape == (small_tokens["test"]["sentence"].nunique(), 3)
        assert fast.keys() == full.keys()
        assert scores_from_counts(counts)["f1"] == pytest.approx(full["f1"], abs=1e-9)
        for m in full:
            assert fast[m] == pytest.approx(full[m], abs=1e-9), (layer, len(removed), m)
        seen.add((round(full["f1"], 6), round(full["token_accuracy"], 6)))
    assert len(seen) > 1  # the removals change the scores: the comparison is not vacuous


def test_fill_replaces_removed_neurons(trained, small_tokens) -> None:  # type: ignore[no-untyped-def]
    """At the top layer the head is linear: filling removed neurons with f shifts the bias by W[:, removed] f."""
    model, vocab = trained
    top = len(model.layer_dims) - 1
    width = model.layer_dims[top]
    cache = LayerCache(model, vocab, small_tokens["test"], top)
    removed = np.arange(0, width, 2)
    fill = np.random.default_rng(0).normal(size=width).astype(np.float32) * 3
    shifted = copy.deepcopy(model)
    with torch.no_grad():
        shifted.out.bias += shifted.out.weight[:, torch.as_tensor(removed)] @ torch.as_tensor(fill[removed])
    mask = torch.ones(width)
    mask[torch.as_tensor(removed)] = 0.0
    expected = evaluate(shifted, vocab, small_tokens["test"], masks={top: mask})
    got = cache.score(removed, fill)
    assert got["f1"] == pytest.approx(expected["f1"], abs=1e-6)
    assert got["f1"] != pytest.approx(cache.score(removed)["f1"], abs=1e-6)  # the fill matters
    zero_fill, zeroed = cache.score(removed, np.zeros(width)), cache.score(removed)  # zero fill = zeroing
    assert np.array_equal(zero_fill.pop(COUNTS_KEY), zeroed.pop(COUNTS_KEY)) and zero_fill == zeroed
    with pytest.raises(ValueError, match="one value per neuron"):
        cache.score(removed, np.zeros(width + 1))


def test_model_rankings_from_the_tagger_itself(trained, small_tokens) -> None:  # type: ignore[no-untyped-def]
    """single_neuron orders by the F1 each neuron's lone removal costs; head_weight by |W_head|·sd (top layer)."""
    from neurosieve.stages.ablation import model_rankings

    model, vocab = trained
    top = len(model.layer_dims) - 1
    cache = LayerCache(model, vocab, small_tokens["test"], top, batch_size=16)
    orders = model_rankings(cache, model, top, ["head_weight", "single_neuron"])
    width = model.layer_dims[top]
    assert sorted(orders["single_neuron"]) == list(range(width)) == sorted(orders["head_weight"])
    full = cache.score([])["f1"]
    drops = [full - cache.score([j])["f1"] for j in orders["single_neuron"]]
    assert drops == sorted(drops, reverse=True)
    # head_weight by hand: the head's weight norm per neuron times the neuron's sd over the test tokens.
    h = torch.cat([b[2][torch.arange(b[2].shape[1])[None, :] < b[1][:, None]] for b in cache.batches]).double()
    want = model.out.weight.detach().double().norm(dim=0) * h.std(dim=0, unbiased=False)
    assert orders["head_weight"][0] == int(torch.argmax(want))
    assert "head_weight" not in model_rankings(
        LayerCache(model, vocab, small_tokens["test"], 0), model, 0, ["head_weight"]
    )


def test_chunk_lca_is_read_from_the_chunk_probe(trained, small_tokens, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The positive control is the chunk probe's lca_std ordering of the same instance and layer; without the
    chunk probe's orderings it is not computed (the near-twin's ablation has none)."""
    import pandas as pd

    from neurosieve.models.taggers import save_model
    from neurosieve.settings import ModelAblationSettings
    from neurosieve.stages.ablation import run_model_ablation
    from neurosieve.store.io import read_table

    model, vocab = trained
    save_model(model, vocab, tmp_path / "model")
    small_tokens["test"].to_parquet(tmp_path / "test.parquet")
    width = model.layer_dims[1]
    good = np.random.default_rng(1).permutation(width)
    orderings = pd.concat(
        [
            pd.DataFrame({"method": m, "rank": np.arange(1, width + 1), "neuron": o})
            for m, o in (("lca", np.arange(width)), ("lca_std", good))
        ]
    )
    orderings.to_parquet(tmp_path / "chunk_orderings.parquet")
    settings = ModelAblationSettings(remove_percent=(25,), random_repeats=1, fills=("zero",), seed=0, device="cpu")
    args = (str(tmp_path / "model"), str(tmp_path / "test.parquet"), 1, None, None, "seed1")
    curves = run_model_ablation(
        *args,
        str(tmp_path / "a.parquet"),
        settings,
        rankings=["chunk_lca"],
        chunk_orderings_path=str(tmp_path / "chunk_orderings.parquet"),
    )
    assert set(curves["ranking"]) == {"chunk_lca", "none"}
    cache = LayerCache(model, vocab, small_tokens["test"], 1)
    k = round(0.25 * width)
    top = curves[(curves["ranking"] == "chunk_lca") & (curves["direction"] == "top") & (curves["k"] == k)]
    top_f1 = top[top["metric"] == "f1"]["value"].item()
    assert top_f1 == pytest.approx(cache.score(good[:k])["f1"], abs=1e-9)
    assert read_table(tmp_path / "a.parquet").equals(curves)
    without = run_model_ablation(*args, str(tmp_path / "b.parquet"), settings, rankings=["chunk_lca"])
    assert set(without["ranking"]) == {"none"}


def test_the_chunk_probe_is_compared_with_the_tagger_on_the_same_tokens(trained, small_tokens, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """At the top layer (the head's input), model ablation reads the chunk probe's per-token correctness and writes
    the probe's token accuracy minus the tagger's, with its sentence-bootstrap interval; a probe that is right
    exactly where the tagger is gives 0, one right everywhere gives the tagger's error rate."""
    import pandas as pd

    from neurosieve.analysis.ablation import PROBE_MINUS_TAGGER
    from neurosieve.models.taggers import save_model
    from neurosieve.settings import ModelAblationSettings
    from neurosieve.stages.ablation import run_model_ablation

    model, vocab = trained
    top = len(model.layer_dims) - 1
    save_model(model, vocab, tmp_path / "model")
    test = small_tokens["test"]
    test.to_parquet(tmp_path / "test.parquet")
    cache = LayerCache(model, vocab, test, top)
    tagger = cache.token_right()
    assert 100 * tagger.mean() == pytest.approx(cache.score([])["token_accuracy"])
    settings = ModelAblationSettings(remove_percent=(50,), random_repeats=1, fills=("zero",), seed=0, device="cpu")

    def compared(right: np.ndarray, layer: int = top) -> pd.Series:
        path = tmp_path / f"tokens{layer}.parquet"
        pd.DataFrame({"sentence": test["sentence"].to_numpy(), "right": right.astype(np.float32)}).to_parquet(path)
        args = (str(tmp_path / "model"), str(tmp_path / "test.parquet"), layer, None, None, "seed1")
        curves = run_model_ablation(
            *args, str(tmp_path / "out.parquet"), settings, rankings=["head_weight"], chunk_tokens_path=str(path)
        )
        return curves[curves["metric"].str.startswith(PROBE_MINUS_TAGGER)].set_index("metric")["value"]

    same = compared(tagger)
    assert same.to_dict() == {
        PROBE_MINUS_TAGGER: 0.0,
        f"{PROBE_MINUS_TAGGER}_low": 0.0,
        f"{PROBE_MINUS_TAGGER}_high": 0.0,
    }
    perfect = compared(np.ones_like(tagger))
    errors = 1 - tagger.mean()
    assert errors > 0 and perfect[PROBE_MINUS_TAGGER] == pytest.approx(errors)
    assert perfect[f"{PROBE_MINUS_TAGGER}_low"] < errors < perfect[f"{PROBE_MINUS_TAGGER}_high"]
    assert compared(tagger, layer=top - 1).empty  # below the top layer the probe does not read the head's input
    shuffled = test.sample(frac=1.0, random_state=0)
    pd.DataFrame({"sentence": shuffled["sentence"].to_numpy(), "right": 1.0}).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="does not hold the test tokens"):
        run_model_ablation(
            str(tmp_path / "model"),
            str(tmp_path / "test.parquet"),
            top,
            None,
            None,
            "seed1",
            str(tmp_path / "bad_out.parquet"),
            settings,
            rankings=["head_weight"],
            chunk_tokens_path=str(tmp_path / "bad.parquet"),
        )
    assert not (tmp_path / "bad_out.parquet").exists()
