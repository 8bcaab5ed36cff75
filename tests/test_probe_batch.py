"""Probes fitted together equal the same probes fitted one by one (same seed): accuracy and weights."""

from __future__ import annotations

import numpy as np
import pytest

from neurosieve.probe_batch import fit_probes
from neurosieve.probing import ElasticNetProbe, control_labels

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
    kept = [np.arange(0), np.arange(4), np.arange(44, 48), rng.choice(48, 4, replace=False), np.sort(rng.choice(48, 24, replace=False)), None]
    probes = fit_probes(X, y, [ElasticNetProbe(l1=1e-4, l2=1e-4, random_state=3, **PARAMS) for _ in kept], kept)
    for p, k in zip(probes, kept):
        assert_matches_solo(X, y, p, k)
    # The selections differ in what they can learn, so the comparison is not vacuous.
    acc = [p.score(X if k is None else X[:, k], y) for p, k in zip(probes, kept)]
    assert acc[1] > acc[2] + 0.2 and acc[-1] > acc[1] + 0.2


def test_lambda_grid_and_control_task_match_solo_fits() -> None:
    """Different penalties (the lambda grid) and different labels (the control task) in one call."""
    X, y = planted(seed=2)
    words = np.array([f"w{i % 300}" for i in range(len(y))])
    control = control_labels(words, y, seed=0)
    c = np.array([control[w] for w in words])
    grid = [(0.0, 0.0), (1e-5, 1e-5), (1e-3, 1e-3), (1e-2, 0.0), (0.0, 1e-2)]
    probes = [ElasticNetProbe(l1=a, l2=b, random_state=0, **PARAMS) for a, b in grid] + [ElasticNetProbe(l1=1e-4, l2=1e-4, random_state=0, **PARAMS)]
    fit_probes(X, [y] * len(grid) + [c], probes)
    for p, labels in zip(probes, [y] * len(grid) + [c]):
        assert_matches_solo(X, labels, p, None)
    # The penalties act: the strongest l1 concentrates the weights.
    assert np.abs(probes[3].coef_).sum() < np.abs(probes[0].coef_).sum()


def test_different_seeds_and_epochs_are_grouped_apart() -> None:
    X, y = planted(n=4000, d=16, c=4)
    probes = [ElasticNetProbe(random_state=s, **{**PARAMS, "epochs": e}) for s, e in [(0, 2), (1, 2), (0, 3)]]
    fit_probes(X, y, probes, [np.arange(8)] * 3)
    for p in probes:
        assert_matches_solo(X, y, p, np.arange(8))
    assert not np.allclose(probes[0].coef_, probes[1].coef_)


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
