"""Correlation rankings come from the registry: one entry plus its function in CORRELATION_RANKING_FUNCTIONS.

The score tables are built by calling each registered ranking's function; this checks the columns and values
are those of the hand-written formulae they replaced, and that an added ranking reaches every table and the
code downstream that iterates rankings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis import correlation
from neurosieve.analysis.correlation import (
    CORRELATION_RANKING_FUNCTIONS,
    FULL_LAYER_RANKINGS,
    METHODS,
    CorrelationRankingInputs,
    correlate_instances,
    correlate_streaming,
    correlation_rankings,
    linreg_r2,
    pair_maxima,
    partner_rank_agreement,
    ranking_stability,
    standardize,
    twin_experiment,
)
from neurosieve.core import registry
from neurosieve.core.registry import CORRELATION_RANKINGS, Ranking

#: The score table's columns before the rankings came from the registry (the run comparison checks their order).
COLUMNS = [
    "instance",
    "neuron",
    "dead",
    "maxcorr",
    "meanmaxcorr",
    "mincorr",
    "maxcorr_signed",
    "meanmaxcorr_signed",
    "mincorr_signed",
    "linreg",
    "partner_instance",
    "partner_neuron",
    "partner_r",
    "rank_maxcorr",
    "rank_meanmaxcorr",
    "rank_mincorr",
    "rank_linreg",
    "rank_maxcorr_signed",
    "rank_meanmaxcorr_signed",
    "rank_mincorr_signed",
]


def family(seed: int = 1234, t: int = 300) -> dict[str, np.ndarray]:
    """Four instances of different widths: a recurring neuron, a sign-flipped copy, an exact copy, dead neurons and a tie."""
    rng = np.random.default_rng(seed)
    a, b, c, d = (rng.normal(size=(t, w)).astype(np.float32) for w in (9, 7, 11, 8))
    b[:, 2] = a[:, 0] + 0.1 * rng.normal(size=t)
    c[:, 4] = -a[:, 0] + 0.1 * rng.normal(size=t)
    d[:, 1] = a[:, 5]
    a[:, 3] = 1.5
    c[:, 0] = 0.0
    b[:, 6] = b[:, 5]
    return {"A": a, "B": b, "C": c, "D": d}


def reference_scores(acts: dict[str, np.ndarray], block: int, linreg: bool) -> dict[str, dict[str, np.ndarray]]:
    """The scores as the hand-written code computed them: max, mean and min over the other instances of the
    best partner's |r| (then of the best signed r), LinReg the worst R² over the other instances."""
    names = list(acts)
    std = {n: standardize(acts[n]) for n in names}
    best, cross = {}, {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            best[a, b], best[b, a], c = pair_maxima(std[a], std[b], block, keep=True)
            cross[a, b], cross[b, a] = c, c.T
    out = {}
    for a in names:
        others = [b for b in names if b != a]
        s_abs = np.stack([best[a, b].best_abs for b in others])
        s_sig = np.stack([best[a, b].best_signed for b in others])
        s_abs[:, std[a].dead] = 0.0
        s_sig[:, std[a].dead] = 0.0
        out[a] = {
            "maxcorr": s_abs.max(0),
            "meanmaxcorr": s_abs.mean(0),
            "mincorr": s_abs.min(0),
            "maxcorr_signed": s_sig.max(0),
            "meanmaxcorr_signed": s_sig.mean(0),
            "mincorr_signed": s_sig.min(0),
        }
        if linreg:
            out[a]["linreg"] = np.min([linreg_r2(std[a], std[b], cross=cross[b, a]) for b in others], axis=0)
    return out


def test_every_correlation_ranking_of_the_registry_has_its_function_and_no_other() -> None:
    assert set(CORRELATION_RANKING_FUNCTIONS) == set(CORRELATION_RANKINGS)
    assert FULL_LAYER_RANKINGS <= set(CORRELATION_RANKINGS)
    assert correlation_rankings() == CORRELATION_RANKINGS == METHODS
    assert correlation_rankings(full_layer=False) == tuple(m for m in CORRELATION_RANKINGS if m != "linreg")


@pytest.mark.parametrize("linreg", [True, False])
def test_score_table_columns_and_values_are_those_of_the_hand_written_formulae(linreg: bool) -> None:
    acts = family()
    scores = correlate_instances(acts, block=4, linreg=linreg).scores
    want = COLUMNS if linreg else [c for c in COLUMNS if "linreg" not in c]
    assert list(scores.columns) == want
    ref = reference_scores(acts, block=4, linreg=linreg)
    for inst, cols in ref.items():
        got = scores[scores["instance"] == inst]
        for col, values in cols.items():
            np.testing.assert_array_equal(got[col].to_numpy(), values, err_msg=f"{inst} {col}")
    streamed = correlate_streaming(lambda n, sl: acts[n][sl], list(acts), 300, token_block=64, memory=200_000, block=5)
    assert list(streamed.scores.columns) == [c for c in COLUMNS if "linreg" not in c]


def _fake(x: CorrelationRankingInputs) -> np.ndarray:
    """A made-up best-partner ranking: the median over the other instances."""
    return np.median(x.best, axis=0)


def _fake_layer(x: CorrelationRankingInputs) -> np.ndarray:
    """A made-up whole-layer ranking: the mean |r| with every neuron of the other instances."""
    assert x.layers is not None
    return np.mean([np.abs(x.layers.cross[b, x.instance]).mean(axis=0) for b in x.others], axis=0)


@pytest.fixture
def with_fake_rankings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registry entries plus functions for 'fakecorr' (best partners) and 'fakelayer' (whole layer), nothing else."""
    new = (
        Ranking("fakecorr", "correlation", "FakeCorr", "median over other instances of the best partner's |r|"),
        Ranking("fakelayer", "correlation", "FakeLayer", "mean |r| with the other instances' layers"),
    )
    monkeypatch.setattr(registry, "RANKINGS", (*registry.RANKINGS, *new))
    monkeypatch.setattr(registry, "CORRELATION_RANKINGS", (*registry.CORRELATION_RANKINGS, "fakecorr", "fakelayer"))
    monkeypatch.setitem(CORRELATION_RANKING_FUNCTIONS, "fakecorr", _fake)
    monkeypatch.setitem(CORRELATION_RANKING_FUNCTIONS, "fakelayer", _fake_layer)
    monkeypatch.setattr(correlation, "FULL_LAYER_RANKINGS", FULL_LAYER_RANKINGS | {"fakelayer"})


@pytest.mark.usefixtures("with_fake_rankings")
def test_an_added_correlation_ranking_reaches_the_tables_and_what_iterates_rankings() -> None:
    acts = family()
    result = correlate_instances(acts, block=4)
    scores = result.scores
    # Best-partner rankings, then their signed variants, then the whole-layer ones; ranks in registry order.
    assert list(scores.columns) == [
        *COLUMNS[:6],
        "fakecorr",
        *COLUMNS[6:9],
        "fakecorr_signed",
        "linreg",
        "fakelayer",
        *COLUMNS[10:17],
        "rank_fakecorr",
        "rank_fakelayer",
        *COLUMNS[17:],
        "rank_fakecorr_signed",
    ]
    a = scores[scores["instance"] == "A"]
    ref = reference_scores(acts, block=4, linreg=False)["A"]
    live = ~a["dead"].to_numpy()
    assert np.all(a["fakecorr"].to_numpy()[live] <= ref["maxcorr"][live])
    assert np.all(a["fakecorr"].to_numpy()[live] >= ref["mincorr"][live])
    assert np.all((a["fakelayer"] > 0) == live)
    # The existing columns are untouched by the additions.
    before = correlate_instances(acts, block=4).scores
    pd.testing.assert_frame_equal(before, scores)

    stability = ranking_stability(result, [1, 3])
    assert list(dict.fromkeys(stability["method"])) == [*CORRELATION_RANKINGS, "fakecorr", "fakelayer"]
    agreement = partner_rank_agreement(scores, result.pairs)
    assert {"fakecorr", "fakelayer"} <= set(agreement["method"])

    change, after = twin_experiment({k: acts[k] for k in "ABC"}, "D", acts["D"], "A", [2])
    assert {"fakecorr", "fakelayer"} <= set(change["method"]) and "rank_fakelayer" in after

    # Without whole layers (linreg=False, streaming) only the best-partner addition is there.
    no_layers = correlate_instances(acts, block=4, linreg=False).scores
    assert {"fakecorr", "fakecorr_signed", "rank_fakecorr"} <= set(no_layers.columns)
    assert not {"linreg", "fakelayer", "fakelayer_signed"} & set(no_layers.columns)
    streamed = correlate_streaming(lambda n, sl: acts[n][sl], list(acts), 300, token_block=64)
    pd.testing.assert_frame_equal(
        streamed.scores[["fakecorr", "fakecorr_signed"]], no_layers[["fakecorr", "fakecorr_signed"]], atol=1e-6
    )
    assert "fakelayer" not in streamed.scores
    assert set(ranking_stability(streamed, [2])["method"]) == set(correlation_rankings(full_layer=False))


def test_a_registered_correlation_ranking_without_a_function_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "CORRELATION_RANKINGS", (*registry.CORRELATION_RANKINGS, "nofunction"))
    with pytest.raises(KeyError, match="nofunction"):
        correlate_instances(family(), block=4)
