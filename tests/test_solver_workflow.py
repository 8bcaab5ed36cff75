"""The converging solver where the workflow uses it: batched probes sharing one standardised matrix, warm-started
lambda paths, the lambda search's reference and fixed-budget comparison, and warm-started ablation retrains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neurosieve.analysis.ablation import probe_ablation
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probe_batch import fit_probes
from neurosieve.analysis.probing import PAPER_LAMBDAS, select_lambdas
from neurosieve.analysis.solver import DEFAULT_TOL, ElasticNetProblem
from neurosieve.config import load_schema

FISTA = {"solver": "fista", "standardize": True, "tol": 1e-6}


def overlapping(n: int = 3000, d: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four overlapping classes decided by neurons 0-3, the rest noise; neurons on their own scales and offsets."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=[0.5, 0.25, 0.15, 0.1])
    X = rng.normal(size=(n, d))
    X[np.arange(n), y] += 1.5
    X = X * rng.uniform(0.3, 4.0, d) + rng.normal(size=d) * 2
    return X.astype(np.float32), np.array(list("ABCD"))[y]


def objective(X: np.ndarray, y: np.ndarray, probe: ElasticNetProbe) -> float:
    classes = list(probe.classes_)
    target = np.array([classes.index(v) for v in y])
    return ElasticNetProblem(X, target, len(classes)).objective(probe.coef_, probe.intercept_, probe.l1, probe.l2)


def test_batched_solver_probes_are_their_solo_fits() -> None:
    X, y = overlapping()
    control = np.roll(y, 7)
    specs = [((1e-3, 1e-3), y, None), ((1e-4, 0.0), control, None), ((1e-3, 0.0), y, np.arange(2, 9))]
    batch = fit_probes(
        X,
        [lab for _, lab, _ in specs],
        [ElasticNetProbe(l1=a, l2=b, **FISTA) for (a, b), _, _ in specs],
        [k for *_, k in specs],
    )
    for ((a, b), lab, k), got in zip(specs, batch):
        cols = X if k is None else X[:, k]
        solo = ElasticNetProbe(l1=a, l2=b, **FISTA).fit(cols, lab)
        # Same standardised matrix, same start, same iterations: the same fit (no warm start without path).
        np.testing.assert_allclose(got.coef_, solo.coef_, atol=1e-6)
        np.testing.assert_allclose(got.intercept_, solo.intercept_, atol=1e-6)
        assert got.n_iter_ == solo.n_iter_ and got.converged_


def test_retarget_is_a_fresh_problem() -> None:
    X, y = overlapping(n=800)
    t1 = (y == "A").astype(int)
    t2 = np.searchsorted(np.unique(y), y)
    base = ElasticNetProblem(X, t1, 2)
    fresh = ElasticNetProblem(X, t2, 4)
    moved = base.retarget(t2, 4)
    assert moved.X is base.X and moved.n_classes == 4 and base.n_classes == 2
    a, b = moved.solve(1e-3, 1e-3, tol=1e-7), fresh.solve(1e-3, 1e-3, tol=1e-7)
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-9)
    assert moved.l1_max() == pytest.approx(fresh.l1_max())
    with pytest.raises(ValueError, match="labels for"):
        base.retarget(t2[:10])


def test_path_is_cheaper_and_reaches_the_same_objectives() -> None:
    X, y = overlapping()
    lambdas = [(3e-3, 0.0), (1e-3, 0.0), (3e-4, 0.0), (1e-4, 0.0), (3e-5, 0.0), (1e-5, 0.0)]
    cold = fit_probes(X, y, [ElasticNetProbe(l1=a, l2=b, **FISTA) for a, b in lambdas])
    # Given smallest first: the path still runs from the largest penalty down.
    warm = fit_probes(X, y, [ElasticNetProbe(l1=a, l2=b, **FISTA) for a, b in lambdas[::-1]], path=True)[::-1]
    for c, w in zip(cold, warm):
        assert objective(X, y, w) == pytest.approx(objective(X, y, c), rel=1e-3)
    assert sum(w.n_iter_ for w in warm) < sum(c.n_iter_ for c in cold)
    # Exact zeros, more of them the larger the penalty.
    zeros = [float((w.coef_ == 0).mean()) for w in warm]
    assert zeros[0] > zeros[-1] and zeros[0] > 0.3


def test_starting_points_are_checked() -> None:
    X, y = overlapping(n=500)
    with pytest.raises(ValueError, match="starting points"):
        fit_probes(X, y, [ElasticNetProbe()], start=[None, None])
    with pytest.raises(ValueError, match="for solver='fista'"):
        fit_probes(X, y, [ElasticNetProbe(solver="adam")], start=[(np.zeros((4, 16)), np.zeros(4))])
    with pytest.raises(ValueError, match="solver must be"):
        fit_probes(X, y, [ElasticNetProbe(solver="lbfgs")])


def test_lambda_search_with_the_converging_solver() -> None:
    X, y = overlapping(n=4000)
    groups = np.arange(len(y)) // 10
    grid = [(1e-1, 0.0), (1e-2, 0.0), (1e-3, 0.0), (1e-4, 1e-4)]
    params = {**FISTA, "epochs": 2, "batch_size": 256, "lr": 0.05, "min_steps": 0, "device": "cpu", "max_iter": 1000}
    seen: list[int] = []

    def progress(items):  # type: ignore[no-untyped-def]
        for item in items:
            seen.append(item)
            yield item

    (l1, l2), table = select_lambdas(X, y, groups, grid, tolerance=0.01, probe_params=params, progress=progress)
    assert len(seen) >= len(grid) + 1  # every fit of the path went through the progress bar
    fitted = table[~table["fixed_budget"]]
    assert set(zip(fitted["l1"], fitted["l2"])) == {*grid, PAPER_LAMBDAS}  # no unregularised fit
    assert (fitted["solver"] == "fista").all() and fitted["converged"].all()
    fixed = table[table["fixed_budget"]]
    assert len(fixed) == 1 and fixed["solver"].item() == "adam" and not fixed["chosen"].item()
    ref = table[table["reference"]]
    assert len(ref) == 1 and ref["accuracy"].item() == fitted["accuracy"].max()
    chosen = table[table["chosen"]]
    assert len(chosen) == 1 and (chosen["l1"].item(), chosen["l2"].item()) == (l1, l2)
    assert chosen["accuracy"].item() >= ref["accuracy"].item() - 0.01
    # The most concentrated pair within tolerance.
    ok = fitted[fitted["accuracy"] >= ref["accuracy"].item() - 0.01]
    assert chosen["concentration"].item() == ok["concentration"].max()
    # l1 = 0.1 zeroes out nearly everything: lambda selects.
    strong = fitted[fitted["l1"] == 1e-1]
    assert strong["zeros"].item() > 0.8 and strong["neurons_used"].item() < 16
    assert not table["fallback"].any() and table["paper_default"].sum() == 1


def test_ablation_retrains_start_from_the_probe_and_keep_everything_gives_it_back() -> None:
    X, y = overlapping(n=3000)
    probe = ElasticNetProbe(l1=1e-4, l2=1e-4, **FISTA).fit(X[:2400], y[:2400])
    order = np.argsort(-np.abs(probe.coef_).sum(axis=0))
    out = probe_ablation(
        probe,
        X[:2400],
        y[:2400],
        X[2400:],
        y[2400:],
        np.ones(600, bool),
        {"lca": order},
        [4, 16],
        modes=("retrain",),
        random_repeats=1,
    )
    overall = out[out["metric"] == "accuracy_overall"]
    full = overall[overall["k"] == 16]["value"].unique()
    assert len(full) == 1 and full[0] == pytest.approx(probe.score(X[2400:], y[2400:]), abs=2e-3)
    top = overall[(overall["k"] == 4) & (overall["direction"] == "top")]["value"].item()
    bottom = overall[(overall["k"] == 4) & (overall["direction"] == "bottom")]["value"].item()
    assert top > bottom + 0.1  # the four planted neurons carry the labels


def test_workflow_and_estimator_share_the_solver_defaults() -> None:
    schema = load_schema(Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml")
    probe = schema["properties"]["probing"]["properties"]["probe"]["properties"]
    assert probe["solver"]["default"] == ElasticNetProbe().solver == "adam" and probe["tol"]["default"] == DEFAULT_TOL
    assert ElasticNetProbe().tol == DEFAULT_TOL and probe["max_iter"]["default"] == ElasticNetProbe().max_iter


def test_nearly_separable_labels_stop_at_working_precision() -> None:
    """Few tokens, many neurons, a tiny penalty: the optimum lies far out; the fit stops on the stall rule with
    its best iterate instead of running to max_iter (or collapsing when float32 rounding fails the line search)."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 8, 600)
    X = (rng.normal(size=(600, 200)) + 2.0 * np.eye(8, 200)[y]).astype(np.float32)
    res = ElasticNetProblem(X, y, 8).solve(1e-5, 1e-5, max_iter=2000)
    assert res.converged and res.n_iter < 2000
    assert res.objective == min(res.history) and res.objective < 0.1 * res.history[0]
    # Subnormal flushing is switched off again after the fit (torch's default).
    assert float(torch.tensor(1e-40, dtype=torch.float32) * 1.0) > 0


def test_lambda_path_fits_use_the_path_tolerance() -> None:
    X, y = overlapping(n=3000)
    groups = np.arange(len(y)) // 10
    params = {**FISTA, "epochs": 1, "batch_size": 256, "lr": 0.05, "min_steps": 0, "device": "cpu", "max_iter": 1000}
    _, tight = select_lambdas(X, y, groups, [(1e-3, 0.0), (1e-4, 0.0)], 0.01, params)
    _, loose = select_lambdas(X, y, groups, [(1e-3, 0.0), (1e-4, 0.0)], 0.01, params, path_tol=1e-3)
    fista = ~tight["fixed_budget"]
    assert loose.loc[fista, "iterations"].sum() < tight.loc[fista, "iterations"].sum()
    assert np.allclose(loose.loc[fista, "accuracy"], tight.loc[fista, "accuracy"], atol=0.02)
