"""Ablation: does removing the neurons a ranking calls important hurt more than removing others?

Probe ablation keeps k neurons (top, bottom or random by a ranking) and either
masks the rest at test time (the trained probe scores as is) or retrains a
probe on the kept neurons only. Model ablation zeroes k neurons of a layer
inside a trained tagger and scores its chunking F1 (conlleval), the analogue of
the paper's BLEU-against-ablated-neurons curve. All curves are long tables:
ranking, direction, mode, k, metric, value, random seed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from neurosieve.analysis.calibration import ORACLE, calibrated_area_bootstrap, oracle_sources, selection_split
from neurosieve.analysis.metrics import COUNTS_KEY
from neurosieve.analysis.probe import ElasticNetProbe, activation_matrix, column_moments
from neurosieve.analysis.probe_batch import fit_probes
from neurosieve.analysis.probing import (
    PROBE_RANKING_FUNCTIONS,
    RankingInputs,
    fresh_probe,
    grouped_accuracy,
    order_by_score,
)
from neurosieve.analysis.verdicts import (
    percentile_interval,
    sentence_bootstrap,
    sentence_bootstrap_contrast,
    sentence_resampler,
)
from neurosieve.core.registry import TRIVIAL_RANKINGS

DIRECTIONS = ("top", "bottom")


REPORTED_PERCENTS = (10, 20)
"""The kept shares the summary reports (the paper's 10 %, and 20 %): the grid points nearest them."""


def reported_points(grid: Sequence[float] | Collection[float]) -> dict[float, int]:
    """The points of a percent grid nearest each reported share (:data:`REPORTED_PERCENTS`), once each:
    ``{grid point: reported share}`` in grid order (a point nearest both shares is named by the first)."""
    values = sorted({float(v) for v in grid})
    nearest: dict[float, int] = {}
    for target in REPORTED_PERCENTS if values else ():
        nearest.setdefault(min(values, key=lambda v: (abs(v - target), v)), target)
    return dict(sorted(nearest.items()))


def reported_ks(ks: Sequence[int], width: int) -> set[int]:
    """The neuron counts of a k grid at its reported shares (:func:`reported_points` of their percents)."""
    points = reported_points([100.0 * k / width for k in ks])
    return {k for k in ks if 100.0 * k / width in points}


def k_grid(width: int, percents: Sequence[float] = (), neurons: Sequence[int] = ()) -> list[int]:
    """Neuron counts from percentages of the layer and absolute counts, clipped to [0, width], 0 and width included."""
    ks = {0, width}
    ks.update(int(round(p / 100 * width)) for p in percents)
    ks.update(min(int(n), width) for n in neurons)
    return sorted(k for k in ks if 0 <= k <= width)


def selection(order: np.ndarray, k: int, direction: str) -> np.ndarray:
    """The k neurons a ranking's top or bottom end selects."""
    if direction == "top":
        return np.asarray(order[:k])
    if direction == "bottom":
        return np.asarray(order[len(order) - k :]) if k else np.asarray(order[:0])
    raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def random_selections(width: int, k: int, repeats: int, seed: int, salt: int = 0) -> list[tuple[int, np.ndarray]]:
    """``repeats`` seeded random selections of k neurons: (seed, neurons).

    ``salt`` (e.g. a hash of the instance's name) makes the draws of one seed differ between
    instances, so that a random band over instances spans more than one set of neuron indices.
    """
    key = (lambda r: [seed + r, k, salt]) if salt else (lambda r: [seed + r, k])
    return [
        (seed + r, np.sort(np.random.default_rng(key(r)).choice(width, size=k, replace=False))) for r in range(repeats)
    ]


def _curve_rows(meta: Mapping[str, Any], scores: Mapping[str, float]) -> list[dict[str, Any]]:
    return [{**meta, "metric": m, "value": float(v)} for m, v in scores.items()]


def _accuracies(
    y_true: np.ndarray, y_pred: np.ndarray, open_mask: np.ndarray, in_vocab: np.ndarray | None = None
) -> dict[str, float]:
    return {f"accuracy_{g}": v for g, v in grouped_accuracy(y_true, y_pred, open_mask, in_vocab).items()}


def _each_selection(  # type: ignore[no-untyped-def]
    rankings: Mapping[str, np.ndarray],
    width: int,
    ks: Sequence[int],
    random_repeats: int,
    seed: int,
    salt: int = 0,
    top_only: Collection[str] = (),
):
    """Every (ranking, direction, k, seed, kept neurons) of an ablation sweep; random selections once, ranking 'none'.

    A ranking is a permutation of the layer's neurons, or the first K of one (distinct neurons, fewer
    than the width: the greedy oracle's picks), which has top selections for k <= K only; so have the
    rankings named in ``top_only`` (an oracle whose K reaches the width has no meaningful bottom end).
    """
    for name, order in rankings.items():
        values = np.asarray(order).tolist()
        partial = len(values) < width
        # Distinct neurons of the layer (hence at most ``width`` of them).
        if len(set(values)) != len(values) or not set(values) <= set(range(width)):
            raise ValueError(
                f"ranking {name!r} is neither a permutation of the layer's {width} neurons nor the first K of one"
            )
        for direction in ("top",) if partial or name in top_only else DIRECTIONS:
            for k in ks:
                if k <= len(values):
                    yield name, direction, k, None, selection(order, k, direction)
    for k in ks:
        for s, kept in random_selections(width, k, random_repeats, seed, salt):
            yield "none", "random", k, s, kept


def probe_ablation(
    probe: ElasticNetProbe,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    open_mask: np.ndarray,
    rankings: Mapping[str, np.ndarray],
    ks: Sequence[int],
    modes: Sequence[str] = ("mask", "retrain"),
    random_repeats: int = 3,
    seed: int = 0,
    progress: Callable[[Any], Any] | None = None,
    in_vocab: np.ndarray | None = None,
    salt: int = 0,
    top_only: Collection[str] = (),
    probe_seeds: int = 1,
    seeded_ks: Collection[int] = (),
    sentences: np.ndarray | None = None,
    tokens: dict[tuple[str, str, int], list[np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Accuracy (overall, open class, closed class) of probes keeping k neurons, for every ranking and direction.

    ``mask``: zero the other neurons and score ``probe`` as trained. ``retrain``:
    fit a fresh probe on the kept neurons only with ``probe``'s own parameters,
    i.e. the full probe's training budget (so retraining every neuron gives the
    full probe back); all retrained probes are fitted together
    (:func:`~neurosieve.analysis.probe_batch.fit_probes`), each as its solo fit would be (with
    the converging solver, up to its tolerance: each retrain starts from the full probe's weights
    of the neurons it keeps, since selections share most neurons with the probe they come from).
    Identical selections are scored once. With ``in_vocab`` the groups include
    in- and out-of-vocabulary tokens (see :func:`grouped_accuracy`). ``salt`` varies the random
    selections between instances (:func:`random_selections`); the rankings in ``top_only`` (the oracle)
    have top selections only.

    With ``probe_seeds`` above 1, a ranking's retrained selections at the k in ``seeded_ks`` (the reported
    shares) are fitted with that many probe seeds (``probe.random_state`` + 0, 1, ...) and their accuracies
    averaged, so that the optimiser's noise is averaged before instances are compared (random selections
    average over their draws instead). Column ``probe_seeds`` counts the fits behind each value. The
    converging solver is deterministic: there one fit stands for all.

    With ``sentences`` (each test token's sentence id), the retrained gaps at those k get the test set's
    sampling noise too: for each ranking, the 95 % sentence-bootstrap interval (:func:`sentence_bootstrap`)
    of its top minus its bottom selection and of its top minus the random draws (each token's correctness
    averaged over probe seeds and draws), as rows ``gap_bottom_low``/``high`` and ``gap_random_low``/``high``
    (mode ``retrain``, direction ``top``; ``kept_low``/``high``: the top selection's own accuracy); and of the accuracy its top selection loses against every neuron
    retrained, its share of that accuracy (``regained``), and by word class (rows ``lost_open``, ``lost_closed``, ``lost_open_minus_closed`` and
    ``lost_open_minus_closed_vs_random`` ``_low``/``_high``, and with ``in_vocab`` the same on in-vocabulary
    tokens, ``lost_open_in_vocab``, ..., ``lost_open_minus_closed_in_vocab_vs_random``), as fractions like the gaps.
    The masked probe's selections at those k get the same accuracy and gap bounds (mode ``mask``).

    With ``tokens`` (a dict), every retrained selection's per-token correctness on test (mean over probe seeds)
    is added to it under (ranking, direction, k), one array per selection (random draws: one each), for a
    caller's own bootstrap (:func:`split_half_ablation`).
    """

    width = X_test.shape[1]
    bad = set(modes) - {"mask", "retrain"}
    if bad:
        raise ValueError(f"unknown ablation mode {sorted(bad)[0]!r}")
    cache: dict[tuple[str, bytes], dict[str, float]] = {}
    rows: list[dict[str, Any]] = []
    items = list(_each_selection(rankings, width, ks, random_repeats, seed, salt, top_only))
    if probe_seeds < 1:
        raise ValueError(f"probe_seeds must be at least 1, got {probe_seeds}")
    extra = range(1, probe_seeds if probe.solver != "fista" else 1)
    keys = [np.sort(kept).tobytes() for *_, kept in items]  # one key per selection: identical ones are fitted once
    seeded = {key for (name, _, k, _, _), key in zip(items, keys) if name != "none" and k in seeded_ks}
    # Tokens' correctness is kept at the seeded k, and for every neuron retrained (what a selection loses against).
    at_seeded_k = {key for (_, _, k, _, _), key in zip(items, keys) if k in seeded_ks or (seeded_ks and k == width)}
    fits: dict[bytes, int] = {}
    correct: dict[bytes, np.ndarray] = {}  # each token's correctness at the seeded k, mean over probe seeds
    masked: dict[bytes, np.ndarray] = {}  # the same for the masked probe (one fit: the probe itself)
    if "retrain" in modes:
        distinct = {key: np.sort(kept) for key, (*_, kept) in zip(keys, items)}
        start = None
        if probe.solver == "fista":
            # Warm starts: the full probe's weights of the kept neurons, the dropped ones' mean logits in the bias.
            coef = probe.coef_.astype(np.float64)
            logit_means = coef * X_train.mean(axis=0, dtype=np.float64)  # (classes x neurons)
            total = logit_means.sum(axis=1)
            start = [
                (coef[:, kept], probe.intercept_.astype(np.float64) + total - logit_means[:, kept].sum(axis=1))
                for kept in distinct.values()
            ]
        # The other probe seeds' fits of the seeded selections, fitted in the same batched call (never with warm
        # starts: those come with the converging solver, which has no other seeds).
        reseeded = [(key, j) for key in distinct if key in seeded for j in extra]
        probes = [fresh_probe(probe) for _ in distinct]
        probes += [fresh_probe(probe).set_params(random_state=probe.random_state + j) for _, j in reseeded]
        selections = list(distinct.values()) + [distinct[key] for key, _ in reseeded]
        fitted = fit_probes(X_train, y_train, probes, selections, progress, start=start)
        scores: dict[bytes, list[dict[str, float]]] = {}
        for key, p in zip([*distinct, *(key for key, _ in reseeded)], fitted):
            kept = distinct[key]
            pred = p.predict(X_test[:, kept])
            scores.setdefault(key, []).append(_accuracies(y_test, pred, open_mask, in_vocab))
            if (sentences is not None and key in at_seeded_k) or tokens is not None:
                correct[key] = correct.get(key, 0.0) + (pred == y_test).astype(np.float64)
        for key, each in scores.items():
            cache["retrain", key] = {m: float(np.mean([s[m] for s in each])) for m in each[0]}
            fits[key] = len(each)
            if key in correct:
                correct[key] = correct[key] / len(each)
    for (name, direction, k, s, kept), selected in zip(items, keys):
        for mode in modes:
            key = (mode, selected)
            if key not in cache:
                # 0/1 in the activations' own precision: a float16 pool's masked copy stays float16 (exact).
                mask = np.zeros(width, np.result_type(X_test.dtype, np.float16))
                mask[kept] = 1.0
                pred = probe.predict(X_test * mask)
                cache[key] = _accuracies(y_test, pred, open_mask, in_vocab)
                if mode == "mask" and sentences is not None and selected in at_seeded_k:
                    masked[selected] = (pred == y_test).astype(np.float64)
            meta = {
                "ranking": name,
                "direction": direction,
                "mode": mode,
                "k": k,
                "k_percent": 100.0 * k / width,
                "random_seed": s,
                "probe_seeds": fits.get(selected, 1) if mode == "retrain" else 1,
            }
            rows.extend(_curve_rows(meta, cache[key]))
    # Each selection's per-token correctness by (ranking, direction, k): one array per selection (a draw each).
    by: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for (name, direction, k, _, _), key in zip(items, keys):
        if key in correct:
            by.setdefault((name, direction, k), []).append(correct[key])
    if tokens is not None:
        tokens.update(by)
    kept_k = {sel: v for sel, v in by.items() if sel[2] in seeded_ks or (seeded_ks and sel[2] == width)}
    if kept_k and sentences is not None:
        rows += _bootstrap_rows(kept_k, np.asarray(sentences), width, seed, open_mask, in_vocab)
    by_mask: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for (name, direction, k, _, _), key in zip(items, keys):
        if key in masked and k in seeded_ks:
            by_mask.setdefault((name, direction, k), []).append(masked[key])
    if by_mask and sentences is not None:
        rows += _bootstrap_rows(by_mask, np.asarray(sentences), width, seed, open_mask, in_vocab, mode="mask")
    out = pd.DataFrame(rows)
    out["random_seed"] = out["random_seed"].astype("Int64")
    return out


def _bootstrap_rows(
    by: Mapping[tuple[str, str, int], list[np.ndarray]],
    sentences: np.ndarray,
    width: int,
    seed: int,
    open_mask: np.ndarray,
    in_vocab: np.ndarray | None,
    mode: str = "retrain",
) -> list[dict[str, Any]]:
    """Sentence-bootstrap intervals of what each ranking's retrained top k gives at the k whose tokens'
    correctness was kept (see :func:`probe_ablation`): its accuracy, its gaps to its bottom k and to the random
    draws, its share of every neuron's retrained accuracy, and the accuracy it loses against every neuron by
    word class (open, closed, open minus closed, and open minus closed beyond a random k's loss). ``by`` holds
    each selection's per-token correctness by (ranking, direction, k); the rows are of ``mode`` (``mask``: the
    masked probe's selections, whose ``by`` has no k = width, so only the accuracy and the gaps)."""
    full = next((v[0] for (_, d, k), v in by.items() if d == "top" and k == width), None)
    is_open = np.asarray(open_mask, dtype=bool)
    groups = {"": np.ones(len(is_open), dtype=bool)}
    if in_vocab is not None:
        groups["_in_vocab"] = np.asarray(in_vocab, dtype=bool)
    rows: list[dict[str, Any]] = []
    for (name, direction, k), tops in sorted(by.items(), key=lambda x: (x[0][0], x[0][2])):
        if direction != "top" or name == "none" or k == width:
            continue
        top, draws = tops[0], by.get(("none", "random", k))
        low, high = sentence_bootstrap(top, sentences, seed=seed)  # the retrained top's own accuracy
        bounds = {"kept_low": low, "kept_high": high}
        for other, against in (("bottom", by.get((name, "bottom", k))), ("random", draws)):
            if against:
                low, high = sentence_bootstrap(top - np.mean(against, axis=0), sentences, seed=seed)
                bounds.update({f"gap_{other}_low": low, f"gap_{other}_high": high})
        if full is not None:
            parts: dict[str, tuple[Any, ...]] = {"regained": (top, None, full, None)}  # top's accuracy / every neuron's
            lost = full - top
            for suffix, inside in groups.items():
                op, cl = is_open & inside, ~is_open & inside
                parts[f"lost_open{suffix}"] = (lost, op, None, None)
                parts[f"lost_closed{suffix}"] = (lost, cl, None, None)
                parts[f"lost_open_minus_closed{suffix}"] = (lost, op, lost, cl)
                if draws:
                    # (open - closed loss of the top k) - (that of random k) = open - closed of (random - top)
                    beyond = np.mean(draws, axis=0) - top
                    parts[f"lost_open_minus_closed{suffix}_vs_random"] = (beyond, op, beyond, cl)
            for stem, (a, in_a, b, in_b) in parts.items():
                low, high = sentence_bootstrap_contrast(
                    a, in_a, b, in_b, sentences, seed=seed, ratio=stem == "regained"
                )
                bounds.update({f"{stem}_low": low, f"{stem}_high": high})
        meta = {"ranking": name, "direction": "top", "mode": mode, "k": k, "k_percent": 100.0 * k / width}
        rows += _curve_rows({**meta, "random_seed": None, "probe_seeds": 1}, bounds)
    return rows


def area_bootstrap_rows(
    curves: pd.DataFrame, tokens: Mapping[tuple[str, str, int], Sequence[np.ndarray]], sentences: np.ndarray, seed: int
) -> pd.DataFrame:
    """The sentence-bootstrap bounds of each ranking's calibrated area and of its margin over the best trivial
    ranking (:func:`calibrated_area_bootstrap`), as curve rows (mode ``retrain``, direction ``top``, k 0; metrics
    ``calibrated_area_low``/``high`` and ``area_vs_trivial_low``/``high``), the oracle taken where
    :func:`best_of_oracle` took it (a ranking's top k at some k)."""
    bounds = calibrated_area_bootstrap(
        tokens, sentences, oracle=ORACLE, oracle_at=oracle_sources(curves), trivial=TRIVIAL_RANKINGS, seed=seed
    )
    rows = [
        {
            "ranking": b["ranking"],
            "direction": "top",
            "mode": "retrain",
            "k": 0,
            "k_percent": 0.0,
            "random_seed": pd.NA,
            "probe_seeds": 1,
            "metric": f"{stem}_{end}",
            "value": float(b[f"{column}_{end}"]),
        }
        for _, b in bounds.iterrows()
        for stem, column in (("calibrated_area", "area"), ("area_vs_trivial", "vs_trivial"))
        for end in ("low", "high")
        if np.isfinite(b[f"{column}_low"]) and np.isfinite(b[f"{column}_high"])  # no bounds: no rows (a trivial
        # ranking's margin over the trivial ones, an area whose oracle is no better than random)
    ]
    return pd.DataFrame(rows).astype({"random_seed": "Int64"}) if rows else pd.DataFrame()


#: The modes of split-half rows in a curves table (:func:`split_half_ablation`): rankings fitted on the other half
#: of train than the retrained probes (``retrain_split``) or on the same half (``retrain_same``).
SPLIT_MODES = {"split": "retrain_split", "same": "retrain_same"}
#: Probe rankings that the split-half path refits: those that read the labels (the trivial baselines see none, so
#: the split cannot matter to them; ``lca_paper`` needs a probe at other lambdas, ``random`` reads nothing).
SPLIT_HALF_RANKINGS = ("lca", "lca_std", "lca_freq", "probeless")


def split_half_ablation(
    probe: ElasticNetProbe,
    X_train: np.ndarray,
    y_train: np.ndarray,
    groups: Sequence[object],
    X_test: np.ndarray,
    y_test: np.ndarray,
    open_mask: np.ndarray,
    rankings: Sequence[str],
    ks: Sequence[int],
    random_repeats: int = 3,
    seed: int = 0,
    salt: int = 0,
    in_vocab: np.ndarray | None = None,
    progress: Callable[[Any], Any] | None = None,
    sentences: np.ndarray | None = None,
) -> pd.DataFrame:
    """Ranking and evaluation separated (Antverg & Belinkov 2022): does a ranking look good only because its
    evaluation probes are retrained on the tokens it was fitted on?

    Train is split in two halves by whole sentences (seeded). A probe with ``probe``'s parameters is fitted on
    each half and each of ``rankings`` (probe rankings that read the labels, :data:`SPLIT_HALF_RANKINGS`) is
    computed from it. The top k of both are then retrained on half B only and scored on test: rows with mode
    ``retrain_split`` (ranked on half A: ranking and evaluation separated) and ``retrain_same`` (ranked on half
    B: the workflow's usual path, at the same training size), with one random baseline (``retrain_split``,
    direction ``random``) retrained on half B too. Equal curves mean the usual path does not flatter the
    ranking. Top selections only. With ``sentences`` (each test token's sentence id), each ranking also gets
    the 95 % sentence-bootstrap intervals of its two comparisons over the interior k grid (rows
    ``separated_minus_same_low``/``high`` and ``separated_minus_random_low``/``high``, mode ``retrain_split``,
    k 0): a single instance's interval.
    """
    unknown = sorted(set(rankings) - set(SPLIT_HALF_RANKINGS))
    if unknown:
        raise ValueError(f"split-half rankings must be among {SPLIT_HALF_RANKINGS}, got {unknown}")
    split = selection_split(groups, held_out=0.5, seed=seed)
    halves = {"split": split.fit, "same": split.select}  # rankings from A (``fit``) or B (``select``); retrain on B
    fitted = {}
    orders: dict[str, dict[str, np.ndarray]] = {}
    for half, rows in halves.items():
        X_half, y_half = X_train[rows], y_train[rows]
        fitted[half] = fresh_probe(probe).fit(X_half, y_half)
        ctx = RankingInputs.build(fitted[half].coef_, fitted[half].classes_, X_half, y_half, seed)
        orders[half] = {name: PROBE_RANKING_FUNCTIONS[name](ctx)[0] for name in rankings}
    X_b, y_b = X_train[split.select], y_train[split.select]
    tokens: dict[str, dict[tuple[str, str, int], list[np.ndarray]]] = {half: {} for half in halves}
    parts = [
        probe_ablation(
            fitted["same"],  # its parameters and, with the converging solver, its warm starts (fitted on B)
            X_b,
            y_b,
            X_test,
            y_test,
            open_mask,
            orders[half],
            ks,
            ("retrain",),
            random_repeats if half == "split" else 0,
            seed,
            progress,
            in_vocab,
            salt,
            top_only=tuple(rankings),
            tokens=tokens[half] if sentences is not None else None,
        ).assign(mode=SPLIT_MODES[half])
        for half in halves
    ]
    if sentences is not None:
        parts.append(_split_half_bootstrap_rows(tokens, rankings, ks, X_test.shape[1], np.asarray(sentences), seed))
    return pd.concat(parts, ignore_index=True)


def _split_half_bootstrap_rows(
    tokens: Mapping[str, Mapping[tuple[str, str, int], list[np.ndarray]]],
    rankings: Sequence[str],
    ks: Sequence[int],
    width: int,
    sentences: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """Sentence-bootstrap intervals of the split-half comparisons, each token's correctness averaged over the
    interior k grid (and over the random draws) as the summary averages the accuracies."""
    interior = [k for k in ks if 0 < k < width]
    split, same = tokens["split"], tokens["same"]

    def mean_over(table: Mapping[tuple[str, str, int], list[np.ndarray]], name: str, direction: str) -> Any:
        got = [a for k in interior for a in table.get((name, direction, k), [])]
        return np.mean(got, axis=0) if got else None

    rows: list[dict[str, Any]] = []
    rnd = mean_over(split, "none", "random")
    for name in rankings:
        a, b = mean_over(split, name, "top"), mean_over(same, name, "top")
        bounds = {}
        for stem, other in (("separated_minus_same", b), ("separated_minus_random", rnd)):
            if a is not None and other is not None:
                low, high = sentence_bootstrap(a - other, sentences, seed=seed)
                bounds.update({f"{stem}_low": low, f"{stem}_high": high})
        meta = {"ranking": name, "direction": "top", "mode": SPLIT_MODES["split"], "k": 0, "k_percent": 0.0}
        rows += _curve_rows({**meta, "random_seed": None, "probe_seeds": 1}, bounds)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["random_seed"] = out["random_seed"].astype("Int64")
    return out


#: The mode of label-focus rows in a curves table (:func:`label_focus`).
LABEL_MODE = "label"

#: The rest of the tokens in a one-vs-rest label probe.
REST = "<rest>"


def label_order(probe: ElasticNetProbe, sd: np.ndarray, label: str) -> np.ndarray:
    """The neurons of one label, most important first: |weight| of the label's row on standardised neurons
    (|w| x the neuron's sd over the training tokens, ``sd``), so that a neuron's scale does not decide."""
    row = int(np.flatnonzero(probe.classes_.astype(str) == str(label))[0])
    return order_by_score(np.abs(np.asarray(probe.coef_[row], dtype=np.float64)) * np.asarray(sd, dtype=np.float64))


def label_focus(
    probe: ElasticNetProbe,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    labels: Sequence[str],
    max_k: int = 10,
    random_repeats: int = 3,
    seed: int = 0,
    salt: int = 0,
    progress: Callable[[Any], Any] | None = None,
    sentences: np.ndarray | None = None,
) -> pd.DataFrame:
    """Are a label's own top neurons what it needs? One-vs-rest F1 with its top k neurons, another label's, random k.

    The paper's focus claims ("the comma needs few neurons, and they are its own"): for each label of
    ``labels`` that the probe has, a binary probe (the label against the rest, ``probe``'s parameters)
    is retrained on the label's own top k neurons (:func:`label_order`), on the top k of the next listed
    label (cyclically: a selection of equal size that another label prefers) and on ``random_repeats``
    random selections of k, for k = 1..``max_k``; each is scored by the label's F1 on the test tokens.
    Rows (curves format): ranking ``own`` / ``other:<label>`` / ``none``, direction ``top`` / ``random``,
    mode :data:`LABEL_MODE`, k, metric ``f1:<label>``, value. With ``sentences`` (each test token's sentence
    id), each label also gets the 95 % sentence-bootstrap intervals of its mean F1 over k with its own neurons
    minus with random k and minus with the other label's (ranking ``own``, k 0, metrics
    ``f1_own_vs_random:<label>`` and ``f1_own_vs_other:<label>`` ``_low``/``_high``): a single instance's interval.
    """
    from sklearn.metrics import f1_score

    present = [str(lab) for lab in labels if str(lab) in set(probe.classes_.astype(str))]
    width = X_train.shape[1]
    y_train, y_test = np.asarray(y_train).astype(str), np.asarray(y_test).astype(str)
    sd = column_moments(activation_matrix(X_train))[1]
    orders = {lab: label_order(probe, sd, lab) for lab in present}
    jobs: list[tuple[str, str, str, int, int | None, np.ndarray]] = []
    for i, lab in enumerate(present):
        other = present[(i + 1) % len(present)] if len(present) > 1 else None
        for k in range(1, min(int(max_k), width) + 1):
            jobs.append((lab, "own", "top", k, None, np.sort(orders[lab][:k])))
            if other is not None:
                jobs.append((lab, f"other:{other}", "top", k, None, np.sort(orders[other][:k])))
            for s, kept in random_selections(width, k, random_repeats, seed, salt):
                jobs.append((lab, "none", "random", k, s, kept))
    if not jobs:
        return pd.DataFrame(
            columns=["ranking", "direction", "mode", "k", "k_percent", "random_seed", "metric", "value"]
        )
    targets = {lab: np.where(y_train == lab, lab, REST) for lab in present}
    fitted = fit_probes(
        X_train, [targets[j[0]] for j in jobs], [fresh_probe(probe) for _ in jobs], [j[5] for j in jobs], progress
    )
    rows = []
    sums = sentence_resampler(sentences, seed=seed) if sentences is not None else None
    resampled: dict[tuple[str, str], list[np.ndarray]] = {}  # (label, own/random/other) -> each fit's F1s
    for (lab, ranking, direction, k, s, kept), p in zip(jobs, fitted):
        pred = p.predict(X_test[:, kept]).astype(str)
        f1 = f1_score(y_test == lab, pred == lab, zero_division=0.0)
        if sums is not None:
            truth, said = y_test == lab, pred == lab
            tp, fp, fn = sums(truth & said), sums(~truth & said), sums(truth & ~said)
            with np.errstate(invalid="ignore", divide="ignore"):
                f1s = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)  # zero_division=0, as above
            resampled.setdefault((lab, "random" if direction == "random" else ranking.split(":")[0]), []).append(f1s)
        rows.append(
            {
                "ranking": ranking,
                "direction": direction,
                "mode": LABEL_MODE,
                "k": k,
                "k_percent": 100.0 * k / width,
                "random_seed": s,
                "metric": f"f1:{lab}",
                "value": float(f1),
            }
        )
    for lab in present:
        own = resampled.get((lab, "own"))
        for name, ref in (("random", resampled.get((lab, "random"))), ("other", resampled.get((lab, "other")))):
            if own and ref:
                # Each resample's mean F1 over k (and draws), as the summary averages the rows.
                low, high = percentile_interval(np.mean(own, axis=0) - np.mean(ref, axis=0))
                for end, value in (("low", low), ("high", high)):
                    meta = {"ranking": "own", "direction": "top", "mode": LABEL_MODE, "k": 0, "k_percent": 0.0}
                    rows.append(
                        {**meta, "random_seed": None, "metric": f"f1_own_vs_{name}_{end}:{lab}", "value": value}
                    )
    out = pd.DataFrame(rows)
    out["random_seed"] = out["random_seed"].astype("Int64")
    return out


def model_ablation(
    score: Callable[[np.ndarray], Mapping[str, Any]],
    width: int,
    rankings: Mapping[str, np.ndarray],
    ks: Sequence[int],
    random_repeats: int = 3,
    seed: int = 0,
    progress: Callable[[Any], Any] | None = None,
    mode: str = "model",
) -> pd.DataFrame:
    """End-task scores with k neurons *removed* (top, bottom or random by each ranking).

    ``score(removed)`` runs the model with those neurons of the layer ablated
    (zeroed, or set to their mean) and returns its metrics (e.g. chunk F1).
    Identical removals are scored once. ``mode`` labels the rows (``model``:
    zero ablation, ``model-mean``: mean ablation). A score that also returns its
    per-sentence chunk counts (under :data:`~neurosieve.analysis.metrics.COUNTS_KEY`)
    adds each ranking's sentence-bootstrap bounds of its predictive value
    (:func:`predictive_value_bootstrap`; metrics ``predictive_value_low``/``high`` at k 0).
    """
    cache: dict[bytes, Mapping[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    counts: dict[tuple[str, str, int], list[np.ndarray]] = {}
    items = list(_each_selection(rankings, width, ks, random_repeats, seed))
    for name, direction, k, s, removed in progress(items) if progress else items:
        key = np.sort(removed).tobytes()
        if key not in cache:
            cache[key] = score(removed)
        scores = dict(cache[key])
        per_sentence = scores.pop(COUNTS_KEY, None)
        if per_sentence is not None and direction != "bottom":  # the predictive value reads top and random removals
            counts.setdefault((name, direction, k), []).append(np.asarray(per_sentence))
        meta = {
            "ranking": name,
            "direction": direction,
            "mode": mode,
            "k": k,
            "k_percent": 100.0 * k / width,
            "random_seed": s,
        }
        rows.extend(_curve_rows(meta, scores))
    if counts:
        for name, (low, high) in predictive_value_bootstrap(counts, width, seed=seed).items():
            meta = {"ranking": name, "direction": "top", "mode": mode, "k": 0, "k_percent": 0.0, "random_seed": None}
            rows.extend(_curve_rows(meta, {"predictive_value_low": low, "predictive_value_high": high}))
    out = pd.DataFrame(rows)
    out["random_seed"] = out["random_seed"].astype("Int64")
    return out


PROBE_MINUS_TAGGER = "probe_minus_tagger_accuracy"
"""Model ablation's metric (and its ``_low``/``_high`` bounds) of a chunk probe's token accuracy minus the tagger's."""


def probe_minus_tagger(
    probe_right: np.ndarray, tagger_right: np.ndarray, sentences: np.ndarray, seed: int = 0
) -> dict[str, float]:
    """A chunk probe's token accuracy minus the tagger's own on the same test tokens (fractions), with its 95 %
    sentence-bootstrap interval (both read on the same resampled sentences): metrics :data:`PROBE_MINUS_TAGGER`,
    its ``_low`` and ``_high``. The probe on the tagger head's input has the head's capacity, so the two should
    match; the interval says how far one test set lets them differ."""
    if len(probe_right) != len(tagger_right) or len(sentences) != len(probe_right):
        raise ValueError(
            f"probe and tagger correctness must cover the same test tokens: {len(probe_right)} probe, "
            f"{len(tagger_right)} tagger, {len(sentences)} sentence ids"
        )
    diff = np.asarray(probe_right, dtype=np.float64) - np.asarray(tagger_right, dtype=np.float64)
    low, high = sentence_bootstrap_contrast(diff, None, None, None, np.asarray(sentences), seed=seed)
    return {
        PROBE_MINUS_TAGGER: float(diff.mean()),
        f"{PROBE_MINUS_TAGGER}_low": low,
        f"{PROBE_MINUS_TAGGER}_high": high,
    }


def predictive_value_draws(
    counts: Mapping[tuple[str, str, int], Sequence[np.ndarray]],
    width: int,
    sums: Callable[[np.ndarray], np.ndarray],
) -> dict[str, np.ndarray]:
    """Each ranking's predictive value (:func:`predictive_value`, F1 points) in every resample that ``sums`` draws.

    ``counts`` holds each selection's per-sentence chunk counts by (ranking, direction, k), the random draws of a
    k under ("none", "random", k); ``sums`` maps a per-sentence vector to its sum in each resample. Each
    selection's F1 is recomputed from its resampled summed counts (the same draws for all selections, so the
    differences are paired), and a ranking's predictive value is the mean over the interior k (0 < k < ``width``,
    where random draws exist) of the random draws' mean F1 minus its top-k F1, as :func:`predictive_value` reads
    the curves. With one "resample" of every sentence once it is that value exactly.
    """

    def f1(c: np.ndarray) -> np.ndarray:
        right, gold, pred = (sums(c[:, j]) for j in range(3))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(gold + pred > 0, 200.0 * right / (gold + pred), 0.0)

    # Each k's random draws are scored once, then shared by every ranking.
    random = {k: np.mean([f1(c) for c in cs], axis=0) for (r, d, k), cs in counts.items() if d == "random"}
    out: dict[str, np.ndarray] = {}
    for name in sorted({r for (r, d, _) in counts if d == "top" and r != "none"}):
        ks = sorted(k for (r, d, k) in counts if r == name and d == "top" and 0 < k < width and k in random)
        if ks:
            out[name] = np.mean([random[k] - f1(counts[(name, "top", k)][0]) for k in ks], axis=0)
    return out


def predictive_value_bootstrap(
    counts: Mapping[tuple[str, str, int], Sequence[np.ndarray]], width: int, resamples: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Each ranking's 95 % sentence-bootstrap interval of its predictive value (:func:`predictive_value_draws`
    over ``resamples`` seeded resamples of whole test sentences)."""
    if not counts:
        return {}
    sums = sentence_resampler(np.arange(len(next(iter(counts.values()))[0])), resamples, seed)
    if sums is None:
        return {}
    return {name: percentile_interval(v) for name, v in predictive_value_draws(counts, width, sums).items()}


def rankings_from_tables(
    orderings: pd.DataFrame | None, scores: pd.DataFrame | None, instance: str, methods: Sequence[str]
) -> dict[str, np.ndarray]:
    """Neuron orders (most important first) for the requested methods, from probing orderings and correlation scores."""
    out: dict[str, np.ndarray] = {}
    for m in methods:
        if orderings is not None and m in set(orderings["method"]):
            out[m] = orderings[orderings["method"] == m].sort_values("rank")["neuron"].to_numpy()
        elif scores is not None and f"rank_{m}" in scores:
            s = scores[scores["instance"] == instance]
            out[m] = s.sort_values(f"rank_{m}")["neuron"].to_numpy()
        else:
            raise KeyError(f"ranking {m!r} is neither a probing ordering nor a correlation score")
    return out


FILL_MODES = {"zero": "model", "mean": "model-mean"}


def predictive_value(
    curves: pd.DataFrame,
    random: pd.DataFrame | None = None,
    metric: str = "f1",
    by: Sequence[str] = ("instance", "layer", "mode"),
) -> pd.DataFrame:
    """How well each ranking predicts what hurts the model: removing its top k vs removing k random neurons.

    For each group (``by``, plus ``condition`` when the table has one) and
    ranking: ``predictive_value`` is the mean, over the interior of the k grid
    (0 < k < layer width), of (score with k random neurons removed, averaged
    over random repeats) minus (score with the ranking's top k removed). 0
    means the ranking is no better than chance at finding the neurons the
    model needs; higher is better. ``top_drop`` is the mean loss against the
    intact model (k = 0). Random rows come from ``random`` (default:
    ``curves`` itself), matched on ``by`` and k.
    """
    random = curves if random is None else random
    by = [c for c in by if c in curves]
    c = curves[curves["metric"] == metric]
    rnd = random[(random["metric"] == metric) & (random["direction"] == "random")]
    rnd = rnd.groupby([*by, "k"])["value"].mean().rename("random")
    full = c[c["k"] == 0].groupby(by)["value"].mean().rename("full")
    width = c.groupby(by)["k"].max().rename("width")
    top = c[(c["direction"] == "top") & (c["ranking"] != "none")]
    extra = [x for x in ("condition",) if x in top]
    top = top.groupby([*by, *extra, "ranking", "k"])["value"].mean().rename("top").reset_index()
    top = top.join(width, on=by).join(full, on=by).join(rnd, on=[*by, "k"])
    top = top[(top["k"] > 0) & (top["k"] < top["width"])]
    if top["random"].isna().any():
        raise ValueError("predictive value needs random-removal curves at every k of the ranking curves")
    top = top.assign(gain=top["random"] - top["top"], drop=top["full"] - top["top"])
    out = top.groupby([*by, *extra, "ranking"]).agg(
        predictive_value=("gain", "mean"), top_drop=("drop", "mean"), n_k=("k", "nunique")
    )
    return out.reset_index()


def curve_spread(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation, min and max of each curve point across instances (and random seeds)."""
    keys = [c for c in ("layer", "property", "ranking", "direction", "mode", "k", "k_percent", "metric") if c in curves]
    g = curves.groupby(keys, dropna=False)["value"]
    return g.agg(["mean", "std", "min", "max", "count"]).reset_index()


#: The property of model-ablation rows: they score the end task (chunking F1), not a probed property.
END_TASK_PROPERTY = "chunk-f1"


def label_end_task(curves: pd.DataFrame) -> pd.DataFrame:
    """``curves`` with every model-ablation row (modes ``model`` and ``model-mean``) labelled with
    :data:`END_TASK_PROPERTY`; probe-ablation rows keep their property."""
    out = curves.copy()
    end_task = out["mode"].astype(str).str.startswith("model")
    out["property"] = out["property"].where(~end_task, END_TASK_PROPERTY) if "property" in out else END_TASK_PROPERTY
    return out
