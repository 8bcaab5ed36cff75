"""The elastic-net softmax probe as a scikit-learn estimator, and the per-neuron moments it
standardises with."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from neurosieve.analysis.solver import DEFAULT_TOL, ElasticNetProblem, flushed_denormals
from neurosieve.store.corpus import label_codes
from neurosieve.store.io import atomic_path


def add_rows(total: np.ndarray | None, rows: np.ndarray, dtype: Any = None) -> np.ndarray:
    """``total`` plus the sum of ``rows`` over axis 0, summed as one pass over all the rows would (NumPy adds a
    C-ordered matrix's rows one after another; the running total goes in as the first row), so that a sum taken
    a block of rows at a time equals the whole matrix's to the bit without a copy of the matrix."""
    return np.add.reduce(rows if total is None else np.concatenate([total[None], rows]), axis=0, dtype=dtype)


def activation_matrix(X: Any) -> np.ndarray:
    """Activations as the probes read them, C-ordered: float16 kept as stored (half the memory of the all-layers
    pool; each batch or block of rows is widened to float32 as it is used, so every result equals the float32
    matrix's to the bit), anything else as float32."""
    X = np.asarray(X)
    return np.require(X, dtype=np.float16 if X.dtype == np.float16 else np.float32, requirements=["C"])


def block_rows(width: int, itemsize: int, rows: int = 8192, block_bytes: int = 64 << 20) -> int:
    """Rows of a (tokens × ``width``) block of ``itemsize``-byte values: ``rows``, or fewer for a wide matrix so that
    a block stays near ``block_bytes`` (8,192 rows of the 9,984-wide all-layers pool in float64 are 650 MB)."""
    return max(1, min(rows, block_bytes // max(1, width * itemsize)))


def _widened_moments(X: np.ndarray, block_bytes: int = 64 << 20) -> tuple[np.ndarray, np.ndarray]:
    """NumPy's mean and std of each column of a float16 matrix that is not C-ordered, as of the float32 matrix,
    a block of columns widened at a time (each column is reduced on its own, so blocks do not change a bit)."""
    n, d = X.shape
    mu, sd = np.empty(d, np.float32), np.empty(d, np.float32)
    step = max(1, block_bytes // (4 * max(1, n)))
    for lo in range(0, d, step):
        block = X[:, lo : lo + step].astype(np.float32)
        mu[lo : lo + step], sd[lo : lo + step] = block.mean(axis=0), block.std(axis=0)
    return mu, sd


def column_moments(X: np.ndarray, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron mean and standard deviation of (tokens × neurons) float32 activations, for standardising.

    The values ``X.mean(axis=0)`` and ``X.std(axis=0)`` give, to the last bit
    (for a C-ordered matrix of two or more columns NumPy sums axis 0 row after
    row, and so does this), but ``rows`` tokens at a time (by default 8,192, fewer for a wide matrix):
    NumPy's ``std`` holds a full copy of the deviations, which at a layer's
    full training set costs more time in fresh memory than in arithmetic.
    A float16 matrix gives the moments of its float32 widening, exactly, without widening it whole.
    """
    n = X.shape[0]
    half = X.dtype == np.float16
    rows = rows or block_rows(X.shape[1] if X.ndim == 2 else 1, 4)  # the sums do not depend on it (add_rows)
    if half and (n == 0 or X.ndim != 2):
        X, half = X.astype(np.float32), False
    if n == 0 or X.ndim != 2 or X.shape[1] < 2 or not X.flags.c_contiguous:
        # One column is summed pairwise (and other layouts in other orders): NumPy's own std, exactly.
        return _widened_moments(X) if half else (X.mean(axis=0), X.std(axis=0))
    if half:
        # NumPy's mean of the float32 matrix: its rows summed one after another, then divided by n.
        summed: np.ndarray | None = None
        for start in range(0, n, rows):
            summed = add_rows(summed, X[start : start + rows].astype(np.float32))
        assert summed is not None
        mu = np.true_divide(summed, np.intp(n), out=summed, casting="unsafe")  # as NumPy's mean divides
    else:
        mu = X.mean(axis=0)
    total: np.ndarray | None = None
    for start in range(0, n, rows):
        dev = X[start : start + rows] - mu
        dev *= dev
        total = add_rows(total, dev)
    assert total is not None
    return mu, np.sqrt(total / n)


class ElasticNetProbe(ClassifierMixin, BaseEstimator):
    """Softmax-regression probe with an elastic-net penalty on its weights.

    Parameters follow scikit-learn conventions: ``random_state`` fixes the
    initialisation and batch order, ``warm_start`` continues from the current
    weights when the classes and width are unchanged.

    The training budget is ``epochs`` passes of Adam with a cosine schedule,
    raised to at least ``min_steps`` optimiser steps (small data sets would
    otherwise stop far from the optimum). With ``standardize`` the optimiser
    works on centred, unit-variance activations; the penalty is applied to the
    weights of the raw activations and ``coef_``/``intercept_`` are those raw
    weights, so the objective (NeuroX's) is unchanged; only the conditioning
    of the problem improves.

    ``solver="fista"`` minimises the same objective with the full-batch proximal
    solver of :mod:`neurosieve.analysis.solver` instead (exact zeros, stopped at
    ``tol`` or after ``max_iter`` iterations, one pass over the data each;
    ``epochs``, ``batch_size``, ``lr``, ``min_steps`` and ``random_state`` do not
    apply, and the fit is deterministic). ``loss_curve_`` then holds the
    objective after each iteration, ``n_iter_`` their number, ``converged_``
    whether it stopped on ``tol`` (not ``max_iter``) and ``passes_`` its passes
    over the data. The workflow's probes use it (``probing.probe.solver``); this
    class's default stays ``"adam"``, the fixed budget of earlier versions.
    """

    def __init__(
        self,
        l1: float = 1e-5,
        l2: float = 1e-5,
        epochs: int = 4,
        batch_size: int = 512,
        lr: float = 3e-2,
        random_state: int | None = 0,
        warm_start: bool = False,
        device: str = "cpu",
        min_steps: int = 0,
        standardize: bool = False,
        solver: str = "adam",
        tol: float = DEFAULT_TOL,
        max_iter: int = 1000,
    ):
        self.l1 = l1
        self.l2 = l2
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.warm_start = warm_start
        self.device = device
        self.min_steps = min_steps
        self.standardize = standardize
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def training_steps(self, n: int) -> tuple[int, int]:
        """(epochs, steps per epoch) this probe's budget gives on ``n`` training tokens."""
        steps = max(1, -(-n // self.batch_size))
        return max(int(self.epochs), -(-int(self.min_steps) // steps)), steps

    def fit(self, X: np.ndarray, y: Sequence[Any]) -> ElasticNetProbe:
        """Fit on (tokens × neurons) activations and one label per token."""
        X = np.require(activation_matrix(X), requirements=["W"])  # torch reads it in place
        y = np.asarray(y)
        classes, target = label_codes(y)
        n, d = X.shape
        if self.solver == "fista":
            return self._fit_fista(X, classes, target)  # its problem widens to float32 as it standardises
        if self.solver != "adam":
            raise ValueError(f"solver must be 'adam' or 'fista', got {self.solver!r}")
        seed = 0 if self.random_state is None else int(self.random_state)
        gen = torch.Generator().manual_seed(seed)
        if self.standardize and n:
            mu, sd = column_moments(X)
            sd[sd < 1e-8] = 1.0
        else:
            mu, sd = np.zeros(d, np.float32), np.ones(d, np.float32)
        warm = (
            self.warm_start
            and hasattr(self, "coef_")
            and list(self.classes_) == list(classes)
            and self.coef_.shape[1] == d
        )
        if warm:
            # Raw weights W, bias b to the optimiser's parameters: W * sd and b + mu @ W.
            w = torch.tensor(self.coef_.T * sd[:, None], dtype=torch.float32)
            b = torch.tensor(self.intercept_ + mu @ self.coef_.T, dtype=torch.float32)
        else:
            w = torch.randn(d, len(classes), generator=gen) * (0.01 / np.sqrt(max(d, 1)))
            b = torch.zeros(len(classes))
        dev = torch.device(self.device)
        w = w.to(dev).requires_grad_(True)
        b = b.to(dev).requires_grad_(True)
        xt = torch.from_numpy(X).to(dev)
        # Each batch is standardised as it is drawn: the same values, to the bit, as standardising the whole
        # matrix first, without a second (tokens x neurons) copy (the all-layers pool is 13 x 768 wide at BERT scale).
        mu_t, sd_t = torch.from_numpy(mu).to(dev), torch.from_numpy(sd).to(dev)
        inv_sd = torch.from_numpy((1.0 / sd).astype(np.float32)).to(dev)[:, None]
        yt = torch.from_numpy(target.astype(np.int64)).to(dev)
        opt = torch.optim.Adam([w, b], lr=self.lr)
        epochs, steps = self.training_steps(n)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps)
        self.loss_curve_ = []
        with flushed_denormals():
            for _ in range(epochs):
                perm = torch.randperm(n, generator=gen).to(dev)
                total = 0.0
                for s in range(steps):
                    idx = perm[s * self.batch_size : (s + 1) * self.batch_size]
                    xb = (xt[idx].float() - mu_t) / sd_t if self.standardize else xt[idx].float()
                    loss = torch.nn.functional.cross_entropy(xb @ w + b, yt[idx])
                    raw = w * inv_sd if self.standardize else w
                    if self.l1:
                        loss = loss + self.l1 * raw.abs().sum()
                    if self.l2:
                        loss = loss + self.l2 * torch.linalg.vector_norm(raw)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    total += float(loss.detach()) * len(idx)
                self.loss_curve_.append(total / n)
        coef = (w.detach().cpu().numpy() / sd[:, None]).T
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept_ = (b.detach().cpu().numpy() - mu @ coef.T).astype(np.float32)
        self.n_features_in_ = d
        return self

    def _fit_fista(self, X: np.ndarray, classes: np.ndarray, target: np.ndarray) -> ElasticNetProbe:
        """Fit with the full-batch proximal solver (``solver="fista"``), warm-started when ``warm_start`` allows."""
        n, d = X.shape
        mu, sd = column_moments(X) if self.standardize and n else (None, None)
        problem = ElasticNetProblem(
            X, target, len(classes), standardize=bool(self.standardize and n), device=self.device, mu=mu, sd=sd
        )
        warm = (
            self.warm_start
            and hasattr(self, "coef_")
            and list(self.classes_) == list(classes)
            and self.coef_.shape[1] == d
        )
        return self.solve_on(problem, classes, (self.coef_, self.intercept_) if warm else None)

    def solve_on(
        self,
        problem: ElasticNetProblem,
        classes: np.ndarray,
        start: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> ElasticNetProbe:
        """Fit this (``solver="fista"``) probe on a prepared problem, from ``start`` (raw-space weights, biases) or cold.

        :func:`~neurosieve.analysis.probe_batch.fit_probes` prepares one problem (one standardised
        matrix) for all the probes of a job that see the same neurons, and warm-starts lambda paths.
        """
        res = problem.solve(
            float(self.l1),
            float(self.l2),
            None if start is None else start[0],
            None if start is None else start[1],
            tol=float(self.tol),
            max_iter=int(self.max_iter),
        )
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(res.coef, dtype=np.float32)
        self.intercept_ = res.intercept.astype(np.float32)
        self.n_features_in_ = problem.d
        self.loss_curve_ = list(res.history)
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        self.passes_ = res.passes
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = np.asarray(X)
        if X.dtype != np.float16 or X.ndim != 2:
            return np.asarray(X, dtype=np.float32) @ self.coef_.T + self.intercept_
        # Stored float16 (the all-layers pool): widened a block of rows at a time, not whole (1.9 GB for the pool's
        # test split). Each row's logits are its own dot products; BLAS gave row blocks the whole product's values
        # in every case checked, though it does not promise them.
        rows = block_rows(X.shape[1], 4)
        out = np.empty((len(X), len(self.coef_)), dtype=np.float32)
        for lo in range(0, len(X), rows):
            out[lo : lo + rows] = X[lo : lo + rows].astype(np.float32) @ self.coef_.T + self.intercept_
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = self.decision_function(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def score(self, X: np.ndarray, y: Sequence[Any], sample_weight: np.ndarray | None = None) -> float:
        """Accuracy (a fraction); labels the probe never saw count as errors."""
        return float(accuracy_score(np.asarray(y), self.predict(X), sample_weight=sample_weight))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save parameters and weights to one ``.npz`` file (atomically)."""
        check_is_fitted(self, "coef_")
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    coef=self.coef_,
                    intercept=self.intercept_,
                    classes=np.asarray(self.classes_, dtype=str),
                    params=np.asarray(json.dumps(self.get_params())),
                )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ElasticNetProbe:
        """Load a probe saved by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as f:
            probe = cls(**json.loads(str(f["params"])))
            probe.coef_ = f["coef"]
            probe.intercept_ = f["intercept"]
            probe.classes_ = f["classes"]
        probe.n_features_in_ = probe.coef_.shape[1]
        return probe
