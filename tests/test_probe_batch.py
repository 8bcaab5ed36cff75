"""Probes fitted together equal the same probes fitted one by one (same seed): accuracy and weights."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from neurosieve.analysis import probe_batch
from neurosieve.analysis.probe import ElasticNetProbe, column_moments
from neurosieve.analysis.probe_batch import fit_probes
from neurosieve.analysis.probing import PAPER_LAMBDAS, control_labels, neuron_ordering, probe_layer, retrain_predict

PARAMS = {"epochs": 3, "batch_size": 512, "lr": 0.03}


def planted(n: int = 12000, d: int = 48, c: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[np.arange(n), y] += 2.0  # neurons 0..c-1 carry the label
    X[:, c : 2 * c] += 0.5 * X[:, :c]  # and their noisy echoes
    return X, np.array([f"L{i}" for i in range(c)])[y]


def assert_matches_solo(X: np.ndarray, y: np.ndarray, probe: ElasticNetProbe, kept: np.ndarray | None) -> None:
    Xk = X if kept is None else X[:, kept]
    solo = ElasticNetProbe(**probe.get_params()).fit(Xk, y)
    assert list(probe.classes_) == list(solo.classes_)
    assert probe.coef_.shape == solo.coef_.shape
    assert abs(probe.score(Xk, y) - solo.score(Xk, y)) <= 0.003  # within 0.3 point
    scale = max(float(np.abs(solo.coef_).max(initial=0.0)), 1e-3)
    np.testing.assert_allclose(probe.coef_, solo.coef_, atol=1e-4 * scale + 1e-6)
    np.testing.assert_allclose(probe.intercept_, solo.intercept_, atol=1e-4 * scale + 1e-6)
    np.testing.assert_allclose(probe.loss_curve_, solo.loss_curve_, rtol=1e-5)


def test_ablation_selections_match_solo_fits() -> None:
    """Retraining on kept neurons: several widths (several groups), several selections per width, k = 0 and all."""
    X, y = planted()
    rng = np.random.default_rng(1)
    kept = [
        np.arange(0),
        np.arange(4),
        np.arange(44, 48),
        rng.choice(48, 4, replace=False),
        np.sort(rng.choice(48, 24, replace=False)),
        None,
    ]
    probes = fit_probes(X, y, [ElasticNetProbe(l1=1e-4, l2=1e-4, random_state=3, **PARAMS) for _ in kept], kept)
    for p, k in zip(probes, kept):
        assert_matches_solo(X, y, p, k)
    # The selections differ in what they can learn, so the comparison is not vacuous.
    acc = [p.score(X if k is None else X[:, k], y) for p, k in zip(probes, kept)]
    assert acc[1] > acc[2] + 0.2 and acc[-1] > acc[1] + 0.2


@pytest.mark.parametrize("per_chunk", [1, 2])
def test_probes_stepped_in_chunks_are_the_probes_stepped_together(
    monkeypatch: pytest.MonkeyPatch, per_chunk: int
) -> None:
    """Selections of their own columns go through each step a chunk of probes at a time (so the gathered columns
    stay in cache for both products); chunks of one and two probes, of a group of five, give the fits of one
    chunk to the bit, and the solo fits."""
    X, y = planted(n=3000)
    rng = np.random.default_rng(2)
    kept = [np.sort(rng.choice(48, 12, replace=False)) for _ in range(5)]

    def fits() -> list[ElasticNetProbe]:
        return fit_probes(X, y, [ElasticNetProbe(l1=1e-4, l2=1e-4, random_state=3, **PARAMS) for _ in kept], kept)

    together = fits()
    monkeypatch.setattr(probe_batch, "_CHUNK_BYTES", per_chunk * 4 * 12 * PARAMS["batch_size"])
    chunked = fits()
    for a, b, k in zip(together, chunked, kept):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.intercept_, b.intercept_)
        assert a.loss_curve_ == b.loss_curve_
        assert_matches_solo(X, y, b, k)


def test_lambda_grid_and_control_task_match_solo_fits() -> None:
    """Different penalties (the lambda grid) and different labels (the control task) in one call."""
    X, y = planted(seed=2)
    words = np.array([f"w{i % 300}" for i in range(len(y))])
    control = control_labels(words, y, seed=0)
    c = np.array([control[w] for w in words])
    grid = [(0.0, 0.0), (1e-5, 1e-5), (1e-3, 1e-3), (1e-2, 0.0), (0.0, 1e-2)]
    probes = [ElasticNetProbe(l1=a, l2=b, random_state=0, **PARAMS) for a, b in grid] + [
        ElasticNetProbe(l1=1e-4, l2=1e-4, random_state=0, **PARAMS)
    ]
    fit_probes(X, [y] * len(grid) + [c], probes)
    for p, labels in zip(probes, [y] * len(grid) + [c]):
        assert_matches_solo(X, labels, p, None)
    # The penalties act: the strongest l1 concentrates the weights.
    assert np.abs(probes[3].coef_).sum() < np.abs(probes[0].coef_).sum()


def test_probes_sharing_columns_match_solo_fits() -> None:
    """Probes that keep the same columns share one wide product per step: scattered, contiguous and all columns."""
    X, y = planted(seed=5)
    scattered = np.sort(np.random.default_rng(2).choice(48, 24, replace=False))
    kept = [scattered, scattered, np.arange(10, 34), np.arange(10, 34), np.arange(20, 44), None]
    sets = probe_batch._column_sets(torch.as_tensor(np.stack(kept[:5])))  # the five of width 24: three column sets
    assert sets is not None and sorted(len(m) for m, _ in sets) == [1, 2, 2]
    lambdas = [(1e-4, 1e-4), (1e-3, 0.0), (0.0, 1e-3), (1e-5, 1e-5), (1e-4, 1e-4), (1e-4, 1e-4)]
    probes = fit_probes(X, y, [ElasticNetProbe(l1=a, l2=b, random_state=1, **PARAMS) for a, b in lambdas], kept)
    for p, k in zip(probes, kept):
        assert_matches_solo(X, y, p, k)
    assert not np.allclose(probes[0].coef_, probes[1].coef_)  # same columns, own penalties


def test_different_seeds_and_epochs_are_grouped_apart() -> None:
    X, y = planted(n=4000, d=16, c=4)
    probes = [ElasticNetProbe(random_state=s, **{**PARAMS, "epochs": e}) for s, e in [(0, 2), (1, 2), (0, 3)]]
    fit_probes(X, y, probes, [np.arange(8)] * 3)
    for p in probes:
        assert_matches_solo(X, y, p, np.arange(8))
    assert not np.allclose(probes[0].coef_, probes[1].coef_)


@pytest.mark.parametrize("standardize", [True, False])
def test_column_blocks_are_the_concatenated_matrix(standardize: bool) -> None:
    """Blocks side by side fit exactly as their concatenation does, whole-width and narrow selections alike."""
    X, y = planted(n=3000, d=24, c=4, seed=5)
    U = (X[:, ::-1] * 3.0 + 1.0).astype(np.float32)
    both = np.concatenate([X, U], axis=1)
    kept = [None, np.arange(24, 48), np.array([1, 30, 5]), np.array([40, 41])]
    params = {**PARAMS, "epochs": 2, "standardize": standardize}
    one = fit_probes(both, y, [ElasticNetProbe(l1=1e-4, l2=1e-4, **params) for _ in kept], kept)
    blocks = fit_probes([X, U], y, [ElasticNetProbe(l1=1e-4, l2=1e-4, **params) for _ in kept], kept)
    for a, b in zip(one, blocks):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.intercept_, b.intercept_)
    # Narrowed to a few columns (one of them alone in its block), and a one-column block given whole.
    for blocks, kept in [
        ([X, U], [np.array([1, 30]), np.array([40, 41, 3])]),
        ([X, U[:, :1]], [None, np.array([24, 0])]),
    ]:
        whole = np.concatenate(blocks, axis=1)
        a = fit_probes(whole, y, [ElasticNetProbe(**params) for _ in kept], kept)
        b = fit_probes(blocks, y, [ElasticNetProbe(**params) for _ in kept], kept)
        for p, q in zip(a, b):
            np.testing.assert_array_equal(p.coef_, q.coef_)
    with pytest.raises(ValueError, match="column blocks of the same tokens"):
        fit_probes([X, U[:-1]], y, [ElasticNetProbe()])


@pytest.mark.parametrize("shape", [(1, 3), (8191, 5), (8193, 2), (20000, 37), (30000, 1), (0, 4)])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # no tokens: NaN with NumPy's warnings
def test_column_moments_are_numpys_to_the_bit(shape: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng([shape[0], seed])
    X = (rng.normal(size=shape) * rng.uniform(0.01, 100, shape[1]) + rng.uniform(-50, 50, shape[1])).astype(np.float32)
    for M in (X, np.asfortranarray(X)):  # a single column and other layouts are summed as NumPy sums them
        mu, sd = column_moments(M)
        np.testing.assert_array_equal(mu, M.mean(axis=0))
        np.testing.assert_array_equal(sd, M.std(axis=0))


@pytest.mark.parametrize("order", ["C", "F"])
def test_float16_activations_give_the_float32_results_to_the_bit(order: str) -> None:
    """A float16 matrix (the all-layers pool of a float16 dump, kept at stored precision) gives the moments, probes,
    batched retrains and all-layer orderings of its float32 widening, to the bit: batches and blocks are widened
    as they are used."""
    from neurosieve.analysis import probe as probe_module
    from neurosieve.analysis.probing import probe_all_layers, probeless_scores

    rng = np.random.default_rng(5)
    n, d = 3000, 40
    H = (rng.normal(size=(n, d)) * rng.uniform(0.5, 4, d) + rng.normal(size=d)).astype(np.float16)
    H = np.asfortranarray(H) if order == "F" else H
    X, y = H.astype(np.float32), rng.integers(0, 5, n).astype(str)
    for got, want in zip(column_moments(H), column_moments(X)):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    # Blocks of a few columns at a time (the F-ordered path) change no bit either.
    F = np.asfortranarray(X)
    for got, want in zip(
        probe_module._widened_moments(np.asfortranarray(H), block_bytes=4 * n * 3), (F.mean(0), F.std(0))
    ):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(probeless_scores(H, y), probeless_scores(X, y))
    kept = [np.arange(5), np.arange(3, 8), None, None, np.sort(rng.choice(d, 30, replace=False))]
    for params in (
        dict(l1=1e-4, l2=1e-3, min_steps=40, batch_size=128, random_state=1),
        dict(l1=1e-4, l2=1e-3, solver="fista", max_iter=20),
    ):
        a = fit_probes(H, y, [ElasticNetProbe(**params) for _ in kept], kept)
        b = fit_probes(X, y, [ElasticNetProbe(**params) for _ in kept], kept)
        for p, q in zip(a, b):
            np.testing.assert_array_equal(p.coef_, q.coef_)
            np.testing.assert_array_equal(p.intercept_, q.intercept_)
    for standardize in (True, False):
        p = ElasticNetProbe(min_steps=40, random_state=2, standardize=standardize).fit(H, y)
        q = ElasticNetProbe(min_steps=40, random_state=2, standardize=standardize).fit(X, y)
        np.testing.assert_array_equal(p.coef_, q.coef_)
    kw = dict(l1=1e-4, l2=1e-4, probe_params=dict(min_steps=40, batch_size=256), seed=3, widths=[20, 20])
    a, b = (
        probe_all_layers(H, y, H[:500], y[:500], [0, 1], **kw),
        probe_all_layers(X, y, X[:500], y[:500], [0, 1], **kw),
    )
    np.testing.assert_array_equal(a["probe"].coef_, b["probe"].coef_)
    assert a["accuracy"] == b["accuracy"]
    pd.testing.assert_frame_equal(a["orderings"], b["orderings"])
    # The pool's ablation, masked and retrained: the same curves.
    from neurosieve.analysis.ablation import probe_ablation

    order = {"lca": a["orderings"].query("method == 'lca'")["neuron"].to_numpy()}
    curves = [
        probe_ablation(a["probe"], M, y, M[:500], y[:500], np.arange(500) % 2 == 0, order, [4, 20], random_repeats=2)
        for M in (H, X)
    ]
    pd.testing.assert_frame_equal(*curves)


def test_a_float16_pool_is_never_widened_whole() -> None:
    """Fitting probes on a float16 matrix holds no float32 copy of it: NumPy's allocations (tracemalloc) peak far
    below the float32 matrix's size (the old code widened it whole first)."""
    import tracemalloc

    rng = np.random.default_rng(6)
    H = rng.normal(size=(100_000, 100)).astype(np.float16)
    y = rng.integers(0, 4, len(H))
    widened = H.size * 4
    tracemalloc.start()
    try:
        column_moments(H)
        fit_probes(H, y, [ElasticNetProbe(min_steps=5, batch_size=256, random_state=r) for r in (0, 1)])
        ElasticNetProbe(min_steps=5, batch_size=256).fit(H, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < widened / 2, f"peak {peak / 2**20:.1f} MiB against a {widened / 2**20:.1f} MiB float32 copy"


def test_bad_input() -> None:
    X, y = planted(n=1000, d=8, c=3)
    with pytest.raises(ValueError, match="kept-neuron selections"):
        fit_probes(X, y, [ElasticNetProbe()], [None, None])
    with pytest.raises(ValueError, match="outside"):
        fit_probes(X, y, [ElasticNetProbe()], [np.array([8])])
    with pytest.raises(ValueError, match="labels for"):
        fit_probes(X, [y[:10]], [ElasticNetProbe()])
    with pytest.raises(ValueError, match="warm_start"):
        fit_probes(X, y, [ElasticNetProbe(warm_start=True)])


@pytest.fixture
def one_thread():  # type: ignore[no-untyped-def]
    """Torch on one thread for the test (tiny fits: a busy machine's thread hand-offs would dominate), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_probe_layer_equals_its_solo_fits(monkeypatch: pytest.MonkeyPatch, one_thread) -> None:  # type: ignore[no-untyped-def]
    """probe_layer fits its six probes in two batched calls; every table equals the one solo fits give.

    The reference is probe_layer with ``fit_probes`` replaced by one ``ElasticNetProbe.fit`` per probe, and
    each fit-dependent metric is also recomputed directly (selected, control, paper default, ``<unk>`` probe on
    its own activations, top-10% retrains of the selected and the paper-default probes), so that the
    decomposition into calls (which probe gets which columns, labels and lambdas) is checked too.
    """
    tags = np.array(["NN", "DT", "VB", "JJ", "IN", "CD", "RB", "PRP"])  # open and closed classes
    X, y = planted(n=5000, d=40, seed=4)
    y = tags[[int(v[1:]) for v in y]]
    X_unk = X + np.random.default_rng(5).normal(scale=0.8, size=X.shape).astype(
        np.float32
    )  # same tokens, other activations
    keys = pd.DataFrame({"word": [f"w{i % 400}" for i in range(len(y))], "pos": y})
    tr, te = slice(0, 4000), slice(4000, None)

    def input_keys(words):  # type: ignore[no-untyped-def]
        known = np.array([int(w[1:]) < 350 for w in words])  # some test words are out of vocabulary
        return np.where(known, np.asarray(words, dtype=object), "<unk>"), known

    budget = {"epochs": 2, "batch_size": 512, "lr": 0.1, "min_steps": 30, "standardize": True}
    lambdas, seed = (1e-3, 1e-4), 3  # not the paper's pair: the paper-default probe is a probe of its own
    common = dict(
        l1=lambdas[0],
        l2=lambdas[1],
        probe_params=budget,
        salient_fraction=0.5,
        seed=seed,
        input_keys=input_keys,
        X_train_unk=X_unk[tr],
    )
    args = (X[tr], keys[tr].reset_index(drop=True), X[te], keys[te].reset_index(drop=True), "pos")
    batched = probe_layer(*args, **common)

    def solo_fits(Xf, labels, probes, kept=None, progress=None):  # type: ignore[no-untyped-def]
        labels = labels if len(labels) and np.ndim(labels[0]) == 1 else [labels] * len(probes)
        kept = kept or [None] * len(probes)
        Xf = Xf if isinstance(Xf, np.ndarray) else np.concatenate(Xf, axis=1)  # probe_layer passes column blocks
        return [p.fit(Xf if k is None else Xf[:, k], lab) for p, lab, k in zip(probes, labels, kept)]

    monkeypatch.setattr(probe_batch, "fit_probes", solo_fits)
    solo = probe_layer(*args, **common)
    monkeypatch.undo()

    # Every metric row, in the same order; accuracies within 0.3 point (fit_seconds aside).
    got, want = batched["metrics"], solo["metrics"]
    pd.testing.assert_frame_equal(got[["metric", "group"]], want[["metric", "group"]])
    timed = got["metric"] == "fit_seconds"
    np.testing.assert_allclose(got.loc[~timed, "value"], want.loc[~timed, "value"], atol=0.003)
    lca = batched["orderings"]["method"] == "lca"
    np.testing.assert_array_equal(batched["orderings"].loc[lca, "neuron"], solo["orderings"].loc[lca, "neuron"])
    pd.testing.assert_frame_equal(batched["orderings"], solo["orderings"], atol=1e-4)
    pd.testing.assert_frame_equal(batched["weights"], solo["weights"], atol=1e-4)
    pd.testing.assert_frame_equal(batched["labels"], solo["labels"])

    # The same metrics straight from solo fits of the probes the old one-by-one sequence fitted.
    def fit(lam: tuple[float, float], Xf: np.ndarray, labels: np.ndarray) -> ElasticNetProbe:
        return ElasticNetProbe(l1=lam[0], l2=lam[1], random_state=seed, **budget).fit(Xf, labels)

    def top10(p: ElasticNetProbe) -> float:
        return float(np.mean(retrain_predict(p, X[tr], y[tr], X[te], neuron_ordering(p.coef_)[:4]) == y[te]))

    key_of = input_keys(keys["word"].to_numpy())[0]  # train and test keys, as probe_layer draws the control labels
    control = control_labels(key_of, y[tr], seed)
    c_all = np.array([control[str(k)] for k in key_of])
    selected, paper = fit(lambdas, X[tr], y[tr]), fit(PAPER_LAMBDAS, X[tr], y[tr])
    expected = {
        ("accuracy", "overall"): selected.score(X[te], y[te]),
        ("control_accuracy", "overall"): fit(lambdas, X[tr], c_all[tr]).score(X[te], c_all[te]),
        ("paper_default_accuracy", "overall"): paper.score(X[te], y[te]),
        ("unk_trained_accuracy", "overall"): fit(lambdas, X_unk[tr], y[tr]).score(X[te], y[te]),
        ("top10pct_retrain_accuracy", "selected"): top10(selected),
        ("top10pct_retrain_accuracy", "paper_default"): top10(paper),
    }
    m = got.set_index(["metric", "group"])["value"]
    for key, value in expected.items():
        assert abs(m[key] - value) <= 0.003, (key, m[key], value)
    np.testing.assert_array_equal(batched["orderings"].loc[lca, "neuron"], neuron_ordering(selected.coef_))
    # Not vacuous: the probes differ (paper and <unk> probes from the selected one, control below it, a retrain
    # on 4 of 40 neurons below the full probe), so a probe given another's lambdas or columns would be caught.
    assert (
        len(
            {
                m[("accuracy", "overall")],
                m[("paper_default_accuracy", "overall")],
                m[("unk_trained_accuracy", "overall")],
            }
        )
        == 3
    )
    assert m[("control_accuracy", "overall")] < m[("accuracy", "overall")] - 0.1
    assert m[("top10pct_retrain_accuracy", "selected")] < m[("accuracy", "overall")]


@pytest.mark.parametrize("total", [1, 2, 7, 414, 3312])
def test_cosine_schedule_is_torchs_to_the_bit(total: int) -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    expected = []
    for _ in range(total):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert probe_batch._cosine_lrs(0.1, total) == expected


def test_flushing_subnormals_changes_no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batched and solo Adam fits flush subnormal floats (a speed-up): the fits are the same to the bit without it.

    Strongly separated labels drive the softmax of most tokens below float32's normal range, so the
    gradients do hold subnormals here (checked), and dropping them must not move a weight.
    """
    from contextlib import nullcontext

    from neurosieve.analysis import probe as probe_module

    X, y = planted(n=4000, d=16, c=4)
    X[:, :4] *= 20.0  # near-certain predictions: probabilities underflow
    z = torch.from_numpy(X[:, :4] - X[:, :4].max(axis=1, keepdims=True))
    p = torch.softmax(z, dim=1)
    assert bool(((p > 0) & (p < torch.finfo(torch.float32).tiny)).any())

    def fits() -> list[ElasticNetProbe]:
        batched = fit_probes(X, y, [ElasticNetProbe(l1=1e-5, l2=1e-5, random_state=s, **PARAMS) for s in (0, 1)])
        solo = ElasticNetProbe(l1=1e-5, l2=1e-5, random_state=2, **PARAMS).fit(X, y)
        return [*batched, solo]

    flushed = fits()
    tiny = torch.tensor(1e-39, dtype=torch.float32)  # a subnormal: kept unless flushing is on
    assert float(tiny * 1.0) != 0.0  # the flag is back at torch's default after the fits
    monkeypatch.setattr(probe_batch, "flushed_denormals", nullcontext)
    monkeypatch.setattr(probe_module, "flushed_denormals", nullcontext)
    kept = fits()
    for a, b in zip(flushed, kept):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize(
    "fit",
    [
        "ElasticNetProbe(**kw).fit(X, y)",
        "fit_probes(X, y, [ElasticNetProbe(**kw), ElasticNetProbe(l1=1e-3, **kw)])",
    ],
    ids=["solo", "batched"],
)
def test_adam_fits_hold_no_standardised_copy_of_the_matrix(fit: str) -> None:
    """Adam fits standardise each batch as it is drawn (the same values to the bit), so fitting a 400 MB matrix
    raises the process's peak memory by far less than the matrix: standardising it whole first held one or two
    more copies (measured: solo +780 MB before, +100 MB after; batched +410 MB before, +95 MB after). In a fresh process, so the peak is
    this fit's."""
    code = f"""
import resource, numpy as np
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probe_batch import fit_probes
X = np.random.default_rng(0).standard_normal(size=(100_000, 1000), dtype=np.float32)
y = np.arange(100_000) % 5
kw = dict(epochs=1, min_steps=20, batch_size=512, standardize=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
{fit}
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown_mb = float(out.stdout.split()[-1])
    assert grown_mb < 200, f"the fit grew the peak by {grown_mb:.0f} MB for a 400 MB matrix"
