"""The paper's ranking done right (issue 24): standardised, frequency-weighted and paper-lambda LCA, and the oracle.

A synthetic layer whose informative neurons are known: four of them (one per label) with a small
sd (0.3, like a trained layer's), twelve weakly informative near-constant ones (sd 0.01) and eight
pure-noise ones (sd 1). A probe's raw weight is its standardised weight divided by the neuron's sd,
so the near-constant neurons' raw weights are the largest: raw LCA puts them first and the
informative neurons after them, standardised LCA finds the informative ones. The oracle (greedy
forward selection) must be at least as good as every ranking at every k on its selection split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from neurosieve.analysis.calibration import greedy_oracle, proxy_accuracy, proxy_curves
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import (
    PAPER_LAMBDAS,
    PROBE_RANKING_FUNCTIONS,
    RankingInputs,
    frequency_weighted_mass,
    neuron_ordering,
    probe_layer,
)
from neurosieve.core.registry import PROBE_RANKINGS

INFORMATIVE = [0, 1, 2, 3]
NEAR_CONSTANT = list(range(4, 16))
SHARE = np.array([0.4, 0.3, 0.2, 0.1])


def synthetic_layer(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Activations (tokens × 24 neurons) and token keys (sentences of 10 tokens, label column ``pos``)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=SHARE)
    X = np.empty((n, 24), np.float32)
    for c in INFORMATIVE:
        X[:, c] = 0.3 * (2.0 * (y == c) + rng.normal(size=n))
    for j in NEAR_CONSTANT:
        X[:, j] = 0.01 * (0.6 * (y == j % 4) + rng.normal(size=n))
    X[:, 16:] = rng.normal(size=(n, 8))
    keys = pd.DataFrame(
        {"sentence": np.arange(n) // 10, "word": [f"w{i % 97}" for i in range(n)], "pos": np.array(list("ABCD"))[y]}
    )
    return X, keys


@pytest.fixture(scope="module")
def layer() -> dict[str, Any]:
    """The synthetic layer probed once with the workflow's solver (fista) at a near-zero lambda, as selected in practice."""
    X, keys = synthetic_layer()
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny fits: a busy machine's thread hand-offs would dominate
    try:
        out = probe_layer(
            X,
            keys,
            X[:1000],
            keys.iloc[:1000],
            "pos",
            l1=1e-6,
            l2=0.0,
            probe_params={"solver": "fista"},
            salient_fraction=0.5,
            seed=0,
        )
    finally:
        torch.set_num_threads(before)
    orders = {m: g.sort_values("rank")["neuron"].to_numpy() for m, g in out["orderings"].groupby("method")}
    return {"X": X, "keys": keys, "out": out, "orders": orders}


def test_every_probe_ranking_is_a_permutation_in_the_orderings_table(layer) -> None:  # type: ignore[no-untyped-def]
    assert set(layer["orders"]) == PROBE_RANKINGS >= {"lca_std", "lca_freq", "lca_paper"}
    for order in layer["orders"].values():
        assert sorted(order.tolist()) == list(range(24))


def test_standardised_lca_finds_the_small_variance_informative_neurons_raw_lca_does_not(layer) -> None:  # type: ignore[no-untyped-def]
    orders = layer["orders"]
    assert set(orders["lca_std"][:4]) == set(INFORMATIVE)
    assert set(orders["lca_freq"][:4]) == set(INFORMATIVE)
    raw_rank = {int(n): r for r, n in enumerate(orders["lca"])}
    # Raw LCA ranks every near-constant neuron above every informative one: scale decides its order.
    assert min(raw_rank[j] for j in INFORMATIVE) > max(raw_rank[j] for j in NEAR_CONSTANT)
    assert min(raw_rank[j] for j in INFORMATIVE) >= 12


def test_frequency_weighting_prefers_the_neuron_frequent_labels_need() -> None:
    """Label A (90 % of tokens) uses neuron 0, label B (10 %) neuron 1 with a larger weight; neuron 2 has the largest
    raw weight of all but a tiny sd. Per-label LCA puts neuron 1 first (B's top neuron, the larger |w|);
    frequency-weighted mass on standardised weights puts neuron 0 first and neuron 2 last."""
    coef = np.array([[1.0, 0.0, 20.0], [0.0, 3.0, 0.0]])
    X = np.array([[-1.0, -1.0, -0.01], [1.0, 1.0, 0.01]] * 5, dtype=np.float32)  # sd 1, 1 and 0.01
    y = np.array(["A"] * 9 + ["B"])
    ctx = RankingInputs.build(coef, np.array(["A", "B"]), X, y, seed=0)
    np.testing.assert_allclose(ctx.sd, [1.0, 1.0, 0.01], rtol=1e-6)
    np.testing.assert_allclose(ctx.label_share, [0.9, 0.1])
    np.testing.assert_allclose(
        frequency_weighted_mass(ctx.standardised_coef, ctx.label_share), [0.9, 0.3, 0.18], rtol=1e-6
    )
    order, score = PROBE_RANKING_FUNCTIONS["lca_freq"](ctx)
    assert order.tolist() == [0, 1, 2] and np.all(np.diff(score) <= 0)
    assert PROBE_RANKING_FUNCTIONS["lca_std"](ctx)[0][-1] == 2  # on standardised weights neuron 2 matters least
    assert PROBE_RANKING_FUNCTIONS["lca"](ctx)[0][0] == 2  # raw LCA: the near-constant neuron first
    assert PROBE_RANKING_FUNCTIONS["lca_paper"](ctx)[0].tolist() == PROBE_RANKING_FUNCTIONS["lca"](ctx)[0].tolist()


def test_lca_paper_is_the_paper_lambda_probes_ordering(layer) -> None:  # type: ignore[no-untyped-def]
    """With other lambdas it orders by the paper-lambda probe (fitted solo here); at the paper's lambdas it is lca."""
    X, keys = layer["X"], layer["keys"]
    y = keys["pos"].to_numpy()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        paper = ElasticNetProbe(l1=PAPER_LAMBDAS[0], l2=PAPER_LAMBDAS[1], random_state=0, solver="fista").fit(X, y)
        same = probe_layer(
            X[:1500],
            keys.iloc[:1500],
            X[:300],
            keys.iloc[:300],
            "pos",
            l1=PAPER_LAMBDAS[0],
            l2=PAPER_LAMBDAS[1],
            probe_params={"solver": "fista"},
            salient_fraction=0.5,
            seed=0,
        )["orderings"]
    finally:
        torch.set_num_threads(before)
    # The batched fit equals the solo one up to float rounding: compare the informative block and the order's head.
    solo = neuron_ordering(paper.coef_)
    assert layer["orders"]["lca_paper"][:12].tolist() == solo[:12].tolist()
    by = {m: g.sort_values("rank")["neuron"].tolist() for m, g in same.groupby("method")}
    assert by["lca_paper"] == by["lca"]


def test_oracle_is_at_least_as_good_as_every_ranking_at_every_k_on_its_selection_split(layer) -> None:  # type: ignore[no-untyped-def]
    X, keys = layer["X"], layer["keys"]
    y, groups = keys["pos"].to_numpy(), keys["sentence"].to_numpy()
    oracle = greedy_oracle(X, y, groups, max_neurons=24, shortlist=8, seed=0)
    assert len(oracle.order) == 24 and set(oracle.order[:4]) == set(INFORMATIVE)
    # The sweep's running accuracy is the direct solve's.
    direct = [proxy_accuracy(X, y, oracle.split, oracle.order[: k + 1]) for k in range(24)]
    np.testing.assert_allclose(oracle.accuracy, direct)
    curves = proxy_curves(X, y, oracle.split, {**layer["orders"], "oracle": oracle.order}, range(25))
    wide = curves.pivot(index="k", columns="ranking", values="accuracy")
    best_ranking = wide.drop(columns="oracle").max(axis=1)
    assert (wide["oracle"] >= best_ranking).all(), (wide["oracle"] - best_ranking)[wide["oracle"] < best_ranking]
    # ... and strictly better than raw LCA while LCA's first picks are the near-constant neurons.
    assert (wide.loc[1:12, "oracle"] > wide.loc[1:12, "lca"]).all()


def test_summary_rows_and_model_ablation_figure_take_every_lca_variant(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every ranking in the curves gets its retrained-vs-random summary row; Figure 4 wraps its panels (4 a row)."""
    from neurosieve.analysis.ablation import model_ablation
    from neurosieve.report.figures import model_ablation_curves, save
    from neurosieve.report.summary import ranking_comparison_rows

    rng = np.random.default_rng(0)
    rankings = ["maxcorr", "meanmaxcorr", "mincorr", "linreg", "lca", "lca_std", "lca_paper"]
    orders = {r: rng.permutation(20) for r in rankings}
    model = pd.concat(
        [
            model_ablation(lambda removed: {"f1": 90.0 - len(removed)}, 20, orders, [0, 5, 10, 20], 3, 0).assign(
                instance=inst, layer=2
            )
            for inst in ("seed1", "seed2")
        ],
        ignore_index=True,
    )
    fig = model_ablation_curves(model, rankings)
    assert sum(ax.get_visible() for ax in fig.axes) == len(rankings) and len(fig.axes) == 8
    save(fig, tmp_path / "fig04.png", tmp_path / "fig04.svg")
    assert (tmp_path / "fig04.png").stat().st_size > 0
    probe = model.assign(mode="retrain", metric="accuracy_overall", property="pos", k_percent=lambda t: 5.0 * t["k"])
    rows = ranking_comparison_rows("bilstm", probe, 2, "pos", pct=50)
    assert {r["id"].split(".")[-1] for r in rows} == {f"{r}_vs_random" for r in rankings}


def test_probe_ablation_retrains_the_oracle_and_places_each_ranking_between_random_and_it(layer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The oracle wired into probe ablation: its first k are retrained (top rows for k <= K only), its proxy check
    rows are there and clean, standardised LCA's calibrated area is near the oracle's and far above raw LCA's,
    and the summary and Figure 16 read them."""
    from neurosieve.analysis.ablation import area_bootstrap_rows, k_grid, probe_ablation
    from neurosieve.analysis.calibration import (
        ORACLE,
        PROXY_MODE,
        best_of_oracle,
        calibrated_areas,
        oracle_reference,
        oracle_violations,
    )
    from neurosieve.report.figures import calibrated_curves, save
    from neurosieve.report.summary import calibration_rows

    X, keys = layer["X"], layer["keys"]
    y = keys["pos"].to_numpy()
    orders = {m: layer["orders"][m] for m in ("lca", "lca_std", "probeless", "activation_sd", "activation_mean_abs")}
    # The trivial baselines see no labels: the sd ranking puts the eight pure-noise neurons (sd 1) first.
    assert set(orders["activation_sd"][:8]) == set(range(16, 24))
    ks = k_grid(24, (), (1, 2, 4, 8, 16))
    ref = oracle_reference(X, y, keys["sentence"].to_numpy(), orders, ks, max_neurons=8, seed=0)
    assert len(ref.order) == 8 and ref.seconds >= 0
    assert set(ref.check["mode"]) == {PROXY_MODE} and set(ref.check["k"]) == {1, 2, 4, 8}
    assert oracle_violations(ref.check).empty
    probe = layer["out"]["probe"]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        curves = probe_ablation(
            probe,
            X,
            y,
            X[:1000],
            y[:1000],
            np.zeros(1000, bool),
            {**orders, ORACLE: ref.order},
            ks,
            ("retrain",),
            random_repeats=3,
            seed=0,
            salt=7,
            tokens=(tokens := {}),
        )
    finally:
        torch.set_num_threads(before)
    orc = curves[curves["ranking"] == ORACLE]
    assert set(orc["direction"]) == {"top"} and set(orc["k"]) == {0, 1, 2, 4, 8}
    curves = best_of_oracle(curves, ref.check)
    # One instance's test-set interval of each calibrated area, as the stage adds it (rows at k 0).
    bounds = area_bootstrap_rows(curves, tokens, keys["sentence"].to_numpy()[:1000], 0)
    assert bounds["value"].notna().all()  # no rows without bounds (a trivial ranking's margin over itself)
    curves = pd.concat([curves, bounds])
    curves = curves.assign(instance="seed1", layer=2, property="pos")
    areas = calibrated_areas(curves[curves["k"] <= 8]).set_index("ranking")["area"]
    assert areas["lca_std"] > 0.8 and areas["lca"] < areas["lca_std"] - 0.3, areas
    rows = {r["id"]: r for r in calibration_rows("fam", curves, 2, "pos")}
    assert rows["probe_ablation.pos.layer2.oracle_check"]["value"] == "yes"
    assert areas["activation_sd"] < 0.2 and areas["activation_mean_abs"] < areas["lca_std"]
    gap = rows["probe_ablation.pos.layer2.retrain.lca_std.area_vs_trivial"]["value"]
    assert float(gap.split()[0]) > 0.5 and "probe_ablation.pos.layer2.retrain.activation_sd.area_vs_trivial" not in rows
    assert rows["probe_ablation.pos.layer2.retrain.lca_std.calibrated_area"]["value"].startswith(
        f"{areas['lca_std']:.2f}"
    )
    for name in ("lca", "lca_std", "activation_sd"):
        row = rows[f"probe_ablation.pos.layer2.retrain.{name}.calibrated_area"]
        assert row["interval over"] == "test sentences" and row["low"] <= areas[name] <= row["high"], name
    row = rows["probe_ablation.pos.layer2.retrain.lca_std.area_vs_trivial"]
    assert row["interval over"] == "test sentences" and row["low"] <= float(gap.split()[0]) <= row["high"]
    save(calibrated_curves(curves), str(tmp_path / "fig16.png"), str(tmp_path / "fig16.svg"))
    assert (tmp_path / "fig16.png").stat().st_size > 1000


def test_oracle_violations_name_a_ranking_that_beats_the_oracle() -> None:
    from neurosieve.analysis.calibration import PROXY_MODE, oracle_violations

    check = pd.DataFrame(
        {"ranking": ["oracle", "lca", "oracle", "lca"], "k": [1, 1, 2, 2], "value": [0.5, 0.4, 0.6, 0.65]}
    ).assign(mode=PROXY_MODE, instance="a")
    bad = oracle_violations(check)
    assert bad[["ranking", "k"]].values.tolist() == [["lca", 2]]


def test_a_partial_ranking_has_top_rows_up_to_its_length_and_random_draws_differ_by_salt() -> None:
    from neurosieve.analysis.ablation import _each_selection, random_selections

    items = list(_each_selection({"oracle": np.array([3, 1])}, 5, [0, 1, 2, 3], 0, 0))
    assert [(d, k) for _, d, k, _, _ in items] == [("top", 0), ("top", 1), ("top", 2)]
    with pytest.raises(ValueError, match="permutation"):
        list(_each_selection({"bad": np.array([1, 1])}, 5, [1], 0, 0))
    # An oracle whose picks reach the width is a permutation, still with no bottom end.
    full = list(_each_selection({"oracle": np.arange(5)}, 5, [2], 0, 0, top_only=("oracle",)))
    assert [d for _, d, *_ in full] == ["top"]
    a, b = random_selections(64, 8, 3, 0, salt=1), random_selections(64, 8, 3, 0, salt=2)
    assert any(not np.array_equal(x, y) for (_, x), (_, y) in zip(a, b))
    assert all(
        np.array_equal(x, y) for (_, x), (_, y) in zip(random_selections(64, 8, 3, 0), random_selections(64, 8, 3, 0))
    )


def test_label_focus_own_neurons_serve_their_label_better_than_another_labels_or_random(layer) -> None:  # type: ignore[no-untyped-def]
    """Per-label focus tests (issue 24, item 5): each synthetic label has one informative neuron of its own."""
    from neurosieve.analysis.ablation import LABEL_MODE, label_focus, label_order
    from neurosieve.report.summary import label_focus_rows

    X, keys = layer["X"], layer["keys"]
    y = keys["pos"].to_numpy()
    probe = layer["out"]["probe"]
    # Standardised |w|: label A's own informative neuron (0) first, not a near-constant neuron with a large raw weight.
    assert label_order(probe, X.std(axis=0), "A")[0] == 0
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [
            label_focus(probe, X, y, X[:1000], y[:1000], ["A", "B", "Z"], max_k=2, random_repeats=2, seed=0, salt=s)
            for s in (1, 2)
        ]
    finally:
        torch.set_num_threads(before)
    c = pd.concat([r.assign(instance=f"i{s}") for s, r in enumerate(rows)]).assign(layer=2, property="pos")
    assert set(c["mode"]) == {LABEL_MODE} and set(c["metric"]) == {"f1:A", "f1:B"}  # Z: not a probe label
    assert set(c["ranking"]) == {"own", "other:A", "other:B", "none"} and set(c["k"]) == {1, 2}
    a = c[c["metric"] == "f1:A"]
    own = a[(a["ranking"] == "own") & (a["k"] == 1)]["value"].mean()
    other = a[(a["ranking"] == "other:B") & (a["k"] == 1)]["value"].mean()
    assert own > other + 0.2, (own, other)
    ids = {r["id"]: r for r in label_focus_rows("fam", c, 2, "pos")}
    assert {
        "labels.pos.layer2.a.own_vs_random",
        "labels.pos.layer2.a.own_vs_other",
        "labels.pos.layer2.b.own_vs_other",
    } <= set(ids)
    # With sentence ids, one instance: each comparison carries the instance's sentence-bootstrap interval of the
    # mean F1 difference over k, around the difference of its rows' mean F1s.
    torch.set_num_threads(1)
    try:
        one = label_focus(
            probe,
            X,
            y,
            X[:1000],
            y[:1000],
            ["A", "B"],
            max_k=2,
            random_repeats=2,
            seed=0,
            sentences=np.arange(1000) // 10,
        )
    finally:
        torch.set_num_threads(before)
    one = one.assign(instance="i0", layer=2, property="pos")
    f1a = one[one["metric"] == "f1:A"]
    diff = 100 * (f1a[f1a["ranking"] == "own"]["value"].mean() - f1a[f1a["ranking"] == "other:B"]["value"].mean())
    row = {r["id"]: r for r in label_focus_rows("fam", one, 2, "pos")}["labels.pos.layer2.a.own_vs_other"]
    assert row["interval over"] == "test sentences" and row["low"] <= round(diff, 1) <= row["high"]
    assert set(one["metric"]) == {
        "f1:A",
        "f1:B",
        *(f"f1_own_vs_{w}_{e}:{lab}" for w in ("random", "other") for e in ("low", "high") for lab in "AB"),
    }


def test_split_halves_figure_draws_each_rankings_two_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Figure 17 from split-half curve rows: one panel per ranking, separated and same-half curves, random band."""
    import pandas as pd

    from neurosieve.report.figures import save, split_halves

    rows = []
    for inst in ("seed1", "seed2"):
        for k in (1, 2, 4, 8):
            for mode, direction, ranking, v in (
                ("retrain_split", "top", "lca_std", 0.5 + 0.05 * k),
                ("retrain_same", "top", "lca_std", 0.52 + 0.05 * k),
                ("retrain_split", "top", "probeless", 0.4 + 0.05 * k),
                ("retrain_same", "top", "probeless", 0.4 + 0.05 * k),
                ("retrain_split", "random", "none", 0.3 + 0.04 * k),
            ):
                rows.append(
                    {
                        "ranking": ranking,
                        "direction": direction,
                        "mode": mode,
                        "k": k,
                        "metric": "accuracy_overall",
                        "value": v,
                        "instance": inst,
                    }
                )
    fig = split_halves(pd.DataFrame(rows))
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["LCA (standardised)", "probeless"]
    assert len(panels[0].get_lines()) == 3  # random, separated, same half
    save(fig, str(tmp_path / "fig17.png"), str(tmp_path / "fig17.svg"))
    assert (tmp_path / "fig17.png").stat().st_size > 5000


def test_the_mean_abs_ranking_leaves_the_activations_as_they_were() -> None:
    """The trivial mean-|activation| ranking sums |x| a block of rows at a time, in place: on a copy, never on the
    caller's matrix (a float64 matrix's block would otherwise be a view of it)."""
    from neurosieve.analysis.probing import PROBE_RANKING_FUNCTIONS, RankingInputs

    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 6))
    before = X.copy()
    y = rng.integers(0, 3, 500).astype(str)
    ctx = RankingInputs.build(rng.normal(size=(3, 6)), np.array(["0", "1", "2"]), X, y, 0)
    order, score = PROBE_RANKING_FUNCTIONS["activation_mean_abs"](ctx)
    np.testing.assert_array_equal(X, before)
    np.testing.assert_allclose(score, np.sort(np.abs(before).mean(axis=0))[::-1])
