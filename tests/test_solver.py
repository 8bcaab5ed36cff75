"""The full-batch proximal probe solver: exact prox, the objective against independent references, lambda paths."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from neurosieve.analysis.probe import ElasticNetProbe, column_moments
from neurosieve.analysis.solver import (
    ElasticNetProblem,
    choose_on_held_out,
    fista,
    lambda_path,
    penalty,
    prox_penalty,
)

ROOT = Path(__file__).resolve().parents[1]


def noisy(n: int = 1500, d: int = 12, c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping classes (not separable), neurons on very different scales and offsets, skewed labels."""
    rng = np.random.default_rng(seed)
    freq = 1.0 / np.arange(1, c + 1)
    y = rng.choice(c, size=n, p=freq / freq.sum())
    means = rng.normal(size=(c, d)) * 0.6
    X = (means[y] + rng.normal(size=(n, d))) * rng.uniform(0.2, 5.0, d) + rng.normal(size=d) * 3
    return X.astype(np.float32), y


def raw_objective(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: np.ndarray, l1: float, l2: float) -> float:
    """The probe's objective computed independently in float64 NumPy: mean cross-entropy + raw-space penalty."""
    z = X.astype(np.float64) @ coef.T + intercept
    z -= z.max(axis=1, keepdims=True)
    ce = np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]
    return float(ce.mean()) + penalty(coef, l1, l2)


@pytest.mark.parametrize("elementwise", [False, True])
def test_prox_is_the_exact_minimiser(elementwise: bool) -> None:
    rng = np.random.default_rng(1)
    for trial in range(3):
        z = rng.normal(size=(5, 3))
        s = rng.uniform(0.5, 2.0, 5)
        t = rng.uniform(0.2, 1.5, (1, 3)) if elementwise else 0.7
        l1, l2 = 0.3, [0.8, 0.05, 4.0][trial]
        tt = np.broadcast_to(t, z.shape)

        def f(
            u: np.ndarray, tt: np.ndarray = tt, z: np.ndarray = z, s: np.ndarray = s, l1: float = l1, l2: float = l2
        ) -> float:
            w = u.reshape(z.shape)
            return float(((w - z) ** 2 / (2 * tt)).sum() + penalty(w / s[:, None], l1, l2))

        p = prox_penalty(torch.tensor(z), torch.tensor(tt) if elementwise else t, l1, l2, torch.tensor(s)).numpy()
        best = min(
            minimize(f, x0, method="Powell", options={"xtol": 1e-12, "ftol": 1e-14, "maxiter": 200000}).fun
            for x0 in [p.ravel() + 0.01, z.ravel(), np.zeros(z.size)]
        )
        assert f(p.ravel()) <= best + 1e-9
    # Large l2: the whole matrix is shrunk to exactly zero.
    assert not prox_penalty(torch.tensor(z), 0.5, 0.1, 100.0).any()


def test_prox_with_equal_scales_is_the_composition() -> None:
    z = torch.tensor(np.random.default_rng(2).normal(size=(6, 4)))
    t, l1, l2 = 0.5, 0.4, 0.9
    soft = torch.sign(z) * torch.clamp(z.abs() - t * l1, min=0)
    expect = soft * max(0.0, 1 - t * l2 / float(torch.linalg.vector_norm(soft)))
    torch.testing.assert_close(prox_penalty(z, t, l1, l2), expect, rtol=1e-12, atol=1e-12)


def test_pure_l1_matches_sklearn_saga() -> None:
    """sklearn minimises C * sum CE + |W|_1 (intercept unpenalised): the same problem at C = 1 / (n * l1).

    Its penalty is on the weights of the matrix it is given, so both fit standardised activations here.
    """
    X, y = noisy(n=600, d=8, c=3)
    X = (X - X.mean(0)) / X.std(0)
    l1 = 2e-3
    res = fista(X, y, l1, 0.0, tol=1e-10, max_iter=5000, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = LogisticRegression(C=1.0 / (len(X) * l1), l1_ratio=1.0, solver="saga", tol=1e-9, max_iter=5000).fit(X, y)
    ref = raw_objective(X, y, sk.coef_, sk.intercept_, l1, 0.0)
    ours = raw_objective(X, y, res.coef, res.intercept, l1, 0.0)
    assert ours <= ref * (1 + 1e-7)
    assert abs(ours - ref) / ref < 1e-5
    assert abs(res.objective - ours) < 1e-9  # the solver's own value is the raw-space objective
    np.testing.assert_array_equal(res.coef == 0, np.abs(sk.coef_) < 1e-6)  # the same exact zeros


def test_pure_l2_norm_matches_lbfgs() -> None:
    """l1 = 0, l2 > 0: away from W = 0 the objective is smooth, so SciPy's L-BFGS solves it to high accuracy."""
    X, y = noisy(n=800, d=8, c=3)
    l2 = 0.01
    d, c = X.shape[1], 3
    Xd = X.astype(np.float64)

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = v[: d * c].reshape(c, d), v[d * c :]
        z = Xd @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        ce = -np.log(p[np.arange(len(y)), y]).mean()
        nrm = np.linalg.norm(w)
        p[np.arange(len(y)), y] -= 1
        gw = p.T @ Xd / len(y) + l2 * w / nrm
        return ce + l2 * nrm, np.concatenate([gw.ravel(), p.mean(0)])

    lb = minimize(fun, np.full(d * c + c, 0.01), jac=True, method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-12})
    res = fista(X, y, 0.0, l2, tol=1e-5)
    assert res.converged
    assert res.objective <= lb.fun * (1 + 1e-3)
    assert abs(raw_objective(X, y, res.coef, res.intercept, 0.0, l2) - res.objective) < 1e-5


@pytest.mark.parametrize("l1,l2", [(1e-3, 1e-3), (1e-4, 0.0), (0.0, 1e-4)])
def test_default_tol_within_a_tenth_of_a_percent_of_a_tight_reference(l1: float, l2: float) -> None:
    X, y = noisy(n=800, d=10)
    tight = fista(X, y, l1, l2, tol=1e-10, max_iter=5000, dtype=torch.float64)
    res = fista(X, y, l1, l2)
    assert res.converged and res.n_iter < tight.n_iter
    assert res.objective >= tight.objective * (1 - 1e-6)
    assert (res.objective - tight.objective) / tight.objective < 1e-3


def test_l1_max_gives_the_all_zero_solution_and_below_it_not() -> None:
    X, y = noisy()
    problem = ElasticNetProblem(X, y)
    for l2 in (0.0, 1e-3):
        top = problem.l1_max(l2)
        assert top > 0
        above = problem.solve(top * 1.01, l2, tol=1e-8)
        assert not above.coef.any()  # exactly zero
        # The biases of the null model are the log class frequencies.
        np.testing.assert_allclose(
            np.exp(above.intercept) / np.exp(above.intercept).sum(), problem.class_freq, rtol=1e-4
        )
        below = problem.solve(top * 0.9, l2, tol=1e-8)
        assert below.coef.any()
    # Large l1 gives exact zeros (most weights), small l1 few.
    sparse = problem.solve(problem.l1_max() * 0.3, 0.0)
    dense = problem.solve(1e-6, 0.0)
    assert (sparse.coef == 0).mean() > 0.5 > (dense.coef == 0).mean()


def test_warm_started_path_matches_cold_fits() -> None:
    X, y = noisy(n=3000)
    X, y, Xh, yh = X[:1500], y[:1500], X[1500:], y[1500:]
    problem = ElasticNetProblem(X, y)
    l1s = list(np.geomspace(problem.l1_max() * 0.9, 1e-4, 6))
    path = lambda_path(problem, None, l1s[::-1], 1e-4)  # given in any order, fitted from the largest down
    for l1, warm in zip(l1s[::-1], path):
        assert warm.l1 == l1
        cold = problem.solve(l1, 1e-4)
        assert abs(warm.objective - cold.objective) / cold.objective < 1e-3
    assert sum(r.passes for r in path) < 6 * problem.solve(1e-4, 1e-4).passes
    # The lambda chosen on held-out tokens: the best held-out accuracy, ties to the most penalised fit.
    best, acc = choose_on_held_out(path, Xh, yh)
    assert acc[best] == acc.max() and len(acc) == 6
    assert all(path[i].l1 <= path[best].l1 for i in range(6) if acc[i] == acc.max())
    assert acc.max() > acc[np.argmax(l1s[::-1])]  # the null-ish fit at the top of the path is not chosen


def test_deterministic_and_standardize_invariant() -> None:
    X, y = noisy()
    a = fista(X, y, 1e-3, 1e-3)
    b = fista(X, y, 1e-3, 1e-3)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.intercept, b.intercept)
    # Raw coordinates (badly scaled columns): the same raw-space objective, solved to the same value.
    raw = fista(X, y, 1e-3, 1e-3, standardize=False, tol=1e-9, max_iter=20000)
    assert abs(raw.objective - a.objective) / a.objective < 1e-3
    for res in (a, raw):
        assert abs(raw_objective(X, y, res.coef, res.intercept, 1e-3, 1e-3) - res.objective) < 1e-5


def test_probe_option(tmp_path: Path) -> None:
    X, y = noisy()
    labels = np.array(["A", "B", "C", "D"])[y]
    probe = ElasticNetProbe(l1=1e-3, l2=1e-3, standardize=True, solver="fista")
    assert clone(probe).get_params() == probe.get_params() and probe.get_params()["solver"] == "fista"
    probe.fit(X, labels)
    mu, sd = column_moments(X)  # the probe standardises with these (float32) moments
    direct = ElasticNetProblem(X, y, mu=mu, sd=sd).solve(1e-3, 1e-3)
    np.testing.assert_allclose(probe.coef_, direct.coef, rtol=1e-5, atol=1e-7)
    assert probe.n_iter_ == direct.n_iter and probe.loss_curve_[-1] == direct.objective
    # It solves the objective today's fixed-budget Adam only approaches.
    adam = ElasticNetProbe(l1=1e-3, l2=1e-3, standardize=True, epochs=2, batch_size=256).fit(X, labels)
    assert raw_objective(X, y, probe.coef_, probe.intercept_, 1e-3, 1e-3) < raw_objective(
        X, y, adam.coef_, adam.intercept_, 1e-3, 1e-3
    )
    probe.save(tmp_path / "p.npz")
    back = ElasticNetProbe.load(tmp_path / "p.npz")
    assert back.get_params() == probe.get_params()
    np.testing.assert_array_equal(back.predict(X), probe.predict(X))
    # Warm start continues from the fitted weights: converged already, so it stops at once.
    warm = clone(probe).set_params(warm_start=True).fit(X, labels)
    first = warm.n_iter_
    warm.fit(X, labels)
    assert warm.n_iter_ < first
    with pytest.raises(ValueError, match="solver"):
        ElasticNetProbe(solver="lbfgs").fit(X, labels)


def test_benchmark_smoke() -> None:
    """The benchmark runs end to end at a tiny size (so it cannot rot)."""
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/bench_probe_solver.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "fista" in res.stdout and "GEMM floor" in res.stdout


def test_fused_loss_and_gradient_equal_autograds() -> None:
    """The solver's one-pass cross-entropy and gradient (shared exponentials, a reused buffer) against autograd in float64,
    twice in a row (the buffer is reused) and after a retarget (other labels, another class count)."""
    X, y = noisy(n=400, d=6, c=4)
    problem = ElasticNetProblem(X, y, 4)
    rng = np.random.default_rng(3)
    for prob, labels, c in [(problem, y, 4), (problem, y, 4), (problem.retarget(y % 3, 3), y % 3, 3)]:
        u = torch.from_numpy(rng.normal(size=(6, c)))
        beta = torch.from_numpy(rng.normal(size=c))
        z = prob._logits(u, beta)
        loss, gu, gb = prob._loss_and_grad(z)
        assert loss == pytest.approx(prob._loss(z), rel=1e-12)
        u64, b64 = u.clone().requires_grad_(True), beta.clone().requires_grad_(True)
        ref = torch.nn.functional.cross_entropy(prob.X.double() @ u64 + b64, torch.from_numpy(labels))
        ref.backward()
        assert loss == pytest.approx(float(ref.detach()), rel=1e-6)
        np.testing.assert_allclose(gu.numpy(), u64.grad.numpy(), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(gb.numpy(), b64.grad.numpy(), rtol=1e-4, atol=1e-7)
