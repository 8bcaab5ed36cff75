"""Linguistic correlation analysis (LCA): elastic-net linear probes and the neuron orderings they give.

The probe is softmax regression from one layer's activations to a property's
labels, with an elastic-net penalty on the weights only:
``loss = mean cross-entropy + l1 * sum|W| + l2 * ||W||_2`` (the unsquared L2
norm, as in NeuroX). It is fitted with large mini-batches on the whole
training set (vectorised steps, not batches of 32), and follows the
scikit-learn estimator API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from neurosieve.analysis.calibration import selection_split
from neurosieve.analysis.input_keys import InputKeys, raw_input_keys
from neurosieve.analysis.probe import ElasticNetProbe, activation_matrix, add_rows, block_rows, column_moments
from neurosieve.analysis.probe_batch import fit_probes
from neurosieve.analysis.verdicts import sentence_bootstrap_contrast
from neurosieve.core.properties import OPEN_CLASS_POS
from neurosieve.core.registry import RANKINGS
from neurosieve.store.corpus import label_codes
from neurosieve.store.properties import open_class_mask


def top_neurons_per_label(coef: np.ndarray, fraction: float) -> list[np.ndarray]:
    """For each label, the shortest prefix of its neurons sorted by |w| whose |w| sum reaches ``fraction`` of its total."""
    out = []
    for row in np.abs(coef):
        order = np.lexsort((np.arange(len(row)), -row))  # by |w| descending, ties by index
        total = row.sum()
        if total == 0 or fraction <= 0:
            out.append(order[:0])
            continue
        cum = np.cumsum(row[order])
        k = int(np.searchsorted(cum, fraction * total * (1 - 1e-12))) + 1
        out.append(order[: min(k, len(order))])
    return out


def neuron_ordering(coef: np.ndarray, step: float = 0.01) -> np.ndarray:
    """NeuroX's neuron ordering: sweep the weight-mass fraction p from 0 to 1 and append neurons as they enter.

    Neurons entering at the same p are ordered by their largest |w| over
    labels (then by index); neurons with zero weight everywhere come last.
    """
    d = coef.shape[1]
    strength = np.abs(coef).max(axis=0)
    seen = np.zeros(d, bool)
    order: list[int] = []
    for p in np.linspace(0.0, 1.0, int(round(1 / step)) + 1):
        entered = np.unique(np.concatenate([np.asarray(t, dtype=np.int64) for t in top_neurons_per_label(coef, p)]))
        new = entered[~seen[entered]]
        if len(new):
            new = new[np.lexsort((new, -strength[new]))]
            order.extend(new.tolist())
            seen[new] = True
    rest = np.flatnonzero(~seen)
    return np.concatenate([np.asarray(order, dtype=np.int64), rest])


def probeless_scores(X: np.ndarray, y: Sequence[Any], block_bytes: int = 64 << 20) -> np.ndarray:
    """Antverg & Belinkov's probeless ranking score: sum over label pairs of |mean_a - mean_b| per neuron.

    Each label's float64 sum runs over its tokens in order, a block of rows (about ``block_bytes`` as float64)
    at a time, the running sum carried in as the block's first row: the same sequential sums as one pass over
    the whole matrix, without a reordered or float64 copy of it (at the all-layers pool's size that copy is
    several times the pool).
    """
    y = np.asarray(y)
    X = np.asarray(X)
    classes, inv = label_codes(y)
    order = np.argsort(inv, kind="stable")  # tokens grouped by label, in their order within each label
    counts = np.bincount(inv, minlength=len(classes))
    starts = np.concatenate([[0], np.cumsum(counts)])
    step = max(1, block_bytes // (8 * max(1, X.shape[1])))
    sums = np.empty((len(classes), X.shape[1]))
    for c in range(len(classes)):
        rows = order[starts[c] : starts[c + 1]]
        total = None
        for lo in range(0, len(rows), step):
            total = add_rows(total, X[rows[lo : lo + step]], dtype=np.float64)
        sums[c] = total
    means = np.sort(sums / counts[:, None], axis=0)
    k = np.arange(1, len(classes) + 1)[:, None]
    return (means * (2 * k - len(classes) - 1)).sum(axis=0)


def order_by_score(score: np.ndarray) -> np.ndarray:
    """Neuron indices by score descending, ties by index."""
    return np.lexsort((np.arange(len(score)), -score))


def control_labels(words: Sequence[str], train_labels: Sequence[Any], seed: int) -> dict[str, Any]:
    """Hewitt & Liang's control task: each word type gets a fixed label drawn from the training label distribution.

    Pass the model's *input keys* (:mod:`neurosieve.models.inputs`) rather than
    raw words, so that forms the model cannot tell apart share one control label.
    """
    types = sorted(set(map(str, words)))
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(values, size=len(types), p=counts / counts.sum())
    return dict(zip(types, drawn))


def weight_concentration(coef: np.ndarray, top: float = 0.1) -> float:
    """Share of the total |W| mass held by the top ``top`` fraction of neurons (by their summed |w|)."""
    mass = np.sort(np.abs(coef).sum(axis=0))[::-1]
    k = max(1, int(round(top * len(mass))))
    return float(mass[:k].sum() / mass.sum()) if mass.sum() > 0 else 0.0


def grouped_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, open_mask: np.ndarray, in_vocab: np.ndarray | None = None
) -> dict[str, float]:
    """Accuracy overall, on open-class tokens and on closed-class tokens (fractions).

    With ``in_vocab`` (per token: is the word in the model's vocabulary) also on
    in-vocabulary and out-of-vocabulary tokens, and open/closed on in-vocabulary
    tokens only (unknown words are all open-class, so they confound open vs closed).
    """
    right = np.asarray(y_true) == np.asarray(y_pred)
    open_mask = np.asarray(open_mask, dtype=bool)

    def mean(mask: np.ndarray) -> float:
        return float(right[mask].mean()) if mask.any() else float("nan")

    out = {"overall": float(right.mean()), "open": mean(open_mask), "closed": mean(~open_mask)}
    if in_vocab is not None:
        iv = np.asarray(in_vocab, dtype=bool)
        out.update(
            in_vocab=mean(iv), oov=mean(~iv), open_in_vocab=mean(open_mask & iv), closed_in_vocab=mean(~open_mask & iv)
        )
    return out


def majority_baseline(train_words: Sequence[str], train_labels: Sequence[Any], test_words: Sequence[str]) -> np.ndarray:
    """Per-word majority tagger: each training word type's most frequent label; words unseen in training get
    the overall most frequent label. Ties go to the label that sorts first. Returns one prediction per test word.
    """
    df = pd.DataFrame({"word": np.asarray(train_words, dtype=str), "label": np.asarray(train_labels, dtype=str)})
    counts = df.value_counts(["word", "label"]).rename("n").reset_index()
    best = counts.sort_values(["word", "n", "label"], ascending=[True, False, True]).drop_duplicates("word")
    lookup = dict(zip(best["word"], best["label"]))
    overall = df["label"].value_counts().sort_index().idxmax() if len(df) else ""
    return np.array([lookup.get(w, overall) for w in np.asarray(test_words, dtype=str)], dtype=object)


def fresh_probe(probe: ElasticNetProbe) -> ElasticNetProbe:
    """An unfitted probe with ``probe``'s parameters (budget, lambdas, seed): what every retrain fits."""
    return clone(probe).set_params(warm_start=False)


def retrain_predict(
    probe: ElasticNetProbe, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, kept: np.ndarray
) -> np.ndarray:
    """Predictions of a fresh probe fitted on the kept neurons only, with ``probe``'s own parameters.

    The retrained probe gets exactly the full probe's training budget (epochs,
    batch size, schedule, lambdas, seed), and the kept neurons keep their layer
    order, so keeping every neuron reproduces the full probe.
    """
    kept = np.sort(np.asarray(kept, dtype=np.int64))
    return fresh_probe(probe).fit(X_train[:, kept], y_train).predict(X_test[:, kept])


def per_label_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> pd.DataFrame:
    """Accuracy and support per gold label."""
    df = pd.DataFrame({"label": np.asarray(y_true, dtype=str), "right": np.asarray(y_true) == np.asarray(y_pred)})
    g = df.groupby("label")["right"]
    return pd.DataFrame({"accuracy": g.mean(), "support": g.size()}).reset_index()


#: The (l1, l2) pair of NeuroX's script that produced the paper's results: reported beside the selected pair.
PAPER_LAMBDAS = (1e-5, 1e-5)


def select_lambdas(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    grid: Sequence[tuple[float, float]],
    tolerance: float,
    probe_params: dict[str, Any],
    held_out: float = 0.1,
    random_state: int = 0,
    split_seed: int = 0,
    progress: Callable[[Any], Any] | None = None,
    path_tol: float | None = None,
    criterion: str = "concentration",
    seeds: int = 1,
    keep: float = 0.1,
    refit: int = 5,
) -> tuple[tuple[float, float], pd.DataFrame]:
    """Choose the probe's (l1, l2) on held-out sentences of train (never on test): the development split,
    ``held_out`` of the sentences drawn with ``split_seed`` (:func:`~neurosieve.analysis.calibration.selection_split`,
    the same sentences the greedy oracle selects on); ``random_state`` seeds the probes.

    ``criterion="concentration"`` is the paper's choice: among the pairs whose held-out accuracy is within
    ``tolerance`` of the reference's, the one that concentrates weight most.

    ``criterion="retrain_topk"`` is the ablation-driven choice (Dalvi et al. 2019; Durrani et al. 2020): each
    pair's probe ranks the neurons (LCA on standardised weights, ``lca_std``), a probe retrained on its top
    ``keep`` fraction is scored on the held-out sentences; the ``refit`` best pairs are fitted and scored again
    with ``seeds`` - 1 more probe seeds, and the best mean wins. Pairs whose score lies within the noise of the
    best (the largest sd over probe seeds) are tied with it and never called different: among them the sparsest
    probe (the largest l1, then the largest l2) is chosen. The table keeps each pair's mean, sd, seed count and tie flag.

    With the converging solver (``solver="fista"``) the pairs are one
    warm-started path from the largest penalty down, every fit solves its objective, and the
    reference is the pair with the best held-out accuracy (the unregularised problem has no
    finite solution on separable labels, so it is not fitted). The table also holds the
    fixed-budget probe of earlier versions (Adam at the paper's pair, ``fixed_budget``; never a
    candidate), so that the chosen pair's held-out accuracy stands beside it. ``path_tol`` (the
    path's fits only rank pairs) replaces the solver's ``tol`` for them.

    With ``solver="adam"`` (the fixed budget) the reference is the unregularised pair (0, 0),
    early-stopped; it is chosen only when no penalised pair is within tolerance (the table's
    ``fallback`` column says so). The paper's default pair is always fitted too (``paper_default``
    marks it). ``zeros`` is the share of exactly-zero weights, ``neurons_used`` the neurons with
    a nonzero weight for some label.
    """
    dev = selection_split(groups, held_out, split_seed)
    fit_idx, val_idx = dev.fit, dev.select
    solver = str(probe_params.get("solver", "adam"))
    penalised = [(float(a), float(b)) for a, b in grid]
    pairs = list(dict.fromkeys([*(([(0.0, 0.0)]) if solver == "adam" else []), *penalised, PAPER_LAMBDAS]))
    path_params = {**probe_params, **({"tol": path_tol} if path_tol is not None and solver != "adam" else {})}
    probes = [ElasticNetProbe(l1=l1, l2=l2, random_state=random_state, **path_params) for l1, l2 in pairs]
    budget = {**probe_params, "solver": "adam"}
    if solver != "adam":
        probes.append(ElasticNetProbe(l1=PAPER_LAMBDAS[0], l2=PAPER_LAMBDAS[1], random_state=random_state, **budget))
    probes = fit_probes(X[fit_idx], y[fit_idx], probes, progress=progress, path=solver != "adam")
    rows = []
    for i, probe in enumerate(probes):
        fixed = i >= len(pairs)
        rows.append(
            {
                "l1": float(probe.l1),
                "l2": float(probe.l2),
                "solver": str(probe.solver),
                "accuracy": probe.score(X[val_idx], y[val_idx]),
                "concentration": weight_concentration(probe.coef_),
                "zeros": float((probe.coef_ == 0).mean()),
                "neurons_used": int((probe.coef_ != 0).any(axis=0).sum()),
                "converged": bool(getattr(probe, "converged_", False)),  # fista fits only
                "iterations": int(getattr(probe, "n_iter_", 0)),
                "fixed_budget": fixed or solver == "adam",
            }
        )
    table = pd.DataFrame(rows)
    if criterion not in ("concentration", "retrain_topk"):
        raise ValueError(f"criterion must be concentration or retrain_topk, got {criterion!r}")
    if criterion == "retrain_topk":
        return _select_by_retrain(
            X, y, fit_idx, val_idx, pairs, probes[: len(pairs)], table, seeds, keep, path_params, refit
        )
    candidates = ~table["fixed_budget"] if solver != "adam" else pd.Series(True, index=table.index)
    if solver == "adam":
        reference = (table["l1"] == 0) & (table["l2"] == 0)
    else:
        # The best held-out accuracy; ties to the larger penalty (the sparser fit).
        pen = table["l1"] + table["l2"]
        best = table[candidates].assign(pen=pen).sort_values(["accuracy", "pen"], ascending=False).index[0]
        reference = pd.Series(table.index == best, index=table.index)
    base = table.loc[reference, "accuracy"].item()
    within = candidates & (table["accuracy"] >= base - tolerance)
    ok = table[within & ~reference] if solver == "adam" else table[within]
    fallback = solver == "adam" and ok.empty
    best_row = (table[reference] if fallback else ok.sort_values(["concentration", "accuracy"], ascending=False)).iloc[
        0
    ]
    table["reference"] = reference
    table["within_tolerance"] = within
    table["paper_default"] = (table["l1"] == PAPER_LAMBDAS[0]) & (table["l2"] == PAPER_LAMBDAS[1]) & candidates
    table["chosen"] = (table["l1"] == best_row["l1"]) & (table["l2"] == best_row["l2"]) & candidates
    table["fallback"] = fallback
    return (float(best_row["l1"]), float(best_row["l2"])), table


def _select_by_retrain(
    X: np.ndarray,
    y: np.ndarray,
    fit_idx: np.ndarray,
    val_idx: np.ndarray,
    pairs: Sequence[tuple[float, float]],
    fitted: Sequence[ElasticNetProbe],
    table: pd.DataFrame,
    seeds: int,
    keep: float,
    probe_params: dict[str, Any],
    refit: int = 5,
) -> tuple[tuple[float, float], pd.DataFrame]:
    """:func:`select_lambdas`' ``retrain_topk`` criterion (see there), on the path's fits as probe seed 0.

    Every pair is scored with probe seed 0; the ``refit`` best are fitted and scored again with the other
    probe seeds. The noise is the largest sd over probe seeds among them, and a pair whose mean (seed 0's
    score alone for the others) lies within it of the best mean is tied with the best.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    if probe_params.get("solver", "adam") != "adam":
        seeds = 1  # deterministic solver: other seeds would only compare path fits with cold fits
    X_fit, y_fit, X_val, y_val = X[fit_idx], y[fit_idx], X[val_idx], y[val_idx]
    sd = X_fit.std(axis=0)

    def scores_of(probes: Sequence[ElasticNetProbe]) -> np.ndarray:
        return np.array(top_fraction_retrain(probes, X_fit, y_fit, X_val, y_val, keep, sd))

    n = len(pairs)
    first = scores_of(fitted)
    per_pair = [[float(v)] for v in first]
    again = np.argsort(-first, kind="stable")[: min(refit, n)] if seeds > 1 else np.array([], dtype=int)
    base_seed = 0 if fitted[0].random_state is None else int(fitted[0].random_state)
    extra = [
        ElasticNetProbe(
            l1=pairs[i][0], l2=pairs[i][1], random_state=base_seed + s, **{**probe_params, "warm_start": False}
        )
        for s in range(1, seeds)
        for i in again
    ]
    if extra:
        again_scores = scores_of(fit_probes(X_fit, y_fit, extra))
        for i, v in zip([i for _ in range(1, seeds) for i in again], again_scores):
            per_pair[i].append(float(v))
    mean = np.array([np.mean(v) for v in per_pair])
    sd_seeds = np.array([np.std(v, ddof=1) if len(v) > 1 else np.nan for v in per_pair])
    noise = float(np.nanmax(sd_seeds)) if np.isfinite(sd_seeds).any() else 0.0
    refitted = np.zeros(n, dtype=bool)
    refitted[again] = True
    best = int(np.flatnonzero(refitted)[np.argmax(mean[refitted])]) if refitted.any() else int(np.argmax(mean))
    tied = mean >= mean[best] - noise
    # Ties go to the sparsest probe: the largest l1, then the largest l2.
    chosen = max(np.flatnonzero(tied), key=lambda i: (pairs[i][0], pairs[i][1], mean[i]))
    table = table.copy()
    cand = np.zeros(len(table), dtype=bool)
    cand[:n] = True
    rest = len(table) - n
    table["topk_accuracy"] = np.r_[mean, np.full(rest, np.nan)]
    table["topk_sd"] = np.r_[sd_seeds, np.full(rest, np.nan)]
    table["topk_seeds"] = np.r_[[len(v) for v in per_pair], np.zeros(rest, dtype=int)]
    table["topk_noise"] = noise
    table["reference"] = np.r_[np.arange(n) == best, np.zeros(rest, dtype=bool)]
    table["within_tolerance"] = np.r_[tied, np.zeros(rest, dtype=bool)]
    table["paper_default"] = (table["l1"] == PAPER_LAMBDAS[0]) & (table["l2"] == PAPER_LAMBDAS[1]) & cand
    table["chosen"] = np.r_[np.arange(n) == chosen, np.zeros(rest, dtype=bool)]
    table["fallback"] = False
    return (float(pairs[chosen][0]), float(pairs[chosen][1])), table


def grid_pairs(grid: Sequence[Sequence[float]] | Mapping[str, Sequence[float]]) -> list[tuple[float, float]]:
    """The (l1, l2) pairs of a grid given as explicit pairs, or as ``{"l1": [...], "l2": [...]}`` value lists
    whose product is searched (except (0, 0); put 0 in a list to get pure-l1 or pure-l2 pairs)."""
    if isinstance(grid, Mapping):
        return [(float(a), float(b)) for a in grid["l1"] for b in grid["l2"] if a or b]
    return [(float(a), float(b)) for a, b in grid]


def _metric_rows(metric: str, values: Mapping[str, float]) -> list[dict[str, Any]]:
    return [{"metric": metric, "group": g, "value": float(v)} for g, v in values.items()]


def top_fraction_kept(probe: ElasticNetProbe, fraction: float = 0.1, sd: np.ndarray | None = None) -> np.ndarray:
    """The top ``fraction`` (at least one neuron) of ``probe``'s LCA ordering, in layer order, as :func:`retrain_predict` keeps them.

    With ``sd`` (each neuron's standard deviation) the ordering is on standardised weights, |w| x sd (``lca_std``).
    """
    coef = probe.coef_ if sd is None else np.abs(probe.coef_) * np.asarray(sd)[None, :]
    order = neuron_ordering(coef)
    return np.sort(order[: max(1, int(round(fraction * len(order))))])


def top_fraction_retrain(
    probes: Sequence[ElasticNetProbe],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    fraction: float = 0.1,
    sd: np.ndarray | None = None,
) -> list[float]:
    """Test accuracy of each probe retrained (same budget) on the top ``fraction`` of its own LCA ordering
    (on standardised weights with ``sd``, see :func:`top_fraction_kept`).

    Each retrained probe is what :func:`retrain_predict` fits for its probe (the
    probe's parameters, lambdas and seed included, on its kept neurons in layer
    order); all are fitted in one :func:`~neurosieve.analysis.probe_batch.fit_probes`
    call, which gives each its solo fit up to float rounding in less time than
    one solo fit after another.
    """

    preds = top_fraction_retrain_predictions(probes, X_train, y_train, X_test, fraction, sd)
    return [float(np.mean(p == y_test)) for p in preds]


def top_fraction_retrain_predictions(
    probes: Sequence[ElasticNetProbe],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    fraction: float = 0.1,
    sd: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The test predictions of each probe retrained on the top ``fraction`` of its own LCA ordering, as
    :func:`top_fraction_retrain` scores them (per token: what a sentence bootstrap of their accuracy needs)."""
    kept = [top_fraction_kept(p, fraction, sd) for p in probes]
    fitted = fit_probes(X_train, y_train, [fresh_probe(p) for p in probes], kept)
    return [r.predict(X_test[:, k]) for r, k in zip(fitted, kept)]


@dataclass(frozen=True)
class RankingInputs:
    """What a probe job's rankings are computed from, each computed once (:meth:`build`).

    ``coef`` holds the selected probe's raw-space weights (labels × neurons, rows in ``classes``
    order), ``sd`` each neuron's standard deviation over the training tokens (so ``|coef| * sd``
    is the weight on the standardised neuron: importance that no longer depends on the neuron's
    scale), ``label_share`` each row's share of the training tokens, and ``paper_coef`` the
    raw-space weights of the probe fitted at the paper's lambdas (``coef`` itself when the
    selected lambdas are the paper's).
    """

    coef: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    seed: int
    classes: np.ndarray
    sd: np.ndarray
    label_share: np.ndarray
    paper_coef: np.ndarray

    @classmethod
    def build(
        cls,
        coef: np.ndarray,
        classes: np.ndarray,
        X_train: np.ndarray,
        y_train: np.ndarray,
        seed: int,
        paper_coef: np.ndarray | None = None,
    ) -> RankingInputs:
        """The inputs of every probe ranking: the per-neuron sd and the label shares computed once from train.

        ``paper_coef`` None means the selected probe is the paper's (its weights are used for both).
        """
        classes = np.asarray(classes).astype(str)
        _, sd = column_moments(activation_matrix(X_train))
        labels, counts = np.unique(np.asarray(y_train).astype(str), return_counts=True)
        count_of = dict(zip(labels, counts))
        share = np.array([count_of.get(c, 0) for c in classes], dtype=np.float64) / max(1, len(y_train))
        return cls(
            coef=coef,
            X_train=X_train,
            y_train=y_train,
            seed=seed,
            classes=classes,
            sd=np.asarray(sd, dtype=np.float64),
            label_share=share,
            paper_coef=coef if paper_coef is None else paper_coef,
        )

    @property
    def standardised_coef(self) -> np.ndarray:
        """|weights| on the standardised neurons, ``|coef| * sd`` (labels × neurons, float64)."""
        return np.abs(np.asarray(self.coef, dtype=np.float64)) * self.sd[None, :]


def _lca_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    order = neuron_ordering(ctx.coef)
    return order, np.abs(ctx.coef).sum(axis=0)[order]


def _lca_std_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    # NeuroX's mass sweep on |w| * sd: a near-constant neuron no longer wins by its large raw weight.
    std = ctx.standardised_coef
    order = neuron_ordering(std)
    return order, std.sum(axis=0)[order]


def frequency_weighted_mass(std_coef: np.ndarray, label_share: np.ndarray) -> np.ndarray:
    """Per neuron, the sum over labels of each label's share of training tokens times its |weight|.

    One global score instead of one vote per label: a neuron that only a rare label uses (a
    handful of training tokens) no longer outranks one that the frequent labels need. Pass
    standardised weights (``|w| * sd``) so that the neuron's scale does not decide either.
    """
    return np.asarray(label_share, dtype=np.float64) @ np.abs(np.asarray(std_coef, dtype=np.float64))


def _lca_freq_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    score = frequency_weighted_mass(ctx.standardised_coef, ctx.label_share)
    order = order_by_score(score)
    return order, score[order]


def _lca_paper_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    order = neuron_ordering(ctx.paper_coef)
    return order, np.abs(ctx.paper_coef).sum(axis=0)[order]


def _probeless_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    scores = probeless_scores(ctx.X_train, ctx.y_train)
    return order_by_score(scores), np.sort(scores)[::-1]


def _activation_sd_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    # A trivial baseline that sees no labels: the neurons that vary most over the training tokens first.
    order = order_by_score(ctx.sd)
    return order, ctx.sd[order]


def _activation_mean_abs_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    # A trivial baseline that sees no labels: the neurons with the largest mean |activation| first (blocks of rows,
    # so that no float64 copy of the layer is made).
    X = ctx.X_train
    total = np.zeros(X.shape[1])
    rows = block_rows(X.shape[1], 8)
    for b in range(0, len(X), rows):
        block = X[b : b + rows].astype(np.float64)  # a copy, always: |x| is taken in place
        total += np.abs(block, out=block).sum(axis=0)
    score = total / max(1, len(X))
    order = order_by_score(score)
    return order, score[order]


def _random_ranking(ctx: RankingInputs) -> tuple[np.ndarray, np.ndarray]:
    d = ctx.coef.shape[1]
    return np.random.default_rng([ctx.seed, 7]).permutation(d), np.full(d, np.nan)


#: How each probe ranking of the registry (:data:`neurosieve.core.registry.RANKINGS`, source ``probe``) orders a
#: layer's neurons: (neurons, most important first; the score of each, or NaN). A new probe ranking is one
#: registry entry plus one function here.
PROBE_RANKING_FUNCTIONS: dict[str, Callable[[RankingInputs], tuple[np.ndarray, np.ndarray]]] = {
    "lca": _lca_ranking,
    "lca_std": _lca_std_ranking,
    "lca_freq": _lca_freq_ranking,
    "lca_paper": _lca_paper_ranking,
    "probeless": _probeless_ranking,
    "activation_sd": _activation_sd_ranking,
    "activation_mean_abs": _activation_mean_abs_ranking,
    "random": _random_ranking,
}
#: The probe rankings in registry order (the row order of a probe job's orderings table).
PROBE_RANKING_ORDER = tuple(r.name for r in RANKINGS if r.source == "probe")


def probe_layer(
    X_train: np.ndarray,
    train_keys: pd.DataFrame,
    X_test: np.ndarray,
    test_keys: pd.DataFrame,
    prop: str,
    *,
    l1: float,
    l2: float,
    probe_params: dict[str, Any],
    salient_fraction: float,
    seed: int,
    input_keys: InputKeys | None = None,
    untrained: pd.DataFrame | None = None,
    untrained_tokens: pd.DataFrame | None = None,
    paper_lambdas: tuple[float, float] | None = PAPER_LAMBDAS,
    X_train_unk: np.ndarray | None = None,
    fixed_budget_baseline: bool = True,
    probe_seeds: int = 1,
) -> dict[str, Any]:
    """Everything LCA says about one layer and one property: probe, metrics, orderings, per-label neurons, baselines.

    Beside the probe's accuracy the metrics table holds what it must be compared to:
    the per-word majority baseline on the same test tokens (keyed on raw words, and on the model's
    input keys: ``majority_baseline_input_key``; with 95 % sentence-bootstrap intervals of the accuracy and of
    the margin over that lookup, ``accuracy_bootstrap`` and ``minus_majority_input_key_bootstrap``), the control task
    (labels keyed on ``input_keys``, what the model sees; raw word types when
    None), the untrained model's probe (rows of ``untrained``, its metrics table,
    copied as ``untrained_*``; with ``untrained_tokens``, its per-token table, the sentence-bootstrap intervals of
    the probe minus the untrained model's and of the selectivity minus the untrained model's,
    ``minus_untrained_bootstrap`` and ``selectivity_minus_untrained_bootstrap``), accuracy on in- and
    out-of-vocabulary tokens, and the paper's default lambdas with their top-10% retrain result. With
    ``X_train_unk`` (train activations extracted with the tagger's word dropout)
    a second probe shows whether seeing ``<unk>`` in training closes the OOV gap.
    With the converging solver (``probe_params["solver"] == "fista"``) the table also
    holds ``fixed_budget_accuracy`` (with ``fixed_budget_baseline``: the Adam probe of earlier
    versions at the paper's pair, the number this probe replaces), whether the solver converged, its iterations
    and the share of exactly-zero weights. With ``probe_seeds`` above 1 the selected probe is fitted again with
    seeds ``seed + 1``, ... (another initialisation and batch order): ``probe_seed_accuracy`` and
    ``probe_seed_top10pct_retrain_accuracy`` hold each probe seed's full-width accuracy and its own LCA top 10 %
    retrained (group ``0`` is the selected probe), the optimiser's noise beside every probe number. The
    converging solver is deterministic (no seed enters it), so with it there is one probe seed.

    Every probe is fitted with :func:`~neurosieve.analysis.probe_batch.fit_probes` (each
    as its solo fit, up to float rounding): one call for the full-width probes
    (selected, control, paper default, ``<unk>``, fixed budget), one for the top-10% retrains.
    The ``fit_seconds`` metric is the wall time of the first call, i.e. of all
    full-width probes together.
    """
    import time

    keys_of = input_keys or raw_input_keys
    train_words = train_keys["word"].astype(str).to_numpy()
    test_words = test_keys["word"].astype(str).to_numpy()
    train_in, _ = keys_of(train_words)
    test_in, in_vocab = keys_of(test_words)
    y_train = train_keys[prop].astype(str).to_numpy()
    y_test = test_keys[prop].astype(str).to_numpy()
    open_mask = open_class_mask(test_keys)

    def grouped(pred: np.ndarray, truth: np.ndarray = y_test) -> dict[str, float]:
        return grouped_accuracy(truth, pred, open_mask, in_vocab)

    control = control_labels(np.concatenate([train_in, test_in]), y_train, seed)
    c_train = np.array([control[str(k)] for k in train_in])
    c_test = np.array([control[str(k)] for k in test_in])
    d = X_train.shape[1]
    if X_train_unk is not None and X_train_unk.shape != X_train.shape:
        raise ValueError(
            f"X_train_unk has shape {X_train_unk.shape}, X_train {X_train.shape}: they must be the same tokens and neurons"
        )
    # Every full-width probe of the job is fitted in one batched call (cheaper than one solo fit after another):
    # name -> (l1, l2, training labels). The <unk> probe sees other activations of the same tokens, so the call
    # gets [X_train | X_train_unk] and that probe columns d..2d-1 (standardisation is per column: each probe
    # sees exactly what its solo fit would, and the <unk> probe's weights line up with neurons 0..d-1).
    full: dict[str, tuple[float, float, np.ndarray]] = {"selected": (l1, l2, y_train), "control": (l1, l2, c_train)}
    if probe_seeds < 1:
        raise ValueError(f"probe_seeds must be at least 1, got {probe_seeds}")
    if probe_params.get("solver", "adam") != "adam":
        probe_seeds = 1  # the converging solver is deterministic: another seed refits the same probe
    seed_offset = {f"probe_seed{j}": j for j in range(1, probe_seeds)}  # the other probe seeds' fits
    for name in seed_offset:
        full[name] = (l1, l2, y_train)
    if paper_lambdas is not None and (float(paper_lambdas[0]), float(paper_lambdas[1])) != (float(l1), float(l2)):
        full["paper"] = (paper_lambdas[0], paper_lambdas[1], y_train)
    if X_train_unk is not None:
        full["unk"] = (l1, l2, y_train)
    converging = probe_params.get("solver", "adam") != "adam"
    if converging and fixed_budget_baseline and paper_lambdas is not None:
        # The fixed-budget probe of earlier versions (Adam at the paper's pair), reported beside the solved one.
        full["fixed_budget"] = (paper_lambdas[0], paper_lambdas[1], y_train)
    X_fit = [X_train] if X_train_unk is None else [X_train, X_train_unk]  # column blocks: no concatenated copy
    kept = [np.arange(d, 2 * d) if name == "unk" else np.arange(d) for name in full]
    start = time.perf_counter()  # fit_seconds: the one batched call fitting every full-width probe (2 to 4 of them)
    fitted = fit_probes(
        X_fit,
        [labels for _, _, labels in full.values()],
        [
            ElasticNetProbe(
                l1=a,
                l2=b,
                random_state=seed + seed_offset.get(name, 0),
                **{**probe_params, **({"solver": "adam"} if name == "fixed_budget" else {})},
            )
            for name, (a, b, _) in full.items()
        ],
        kept,
    )
    fit_seconds = time.perf_counter() - start
    probes = dict(zip(full, fitted))
    probe, c_probe = probes["selected"], probes["control"]
    paper = probes.get("paper", probe) if paper_lambdas is not None else None
    # The top-10% retrains of the selected, the paper-default and the other probe seeds' probes, in one batched call.
    seeded = [probes[name] for name in seed_offset]
    own_paper = paper is not None and paper is not probe
    retrain_pred = top_fraction_retrain_predictions(
        [probe, *seeded, *([paper] if own_paper else [])], X_train, y_train, X_test
    )  # selected, the other probe seeds (in order), then the paper-default probe when it is another one
    retrain_acc = [float(np.mean(p == y_test)) for p in retrain_pred]
    pred = probe.predict(X_test)
    acc = grouped(pred)
    c_pred = c_probe.predict(X_test)
    c_acc = grouped(c_pred, c_test)

    train_labels, test_labels = set(y_train), set(y_test)
    unseen = ~np.isin(y_test, list(train_labels))
    metrics = _metric_rows("accuracy", acc)
    metrics += _metric_rows("control_accuracy", c_acc)
    metrics += _metric_rows("selectivity", {g: acc[g] - c_acc[g] for g in acc})
    raw_lookup = majority_baseline(train_words, y_train, test_words)
    metrics += _metric_rows("majority_baseline", grouped(raw_lookup))
    # The same lookup keyed on what the model sees (its input keys: e.g. lowercased, <unk> for rare words).
    keyed = majority_baseline(np.asarray(train_in, dtype=str), y_train, np.asarray(test_in, dtype=str))
    metrics += _metric_rows("majority_baseline_input_key", grouped(keyed))
    # Test-set sampling noise: sentence-bootstrap intervals (the same resampled sentences for both columns of a
    # difference) of every number the summary compares within this job, so that a family of one instance, which
    # has no interval over instances, still has one over its test set.
    right = (pred == y_test).astype(np.float64)
    seed_preds = [p.predict(X_test) for p in seeded]
    # Each token's correctness averaged over the probe seeds (the summary's accuracy where there are several).
    right_seeds = np.mean([right, *((q == y_test).astype(np.float64) for q in seed_preds)], axis=0)
    lookup_right = (keyed == y_test).astype(np.float64)
    raw_right = (raw_lookup == y_test).astype(np.float64)
    paper_pred = None if paper is None else (pred if paper is probe else paper.predict(X_test))
    # Token tables always carry sentence ids; without them each token is its own unit.
    sentences = test_keys["sentence"].to_numpy() if "sentence" in test_keys else np.arange(len(test_keys))
    iv = np.asarray(in_vocab, dtype=bool)
    contrasts: dict[str, tuple[Any, ...]] = {
        "accuracy_bootstrap": (right, None, None, None),
        "minus_majority_input_key_bootstrap": (right_seeds - lookup_right, None, None, None),
        "minus_majority_bootstrap": (right_seeds - raw_right, None, None, None),
        "in_vocab_minus_oov_bootstrap": (right, iv, right, ~iv),
        "oov_minus_in_vocab_margin_bootstrap": (right - raw_right, ~iv, right - raw_right, iv),
    }
    c_right = (c_pred == c_test).astype(np.float64)
    # Each test token's correctness, for a bootstrap across jobs (the trained model's probe minus the untrained
    # model's, on the same test tokens): the selected probe, its mean over probe seeds and the control task's.
    tokens = pd.DataFrame(
        {
            "sentence": sentences,
            "right": right.astype(np.float32),
            "right_seeds": right_seeds.astype(np.float32),
            "control_right": c_right.astype(np.float32),
        }
    )
    contrasts["selectivity_bootstrap"] = (right - c_right, None, None, None)
    if seeded:
        contrasts["accuracy_seed_mean_bootstrap"] = (right_seeds, None, None, None)
        retrain_seeds = np.mean([p == y_test for p in retrain_pred[: 1 + len(seeded)]], axis=0)
        contrasts["top10pct_retrain_seed_mean_bootstrap"] = (retrain_seeds, None, None, None)
    u = untrained_token_columns(untrained_tokens, tokens)
    if u is not None:
        # The summary's rows: the probe-seed mean minus the untrained model's selected probe, and the selected
        # probe's selectivity minus the untrained model's.
        contrasts["minus_untrained_bootstrap"] = (right_seeds - u["right"], None, None, None)
        contrasts["selectivity_minus_untrained_bootstrap"] = (
            (right - c_right) - (u["right"] - u["control_right"]),
            None,
            None,
            None,
        )
    if paper_pred is not None:
        contrasts["chosen_minus_paper_bootstrap"] = (right - (paper_pred == y_test), None, None, None)
        top_paper = retrain_pred[-1 if own_paper else 0]
        contrasts["top10_chosen_minus_paper_bootstrap"] = (
            (retrain_pred[0] == y_test).astype(np.float64) - (top_paper == y_test),
            None,
            None,
            None,
        )
    if "fixed_budget" in probes:
        # The solved probe (selected) minus the fixed-budget Adam probe, token by token.
        fixed_pred = probes["fixed_budget"].predict(X_test)
        fixed_right = fixed_pred == y_test
        contrasts["solved_minus_fixed_budget_bootstrap"] = (right - fixed_right, None, None, None)
    if prop == "pos":
        contrasts["open_minus_closed_in_vocab_bootstrap"] = (right, open_mask & iv, right, ~open_mask & iv)
    for name, (a, in_a, b, in_b) in contrasts.items():
        low, high = sentence_bootstrap_contrast(a, in_a, b, in_b, sentences, seed=seed)
        metrics += [{"metric": name, "group": "low", "value": low}, {"metric": name, "group": "high", "value": high}]
    metrics += _metric_rows(
        "oov_share",
        {
            "overall": float(1 - in_vocab.mean()),
            "open": float(1 - in_vocab[open_mask].mean()) if open_mask.any() else float("nan"),
        },
    )
    if untrained is not None:
        base = untrained[untrained["metric"].isin(["accuracy", "control_accuracy", "selectivity"])]
        metrics += [
            {"metric": f"untrained_{r.metric}", "group": r.group, "value": float(r.value)} for r in base.itertuples()
        ]
    metrics += [
        {"metric": "l1", "group": "", "value": l1},
        {"metric": "l2", "group": "", "value": l2},
        {"metric": "fit_seconds", "group": "", "value": fit_seconds},
        {"metric": "test_tokens_with_label_unseen_in_train", "group": "", "value": float(unseen.sum())},
        {
            "metric": "labels_only_in_test",
            "group": ",".join(sorted(test_labels - train_labels)),
            "value": float(len(test_labels - train_labels)),
        },
        {
            "metric": "labels_only_in_train",
            "group": ",".join(sorted(train_labels - test_labels)),
            "value": float(len(train_labels - test_labels)),
        },
        {"metric": "weight_concentration_top10pct", "group": "", "value": weight_concentration(probe.coef_)},
        {"metric": "top10pct_retrain_accuracy", "group": "selected", "value": retrain_acc[0]},
    ]
    if paper is not None:
        metrics += _metric_rows("paper_default_accuracy", acc if paper is probe else grouped(paper_pred))
        metrics += [
            {
                "metric": "top10pct_retrain_accuracy",
                "group": "paper_default",
                "value": retrain_acc[-1 if own_paper else 0],
            },
            {
                "metric": "paper_default_weight_concentration_top10pct",
                "group": "",
                "value": weight_concentration(paper.coef_),
            },
        ]
    if seeded:
        right_by_seed = [right.mean(), *(np.mean(q == y_test) for q in seed_preds)]  # seed 0: ``pred``
        metrics += [
            {"metric": "probe_seed_accuracy", "group": str(j), "value": float(a)} for j, a in enumerate(right_by_seed)
        ]
        metrics += [
            {"metric": "probe_seed_top10pct_retrain_accuracy", "group": str(j), "value": a}
            for j, a in enumerate(retrain_acc[: 1 + len(seeded)])
        ]
    if X_train_unk is not None:
        metrics += _metric_rows("unk_trained_accuracy", grouped(probes["unk"].predict(X_test)))
    if "fixed_budget" in probes:
        metrics += _metric_rows("fixed_budget_accuracy", grouped(fixed_pred))
    if converging:
        metrics += [
            {"metric": "solver_converged", "group": "", "value": float(bool(probe.converged_))},
            {"metric": "solver_iterations", "group": "", "value": float(probe.n_iter_)},
            {"metric": "zero_weight_share", "group": "", "value": float((probe.coef_ == 0).mean())},
        ]

    # The paper-lambda probe is the selected one when the lambdas agree; without paper lambdas, lca_paper is lca.
    ctx = RankingInputs.build(
        probe.coef_, probe.classes_, X_train, y_train, seed, paper_coef=None if paper is None else paper.coef_
    )
    orderings = pd.concat(
        [
            pd.DataFrame({"method": name, "rank": np.arange(1, d + 1), "neuron": order, "score": score})
            for name, (order, score) in ((r, PROBE_RANKING_FUNCTIONS[r](ctx)) for r in PROBE_RANKING_ORDER)
        ],
        ignore_index=True,
    )
    weights = pd.DataFrame(
        {
            "label": np.repeat(probe.classes_.astype(str), d),
            "neuron": np.tile(np.arange(d), len(probe.classes_)),
            "weight": probe.coef_.reshape(-1),
        }
    )
    freq = pd.Series(y_train).value_counts()
    per_label = per_label_accuracy(y_test, pred).set_index("label")
    salient = top_neurons_per_label(probe.coef_, salient_fraction)
    labels = pd.DataFrame(
        {
            "label": probe.classes_.astype(str),
            "train_count": [int(freq.get(c, 0)) for c in probe.classes_],
            "test_count": [int(per_label["support"].get(c, 0)) for c in probe.classes_],
            "accuracy": [float(per_label["accuracy"].get(c, np.nan)) for c in probe.classes_],
            "open_class": [c in OPEN_CLASS_POS for c in probe.classes_] if prop == "pos" else None,
            "neurons_needed": [len(s) for s in salient],
            "salient_neurons": [s.tolist() for s in salient],
        }
    )
    return {
        "probe": probe,
        "metrics": pd.DataFrame(metrics),
        "tokens": tokens,
        "orderings": orderings,
        "weights": weights,
        "labels": labels,
    }


def untrained_token_columns(untrained: pd.DataFrame | None, tokens: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """The untrained model's per-token columns (``right``, ``control_right``) when its table covers the same test
    tokens as ``tokens`` (same count, same sentence ids in the same order); None otherwise (no table, or another
    tokenisation: then no paired per-token contrast exists)."""
    if untrained is None or len(untrained) != len(tokens):
        return None
    if not np.array_equal(untrained["sentence"].to_numpy(), tokens["sentence"].to_numpy()):
        return None
    return {c: untrained[c].to_numpy(dtype=np.float64) for c in ("right", "control_right")}


def probe_all_layers(
    train_layers: Sequence[np.ndarray] | np.ndarray,
    y_train: np.ndarray,
    test_layers: Sequence[np.ndarray] | np.ndarray,
    y_test: np.ndarray,
    layers: Sequence[int],
    *,
    l1: float,
    l2: float,
    probe_params: dict[str, Any],
    seed: int,
    widths: Sequence[int] | None = None,
) -> dict[str, Any]:
    """All-layer LCA (Durrani et al. 2020): one probe on every layer's neurons concatenated, giving one
    ordering over every neuron of the model; the paper's all-layers pool, whose top, bottom and random
    neurons probe ablation keeps (:func:`neurosieve.stages.ablation.run_pool_ablation`).

    Returns the probe, its accuracy and the orderings of every probe ranking of the registry over the
    pool (long: method, rank, neuron, score), with each neuron's layer and index within the layer.
    The probe is fitted at the given lambdas, so ``lca_paper`` is ``lca`` when they are the paper's.
    ``train_layers`` and ``test_layers`` are each layer's (tokens × neurons) array, or (with ``widths``, each
    layer's neurons) all layers side by side in one array, as :func:`neurosieve.store.activations.read_layers`
    reads them without a second copy.
    """
    if widths is None:
        widths = [a.shape[1] for a in train_layers]
        X_train = np.concatenate(list(train_layers), axis=1)
        X_test = np.concatenate(list(test_layers), axis=1)
    else:
        X_train, X_test = np.asarray(train_layers), np.asarray(test_layers)
        if X_train.shape[1] != sum(widths) or X_test.shape[1] != sum(widths):
            raise ValueError(f"widths {list(widths)} do not add up to the matrices' {X_train.shape[1]} columns")
    layer_of = np.repeat(np.asarray(layers, dtype=np.int64), widths)
    within = np.concatenate([np.arange(w) for w in widths])
    probe = ElasticNetProbe(l1=l1, l2=l2, random_state=seed, **probe_params).fit(X_train, y_train)
    ctx = RankingInputs.build(probe.coef_, probe.classes_, X_train, y_train, seed)
    d = X_train.shape[1]
    orderings = pd.concat(
        [
            pd.DataFrame(
                {
                    "method": name,
                    "rank": np.arange(1, d + 1),
                    "neuron": order,
                    "score": score,
                    "layer": layer_of[order],
                    "layer_neuron": within[order],
                }
            )
            for name, (order, score) in ((r, PROBE_RANKING_FUNCTIONS[r](ctx)) for r in PROBE_RANKING_ORDER)
        ],
        ignore_index=True,
    )
    return {"probe": probe, "accuracy": probe.score(X_test, y_test), "orderings": orderings}


def top_neurons_by_layer(
    ordering: pd.DataFrame, fractions: Sequence[float] = (0.01, 0.05, 0.1), method: str = "lca"
) -> pd.DataFrame:
    """Where the top ``fractions`` of an all-layer ordering (``method``'s, when the table holds several) sit:
    neurons per layer and share of the selection."""
    if "method" in ordering:
        ordering = ordering[ordering["method"] == method]
    total = len(ordering)
    layers = sorted(ordering["layer"].unique())
    rows = []
    for f in fractions:
        k = max(1, int(round(f * total)))
        counts = ordering.nsmallest(k, "rank")["layer"].value_counts()
        rows += [
            {
                "fraction": f,
                "layer": int(layer),
                "neurons": int(counts.get(layer, 0)),
                "share": float(counts.get(layer, 0) / k),
            }
            for layer in layers
        ]
    return pd.DataFrame(rows)
