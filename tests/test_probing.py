"""LCA: the elastic-net probe, neuron orderings, per-label neurons and baselines, on planted data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import (
    control_labels,
    neuron_ordering,
    probe_layer,
    probeless_scores,
    select_lambdas,
    top_neurons_per_label,
)
from neurosieve.core.registry import PROBE_RANKINGS
from neurosieve.store.corpus import label_codes
from neurosieve.store.properties import is_open_class


def planted(n: int = 6000, d: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three labels decided by neurons 0-2 (one each); the other neurons are noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[np.arange(n), y] += 3.0
    return X, np.array(["A", "B", "C"])[y]


def test_estimator_api_and_save_load(tmp_path: Path) -> None:
    X, y = planted()
    probe = ElasticNetProbe(l1=1e-4, l2=1e-4, epochs=5, batch_size=512, random_state=1)
    assert probe.get_params()["l1"] == 1e-4 and clone(probe).get_params() == probe.get_params()
    probe.fit(X[:5000], y[:5000])
    assert probe.score(X[5000:], y[5000:]) > 0.9
    proba = probe.predict_proba(X[5000:])
    assert proba.shape == (1000, 3) and np.allclose(proba.sum(1), 1)
    assert set(probe.predict(X[:10])) <= {"A", "B", "C"}
    probe.save(tmp_path / "p.npz")
    back = ElasticNetProbe.load(tmp_path / "p.npz")
    assert back.get_params() == probe.get_params()
    np.testing.assert_array_equal(back.predict(X), probe.predict(X))


def test_same_random_state_same_weights() -> None:
    X, y = planted()
    a = ElasticNetProbe(epochs=2, batch_size=256, random_state=3).fit(X, y).coef_
    b = ElasticNetProbe(epochs=2, batch_size=256, random_state=3).fit(X, y).coef_
    c = ElasticNetProbe(epochs=2, batch_size=256, random_state=4).fit(X, y).coef_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_warm_start_continues() -> None:
    X, y = planted()
    p = ElasticNetProbe(epochs=1, batch_size=512, warm_start=True, lr=1e-3).fit(X, y)
    first = p.loss_curve_[-1]
    p.fit(X, y)
    assert p.loss_curve_[0] < first


def test_l1_concentrates_weight() -> None:
    X, y = planted()
    dense = ElasticNetProbe(l1=0, l2=0, epochs=5, batch_size=512).fit(X, y).coef_
    sparse = ElasticNetProbe(l1=1e-2, l2=0, epochs=5, batch_size=512).fit(X, y).coef_
    share = lambda c: np.abs(c[:, :3]).sum() / np.abs(c).sum()  # noqa: E731
    assert share(sparse) > share(dense)


def test_ordering_by_hand() -> None:
    coef = np.array([[0.0, 5.0, 1.0, 0.0, 0.5], [3.0, 0.0, 0.0, 0.0, 3.0]])
    # p=0.25: label0 -> [1]; label1 -> [0] (tie with 4 broken by index). Both enter at once; |w| 5 before 3.
    assert [t.tolist() for t in top_neurons_per_label(coef, 0.25)] == [[1], [0]]
    assert [t.tolist() for t in top_neurons_per_label(coef, 1.0)] == [[1, 2, 4], [0, 4]]
    order = neuron_ordering(coef)
    assert order.tolist() == [1, 0, 4, 2, 3]  # neuron 3 has zero weight everywhere: last, never dropped
    assert sorted(order.tolist()) == list(range(5))


def test_planted_neurons_come_first() -> None:
    X, y = planted()
    probe = ElasticNetProbe(l1=1e-3, l2=1e-4, epochs=5, batch_size=512).fit(X, y)
    assert set(neuron_ordering(probe.coef_)[:3]) == {0, 1, 2}
    assert set(np.argsort(-probeless_scores(X, y))[:3]) == {0, 1, 2}


def test_probeless_matches_pairwise_definition() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = rng.integers(0, 5, 300)
    means = np.stack([X[y == c].mean(0) for c in range(5)])
    want = sum(np.abs(means[a] - means[b]) for a in range(5) for b in range(a + 1, 5))
    np.testing.assert_allclose(probeless_scores(X, y), want)


def test_probeless_sums_in_blocks_as_one_pass_and_holds_no_copy_of_the_matrix() -> None:
    """Blockwise label sums equal the one-pass float64 sums to the bit, and never copy the whole matrix (the
    all-layers pool is 10 GB at bert-base's shape; a reordered float64 copy would be three times that)."""
    import tracemalloc

    rng = np.random.default_rng(2)
    X = (rng.normal(size=(20_000, 200)) * rng.lognormal(size=200) + 5 * rng.normal(size=200)).astype(np.float32)
    y = np.array([f"L{v}" for v in rng.zipf(1.5, size=len(X)) % 44])
    _, inv = label_codes(y)
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv)
    sums = np.add.reduceat(X[order], np.r_[0, np.cumsum(counts)[:-1]], axis=0, dtype=np.float64)
    means = np.sort(sums / counts[:, None], axis=0)
    want = (means * (2 * np.arange(1, len(counts) + 1)[:, None] - len(counts) - 1)).sum(axis=0)
    for block_bytes in (8, 1 << 16, 1 << 20, 64 << 20):
        assert np.array_equal(probeless_scores(X, y, block_bytes=block_bytes), want)
    tracemalloc.start()
    probeless_scores(X, y, block_bytes=1 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * X.nbytes, (peak, X.nbytes)


def test_control_labels_fixed_per_type() -> None:
    m1 = control_labels(["a", "b", "a", "c"], ["X", "Y", "Y", "Y"], seed=0)
    m2 = control_labels(["c", "a", "b"], ["X", "Y", "Y", "Y"], seed=0)
    assert m1 == m2 and set(m1.values()) <= {"X", "Y"}


def test_open_class() -> None:
    assert is_open_class(["NN", "VBZ", "DT", ",", "JJ", "IN"]).tolist() == [True, True, False, False, True, False]


def test_lambda_selection_prefers_concentration_within_tolerance() -> None:
    X, y = planted()
    groups = np.arange(len(y)) // 10
    (l1, l2), table = select_lambdas(
        X, y, groups, [(1e-3, 0.0), (1.0, 0.0)], tolerance=0.02, probe_params={"epochs": 3, "batch_size": 512}
    )
    assert (l1, l2) == (1e-3, 0.0)  # l1=1 is too strong: accuracy collapses
    assert table["chosen"].sum() == 1 and {(0.0, 0.0), (1.0, 0.0)} <= set(zip(table["l1"], table["l2"]))


def test_lambda_selection_by_retrained_top_k_ties_inside_the_probe_seed_noise() -> None:
    """The retrained-top-k criterion: a penalty that destroys the probe loses; pairs inside the noise of the best
    tie, and the tie goes to the largest penalty."""
    X, y = planted()
    groups = np.arange(len(y)) // 10
    pairs = [(0.0, 0.0), (1e-4, 0.0), (1e-3, 0.0), (1.0, 0.0)]
    (l1, l2), table = select_lambdas(
        X,
        y,
        groups,
        pairs,
        tolerance=0.02,
        probe_params={"epochs": 3, "batch_size": 512},
        criterion="retrain_topk",
        seeds=3,
        keep=0.15,
        refit=2,
    )
    cand = table[table["topk_accuracy"].notna()].set_index(["l1", "l2"])
    assert set(cand.index) == {*pairs, (1e-5, 1e-5)}  # the paper's pair is always searched
    assert cand.loc[(1.0, 0.0), "topk_accuracy"] < 0.6 and not cand.loc[(1.0, 0.0), "within_tolerance"]
    assert sorted(cand["topk_seeds"]) == [1, 1, 1, 3, 3]  # the two best by probe seed 0 are refitted
    assert (cand["topk_noise"] == cand["topk_sd"].max()).all()
    best = cand["topk_accuracy"][cand["topk_seeds"] == 3].max()
    tied = cand[cand["within_tolerance"]]
    assert (tied["topk_accuracy"] >= best - cand["topk_noise"].iloc[0] - 1e-12).all()
    assert (l1, l2) == max(tied.index) and table["chosen"].sum() == 1  # the largest l1, then l2
    # On planted data every reasonable penalty keeps the three informative neurons: they tie.
    assert {(0.0, 0.0), (1e-4, 0.0)} <= set(tied.index)
    with pytest.raises(ValueError, match="criterion"):
        select_lambdas(X, y, groups, pairs, 0.02, {"epochs": 1, "batch_size": 512}, criterion="best")


def test_probe_layer_tables_and_unseen_labels() -> None:
    X, y = planted(n=3000)
    keys = pd.DataFrame(
        {
            "sentence": np.arange(3000) // 10,
            "word": [f"w{i % 50}" for i in range(3000)],
            "pos": np.where(y == "A", "NN", "DT"),
            "chunk": y,
        }
    )
    test_keys = keys.iloc[:500].copy()
    test_keys.loc[test_keys.index[:7], "chunk"] = "Z"  # a label the probe never saw

    def probed(probe_params: dict | None = None, **extra: object) -> dict:
        return probe_layer(
            X,
            keys,
            X[:500],
            test_keys,
            "chunk",
            l1=1e-4,
            l2=1e-4,
            probe_params=probe_params or {"epochs": 3, "batch_size": 512},
            salient_fraction=0.25,
            seed=0,
            **extra,
        )

    out = probed()
    m = out["metrics"].set_index(["metric", "group"])["value"]
    assert m[("test_tokens_with_label_unseen_in_train", "")] == 7 and m[("labels_only_in_test", "Z")] == 1
    assert m[("accuracy", "overall")] > 0.85 and m[("selectivity", "overall")] > 0.3
    assert set(out["orderings"]["method"]) == PROBE_RANKINGS
    for _, g in out["orderings"].groupby("method"):
        assert sorted(g["neuron"]) == list(range(20))
    assert len(out["weights"]) == 3 * 20
    labels = out["labels"].set_index("label")
    assert (labels["neurons_needed"] >= 1).all() and all(set(s) <= {0, 1, 2} for s in labels["salient_neurons"])
    assert "probe_seed_accuracy" not in set(out["metrics"]["metric"])  # one probe seed: no spread to report
    # With the raw word as the input key, both majority baselines are the same lookup.
    assert m[("majority_baseline_input_key", "overall")] == m[("majority_baseline", "overall")]
    assert m[("accuracy_bootstrap", "low")] < m[("accuracy", "overall")] < m[("accuracy_bootstrap", "high")]
    # Every difference the summary compares within the job has its test-set interval (what a single instance
    # shows), bracketing the difference of the two accuracies.
    margin = m[("accuracy", "overall")] - m[("majority_baseline", "overall")]
    assert m[("minus_majority_bootstrap", "low")] <= margin <= m[("minus_majority_bootstrap", "high")]
    top10 = m[("top10pct_retrain_accuracy", "selected")] - m[("top10pct_retrain_accuracy", "paper_default")]
    low, high = m[("top10_chosen_minus_paper_bootstrap", "low")], m[("top10_chosen_minus_paper_bootstrap", "high")]
    assert low <= top10 <= high
    assert ("open_minus_closed_in_vocab_bootstrap", "low") not in m.index  # POS only
    pm = probe_layer(
        X, keys, X[:500], test_keys, "pos", l1=1e-4, l2=1e-4, probe_params={"epochs": 3}, salient_fraction=0.25, seed=0
    )["metrics"].set_index(["metric", "group"])["value"]
    gap = pm[("accuracy", "open_in_vocab")] - pm[("accuracy", "closed_in_vocab")]
    low, high = (
        pm[("open_minus_closed_in_vocab_bootstrap", "low")],
        pm[("open_minus_closed_in_vocab_bootstrap", "high")],
    )
    assert low <= gap <= high and low < high
    # Raw words as input keys: every token is in vocabulary, so in-vocabulary minus OOV has no interval.
    assert np.isnan(m[("in_vocab_minus_oov_bootstrap", "low")])

    # Three probe seeds: the selected probe is seed 0's; the others are other fits of the same problem.
    seeded = probed(probe_seeds=3)
    sm = seeded["metrics"].set_index(["metric", "group"])["value"]
    acc = sm.loc["probe_seed_accuracy"]
    assert list(acc.index) == ["0", "1", "2"] and (acc > 0.85).all()
    assert acc["0"] == pytest.approx(sm[("accuracy", "overall")])
    assert sm[("accuracy_seed_mean_bootstrap", "low")] <= acc.mean() <= sm[("accuracy_seed_mean_bootstrap", "high")]
    assert sm[("accuracy", "overall")] == pytest.approx(m[("accuracy", "overall")])
    retrain = sm.loc["probe_seed_top10pct_retrain_accuracy"]
    assert list(retrain.index) == ["0", "1", "2"]
    assert retrain["0"] == pytest.approx(sm[("top10pct_retrain_accuracy", "selected")])
    pd.testing.assert_frame_equal(seeded["orderings"], out["orderings"])  # the rankings stay the selected probe's
    # The converging solver is deterministic: a probe seed would refit the same probe, so there is one.
    solved = probed({"solver": "fista", "tol": 1e-4, "max_iter": 50}, probe_seeds=3, fixed_budget_baseline=False)
    assert "probe_seed_accuracy" not in set(solved["metrics"]["metric"])
    # Beside the fixed-budget Adam probe, the solved probe's difference from it has its sentence-bootstrap interval.
    both = probed({"solver": "fista", "tol": 1e-4, "max_iter": 50}, paper_lambdas=(1e-2, 1e-2))
    bm = both["metrics"].set_index(["metric", "group"])["value"]
    diff = bm[("accuracy", "overall")] - bm[("fixed_budget_accuracy", "overall")]
    low, high = bm[("solved_minus_fixed_budget_bootstrap", "low")], bm[("solved_minus_fixed_budget_bootstrap", "high")]
    assert low <= diff <= high and high - low < 0.2
    assert "solved_minus_fixed_budget_bootstrap" not in set(solved["metrics"]["metric"])  # no baseline, no interval


def test_majority_baseline_on_the_models_input_keys() -> None:
    """A model that sees every word as the same key: its input-key lookup can only predict the commonest label."""
    X, y = planted(n=2000)
    keys = pd.DataFrame(
        {"sentence": np.arange(2000) // 10, "word": [f"w{label}" for label in y], "pos": "NN", "chunk": y}
    )
    out = probe_layer(
        X,
        keys,
        X[:400],
        keys.iloc[:400],
        "chunk",
        l1=1e-4,
        l2=1e-4,
        probe_params={"epochs": 1, "batch_size": 512},
        salient_fraction=0.25,
        seed=0,
        input_keys=lambda words: (np.full(len(words), "same", dtype=object), np.ones(len(words), dtype=bool)),
    )
    m = out["metrics"].set_index(["metric", "group"])["value"]
    commonest = keys["chunk"].iloc[:400].value_counts(normalize=True).max()
    assert m[("majority_baseline", "overall")] == 1.0  # the raw word gives the label away
    assert m[("majority_baseline_input_key", "overall")] == pytest.approx(commonest)


def test_lambda_grid_figure_draws_the_retrain_criterion() -> None:
    from neurosieve.report.figures import lambda_grid

    X, y = planted(n=2000)
    _, table = select_lambdas(
        X,
        y,
        np.arange(len(y)) // 10,
        [(0.0, 0.0), (1e-3, 0.0)],
        0.02,
        {"epochs": 1, "batch_size": 512},
        criterion="retrain_topk",
        seeds=2,
        refit=2,
    )
    fig = lambda_grid(table)
    axes = fig.get_axes()
    assert len(axes) == 3 and "own top neurons retrained" in axes[2].get_ylabel() and axes[2].containers
    legacy = lambda_grid(table.drop(columns=["topk_accuracy", "topk_sd"]))
    assert len([a for a in legacy.get_axes() if a.get_visible()]) <= 2


def test_lambda_choice_and_oracle_use_the_same_development_split() -> None:
    """One development split (data.dev): the lambda search scores on exactly the sentences the greedy oracle
    selects on, and a solo probe fitted on the rest reproduces the search's held-out accuracy."""
    from neurosieve.analysis.calibration import greedy_oracle, selection_split
    from neurosieve.analysis.probe import ElasticNetProbe

    X, y = planted()
    groups = np.arange(len(y)) // 10
    params = {"epochs": 3, "batch_size": 512}
    _, table = select_lambdas(
        X, y, groups, [(1e-3, 0.0)], tolerance=0.02, probe_params=params, held_out=0.1, split_seed=5, random_state=2
    )
    dev = selection_split(groups, 0.1, 5)
    assert np.array_equal(greedy_oracle(X, y, groups, max_neurons=2, held_out=0.1, seed=5).split.select, dev.select)
    solo = ElasticNetProbe(l1=1e-3, l2=0.0, random_state=2, **params).fit(X[dev.fit], y[dev.fit])
    row = table[(table["l1"] == 1e-3) & (table["l2"] == 0.0)]
    assert row["accuracy"].item() == pytest.approx(solo.score(X[dev.select], y[dev.select]), abs=1e-12)
    other = selection_split(groups, 0.1, 6)
    assert not np.array_equal(other.select, dev.select)
