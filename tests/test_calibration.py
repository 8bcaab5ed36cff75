"""The calibrated area (0 = random, 1 = oracle) on hand-made curves, and the oracle's selection split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.calibration import (
    area_spread,
    calibrated_area,
    calibrated_areas,
    greedy_oracle,
    selection_split,
)

K = np.array([0, 1, 2, 4, 8, 16, 32])
RANDOM = np.array([0.2, 0.3, 0.35, 0.45, 0.6, 0.75, 0.85])
ORACLE = np.array([0.2, 0.6, 0.7, 0.8, 0.85, 0.88, 0.9])


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_random_is_zero_oracle_is_one_halfway_is_half(scale: str) -> None:
    assert calibrated_area(K, RANDOM, RANDOM, ORACLE, scale) == pytest.approx(0.0)
    assert calibrated_area(K, ORACLE, RANDOM, ORACLE, scale) == pytest.approx(1.0)
    assert calibrated_area(K, (RANDOM + ORACLE) / 2, RANDOM, ORACLE, scale) == pytest.approx(0.5)
    assert calibrated_area(K, RANDOM - (ORACLE - RANDOM), RANDOM, ORACLE, scale) == pytest.approx(-1.0)


def test_log_scale_weights_each_doubling_alike() -> None:
    """A ranking as good as the oracle at k = 1 only: one of five log2 intervals' halves on the log scale,
    a sliver of the linear range."""
    rank = RANDOM.copy()
    rank[1] = ORACLE[1]
    log = calibrated_area(K, rank, RANDOM, ORACLE, "log")
    linear = calibrated_area(K, rank, RANDOM, ORACLE, "linear")
    assert 0.1 < log < 0.3 and linear < log / 2
    # Unsorted input, k = 0 left out on the log scale (every selection is empty there).
    perm = np.random.default_rng(0).permutation(len(K))
    assert calibrated_area(K[perm], rank[perm], RANDOM[perm], ORACLE[perm]) == pytest.approx(log)


def test_degenerate_curves() -> None:
    assert np.isnan(calibrated_area(K, ORACLE, RANDOM, RANDOM))  # an oracle no better than random: no scale
    assert calibrated_area([4], [0.6], [0.5], [0.7]) == pytest.approx(0.5)  # one k: the ratio of differences
    assert np.isnan(calibrated_area([0], [0.2], [0.2], [0.2]))
    with pytest.raises(ValueError):
        calibrated_area(K, RANDOM[:3], RANDOM, ORACLE)


def _curves(instance: str, good: float) -> pd.DataFrame:
    """A long ablation table: rankings 'good' (``good`` of the way to the oracle) and 'flat' (random), the oracle
    (up to k = 16 only), three random draws around the random curve, two metrics, a masked mode."""
    rows = []
    for k, r, o in zip(K, RANDOM, ORACLE):
        for s, noise in enumerate((-0.01, 0.0, 0.01)):
            rows.append(("none", "random", "retrain", k, r + noise, s))
        rows.append(("good", "top", "retrain", k, r + good * (o - r), None))
        rows.append(("good", "bottom", "retrain", k, r, None))
        rows.append(("flat", "top", "retrain", k, r, None))
        rows.append(("good", "top", "mask", k, 0.0, None))
        if k <= 16:
            rows.append(("oracle", "top", "retrain", k, o, None))
    t = pd.DataFrame(rows, columns=["ranking", "direction", "mode", "k", "value", "random_seed"])
    t = pd.concat([t.assign(metric="accuracy_overall"), t.assign(metric="accuracy_open", value=0.0)])
    return t.assign(instance=instance, layer=2, property="pos")


def test_calibrated_areas_per_instance_and_spread() -> None:
    curves = pd.concat([_curves("s1", 0.4), _curves("s2", 0.6)], ignore_index=True)
    areas = calibrated_areas(curves)
    assert set(areas["ranking"]) == {"good", "flat"} and (areas["n_k"] == 6).all()  # k = 0..16 (the oracle's)
    a = areas.set_index(["instance", "ranking"])["area"]
    assert a[("s1", "good")] == pytest.approx(0.4) and a[("s2", "good")] == pytest.approx(0.6)
    assert a[("s1", "flat")] == pytest.approx(0.0)
    spread = area_spread(areas).set_index("ranking")
    assert spread.loc["good", "mean"] == pytest.approx(0.5) and spread.loc["good", "n"] == 2
    assert spread.loc["good", "std"] == pytest.approx(np.std([0.4, 0.6], ddof=1))
    assert spread.loc["good", "min"] == pytest.approx(0.4) and spread.loc["good", "n_undefined"] == 0
    assert (calibrated_areas(curves, max_k=4)["n_k"] == 4).all()


def test_selection_split_is_whole_sentences_and_seeded() -> None:
    groups = np.repeat(np.arange(50), 7)
    a, b = selection_split(groups, 0.2, seed=3), selection_split(groups, 0.2, seed=3)
    np.testing.assert_array_equal(a.select, b.select)
    assert not np.array_equal(a.select, selection_split(groups, 0.2, seed=4).select)
    assert len(np.unique(groups[a.select])) == 10 and not set(groups[a.fit]) & set(groups[a.select])
    assert len(a.fit) + len(a.select) == len(groups)


def test_oracle_stops_at_its_k_and_skips_constant_neurons() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    X[:, 2] = 1.0  # constant: never picked
    X[np.arange(600), 3 + y] += 2.0  # neurons 3, 4 and 5 each mark one label
    oracle = greedy_oracle(X, y.astype(str), np.arange(600) // 6, max_neurons=4)
    assert len(oracle.order) == 4 and 2 not in oracle.order and set(oracle.order[:2]) <= {3, 4, 5}
    assert np.all(np.diff(oracle.accuracy[:2]) > 0)
    assert 2 not in greedy_oracle(X, y.astype(str), np.arange(600) // 6, max_neurons=10).order


def test_oracle_first_neuron_is_the_best_single_neuron_whatever_the_shortlist() -> None:
    """Step one scores every neuron: no ranking's top-1 can beat the oracle's on its selection split."""
    from neurosieve.analysis.calibration import proxy_accuracy

    for seed in range(6):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 4, 800).astype(str)
        X = rng.normal(size=(800, 30)).astype(np.float32)
        X += 0.5 * (y[:, None] == rng.integers(0, 4, 30).astype(str)[None, :])
        oracle = greedy_oracle(X, y, np.arange(800) // 8, max_neurons=2, shortlist=1)
        singles = [proxy_accuracy(X, y, oracle.split, np.array([j])) for j in range(30)]
        assert oracle.accuracy[0] == pytest.approx(max(singles), abs=1e-12)


def test_best_of_oracle_takes_a_rankings_top_k_where_it_beat_the_greedy_search() -> None:
    """At k = 4 a ranking's top 4 scored higher on the selection split than the greedy first 4: the oracle's
    rows there become that ranking's (every mode, the check included), so no ranking beats the oracle."""
    from neurosieve.analysis.calibration import GREEDY, PROXY_MODE, best_of_oracle, oracle_violations

    def rows(ranking: str, mode: str, values: dict[int, float], metric: str = "accuracy_overall") -> list[dict]:
        return [
            {"ranking": ranking, "direction": "top", "mode": mode, "k": k, "metric": metric, "value": v}
            for k, v in values.items()
        ]

    curves = pd.DataFrame(
        rows("oracle", "retrain", {2: 0.50, 4: 0.60, 8: 0.80})
        + rows("lca", "retrain", {2: 0.40, 4: 0.66, 8: 0.70})
        + rows("lca", "mask", {2: 0.30, 4: 0.50, 8: 0.60})
        + rows("oracle", "mask", {2: 0.35, 4: 0.40, 8: 0.65})
        + rows("none", "retrain", {2: 0.2, 4: 0.3, 8: 0.4})
    ).assign(direction=lambda d: np.where(d["ranking"] == "none", "random", d["direction"]))
    check = pd.DataFrame(
        rows("oracle", PROXY_MODE, {2: 0.52, 4: 0.61, 8: 0.82}, "accuracy_selection")
        + rows("lca", PROXY_MODE, {2: 0.41, 4: 0.64, 8: 0.71}, "accuracy_selection")
    )
    assert len(oracle_violations(check)) == 1
    out = best_of_oracle(curves, check)
    assert oracle_violations(out).empty
    orc = out[out["ranking"] == "oracle"].set_index(["mode", "k"])
    assert orc.loc[("retrain", 4), "value"] == 0.66 and orc.loc[("mask", 4), "value"] == 0.50
    assert orc.loc[(PROXY_MODE, 4), "value"] == 0.64 and orc.loc[(PROXY_MODE, 4), "oracle_source"] == "lca"
    assert orc.loc[("retrain", 2), "value"] == 0.50 and orc.loc[("retrain", 8), "oracle_source"] == GREEDY
    assert len(orc) == 9  # one oracle row per (mode, k): none lost, none doubled
    # The rankings' own rows are untouched.
    lca = out[(out["ranking"] == "lca") & (out["mode"] == "retrain")].set_index("k")["value"]
    assert lca.to_dict() == {2: 0.40, 4: 0.66, 8: 0.70}


def _bootstrap_tokens(seed: int = 0) -> tuple[dict[tuple[str, str, int], list[np.ndarray]], np.ndarray]:
    """Per-token correctness of a small sweep (k = 1, 2, 4 of 8 neurons) on 60 test sentences of 5 tokens: the
    oracle right on 90 %, lca on 70 %, a trivial ranking on 60 %, two random draws on 50 %."""
    rng = np.random.default_rng(seed)
    n = 300
    sentences = np.repeat(np.arange(60), 5)
    draw = lambda p: (rng.random(n) < p).astype(np.float64)  # noqa: E731
    tokens: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for k in (1, 2, 4):
        tokens["oracle", "top", k] = [draw(0.9)]
        tokens["lca", "top", k] = [draw(0.7)]
        tokens["activation_sd", "top", k] = [draw(0.6)]
        tokens["none", "random", k] = [draw(0.5), draw(0.5)]
    return tokens, sentences


def _curves_of(tokens: dict[tuple[str, str, int], list[np.ndarray]]) -> pd.DataFrame:
    """The curve rows (one instance, retrained) whose values are the mean of each selection's token correctness."""
    return pd.DataFrame(
        [
            {"ranking": name, "direction": direction, "mode": "retrain", "k": k, "metric": "accuracy_overall"}
            | {"value": a.mean(), "random_seed": s if direction == "random" else None, "instance": "one"}
            for (name, direction, k), arrays in tokens.items()
            for s, a in enumerate(arrays)
        ]
    )


def test_calibrated_area_bootstrap_brackets_the_area_and_has_known_answers() -> None:
    """On the whole test set it gives calibrated_areas' value exactly, and its interval holds it; a ranking identical
    to the oracle has area 1 in every resample, one identical to random 0; the margin over the trivial ranking is
    the area minus its area; where best_of_oracle made the oracle a ranking's top k, oracle_sources tells the
    bootstrap so and its value is still the summary's."""
    from neurosieve.analysis.calibration import (
        PROXY_MODE,
        best_of_oracle,
        calibrated_area_bootstrap,
        oracle_sources,
    )

    tokens, sentences = _bootstrap_tokens()
    point = calibrated_areas(_curves_of(tokens)).set_index("ranking")["area"]
    b = calibrated_area_bootstrap(tokens, sentences, trivial=("activation_sd",), seed=3).set_index("ranking")
    assert set(b.index) == {"lca", "activation_sd"}
    for name in b.index:
        assert b.loc[name, "area"] == pytest.approx(point[name], abs=1e-12), name
        assert b.loc[name, "area_low"] < point[name] < b.loc[name, "area_high"], name
    gap = point["lca"] - point["activation_sd"]
    assert b.loc["lca", "vs_trivial"] == pytest.approx(gap, abs=1e-12)
    assert b.loc["lca", "vs_trivial_low"] < gap < b.loc["lca", "vs_trivial_high"]
    assert np.isnan(b.loc["activation_sd", "vs_trivial_low"])  # no margin of a trivial ranking over itself
    # Seeded: the same inputs give the same bounds.
    pd.testing.assert_frame_equal(
        b, calibrated_area_bootstrap(tokens, sentences, trivial=("activation_sd",), seed=3).set_index("ranking")
    )
    exact = {**tokens}
    for k in (1, 2, 4):
        exact["twin", "top", k] = tokens["oracle", "top", k]
        exact["flat", "top", k] = [np.mean(tokens["none", "random", k], axis=0)]
    e = calibrated_area_bootstrap(exact, sentences).set_index("ranking")
    assert (e.loc["twin", "area_low"], e.loc["twin", "area_high"]) == (pytest.approx(1.0), pytest.approx(1.0))
    assert (e.loc["flat", "area_low"], e.loc["flat", "area_high"]) == (pytest.approx(0.0), pytest.approx(0.0))
    # The greedy first 2 lost to lca's top 2 on the selection split: best_of_oracle takes lca's top 2 as the
    # oracle there; the bootstrap, told where by oracle_sources, gives the summary's area on the whole test set.
    check = pd.DataFrame(
        [
            {"ranking": r, "direction": "top", "mode": PROXY_MODE, "k": k, "metric": "accuracy_selection"}
            | {"value": v, "instance": "one"}
            for r, values in (("oracle", {1: 0.5, 2: 0.5, 4: 0.8}), ("lca", {1: 0.4, 2: 0.6, 4: 0.7}))
            for k, v in values.items()
        ]
    )
    curves = best_of_oracle(_curves_of(tokens), check)
    assert oracle_sources(curves) == {2: "lca"}
    taken = calibrated_area_bootstrap(tokens, sentences, oracle_at=oracle_sources(curves)).set_index("ranking")
    moved = calibrated_areas(curves).set_index("ranking")["area"]
    assert taken.loc["lca", "area"] == pytest.approx(moved["lca"], abs=1e-12)
    assert moved["lca"] != pytest.approx(point["lca"], abs=1e-3)  # the substitution changed the area
    # The oracle taken from lca's own top k at every k: lca's area is then exactly 1.
    t = calibrated_area_bootstrap(tokens, sentences, oracle_at={1: "lca", 2: "lca", 4: "lca"}).set_index("ranking")
    assert (t.loc["lca", "area_low"], t.loc["lca", "area_high"]) == (pytest.approx(1.0), pytest.approx(1.0))
