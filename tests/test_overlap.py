"""CCA against LCA: the overlap test by hand and against the hypergeometric law, and a planted position neuron."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from neurosieve.analysis.correlation import correlate_instances
from neurosieve.analysis.overlap import cca_lca_overlap, headline_k, overlap_test, property_agreement
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import neuron_ordering
from neurosieve.store.properties import add_derived


def test_overlap_by_hand_and_chance() -> None:
    a = np.array([3, 1, 4, 0, 2, 5, 6, 7, 8, 9])
    b = np.array([3, 4, 9, 8, 7, 6, 5, 2, 1, 0])
    t = overlap_test(a, b, [1, 2, 3], 10).set_index("k")
    assert t["overlap"].tolist() == [1, 1, 2]  # {3}, {3,1}∩{3,4}, {3,1,4}∩{3,4,9}
    assert t["chance"].tolist() == pytest.approx([0.1, 0.4, 0.9])
    assert t.loc[3, "share"] == pytest.approx(2 / 3) and t.loc[3, "ratio"] == pytest.approx(2 / 0.9)


def test_p_value_is_the_exact_tail_over_every_k_subset() -> None:
    """The p-value of a top-k overlap is P(X >= overlap) over all C(d, k) equally likely k-subsets, enumerated."""
    from itertools import combinations
    from math import comb

    d = 9
    rng = np.random.default_rng(3)
    for _ in range(4):
        a, b = rng.permutation(d), rng.permutation(d)
        ks = list(range(1, d + 1))
        t = overlap_test(a, b, ks, d).set_index("k")
        for k in ks:
            top_b = set(b[:k].tolist())
            observed = len(top_b & set(a[:k].tolist()))
            at_least = sum(len(top_b.intersection(s)) >= observed for s in combinations(range(d), k))
            assert t.loc[k, "overlap"] == observed
            assert t.loc[k, "p_value"] == pytest.approx(at_least / comb(d, k), rel=1e-12, abs=1e-15)
    # All of the top-k shared: 1 / C(d, k); none shared: 1.
    full = overlap_test(np.arange(d), np.arange(d), [3], d).iloc[0]
    assert full["p_value"] == pytest.approx(1 / comb(d, 3), rel=1e-12)
    none = overlap_test(np.arange(d), np.arange(d)[::-1], [3], d).iloc[0]
    assert none["overlap"] == 0 and none["p_value"] == 1.0


def test_p_value_is_the_hypergeometric_tail() -> None:
    d, k = 50, 10
    a = np.arange(d)
    b = np.concatenate([[0, 1, 2, 3], np.arange(20, d)])  # shares 4 of its top 10 with a
    t = overlap_test(a, b, [k], d).iloc[0]
    assert t["overlap"] == 4 and t["p_value"] == hypergeom.sf(3, d, k, k)


def planted_instances(
    n_instances: int = 3, d: int = 64, sentences: int = 150, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Tokens of random sentences and, per instance, noise neurons plus a position neuron and a loud random neuron.

    The position neuron (a different index in each instance) tracks log(position + 1); the random neuron has
    ten times the variance of the others but is independent across instances.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 25, size=sentences)
    keys = pd.DataFrame(
        {
            "sentence": np.repeat(np.arange(sentences), lengths),
            "position": np.concatenate([np.arange(n) for n in lengths]),
        }
    )
    keys["word"] = rng.integers(0, 500, size=len(keys)).astype(str)
    keys["noise"] = rng.choice(["a", "b", "c"], size=len(keys))
    keys = add_derived(keys, ["position_bin"])
    acts = {}
    for i in range(n_instances):
        x = rng.normal(size=(len(keys), d)).astype(np.float32)
        x[:, 5 + i] = 2.0 * np.log1p(keys["position"].to_numpy()) + 0.3 * rng.normal(size=len(keys))
        x[:, 40 + i] = 10.0 * rng.normal(size=len(keys))
        acts[f"m{i}"] = x
    return keys, acts


def test_planted_position_neuron_tops_both_rankings() -> None:
    keys, acts = planted_instances()
    scores = correlate_instances(acts, linreg=False).scores
    lca = {}
    for inst, x in acts.items():
        for prop in ("position_bin", "noise"):
            probe = ElasticNetProbe(l1=1e-4, l2=1e-4, epochs=15, lr=0.05, random_state=0).fit(
                x, keys[prop].astype(str).to_numpy()
            )
            lca[inst, prop] = neuron_ordering(probe.coef_)
    table = cca_lca_overlap(scores, lca, top_fractions=[0.01, 0.1])
    assert set(table["k"]) == {1, 6} and set(table["ranking"]) == {"maxcorr", "meanmaxcorr", "mincorr"}
    for i, inst in enumerate(acts):
        position_neuron, random_neuron = 5 + i, 40 + i
        s = scores[scores["instance"] == inst].set_index("neuron")
        assert s.loc[position_neuron, "rank_maxcorr"] == 1 and s.loc[position_neuron, "rank_meanmaxcorr"] == 1
        assert s.loc[random_neuron, "rank_maxcorr"] > 6  # loud but not shared: not a top CCA neuron
        assert lca[inst, "position_bin"][0] == position_neuron
        assert random_neuron not in lca[inst, "position_bin"][:6]
    top1 = table[(table["k"] == 1) & (table["property"] == "position_bin") & (table["ranking"] == "maxcorr")]
    assert (top1["overlap"] == 1).all() and np.allclose(top1["chance"], 1 / 64) and (top1["p_value"] < 0.05).all()
    agree = property_agreement(table, "maxcorr", 1)
    assert agree.iloc[0]["property"] == "position_bin" and agree.iloc[0]["significant"] == 3
    assert agree.set_index("property").loc["noise", "significant"] == 0
    assert headline_k(table, 0.1) == 6
    # Deterministic: the same inputs give the same table.
    pd.testing.assert_frame_equal(table, cca_lca_overlap(scores, lca, top_fractions=[0.01, 0.1]))


def synthetic_overlap_table() -> pd.DataFrame:
    """Three instances of a 64-neuron layer: MaxCorr's top-6 share 4 neurons with position's LCA top-6, 0 with noise's."""
    rows = []
    for inst in ("m0", "m1", "m2"):
        for ranking in ("maxcorr", "meanmaxcorr"):
            for prop, overlap, p in (("position_bin", 4, 0.001), ("noise", 0, 1.0)):
                rows.append(
                    {
                        "instance": inst,
                        "ranking": ranking,
                        "property": prop,
                        "width": 64,
                        "k": 6,
                        "overlap": overlap,
                        "share": overlap / 6,
                        "chance": 36 / 64,
                        "ratio": overlap / (36 / 64),
                        "p_value": p,
                        "layer": 2,
                    }
                )
    return pd.DataFrame(rows)


def test_summary_states_the_overlap_beside_the_paper() -> None:
    from neurosieve.report.summary import CCA_LCA_FINDING, overlap_summary

    table = synthetic_overlap_table()
    rows = pd.DataFrame(overlap_summary("fam", table))
    assert set(rows["section"]) == {"CCA vs LCA"}
    pos = rows[rows["quantity"].str.endswith("LCA neurons of position_bin")]
    assert pos["value"].item() == "0.67 (chance 0.09, median p 0.001, p < 0.05 in 3/3 instances)"
    # Three instances, all above chance: the sign test's smallest two-sided p is 2/8, so not yet significant.
    assert pos["verdict"].item() == "inconclusive" and pos["p"].item() == 0.25 and pos["n"].item() == 3
    belongs = rows[rows["quantity"].str.contains("belong to")]
    assert len(belongs) == 2 and (belongs["value"] == "position_bin (×7.1)").all()
    assert (belongs["expected finding"] == CCA_LCA_FINDING).all()
    # Six instances, all above chance: the position finding agrees (two-sided p = 2/64).
    five = pd.concat([table.assign(instance=table["instance"] + s) for s in ("", "-b")], ignore_index=True)
    belongs = pd.DataFrame(overlap_summary("fam", five))
    belongs = belongs[belongs["quantity"].str.contains("belong to")]
    assert (belongs["verdict"] == "agrees").all() and (belongs["p"] == 0.0312).all()
    # When the position property sits below chance in every instance, the line says so and the finding disagrees.
    flat = five.assign(p_value=0.5, share=np.where(five["property"] == "position_bin", 0.0, five["share"]))
    belongs = pd.DataFrame(overlap_summary("fam", flat))
    belongs = belongs[belongs["quantity"].str.contains("belong to")]
    assert (belongs["value"] == "none above chance").all() and (belongs["verdict"] == "disagrees").all()


def test_cca_vs_lca_figure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from neurosieve.report.figures import cca_vs_lca, save

    fig = cca_vs_lca(synthetic_overlap_table())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["noise", "position_bin"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MaxCorr", "MeanMaxCorr"]
    assert "chance 0.09" in ax.get_title()
    assert any(t.get_text().startswith("0.67\n×7.1") for t in ax.texts)
    save(fig, tmp_path / "f.png", tmp_path / "f.svg")
    assert (tmp_path / "f.png").stat().st_size > 5000


def test_describe_names_the_planted_neurons() -> None:
    from neurosieve.analysis.describe import describe_neurons, neuron_caption

    keys, acts = planted_instances()
    x = acts["m0"]
    x[:, 10] = (keys["noise"] == "b").to_numpy() * 3.0 + 0.1 * np.random.default_rng(2).normal(size=len(keys))
    table = describe_neurons(x, keys, {"planted": np.array([5, 10, 40])}, ["position_bin", "noise"], top_n=3, n_words=4)
    by = table.set_index("neuron")
    assert by.loc[5, "property"] in {"position", "position_bin"} and by.loc[5, "abs_r"] > 0.8
    assert by.loc[5, "second_property"] != by.loc[5, "property"]
    assert (by.loc[10, "property"], by.loc[10, "label"]) == ("noise", "b") and by.loc[10, "r"] > 0.9
    assert by.loc[40, "abs_r"] < 0.2  # the loud random neuron tracks nothing
    assert table["rank"].tolist() == [1, 2, 3] and len(by.loc[5, "top_words"].split()) == 4
    # The top words of a neuron are those of its most active tokens.
    assert by.loc[10, "top_words"].split()[0] == keys["word"].iloc[int(np.argmax(x[:, 10]))]
    assert neuron_caption(by.loc[10]) == f"noise=b (r={by.loc[10, 'r']:+.2f})"
    assert neuron_caption({"property": "position", "label": "", "r": -0.5}) == "position (r=-0.50)"


def test_summary_counts_what_the_top_cca_neurons_respond_to() -> None:
    from neurosieve.analysis.describe import describe_neurons
    from neurosieve.report.summary import neuron_summary

    keys, acts = planted_instances()
    table = describe_neurons(
        acts["m0"], keys, {"maxcorr": np.array([5, 40, 0])}, ["position_bin", "noise"], top_n=3, n_words=2
    )
    rows = neuron_summary("fam", table.assign(instance="m0", layer=2))
    assert len(rows) == 1 and rows[0]["quantity"].startswith("top 3 maxcorr neurons (m0, layer 2)")
    assert "#1 neuron 5: position" in rows[0]["value"]


def test_figure9_titles_come_from_the_descriptions() -> None:
    from neurosieve.analysis.describe import describe_neurons
    from neurosieve.report.figures import described_neurons, top_neuron_sentences

    keys, acts = planted_instances()
    x = acts["m0"]
    table = describe_neurons(
        x,
        keys,
        {"lca:pos": np.array([5, 1]), "maxcorr": np.array([5, 40]), "mincorr": np.array([2])},
        ["position_bin"],
        top_n=2,
        n_words=3,
    )
    neurons, titles = described_neurons(table, "pos", 1)
    assert neurons.tolist() == [5, 5]
    assert titles[0].startswith("LCA #1: neuron 5\nposition") and titles[1].startswith("MaxCorr #1: neuron 5\n")
    assert titles[0].split("\n")[2] == "top: " + table.iloc[0]["top_words"]
    fig = top_neuron_sentences([["a", "b"]], [x[:2][:, neurons]], neurons.tolist(), titles, label_width=0.3)
    assert titles[0] in [t.get_text() for t in fig.texts]
