"""Streaming (whole-model) correlation against the in-memory stage on the concatenated layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.correlation import (
    Moments,
    _plan_passes,
    correlate_instances,
    correlate_streaming,
    plan_streaming,
    stream_moments,
    whole_model_reader,
)

LAYERS = (0, 1, 2)
WIDTH = 7  # neurons per layer
TOKENS = 301


def family(seed: int = 0, n_instances: int = 3) -> dict[str, dict[int, np.ndarray]]:
    """Instances of 3 layers each, sharing latent signal (so partners are clear), with means far from 0, scales
    spread over decades, and dead (constant) neurons, one of them in a layer of its own."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(TOKENS, 4))
    out: dict[str, dict[int, np.ndarray]] = {}
    for k in range(n_instances):
        layers = {}
        for layer in LAYERS:
            x = latent @ rng.normal(size=(4, WIDTH)) + rng.normal(size=(TOKENS, WIDTH))
            x = x * 10.0 ** rng.uniform(-2, 2, size=WIDTH) + rng.uniform(-50, 50, size=WIDTH)
            layers[layer] = x.astype(np.float32)
        layers[1][:, 3] = 2.5  # dead
        if k == 1:
            layers[2][:, 0] = -7.0  # another dead neuron, in one instance only
        out[f"m{k}"] = layers
    return out


def in_memory(fam: dict[str, dict[int, np.ndarray]]) -> pd.DataFrame:
    return correlate_instances({n: np.hstack([fam[n][la] for la in LAYERS]) for n in fam}, block=5, linreg=False)


def layer_reader(fam: dict[str, dict[int, np.ndarray]], calls: list | None = None):  # type: ignore[no-untyped-def]
    def read_layer(instance: str, layer: int, sl: slice) -> np.ndarray:
        if calls is not None:
            calls.append((instance, layer, sl.start, sl.stop))
        return fam[instance][layer][sl]  # a view: the streaming path must not write into it

    return whole_model_reader(read_layer, LAYERS)


def assert_same(streamed, reference) -> None:  # type: ignore[no-untyped-def]
    s, r = streamed.scores, reference.scores
    assert list(s.columns) == list(r.columns)
    assert (s["instance"] == r["instance"]).all() and (s["neuron"] == r["neuron"]).all()
    assert (s["dead"] == r["dead"]).all()
    for col in ("maxcorr", "meanmaxcorr", "mincorr", "maxcorr_signed", "meanmaxcorr_signed", "mincorr_signed"):
        np.testing.assert_allclose(s[col], r[col], atol=2e-6, err_msg=col)
    for col in [c for c in r.columns if c.startswith("rank_")]:
        np.testing.assert_array_equal(s[col], r[col], err_msg=col)
    pd.testing.assert_series_equal(s["partner_instance"], r["partner_instance"])
    pd.testing.assert_series_equal(s["partner_neuron"], r["partner_neuron"])
    np.testing.assert_allclose(s["partner_r"], r["partner_r"], atol=2e-6)
    p, q = streamed.pairs, reference.pairs
    assert list(p.columns) == list(q.columns)
    for col in ("instance", "neuron", "other", "best_neuron"):
        np.testing.assert_array_equal(p[col], q[col], err_msg=col)
    for col in ("best_abs_r", "best_r"):
        np.testing.assert_allclose(p[col], q[col], atol=2e-6, err_msg=col)


@pytest.mark.parametrize("token_block", [1, 64, 100, TOKENS, 1000])  # 100 does not divide 301
def test_streaming_matches_in_memory_for_any_token_block(token_block: int) -> None:
    fam = family()
    got = correlate_streaming(layer_reader(fam), list(fam), TOKENS, token_block=token_block, block=4)
    ref = in_memory(fam)
    assert ref.scores["dead"].sum() == 4  # the dead neurons are there, and flagged in both
    assert_same(got, ref)


@pytest.mark.parametrize("entries", [63, 100, 400, 10**6])  # from one row a pass to everything in one pass
def test_streaming_matches_in_memory_for_any_memory_budget(entries: int) -> None:
    fam = family(seed=1, n_instances=4)
    names = list(fam)
    d = WIDTH * len(LAYERS)
    widths = dict.fromkeys(names, d)
    passes = _plan_passes(names, widths, entries)
    # every row of the upper block triangle lands in exactly one band, in row order per instance; no pass overflows
    for name in names[:-1]:
        rows = [
            r for bands in passes for band in bands if band.a == name for r in range(band.rows.start, band.rows.stop)
        ]
        assert rows == list(range(d)), name
    for bands in passes:
        assert sum((b.rows.stop - b.rows.start) * d * (len(names) - 1 - names.index(b.a)) for b in bands) <= entries
    memory = plan_streaming(widths, 50, 2**30, 3).block_bytes + 8 * entries
    plan = plan_streaming(widths, 50, memory, 3)
    assert plan.accumulator_entries == entries and plan.passes == len(passes)
    got = correlate_streaming(layer_reader(fam), names, TOKENS, token_block=50, memory=memory, block=3)
    assert_same(got, in_memory(fam))


def test_reads_each_block_once_per_pass_and_leaves_the_source_alone() -> None:
    fam = family(seed=2)
    before = {n: {la: x.copy() for la, x in layers.items()} for n, layers in fam.items()}
    calls: list = []
    correlate_streaming(layer_reader(fam, calls), list(fam), TOKENS, token_block=128)
    blocks = 3  # 128, 128, 45
    moments_pass = len(fam) * len(LAYERS) * blocks
    assert len(calls) == moments_pass + len(fam) * len(LAYERS) * blocks  # one pass suffices at the default budget
    for n in fam:
        for la in LAYERS:
            np.testing.assert_array_equal(fam[n][la], before[n][la])


def test_supplied_moments_skip_the_first_pass_and_agree() -> None:
    fam = family(seed=3)
    whole = {n: np.hstack([fam[n][la] for la in LAYERS]).astype(np.float64) for n in fam}
    sums = {n: Moments.from_sums(TOKENS, x.sum(0), (x * x).sum(0)) for n, x in whole.items()}
    streamed = {n: stream_moments(layer_reader(fam), n, TOKENS, 37) for n in fam}
    for n in fam:
        np.testing.assert_allclose(streamed[n].mean, whole[n].mean(0), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(streamed[n].std, whole[n].std(0), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(sums[n].std, whole[n].std(0), rtol=1e-5)
    calls: list = []
    got = correlate_streaming(layer_reader(fam, calls), list(fam), TOKENS, token_block=64, moments=streamed)
    assert len(calls) == len(fam) * len(LAYERS) * 5  # the correlation pass only
    assert_same(got, in_memory(fam))


def test_moments_merge_is_order_free_and_keeps_constants_dead() -> None:
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(500, 3)) * [1e-1, 1.0, 0.0] + [1e4, -3.0, 123.25]).astype(np.float32)
    parts = [Moments.of_block(x[s : s + 70]) for s in range(0, 500, 70)]
    fwd = parts[0]
    for p in parts[1:]:
        fwd = fwd.merge(p)
    back = parts[-1]
    for p in parts[-2::-1]:
        back = back.merge(p)
    ref = x.astype(np.float64)
    for m in (fwd, back):
        assert m.tokens == 500
        np.testing.assert_allclose(m.mean, ref.mean(0), rtol=1e-12)
        np.testing.assert_allclose(m.std, ref.std(0), rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(m.dead(), [False, False, True])
        assert m.m2[2] == 0.0


def test_deterministic() -> None:
    fam = family(seed=5)
    one = correlate_streaming(layer_reader(fam), list(fam), TOKENS, token_block=90, block=4)
    two = correlate_streaming(layer_reader(fam), list(fam), TOKENS, token_block=90, block=4)
    pd.testing.assert_frame_equal(one.scores, two.scores)
    pd.testing.assert_frame_equal(one.pairs, two.pairs)


def test_plan_bounds_memory_and_counts_passes() -> None:
    widths = {f"m{k}": 13 * 768 for k in range(6)}
    plan = plan_streaming(widths, token_block=4096, memory=6 * 2**30)
    assert plan.estimated_peak_bytes <= 6 * 2**30
    total = 15 * (13 * 768) ** 2
    assert plan.passes == 3 >= total / plan.accumulator_entries
    with pytest.raises(ValueError, match="below the token blocks"):
        plan_streaming(widths, token_block=4096, memory=2**30)


def test_errors() -> None:
    fam = family(seed=6)
    read = layer_reader(fam)
    with pytest.raises(ValueError, match="at least two"):
        correlate_streaming(read, ["m0"], TOKENS)
    with pytest.raises(ValueError, match="shape"):
        correlate_streaming(read, list(fam), TOKENS + 5, token_block=100)
    m = {n: stream_moments(read, n, TOKENS) for n in fam}
    with pytest.raises(ValueError, match="cover"):
        correlate_streaming(read, list(fam), TOKENS - 1, moments=m)
    with pytest.raises(ValueError, match="budget too small"):
        _plan_passes(list(fam), dict.fromkeys(fam, WIDTH * len(LAYERS)), 2 * WIDTH * len(LAYERS) - 1)
