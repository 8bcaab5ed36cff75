"""Many elastic-net probes fitted at once on the same activations, each as if it were fitted alone.

Probe ablation retrains a probe per kept-neuron selection, the control task and
the lambda grid fit further probes on the same data: dozens of small fits that,
one after another, spend their time in per-step overhead. :func:`fit_probes`
fits them together. Probes whose random stream is the same (same seed, width
and number of classes, hence the same initial weights and batch order as
:meth:`ElasticNetProbe.fit`) form a group. Per mini-batch a group runs its
products together: probes that keep the same columns (the lambda grid; a layer's
selected, paper-lambda and control probes) share one wide product of those
columns of the batch with their weights side by side, and probes that keep
columns of their own (ablation's selections) gather them into one batched matrix
product. Then every probe takes its own gradient step: its own
labels, penalty (l1, l2) and Adam state, stacked as (probes × neurons × classes)
tensors. Gradients are written out (softmax minus one-hot, sign, w/||w||) and
Adam is applied as torch's does, so that a probe comes out as its solo fit does,
up to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from neurosieve.analysis.probe import ElasticNetProbe, activation_matrix, column_moments
from neurosieve.analysis.solver import ElasticNetProblem, flushed_denormals, path_order
from neurosieve.store.corpus import label_codes

_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults, which ElasticNetProbe.fit uses
_CHUNK_BYTES = 8 << 20  # the gathered batch of a chunk of probes (see _fit_group): about a core's share of cache


def _cosine_lrs(lr: float, total: int) -> list[float]:
    """The learning rate of each step under ``CosineAnnealingLR(T_max=total)``, as ElasticNetProbe.fit steps it.

    torch's recursive form with ``eta_min = 0``, evaluated in the same float
    operations (so the same values to the last bit; a test checks against the
    scheduler itself), without building an optimizer: the first one a process
    builds imports torch's compiler stack, seconds of every probe job.
    """
    out = [float(lr)]
    for t in range(1, total):
        out.append((1 + math.cos(math.pi * t / total)) / (1 + math.cos(math.pi * (t - 1) / total)) * out[-1])
    return out[:total]


def _fit_group(
    xt: torch.Tensor,
    targets: torch.Tensor,
    kept: torch.Tensor,
    n_classes: int,
    l1: torch.Tensor,
    l2: torch.Tensor,
    template: ElasticNetProbe,
    moments: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Fit P probes sharing seed, width k and class count: weights (P × k × C), biases (P × C), loss curves (P × epochs).

    ``targets`` is (P × tokens) class indices, ``kept`` (P × k) neuron indices.
    With ``moments`` (each neuron's mean and standard deviation, for the columns of ``xt``) the activations are
    standardised, each batch as it is drawn, and the penalty applies to the raw-space weights ``w / sd``,
    as :meth:`ElasticNetProbe.fit` does with ``standardize``.
    """
    dev = xt.device
    n = xt.shape[0]
    p, k = kept.shape
    seed = 0 if template.random_state is None else int(template.random_state)
    gen = torch.Generator().manual_seed(seed)
    # The same draws as ElasticNetProbe.fit: one initial weight matrix, then one permutation per epoch.
    w0 = torch.randn(k, n_classes, generator=gen) * (0.01 / np.sqrt(max(k, 1)))
    w = w0.expand(p, k, n_classes).contiguous().to(dev)
    b = torch.zeros(p, n_classes, device=dev)
    batch = int(template.batch_size)
    epochs, steps = template.training_steps(n)
    lrs = _cosine_lrs(float(template.lr), epochs * steps)
    m_w, v_w, m_b, v_b = torch.zeros_like(w), torch.zeros_like(w), torch.zeros_like(b), torch.zeros_like(b)
    l1 = l1.to(dev).view(p, 1, 1)
    l2 = l2.to(dev).view(p, 1, 1)
    use_l1, use_l2 = bool((l1 != 0).any()), bool((l2 != 0).any())
    kept_flat = kept.reshape(-1)
    mu, sd = (None, None) if moments is None else (moments[0].to(dev), moments[1].to(dev))
    scale = None if sd is None else (1.0 / sd).index_select(0, kept_flat).view(p, k, 1)  # raw = w * scale
    l1_scale = l1 if scale is None else l1 * scale  # (P × k × 1), or (P × 1 × 1) unstandardised
    used = torch.unique(kept_flat)
    if 2 * len(used) <= xt.shape[1]:
        # Narrow selections (ablation's small k, the top-10% retrains): copy their columns once, so that each
        # step gathers the batch's rows from a matrix of those columns only.
        xt = xt.index_select(1, used)
        if moments is not None:
            mu, sd = mu.index_select(0, used), sd.index_select(0, used)
        kept = torch.searchsorted(used, kept)
        kept_flat = kept.reshape(-1)
    sets = _column_sets(kept)
    # Probes whose gathered batch fits in about _CHUNK_BYTES go through a step together, so that the gathered
    # columns are still in cache for the second product (at k = 576 of 768 this halves a CPU step); one chunk on
    # a GPU, where a kernel launch costs more than the memory traffic it saves.
    chunk = p if dev.type != "cpu" else max(1, _CHUNK_BYTES // max(1, 4 * k * batch))
    minus_one = torch.full((p, batch, 1), -1.0, device=dev)
    curves = torch.zeros(p, epochs, dtype=torch.float64, device=dev)
    t = 0
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen).to(dev)
        for s in range(steps):
            idx = perm[s * batch : (s + 1) * batch]
            nb = len(idx)
            yb = targets.index_select(1, idx).unsqueeze(2)  # (P × B × 1)
            xb = xt.index_select(0, idx).float()  # (B × D): the batch's tokens, float32 (float16 storage widened)
            if moments is not None:
                # Standardised as drawn: the same values, to the bit, as standardising the whole matrix first,
                # without a second (tokens × neurons) copy of it.
                xb.sub_(mu).div_(sd)
            if sets is None:
                xbt = xb.t().contiguous()  # (D × B): neuron-major
                grad_w, grad_b, loss = torch.empty_like(w), torch.empty_like(b), torch.empty(p, device=dev)
                for lo in range(0, p, chunk):
                    hi = min(p, lo + chunk)
                    # (chunk × k × B): these probes' kept neurons of the batch, gathered once for both products
                    xg = xbt.index_select(0, kept_flat[lo * k : hi * k]).view(hi - lo, k, nb)
                    z = torch.baddbmm(b[lo:hi].unsqueeze(1), xg.transpose(1, 2), w[lo:hi])  # (chunk × B × C)
                    loss[lo:hi], g = _cross_entropy(z, yb[lo:hi], minus_one[lo:hi, :nb])
                    torch.bmm(xg, g, out=grad_w[lo:hi])
                    torch.sum(g, 1, out=grad_b[lo:hi])
            else:
                parts = [(members, xb[:, cols]) for members, cols in sets]  # each column set's (B × k) block, once
                loss, g = _cross_entropy(_shared_logits(parts, w, b), yb, minus_one[:, :nb])
                grad_w = _shared_weight_grads(parts, g, w.shape)  # (P × k × C)
                grad_b = g.sum(1)
            # The penalties on the raw-space weights w * scale, in six passes over the (P × k × C) weights (the
            # per-(probe, neuron) factors l1 * scale and scale * l2 / ||raw|| are (P × k × 1)).
            raw = w if scale is None else w * scale
            if use_l1:
                grad_w.addcmul_(torch.sign(w), l1_scale)  # d l1|raw|_1 / dw = l1 * scale * sign(w)
                loss = loss + l1.view(p) * torch.linalg.vector_norm(raw, ord=1, dim=(1, 2))
            if use_l2:
                norm = torch.linalg.vector_norm(raw, dim=(1, 2)).view(p, 1, 1)
                # d l2||raw|| / dw = l2 * scale * raw / ||raw|| (0 where the norm is 0)
                factor = l2 / norm.clamp_min(torch.finfo(w.dtype).tiny)
                grad_w.addcmul_(raw, factor if scale is None else scale * factor)
                loss = loss + l2.view(p) * norm.view(p)
            curves[:, epoch] += loss.double() * nb
            t += 1
            _adam_step(w, grad_w, m_w, v_w, t, lrs[t - 1])
            _adam_step(b, grad_b, m_b, v_b, t, lrs[t - 1])
    return w, b, (curves / n).cpu().numpy()


def _cross_entropy(z: torch.Tensor, yb: torch.Tensor, minus_one: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each probe's mean cross-entropy over the batch and its gradient in the logits (softmax minus one-hot, / B),
    from the (P × B × C) logits ``z`` and the (P × B × 1) class indices ``yb``."""
    nb = z.shape[1]
    top = z.amax(2, keepdim=True)
    e = (z - top).exp_()  # one pass of exp serves the loss and its gradient
    total = e.sum(2, keepdim=True)
    loss = (total.log() + top - z.gather(2, yb)).squeeze(2).mean(1)  # (P,) mean cross-entropy
    return loss, e.div_(total).scatter_add_(2, yb, minus_one).div_(nb)


def _column_sets(kept: torch.Tensor) -> list[tuple[torch.Tensor, slice | torch.Tensor]] | None:
    """Probes that keep the same columns, as (member indices, columns: a slice when contiguous); None when none share.

    Probes sharing their columns (the lambda grid, the selected, paper-default and
    control probes of a layer) need no copy of the batch per probe: one wide
    product over their stacked weights serves them all.
    """
    p, k = kept.shape
    if k == 0 or p < 2:
        return None
    distinct, inverse = torch.unique(kept, dim=0, return_inverse=True)
    if len(distinct) == p:
        return None
    out: list[tuple[torch.Tensor, slice | torch.Tensor]] = []
    for u, cols in enumerate(distinct):
        first = int(cols[0])
        contiguous = bool(torch.equal(cols, torch.arange(first, first + k, device=cols.device)))
        out.append((torch.nonzero(inverse == u).flatten(), slice(first, first + k) if contiguous else cols))
    return out


def _shared_logits(parts: list[tuple[torch.Tensor, torch.Tensor]], w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(P × B × C) logits: per column set, its (B × k) block times its members' weights side by side, one product."""
    p, k, c = w.shape
    nb = parts[0][1].shape[0]
    z = torch.empty(p, nb, c, device=w.device)
    for members, xu in parts:
        wu = w.index_select(0, members).permute(1, 0, 2).reshape(k, len(members) * c)  # (k × m·C)
        z.index_copy_(0, members, (xu @ wu).view(nb, len(members), c).transpose(0, 1))
    return z.add_(b.unsqueeze(1))


def _shared_weight_grads(
    parts: list[tuple[torch.Tensor, torch.Tensor]], g: torch.Tensor, shape: torch.Size
) -> torch.Tensor:
    """(P × k × C) weight gradients from the logit gradients ``g`` (P × B × C), one product per column set."""
    p, k, c = shape
    nb = g.shape[1]
    grad = torch.empty(p, k, c, device=g.device)
    for members, xu in parts:
        gu = g.index_select(0, members).transpose(0, 1).reshape(nb, len(members) * c)  # (B × m·C)
        grad.index_copy_(0, members, (xu.t() @ gu).view(k, len(members), c).transpose(0, 1))
    return grad


def _kept_columns(blocks: Sequence[np.ndarray], used: np.ndarray) -> np.ndarray:
    """Columns ``used`` of the blocks side by side, as ``np.concatenate(blocks, axis=1)[:, used]`` gives them
    (values and column-major layout, so their moments are summed alike) without concatenating the blocks."""
    out = np.empty((len(blocks[0]), len(used)), dtype=np.result_type(*blocks), order="F")
    lo = 0
    for b in blocks:
        inside = (used >= lo) & (used < lo + b.shape[1])
        out[:, inside] = b[:, used[inside] - lo]
        lo += b.shape[1]
    return out


def _solve_probes(
    blocks: Sequence[np.ndarray],
    mu: np.ndarray,
    sd: np.ndarray,
    sel: Sequence[np.ndarray],
    encoded: Sequence[tuple[np.ndarray, np.ndarray]],
    probes: Sequence[ElasticNetProbe],
    members: Sequence[int],
    start: Sequence[tuple[np.ndarray, np.ndarray] | None],
    path: bool,
    progress: Callable[[Any], Any] | None,
) -> None:
    """Fit the ``solver="fista"`` probes ``members`` in place (see :func:`fit_probes`): one prepared problem per
    (columns, standardisation, device), retargeted per label set; with ``path``, warm-started down each path."""
    n = len(blocks[0])
    problems: dict[tuple[bytes, bool, str], ElasticNetProblem] = {}

    def problem_of(i: int) -> ElasticNetProblem:
        pr, s = probes[i], sel[i]
        standardize = bool(pr.standardize and n)
        key = (s.tobytes(), standardize, str(pr.device))
        if key not in problems:
            cols = blocks[0] if len(blocks) == 1 and np.array_equal(s, np.arange(blocks[0].shape[1])) else None
            problems[key] = ElasticNetProblem(
                _kept_columns(blocks, s) if cols is None else cols,
                encoded[i][1],
                len(encoded[i][0]),
                standardize=standardize,
                device=str(pr.device),
                mu=mu[s] if standardize else None,
                sd=sd[s] if standardize else None,
            )
        return problems[key].retarget(encoded[i][1], len(encoded[i][0]))

    def path_key(i: int) -> tuple[bytes, int]:
        return sel[i].tobytes(), id(encoded[i])  # a path: the same columns and labels

    order = list(members)
    if path:
        # Paths in first-seen order, each from the largest penalty down.
        paths: dict[tuple[bytes, int], list[int]] = {}
        for i in members:
            paths.setdefault(path_key(i), []).append(i)
        order = [
            ms[j] for ms in paths.values() for j in path_order([probes[k].l1 for k in ms], [probes[k].l2 for k in ms])
        ]
    previous: dict[tuple[bytes, int], tuple[np.ndarray, np.ndarray]] = {}
    for i in progress(order) if progress else order:
        pk = path_key(i)
        begin = start[i] if start[i] is not None else (previous.get(pk) if path else None)
        pr = probes[i].solve_on(problem_of(i), encoded[i][0], begin)
        previous[pk] = (pr.coef_.astype(np.float64), pr.intercept_.astype(np.float64))


def _design_matrix(blocks: Sequence[np.ndarray], dev: torch.device) -> torch.Tensor:
    """The (tokens × neurons) matrix the Adam probes draw their batches from: the blocks side by side, raw (each
    batch is standardised as it is drawn); no copy for one block on the CPU."""
    return torch.from_numpy(blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)).to(dev)


def _adam_step(param: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step: int, lr: float) -> None:
    """One step of torch.optim.Adam (single-tensor path, no weight decay) on a stack of probes' parameters."""
    m.lerp_(grad, 1 - _BETA1)
    v.mul_(_BETA2).addcmul_(grad, grad, value=1 - _BETA2)
    bias1 = 1 - _BETA1**step
    bias2_sqrt = math.sqrt(1 - _BETA2**step)
    denom = (v.sqrt() / bias2_sqrt).add_(_EPS)
    param.addcdiv_(m, denom, value=-lr / bias1)


def fit_probes(
    X: np.ndarray | Sequence[np.ndarray],
    y: Sequence[Any] | Sequence[Sequence[Any]],
    probes: Sequence[ElasticNetProbe],
    kept: Sequence[np.ndarray | None] | None = None,
    progress: Callable[[Any], Any] | None = None,
    *,
    start: Sequence[tuple[np.ndarray, np.ndarray] | None] | None = None,
    path: bool = False,
) -> list[ElasticNetProbe]:
    """Fit every probe on ``X[:, kept[i]]`` and its labels at once; returns the probes, fitted.

    Equivalent to ``probes[i].fit(X[:, kept[i]], y_i)`` for each i (same seed,
    same initial weights and batch order, own l1/l2 and Adam state), up to float
    rounding. ``y`` is one label per token shared by all probes, or one such
    sequence per probe; ``kept[i]`` None means every neuron. Probes may differ in
    l1, l2, random_state, kept width and labels; ``epochs``, ``min_steps``,
    ``batch_size``, ``lr``, ``standardize`` and ``device`` may differ too (they split the probes into groups).
    ``warm_start`` is not supported. ``X`` may be given as column blocks (arrays of
    the same tokens): they are read as one matrix, side by side, without a copy of it.

    Probes with ``solver="fista"`` are solved one after another (:meth:`ElasticNetProbe.solve_on`,
    each as its solo fit up to the solver's tolerance), sharing the moments and one standardised
    copy per distinct column selection. For them, ``start[i]`` (raw-space weights and biases of
    probe i's kept neurons, or None) warm-starts a fit (ablation's retrains start from the full
    probe's weights of the neurons they keep), and ``path=True`` fits the probes that share
    columns and labels from the largest penalty down, each warm-started from the one before
    (a glmnet-style lambda path). Adam probes take neither.
    """
    blocks = [activation_matrix(b) for b in (X if isinstance(X, (list, tuple)) else [X])]
    if not blocks or any(b.ndim != 2 or len(b) != len(blocks[0]) for b in blocks):
        raise ValueError(
            f"X must be a (tokens × neurons) matrix or column blocks of the same tokens, got shapes {[b.shape for b in blocks]}"
        )
    n, d = len(blocks[0]), sum(b.shape[1] for b in blocks)
    kept = [None] * len(probes) if kept is None else list(kept)
    per_probe = len(y) > 0 and np.ndim(y[0]) == 1
    if per_probe and len(y) != len(probes):
        raise ValueError(f"{len(probes)} probes but {len(y)} label sequences")
    if len(kept) != len(probes):
        raise ValueError(f"{len(probes)} probes but {len(kept)} kept-neuron selections")
    labels = [np.asarray(y[i] if per_probe else y) for i in range(len(probes))]
    encoded: list[tuple[np.ndarray, np.ndarray]] = []
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i, lab in enumerate(labels):
        if len(lab) != n:
            raise ValueError(f"probe {i}: {len(lab)} labels for {n} tokens")
        key = id(y[i] if per_probe else y)
        if key not in cache:
            cache[key] = label_codes(lab)
        encoded.append(cache[key])
    sel = [np.arange(d) if k is None else np.asarray(k, dtype=np.int64).reshape(-1) for k in kept]
    for i, s in enumerate(sel):
        if len(s) and (s.min() < 0 or s.max() >= d):
            raise ValueError(f"probe {i}: kept neurons outside 0..{d - 1}")
        if probes[i].warm_start:
            raise ValueError(f"probe {i}: warm_start is not supported when fitting probes together")
    start = [None] * len(probes) if start is None else list(start)
    if len(start) != len(probes):
        raise ValueError(f"{len(probes)} probes but {len(start)} starting points")
    for i, pr in enumerate(probes):
        if pr.solver not in ("adam", "fista"):
            raise ValueError(f"probe {i}: solver must be 'adam' or 'fista', got {pr.solver!r}")
        if pr.solver == "adam" and start[i] is not None:
            raise ValueError(f"probe {i}: starting points are for solver='fista' probes")
    groups: dict[tuple[Any, ...], list[int]] = {}
    solved = [i for i, pr in enumerate(probes) if pr.solver == "fista"]
    for i, pr in enumerate(probes):
        if pr.solver == "fista":
            continue
        seed = 0 if pr.random_state is None else int(pr.random_state)
        groups.setdefault(
            (
                seed,
                len(sel[i]),
                len(encoded[i][0]),
                int(pr.epochs),
                int(pr.min_steps),
                int(pr.batch_size),
                float(pr.lr),
                bool(pr.standardize and n),
                str(pr.device),
            ),
            [],
        ).append(i)
    used = np.unique(np.concatenate(sel)) if sel else np.arange(0)
    if len(used) < d:
        # Only the columns some probe keeps are read (the top-10% retrains keep a tenth of the layer).
        blocks = [_kept_columns(blocks, used)]
        sel = [np.searchsorted(used, s) for s in sel]
    elif len(blocks) > 1 and min(b.shape[1] for b in blocks) < 2:
        # NumPy sums a lone column pairwise, not row by row as the matrix's columns: one block, the matrix's moments.
        blocks = [np.concatenate(blocks, axis=1)]
    # Standardisation is per neuron, so every probe's kept columns share the whole matrix's means and deviations.
    moments = [column_moments(b) for b in blocks]
    mu = np.concatenate([m for m, _ in moments])
    sd = np.concatenate([s for _, s in moments])
    sd[sd < 1e-8] = 1.0
    if solved:
        _solve_probes(blocks, mu, sd, sel, encoded, probes, solved, start, path, progress)
    xts: dict[str, torch.Tensor] = {}
    items = list(groups.items())
    for key, members in progress(items) if progress else items:
        dev, standardize = key[-1], key[-2]
        if dev not in xts:
            xts[dev] = _design_matrix(blocks, torch.device(dev))
        xt = xts[dev]
        moments_t = (torch.from_numpy(mu), torch.from_numpy(sd)) if standardize else None
        targets = torch.from_numpy(np.stack([encoded[i][1].reshape(-1) for i in members]).astype(np.int64)).to(
            xt.device
        )
        k_idx = torch.from_numpy(np.stack([sel[i] for i in members]).reshape(len(members), -1)).to(xt.device)
        l1 = torch.tensor([float(probes[i].l1) for i in members])
        l2 = torch.tensor([float(probes[i].l2) for i in members])
        with flushed_denormals():
            w, b, curves = _fit_group(xt, targets, k_idx, key[2], l1, l2, probes[members[0]], moments_t)
        for j, i in enumerate(members):
            pr = probes[i]
            pr.classes_ = encoded[i][0]
            # Back to the raw activations' weights, as ElasticNetProbe.fit does.
            m, s = (
                (mu[sel[i]], sd[sel[i]])
                if standardize
                else (np.zeros(len(sel[i]), np.float32), np.ones(len(sel[i]), np.float32))
            )
            coef = (w[j].detach().cpu().numpy() / s[:, None]).T
            pr.coef_ = np.ascontiguousarray(coef, dtype=np.float32)
            pr.intercept_ = (b[j].detach().cpu().numpy() - m @ coef.T).astype(np.float32)
            pr.n_features_in_ = len(sel[i])
            pr.loss_curve_ = curves[j].tolist()
    return list(probes)
