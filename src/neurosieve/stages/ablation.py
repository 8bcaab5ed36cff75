"""Ablation stages (workflow edge): probe ablation of one (instance, layer, property), model ablation
of a trained tagger's layer, and the family's ablation summary; read tables and models, call
:mod:`neurosieve.analysis.ablation`, write through :mod:`neurosieve.store`."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from neurosieve.analysis.ablation import (
    FILL_MODES,
    area_bootstrap_rows,
    curve_spread,
    k_grid,
    label_end_task,
    label_focus,
    model_ablation,
    probe_ablation,
    probe_minus_tagger,
    rankings_from_tables,
    reported_ks,
    split_half_ablation,
)
from neurosieve.analysis.calibration import ORACLE, best_of_oracle, oracle_reference
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import order_by_score
from neurosieve.core.registry import CHUNK_LCA, CORRELATION_RANKINGS, MODEL_RANKINGS, PROBE_RANKINGS
from neurosieve.models.finetuning import is_finetuned, masked_evaluator
from neurosieve.models.inputs import load_input_keys
from neurosieve.models.layer_cache import LayerCache
from neurosieve.models.taggers import load_model
from neurosieve.models.training import pick_device
from neurosieve.settings import ModelAblationSettings, PoolAblationSettings, ProbeAblationSettings
from neurosieve.store.activations import read_keys, read_layer, read_layers
from neurosieve.store.corpus import read_tokens
from neurosieve.store.io import provenance, read_table, write_parquet
from neurosieve.store.properties import open_class_mask


def _read_optional(path: str | None) -> pd.DataFrame | None:
    return read_table(path) if path else None


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
    settings: ProbeAblationSettings,
    *,
    rankings: Sequence[str],
    model_kind: str | None = None,
    model_source: str | None = None,
) -> pd.DataFrame:
    """Probe ablation for one (instance, layer, property) (workflow edge).

    Retrained probes reuse the saved probe's parameters (one training budget for
    the probe and its retrained ablations). ``model_kind``/``model_source`` give
    the model's vocabulary, for accuracy on in-vocabulary tokens.
    """
    percents, neurons, modes = settings.keep_percent, settings.keep_neurons, settings.modes
    random_repeats, seed = settings.random_repeats, settings.seed
    from tqdm.auto import tqdm

    scores = _read_optional(scores_path)
    orders = rankings_from_tables(
        read_table(orderings_path),
        scores,
        instance,
        [r for r in rankings if scores is not None or r in PROBE_RANKINGS],
    )
    train_keys, test_keys = read_keys(train_path), read_keys(test_path)
    X_train, X_test = read_layer(train_path, layer), read_layer(test_path, layer)
    y_train, sentence = train_keys[prop].astype(str).to_numpy(), train_keys["sentence"].to_numpy()
    ks = k_grid(X_test.shape[1], percents, neurons)
    salt = zlib.crc32(instance.encode())  # random selections that differ between instances
    oracle = None
    if settings.oracle_neurons > 0:
        oracle = oracle_reference(
            X_train,
            y_train,
            sentence,
            orders,
            ks,
            settings.oracle_neurons,
            settings.dev_fraction,
            settings.dev_seed,
        )
        orders = {**orders, ORACLE: oracle.order}
    probe = ElasticNetProbe.load(probe_path)
    y_test, open_mask = test_keys[prop].astype(str).to_numpy(), open_class_mask(test_keys)
    in_vocab = (
        load_input_keys(model_kind, model_source)(test_keys["word"].astype(str).to_numpy())[1]
        if model_kind and model_source
        else None
    )
    tokens: dict[tuple[str, str, int], list[np.ndarray]] = {}  # each retrained selection's correctness on test
    curves = probe_ablation(
        probe,
        X_train,
        y_train,
        X_test,
        y_test,
        open_mask,
        orders,
        ks,
        modes,
        random_repeats,
        seed,
        progress=lambda it: tqdm(it, desc=f"probe ablation {instance} layer {layer} {prop}", unit="probe group"),
        in_vocab=in_vocab,
        salt=salt,
        top_only=(ORACLE,),
        probe_seeds=settings.probe_seeds,
        seeded_ks=reported_ks(ks, X_test.shape[1]),
        sentences=test_keys["sentence"].to_numpy(),
        tokens=tokens if oracle is not None and "retrain" in modes else None,
    )
    if oracle is not None:
        curves = best_of_oracle(curves, oracle.check)
        if tokens:
            bounds = area_bootstrap_rows(curves, tokens, test_keys["sentence"].to_numpy(), seed)
            curves = pd.concat([curves, bounds], ignore_index=True)
    if settings.split_half:
        halves = split_half_ablation(
            probe,
            X_train,
            y_train,
            sentence,
            X_test,
            y_test,
            open_mask,
            settings.split_half,
            ks,
            settings.split_half_random_repeats,
            seed,
            salt,
            in_vocab,
            progress=lambda it: tqdm(it, desc=f"split halves {instance} layer {layer} {prop}", unit="probe group"),
            sentences=test_keys["sentence"].to_numpy(),
        )
        curves = pd.concat([curves, halves], ignore_index=True)
    focus = list(settings.label_focus.get(prop, ()))
    if focus:
        labels = label_focus(
            probe,
            X_train,
            y_train,
            X_test,
            y_test,
            focus,
            settings.label_max_k,
            settings.label_random_repeats,
            seed,
            salt,
            progress=lambda it: tqdm(it, desc=f"label tests {instance} layer {layer} {prop}", unit="probe group"),
            sentences=test_keys["sentence"].to_numpy(),
        )
        curves = pd.concat([curves, labels], ignore_index=True)
    curves = curves.assign(instance=instance, layer=layer, property=prop)
    recorded = {
        "rankings": list(orders),
        "percents": list(percents),
        "neurons": list(neurons),
        "modes": list(modes),
        "random_repeats": random_repeats,
        "probe_seeds": settings.probe_seeds,
        "model": model_source,
        "oracle": None
        if oracle is None
        else {
            "neurons": len(oracle.order),
            "dev_split": {"fraction": settings.dev_fraction, "seed": settings.dev_seed},
            "search_seconds": oracle.seconds,
        },
        "labels": {"focus": focus, "max_k": settings.label_max_k, "random_repeats": settings.label_random_repeats},
        "split_half": {"rankings": list(settings.split_half), "random_repeats": settings.split_half_random_repeats},
    }
    write_parquet(curves, out_path, provenance(recorded, seed))
    return curves


def run_pool_ablation(
    train_path: str,
    test_path: str,
    layers: Sequence[int],
    prop: str,
    probe_path: str,
    orderings_path: str,
    instance: str,
    out_path: str,
    settings: PoolAblationSettings,
    *,
    rankings: Sequence[str],
) -> pd.DataFrame:
    """Probe ablation of the all-layers pool for one (instance, property) (workflow edge): the paper's setting.

    Every layer's neurons concatenated and ranked together by the all-layer probe
    (:func:`~neurosieve.analysis.probing.probe_all_layers`); keep the top, bottom or a random ``keep_percent`` of
    the pool, mask the rest or retrain with the all-layer probe's parameters. The percent grid only, and no
    oracle: the pool is the setting the paper's top-minus-bottom gaps come from, and its place between random and
    an oracle is measured per layer (:func:`run_probe_ablation`). Rows carry the pooled ``layers`` and ``width``.
    """
    from tqdm.auto import tqdm

    orders = rankings_from_tables(read_table(orderings_path), None, instance, list(rankings))
    train_keys, test_keys = read_keys(train_path), read_keys(test_path)
    # At stored precision: the pool of a float16 dump stays float16 (half the memory; widened a batch at a time).
    X_train, X_test = read_layers(train_path, layers, stored=True)[0], read_layers(test_path, layers, stored=True)[0]
    y_train, y_test = train_keys[prop].astype(str).to_numpy(), test_keys[prop].astype(str).to_numpy()
    width = X_test.shape[1]
    curves = probe_ablation(
        ElasticNetProbe.load(probe_path),
        X_train,
        y_train,
        X_test,
        y_test,
        open_class_mask(test_keys),
        orders,
        k_grid(width, settings.keep_percent),
        settings.modes,
        settings.random_repeats,
        settings.seed,
        progress=lambda it: tqdm(it, desc=f"pool ablation {instance} layers {list(layers)} {prop}", unit="probe group"),
        salt=zlib.crc32(instance.encode()),
        probe_seeds=settings.probe_seeds,
        seeded_ks=reported_ks(k_grid(width, settings.keep_percent), width),
        sentences=test_keys["sentence"].to_numpy(),
    )
    curves = curves.assign(instance=instance, layers=",".join(map(str, layers)), width=width, property=prop)
    recorded = {
        "rankings": list(orders),
        "layers": list(layers),
        "percents": list(settings.keep_percent),
        "modes": list(settings.modes),
        "random_repeats": settings.random_repeats,
        "probe_seeds": settings.probe_seeds,
    }
    write_parquet(curves, out_path, provenance(recorded, settings.seed))
    return curves


def neuron_means(activations_path: str, layer: int) -> np.ndarray:
    """Each neuron's mean activation over a split's tokens (the replacement value of mean ablation)."""

    return read_layer(activations_path, layer).mean(axis=0, dtype=np.float64).astype(np.float32)


def run_model_ablation(
    model_dir: str,
    tokens_path: str,
    layer: int,
    orderings_path: str | None,
    scores_path: str | None,
    instance: str,
    out_path: str,
    settings: ModelAblationSettings,
    *,
    rankings: Sequence[str],
    train_activations_path: str | None = None,
    chunk_orderings_path: str | None = None,
    chunk_tokens_path: str | None = None,
) -> pd.DataFrame:
    """Model ablation for one trained or fine-tuned instance and layer (workflow edge): chunk F1 with k neurons removed.

    A tagger trained here runs once over the test sentences; every selection is
    then scored from the cached layer output up
    (:class:`~neurosieve.models.layer_cache.LayerCache`). A fine-tuned encoder is
    re-run per selection with the layer's neurons ablated by a forward hook.
    ``fills`` lists how removed neurons are replaced: ``zero`` (the paper's
    ablation; rows with mode ``model``) and/or ``mean`` (the neuron's mean
    activation over the training tokens in ``train_activations_path``, since
    zero is not neutral for a neuron that is never near zero; mode ``model-mean``). ``chunk_lca`` (the
    positive control) is the ``lca_std`` ordering in ``chunk_orderings_path``, the chunk-tag probe of the same
    instance and layer; without that file it is not computed. At a tagger's top layer (its head's input), the
    chunk probe's per-token correctness in ``chunk_tokens_path`` is compared with the tagger's own on the same
    tokens (:func:`~neurosieve.analysis.ablation.probe_minus_tagger`; rows at k 0, ranking ``none``).
    """
    percents, random_repeats, seed, fills, device = (
        settings.remove_percent,
        settings.random_repeats,
        settings.seed,
        settings.fills,
        settings.device,
    )
    import torch
    from tqdm.auto import tqdm

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
        r for r in rankings if (r in PROBE_RANKINGS and orderings_path) or (r in CORRELATION_RANKINGS and scores_path)
    ]
    orders = rankings_from_tables(_read_optional(orderings_path), _read_optional(scores_path), instance, available)
    wanted_model = [r for r in rankings if r in MODEL_RANKINGS and r != CHUNK_LCA]
    if wanted_model and not is_finetuned(model_dir):
        orders.update(model_rankings(cache, model, layer, wanted_model))
    if CHUNK_LCA in rankings and chunk_orderings_path:
        orders[CHUNK_LCA] = rankings_from_tables(read_table(chunk_orderings_path), None, instance, ["lca_std"])[
            "lca_std"
        ]

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
    if chunk_tokens_path and not is_finetuned(model_dir) and layer == len(model.layer_dims) - 1:
        probe_tokens = read_table(chunk_tokens_path)
        if not np.array_equal(probe_tokens["sentence"].to_numpy(), tokens["sentence"].to_numpy()):
            raise ValueError(
                f"{chunk_tokens_path} does not hold the test tokens of {tokens_path} in their order: "
                "rerun the chunk probe of this instance and layer (delete the file)"
            )
        compared = probe_minus_tagger(
            probe_tokens["right"].to_numpy(), cache.token_right(), tokens["sentence"].to_numpy(), seed
        )
        meta = {"ranking": "none", "direction": "top", "mode": FILL_MODES["zero"], "k": 0, "k_percent": 0.0}
        parts.append(pd.DataFrame([{**meta, "metric": m, "value": v} for m, v in compared.items()]))
    curves = pd.concat(parts, ignore_index=True).assign(instance=instance, layer=layer)
    curves["random_seed"] = curves["random_seed"].astype("Int64")
    recorded = {
        "rankings": list(orders),
        "percents": list(percents),
        "random_repeats": random_repeats,
        "model": model_dir,
        "fills": list(fills),
    }
    write_parquet(curves, out_path, provenance(recorded, seed))
    return curves


def model_rankings(cache: LayerCache, model: Any, layer: int, wanted: Sequence[str]) -> dict[str, np.ndarray]:
    """The rankings computed from the tagger itself (registry source ``model``), most important first.

    ``head_weight``: the L2 norm over labels of the tagger head's weights on each neuron, times the neuron's sd
    over the test tokens: what the head reads from it (top layer only; a lower layer feeds more layers, so it is
    skipped there). ``single_neuron``: chunk F1 lost when the neuron alone is zeroed, one head pass per neuron;
    an upper reference that sees the scores it predicts, not a fair ranking. Ties go to the lower index.
    """
    import torch

    out: dict[str, np.ndarray] = {}
    top = layer == len(model.layer_dims) - 1
    if "head_weight" in wanted and top:
        with torch.no_grad():
            tokens = torch.cat(
                [
                    h[torch.arange(h.shape[1], device=h.device)[None, :] < n.to(h.device)[:, None]]
                    for _, n, h in cache.batches
                ]
            )  # every test token's layer output, padding dropped
            sd = tokens.double().std(dim=0, unbiased=False).cpu().numpy()
            norm = model.out.weight.detach().double().norm(dim=0).cpu().numpy()
        out["head_weight"] = order_by_score(norm * sd)
    if "single_neuron" in wanted:
        full = cache.score([])["f1"]
        drop = np.array([full - cache.score([j])["f1"] for j in range(cache.width)])
        out["single_neuron"] = order_by_score(drop)
    return out


def run_ablation_summary(paths: Sequence[str], curves_path: str, spread_path: str) -> pd.DataFrame:
    """Concatenate a family's ablation curves and compute their spread across instances (workflow edge)."""

    curves = pd.concat([read_table(p) for p in paths], ignore_index=True)
    curves = label_end_task(curves)
    meta = provenance({"inputs": list(paths)})
    write_parquet(curves, curves_path, meta)
    spread = curve_spread(curves)
    write_parquet(spread, spread_path, meta)
    return spread
