"""Ablation: does removing the neurons a ranking calls important hurt more than removing others?

Probe ablation keeps k neurons (top, bottom or random by a ranking) and either
masks the rest at test time (the trained probe scores as is) or retrains a
probe on the kept neurons only. Model ablation zeroes k neurons of a layer
inside a trained tagger and scores its chunking F1 (conlleval), the analogue of
the paper's BLEU-against-ablated-neurons curve. All curves are long tables:
ranking, direction, mode, k, metric, value, random seed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .probing import ElasticNetProbe, fresh_probe, grouped_accuracy

DIRECTIONS = ("top", "bottom")


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


def random_selections(width: int, k: int, repeats: int, seed: int) -> list[tuple[int, np.ndarray]]:
    """``repeats`` seeded random selections of k neurons: (seed, neurons)."""
    return [
        (seed + r, np.sort(np.random.default_rng([seed + r, k]).choice(width, size=k, replace=False)))
        for r in range(repeats)
    ]


def _curve_rows(meta: Mapping[str, Any], scores: Mapping[str, float]) -> list[dict[str, Any]]:
    return [{**meta, "metric": m, "value": float(v)} for m, v in scores.items()]


def _accuracies(
    y_true: np.ndarray, y_pred: np.ndarray, open_mask: np.ndarray, in_vocab: np.ndarray | None = None
) -> dict[str, float]:
    return {f"accuracy_{g}": v for g, v in grouped_accuracy(y_true, y_pred, open_mask, in_vocab).items()}


def _each_selection(rankings: Mapping[str, np.ndarray], width: int, ks: Sequence[int], random_repeats: int, seed: int):  # type: ignore[no-untyped-def]
    """Every (ranking, direction, k, seed, kept neurons) of an ablation sweep; random selections once, ranking 'none'."""
    for name, order in rankings.items():
        if sorted(order.tolist()) != list(range(width)):
            raise ValueError(f"ranking {name!r} is not a permutation of the layer's {width} neurons")
        for direction in DIRECTIONS:
            for k in ks:
                yield name, direction, k, None, selection(order, k, direction)
    for k in ks:
        for s, kept in random_selections(width, k, random_repeats, seed):
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
) -> pd.DataFrame:
    """Accuracy (overall, open class, closed class) of probes keeping k neurons, for every ranking and direction.

    ``mask``: zero the other neurons and score ``probe`` as trained. ``retrain``:
    fit a fresh probe on the kept neurons only with ``probe``'s own parameters,
    i.e. the full probe's training budget (so retraining every neuron gives the
    full probe back); all retrained probes are fitted together
    (:func:`~neurosieve.probe_batch.fit_probes`), each as its solo fit would be.
    Identical selections are scored once. With ``in_vocab`` the groups include
    in- and out-of-vocabulary tokens (see :func:`grouped_accuracy`).
    """
    from .probe_batch import fit_probes

    width = X_test.shape[1]
    bad = set(modes) - {"mask", "retrain"}
    if bad:
        raise ValueError(f"unknown ablation mode {sorted(bad)[0]!r}")
    cache: dict[tuple[str, bytes], dict[str, float]] = {}
    rows: list[dict[str, Any]] = []
    items = list(_each_selection(rankings, width, ks, random_repeats, seed))
    if "retrain" in modes:
        distinct = {np.sort(kept).tobytes(): np.sort(kept) for *_, kept in items}
        fitted = fit_probes(X_train, y_train, [fresh_probe(probe) for _ in distinct], list(distinct.values()), progress)
        for (key, kept), p in zip(distinct.items(), fitted):
            pred = p.predict(X_test[:, kept])
            cache["retrain", key] = _accuracies(y_test, pred, open_mask, in_vocab)
    for name, direction, k, s, kept in items:
        for mode in modes:
            key = (mode, np.sort(kept).tobytes())
            if key not in cache:
                mask = np.zeros(width, np.float32)
                mask[kept] = 1.0
                pred = probe.predict(X_test * mask)
                cache[key] = _accuracies(y_test, pred, open_mask, in_vocab)
            meta = {
                "ranking": name,
                "direction": direction,
                "mode": mode,
                "k": k,
                "k_percent": 100.0 * k / width,
                "random_seed": s,
            }
            rows.extend(_curve_rows(meta, cache[key]))
    out = pd.DataFrame(rows)
    out["random_seed"] = out["random_seed"].astype("Int64")
    return out


def model_ablation(
    score: Callable[[np.ndarray], Mapping[str, float]],
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
    zero ablation, ``model-mean``: mean ablation).
    """
    cache: dict[bytes, Mapping[str, float]] = {}
    rows: list[dict[str, Any]] = []
    items = list(_each_selection(rankings, width, ks, random_repeats, seed))
    for name, direction, k, s, removed in progress(items) if progress else items:
        key = np.sort(removed).tobytes()
        if key not in cache:
            cache[key] = score(removed)
        meta = {
            "ranking": name,
            "direction": direction,
            "mode": mode,
            "k": k,
            "k_percent": 100.0 * k / width,
            "random_seed": s,
        }
        rows.extend(_curve_rows(meta, cache[key]))
    out = pd.DataFrame(rows)
    out["random_seed"] = out["random_seed"].astype("Int64")
    return out


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


def _read_optional(path: str | None) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path else None


def run_probe_ablation(
    train_path: str,
    test_path: str,
    layer: int,
    prop: str,
    probe_path: str,
    orderings_path: str,
    scores_path: str | None,
    instance: str,
    out_path: str,
    *,
    rankings: Sequence[str],
    percents: Sequence[float],
    neurons: Sequence[int],
    modes: Sequence[str],
    random_repeats: int,
    seed: int,
    model_kind: str | None = None,
    model_source: str | None = None,
) -> pd.DataFrame:
    """Probe ablation for one (instance, layer, property) (workflow edge).

    Retrained probes reuse the saved probe's parameters (one training budget for
    the probe and its retrained ablations). ``model_kind``/``model_source`` give
    the model's vocabulary, for accuracy on in-vocabulary tokens.
    """
    from tqdm.auto import tqdm

    from .activations import read_keys, read_layer
    from .io import provenance, write_parquet
    from .model_inputs import load_input_keys
    from .properties import open_class_mask

    scores = _read_optional(scores_path)
    orders = rankings_from_tables(
        pd.read_parquet(orderings_path),
        scores,
        instance,
        [r for r in rankings if scores is not None or r in {"lca", "probeless", "random"}],
    )
    train_keys, test_keys = read_keys(train_path), read_keys(test_path)
    X_test = read_layer(test_path, layer)
    curves = probe_ablation(
        ElasticNetProbe.load(probe_path),
        read_layer(train_path, layer),
        train_keys[prop].astype(str).to_numpy(),
        X_test,
        test_keys[prop].astype(str).to_numpy(),
        open_class_mask(test_keys),
        orders,
        k_grid(X_test.shape[1], percents, neurons),
        modes,
        random_repeats,
        seed,
        progress=lambda it: tqdm(it, desc=f"probe ablation {instance} layer {layer} {prop}", unit="probe group"),
        in_vocab=load_input_keys(model_kind, model_source)(test_keys["word"].astype(str).to_numpy())[1]
        if model_kind and model_source
        else None,
    )
    curves = curves.assign(instance=instance, layer=layer, property=prop)
    settings = {
        "rankings": list(orders),
        "percents": list(percents),
        "neurons": list(neurons),
        "modes": list(modes),
        "random_repeats": random_repeats,
        "model": model_source,
    }
    write_parquet(curves, out_path, provenance(settings, seed))
    return curves


FILL_MODES = {"zero": "model", "mean": "model-mean"}


def neuron_means(activations_path: str, layer: int) -> np.ndarray:
    """Each neuron's mean activation over a split's tokens (the replacement value of mean ablation)."""
    from .activations import read_layer

    return read_layer(activations_path, layer).mean(axis=0, dtype=np.float64).astype(np.float32)


def run_model_ablation(
    model_dir: str,
    tokens_path: str,
    layer: int,
    orderings_path: str | None,
    scores_path: str | None,
    instance: str,
    out_path: str,
    *,
    rankings: Sequence[str],
    percents: Sequence[float],
    random_repeats: int,
    seed: int,
    device: str = "auto",
    fills: Sequence[str] = ("zero",),
    train_activations_path: str | None = None,
) -> pd.DataFrame:
    """Model ablation for one trained or fine-tuned instance and layer (workflow edge): chunk F1 with k neurons removed.

    A tagger trained here runs once over the test sentences; every selection is
    then scored from the cached layer output up
    (:class:`~neurosieve.layer_cache.LayerCache`). A fine-tuned encoder is
    re-run per selection with the layer's neurons ablated by a forward hook.
    ``fills`` lists how removed neurons are replaced: ``zero`` (the paper's
    ablation; rows with mode ``model``) and/or ``mean`` (the neuron's mean
    activation over the training tokens in ``train_activations_path``, since
    zero is not neutral for a neuron that is never near zero; mode ``model-mean``).
    """
    import torch
    from tqdm.auto import tqdm

    from .data import read_tokens
    from .finetuning import is_finetuned, masked_evaluator
    from .io import provenance, write_parquet
    from .layer_cache import LayerCache
    from .models import load_model
    from .training import pick_device

    tokens = read_tokens(tokens_path)
    if is_finetuned(model_dir):
        layer_dims, evaluate_masked = masked_evaluator(model_dir, tokens, pick_device(device))
        width = layer_dims[layer]

        def score_with(removed: np.ndarray, values: np.ndarray | None) -> dict[str, float]:
            keep = torch.ones(width)
            keep[torch.tensor(np.asarray(removed, dtype=np.int64))] = 0.0  # a copy: selections may be read-only views
            return evaluate_masked(
                {
                    layer: keep
                    if values is None
                    else torch.stack([keep, torch.tensor(np.asarray(values, dtype=np.float32))])
                }
            )
    else:
        model, vocab = load_model(model_dir, pick_device(device))
        cache = LayerCache(model, vocab, tokens, layer)
        width = cache.width
        score_with = cache.score
    available = [
        r
        for r in rankings
        if (r in {"lca", "probeless", "random"} and orderings_path)
        or (r not in {"lca", "probeless", "random"} and scores_path)
    ]
    orders = rankings_from_tables(_read_optional(orderings_path), _read_optional(scores_path), instance, available)

    unknown = set(fills) - set(FILL_MODES)
    if unknown:
        raise ValueError(f"unknown ablation fill(s) {sorted(unknown)}; known: {sorted(FILL_MODES)}")
    if "mean" in fills and not train_activations_path:
        raise ValueError("mean ablation needs the training activations (train_activations_path)")
    parts = []
    for fill in fills:
        values = neuron_means(train_activations_path, layer) if fill == "mean" else None
        parts.append(
            model_ablation(
                lambda removed, values=values: score_with(removed, values),
                width,
                orders,
                k_grid(width, percents),
                random_repeats,
                seed,
                progress=lambda it, fill=fill: tqdm(
                    it, desc=f"model ablation ({fill}) {instance} layer {layer}", unit="selection"
                ),
                mode=FILL_MODES[fill],
            )
        )
    curves = pd.concat(parts, ignore_index=True).assign(instance=instance, layer=layer)
    settings = {
        "rankings": list(orders),
        "percents": list(percents),
        "random_repeats": random_repeats,
        "model": model_dir,
        "fills": list(fills),
    }
    write_parquet(curves, out_path, provenance(settings, seed))
    return curves


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


def run_ablation_summary(paths: Sequence[str], curves_path: str, spread_path: str) -> pd.DataFrame:
    """Concatenate a family's ablation curves and compute their spread across instances (workflow edge)."""
    from .io import provenance, write_parquet

    curves = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    # Model ablation scores the end task, not a probed property.
    curves["property"] = (
        curves["property"].where(curves["mode"] != "model", "chunk-f1") if "property" in curves else "chunk-f1"
    )
    meta = provenance({"inputs": list(paths)})
    write_parquet(curves, curves_path, meta)
    spread = curve_spread(curves)
    write_parquet(spread, spread_path, meta)
    return spread
