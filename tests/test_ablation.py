"""Ablation on planted data: removing the planted neurons hurts most; the end points are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from neurosieve.analysis.ablation import (
    COUNTS_KEY,
    k_grid,
    model_ablation,
    predictive_value,
    predictive_value_draws,
    probe_ablation,
    random_selections,
    rankings_from_tables,
    reported_ks,
    reported_points,
    selection,
)
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import grouped_accuracy

PARAMS = {"epochs": 4, "batch_size": 512, "l1": 1e-4, "l2": 1e-4}


def planted(n: int = 4000, d: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[np.arange(n), y] += 3.0  # neurons 0-2 decide the label
    return X, np.array(["NN", "DT", ","])[y]


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    X, y = planted()
    probe = ElasticNetProbe(random_state=0, **PARAMS).fit(X[:3000], y[:3000])
    open_mask = y[3000:] == "NN"
    good = np.array([0, 1, 2, *range(3, 12)])  # planted neurons first
    return X, y, probe, open_mask, {"good": good, "reversed": good[::-1].copy()}


def test_k_grid() -> None:
    assert k_grid(200, [10, 50], [3, 500]) == [0, 3, 20, 100, 200]


def test_selection_ends() -> None:
    order = np.array([4, 2, 0, 1, 3])
    assert selection(order, 2, "top").tolist() == [4, 2] and selection(order, 2, "bottom").tolist() == [1, 3]
    assert selection(order, 0, "bottom").tolist() == []
    a = random_selections(10, 4, 2, 0)
    assert a[0][1].tolist() == random_selections(10, 4, 2, 0)[0][1].tolist() and len(a) == 2


def test_probe_ablation_planted(setup) -> None:  # type: ignore[no-untyped-def]
    X, y, probe, open_mask, rankings = setup
    curves = probe_ablation(
        probe, X[:3000], y[:3000], X[3000:], y[3000:], open_mask, rankings, ks=[0, 3, 12], random_repeats=2
    )
    acc = curves[curves["metric"] == "accuracy_overall"].set_index(["ranking", "direction", "mode", "k"])["value"]
    full = probe.score(X[3000:], y[3000:])
    # k = all: masking is the probe as trained; retraining (same budget, every neuron) is the full probe again.
    assert acc[("good", "top", "mask", 12)] == pytest.approx(full)
    assert acc[("good", "top", "retrain", 12)] == acc[("good", "top", "mask", 12)]
    assert acc[("reversed", "top", "retrain", 12)] == full  # whatever the ranking's order of the kept neurons
    # Keeping the 3 planted neurons keeps the accuracy; keeping 3 others loses it (chance is ~1/3).
    for mode in ("mask", "retrain"):
        assert acc[("good", "top", mode, 3)] > 0.9
        assert acc[("good", "bottom", mode, 3)] < 0.5
        assert acc[("reversed", "top", mode, 3)] < 0.5
    # k = 0: the retrained probe predicts the majority label.
    majority = pd.Series(y[:3000]).value_counts().idxmax()
    assert acc[("good", "top", "retrain", 0)] == pytest.approx((y[3000:] == majority).mean())
    rnd = curves[(curves["direction"] == "random") & (curves["metric"] == "accuracy_overall")]
    assert set(rnd["random_seed"].dropna()) == {0, 1} and set(rnd["k"]) == {0, 3, 12}
    assert {"accuracy_open", "accuracy_closed"} <= set(curves["metric"])


def test_retrains_at_the_reported_shares_average_probe_seeds(setup) -> None:  # type: ignore[no-untyped-def]
    """At the seeded k, a ranking's retrained accuracy is the mean of fits with probe seeds 0, 1, 2 (each as its solo
    fit); elsewhere, and for random selections and masks, one fit."""
    X, y, probe, open_mask, rankings = setup
    # A probe whose seed matters: a short budget from a random start.
    noisy = ElasticNetProbe(random_state=0, epochs=1, batch_size=64, l1=1e-4, l2=1e-4).fit(X[:3000], y[:3000])
    args = (noisy, X[:3000], y[:3000], X[3000:], y[3000:], open_mask, rankings)
    curves = probe_ablation(*args, ks=[2, 4], random_repeats=2, probe_seeds=3, seeded_ks={2})
    acc = curves[curves["metric"] == "accuracy_overall"].set_index(["ranking", "direction", "mode", "k"])
    kept = selection(rankings["good"], 2, "top")
    solo = [
        float(
            np.mean(
                noisy.__class__(**{**noisy.get_params(), "random_state": s})
                .fit(X[:3000, kept], y[:3000])
                .predict(X[3000:, kept])
                == y[3000:]
            )
        )
        for s in (0, 1, 2)
    ]
    assert len(set(solo)) > 1  # the seeds give different probes, so the average is not one of them
    assert acc.loc[("good", "top", "retrain", 2), "value"] == pytest.approx(np.mean(solo), abs=1e-6)
    assert acc.loc[("good", "top", "retrain", 2), "probe_seeds"] == 3
    assert acc.loc[("good", "top", "retrain", 4), "probe_seeds"] == 1
    assert acc.loc[("good", "top", "mask", 2), "probe_seeds"] == 1
    random_rows = curves[(curves["direction"] == "random") & (curves["mode"] == "retrain") & (curves["k"] == 2)]
    assert (random_rows["probe_seeds"] == 1).all()
    # One probe seed gives the unseeded values.
    once = probe_ablation(*args, ks=[2, 4], random_repeats=2, probe_seeds=1, seeded_ks={2})
    one = once[once["metric"] == "accuracy_overall"].set_index(["ranking", "direction", "mode", "k"])
    assert one.loc[("good", "top", "retrain", 2), "value"] == pytest.approx(solo[0], abs=1e-6)


def test_gaps_at_the_reported_shares_carry_a_sentence_bootstrap_interval(setup) -> None:  # type: ignore[no-untyped-def]
    """The planted top-3 beats the bottom 3 by about 60 points: the interval lies around the measured gap; it is
    the bootstrap of the token-level difference, so it brackets the difference of the two accuracies."""
    from neurosieve.analysis.verdicts import sentence_bootstrap

    X, y, probe, open_mask, rankings = setup
    sentences = np.arange(1000) // 10  # 100 test "sentences" of 10 tokens
    args = (probe, X[:3000], y[:3000], X[3000:], y[3000:], open_mask, rankings)
    curves = probe_ablation(*args, ks=[3, 12], random_repeats=3, seeded_ks={3}, sentences=sentences)
    acc = curves[curves["metric"] == "accuracy_overall"].set_index(["ranking", "direction", "mode", "k"])["value"]
    gaps = curves[curves["metric"].str.startswith("gap_")]
    assert set(gaps["k"]) == {3} and set(gaps["mode"]) == {"mask", "retrain"}  # only at the seeded k
    # The masked probe's gap (its own selections, no retraining) has its bounds too.
    masked = gaps[gaps["mode"] == "mask"].set_index(["ranking", "metric"])["value"]
    gap = acc[("good", "top", "mask", 3)] - acc[("good", "bottom", "mask", 3)]
    assert masked[("good", "gap_bottom_low")] <= gap <= masked[("good", "gap_bottom_high")]
    rnd = acc.xs(("none", "random", "mask", 3)).mean()
    assert masked[("good", "gap_random_low")] <= acc[("good", "top", "mask", 3)] - rnd
    assert acc[("good", "top", "mask", 3)] - rnd <= masked[("good", "gap_random_high")]
    bounds = gaps[gaps["mode"] == "retrain"].set_index(["ranking", "k", "metric"])["value"]
    gap = acc[("good", "top", "retrain", 3)] - acc[("good", "bottom", "retrain", 3)]
    low, high = bounds[("good", 3, "gap_bottom_low")], bounds[("good", 3, "gap_bottom_high")]
    assert gap > 0.4 and low < gap < high and high - low < 0.2
    kept = curves[curves["metric"].str.startswith("kept_") & (curves["mode"] == "retrain")]
    kept = kept.set_index(["ranking", "k", "metric"])["value"]
    assert kept[("good", 3, "kept_low")] < acc[("good", "top", "retrain", 3)] < kept[("good", 3, "kept_high")]
    # Against the random draws: the token-level mean of the draws, bootstrapped the same way (seeded).
    rnd = acc.xs(("none", "random", "retrain", 3)).mean()
    assert bounds[("good", 3, "gap_random_low")] < acc[("good", "top", "retrain", 3)] - rnd
    assert sentence_bootstrap(np.ones(10), np.arange(10)) == (1.0, 1.0)
    # What the top 3 lose against all 12 neurons retrained, by word class: intervals around the curves' own values.
    lost = curves[curves["metric"].str.startswith("lost_")].set_index(["ranking", "k", "metric"])["value"]
    assert set(lost.index.get_level_values("k")) == {3}
    regained = acc[("good", "top", "retrain", 3)] / acc[("good", "top", "retrain", 12)]
    assert curves.query("metric == 'regained_low'")["value"].iloc[0] <= regained
    assert regained <= curves.query("metric == 'regained_high'")["value"].iloc[0]
    by_group = curves[curves["metric"].str.startswith("accuracy_")].set_index(
        ["ranking", "direction", "mode", "k", "metric"]
    )["value"]

    def lost_in(group: str) -> float:
        return (
            by_group[("good", "top", "retrain", 12, f"accuracy_{group}")]
            - by_group[("good", "top", "retrain", 3, f"accuracy_{group}")]
        )

    for stem, value in (
        ("lost_open", lost_in("open")),
        ("lost_closed", lost_in("closed")),
        ("lost_open_minus_closed", lost_in("open") - lost_in("closed")),
    ):
        assert lost[("good", 3, f"{stem}_low")] <= value <= lost[("good", 3, f"{stem}_high")], stem
    retrained_random = curves[(curves["direction"] == "random") & (curves["mode"] == "retrain") & (curves["k"] == 3)]
    rnd_open, rnd_closed = (
        retrained_random.loc[retrained_random["metric"] == f"accuracy_{g}", "value"].mean() for g in ("open", "closed")
    )
    beyond = (lost_in("open") - lost_in("closed")) - (
        (by_group[("good", "top", "retrain", 12, "accuracy_open")] - rnd_open)
        - (by_group[("good", "top", "retrain", 12, "accuracy_closed")] - rnd_closed)
    )
    low, high = (
        lost[("good", 3, "lost_open_minus_closed_vs_random_low")],
        lost[("good", 3, "lost_open_minus_closed_vs_random_high")],
    )
    assert low <= beyond <= high
    # Without sentence ids, no interval rows.
    plain = probe_ablation(*args, ks=[3, 12], random_repeats=3, seeded_ks={3})
    assert not plain["metric"].str.startswith(("gap_", "lost_")).any()


def test_reported_points_are_the_grid_points_nearest_10_and_20_percent() -> None:
    assert reported_points([0, 5, 10.2, 19, 50, 100]) == {10.2: 10, 19.0: 20}
    assert reported_points([40, 50, 100]) == {40.0: 10}  # one point nearest both: named once, by the first share
    assert reported_points([]) == {}
    assert reported_ks(k_grid(256, [5, 10, 20, 50], [1, 2, 4, 8, 16, 32, 64, 128]), 256) == {26, 51}


def test_model_ablation_end_points() -> None:
    # A "model" whose score is the share of the first four neurons still present.
    calls = []

    def score(removed: np.ndarray) -> dict[str, float]:
        calls.append(len(removed))
        return {"f1": 100.0 * (4 - np.isin(np.arange(4), removed).sum()) / 4}

    order = np.arange(8)
    c = model_ablation(score, 8, {"r": order}, ks=[0, 2, 8], random_repeats=1)
    f1 = c.set_index(["ranking", "direction", "k"])["value"]
    assert f1[("r", "top", 0)] == 100 and f1[("r", "top", 8)] == 0
    assert f1[("r", "top", 2)] == 50 and f1[("r", "bottom", 2)] == 100
    assert len(calls) < len(c)  # identical removals (k = 0, k = all) are scored once


def test_tagger_ablation_hurts(small_tokens) -> None:  # type: ignore[no-untyped-def]
    from neurosieve.models.training import evaluate, train_tagger

    model, vocab, _ = train_tagger(
        small_tokens["train"],
        small_tokens["test"],
        "bilstm",
        0,
        {"embedding_dim": 16, "hidden_dim": 8, "num_layers": 1},
        {"epochs": 10, "batch_size": 16, "lr": 0.02},
        progress=False,
    )

    def score(removed: np.ndarray) -> dict[str, float]:
        mask = torch.ones(16)
        mask[torch.as_tensor(removed, dtype=torch.long)] = 0
        return {"f1": evaluate(model, vocab, small_tokens["test"], masks={1: mask})["f1"]}

    c = model_ablation(score, 16, {"id": np.arange(16)}, ks=[0, 16], random_repeats=1).set_index(["direction", "k"])[
        "value"
    ]
    assert c[("top", 0)] == pytest.approx(evaluate(model, vocab, small_tokens["test"])["f1"])
    assert c[("top", 16)] < c[("top", 0)]


def test_rankings_from_tables() -> None:
    orderings = pd.DataFrame({"method": ["lca"] * 3, "rank": [1, 2, 3], "neuron": [2, 0, 1]})
    scores = pd.DataFrame(
        {"instance": ["a"] * 3 + ["b"] * 3, "neuron": [0, 1, 2] * 2, "rank_maxcorr": [3, 1, 2, 1, 2, 3]}
    )
    r = rankings_from_tables(orderings, scores, "a", ["lca", "maxcorr"])
    assert r["lca"].tolist() == [2, 0, 1] and r["maxcorr"].tolist() == [1, 2, 0]
    with pytest.raises(KeyError, match="bogus"):
        rankings_from_tables(orderings, scores, "a", ["bogus"])


def test_grouped_accuracy() -> None:
    g = grouped_accuracy(np.array(["a", "b", "c"]), np.array(["a", "x", "c"]), np.array([True, True, False]))
    assert g == {"overall": pytest.approx(2 / 3), "open": 0.5, "closed": 1.0}


def test_predictive_value_ranks_the_method_that_knows_the_planted_effect_first() -> None:
    # Planted model: each neuron has an importance; F1 falls by the importance of every neuron removed.
    rng = np.random.default_rng(3)
    importance = rng.exponential(size=40)
    importance[[5, 17, 23]] += 10.0

    def score(removed: np.ndarray) -> dict[str, float]:
        return {"f1": 100.0 * (1 - importance[removed].sum() / importance.sum())}

    exact = np.argsort(-importance, kind="stable")
    noisy = np.argsort(-(importance + rng.normal(scale=2.0, size=40)), kind="stable")  # knows the effect, noisily
    rankings = {"exact": exact, "noisy": noisy, "blind": rng.permutation(40), "reversed": exact[::-1].copy()}
    curves = model_ablation(score, 40, rankings, ks=k_grid(40, [10, 25, 50]), random_repeats=5).assign(
        instance="a", layer=1
    )
    pv = predictive_value(curves).set_index("ranking")["predictive_value"]
    assert pv.sort_values(ascending=False).index.tolist() == ["exact", "noisy", "blind", "reversed"]
    assert pv["exact"] > 10 and pv["reversed"] < -10 and abs(pv["blind"]) < pv["exact"] / 2
    assert predictive_value(curves).set_index("ranking").loc["exact", "n_k"] == 3  # k = 0 and k = all carry no signal


def test_predictive_value_takes_random_curves_from_another_table() -> None:
    def score(removed: np.ndarray) -> dict[str, float]:
        return {"f1": 100.0 - 10 * np.isin(removed, [0, 1]).sum()}

    base = model_ablation(score, 4, {"r": np.arange(4)}, ks=[0, 1, 2, 4], random_repeats=3).assign(
        instance="a", layer=1
    )
    ranked = base[base["direction"] != "random"].assign(condition="with twin")
    pv = predictive_value(ranked, random=base)
    assert pv["condition"].tolist() == ["with twin"] and pv["predictive_value"].item() > 0
    with pytest.raises(ValueError, match="random-removal"):
        predictive_value(ranked)


def test_predictive_value_carries_a_sentence_bootstrap_interval() -> None:
    """With per-sentence chunk counts, model ablation writes each ranking's predictive value interval over
    resampled test sentences: its draws with every sentence once give the curves' predictive value exactly, the
    interval brackets it, and a ranking that knows the planted effect stays above zero."""
    rng = np.random.default_rng(5)
    sentences, width = 300, 20
    gold = rng.integers(2, 8, size=sentences)
    # Each neuron costs some sentences a chunk when removed; neurons 0-2 cost many sentences one each.
    cost = (rng.random((sentences, width)) < 0.02).astype(int)
    cost[:, :3] |= rng.random((sentences, 3)) < 0.4

    def score(removed: np.ndarray) -> dict[str, object]:
        right = np.maximum(gold - cost[:, np.asarray(removed, dtype=int)].sum(axis=1), 0)
        counts = np.stack([right, gold, gold], axis=1)
        return {"f1": 200.0 * right.sum() / (2 * gold.sum()), COUNTS_KEY: counts}

    rankings = {"knows": np.r_[np.arange(3), rng.permutation(np.arange(3, width))], "blind": rng.permutation(width)}
    curves = model_ablation(score, width, rankings, ks=k_grid(width, [10, 25, 50]), random_repeats=4, seed=1)
    assert COUNTS_KEY not in set(curves["metric"])  # counts are resampled, not written as rows
    pv = predictive_value(curves.assign(instance="a", layer=1)).set_index("ranking")["predictive_value"]
    bounds = curves[curves["metric"].str.startswith("predictive_value_")].pivot_table(
        index="ranking", columns="metric", values="value"
    )
    assert (
        set(bounds.index) == {"knows", "blind"}
        and (curves.loc[curves["metric"] == "predictive_value_low", "k"] == 0).all()
    )
    for name in ("knows", "blind"):
        assert bounds.loc[name, "predictive_value_low"] < pv[name] < bounds.loc[name, "predictive_value_high"]
    assert bounds.loc["knows", "predictive_value_low"] > 0 and pv["knows"] > 5
    # The draws' arithmetic: one "resample" holding every sentence once is the curves' value itself.
    counts: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for k in k_grid(width, [10, 25, 50]):
        counts[("none", "random", k)] = [score(removed)[COUNTS_KEY] for _, removed in random_selections(width, k, 4, 1)]
        for name, order in rankings.items():
            counts[(name, "top", k)] = [score(selection(order, k, "top"))[COUNTS_KEY]]
    once = predictive_value_draws(counts, width, lambda v: np.array([np.sum(v)], dtype=np.float64))
    assert once["knows"][0] == pytest.approx(pv["knows"]) and once["blind"][0] == pytest.approx(pv["blind"])


def test_mean_ablation_replaces_by_the_fill_value() -> None:
    from neurosieve.models.taggers import apply_mask

    h = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    keep = torch.tensor([1.0, 0.0, 1.0])
    assert torch.equal(apply_mask(h, keep), h * keep)
    out = apply_mask(h, torch.stack([keep, torch.tensor([9.0, 7.0, 9.0])]))
    assert out[:, 1].tolist() == [7.0, 7.0] and torch.equal(out[:, [0, 2]], h[:, [0, 2]])


@pytest.mark.parametrize("budget", [{}, {"standardize": True, "min_steps": 50, "lr": 0.1}])
def test_retrain_every_neuron_equals_full_probe(budget) -> None:  # type: ignore[no-untyped-def]
    """Equal budgets: a retrained probe reuses the full probe's parameters, so k = all gives the full probe's predictions."""
    from neurosieve.analysis.probing import retrain_predict

    X, y = planted(n=1500)
    probe = ElasticNetProbe(random_state=3, **PARAMS, **budget).fit(X[:1000], y[:1000])
    shuffled = np.random.default_rng(0).permutation(X.shape[1])
    np.testing.assert_array_equal(
        retrain_predict(probe, X[:1000], y[:1000], X[1000:], shuffled), probe.predict(X[1000:])
    )
    # A budget that differs (fewer epochs) is not what ablation uses: it gives a different probe.
    short = ElasticNetProbe(**{**probe.get_params(), "epochs": 1, "min_steps": 0}).fit(X[:1000], y[:1000])
    assert not np.array_equal(short.coef_, probe.coef_)


def _pool_files(tmp_path):  # type: ignore[no-untyped-def]
    """Train and test activation files of three 20-wide layers; layer 1's neurons 0-2 carry the POS label."""
    from neurosieve.store.activations import write_activations

    rng = np.random.default_rng(3)
    paths = {}
    for split, sentences in (("train", 400), ("test", 150)):
        n = sentences * 5
        y = rng.integers(0, 3, n)
        tokens = pd.DataFrame(
            {
                "sentence": np.repeat(np.arange(sentences), 5),
                "position": np.tile(np.arange(5), sentences),
                "word": [f"w{i}" for i in y],
                "pos": np.array(["NN", "DT", ","])[y],
                "chunk": np.array(["B-NP", "B-NP", "O"])[y],
            }
        )
        layers = [rng.normal(size=(n, 20)).astype(np.float32) for _ in range(3)]
        layers[1][np.arange(n), y] += 3.0
        rows = iter(range(n))
        paths[split] = str(tmp_path / f"{split}.parquet")

        def extract(block, layers=layers, rows=rows):  # type: ignore[no-untyped-def]
            idx = [next(rows) for s in block for _ in s]
            return [a[idx] for a in layers]

        write_activations(tokens, extract, paths[split], {}, progress=False)
    return paths


def test_the_all_layers_pool_is_ablated_as_the_paper_did(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The all-layer probe ranks the pooled neurons by every probe ranking; the pool ablation keeps its top,
    bottom and random 10 % and retrains: the planted neurons of layer 1 lead, so top beats random and bottom."""
    from neurosieve.analysis.probing import PROBE_RANKING_ORDER
    from neurosieve.settings import AllLayerProbeSettings, PoolAblationSettings, ProbeBudget
    from neurosieve.stages.ablation import run_pool_ablation
    from neurosieve.stages.probing import run_all_layer_probing
    from neurosieve.store.io import read_table

    paths = _pool_files(tmp_path)
    budget = ProbeBudget.from_config(_config())
    outputs = {
        k: str(tmp_path / f"all_{k}.{'npz' if k == 'probe' else 'parquet'}") for k in ("orderings", "by_layer", "probe")
    }
    run_all_layer_probing(
        paths["train"],
        paths["test"],
        [0, 1, 2],
        "pos",
        outputs,
        AllLayerProbeSettings(l1=1e-5, l2=1e-5, seed=0, probe=budget),
    )
    orderings = read_table(outputs["orderings"])
    assert tuple(dict.fromkeys(orderings["method"])) == PROBE_RANKING_ORDER
    for _, g in orderings.groupby("method"):
        assert sorted(g["neuron"]) == list(range(60))
        assert (g["neuron"] == 20 * g["layer"] + g["layer_neuron"]).all()
    lca = orderings[orderings["method"] == "lca"].sort_values("rank")
    assert set(lca["neuron"].iloc[:3]) == {20, 21, 22}  # layer 1, neurons 0-2
    settings = PoolAblationSettings(keep_percent=(10, 50), random_repeats=4, modes=("retrain",), seed=0)
    out = str(tmp_path / "pool.parquet")
    curves = run_pool_ablation(
        paths["train"],
        paths["test"],
        [0, 1, 2],
        "pos",
        outputs["probe"],
        outputs["orderings"],
        "seed1",
        out,
        settings,
        rankings=["lca", "activation_sd"],
    )
    assert read_table(out).equals(curves)
    assert set(curves["layers"]) == {"0,1,2"} and set(curves["width"]) == {60}
    assert set(curves["ranking"]) == {"lca", "activation_sd", "none"} and sorted(set(curves["k"])) == [0, 6, 30, 60]
    acc = curves[(curves["metric"] == "accuracy_overall") & (curves["k"] == 6)]
    top = acc[(acc["ranking"] == "lca") & (acc["direction"] == "top")]["value"].item()
    bottom = acc[(acc["ranking"] == "lca") & (acc["direction"] == "bottom")]["value"].item()
    rnd = acc[acc["direction"] == "random"]["value"]
    assert len(rnd) == 4 and top > 0.95 and top > rnd.mean() + 0.2 and top > bottom + 0.3


def _config() -> dict:  # type: ignore[type-arg]
    """The validated default config (the probe budget a workflow job would use)."""
    from pathlib import Path

    import yaml

    from neurosieve.config import load_schema, validate_config

    root = Path(__file__).resolve().parents[1]
    schema = load_schema(root / "workflow/schemas/config.schema.yaml")
    return validate_config(yaml.safe_load((root / "config/config.yaml").read_text()), schema)


def test_split_halves_rank_on_one_half_and_retrain_on_the_other() -> None:
    """Rankings fitted on half A and on half B, both retrained on B: top selections only, one random baseline;
    on planted data both halves find the planted neurons, so the two paths agree and beat random."""
    from neurosieve.analysis.ablation import SPLIT_MODES, split_half_ablation

    X, y = planted(n=6000, d=12, seed=4)
    groups = np.repeat(np.arange(1200), 5)[:4500]
    probe = ElasticNetProbe(random_state=0, **PARAMS).fit(X[:4500], y[:4500])
    data = (probe, X[:4500], y[:4500], groups, X[4500:], y[4500:], y[4500:] == "NN")
    out = split_half_ablation(*data, ["lca_std", "probeless"], [0, 1, 3, 12], random_repeats=3, seed=0)
    assert set(out["mode"]) == set(SPLIT_MODES.values()) and set(out["direction"]) == {"top", "random"}
    rnd = out[out["direction"] == "random"]
    assert set(rnd["mode"]) == {SPLIT_MODES["split"]} and rnd["random_seed"].nunique() == 3
    acc = out[(out["metric"] == "accuracy_overall") & (out["k"] == 3)]
    for name in ("lca_std", "probeless"):
        top = acc[(acc["ranking"] == name) & (acc["direction"] == "top")].set_index("mode")["value"]
        assert top[SPLIT_MODES["split"]] == pytest.approx(top[SPLIT_MODES["same"]], abs=0.01)
        assert top[SPLIT_MODES["split"]] > acc[acc["direction"] == "random"]["value"].mean() + 0.1
    # With sentence ids: each comparison's interval over test sentences brackets the mean over the interior k.
    with_ids = split_half_ablation(
        *data, ["lca_std"], [0, 1, 3, 12], random_repeats=3, seed=0, sentences=np.arange(1500) // 10
    )
    acc = with_ids[(with_ids["metric"] == "accuracy_overall") & with_ids["k"].isin([1, 3])]
    top = acc[acc["direction"] == "top"].groupby("mode")["value"].mean()
    bounds = with_ids[with_ids["metric"].str.contains("_low|_high")].set_index("metric")["value"]
    same = top[SPLIT_MODES["split"]] - top[SPLIT_MODES["same"]]
    assert bounds["separated_minus_same_low"] <= same <= bounds["separated_minus_same_high"]
    beyond = top[SPLIT_MODES["split"]] - acc[acc["direction"] == "random"]["value"].mean()
    assert bounds["separated_minus_random_low"] <= beyond <= bounds["separated_minus_random_high"]
    assert bounds["separated_minus_random_low"] > 0.1  # the planted neurons beat random ones
    with pytest.raises(ValueError, match="split-half rankings"):
        split_half_ablation(probe, X, y, np.arange(len(y)), X, y, y == "NN", ["maxcorr"], [1])
