"""A full-batch proximal solver for the elastic-net softmax probe: it solves the objective, then stops.

The objective is the probe's (NeuroX's), on raw-space weights ``W`` (classes x neurons) and biases ``b``::

    F(W, b) = mean_i CE(x_i W^T + b, y_i) + l1 * sum|W| + l2 * ||W||_F        (||.||_F unsquared)

Why a new solver: today's probe (:class:`~neurosieve.analysis.probe.ElasticNetProbe` with Adam) stops
after a fixed budget of mini-batch steps; on wide, low-rank layers that is far from the optimum, its
L1 subgradient never makes a weight exactly zero, and so the lambdas it is given barely matter.

Method: FISTA (accelerated proximal gradient, Beck & Teboulle 2009) on the full batch, with
backtracking line search (the step grows again from the curvature measured along each step), and
adaptive gradient-based restarts of the momentum (O'Donoghue & Candes 2015). Each iteration costs one
pass over the data (one forward and one backward product): logits are linear in the weights, so the
logits at the extrapolated point are the same combination of the two last iterates' logits, and only
the trial point's logits need a product.

Coordinates: the smooth part is optimised on standardised activations ``Xs = (X - mu) / sd`` (a
diagonal preconditioner; the intercept then decouples from the weights), with weights
``U = W^T * sd`` (neurons x classes) and bias ``beta = b + W mu``. The penalty stays on the raw weights
``W^T = U / sd``: ``h(U) = l1 * sum_jk |U_jk| / sd_j + l2 * ||U / sd||_F``. Its proximal map in these
coordinates is computed exactly (:func:`prox_penalty`): an elementwise soft-threshold with per-neuron
thresholds ``t*l1/sd_j``, then a per-neuron shrinkage ``1 / (1 + t*l2 / (sd_j^2 * rho))`` where the
scalar ``rho = ||W||_F`` of the result solves a one-dimensional monotone (secular) equation, solved
by Newton's method in float64. When all ``sd_j`` are equal this is the familiar composition
(soft-threshold, then scale the whole matrix by ``max(0, 1 - t*l2/||.||_F)``). So the step has the
standardised problem's conditioning and the penalty is exactly the raw-space one (no approximation,
exact zeros from the soft-threshold, and the all-zero solution from the group shrinkage).

Why FISTA and not OWL-QN / proximal quasi-Newton: the penalty has two nonsmooth parts (the L1 norm
and the unsquared Frobenius norm, nonsmooth at W = 0) whose joint prox is exact and cheap here, which
FISTA uses as is; OWL-QN handles only the L1 part and would need the Frobenius norm treated as smooth
(wrong at the all-zero solutions a lambda path starts from). A proximal quasi-Newton step needs an
inner solver of its own for the scaled prox. Measured numbers are in ``benchmarks/bench_probe_solver.py``.

Stopping: when the relative decrease of the objective over one iteration is below ``tol`` and the
norm of the proximal-gradient mapping (zero exactly at the optimum; in the per-class metric) is below
``sqrt(tol)`` times the gradient's norm at the null model (W = 0), twice in a row: the same scale for
cold and warm starts, so a warm start that begins near the optimum stops early. On nearly separable
labels under a small penalty the optimum lies far out on a flat objective, and float32 logits round the
objective's last digits: a fit also stops once its best objective has not fallen by ``tol`` (relative)
in ``STALL`` iterations, and returns its best iterate; a step at the Lipschitz bound is always accepted. The default ``tol``
(:data:`DEFAULT_TOL`) brings the objective within 0.1 % of a tightly converged reference on the test problems
(``tests/test_solver.py``) and at bert-base's shape.

This module is pure: NumPy, torch and SciPy only. Fits are deterministic for given inputs (full
batches, no random numbers; the product's thread count is the caller's).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

#: Iterations without a relative decrease of ``tol`` of the best objective after which a fit stops (see ``solve``).
STALL = 25

#: The stopping tolerance that brings the objective within 0.1 % of a tightly converged fit at bert-base's shape
#: (``benchmarks/bench_probe_solver.py``); the default of ``probing.probe.tol`` too (checked by a test).
DEFAULT_TOL = 1e-6

__all__ = [
    "DEFAULT_TOL",
    "ElasticNetProblem",
    "SolverResult",
    "choose_on_held_out",
    "fista",
    "flushed_denormals",
    "lambda_path",
    "path_order",
    "penalty",
    "prox_penalty",
]


@contextmanager
def flushed_denormals() -> Iterator[None]:
    """Treat subnormal floats as zero on the CPU while a probe is fitted (torch's ``set_flush_denormal``).

    Softmax probabilities of confidently classified tokens underflow to subnormal floats, and the CPU
    multiplies those up to 20x slower: measured 754 vs 37 ms a full-batch iteration at 20,000 x 768, and
    8.2 vs 1.4 ms a mini-batch gradient product of the batched Adam probes. As zeros they change no
    sum of normal-sized terms (a subnormal is below half an ulp of any gradient entry), so fits give
    the same numbers, faster. Afterwards the flag is set back to torch's default (torch has no getter).
    """
    flushed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushed:
            torch.set_flush_denormal(False)


@dataclass
class SolverResult:
    """One fit: raw-space weights and biases, the objective reached and what it cost.

    ``coef`` is (classes x neurons) and ``intercept`` (classes,), both raw-space (they apply to the
    activations as given), float64. ``passes`` counts passes over the data (a forward or a backward
    product of the whole matrix is half a pass), the unit to compare with a GEMM floor.
    """

    coef: np.ndarray
    intercept: np.ndarray
    objective: float
    l1: float
    l2: float
    n_iter: int
    passes: float
    converged: bool
    history: list[float] = field(default_factory=list)


def penalty(coef: np.ndarray, l1: float, l2: float) -> float:
    """``l1 * sum|W| + l2 * ||W||_F`` of raw-space weights (the unsquared Frobenius norm, as in NeuroX)."""
    w = np.asarray(coef, dtype=np.float64)
    return float(l1 * np.abs(w).sum() + l2 * np.sqrt((w * w).sum()))


def prox_penalty(
    z: torch.Tensor, t: float | torch.Tensor, l1: float, l2: float, scale: torch.Tensor | None = None
) -> torch.Tensor:
    """The exact proximal map of ``l1 * sum|U/s| + l2 * ||U/s||_F`` at ``z`` with step ``t`` (rows = neurons).

    Minimises ``sum_jk (U_jk - z_jk)^2 / (2 t_jk) + l1 * sum_jk |U_jk| / s_j + l2 * ||U/s||_F``; ``t`` is
    a scalar or broadcasts to ``z`` (a diagonal metric: the solver's per-class steps), ``scale`` holds
    ``s_j`` per row (the neurons' standard deviations; None: all ones). With ``w = 1/s`` the optimality
    condition ``0 in (U - z)/t + l1*w*sign(U) + l2*w^2*U/rho`` (``rho = ||wU||_F``) gives
    ``U = S / (1 + t*l2*w^2/rho)`` with ``S = soft(z, t*l1*w)``, and ``rho > 0`` the root of
    ``psi(rho) = sum_jk w_j^2 S_jk^2 / (rho + t_jk*l2*w_j^2)^2 = 1``; ``U = 0`` exactly when
    ``psi(0) <= 1`` (then 0 is in the subdifferential). ``psi`` falls from ``psi(0)`` to 0, and
    ``psi^(-1/2)`` is concave and increasing, so Newton's method on ``psi^(-1/2) = 1`` from ``rho = 0``
    rises monotonically to the root (as in Moré and Sorensen's trust-region step); with equal steps
    and scales it is linear and one step is exact (the familiar composition: soft-threshold, then scale
    the whole matrix by ``max(0, 1 - t*l2/||.||_F)``). Computed in float64.
    """
    zz = z.to(torch.float64)
    s = torch.ones(zz.shape[0], dtype=torch.float64, device=zz.device) if scale is None else scale.to(torch.float64)
    w = (1.0 / s)[:, None]
    tt = t.to(torch.float64) if isinstance(t, torch.Tensor) else torch.tensor(float(t), dtype=torch.float64)
    tt = tt.to(zz.device)
    soft = torch.sign(zz) * torch.clamp(zz.abs() - tt * l1 * w, min=0.0) if l1 > 0 else zz
    if l2 <= 0:
        return soft.to(z.dtype)
    a = (soft * w) ** 2
    c = (tt * l2 * w * w).expand_as(a)
    nz = a > 0
    a, c = a[nz], c[nz]
    if a.numel() == 0 or float((a / c**2).sum()) <= 1.0:
        return torch.zeros_like(z)
    rho = 0.0
    for _ in range(100):
        q = rho + c
        psi = float((a / q**2).sum())
        dpsi = float((-2.0 * a / q**3).sum())
        # Newton on g(rho) = psi^(-1/2) - 1, g' = -psi^(-3/2) psi' / 2.
        step = (1.0 - psi**-0.5) / (-0.5 * psi**-1.5 * dpsi)
        if not step > 1e-15 * rho:
            break
        rho += step
    return (soft / (1.0 + tt * l2 * w * w / rho)).to(z.dtype)


class ElasticNetProblem:
    """One data set prepared for fitting (standardised once), solved for any (l1, l2), cold or warm.

    ``X`` is (tokens x neurons) activations, ``target`` the class index of each token (0..classes-1).
    The standardised copy of ``X`` lives on ``device`` in ``dtype`` (float32: products at full speed;
    float64: for tightly converged references). Losses and penalties are summed in float64.
    """

    def __init__(
        self,
        X: np.ndarray,
        target: np.ndarray,
        n_classes: int | None = None,
        *,
        standardize: bool = True,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        mu: np.ndarray | None = None,
        sd: np.ndarray | None = None,
        precondition: bool = True,
    ) -> None:
        X = np.asarray(X)
        target = np.asarray(target, dtype=np.int64).reshape(-1)
        if X.ndim != 2 or len(X) != len(target) or len(X) == 0:
            raise ValueError(f"X must be (tokens x neurons) with one label per token, got {X.shape} and {target.shape}")
        self.n, self.d = X.shape
        self.n_classes = int(target.max()) + 1 if n_classes is None else int(n_classes)
        if target.min() < 0 or target.max() >= self.n_classes:
            raise ValueError(f"labels must be class indices 0..{self.n_classes - 1}")
        if standardize:
            if mu is None or sd is None:
                mu = X.mean(axis=0, dtype=np.float64)
                sd = X.std(axis=0, dtype=np.float64)
            sd = np.where(np.asarray(sd) < 1e-8, 1.0, sd)
        else:
            mu, sd = np.zeros(self.d), np.ones(self.d)
        self.mu = np.asarray(mu, dtype=np.float64)
        self.sd = np.asarray(sd, dtype=np.float64)
        self.device = torch.device(device)
        self.dtype = dtype
        xt = torch.from_numpy(np.ascontiguousarray(X)).to(self.device, dtype)
        if standardize:
            xt = (xt - torch.from_numpy(self.mu).to(xt)) / torch.from_numpy(self.sd).to(xt)
        self.X = xt
        self.sd_t = torch.from_numpy(self.sd).to(self.device)
        self.precondition = precondition
        self._lipschitz: float | None = None
        self._set_target(target)

    def _set_target(self, target: np.ndarray) -> None:
        """Labels and what depends on them alone (class frequencies, the per-class metric, the null gradient)."""
        self.y = torch.from_numpy(target).to(self.device)
        self._minus_one = torch.full((len(target), 1), -1.0, dtype=self.dtype, device=self.device)
        self._ones = torch.ones(len(target), dtype=self.dtype, device=self.device)
        self._work: torch.Tensor | None = None
        counts = np.bincount(target, minlength=self.n_classes).astype(np.float64)
        self.class_freq = counts / counts.sum()
        var = np.maximum(self.class_freq * (1.0 - self.class_freq), 1e-4)
        self.class_metric = torch.from_numpy(var / var.max()).to(self.device)[None, :]
        self._last_step: float | None = None
        self._g_null: torch.Tensor | None = None
        self.passes = 0.0

    def retarget(self, target: np.ndarray, n_classes: int | None = None) -> ElasticNetProblem:
        """The same standardised activations with other labels (another probe of the same neurons), without a copy.

        The probes of a job (the selected one, the control task, the paper's lambdas) share one
        standardised matrix and its Lipschitz bound; only the labels and what follows from them differ.
        """
        target = np.asarray(target, dtype=np.int64).reshape(-1)
        if len(target) != self.n:
            raise ValueError(f"{len(target)} labels for {self.n} tokens")
        other = copy.copy(self)
        other.n_classes = int(target.max()) + 1 if n_classes is None else int(n_classes)
        if target.min() < 0 or target.max() >= other.n_classes:
            raise ValueError(f"labels must be class indices 0..{other.n_classes - 1}")
        other._set_target(target)
        return other

    # -- coordinates -------------------------------------------------------------------------------
    def to_internal(self, coef: np.ndarray, intercept: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw-space (classes x neurons) weights and biases to the solver's (U, beta): ``W^T * sd``, ``b + W mu``."""
        coef = np.asarray(coef, dtype=np.float64)
        u = torch.from_numpy(np.ascontiguousarray(coef.T * self.sd[:, None])).to(self.device)
        beta = torch.from_numpy(np.asarray(intercept, dtype=np.float64) + coef @ self.mu).to(self.device)
        return u, beta

    def to_raw(self, u: torch.Tensor, beta: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """The solver's (U, beta) to raw-space (classes x neurons) weights and biases."""
        coef = (u.detach().cpu().double().numpy() / self.sd[:, None]).T
        intercept = beta.detach().cpu().double().numpy() - coef @ self.mu
        return np.ascontiguousarray(coef), intercept

    def _h(self, u: torch.Tensor, l1: float, l2: float) -> float:
        raw = u / self.sd_t[:, None]
        return float(l1 * raw.abs().sum() + l2 * torch.linalg.vector_norm(raw))

    # -- smooth part -------------------------------------------------------------------------------
    def _logits(self, u: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        self.passes += 0.5
        return torch.addmm(beta.to(self.dtype), self.X, u.to(self.dtype))

    def _loss(self, z: torch.Tensor) -> float:
        """Mean cross-entropy of logits ``z`` (float64 sum of per-token float losses)."""
        return self._softmax_parts(z)[0]

    def _softmax_parts(self, z: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
        """The mean cross-entropy at logits ``z``, with ``exp(z - max)`` per token (in a reused buffer) and its row sums.

        On a narrow layer the elementwise work over the (tokens x classes) logits costs as much as the
        products, so the log-sum-exp and the softmax share their exponentials, written into one
        buffer kept between calls (a fresh one a call costs page faults).
        """
        top = z.amax(dim=1, keepdim=True)
        if self._work is None or self._work.shape != z.shape:
            self._work = torch.empty_like(z)
        e = torch.sub(z, top, out=self._work).exp_()
        total = e.sum(dim=1, keepdim=True)
        loss = float((total.log().add_(top) - z.gather(1, self.y[:, None])).sum(dtype=torch.float64)) / self.n
        return loss, e, total

    def _grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradient of the mean cross-entropy in (U, beta) at logits ``z``: ``Xs^T (P - Y) / n``, ``sum(P - Y) / n``."""
        return self._loss_and_grad(z)[1:]

    def _loss_and_grad(self, z: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
        """The mean cross-entropy at logits ``z`` and its gradient in (U, beta), from one pass of exp."""
        loss, e, total = self._softmax_parts(z)
        r = e.div_(total)
        r.scatter_add_(1, self.y[:, None], self._minus_one)
        r /= self.n
        self.passes += 0.5
        # Both reductions over tokens are products (float32 accumulation, as the weights' gradient has).
        return loss, (self.X.T @ r).to(torch.float64), (self._ones @ r).to(torch.float64)

    def objective(self, coef: np.ndarray, intercept: np.ndarray, l1: float, l2: float) -> float:
        """The probe's objective at raw-space weights and biases (mean cross-entropy + raw-space penalty)."""
        u, beta = self.to_internal(coef, intercept)
        passes = self.passes
        value = self._loss(self._logits(u, beta)) + penalty(coef, l1, l2)
        self.passes = passes
        return value

    def null_intercept(self) -> np.ndarray:
        """The biases of the all-zero-weight optimum: log class frequencies (centred; -inf-safe)."""
        b = np.log(np.maximum(self.class_freq, 1e-300))
        return b - b[self.class_freq > 0].mean()

    def _null_gradient(self) -> torch.Tensor:
        """The cross-entropy's gradient in U at the null model (W = 0, log-frequency biases); computed once."""
        if self._g_null is None:
            beta = torch.from_numpy(self.null_intercept()).to(self.device)
            u0 = torch.zeros(self.d, self.n_classes, dtype=torch.float64, device=self.device)
            passes = self.passes
            self._g_null, _ = self._grad(self._logits(u0, beta))
            self.passes = passes
        return self._g_null

    def l1_max(self, l2: float = 0.0) -> float:
        """Smallest l1 at which all weights are exactly zero at the optimum, for this ``l2``.

        W = 0 (with the biases at log class frequencies) is optimal iff the raw-space gradient ``G`` of
        the cross-entropy there satisfies ``||soft(G, l1)||_F <= l2`` (the subdifferential of the
        penalty at 0 is ``{A + B: |A|_max <= l1, ||B||_F <= l2}``); for l2 = 0 that is ``l1 >= max|G|``.
        The threshold is found by bisection on the monotone ``||soft(G, l1)||_F``.
        """
        gu = self._null_gradient()
        g = (gu * self.sd_t[:, None]).abs().flatten()  # raw-space gradient: U = W^T * sd, so dF/dW^T = sd * dF/dU
        gmax = float(g.max())
        if l2 <= 0:
            return gmax
        if float(torch.linalg.vector_norm(g)) <= l2:
            return 0.0
        lo, hi = 0.0, gmax
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(torch.linalg.vector_norm(torch.clamp(g - mid, min=0.0))) <= l2:
                hi = mid
            else:
                lo = mid
        return hi

    def lipschitz(self) -> float:
        """An upper bound of the smooth part's gradient Lipschitz constant in (U, beta): ``0.5 * max(lmax(Xs'Xs/n), 1)``.

        The softmax cross-entropy's Hessian in the logits is at most 1/2 (per token), so the bound is
        half the largest eigenvalue of the design with a column of ones (block-diagonal when standardised);
        the eigenvalue comes from 30 power iterations (matrix-vector products, a small share of a pass).
        """
        if self._lipschitz is None:
            gen = torch.Generator(device="cpu").manual_seed(0)
            v = torch.randn(self.d, generator=gen, dtype=torch.float64).to(self.device, self.dtype)
            lam = 1.0
            for _ in range(30):
                v = v / torch.linalg.vector_norm(v)
                v = self.X.T @ (self.X @ v) / self.n
                lam = float(torch.linalg.vector_norm(v))
            self._lipschitz = 0.5 * max(lam * 1.05, 1.0)
        return self._lipschitz

    # -- the solver --------------------------------------------------------------------------------
    def solve(
        self,
        l1: float,
        l2: float,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
        *,
        tol: float = DEFAULT_TOL,
        max_iter: int = 1000,
        step: float | None = None,
    ) -> SolverResult:
        """Minimise the objective at (l1, l2) from raw-space ``coef``/``intercept`` (None: zero weights,
        log-frequency biases), by FISTA with backtracking and adaptive restarts (see the module docstring).

        ``step`` is the initial step size (None: 1 / :meth:`lipschitz`; :func:`lambda_path` passes the
        previous fit's). The result's ``passes`` counts this call's passes over the data.
        """
        if l1 < 0 or l2 < 0:
            raise ValueError("l1 and l2 must be >= 0")
        with flushed_denormals():
            return self._solve(l1, l2, coef, intercept, tol=tol, max_iter=max_iter, step=step)

    def _solve(
        self,
        l1: float,
        l2: float,
        coef: np.ndarray | None,
        intercept: np.ndarray | None,
        *,
        tol: float,
        max_iter: int,
        step: float | None,
    ) -> SolverResult:
        self.passes = 0.0
        if coef is None:
            u = torch.zeros(self.d, self.n_classes, dtype=torch.float64, device=self.device)
            beta = torch.from_numpy(self.null_intercept()).to(self.device)
        else:
            u, beta = self.to_internal(coef, np.zeros(self.n_classes) if intercept is None else intercept)
        t = 1.0 / self.lipschitz() if step is None else float(step)
        sd = self.sd_t
        # A diagonal metric per class: curvature of class c's logits ~ p_c (1 - p_c), so rare classes take longer steps.
        m = self.class_metric if self.precondition else torch.ones_like(self.class_metric)
        # A step this short decreases the objective by the descent lemma (Lipschitz bound in the metric): a failed
        # test there is float32 rounding of the logits (large weights on nearly separable labels), not curvature.
        t_safe = float(m.min()) / self.lipschitz()
        z = self._logits(u, beta)
        obj = self._loss(z) + self._h(u, l1, l2)
        history = [obj]
        best = (obj, u, beta)
        best_at, anchor = 0, obj
        u_prev, beta_prev, z_prev = u, beta, z
        theta = 1.0
        momentum = 0.0
        # The optimality measure is relative to the gradient at the null model, whatever the start (warm or cold).
        g0 = max(float(torch.sqrt((self._null_gradient() ** 2 / m).sum())), 1e-300)
        calm = 0
        converged = False
        it = 0
        while it < max_iter:
            it += 1
            if momentum > 0:
                uy = u + momentum * (u - u_prev)
                by = beta + momentum * (beta - beta_prev)
                zy = torch.add(z, z - z_prev, alpha=momentum)
            else:
                uy, by, zy = u, beta, z
            fy, gu, gb = self._loss_and_grad(zy)  # the loss comes with the gradient's exponentials (f when no momentum)
            while True:
                un = prox_penalty(uy - (t / m) * gu, t / m, l1, l2, sd)
                bn = by - (t / m[0]) * gb
                zn = self._logits(un, bn)
                fn = self._loss(zn)
                du, db = un - uy, bn - by
                lin = float((gu * du).sum() + (gb * db).sum())
                sq = float((m * du * du).sum() + (m[0] * db * db).sum())
                # Sufficient decrease, with slack for the float32 logits' rounding.
                if fn <= fy + lin + sq / (2 * t) + 1e-7 * abs(fy) or sq == 0.0 or t <= t_safe:
                    break
                t = max(0.5 * t, t_safe)
            objn = fn + self._h(un, l1, l2)
            # The step grows again where the curvature measured along it allows (at most 1.5x per iteration).
            curv = 2.0 * (fn - fy - lin) / sq if sq > 0 else 0.0
            t_next = min(1.5 * t, 0.9 / curv) if curv > 0 else 1.5 * t
            t_next = max(t_next, t)
            gmap = math.sqrt(sq) / t  # the proximal-gradient mapping at the extrapolated point
            # Adaptive restart: drop the momentum when the step points against it, or the objective rose.
            against = float((m * (uy - un) * (un - u)).sum() + (m[0] * (by - bn) * (bn - beta)).sum()) > 0
            rel = (history[-1] - objn) / max(abs(objn), 1e-12)
            u_prev, beta_prev, z_prev = u, beta, z
            u, beta, z = un, bn, zn
            history.append(objn)
            if objn < best[0]:
                best = (objn, un, bn)
                if objn < anchor - tol * abs(anchor):  # a decrease of tol since the last one counted
                    best_at, anchor = it, objn
            if against or objn > history[-2]:
                theta, momentum = 1.0, 0.0
            else:
                theta_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * theta * theta))
                momentum = (theta - 1.0) / theta_next
                theta = theta_next
            t = t_next
            calm = calm + 1 if (abs(rel) < tol and gmap < math.sqrt(tol) * g0) else 0
            if calm >= 2:
                converged = True
                break
            if it - best_at >= STALL:
                # No decrease beyond tol in STALL iterations: the objective no longer moves at working precision
                # (nearly separable labels under a small penalty, where the optimum lies far out and flat).
                converged = True
                break
        _, u, beta = best  # the best iterate (the last unless rounding made the objective rise at the end)
        self._last_step = t
        coef_out, intercept_out = self.to_raw(u, beta)
        return SolverResult(
            coef=coef_out,
            intercept=intercept_out,
            objective=best[0],
            l1=float(l1),
            l2=float(l2),
            n_iter=it,
            passes=self.passes,
            converged=converged,
            history=history,
        )


def fista(
    X: np.ndarray,
    target: np.ndarray,
    l1: float,
    l2: float,
    *,
    n_classes: int | None = None,
    standardize: bool = True,
    coef: np.ndarray | None = None,
    intercept: np.ndarray | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = 1000,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> SolverResult:
    """One fit of the probe's objective on ``X`` and class indices ``target`` (see :class:`ElasticNetProblem`)."""
    problem = ElasticNetProblem(X, target, n_classes, standardize=standardize, device=device, dtype=dtype)
    return problem.solve(l1, l2, coef, intercept, tol=tol, max_iter=max_iter)


def path_order(l1s: Sequence[float], l2s: Sequence[float]) -> list[int]:
    """The order a lambda path fits its pairs in: largest total penalty first (then larger l1), ties as given."""
    return sorted(range(len(l1s)), key=lambda i: (float(l1s[i]) + float(l2s[i]), float(l1s[i])), reverse=True)


def lambda_path(
    X: np.ndarray | ElasticNetProblem,
    target: np.ndarray | None,
    l1s: Sequence[float],
    l2s: Sequence[float] | float,
    *,
    n_classes: int | None = None,
    standardize: bool = True,
    tol: float = DEFAULT_TOL,
    max_iter: int = 1000,
    device: str = "cpu",
) -> list[SolverResult]:
    """Fit every (l1, l2) pair, from the largest penalty down, each warm-started from the previous fit (glmnet-style).

    ``l2s`` is one value for all or one per l1. The data are standardised once (or pass a prepared
    :class:`ElasticNetProblem` as ``X`` and None as ``target``). Fits are returned in the order of the
    pairs given; each result's ``passes`` is its own share, so the path's cost is their sum. Each fit
    starts from the previous one's weights and step size: near neighbours on a path differ little,
    and the heavily penalised fits at the top are sparse and cheap.
    """
    problem = (
        X
        if isinstance(X, ElasticNetProblem)
        else ElasticNetProblem(X, np.asarray(target), n_classes, standardize=standardize, device=device)
    )
    l1s = [float(v) for v in l1s]
    l2v = [float(l2s)] * len(l1s) if np.ndim(l2s) == 0 else [float(v) for v in l2s]  # type: ignore[arg-type]
    if len(l2v) != len(l1s):
        raise ValueError(f"{len(l1s)} l1 values but {len(l2v)} l2 values")
    order = path_order(l1s, l2v)
    results: list[SolverResult | None] = [None] * len(l1s)
    coef = intercept = None
    step: float | None = None
    for i in order:
        res = problem.solve(l1s[i], l2v[i], coef, intercept, tol=tol, max_iter=max_iter, step=step)
        results[i] = res
        coef, intercept = res.coef, res.intercept
        step = problem._last_step
    return [r for r in results if r is not None]


def choose_on_held_out(results: Sequence[SolverResult], X: np.ndarray, target: np.ndarray) -> tuple[int, np.ndarray]:
    """The fit of a path with the best accuracy on held-out tokens, and every fit's accuracy.

    Ties go to the most penalised fit (the largest l1 + l2: the sparsest, the one that relies on
    lambda rather than luck). ``X`` holds raw activations, ``target`` class indices.
    """
    X = np.asarray(X, dtype=np.float64)
    target = np.asarray(target).reshape(-1)
    acc = np.array([float(((X @ r.coef.T + r.intercept).argmax(axis=1) == target).mean()) for r in results])
    best = max(range(len(results)), key=lambda i: (acc[i], results[i].l1 + results[i].l2))
    return best, acc
