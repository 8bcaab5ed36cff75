"""Cross-model correlation analysis (CCA): how strongly each neuron's function recurs in other instances.

Notation (docs/methods.md): instance i of N, neuron j, activations over the same T
tokens; r is Pearson correlation over those tokens. For every ordered pair of
instances (i, i'), s_i'(i, j) = max_j' |r(M_ij, M_i'j')| is the presence of
neuron (i, j)'s function in i'. Then

* MaxCorr     = max over i' of s_i'     (Dalvi et al. 2019; Bau et al. 2019)
* MeanMaxCorr = mean over i' of s_i'    (a proposal, see docs/methods.md)
* MinCorr     = min over i' of s_i'     (Bau et al. 2019)
* LinReg      = min over i' of R^2 of the least-squares prediction of neuron
  (i, j) from the whole layer of i' (Bau et al.'s "rank by the worst
  instance's error", as a score where higher is more important)

The ``_signed`` variants replace |r| by r (the best positively correlated
partner). Each ranking is an entry of the registry
(:data:`neurosieve.core.registry.RANKINGS`, source ``correlation``) plus its
function in :data:`CORRELATION_RANKING_FUNCTIONS`; the score tables are built
by calling the function of every one (:func:`correlation_rankings`).

All correlations come from one blocked matrix product per pair of
instances over z-scored activations (Z_a Z_b^T / T); each pair is computed once
and read along both axes. A constant (dead) neuron has no correlation: it gets
score 0, a ``dead`` flag and the last ranks, never a NaN.

With a ``device`` (e.g. ``"cuda"``) the standardised activations live on that
torch device and the products and per-block maxima run there; only per-neuron
results (and LinReg's correlation matrices) come back. ``device=None`` is the
NumPy path; both give the same numbers to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from neurosieve.core import registry
from neurosieve.core.registry import CORRELATION_RANKINGS

METHODS = CORRELATION_RANKINGS  # the correlation rankings of the registry, in its order (at import)

#: Correlation rankings that need every instance's whole layer, not only each neuron's best partners: the
#: in-memory path computes them when asked (``linreg=True``), the streaming whole-model path never. The
#: others are functions of the best-partner scores and have a ``_signed`` variant (the same function of
#: the best signed r).
FULL_LAYER_RANKINGS: frozenset[str] = frozenset({"linreg"})


def correlation_rankings(full_layer: bool = True) -> tuple[str, ...]:
    """The registry's correlation rankings in its order, read when called; without :data:`FULL_LAYER_RANKINGS`
    unless ``full_layer``."""
    return tuple(m for m in registry.CORRELATION_RANKINGS if full_layer or m not in FULL_LAYER_RANKINGS)


@dataclass
class Standardized:
    """z-scored activations (tokens × neurons, float32; a NumPy array or a torch tensor) and the dead-neuron mask."""

    z: Any
    dead: np.ndarray

    @property
    def tokens(self) -> int:
        return self.z.shape[0]


def standardize(
    x: np.ndarray, dtype: type = np.float32, rtol: float = 1e-6, copy: bool = True, device: str | None = None
) -> Standardized:
    """z-score each column of a (tokens × neurons) array over tokens; constant columns are dead and set to 0.

    Means and variances accumulate in float64; a column is constant when its
    standard deviation is at most ``rtol`` times max(|mean|, 1). With
    ``copy=False`` a writable array of the right dtype is standardised in place.
    With a torch ``device`` the result is a tensor on it, computed there.
    """
    if device is not None:
        return _standardize_torch(x, dtype, rtol, device)
    x = np.asarray(x, dtype=dtype)
    mean = x.mean(axis=0, dtype=np.float64)
    if copy or not x.flags.writeable:
        z = x - mean.astype(dtype)
    else:
        z = np.subtract(x, mean.astype(dtype), out=x)
    std = np.sqrt(np.einsum("ij,ij->j", z, z, dtype=np.float64) / max(len(x), 1))
    dead = std <= rtol * np.maximum(np.abs(mean), 1.0)
    z /= np.where(dead, 1.0, std).astype(dtype)
    if dead.any():
        z[:, dead] = 0.0
    return Standardized(z, dead)


def _standardize_torch(x: np.ndarray, dtype: type, rtol: float, device: str) -> Standardized:
    """:func:`standardize` in torch on ``device`` (same steps, same float64 accumulation)."""
    import torch

    t = torch.as_tensor(np.asarray(x, dtype=dtype)).to(device)
    mean = t.mean(0, dtype=torch.float64)
    z = t - mean.to(t.dtype)
    std = torch.sqrt((z * z).sum(0, dtype=torch.float64) / max(len(t), 1))
    dead = std <= rtol * torch.clamp(mean.abs(), min=1.0)
    z /= torch.where(dead, 1.0, std).to(z.dtype)
    z[:, dead] = 0.0
    return Standardized(z, dead.cpu().numpy())


def _numpy(a: Any) -> np.ndarray:
    """A NumPy array from a NumPy array or a torch tensor (on any device)."""
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()


def _block_maxima(c: Any, axis: int) -> tuple[np.ndarray, ...]:
    """Along ``axis`` of a correlation block: max |r|, its index, the signed r there, max r, its index (as NumPy arrays)."""
    if isinstance(c, np.ndarray):
        a = np.abs(c)
        j = a.argmax(axis=axis)
        r = np.take_along_axis(c, np.expand_dims(j, axis), axis).squeeze(axis)
        js = c.argmax(axis=axis)
        return (
            np.take_along_axis(a, np.expand_dims(j, axis), axis).squeeze(axis),
            j,
            r,
            np.take_along_axis(c, np.expand_dims(js, axis), axis).squeeze(axis),
            js,
        )
    v, j = c.abs().max(dim=axis)
    r = c.gather(axis, j.unsqueeze(axis)).squeeze(axis)
    vs, js = c.max(dim=axis)
    return tuple(_numpy(t) for t in (v, j, r, vs, js))


@dataclass
class PairMax:
    """For each neuron of instance a, its best partner in instance b (by |r| and by signed r)."""

    best_abs: np.ndarray
    best_abs_neuron: np.ndarray
    best_abs_r: np.ndarray  # the signed r of the |r|-best partner
    best_signed: np.ndarray
    best_signed_neuron: np.ndarray


def _empty(n: int) -> PairMax:
    return PairMax(np.full(n, -np.inf), np.zeros(n, np.int64), np.zeros(n), np.full(n, -np.inf), np.zeros(n, np.int64))


def _update(acc: PairMax, sl: slice, c: Any, offset: int = 0, axis: int = 1) -> None:
    """Fold a block of correlations into ``acc``: acc's neurons in ``sl`` along the block's other axis than
    ``axis``, their partners (from ``offset`` on) along ``axis``."""
    v, j, r, vs, js = _block_maxima(c, axis)
    better = v > acc.best_abs[sl]
    idx = np.arange(acc.best_abs.shape[0])[sl][better]
    acc.best_abs[idx] = v[better]
    acc.best_abs_neuron[idx] = j[better] + offset
    acc.best_abs_r[idx] = r[better]
    better = vs > acc.best_signed[sl]
    idx = np.arange(acc.best_signed.shape[0])[sl][better]
    acc.best_signed[idx] = vs[better]
    acc.best_signed_neuron[idx] = js[better] + offset


def pair_maxima(
    a: Standardized, b: Standardized, block: int = 1024, keep: bool = False
) -> tuple[PairMax, PairMax, np.ndarray | None]:
    """Best partners of a's neurons in b and of b's neurons in a, from one blocked pass over Z_a^T Z_b / T.

    Memory beyond the inputs is one (block × D_b) correlation block, unless
    ``keep`` asks for the whole (D_a × D_b) correlation matrix back (LinReg reuses it).
    """
    if a.tokens != b.tokens:
        raise ValueError(f"instances cover different tokens: {a.tokens} vs {b.tokens}")
    da, db = a.z.shape[1], b.z.shape[1]
    fa, fb = _empty(da), _empty(db)
    full = np.empty((da, db), dtype=np.float32) if keep else None
    t = a.tokens
    for start in range(0, da, block):
        sl = slice(start, min(start + block, da))
        c = (a.z[:, sl].T @ b.z) / t
        if full is not None:
            full[sl] = _numpy(c)
        _update(fa, sl, c)
        _update(fb, slice(None), c, offset=start, axis=0)  # the same block read along b's axis
    return fa, fb, full


def gram(x: Standardized) -> np.ndarray:
    """An instance's correlation matrix with itself (Z^T Z / T), float64."""
    return _numpy(x.z.T @ x.z).astype(np.float64) / x.tokens


def linreg_r2(
    target: Standardized,
    predictors: Standardized,
    ridge: float = 1e-6,
    cross: np.ndarray | None = None,
    predictor_gram: np.ndarray | None = None,
) -> np.ndarray:
    """R^2 of predicting each neuron of ``target`` from all neurons of ``predictors`` by least squares.

    With z-scored data the normal equations use correlation matrices only:
    W = (C_pp + ridge I)^-1 C_pt and R^2_j = c_j . w_j. ``cross`` (C_pt) and
    ``predictor_gram`` (C_pp) may be passed in when already computed. A tiny
    ridge keeps dead predictors (all-zero columns) from making the system singular.
    """
    g = gram(predictors) if predictor_gram is None else predictor_gram.copy()
    g[np.diag_indices_from(g)] += ridge
    c = (
        _numpy(predictors.z.T @ target.z).astype(np.float64) / target.tokens
        if cross is None
        else np.asarray(cross, np.float64)
    )
    w = np.linalg.solve(g, c)
    r2 = np.einsum("pj,pj->j", c, w)
    r2[target.dead] = 0.0
    return np.clip(r2, 0.0, 1.0)


@dataclass
class WholeLayers:
    """What :data:`FULL_LAYER_RANKINGS` read: each instance's standardised layer and, per ordered pair (b, a), the
    (b's neurons × a's neurons) correlation matrix; each instance's Gram matrix is computed once, when first asked."""

    std: Mapping[str, Standardized]
    cross: Mapping[tuple[str, str], np.ndarray]
    grams: dict[str, np.ndarray] = field(default_factory=dict)

    def gram(self, instance: str) -> np.ndarray:
        if instance not in self.grams:
            self.grams[instance] = gram(self.std[instance])
        return self.grams[instance]


@dataclass(frozen=True)
class CorrelationRankingInputs:
    """What a correlation ranking scores one instance's neurons from.

    ``best`` holds a row per instance of ``others`` (in that order): each neuron's best partner's |r| in it
    (its signed r, for a ranking's ``_signed`` variant), 0 for dead neurons. ``layers`` is there for
    :data:`FULL_LAYER_RANKINGS` only (None where they are not computed).
    """

    instance: str
    others: tuple[str, ...]
    dead: np.ndarray
    best: np.ndarray
    layers: WholeLayers | None = None


def _maxcorr(x: CorrelationRankingInputs) -> np.ndarray:
    return x.best.max(axis=0)


def _meanmaxcorr(x: CorrelationRankingInputs) -> np.ndarray:
    return x.best.mean(axis=0)


def _mincorr(x: CorrelationRankingInputs) -> np.ndarray:
    return x.best.min(axis=0)


def _linreg(x: CorrelationRankingInputs) -> np.ndarray:
    if x.layers is None:
        raise ValueError("linreg needs the whole layers (CorrelationRankingInputs.layers)")
    target, layers = x.layers.std[x.instance], x.layers
    r2 = [
        linreg_r2(target, layers.std[b], cross=layers.cross[b, x.instance], predictor_gram=layers.gram(b))
        for b in x.others
    ]
    return np.min(r2, axis=0)


#: How each correlation ranking of the registry (:data:`neurosieve.core.registry.RANKINGS`, source
#: ``correlation``) scores an instance's neurons, higher more important (dead neurons are ranked last whatever
#: their score). A new correlation ranking is one registry entry plus one function here (and its name in
#: :data:`FULL_LAYER_RANKINGS` when it reads :attr:`CorrelationRankingInputs.layers`).
CORRELATION_RANKING_FUNCTIONS: dict[str, Callable[[CorrelationRankingInputs], np.ndarray]] = {
    "maxcorr": _maxcorr,
    "meanmaxcorr": _meanmaxcorr,
    "mincorr": _mincorr,
    "linreg": _linreg,
}


def ranking_columns(
    on_abs: CorrelationRankingInputs, on_signed: CorrelationRankingInputs
) -> tuple[dict[str, np.ndarray], list[str]]:
    """An instance's score columns from every correlation ranking of the registry, and the columns to rank.

    Column order: the best-partner rankings (registry order), their ``_signed`` variants (from ``on_signed``),
    then :data:`FULL_LAYER_RANKINGS` when ``on_abs.layers`` is given (else they are left out). Ranked: the
    rankings in registry order, then the signed variants.
    """
    rankings = correlation_rankings(full_layer=on_abs.layers is not None)
    missing = [m for m in rankings if m not in CORRELATION_RANKING_FUNCTIONS]
    if missing:
        raise KeyError(
            f"correlation rankings {missing} of the registry have no function in CORRELATION_RANKING_FUNCTIONS"
        )
    pair = [m for m in rankings if m not in FULL_LAYER_RANKINGS]
    columns = {m: CORRELATION_RANKING_FUNCTIONS[m](on_abs) for m in pair}
    columns.update({f"{m}_signed": CORRELATION_RANKING_FUNCTIONS[m](on_signed) for m in pair})
    columns.update({m: CORRELATION_RANKING_FUNCTIONS[m](on_abs) for m in rankings if m in FULL_LAYER_RANKINGS})
    return columns, [*rankings, *(f"{m}_signed" for m in pair)]


def rank_desc(score: np.ndarray, dead: np.ndarray, decimals: int = 6) -> np.ndarray:
    """1-based ranks, highest score first; dead neurons last; ties broken by neuron index.

    Scores are compared at ``decimals`` places: float32 correlations carry no
    meaning below that, and noise must not order tied neurons.
    """
    key = np.where(dead, -np.inf, np.round(score, decimals))
    order = np.lexsort((np.arange(len(score)), -key))
    ranks = np.empty(len(score), np.int64)
    ranks[order] = np.arange(1, len(score) + 1)
    return ranks


@dataclass
class CorrelationResult:
    """Per-neuron scores (one row per instance and neuron) and per-pair best partners (one row per ordered pair and neuron)."""

    scores: pd.DataFrame
    pairs: pd.DataFrame


def correlate_instances(
    activations: Mapping[str, np.ndarray],
    block: int = 1024,
    linreg: bool = True,
    dtype: type = np.float32,
    copy: bool = True,
    device: str | None = None,
) -> CorrelationResult:
    """Score every neuron of every instance by each correlation ranking of the registry (MaxCorr, MeanMaxCorr,
    MinCorr, LinReg).

    ``activations`` maps an instance name to its (tokens × neurons) array for
    one layer; instances may differ in width but must cover the same tokens.
    ``linreg=False`` leaves out :data:`FULL_LAYER_RANKINGS` (LinReg) and the
    correlation matrices they need.
    ``copy=False`` lets the arrays be standardised in place (saves memory).
    ``device`` runs the products on that torch device (see the module notes).
    """
    names = list(activations)
    if len(names) < 2:
        raise ValueError(f"cross-model correlation needs at least two instances, got {names}")
    std = {n: standardize(activations[n], dtype, copy=copy, device=device) for n in names}
    best: dict[tuple[str, str], PairMax] = {}
    cross: dict[tuple[str, str], np.ndarray] = {}
    for ai, a in enumerate(names):
        for b in names[ai + 1 :]:
            best[a, b], best[b, a], c = pair_maxima(std[a], std[b], block, keep=linreg)
            if c is not None:
                cross[a, b], cross[b, a] = c, c.T
    layers = WholeLayers(std, cross) if linreg else None
    return _score_tables(names, best, {n: std[n].dead for n in names}, layers)


def top_k(scores: pd.DataFrame, instance: str, method: str, k: int) -> np.ndarray:
    """The neuron indices of an instance's k best-ranked neurons under a method."""
    s = scores[scores["instance"] == instance]
    return s.nsmallest(k, f"rank_{method}")["neuron"].to_numpy()


def ranking_stability(
    result: CorrelationResult, ks: Sequence[int], methods: Sequence[str] | None = None
) -> pd.DataFrame:
    """How far the top-k neurons agree in function across instances.

    For each method (default: the registry's correlation rankings that the scores hold), k and ordered
    pair (i, i'): the share of i's top-k neurons whose best partner in i' (by |r|) is itself among i''s top-k.
    """
    if methods is None:
        methods = correlation_rankings()
    rows = []
    instances = list(dict.fromkeys(result.scores["instance"]))
    partner = {
        (a, b): g.set_index("neuron")["best_neuron"]
        for (a, b), g in result.pairs.groupby(["instance", "other"], sort=False)
    }
    for m in methods:
        if f"rank_{m}" not in result.scores:
            continue
        tops = {i: {k: top_k(result.scores, i, m, k) for k in ks} for i in instances}
        for a in instances:
            for b in instances:
                if a == b:
                    continue
                for k in ks:
                    partners = partner[a, b].loc[tops[a][k]].to_numpy()
                    rows.append(
                        {
                            "method": m,
                            "k": k,
                            "instance": a,
                            "other": b,
                            "share": float(np.isin(partners, tops[b][k]).mean()),
                        }
                    )
    return pd.DataFrame(rows)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of two score vectors (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def ranking_change(
    before: pd.DataFrame,
    after: pd.DataFrame,
    instances: Sequence[str],
    ks: Sequence[int],
    methods: Sequence[str],
) -> pd.DataFrame:
    """How much each instance's ranking changes between two score tables (one row per method and instance).

    Spearman correlation of the ranks before and after, the overlap of the
    top-k sets, and the mean score before and after.
    """
    rows = []
    for m in methods:
        if f"rank_{m}" not in before or f"rank_{m}" not in after:
            continue
        for inst in instances:
            b = before[before["instance"] == inst].sort_values("neuron")
            a = after[after["instance"] == inst].sort_values("neuron")
            row = {
                "method": m,
                "instance": inst,
                "spearman": spearman(b[f"rank_{m}"].to_numpy(), a[f"rank_{m}"].to_numpy()),
                "mean_score_before": float(b[m].mean()),
                "mean_score_after": float(a[m].mean()),
            }
            for k in ks:
                row[f"top{k}_overlap"] = len(np.intersect1d(top_k(before, inst, m, k), top_k(after, inst, m, k))) / k
            rows.append(row)
    return pd.DataFrame(rows)


def duplicate_experiment(
    activations: Mapping[str, np.ndarray],
    duplicate: str,
    ks: Sequence[int],
    methods: Sequence[str] = ("maxcorr", "meanmaxcorr"),
    block: int = 1024,
    before: pd.DataFrame | None = None,
    device: str | None = None,
    copy: bool = True,
) -> pd.DataFrame:
    """The two-identical-instances case (docs/methods.md): add an exact copy of one instance and compare rankings.

    For each method and original instance: Spearman correlation between its
    rankings before and after the copy is added, and the overlap of its top-k.
    For the copied instance the outcome is fixed by algebra (every MaxCorr
    score becomes 1, MeanMaxCorr a monotone transform), so the informative
    rows are the other instances; every instance is reported. ``before``
    takes scores already computed for ``activations``; ``device`` is
    :func:`correlate_instances`'s; ``copy=False`` standardises the arrays in
    place (an already standardised array is left as it is, so arrays the stage
    has standardised can be passed again without a second copy).
    """
    if duplicate not in activations:
        raise KeyError(f"duplicate instance {duplicate!r} is not one of {list(activations)}")
    if before is None:
        before = correlate_instances(activations, block, linreg=False, device=device).scores
    copy_name = f"{duplicate}-copy"
    after = correlate_instances(
        {**activations, copy_name: activations[duplicate]}, block, linreg=False, copy=copy, device=device
    ).scores
    out = ranking_change(before, after, list(activations), ks, methods)
    out.insert(2, "duplicated", out["instance"] == duplicate)
    return out


def twin_experiment(
    activations: Mapping[str, np.ndarray],
    twin: str,
    twin_activations: np.ndarray,
    twin_of: str,
    ks: Sequence[int],
    methods: Sequence[str] | None = None,
    block: int = 1024,
    before: pd.DataFrame | None = None,
    device: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add a near-twin instance (``twin``, trained like ``twin_of`` but for its data order) and compare rankings.

    Returns the ranking change of every original instance (column
    ``twinned`` marks ``twin_of``) and the scores of the family with the
    twin, whose rankings the with-twin model ablation removes. Unlike the
    exact copy, the outcome is not fixed in advance: the twin is close to its
    partner, not equal. ``methods`` defaults to the registry's correlation
    rankings; the whole-layer ones (LinReg) are computed only when named.
    """
    if twin_of not in activations:
        raise KeyError(f"twin partner {twin_of!r} is not one of {list(activations)}")
    if methods is None:
        methods = correlation_rankings()
    linreg = any(m in FULL_LAYER_RANKINGS for m in methods)
    if before is None:
        before = correlate_instances(activations, block, linreg=linreg, device=device).scores
    after = correlate_instances({**activations, twin: twin_activations}, block, linreg=linreg, device=device).scores
    change = ranking_change(before, after, list(activations), ks, methods)
    change.insert(2, "twinned", change["instance"] == twin_of)
    return change, after


TWIN_BOOTSTRAP_BLOCKS = 40
"""Blocks of consecutive sentences the near-twin's ranking change is resampled over (:func:`twin_change_bootstrap`):
the per-block Gram matrices are what the bootstrap keeps, so their number bounds its memory."""


def sentence_blocks(sentences: np.ndarray, blocks: int) -> np.ndarray:
    """Each token's block: the sentences, in order of first appearance, cut into ``blocks`` runs of consecutive
    sentences of near-equal count (fewer blocks when there are fewer sentences)."""
    _, first, inverse = np.unique(np.asarray(sentences), return_index=True, return_inverse=True)
    order = np.empty(len(first), np.int64)
    order[np.argsort(first, kind="stable")] = np.arange(len(first))  # sentence -> its position in the text
    n = len(first)
    return (order[inverse] * min(blocks, n)) // max(n, 1)


def twin_change_bootstrap(
    activations: Mapping[str, np.ndarray],
    twin: str,
    twin_activations: np.ndarray,
    sentences: np.ndarray,
    methods: Sequence[str],
    blocks: int = TWIN_BOOTSTRAP_BLOCKS,
    resamples: int = 1000,
    seed: int = 0,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """A block bootstrap of :func:`twin_experiment`'s ranking change (each instance's Spearman between its ranks
    without and with the twin), over the sentences the correlations were computed on.

    Recomputing every cross-instance correlation per resample from the tokens would cost a full correlation
    job each time; instead each block of consecutive sentences (:func:`sentence_blocks`) keeps its sums and Gram
    matrix of all instances' z-scored neurons, and a resample draws blocks with replacement and adds theirs up:
    the correlations, best partners, LinReg fits and ranks of both families (without and with the twin) follow
    from that sum exactly as :func:`correlate_instances` computes them. ``weights`` (resamples x blocks) replaces
    the seeded draws (all ones: every block once, the point estimate). Returns, per method and instance of
    ``activations``, the 95 % percentile interval of the Spearman (``spearman_low``, ``spearman_high``) and the
    number of blocks.
    """
    from neurosieve.analysis.verdicts import percentile_interval

    names = [*activations, twin]
    mats = {**activations, twin: twin_activations}
    rows = {len(m) for m in mats.values()}
    if len(rows) != 1 or len(sentences) != rows.pop():
        raise ValueError("every instance, the twin and the sentence ids must cover the same tokens")
    # z-scored as standardize() does, one block at a time (no standardised copy of the whole layers is held)
    moments = {n: Moments.of_block(mats[n]) for n in names}
    deads = {n: moments[n].dead() for n in names}
    cuts = np.cumsum([0, *(mats[n].shape[1] for n in names)])
    cols = {n: slice(int(cuts[i]), int(cuts[i + 1])) for i, n in enumerate(names)}
    dead = np.concatenate([deads[n] for n in names])
    block = sentence_blocks(sentences, blocks)
    g = int(block.max()) + 1
    counts = np.zeros(g)
    sums = np.zeros((g, cuts[-1]))
    grams = np.zeros((g, cuts[-1], cuts[-1]), np.float32)
    for b in range(g):
        rows = block == b
        z = np.concatenate(
            [_standardize_block(np.asarray(mats[n][rows], np.float32), moments[n], deads[n]) for n in names], axis=1
        )
        counts[b], sums[b] = len(z), z.sum(axis=0, dtype=np.float64)
        grams[b] = z.T @ z
    if weights is None:
        weights = np.random.default_rng(seed).multinomial(g, np.full(g, 1.0 / g), size=resamples)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != g:
        raise ValueError(f"weights must be (resamples x {g} blocks), got shape {weights.shape}")
    wanted = [m for m in methods if m in CORRELATION_RANKINGS]
    linreg = any(m in FULL_LAYER_RANKINGS for m in wanted)
    draws: dict[tuple[str, str], list[float]] = {(m, n): [] for m in wanted for n in activations}
    for w in weights:
        tokens = float(w @ counts)
        mean = (w @ sums) / tokens
        cov = np.tensordot(w.astype(np.float32), grams, axes=1).astype(np.float64) / tokens - np.outer(mean, mean)
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        off = dead | (sd <= 1e-6)
        corr = cov / np.outer(np.where(off, 1.0, sd), np.where(off, 1.0, sd))
        corr[off, :] = 0.0
        corr[:, off] = 0.0
        # Best partners of every ordered pair, once: the family without the twin reads the pairs it has.
        best = {(a, b): PairMax(*_block_maxima(corr[cols[a], cols[b]], axis=1)) for a in names for b in names if a != b}
        tables = []
        for family in (list(activations), names):
            layers = None
            if linreg:
                held = {n: Standardized(None, off[cols[n]]) for n in family}
                cross = {(a, b): corr[cols[a], cols[b]] for a in family for b in family if a != b}
                layers = WholeLayers(held, cross, {n: corr[cols[n], cols[n]].copy() for n in family})
            dead_of = {n: off[cols[n]] for n in family}
            tables.append(_score_tables(family, best, dead_of, layers).scores)
        change = ranking_change(tables[0], tables[1], list(activations), [], wanted)
        for r in change.itertuples():
            draws[r.method, r.instance].append(r.spearman)
    out = []
    for (m, n), values in draws.items():
        low, high = percentile_interval(np.asarray(values))
        out.append({"method": m, "instance": n, "spearman_low": low, "spearman_high": high, "blocks": g})
    return pd.DataFrame(out, columns=["method", "instance", "spearman_low", "spearman_high", "blocks"])


def partner_rank_agreement(
    scores: pd.DataFrame, pairs: pd.DataFrame, methods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Agreement of rankings computed on different reference instances, matched through best partners.

    For each method and ordered pair (a, b): the Spearman correlation, over
    a's live neurons, between a neuron's rank in a and its best partner's
    (by |r|) rank in b. 1 means ranking on a or on b orders the same
    functions the same way; 0 means the reference instance decides the ranking.
    ``methods`` defaults to the registry's correlation rankings.
    """
    if methods is None:
        methods = correlation_rankings()
    rows = []
    ranks = {inst: g.set_index("neuron") for inst, g in scores.groupby("instance", sort=False)}
    for (a, b), g in pairs.groupby(["instance", "other"], sort=False):
        g = g[(g["best_neuron"] >= 0) & ~ranks[a].loc[g["neuron"], "dead"].to_numpy()]
        for m in methods:
            col = f"rank_{m}"
            if col not in scores or len(g) < 2:
                continue
            mine = ranks[a].loc[g["neuron"], col].to_numpy()
            theirs = ranks[b].loc[g["best_neuron"], col].to_numpy()
            rows.append({"method": m, "instance": a, "other": b, "spearman": spearman(mine, theirs)})
    return pd.DataFrame(rows, columns=["method", "instance", "other", "spearman"])


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019) between two (tokens × features) representations."""
    x = np.asarray(x, np.float64) - np.mean(x, axis=0)
    y = np.asarray(y, np.float64) - np.mean(y, axis=0)
    xy = np.linalg.norm(x.T @ y) ** 2
    xx = np.linalg.norm(x.T @ x)
    yy = np.linalg.norm(y.T @ y)
    return float(xy / (xx * yy)) if xx > 0 and yy > 0 else 0.0


def fraction_ks(fractions: Sequence[float], widths: Sequence[int]) -> list[int]:
    """Turn fractions of the narrowest layer into distinct neuron counts (at least 1)."""
    d = min(widths)
    return sorted({max(1, min(d, int(round(f * d)))) for f in fractions})


#: The seed of CKA's sentence sample (:func:`sentence_sample`), recorded beside the similarity table.
CKA_SAMPLE_SEED = 0


def sentence_sample(
    sentences: Sequence[object] | np.ndarray, tokens: int | None, seed: int = CKA_SAMPLE_SEED
) -> np.ndarray | None:
    """Rows of whole sentences, drawn in a seeded order until the next would pass ``tokens`` tokens (at least one
    sentence), in file order; None (every row) when ``tokens`` is None or covers the split.

    ``sentences`` is each row's sentence id. Whole sentences, so that a sampled token comes with its context's
    tokens and the sample is the same for every instance and layer dumped over the same token table.
    """
    sentences = np.asarray(sentences)
    if tokens is None or tokens >= len(sentences):
        return None
    if tokens < 1:
        raise ValueError(f"a CKA sample needs at least one token, got {tokens}")
    ids, counts = np.unique(sentences, return_counts=True)
    order = np.random.default_rng([seed, 31]).permutation(len(ids))
    n = max(1, int(np.searchsorted(np.cumsum(counts[order]), tokens, side="right")))
    return np.flatnonzero(np.isin(sentences, ids[order[:n]]))


def similarity_table(
    reps: Mapping[tuple[str, int], np.ndarray] | Sequence[tuple[str, int]],
    load: Callable[[tuple[str, int]], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Linear CKA between every pair of (instance, layer) representations, both orders, diagonal included.

    ``reps`` maps (instance, layer) to its (tokens × features) array; or it
    lists the keys and ``load(key)`` reads one representation on demand. Then
    the representations of one instance are held at a time while the later
    ones stream past one layer at a time, so memory stays at one instance's
    layers plus one layer, never the whole family. Each representation is
    centred (float32) and its Gram norm computed in float64.
    """
    if load is None:
        if not isinstance(reps, Mapping):
            raise TypeError("similarity_table: pass a mapping of arrays, or keys and a load function")
        arrays = reps
        load = arrays.__getitem__
    keys = list(reps)

    def centred(k: tuple[str, int]) -> np.ndarray:
        x = np.asarray(load(k), dtype=np.float32)
        return x - x.mean(axis=0, dtype=np.float64).astype(np.float32)

    def gram_norm(x: np.ndarray) -> float:
        return float(np.linalg.norm((x.T @ x).astype(np.float64)))

    by_instance = list(dict.fromkeys(k[0] for k in keys))
    norms: dict[tuple[str, int], float] = {}
    rows = []

    def add(a: tuple[str, int], b: tuple[str, int], xa: np.ndarray, xb: np.ndarray) -> None:
        xy = float(np.linalg.norm((xa.T @ xb).astype(np.float64)) ** 2)
        v = xy / (norms[a] * norms[b]) if norms[a] > 0 and norms[b] > 0 else 0.0
        rows.append({"instance_a": a[0], "layer_a": a[1], "instance_b": b[0], "layer_b": b[1], "cka": v})
        if a != b:
            rows.append({"instance_a": b[0], "layer_a": b[1], "instance_b": a[0], "layer_b": a[1], "cka": v})

    for ii, inst in enumerate(by_instance):
        own = [k for k in keys if k[0] == inst]
        held = {k: centred(k) for k in own}
        for k, x in held.items():
            norms.setdefault(k, gram_norm(x))
        for ai, a in enumerate(own):
            for b in own[ai:]:
                add(a, b, held[a], held[b])
        for other in by_instance[ii + 1 :]:
            for b in (k for k in keys if k[0] == other):
                xb = centred(b)
                norms.setdefault(b, gram_norm(xb))
                for a in own:
                    add(a, b, held[a], xb)
                del xb
        del held
    return pd.DataFrame(rows)


def correlation_device(requested: str = "auto") -> str | None:
    """The torch device correlation runs on: ``auto`` is CUDA when present, else the NumPy path (None);
    ``cpu`` is the NumPy path; ``cuda`` without a GPU is an error."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else None
    if requested == "cpu":
        return None
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("correlation device 'cuda' requested but no CUDA GPU is available")
    return requested


def _score_tables(
    names: Sequence[str],
    best: Mapping[tuple[str, str], PairMax],
    dead: Mapping[str, np.ndarray],
    layers: WholeLayers | None = None,
) -> CorrelationResult:
    """The score and partner tables of :func:`correlate_instances` from each ordered pair's best partners.

    One place for both the in-memory and the streaming path, so that they give
    the same columns, ranks and dead-neuron conventions. The score columns are
    :func:`ranking_columns`: every correlation ranking of the registry, the
    whole-layer ones only with ``layers``.
    """
    score_rows, pair_rows = [], []
    for a in names:
        others = [b for b in names if b != a]
        d = dead[a]
        n = len(d)
        s_abs = np.stack([best[a, b].best_abs for b in others])
        s_sig = np.stack([best[a, b].best_signed for b in others])
        s_abs[:, d] = 0.0
        s_sig[:, d] = 0.0
        top = s_abs.argmax(axis=0)
        cols = np.arange(n)
        on_abs = CorrelationRankingInputs(a, tuple(others), d, s_abs, layers)
        scores, ranked = ranking_columns(on_abs, replace(on_abs, best=s_sig))
        table = {"instance": a, "neuron": cols, "dead": d, **scores}
        partner_inst = np.asarray(others, dtype=object)[top]
        partner_neuron = np.stack([best[a, b].best_abs_neuron for b in others])[top, cols]
        partner_r = np.stack([best[a, b].best_abs_r for b in others])[top, cols]
        table["partner_instance"] = np.where(d, None, partner_inst)
        table["partner_neuron"] = pd.array(np.where(d, -1, partner_neuron), dtype="Int64")
        table["partner_neuron"][d] = pd.NA
        table["partner_r"] = np.where(d, np.nan, partner_r)
        frame = pd.DataFrame(table)
        for m in ranked:
            frame[f"rank_{m}"] = rank_desc(frame[m].to_numpy(), d)
        score_rows.append(frame)
        for b in others:
            pm = best[a, b]
            pair_rows.append(
                pd.DataFrame(
                    {
                        "instance": a,
                        "neuron": cols,
                        "other": b,
                        "best_abs_r": np.where(d, 0.0, pm.best_abs),
                        "best_neuron": np.where(d | dead[b].all(), -1, pm.best_abs_neuron),
                        "best_r": np.where(d, 0.0, pm.best_abs_r),
                    }
                )
            )
    return CorrelationResult(pd.concat(score_rows, ignore_index=True), pd.concat(pair_rows, ignore_index=True))


# --- Streaming (whole-model) correlation -------------------------------------------------------------------------
#
# Whole models are too wide to hold: bert-base has 13 x 768 = 9,984 neurons per instance, and 6 instances over
# 50,000 tokens are 12 GB of float32 activations; the 15 cross-instance correlation matrices are 6 GB more in
# float32 (Wu et al. 2020 report 98-240 GB jobs). The streaming path reads token blocks through a caller's reader
# (e.g. row groups of Parquet layer files), so only a few blocks and a bounded set of accumulators are held.

#: Reads rows ``token_slice`` of an instance's (tokens x neurons) activations: ``read(instance, token_slice)``.
BlockReader = Callable[[str, slice], np.ndarray]


@dataclass
class Moments:
    """Per-neuron token count, mean and sum of squared deviations (float64), mergeable block by block.

    What :func:`correlate_streaming` needs to z-score a token block without
    holding all tokens; :meth:`merge` is Chan et al.'s pairwise update, which
    stays accurate for neurons whose mean is large against their spread
    (unlike sum and sum of squares; :meth:`from_sums` is there for callers
    that only kept those).
    """

    tokens: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def of_block(cls, x: np.ndarray) -> Moments:
        """Moments of one (tokens x neurons) block; centred in float32, squares summed in float64 as
        :func:`standardize` does."""
        x = np.asarray(x, dtype=np.float32)
        mean = x.mean(axis=0, dtype=np.float64)
        c = mean.astype(np.float32)
        d = x - c
        # sum (x - mean)^2 = sum (x - c)^2 - n (mean - c)^2, c the float32 rounding of the mean
        m2 = np.einsum("ij,ij->j", d, d, dtype=np.float64) - len(x) * (mean - c.astype(np.float64)) ** 2
        return cls(len(x), mean, np.maximum(m2, 0.0))

    @classmethod
    def from_sums(cls, tokens: int, sums: np.ndarray, squares: np.ndarray) -> Moments:
        """Moments from running sums and sums of squares (loses precision when |mean| >> std; prefer :meth:`merge`)."""
        sums = np.asarray(sums, np.float64)
        mean = sums / max(tokens, 1)
        return cls(tokens, mean, np.maximum(np.asarray(squares, np.float64) - sums * mean, 0.0))

    def merge(self, other: Moments) -> Moments:
        """The moments of both blocks together (Chan, Golub & LeVeque's pairwise update)."""
        if self.tokens == 0:
            return other
        if other.tokens == 0:
            return self
        n = self.tokens + other.tokens
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.tokens / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.tokens * other.tokens / n)
        return Moments(n, mean, m2)

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation (over tokens), as :func:`standardize` uses."""
        return np.sqrt(self.m2 / max(self.tokens, 1))

    def dead(self, rtol: float = 1e-6) -> np.ndarray:
        """Constant neurons, by :func:`standardize`'s rule (std <= rtol * max(|mean|, 1))."""
        return self.std <= rtol * np.maximum(np.abs(self.mean), 1.0)


def _token_slices(tokens: int, token_block: int) -> list[slice]:
    if token_block < 1:
        raise ValueError(f"token_block must be positive, got {token_block}")
    return [slice(s, min(s + token_block, tokens)) for s in range(0, tokens, token_block)]


def _read_block(read: BlockReader, instance: str, sl: slice, width: int | None = None) -> np.ndarray:
    """One token block as float32, checked against the rows asked for (and the width, when known)."""
    x = np.asarray(read(instance, sl), dtype=np.float32)
    rows = sl.stop - sl.start
    if x.ndim != 2 or x.shape[0] != rows or (width is not None and x.shape[1] != width):
        want = f"({rows}, {width if width is not None else 'neurons'})"
        raise ValueError(f"reader gave instance {instance!r} tokens {sl.start}:{sl.stop} shape {x.shape}, want {want}")
    return x


def stream_moments(read: BlockReader, instance: str, tokens: int, token_block: int = 4096) -> Moments:
    """An instance's per-neuron moments in one pass over its token blocks (the first pass of the streaming path)."""
    acc = Moments(0, np.zeros(0), np.zeros(0))
    width = None
    for sl in _token_slices(tokens, token_block):
        x = _read_block(read, instance, sl, width)
        width = x.shape[1]
        acc = acc.merge(Moments.of_block(x))
    if acc.tokens != tokens:
        raise ValueError(f"instance {instance!r}: read {acc.tokens} tokens, expected {tokens}")
    return acc


def whole_model_reader(read_layer: Callable[[str, int, slice], np.ndarray], layers: Sequence[int]) -> BlockReader:
    """A :data:`BlockReader` over all ``layers`` of an instance, side by side (neuron index = offset in that order).

    ``read_layer(instance, layer, token_slice)`` reads one layer's rows, e.g.
    from that layer's Parquet file; whole-model neuron ``j`` of a layer of
    width ``w`` at position ``p`` in ``layers`` is the layer's neuron
    ``j - sum of the widths before p``.
    """
    layers = list(layers)

    def read(instance: str, token_slice: slice) -> np.ndarray:
        return np.concatenate(
            [np.asarray(read_layer(instance, layer, token_slice), np.float32) for layer in layers], axis=1
        )

    return read


def _standardize_block(x: np.ndarray, m: Moments, dead: np.ndarray) -> np.ndarray:
    """z-score a float32 token block with whole-stream moments (the steps of :func:`standardize`); dead columns 0."""
    z = x - m.mean.astype(np.float32)
    z /= np.where(dead, 1.0, m.std).astype(np.float32)
    if dead.any():
        z[:, dead] = 0.0
    return z


@dataclass
class _Band:
    """Rows ``rows`` of instance ``a``'s neurons against every neuron of the instances after it."""

    a: str
    rows: slice


def _plan_passes(names: Sequence[str], widths: Mapping[str, int], entries: int) -> list[list[_Band]]:
    """Cut the upper block triangle of cross-instance products into passes of at most ``entries`` accumulator
    entries each; every pass reads the token stream once. Bands of one instance come in row order, which keeps
    ties broken by the lowest neuron index, as :func:`pair_maxima` does."""
    passes: list[list[_Band]] = []
    current: list[_Band] = []
    used = 0
    for ai, a in enumerate(names[:-1]):
        later = sum(widths[b] for b in names[ai + 1 :])
        start = 0
        while start < widths[a]:
            rows = min(widths[a] - start, (entries - used) // later)
            if rows < 1:
                if not current:
                    raise ValueError(
                        f"memory budget too small: one neuron of {a!r} needs {later} accumulator entries, {entries} fit"
                    )
                passes.append(current)
                current, used = [], 0
                continue
            current.append(_Band(a, slice(start, start + rows)))
            used += rows * later
            start += rows
    if current:
        passes.append(current)
    return passes


@dataclass
class StreamingPlan:
    """How :func:`correlate_streaming` splits the work: accumulator budget, passes over the tokens, estimate of held bytes."""

    accumulator_entries: int
    passes: int
    block_bytes: int
    estimated_peak_bytes: int


def plan_streaming(
    widths: Mapping[str, int], token_block: int = 4096, memory: int = 4 * 2**30, block: int = 1024
) -> StreamingPlan:
    """Size the float64 accumulators so that accumulators + token blocks + temporaries stay within ``memory`` bytes.

    Held besides the accumulators: the z-scored blocks of the band instances
    and one other instance (float32), the reader's raw block (counted as
    float64), and per product chunk a float32 product and two float64
    reduction temporaries of ``block`` rows.
    """
    names = list(widths)
    d_max = max(widths.values())
    block_bytes = (len(names) * 4 + 4 + 8) * token_block * d_max + 20 * block * d_max
    entries = (memory - block_bytes) // 8
    if entries < 1:
        raise ValueError(f"memory budget {memory} B is below the token blocks' {block_bytes} B: lower token_block")
    n_passes = len(_plan_passes(names, widths, entries)) if len(names) > 1 else 0
    total = sum(widths[a] * sum(widths[b] for b in names[i + 1 :]) for i, a in enumerate(names))
    return StreamingPlan(entries, n_passes, block_bytes, block_bytes + 8 * min(entries, total))


def correlate_streaming(
    read: BlockReader,
    instances: Sequence[str],
    tokens: int,
    token_block: int = 4096,
    memory: int = 4 * 2**30,
    block: int = 1024,
    moments: Mapping[str, Moments] | None = None,
    rtol: float = 1e-6,
) -> CorrelationResult:
    """:func:`correlate_instances` without the whole-layer rankings (:data:`FULL_LAYER_RANKINGS`: LinReg), in
    bounded memory, from token blocks read on demand.

    For whole models (every layer of each instance side by side, see
    :func:`whole_model_reader`) the activations and the correlation matrices
    do not fit in memory; this gives the same per-neuron scores and partner
    tables (MaxCorr, MeanMaxCorr, MinCorr, signed variants, ranks, pairs) while
    holding a few token blocks and at most ``memory`` bytes in all (approximately; see :func:`plan_streaming`).

    Steps: the moments of each instance (one pass per instance, unless
    ``moments`` are supplied, e.g. running sums kept at extraction); then the
    cross-products Z_a^T Z_b of every pair of instances are accumulated over
    token blocks, as many rows of the upper block triangle at a time as the
    budget allows (each extra pass re-reads the tokens), and each finished band
    is reduced to best partners along both axes with :func:`pair_maxima`'s
    helpers. ``read(instance, token_slice)`` must return the same rows each
    time it is asked (it is called once per pass).

    Accumulators are float64: rounding then stays that of one block's float32
    product, whatever the number of token blocks, at twice float32's memory
    (paid in passes, not in peak).

    LinReg is left out: it needs each predictor instance's whole D x D Gram
    matrix and a D x D solve per ordered pair (9,984^2 float64 is 0.8 GB a
    matrix, several held per solve, 30 solves of ~3e11 FLOP each for 6
    bert-base instances), which no token- or row-blocking bounds.
    """
    names = list(instances)
    if len(names) < 2:
        raise ValueError(f"cross-model correlation needs at least two instances, got {names}")
    if tokens < 1:
        raise ValueError(f"need at least one token, got {tokens}")
    slices = _token_slices(tokens, token_block)
    if moments is None:
        moments = {n: stream_moments(read, n, tokens, token_block) for n in names}
    for n in names:
        if moments[n].tokens != tokens:
            raise ValueError(f"moments of {n!r} cover {moments[n].tokens} tokens, expected {tokens}")
    widths = {n: len(moments[n].mean) for n in names}
    dead = {n: moments[n].dead(rtol) for n in names}
    plan = plan_streaming(widths, token_block, memory, block)
    best = {(a, b): _empty(widths[a]) for a in names for b in names if a != b}
    order = {n: i for i, n in enumerate(names)}
    for bands in _plan_passes(names, widths, plan.accumulator_entries):
        first = min(order[band.a] for band in bands)
        acc = {
            (i, b): np.zeros((band.rows.stop - band.rows.start, widths[b]))
            for i, band in enumerate(bands)
            for b in names[order[band.a] + 1 :]
        }
        for sl in slices:
            held: dict[int, np.ndarray] = {}  # band -> its rows of the z-scored block, contiguous
            for b in names[first:]:
                z = _standardize_block(_read_block(read, b, sl, widths[b]), moments[b], dead[b])
                for i, band in enumerate(bands):
                    if order[band.a] < order[b]:
                        za, out = held[i], acc[i, b]
                        for r in range(0, za.shape[1], block):
                            out[r : r + block] += za[:, r : r + block].T @ z
                held.update({i: np.ascontiguousarray(z[:, band.rows]) for i, band in enumerate(bands) if band.a == b})
                del z
            del held
        for (i, b), c in acc.items():
            a, rows = bands[i].a, bands[i].rows
            for r in range(0, c.shape[0], block):
                chunk = c[r : r + block] / tokens
                start = rows.start + r
                _update(best[a, b], slice(start, start + chunk.shape[0]), chunk)
                _update(best[b, a], slice(None), chunk, offset=start, axis=0)
        del acc
    return _score_tables(names, best, dead)
