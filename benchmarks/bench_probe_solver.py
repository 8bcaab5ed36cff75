"""Benchmark: the full-batch proximal probe solver against today's Adam probe, saga and a tight reference, in one run.

At bert-base's shape by default: synthetic low-rank activations (100,000 train tokens x 768 neurons,
64 latent directions plus noise, each neuron on its own scale and offset), 44 Zipf-skewed labels that
are not separable, and a held-out split of a fifth as many tokens. For one probe at l1 = l2 = 1e-5 it
prints CPU-seconds, the objective (mean cross-entropy + l1*sum|W| + l2*||W||_F, raw-space weights),
held-out accuracy and passes over the data for

  (a) the new solver (``ElasticNetProbe(solver="fista")``, its default ``tol``),
  (b) today's default probe (Adam, the schema's ``probing.probe`` budget),
  (c) scikit-learn's saga on the pure-l1 problem it can express (C = 1 / (n * l1), on standardised
      activations, since sklearn penalises the weights of the matrix it is given), beside (a) on that
      same problem; its epochs are capped (``--saga-epochs``),
  (ref) a tightly converged reference: the new solver continued from (a) at ``tol=1e-9``,

then the GEMM floor (CPU-seconds of one forward and one backward product over the whole training
matrix, measured in this run) and each fit's cost in floors, and the cost of a warm-started path of six
lambdas (l1 from half of l1_max down to l1) against one cold fit, with each fit's zeros and accuracy.
CPU-seconds are ``time.process_time`` of this process (``--threads`` torch threads):

  .venv/bin/python benchmarks/bench_probe_solver.py [--rows 100000 --width 768] [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.solver import ElasticNetProblem, lambda_path

# The workflow's default probe (config/config.yaml -> workflow/schemas/config.schema.yaml, probing.probe).
ADAM_DEFAULT = {"epochs": 4, "min_steps": 3000, "batch_size": 512, "lr": 0.1, "standardize": True}


def synthetic(n: int, d: int, c: int, rank: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Low-rank activations with Zipf-skewed labels: ``rank`` latent directions carry the signal, plus noise.

    Class means live in the latent space at a separation that leaves the classes overlapping (a
    converged probe reaches well under full accuracy), and each neuron gets its own scale and offset.
    """
    rng = np.random.default_rng(seed)
    freq = 1.0 / np.arange(1, c + 1)
    y = rng.choice(c, size=n, p=freq / freq.sum())
    basis = rng.normal(size=(rank, d)) / np.sqrt(rank)
    latent = rng.normal(size=(c, rank))[y] * 0.35 + rng.normal(size=(n, rank))
    X = (latent @ basis * 3.0 + rng.normal(size=(n, d))) * rng.uniform(0.3, 3.0, d) + rng.normal(size=d) * 2
    return X.astype(np.float32), y


def cpu(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and the CPU-seconds it took in this process."""
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def gemm_floor(X: np.ndarray, c: int, repeats: int = 3) -> float:
    """CPU-seconds of one full pass of a probe's products: ``X @ W`` and ``X.T @ R`` (float32, torch), best of ``repeats``."""
    xt = torch.from_numpy(X)
    w = torch.randn(X.shape[1], c)
    r = torch.randn(X.shape[0], c)
    best = float("inf")
    for _ in range(repeats + 1):
        t0 = time.process_time()
        xt @ w
        xt.T @ r
        best = min(best, time.process_time() - t0)
    return best


def accuracy(coef: np.ndarray, intercept: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    return float(((X @ coef.T + intercept).argmax(axis=1) == y).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="training tokens (held out: a fifth as many)")
    ap.add_argument("--width", type=int, default=768, help="neurons (bert-base: 768)")
    ap.add_argument("--labels", type=int, default=44)
    ap.add_argument("--rank", type=int, default=64, help="latent directions carrying the signal")
    ap.add_argument("--l1", type=float, default=1e-5)
    ap.add_argument("--l2", type=float, default=1e-5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the rules' threads:)")
    ap.add_argument("--saga-epochs", type=int, default=10, help="cap on saga's epochs (its max_iter)")
    ap.add_argument("--ref-iter", type=int, default=600, help="cap on the reference's further iterations")
    ap.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.width, args.labels, args.rank, args.saga_epochs, args.ref_iter = 3000, 48, 8, 8, 3, 200
    torch.set_num_threads(args.threads)
    n, d, c = args.rows, args.width, args.labels
    X, y = synthetic(n + n // 5, d, c, min(args.rank, d))
    Xtr, ytr, Xte, yte = X[:n], y[:n], X[n:], y[n:]
    l1, l2 = args.l1, args.l2
    print(
        f"data: {n:,} train / {len(Xte):,} held-out tokens x {d} neurons, {c} labels (rank {args.rank}); l1={l1} l2={l2}"
    )
    print(f"torch threads {torch.get_num_threads()}, {torch.__version__}")

    floor = gemm_floor(Xtr, c)
    print(f"GEMM floor: {floor:.3f} CPU-s per pass (forward + backward product over the training matrix)")
    problem = ElasticNetProblem(Xtr, ytr, c)  # objectives of every fit, float32 products as in the solver

    def row(
        name: str, secs: float, coef: np.ndarray, intercept: np.ndarray, passes: float | None, extra: str = ""
    ) -> float:
        obj = problem.objective(coef, intercept, l1, l2)
        p = "" if passes is None else f"  passes {passes:7.1f}"
        print(
            f"  {name:<28} {secs:8.2f} CPU-s  ({secs / floor:6.1f} floors){p}  objective {obj:.5f}  "
            f"held-out {100 * accuracy(coef, intercept, Xte, yte):5.2f} %  zeros {100 * (coef == 0).mean():5.1f} %{extra}"
        )
        return obj

    print("one probe:")
    new = ElasticNetProbe(l1=l1, l2=l2, standardize=True, solver="fista")
    _, t_new = cpu(lambda: new.fit(Xtr, ytr))
    obj_new = row("(a) fista (default tol)", t_new, new.coef_, new.intercept_, None, f"  iterations {new.n_iter_}")
    # --quick: a tenth of the step budget, only to keep the smoke run short.
    adam = ElasticNetProbe(l1=l1, l2=l2, **{**ADAM_DEFAULT, "min_steps": 300 if args.quick else 3000})
    _, t_adam = cpu(lambda: adam.fit(Xtr, ytr))
    epochs, steps = adam.training_steps(n)
    obj_adam = row("(b) adam (workflow default)", t_adam, adam.coef_, adam.intercept_, epochs * steps * 512 / n)
    ref, t_ref = cpu(
        lambda: problem.solve(
            l1, l2, new.coef_.astype(np.float64), new.intercept_.astype(np.float64), tol=1e-9, max_iter=args.ref_iter
        )
    )
    obj_ref = row(
        "(ref) fista, tol 1e-9", t_ref, ref.coef, ref.intercept, ref.passes, f"  (+{ref.n_iter} iterations after (a))"
    )
    print(
        f"  objective above the reference: fista {100 * (obj_new / obj_ref - 1):.3f} %, adam {100 * (obj_adam / obj_ref - 1):.2f} %;"
        f" fista CPU-s / adam CPU-s = {t_new / t_adam:.2f}"
    )

    print("warm-started lambda path (6 values of l1, l2 fixed) against one cold fit at the smallest:")
    top = problem.l1_max(l2)
    l1s = list(np.geomspace(top / 2, l1, 6))
    path, t_path = cpu(lambda: lambda_path(problem, None, l1s, l2))
    for r in path:
        print(
            f"  l1 {r.l1:9.3g}: {r.n_iter:4d} iterations  objective {r.objective:.5f}  zeros {100 * (r.coef == 0).mean():5.1f} %"
            f"  held-out {100 * accuracy(r.coef, r.intercept, Xte, yte):5.2f} %"
        )
    print(f"  path {t_path:.2f} CPU-s = {t_path / t_new:.2f} x one cold fit ({t_new:.2f} CPU-s)")

    print("pure l1 on standardised activations (the problem saga can express, C = 1/(n*l1)):")
    Xs = ((Xtr - Xtr.mean(0)) / Xtr.std(0)).astype(np.float32)
    Xs_te = ((Xte - Xtr.mean(0)) / Xtr.std(0)).astype(np.float32)
    l1_problem = ElasticNetProblem(Xs, ytr, c, standardize=False)
    fit_l1, t_l1 = cpu(lambda: l1_problem.solve(l1, 0.0))
    tight_l1 = l1_problem.solve(l1, 0.0, fit_l1.coef, fit_l1.intercept, tol=1e-9, max_iter=args.ref_iter)
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # saga at its epoch cap warns that it has not converged
        saga = LogisticRegression(
            C=1.0 / (n * l1), l1_ratio=1.0, solver="saga", tol=1e-6, max_iter=args.saga_epochs, random_state=0
        )
        _, t_saga = cpu(lambda: saga.fit(Xs, ytr))
    for name, secs, coef, icpt in (
        ("fista (default tol)", t_l1, fit_l1.coef, fit_l1.intercept),
        (f"saga ({saga.n_iter_[0]} epochs, cap {args.saga_epochs})", t_saga, saga.coef_, saga.intercept_),
    ):
        obj = l1_problem.objective(coef, icpt, l1, 0.0)
        print(
            f"  {name:<28} {secs:8.2f} CPU-s  objective {obj:.5f} ({100 * (obj / tight_l1.objective - 1):+.3f} % vs tight "
            f"{tight_l1.objective:.5f})  held-out {100 * accuracy(coef, icpt, Xs_te, yte):5.2f} %"
        )
    print(f"  saga CPU-s / fista CPU-s = {t_saga / t_l1:.1f} (saga capped; it has not necessarily reached the 0.1 %)")


if __name__ == "__main__":
    main()
