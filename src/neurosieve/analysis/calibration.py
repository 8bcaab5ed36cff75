"""Calibrating a neuron ranking: where its kept-k curve sits between random neurons and an oracle.

"No better than random" cannot tell "the information is spread over the layer" from "the
ranking is poor" unless the best achievable k-subset is known too. This module gives

* :func:`greedy_oracle`: greedy forward selection of neurons, scored on a held-out part of train
  (whole sentences) with a closed-form proxy (ridge least squares on one-hot labels), returning
  the order of the first K neurons it picks, and :func:`proxy_curves`, the same proxy scoring
  any ranking's top k on the same split (the oracle must be at least as good there: greedy
  selection is not guaranteed optimal, so this is checked, not assumed);
* :func:`calibrated_area`: the area between a ranking's curve and random's divided by the area
  between the oracle's and random's (0 = random, 1 = oracle), per instance, and
  :func:`calibrated_areas` / :func:`area_spread` for a long curves table (mean and spread over
  instances).

Pure functions of arrays and tables: nothing here reads or writes files.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from neurosieve.analysis.verdicts import LEVEL, percentile_interval, sentence_resampler
from neurosieve.store.corpus import label_codes

Scale = Literal["log", "linear"]


# --- the calibrated area ---


def calibrated_area(
    k: Sequence[float],
    ranking: Sequence[float],
    random: Sequence[float],
    oracle: Sequence[float],
    scale: Scale = "log",
) -> float:
    """(area between ``ranking``'s curve and ``random``'s) / (area between ``oracle``'s and ``random``'s).

    The curves are accuracies at the neuron counts ``k`` (``random`` the mean over random draws);
    0 means no better than random, 1 as good as the oracle, negative worse than random, above 1
    better than the oracle (which then is not one). Trapezoids over log2 k by default: the k grid
    is geometric (1, 2, 4, ..., 128), so each doubling counts the same and the small k where
    rankings differ are not swamped by the wide intervals at large k where every curve is at the
    full probe's accuracy (``scale="linear"`` integrates over k itself). On the log scale k = 0 is
    left out (every selection is empty there, so the curves coincide). With a single k the ratio
    of the two differences at it is returned. NaN when the oracle is not above random (the ratio
    has no scale) or no k is left.
    """
    k = np.asarray(k, dtype=np.float64)
    curves = [np.asarray(c, dtype=np.float64) for c in (ranking, random, oracle)]
    if any(c.shape != k.shape for c in curves):
        raise ValueError(
            f"k and the three curves must have the same length, got {[k.shape, *(c.shape for c in curves)]}"
        )
    keep = k > 0 if scale == "log" else np.ones(len(k), bool)
    order = np.argsort(k[keep], kind="stable")
    x = k[keep][order]
    rank, rnd, orc = (c[keep][order] for c in curves)
    if len(x) == 0:
        return float("nan")
    if scale == "log":
        x = np.log2(x)
    elif scale != "linear":
        raise ValueError(f"scale must be 'log' or 'linear', got {scale!r}")
    if len(x) == 1:
        num, den = float(rank[0] - rnd[0]), float(orc[0] - rnd[0])
    else:
        num, den = float(np.trapezoid(rank - rnd, x)), float(np.trapezoid(orc - rnd, x))
    return num / den if den > 0 else float("nan")


def calibrated_areas(
    curves: pd.DataFrame,
    oracle: str = "oracle",
    *,
    metric: str = "accuracy_overall",
    mode: str = "retrain",
    by: Sequence[str] = ("instance", "layer", "property"),
    scale: Scale = "log",
    max_k: int | None = None,
) -> pd.DataFrame:
    """The calibrated area (:func:`calibrated_area`) of every ranking's top-k curve, per instance (``by``).

    ``curves`` is a long ablation table (ranking, direction, mode, k, metric, value, random_seed,
    and the ``by`` columns it has). The random curve is the mean over draws (direction
    ``random``) at each k, the oracle curve is ranking ``oracle``'s top rows. Only the k where
    the ranking, random and the oracle all have a value count (an oracle ordering may stop at
    its K), and only k <= ``max_k`` when given. Columns: the ``by`` columns, ranking, area, n_k.
    """
    by = [c for c in by if c in curves]
    c = curves[(curves["metric"] == metric) & (curves["mode"] == mode)]
    if max_k is not None:
        c = c[c["k"] <= max_k]
    rnd = c[c["direction"] == "random"].groupby([*by, "k"])["value"].mean().rename("random")
    top = c[(c["direction"] == "top") & (c["ranking"] != "none")]
    orc = top[top["ranking"] == oracle].groupby([*by, "k"])["value"].mean().rename("oracle")
    ranked = top[top["ranking"] != oracle].groupby([*by, "ranking", "k"])["value"].mean().rename("curve")
    joined = ranked.reset_index().join(rnd, on=[*by, "k"]).join(orc, on=[*by, "k"]).dropna(subset=["random", "oracle"])
    rows = []
    for key, g in joined.groupby([*by, "ranking"], sort=False):
        key = key if isinstance(key, tuple) else (key,)
        area = calibrated_area(g["k"], g["curve"], g["random"], g["oracle"], scale)
        rows.append({**dict(zip([*by, "ranking"], key)), "area": area, "n_k": int(g["k"].nunique())})
    return pd.DataFrame(rows, columns=[*by, "ranking", "area", "n_k"])


def calibrated_area_bootstrap(
    correct: Mapping[tuple[str, str, int], Sequence[np.ndarray]],
    sentences: np.ndarray,
    *,
    oracle: str = "oracle",
    oracle_at: Mapping[int, str] | None = None,
    trivial: Collection[str] = (),
    scale: Scale = "log",
    resamples: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """One instance's 95 % sentence-bootstrap interval of each ranking's calibrated area, and of that area minus the
    best trivial ranking's: the test set's sampling noise of :func:`calibrated_areas`' value.

    ``correct`` holds each retrained selection's per-token correctness on test, by (ranking, direction, k): the
    rankings' top selections, the random draws (ranking ``none``, direction ``random``: one array a draw) and the
    oracle's first k. ``oracle_at`` maps a k to the ranking whose top k stands for the oracle there
    (:func:`best_of_oracle`'s ``oracle_source``). Each resample draws whole test sentences once for every curve
    (:func:`~neurosieve.analysis.verdicts.sentence_resampler`), recomputes every accuracy, the three curves and
    the area as :func:`calibrated_area` does, over the k where the ranking, random and the oracle all have a
    value. ``trivial`` names the rankings that see no labels: a ranking's ``vs_trivial`` bounds are those of its
    area minus the largest of theirs in the same resample (none for the trivial rankings themselves).
    Columns: ranking, area (on the whole test set: :func:`calibrated_areas`' value), area_low, area_high,
    vs_trivial, vs_trivial_low, vs_trivial_high.
    """
    columns = ["ranking", "area", "area_low", "area_high", "vs_trivial", "vs_trivial_low", "vs_trivial_high"]
    sums = sentence_resampler(np.asarray(sentences), resamples, seed)
    if sums is None:
        return pd.DataFrame(columns=columns)
    taken = dict(oracle_at or {})
    at = {k: (taken.get(k, oracle), "top", k) for (name, d, k) in correct if name == oracle and d == "top"}

    def areas_under(total: Callable[[np.ndarray], np.ndarray]) -> dict[str, np.ndarray]:
        """Every ranking's calibrated area from accuracies whose token sums ``total`` gives (one per resample)."""
        n_tokens = total(np.ones(len(sentences)))

        def accuracy(token_scores: Sequence[np.ndarray]) -> np.ndarray:
            return total(np.mean(token_scores, axis=0)) / n_tokens  # draws averaged per token, as the curve's mean

        rnd = {k: accuracy(v) for (_, d, k), v in correct.items() if d == "random" and len(v)}
        orc = {k: accuracy(correct[key]) for k, key in at.items() if key in correct}
        areas: dict[str, np.ndarray] = {}
        for name in sorted({n for (n, d, _) in correct if d == "top" and n not in {oracle, "none"}}):
            ks = sorted(k for (n, d, k) in correct if n == name and d == "top" and k in rnd and k in orc)
            ks = [k for k in ks if k > 0] if scale == "log" else ks
            if not ks:
                continue
            rank = np.stack([accuracy(correct[(name, "top", k)]) for k in ks], axis=1)
            base, best = np.stack([rnd[k] for k in ks], axis=1), np.stack([orc[k] for k in ks], axis=1)
            x = np.log2(np.asarray(ks, dtype=np.float64)) if scale == "log" else np.asarray(ks, dtype=np.float64)
            if len(ks) == 1:
                num, den = (rank - base)[:, 0], (best - base)[:, 0]
            else:
                num, den = np.trapezoid(rank - base, x, axis=1), np.trapezoid(best - base, x, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                areas[name] = np.where(den > 0, num / den, np.nan)
        floor = [areas[r] for r in trivial if r in areas]
        if floor:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN resample of the trivial areas stays NaN
                best_trivial = np.nanmax(np.stack(floor), axis=0)
            areas.update({f"{n} - trivial": a - best_trivial for n, a in list(areas.items()) if n not in trivial})
        return areas

    point = areas_under(lambda v: np.array([np.sum(v, dtype=np.float64)]))  # the whole test set: the curves' value
    boot = areas_under(sums)
    rows = []
    for name in (n for n in point if not n.endswith(" - trivial")):
        gap = f"{name} - trivial"
        vs = (point[gap][0], *percentile_interval(boot[gap], level)) if gap in point else (math.nan,) * 3
        rows.append((name, point[name][0], *percentile_interval(boot[name], level), *vs))
    return pd.DataFrame(rows, columns=columns)


def area_spread(areas: pd.DataFrame, over: str = "instance") -> pd.DataFrame:
    """Mean, standard deviation, min, max and count over ``over`` (instances) of :func:`calibrated_areas`' rows.

    Grouped by every other key column (layer, property, ranking, ...); NaN areas (an oracle no
    better than random) are left out of the statistics but counted in ``n_undefined``.
    """
    keys = [c for c in areas.columns if c not in {over, "area", "n_k"}]
    g = areas.groupby(keys, sort=False)["area"]
    out = g.agg(["mean", "std", "min", "max", "count"]).rename(columns={"count": "n"})
    out["n_undefined"] = g.apply(lambda a: int(a.isna().sum()))
    return out.reset_index()


# --- the oracle ---


@dataclass(frozen=True)
class SelectionSplit:
    """Train tokens split by whole sentences: the proxy is fitted on ``fit`` and scored on ``select``."""

    fit: np.ndarray
    select: np.ndarray


def selection_split(groups: Sequence[object], held_out: float = 0.2, seed: int = 0) -> SelectionSplit:
    """A seeded split of train tokens by their sentence (``groups``): ``held_out`` of the sentences to score on.

    Whole sentences, so that tokens of one sentence (which share context, hence activations)
    never sit on both sides.
    """
    groups = np.asarray(groups)
    sentences = np.unique(groups)
    if len(sentences) < 2:
        raise ValueError("the selection split needs at least two sentences")
    rng = np.random.default_rng([seed, 24])
    n_held = min(len(sentences) - 1, max(1, int(round(held_out * len(sentences)))))
    held = rng.choice(sentences, size=n_held, replace=False)
    is_held = np.isin(groups, held)
    return SelectionSplit(fit=np.flatnonzero(~is_held), select=np.flatnonzero(is_held))


def _standardised(X: np.ndarray, split: SelectionSplit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fit and select rows standardised by the fit rows' mean and sd (float64), and which columns vary."""
    Xf = np.asarray(X[split.fit], dtype=np.float64)
    mu, sd = Xf.mean(axis=0), Xf.std(axis=0)
    varies = sd > 1e-12
    scale = np.where(varies, sd, 1.0)
    Xf = (Xf - mu) / scale
    Xv = (np.asarray(X[split.select], dtype=np.float64) - mu) / scale
    Xf[:, ~varies] = 0.0
    Xv[:, ~varies] = 0.0
    return Xf, Xv, varies


def _targets(y: Sequence[object], split: SelectionSplit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred one-hot fit targets, their means (the intercept) and the select rows' label codes (-1: unseen)."""
    y = np.asarray(y).astype(str)
    classes, codes = label_codes(y[split.fit])
    Y = np.zeros((len(split.fit), len(classes)))
    Y[np.arange(len(split.fit)), codes] = 1.0
    ybar = Y.mean(axis=0)
    index = {c: i for i, c in enumerate(np.asarray(classes).astype(str))}
    yv = np.array([index.get(c, -1) for c in y[split.select]], dtype=np.int64)
    return Y - ybar, ybar, yv


@dataclass(frozen=True)
class OracleSelection:
    """The greedy oracle's first K neurons (``order``, in the order picked), the proxy's held-out accuracy
    after each pick (``accuracy[i]`` with ``order[: i + 1]`` kept), and the split it was scored on."""

    order: np.ndarray
    accuracy: np.ndarray
    split: SelectionSplit


def greedy_oracle(
    X: np.ndarray,
    y: Sequence[object],
    groups: Sequence[object],
    *,
    max_neurons: int = 128,
    held_out: float = 0.2,
    seed: int = 0,
    ridge: float = 1e-3,
    shortlist: int = 32,
) -> OracleSelection:
    """Greedy forward selection of up to ``max_neurons`` neurons, each step the one that most helps a held-out part of train.

    The proxy is ridge least squares from the standardised kept neurons to one-hot labels (an
    intercept, penalty ``ridge`` × fit tokens), fitted on the fit sentences of
    :func:`selection_split` (``held_out``, ``seed``) and scored by token accuracy (arg-max) on the
    held-out sentences. Each step scores the ``shortlist`` candidates whose addition lowers the
    fit rows' squared error most (exact, closed form for all of them) by that held-out accuracy
    and keeps the best (ties: the larger error reduction, then the lower index); the first step scores
    every candidate, so the oracle's first neuron is the best single neuron; ``shortlist`` at least the
    width scores every candidate at every step. Adding a neuron is a sweep of the ridge Gram matrix
    (forward stepwise regression), so no fit is ever repeated.

    Cost: one pass over the fit rows for the Gram matrix, O(n_fit d² + n_fit d C), then per step
    O(d² + d C + n_select d + shortlist · n_select C) for d neurons, C labels and n_select held-out
    tokens; memory O(d² + n_select (d + C)). Measured on one core: 5 s for 50k train tokens (10k
    held out), 256 neurons, 44 labels and K = 128; a BiLSTM layer's 200k train tokens take about four
    times that (both terms grow with the tokens), under a minute. The proxy is only for the
    search: accuracies reported for the oracle's neurons are those of real retrained probes.
    Greedy selection is not guaranteed to find the best k-subset: check it against the rankings
    with :func:`proxy_curves` on ``result.split`` (a ranking above it means the oracle failed).
    """
    X = np.asarray(X)
    split = selection_split(groups, held_out, seed)
    Xf, Xv, varies = _standardised(X, split)
    Yf, ybar, yv = _targets(y, split)
    d = X.shape[1]
    lam = ridge * len(split.fit)
    E = Xf.T @ Xf + lam * np.eye(d)  # residual Gram of the candidates given the kept neurons (ridge on the diagonal)
    R = Xf.T @ Yf  # residual cross-products of each candidate with the targets
    del Xf
    Z = Xv  # each candidate's held-out column, residualised on the kept neurons as the fit rows define
    P = np.tile(ybar, (len(split.select), 1))  # the proxy's held-out outputs with the kept neurons
    active = varies.copy()
    order: list[int] = []
    accuracy: list[float] = []
    for _ in range(min(int(max_neurons), d)):
        cand = np.flatnonzero(active)
        if len(cand) == 0:
            break
        diag = E[cand, cand]
        gain = (R[cand] ** 2).sum(axis=1) / diag  # the fit rows' squared-error reduction of each candidate
        # The first step scores every candidate (cheap, and the step where a single well-chosen neuron of a
        # ranking can beat a shortlist built on squared error: seen once in 550 checks of the default run).
        width = len(cand) if not order else max(1, int(shortlist))
        short = cand[np.lexsort((cand, -gain))[:width]]
        acc = np.empty(len(short))
        for i, j in enumerate(short):
            out = P + np.outer(Z[:, j], R[j] / E[j, j])
            acc[i] = np.mean(out.argmax(axis=1) == yv)
        short_gain = (R[short] ** 2).sum(axis=1) / E[short, short]
        best = int(short[np.lexsort((short, -short_gain, -acc))[0]])
        best_acc = float(acc[np.flatnonzero(short == best)[0]])
        col, ejj, rj, zj = E[:, best].copy(), E[best, best], R[best].copy(), Z[:, best].copy()
        P += np.outer(zj, rj / ejj)
        E -= np.outer(col, col / ejj)
        R -= np.outer(col / ejj, rj)
        Z -= np.outer(zj, col / ejj)
        active[best] = False
        order.append(best)
        accuracy.append(best_acc)
    return OracleSelection(order=np.asarray(order, dtype=np.int64), accuracy=np.asarray(accuracy), split=split)


def proxy_accuracy(
    X: np.ndarray, y: Sequence[object], split: SelectionSplit, kept: np.ndarray, ridge: float = 1e-3
) -> float:
    """Held-out accuracy of the oracle's proxy (ridge on one-hot labels, see :func:`greedy_oracle`) on ``kept``.

    A direct solve, independent of the greedy sweep: what any subset (a ranking's top k, the
    oracle's first k) scores on ``split``. No kept neuron gives the fit rows' majority label.
    """
    return _Proxy(X, y, split, ridge).accuracy(np.asarray(kept, dtype=np.int64))


class _Proxy:
    """The proxy's data prepared once (standardised rows, Gram and cross-products of the fit rows), so that
    scoring many subsets costs a small solve each instead of a pass over the data."""

    def __init__(self, X: np.ndarray, y: Sequence[object], split: SelectionSplit, ridge: float) -> None:
        Xf, self.Xv, _ = _standardised(np.asarray(X), split)
        Yf, self.ybar, self.yv = _targets(y, split)
        self.gram, self.cross = Xf.T @ Xf, Xf.T @ Yf
        self.lam = ridge * len(split.fit)

    def accuracy(self, kept: np.ndarray) -> float:
        out = np.tile(self.ybar, (len(self.yv), 1))
        if len(kept):
            g = self.gram[np.ix_(kept, kept)] + self.lam * np.eye(len(kept))
            out += self.Xv[:, kept] @ np.linalg.solve(g, self.cross[kept])
        return float(np.mean(out.argmax(axis=1) == self.yv))


def proxy_curves(
    X: np.ndarray,
    y: Sequence[object],
    split: SelectionSplit,
    orders: Mapping[str, np.ndarray],
    ks: Sequence[int],
    ridge: float = 1e-3,
) -> pd.DataFrame:
    """The proxy's held-out accuracy (:func:`proxy_accuracy`) of each ordering's first k neurons, for every k.

    Columns: ranking, k, accuracy. Orders shorter than k (an oracle's first K) have no row there.
    The data are prepared once for all orderings and k.
    """
    proxy = _Proxy(X, y, split, ridge)
    rows = [
        {"ranking": name, "k": int(k), "accuracy": proxy.accuracy(np.asarray(order, dtype=np.int64)[:k])}
        for name, order in orders.items()
        for k in ks
        if k <= len(order)
    ]
    return pd.DataFrame(rows, columns=["ranking", "k", "accuracy"])


#: The name of the oracle's rows in an ablation curves table (ranking column).
ORACLE = "oracle"

#: The mode of the rows that check the oracle on its own selection split (the proxy's accuracy, not a probe's).
PROXY_MODE = "proxy"


@dataclass(frozen=True)
class OracleReference:
    """The oracle of one probe ablation: its first K neurons (``order``), the check of it against every ranking on
    its selection split (``check``: curve rows, mode :data:`PROXY_MODE`, metric ``accuracy_selection``) and the
    CPU-seconds its search and check took."""

    order: np.ndarray
    check: pd.DataFrame
    seconds: float


def oracle_reference(
    X: np.ndarray,
    y: Sequence[object],
    groups: Sequence[object],
    rankings: Mapping[str, np.ndarray],
    ks: Sequence[int],
    max_neurons: int = 128,
    held_out: float = 0.2,
    seed: int = 0,
) -> OracleReference:
    """The greedy oracle (:func:`greedy_oracle`) of a layer's train tokens, checked against ``rankings``.

    The check scores the oracle's first k and every ranking's top k with the search's proxy on the
    oracle's selection split, for every k of ``ks`` up to its K: there the oracle must be at least as
    good as every ranking (greedy search is not guaranteed to be; a ranking above it says so).
    """
    t0 = time.process_time()
    X = np.asarray(X)
    oracle = greedy_oracle(X, y, groups, max_neurons=min(int(max_neurons), X.shape[1]), held_out=held_out, seed=seed)
    k_check = [int(k) for k in ks if 0 < k <= len(oracle.order)]
    proxy = proxy_curves(X, y, oracle.split, {**rankings, ORACLE: oracle.order}, k_check)
    check = proxy.rename(columns={"accuracy": "value"}).assign(
        direction="top",
        mode=PROXY_MODE,
        k_percent=lambda d: 100.0 * d["k"] / X.shape[1],
        metric="accuracy_selection",
        random_seed=pd.Series(pd.NA, index=proxy.index, dtype="Int64"),
    )
    return OracleReference(order=oracle.order, check=check, seconds=time.process_time() - t0)


GREEDY = "greedy"
"""The ``oracle_source`` of an oracle point that the greedy search itself chose."""


def best_of_oracle(curves: pd.DataFrame, check: pd.DataFrame, tolerance: float = 1e-9) -> pd.DataFrame:
    """``curves`` and the oracle's ``check`` with the oracle at each k made the best subset found on the selection
    split: the greedy search's first k, or a ranking's top k where that scored higher there.

    A greedy forward search is not optimal at every k (a ranking's top 4 can beat its first 4); an upper
    reference must not be beaten on the split that chose it. Where a ranking wins, the oracle's rows at that k
    (every mode but the check's, and the check's own score) are that ranking's top-k rows, which the ablation
    already retrained: no new fit, and the choice reads the selection split only. Column ``oracle_source``
    names where each oracle row came from (:data:`GREEDY` or the ranking).
    """
    out = pd.concat([curves, check], ignore_index=True)
    out["oracle_source"] = np.where(out["ranking"] == ORACLE, GREEDY, None)
    bad = oracle_violations(check, tolerance)  # one instance: the rankings that beat the greedy first k, by k
    for k, name in bad.loc[bad.groupby("k")["value"].idxmax()].set_index("k")["ranking"].items():
        at_k = out["k"] == k
        taken = out[at_k & (out["ranking"] == name) & (out["direction"] == "top")]  # every mode, the check's too
        out = pd.concat(
            [out[~(at_k & (out["ranking"] == ORACLE))], taken.assign(ranking=ORACLE, oracle_source=name)],
            ignore_index=True,
        )
    return out


def oracle_sources(curves: pd.DataFrame) -> dict[int, str]:
    """The k at which :func:`best_of_oracle` made the oracle a ranking's top k, and that ranking (one instance's
    curves; empty when the greedy search's own first k stood everywhere)."""
    if "oracle_source" not in curves:
        return {}
    taken = curves[(curves["ranking"] == ORACLE) & curves["oracle_source"].notna()]
    taken = taken[taken["oracle_source"] != GREEDY].drop_duplicates("k")
    return {int(k): str(r) for k, r in zip(taken["k"], taken["oracle_source"])}


def oracle_violations(curves: pd.DataFrame, tolerance: float = 1e-9) -> pd.DataFrame:
    """The rows of an oracle check (:data:`PROXY_MODE` rows of a curves table) where a ranking's top k beat the
    oracle's first k on the selection split; empty when the oracle is at least as good everywhere."""
    c = curves[curves["mode"] == PROXY_MODE]
    keys = [col for col in ("instance", "layer", "property", "k") if col in c]
    orc = c[c["ranking"] == ORACLE].set_index(keys)["value"].rename("oracle")
    other = c[c["ranking"] != ORACLE].join(orc, on=keys)
    return other[other["value"] > other["oracle"] + tolerance]


__all__ = [
    "GREEDY",
    "ORACLE",
    "PROXY_MODE",
    "OracleReference",
    "OracleSelection",
    "SelectionSplit",
    "area_spread",
    "best_of_oracle",
    "calibrated_area",
    "calibrated_area_bootstrap",
    "calibrated_areas",
    "greedy_oracle",
    "oracle_reference",
    "oracle_sources",
    "oracle_violations",
    "proxy_accuracy",
    "proxy_curves",
    "selection_split",
]
