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

from .probing import ElasticNetProbe, grouped_accuracy

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
    return [(seed + r, np.sort(np.random.default_rng([seed + r, k]).choice(width, size=k, replace=False))) for r in range(repeats)]


def _curve_rows(meta: Mapping[str, Any], scores: Mapping[str, float]) -> list[dict[str, Any]]:
    return [{**meta, "metric": m, "value": float(v)} for m, v in scores.items()]


def _each_selection(
    rankings: Mapping[str, np.ndarray], width: int, ks: Sequence[int], random_repeats: int, seed: int
):  # type: ignore[no-untyped-def]
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
    retrain_params: Mapping[str, Any] | None = None,
    progress: Callable[[Any], Any] | None = None,
) -> pd.DataFrame:
    """Accuracy (overall, open class, closed class) of probes keeping k neurons, for every ranking and direction.

    ``mask``: zero the other neurons and score ``probe`` as trained. ``retrain``:
    fit a fresh probe (``probe``'s parameters, overridden by ``retrain_params``)
    on the kept neurons only. Identical selections are scored once.
    """
    width = X_test.shape[1]
    params = {**probe.get_params(), **(retrain_params or {}), "warm_start": False}
    cache: dict[tuple[str, bytes], dict[str, float]] = {}
    rows: list[dict[str, Any]] = []
    items = list(_each_selection(rankings, width, ks, random_repeats, seed))
    for name, direction, k, s, kept in progress(items) if progress else items:
        for mode in modes:
            key = (mode, np.sort(kept).tobytes())
            if key not in cache:
                if mode == "mask":
                    mask = np.zeros(width, np.float32)
                    mask[kept] = 1.0
                    pred = probe.predict(X_test * mask)
                elif mode == "retrain":
                    p = ElasticNetProbe(**params).fit(X_train[:, kept], y_train)
                    pred = p.predict(X_test[:, kept])
                else:
                    raise ValueError(f"unknown ablation mode {mode!r}")
                cache[key] = {f"accuracy_{g}": v for g, v in grouped_accuracy(y_test, pred, open_mask).items()}
            meta = {"ranking": name, "direction": direction, "mode": mode, "k": k, "k_percent": 100.0 * k / width, "random_seed": s}
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
) -> pd.DataFrame:
    """End-task scores with k neurons *removed* (top, bottom or random by each ranking).

    ``score(removed)`` runs the model with those neurons of the layer zeroed and
    returns its metrics (e.g. chunk F1). Identical removals are scored once.
    """
    cache: dict[bytes, Mapping[str, float]] = {}
    rows: list[dict[str, Any]] = []
    items = list(_each_selection(rankings, width, ks, random_repeats, seed))
    for name, direction, k, s, removed in progress(items) if progress else items:
        key = np.sort(removed).tobytes()
        if key not in cache:
            cache[key] = score(removed)
        meta = {"ranking": name, "direction": direction, "mode": "model", "k": k, "k_percent": 100.0 * k / width, "random_seed": s}
        rows.extend(_curve_rows(meta, cache[key]))
    out = pd.DataFrame(rows)
    out["random_seed"] = out["random_seed"].astype("Int64")
    return out


def rankings_from_tables(orderings: pd.DataFrame | None, scores: pd.DataFrame | None, instance: str, methods: Sequence[str]) -> dict[str, np.ndarray]:
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
    retrain_params: Mapping[str, Any],
) -> pd.DataFrame:
    """Probe ablation for one (instance, layer, property) (workflow edge)."""
    from tqdm.auto import tqdm

    from .activations import read_keys, read_layer
    from .io import provenance, write_parquet
    from .properties import open_class_mask

    scores = _read_optional(scores_path)
    orders = rankings_from_tables(pd.read_parquet(orderings_path), scores, instance, [r for r in rankings if scores is not None or r in {"lca", "probeless", "random"}])
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
        retrain_params,
        progress=lambda it: tqdm(it, desc=f"probe ablation {instance} layer {layer} {prop}", unit="selection"),
    )
    curves = curves.assign(instance=instance, layer=layer, property=prop)
    settings = {"rankings": list(orders), "percents": list(percents), "neurons": list(neurons), "modes": list(modes), "random_repeats": random_repeats, "retrain": dict(retrain_params)}
    write_parquet(curves, out_path, provenance(settings, seed))
    return curves


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
) -> pd.DataFrame:
    """Model ablation for one trained instance and layer (workflow edge): chunk F1 with k neurons zeroed."""
    import torch
    from tqdm.auto import tqdm

    from .data import read_tokens
    from .io import provenance, write_parquet
    from .models import load_model
    from .training import evaluate, pick_device

    model, vocab = load_model(model_dir, pick_device(device))
    tokens = read_tokens(tokens_path)
    width = model.layer_dims[layer]
    available = [r for r in rankings if (r in {"lca", "probeless", "random"} and orderings_path) or (r not in {"lca", "probeless", "random"} and scores_path)]
    orders = rankings_from_tables(_read_optional(orderings_path), _read_optional(scores_path), instance, available)

    def score(removed: np.ndarray) -> dict[str, float]:
        mask = torch.ones(width)
        mask[torch.as_tensor(removed, dtype=torch.long)] = 0.0
        return evaluate(model, vocab, tokens, masks={layer: mask})

    curves = model_ablation(
        score, width, orders, k_grid(width, percents), random_repeats, seed,
        progress=lambda it: tqdm(it, desc=f"model ablation {instance} layer {layer}", unit="selection"),
    )
    curves = curves.assign(instance=instance, layer=layer)
    settings = {"rankings": list(orders), "percents": list(percents), "random_repeats": random_repeats, "model": model_dir}
    write_parquet(curves, out_path, provenance(settings, seed))
    return curves


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
    curves["property"] = curves["property"].where(curves["mode"] != "model", "chunk-f1") if "property" in curves else "chunk-f1"
    meta = provenance({"inputs": list(paths)})
    write_parquet(curves, curves_path, meta)
    spread = curve_spread(curves)
    write_parquet(spread, spread_path, meta)
    return spread
