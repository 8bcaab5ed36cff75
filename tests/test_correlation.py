"""Cross-model correlation on planted structure, against naive references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.correlation import (
    correlate_instances,
    duplicate_experiment,
    linear_cka,
    linreg_r2,
    pair_maxima,
    partner_rank_agreement,
    rank_desc,
    ranking_stability,
    standardize,
    twin_experiment,
)


def token_table(lengths: np.ndarray) -> pd.DataFrame:
    """A token table of sentences of the given lengths (placeholder words and tags)."""
    n = int(np.sum(lengths))
    return pd.DataFrame(
        {
            "sentence": np.repeat(np.arange(len(lengths)), lengths),
            "position": np.concatenate([np.arange(m) for m in lengths]),
            "word": [f"w{i}" for i in range(n)],
            "pos": "NN",
            "chunk": "B-NP",
        }
    )


def write_layers(path: Path, arrays: list[np.ndarray], table: pd.DataFrame, dtype: str = "float32") -> str:
    """An activation file at ``path`` whose layers are ``arrays`` (tokens of ``table`` in order)."""
    from neurosieve.store.activations import write_activations

    rows = iter(range(len(table)))

    def extract(block):  # type: ignore[no-untyped-def]
        idx = [next(rows) for s in block for _ in s]
        return [a[idx] for a in arrays]

    write_activations(table, extract, path, {}, progress=False, dtype=dtype)
    return str(path)


def naive_scores(acts: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """np.corrcoef on every pair, then the definitions of docs/methods.md written out literally."""
    out = {}
    for a, xa in acts.items():
        per_other = []
        per_other_signed = []
        for b, xb in acts.items():
            if a == b:
                continue
            c = np.corrcoef(xa.T, xb.T)[: xa.shape[1], xa.shape[1] :]
            per_other.append(np.abs(c).max(axis=1))
            per_other_signed.append(c.max(axis=1))
        s, ss = np.stack(per_other), np.stack(per_other_signed)
        out[a] = {
            "maxcorr": s.max(0),
            "meanmaxcorr": s.mean(0),
            "mincorr": s.min(0),
            "maxcorr_signed": ss.max(0),
            "meanmaxcorr_signed": ss.mean(0),
        }
    return out


def planted(seed: int = 0, t: int = 2000) -> dict[str, np.ndarray]:
    """Three instances of different widths; neuron 0 of A recurs (noisy) in B and, sign-flipped, in C; A's neuron 3 is dead."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(t, 6))
    b = rng.normal(size=(t, 5))
    c = rng.normal(size=(t, 7))
    b[:, 2] = a[:, 0] + 0.1 * rng.normal(size=t)
    c[:, 4] = -a[:, 0] + 0.1 * rng.normal(size=t)
    a[:, 3] = 1.5
    return {"A": a, "B": b, "C": c}


def scores_of(result, inst: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return result.scores[result.scores["instance"] == inst].set_index("neuron")


def test_matches_naive_on_random_data() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(3000, 4))
    acts = {
        f"i{k}": np.hstack([base @ rng.normal(size=(4, w)), rng.normal(size=(3000, w))])
        + rng.normal(size=(3000, 2 * w))
        for k, w in enumerate([8, 5, 11, 6])
    }
    res = correlate_instances(acts, block=3, dtype=np.float64)
    ref = naive_scores(acts)
    for inst in acts:
        got = scores_of(res, inst)
        for m, want in ref[inst].items():
            np.testing.assert_allclose(got[m].to_numpy(), want, atol=1e-10, err_msg=f"{inst} {m}")


def test_float32_agrees_with_corrcoef_to_1e5() -> None:
    rng = np.random.default_rng(2)
    shared = rng.normal(size=(20000, 3))
    acts = {
        k: (shared @ rng.normal(size=(3, 40)) + rng.normal(size=(20000, 40)) + 5.0).astype(np.float32) for k in "ab"
    }
    za, zb = standardize(acts["a"]), standardize(acts["b"])
    c = (za.z.T @ zb.z) / za.tokens
    want = np.corrcoef(acts["a"].T.astype(np.float64), acts["b"].T.astype(np.float64))[:40, 40:]
    assert np.abs(c - want).max() < 1e-5


def test_planted_copy_sign_flip_and_dead() -> None:
    res = correlate_instances(planted(), block=2)
    a = scores_of(res, "A")
    # The planted neuron is found everywhere, sign-flipped copy included (|r| convention) ...
    assert a.loc[0, "rank_maxcorr"] == 1 and a.loc[0, "rank_mincorr"] == 1 and a.loc[0, "mincorr"] > 0.98
    # ... while the signed convention sees only the positive copy in B.
    assert a.loc[0, "maxcorr_signed"] > 0.98 and a.loc[0, "mincorr_signed"] < 0.1
    assert a.loc[0, "partner_instance"] in {"B", "C"} and abs(a.loc[0, "partner_r"]) > 0.98
    assert scores_of(res, "C").loc[4, "partner_neuron"] in (0, 2)
    # The dead neuron: flagged, lowest score, last rank, no NaN anywhere in the scores.
    assert bool(a.loc[3, "dead"]) and a.loc[3, "maxcorr"] == 0 and a.loc[3, "rank_maxcorr"] == 6
    assert pd.isna(a.loc[3, "partner_instance"]) and pd.isna(a.loc[3, "partner_neuron"])
    assert not res.scores[["maxcorr", "meanmaxcorr", "mincorr", "linreg"]].isna().any().any()
    # LinReg: the planted neuron is predictable from every other instance.
    assert a.loc[0, "rank_linreg"] == 1 and a.loc[0, "linreg"] > 0.95 and a.loc[3, "linreg"] == 0


def test_pair_maxima_reads_both_axes() -> None:
    acts = planted()
    za, zb = standardize(acts["A"]), standardize(acts["B"])
    ab, ba, full = pair_maxima(za, zb, block=4, keep=True)
    ba2, ab2, _ = pair_maxima(zb, za, block=1)
    np.testing.assert_allclose(np.abs(full).max(axis=1), ab.best_abs, atol=1e-6)
    np.testing.assert_allclose(ab.best_abs, ab2.best_abs, atol=1e-6)
    np.testing.assert_allclose(ba.best_abs, ba2.best_abs, atol=1e-6)
    np.testing.assert_array_equal(ba.best_abs_neuron, ba2.best_abs_neuron)


def test_linreg_against_lstsq() -> None:
    rng = np.random.default_rng(3)
    p = rng.normal(size=(1000, 6))
    t = np.hstack([p @ rng.normal(size=(6, 2)) + 0.5 * rng.normal(size=(1000, 2)), rng.normal(size=(1000, 1))])
    got = linreg_r2(standardize(t, np.float64), standardize(p, np.float64), ridge=0.0)
    for j in range(3):
        y = (t[:, j] - t[:, j].mean()) / t[:, j].std()
        x = np.hstack([p, np.ones((1000, 1))])
        resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        assert got[j] == pytest.approx(1 - resid.var(), abs=1e-8)


def test_duplicated_instance_fools_maxcorr_not_meanmaxcorr() -> None:
    rng = np.random.default_rng(4)
    acts = {f"s{k}": rng.normal(size=(3000, 40)) for k in range(4)}
    shared = rng.normal(size=3000)
    for k in range(4):
        acts[f"s{k}"][:, 17] = shared + 0.3 * rng.normal(size=3000)  # one genuinely shared neuron per instance
    out = duplicate_experiment(acts, "s1", ks=[1, 3]).set_index(["method", "instance"])
    # Every neuron of the duplicated instance now has MaxCorr 1: its ranking is scrambled.
    assert out.loc[("maxcorr", "s1"), "mean_score_after"] == pytest.approx(1.0)
    assert out.loc[("maxcorr", "s1"), "spearman"] < 0.5
    # MeanMaxCorr keeps the shared neuron on top and its ranking largely intact.
    assert out.loc[("meanmaxcorr", "s1"), "top1_overlap"] == 1.0
    assert out.loc[("meanmaxcorr", "s1"), "spearman"] > out.loc[("maxcorr", "s1"), "spearman"]
    # Instances other than the duplicated one are barely affected.
    assert out.loc[("maxcorr", "s0"), "top1_overlap"] == 1.0


def test_ranking_stability_shares() -> None:
    res = correlate_instances(planted(), block=4)
    st = ranking_stability(res, ks=[1, 3])
    row = st[(st["method"] == "maxcorr") & (st["k"] == 1) & (st["instance"] == "A") & (st["other"] == "B")]
    assert row["share"].item() == 1.0  # A's top neuron's partner in B is B's top neuron
    assert set(st["method"]) == {"maxcorr", "meanmaxcorr", "mincorr", "linreg"}
    assert st["share"].between(0, 1).all()


def test_rank_desc_puts_dead_last_and_breaks_ties_by_index() -> None:
    r = rank_desc(np.array([0.5, 0.9, 0.5, 0.0]), np.array([False, False, False, True]))
    assert r.tolist() == [2, 1, 3, 4]


def test_cka() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 10))
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    assert linear_cka(x, x @ q * 3.0 + 1.0) == pytest.approx(1.0)  # invariant to rotation, scale, shift
    assert linear_cka(x, rng.normal(size=(500, 10))) < 0.1


def test_needs_two_instances() -> None:
    with pytest.raises(ValueError, match="at least two instances"):
        correlate_instances({"a": np.zeros((3, 2))})


def test_similarity_table_matches_cka() -> None:
    from neurosieve.analysis.correlation import similarity_table

    rng = np.random.default_rng(6)
    reps = {
        ("a", 0): rng.normal(size=(400, 5)),
        ("a", 1): rng.normal(size=(400, 3)),
        ("b", 0): rng.normal(size=(400, 4)),
    }
    reps[("b", 1)] = reps[("a", 0)] @ rng.normal(size=(5, 5))
    t = similarity_table(reps).set_index(["instance_a", "layer_a", "instance_b", "layer_b"])["cka"]
    assert len(t) == 16
    assert t[("a", 0, "a", 0)] == pytest.approx(1.0, abs=1e-5)
    assert t[("a", 0, "b", 1)] == pytest.approx(linear_cka(reps[("a", 0)], reps[("b", 1)]), abs=1e-5)
    assert t[("b", 1, "a", 0)] == t[("a", 0, "b", 1)]


def test_twin_experiment_reports_every_instance_and_is_not_fixed_by_construction() -> None:
    rng = np.random.default_rng(7)
    acts = {f"s{k}": rng.normal(size=(3000, 30)) for k in range(3)}
    shared = rng.normal(size=3000)
    for k in range(3):
        acts[f"s{k}"][:, 4] = shared + 0.5 * rng.normal(size=3000)
    twin = acts["s0"] + 0.6 * rng.normal(size=(3000, 30))  # close to s0, not equal
    change, after = twin_experiment(acts, "s0-order9", twin, "s0", ks=[1, 5])
    assert set(change["instance"]) == {"s0", "s1", "s2"} and set(change["method"]) == {
        "maxcorr",
        "meanmaxcorr",
        "mincorr",
        "linreg",
    }
    assert change.set_index(["method", "instance"]).loc[("maxcorr", "s0"), "twinned"]
    assert set(after["instance"]) == {"s0", "s1", "s2", "s0-order9"}
    mx = change.set_index(["method", "instance"])
    # Near-twin: s0's MaxCorr scores rise towards the twin's correlation (~0.86), not to 1 as with an exact copy.
    assert 0.7 < mx.loc[("maxcorr", "s0"), "mean_score_after"] < 0.95
    # The shared neuron stays on top for MeanMaxCorr; s0's MaxCorr ranking is reshuffled by the twin.
    assert mx.loc[("meanmaxcorr", "s0"), "top1_overlap"] == 1.0
    assert mx.loc[("maxcorr", "s0"), "spearman"] < mx.loc[("meanmaxcorr", "s0"), "spearman"]
    with pytest.raises(KeyError, match="twin partner"):
        twin_experiment(acts, "x", twin, "nope", ks=[1])


def test_twin_change_bootstrap_reproduces_the_experiment_and_brackets_it() -> None:
    """Every block once gives twin_experiment's own Spearman for every method and instance (LinReg included);
    the seeded resamples give an interval around it, narrower for the untouched instances than for the twinned
    one, and the same interval again with the same seed."""
    from neurosieve.analysis.correlation import sentence_blocks, twin_change_bootstrap

    rng = np.random.default_rng(7)
    tokens = 3000
    acts = {f"s{k}": rng.normal(size=(tokens, 12)).astype(np.float32) for k in range(3)}
    shared = rng.normal(size=tokens)
    for k in range(3):
        acts[f"s{k}"][:, 4] = shared + 0.5 * rng.normal(size=tokens)
    twin = (acts["s0"] + 0.6 * rng.normal(size=(tokens, 12))).astype(np.float32)
    sentences = np.repeat(np.arange(150), 20)  # 150 sentences of 20 tokens
    blocks = sentence_blocks(sentences, 40)
    assert blocks.max() == 39 and (np.diff(blocks) >= 0).all() and len(np.unique(blocks[::20])) == 40
    methods = ["maxcorr", "meanmaxcorr", "mincorr", "linreg"]
    change, _ = twin_experiment(acts, "s0-order9", twin, "s0", ks=[1])
    want = change.set_index(["method", "instance"])["spearman"]
    once = twin_change_bootstrap(acts, "s0-order9", twin, sentences, methods, weights=np.ones((1, 40)))
    point = once.set_index(["method", "instance"])
    for key, value in want.items():
        assert point.loc[key, "spearman_low"] == pytest.approx(value, abs=1e-3), key
    boot = twin_change_bootstrap(acts, "s0-order9", twin, sentences, methods, resamples=200, seed=3)
    b = boot.set_index(["method", "instance"])
    assert (b["blocks"] == 40).all() and len(b) == 12
    for key, value in want.items():
        assert b.loc[key, "spearman_low"] <= value + 1e-9 and value - 1e-9 <= b.loc[key, "spearman_high"], key
    width = b["spearman_high"] - b["spearman_low"]
    assert width[("maxcorr", "s0")] > width[("maxcorr", "s1")] >= 0
    again = twin_change_bootstrap(acts, "s0-order9", twin, sentences, methods, resamples=200, seed=3)
    pd.testing.assert_frame_equal(boot, again)
    with pytest.raises(ValueError, match="same tokens"):
        twin_change_bootstrap(acts, "s0-order9", twin, sentences[:-1], methods)


def test_partner_rank_agreement() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=(2000, 8)) * np.arange(1, 9)
    perm = rng.permutation(8)
    # B is A with neurons permuted and a little noise; C is unrelated noise.
    acts = {"A": base, "B": base[:, perm] + 0.05 * rng.normal(size=(2000, 8)), "C": rng.normal(size=(2000, 8))}
    res = correlate_instances(acts, linreg=False)
    agree = partner_rank_agreement(res.scores, res.pairs, ["meanmaxcorr"]).set_index(["instance", "other"])["spearman"]
    # A's and B's rankings order the same functions the same way, once matched through best partners.
    assert agree[("A", "B")] == pytest.approx(1.0) and agree[("B", "A")] == pytest.approx(1.0)
    assert len(agree) == 6


@pytest.mark.parametrize("block", [3, 1024])
def test_torch_path_matches_numpy_path(block: int) -> None:
    """The torch path (forced onto the CPU here; on a GPU in use) gives the NumPy path's scores within 1e-5."""
    rng = np.random.default_rng(4)
    base = rng.normal(size=(2500, 6))
    acts = {
        f"i{k}": (base @ rng.normal(size=(6, w)) + rng.normal(size=(2500, w))).astype(np.float32)
        for k, w in enumerate([16, 9, 16])
    }
    acts["i0"][:, 5] = 2.0  # a dead neuron
    ref = correlate_instances(acts, block=block)
    got = correlate_instances(acts, block=block, device="cpu")
    cols = [
        "maxcorr",
        "meanmaxcorr",
        "mincorr",
        "maxcorr_signed",
        "meanmaxcorr_signed",
        "mincorr_signed",
        "linreg",
        "partner_r",
    ]
    np.testing.assert_allclose(got.scores[cols].to_numpy(float), ref.scores[cols].to_numpy(float), atol=1e-5)
    assert (got.scores["dead"] == ref.scores["dead"]).all() and got.scores["dead"].sum() == 1
    pd.testing.assert_series_equal(got.scores["partner_neuron"], ref.scores["partner_neuron"])
    np.testing.assert_allclose(got.pairs["best_abs_r"], ref.pairs["best_abs_r"], atol=1e-5)
    assert (got.pairs["best_neuron"] == ref.pairs["best_neuron"]).all()
    dup_ref = duplicate_experiment(acts, "i1", [3], before=ref.scores)
    dup = duplicate_experiment(acts, "i1", [3], before=got.scores, device="cpu")
    # the copied instance's MaxCorr scores all become 1 up to rounding, so its ranking after the copy is
    # rounding noise and differs between the two paths: compare the informative rows (the other instances)
    informative = ~dup_ref["duplicated"].to_numpy()
    np.testing.assert_array_equal(dup["duplicated"].to_numpy(), dup_ref["duplicated"].to_numpy())
    np.testing.assert_allclose(
        dup.loc[informative, ["spearman", "mean_score_after"]].to_numpy(float),
        dup_ref.loc[informative, ["spearman", "mean_score_after"]].to_numpy(float),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        dup["mean_score_after"].to_numpy(float), dup_ref["mean_score_after"].to_numpy(float), atol=1e-5
    )


def test_correlation_device() -> None:
    from neurosieve.analysis.correlation import correlation_device

    assert correlation_device("cpu") is None
    import torch

    assert correlation_device("auto") == ("cuda" if torch.cuda.is_available() else None)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            correlation_device("cuda")


def test_similarity_streamed_matches_in_memory() -> None:
    """Reading one representation at a time gives the same table, and never loads a layer of a held instance twice."""
    from neurosieve.analysis.correlation import similarity_table

    rng = np.random.default_rng(7)
    reps = {(i, n): rng.normal(size=(300, 4 + n)) for i in ("a", "b", "c") for n in range(3)}
    loads: list[tuple[str, int]] = []

    def load(key: tuple[str, int]) -> np.ndarray:
        loads.append(key)
        return reps[key]

    whole = similarity_table(reps).set_index(["instance_a", "layer_a", "instance_b", "layer_b"])["cka"].sort_index()
    streamed = (
        similarity_table(list(reps), load)
        .set_index(["instance_a", "layer_a", "instance_b", "layer_b"])["cka"]
        .sort_index()
    )
    assert len(streamed) == 81
    np.testing.assert_allclose(streamed.to_numpy(), whole.to_numpy(), atol=1e-6)
    # Instance a's layers are loaded once (held); b's once as held, once streamed past a; c's three times.
    assert loads.count(("a", 0)) == 1 and loads.count(("b", 1)) == 2 and loads.count(("c", 2)) == 3


def test_cka_sentence_sample_is_whole_sentences_seeded_and_capped() -> None:
    """CKA's sample: whole sentences in a seeded order up to the cap, rows in file order; every row without a cap."""
    from neurosieve.analysis.correlation import sentence_sample

    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 40, 300)
    sentences = np.repeat(np.arange(300), lengths)
    assert sentence_sample(sentences, None) is None
    assert sentence_sample(sentences, len(sentences)) is None
    rows = sentence_sample(sentences, 1000)
    assert rows is not None
    assert np.all(np.diff(rows) > 0)  # file order, no repeats
    chosen = np.unique(sentences[rows])
    assert len(rows) == lengths[chosen].sum()  # whole sentences only
    assert 1000 - 40 < len(rows) <= 1000  # filled up to the cap, less than one sentence short
    np.testing.assert_array_equal(rows, sentence_sample(sentences, 1000))  # seeded
    other = sentence_sample(sentences, 1000, seed=1)
    assert other is not None and not np.array_equal(np.unique(sentences[other]), chosen)
    # Not the first sentences of the file: a draw over the whole split.
    assert chosen.max() > 150 and chosen.min() < 150
    one = sentence_sample(sentences, 1)  # a cap below the shortest drawn sentence still gives one sentence
    assert one is not None and len(np.unique(sentences[one])) == 1


def test_similarity_stage_on_a_token_sample(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """run_similarity with correlation.cka_tokens: the CKA of the sampled rows, the same rows for every instance,
    recorded beside the table, each layer read once; activations over different tokens are refused, naming the
    file. Float16 activations give the float16 file's own values' CKA."""

    from neurosieve.analysis.correlation import sentence_sample, similarity_table
    from neurosieve.settings import SimilaritySettings
    from neurosieve.stages.correlation import run_similarity
    from neurosieve.store.io import read_provenance, read_table

    rng = np.random.default_rng(5)
    n_sent = 60
    tokens = token_table(rng.integers(2, 9, n_sent))
    n, sentence = len(tokens), tokens["sentence"].to_numpy()
    shared = rng.normal(size=(n, 6))
    layers = {
        inst: [(shared @ rng.normal(size=(6, 10)) + rng.normal(size=(n, 10)) * s).astype(np.float32) for s in (0.5, 2)]
        for inst in ("a", "b")
    }

    def write(name: str, arrays: list[np.ndarray], table: pd.DataFrame, dtype: str = "float32") -> str:
        return write_layers(tmp_path / name, arrays, table, dtype)

    paths = {inst: write(f"{inst}.parquet", arrays, tokens) for inst, arrays in layers.items()}

    key = ["instance_a", "layer_a", "instance_b", "layer_b"]
    out = tmp_path / "cka.parquet"
    whole = run_similarity(paths, str(out), SimilaritySettings(tokens=None)).set_index(key)["cka"].sort_index()
    assert read_provenance(out)["settings"]["sample"]["tokens"] is None
    sampled = run_similarity(paths, str(out), SimilaritySettings(tokens=120)).set_index(key)["cka"].sort_index()
    rows = sentence_sample(sentence, 120)
    assert rows is not None and len(rows) <= 120
    want = similarity_table({(i, j): a[rows] for i, arrays in layers.items() for j, a in enumerate(arrays)})
    np.testing.assert_allclose(sampled.to_numpy(), want.set_index(key)["cka"].sort_index().to_numpy(), atol=1e-6)
    assert not np.allclose(sampled.to_numpy(), whole.to_numpy(), atol=1e-4)  # the sample is not every token
    assert read_provenance(out)["settings"]["sample"] == {"cka_tokens": 120, "tokens": len(rows), "seed": 0}
    assert len(read_table(out)) == 16
    # With a sample each layer is read once (the streaming without one reads b's layers twice: held and streamed).
    from neurosieve.stages import correlation as stage

    reads: list[tuple[str, int]] = []
    real = stage.read_layer

    def counted(path, layer):  # type: ignore[no-untyped-def]
        reads.append((str(path), int(layer)))
        return real(path, layer)

    monkeypatch.setattr(stage, "read_layer", counted)
    run_similarity(paths, str(out), SimilaritySettings(tokens=120))
    assert sorted(reads) == sorted({(p, j) for p in paths.values() for j in range(2)})
    monkeypatch.undo()

    # Stored as float16: the sample is kept as float16, exactly the file's values.
    from neurosieve.store.activations import stored_dtype

    half = {inst: write(f"{inst}16.parquet", arrays, tokens, "float16") for inst, arrays in layers.items()}
    assert stored_dtype(half["a"], 1) == np.float16 and stored_dtype(paths["a"], 1) == np.float32
    got = run_similarity(half, str(out), SimilaritySettings(tokens=120)).set_index(key)["cka"].sort_index()
    rounded = {
        (i, j): a[rows].astype(np.float16).astype(np.float32)
        for i, arrays in layers.items()
        for j, a in enumerate(arrays)
    }
    np.testing.assert_allclose(
        got.to_numpy(), similarity_table(rounded).set_index(key)["cka"].sort_index().to_numpy(), atol=1e-6
    )

    shorter = write("short.parquet", layers["b"], tokens[tokens["sentence"] < n_sent - 1])
    with pytest.raises(ValueError, match="short.parquet: its tokens are not those of"):
        run_similarity({"a": paths["a"], "b": shorter}, str(tmp_path / "x.parquet"), SimilaritySettings(tokens=50))
    assert not (tmp_path / "x.parquet").exists()


def test_twin_stage_writes_each_ranking_change_with_its_block_interval(tmp_path: Path) -> None:
    """run_twin_correlation adds the block bootstrap's bounds to every instance's ranking change (a seeded,
    recorded interval around the Spearman it writes), reading the sentences from the activation keys."""
    import pandas as pd

    from neurosieve.settings import TwinCorrelationSettings
    from neurosieve.stages.correlation import TWIN_BOOTSTRAP_SEED, run_twin_correlation
    from neurosieve.store.io import read_provenance, read_table, write_parquet

    rng = np.random.default_rng(11)
    tokens = token_table(rng.integers(5, 15, 120))
    n = len(tokens)
    shared = rng.normal(size=(n, 3))
    acts = {
        f"seed{k}": np.c_[shared + rng.normal(size=(n, 3)), rng.normal(size=(n, 5))].astype(np.float32)
        for k in (1, 2, 3)
    }
    twin = (acts["seed1"] + 0.5 * rng.normal(size=(n, 8))).astype(np.float32)

    def write(name: str, layer: np.ndarray) -> str:
        return write_layers(tmp_path / name, [layer], tokens)

    paths = {inst: write(f"{inst}.parquet", a) for inst, a in acts.items()}
    before = correlate_instances(acts).scores
    write_parquet(before, tmp_path / "before.parquet")
    settings = TwinCorrelationSettings(block_size=1024, linreg=True, top_fractions=(0.25,))
    change = run_twin_correlation(
        paths,
        write("twin.parquet", twin),
        0,
        "seed1-order9",
        "seed1",
        str(tmp_path / "before.parquet"),
        str(tmp_path / "scores.parquet"),
        str(tmp_path / "change.parquet"),
        settings,
    )
    stored = read_table(tmp_path / "change.parquet")
    assert len(stored) == 12 and (stored["blocks"] == 40).all()
    assert (stored["spearman_low"] <= stored["spearman"] + 1e-9).all()
    assert (stored["spearman"] <= stored["spearman_high"] + 1e-9).all()
    assert (stored["spearman_low"] < stored["spearman_high"]).any()
    pd.testing.assert_frame_equal(stored.drop(columns="layer"), change.reset_index(drop=True), check_dtype=False)
    record = read_provenance(tmp_path / "change.parquet")
    assert record["seed"] == TWIN_BOOTSTRAP_SEED and record["settings"]["bootstrap"]["blocks"] == 40
