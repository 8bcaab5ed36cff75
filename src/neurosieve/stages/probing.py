"""Probing stages (workflow edge): the lambda search, one probe job per (instance, layer, property),
the all-layer probe and the probing summary, read from activation tables and written as tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from neurosieve.analysis.probing import grid_pairs, probe_all_layers, probe_layer, select_lambdas, top_neurons_by_layer
from neurosieve.core.paths import PROBE_TABLES
from neurosieve.models.inputs import load_input_keys
from neurosieve.settings import AllLayerProbeSettings, LambdaSearchSettings, ProbeSettings
from neurosieve.store.activations import read_keys, read_layer, read_layers
from neurosieve.store.io import provenance, read_table, write_parquet


def chosen_lambdas(grid_path: str) -> tuple[float, float]:
    """The (l1, l2) pair a lambda-selection table marks as chosen."""
    grid = read_table(grid_path)
    row = grid[grid["chosen"]].iloc[0]
    return float(row["l1"]), float(row["l2"])


def run_lambda_selection(
    train_path: str,
    layer: int,
    prop: str,
    out_path: str,
    settings: LambdaSearchSettings,
) -> pd.DataFrame:
    """Grid search of (l1, l2) on held-out train sentences for one reference instance and layer (workflow edge)."""
    grid, tolerance, seed = settings.as_params()["grid"], settings.tolerance, settings.seed
    probe_params = settings.probe.estimator_params()

    keys = read_keys(train_path)
    _, table = select_lambdas(
        read_layer(train_path, layer),
        keys[prop].astype(str).to_numpy(),
        keys["sentence"].to_numpy(),
        grid_pairs(grid),
        tolerance,
        probe_params,
        held_out=settings.dev_fraction,
        random_state=seed,
        split_seed=settings.dev_seed,
        progress=lambda it: tqdm(it, desc=f"lambda path layer {layer} {prop}", unit="fit"),
        path_tol=settings.path_tol,
        criterion=settings.lambda_criterion,
        seeds=settings.lambda_seeds,
        keep=settings.lambda_keep,
        refit=settings.lambda_refit,
    )
    recorded = {
        "layer": layer,
        "property": prop,
        "grid": grid,
        "tolerance": tolerance,
        "path_tol": settings.path_tol,
        "criterion": settings.lambda_criterion,
        "lambda_seeds": settings.lambda_seeds,
        "lambda_keep": settings.lambda_keep,
        "lambda_refit": settings.lambda_refit,
        "dev_split": {"fraction": settings.dev_fraction, "seed": settings.dev_seed},
        "probe": probe_params,
        "train": train_path,
    }
    write_parquet(table, out_path, provenance(recorded, seed))
    return table


def run_probing(
    train_path: str,
    test_path: str,
    layer: int,
    prop: str,
    outputs: dict[str, str],
    settings: ProbeSettings,
    *,
    lambdas_path: str | None = None,
    model_kind: str | None = None,
    model_source: str | None = None,
    untrained_path: str | None = None,
    train_unk_path: str | None = None,
    untrained_tokens_path: str | None = None,
) -> dict[str, Any]:
    """Probing stage for one (instance, layer, property) (workflow edge): reads activations, writes every table.

    ``settings`` holds the lambdas, budget, salient share and seed; ``lambdas_path``, the
    lambda-selection table, overrides its (l1, l2) when the grid search ran.
    ``model_kind``/``model_source`` (family kind and model directory or spec)
    give the model's input keys for the control task and the OOV split;
    ``untrained_path`` is the untrained baseline's metrics table, ``untrained_tokens_path`` its per-token table
    (for the test set's interval of the differences to it);
    ``train_unk_path`` the train activations extracted with ``<unk>`` dropout.
    """

    l1, l2 = chosen_lambdas(lambdas_path) if lambdas_path else (float(settings.l1), float(settings.l2))
    probe_params, salient_fraction, seed = settings.probe.estimator_params(), settings.salient_fraction, settings.seed
    recorded = {
        "layer": layer,
        "property": prop,
        "l1": l1,
        "l2": l2,
        "probe": probe_params,
        "salient_fraction": salient_fraction,
        "train": train_path,
        "test": test_path,
        "model_kind": model_kind,
        "model_source": model_source,
        "untrained": untrained_path,
        "untrained_tokens": untrained_tokens_path,
        "train_unk": train_unk_path,
    }
    out = probe_layer(
        read_layer(train_path, layer),
        read_keys(train_path),
        read_layer(test_path, layer),
        read_keys(test_path),
        prop,
        l1=l1,
        l2=l2,
        probe_params=probe_params,
        salient_fraction=salient_fraction,
        seed=seed,
        input_keys=load_input_keys(model_kind, model_source) if model_kind and model_source else None,
        untrained=read_table(untrained_path) if untrained_path else None,
        untrained_tokens=read_table(untrained_tokens_path) if untrained_tokens_path else None,
        X_train_unk=read_layer(train_unk_path, layer) if train_unk_path else None,
        fixed_budget_baseline=settings.fixed_budget_baseline,
        probe_seeds=settings.probe_seeds,
    )
    meta = provenance(recorded, seed)
    out["probe"].save(outputs["probe"])
    for key in PROBE_TABLES:
        write_parquet(out[key], outputs[key], meta)
    return out


def run_probing_summary(paths: Sequence[str], keys: Sequence[Sequence[Any]], out_path: str) -> pd.DataFrame:
    """All probe metrics of a family in one table, keyed by instance, layer and property (workflow edge)."""

    frames = [read_table(p).assign(instance=k[0], layer=int(k[1]), property=k[2]) for p, k in zip(paths, keys)]
    table = pd.concat(frames, ignore_index=True)
    write_parquet(table, out_path, provenance({"inputs": list(paths)}))
    return table


def run_all_layer_probing(
    train_path: str,
    test_path: str,
    layers: Sequence[int],
    prop: str,
    outputs: dict[str, str],
    settings: AllLayerProbeSettings,
) -> pd.DataFrame:
    """All-layer probing for one (instance, property) (workflow edge): writes the orderings, the by-layer table
    and, when ``outputs`` names one, the probe (``probe``: what the all-layers pool ablation retrains from)."""
    lambdas, probe_params, seed = (settings.l1, settings.l2), settings.probe.estimator_params(), settings.seed

    y_train = read_keys(train_path)[prop].astype(str).to_numpy()
    y_test = read_keys(test_path)[prop].astype(str).to_numpy()
    # At stored precision: the pool of a float16 dump stays float16 (half the memory; widened a batch at a time).
    (X_train, widths) = read_layers(train_path, layers, stored=True)
    X_test = read_layers(test_path, layers, stored=True)[0]
    out = probe_all_layers(
        X_train,
        y_train,
        X_test,
        y_test,
        layers,
        widths=widths,
        l1=float(lambdas[0]),
        l2=float(lambdas[1]),
        probe_params=probe_params,
        seed=seed,
    )
    meta = provenance(
        {
            "layers": list(layers),
            "property": prop,
            "l1": lambdas[0],
            "l2": lambdas[1],
            "probe": probe_params,
            "accuracy": out["accuracy"],
        },
        seed,
    )
    write_parquet(out["orderings"], outputs["orderings"], meta)
    if outputs.get("probe"):
        out["probe"].save(outputs["probe"])
    by_layer = top_neurons_by_layer(out["orderings"]).assign(accuracy=out["accuracy"])
    write_parquet(by_layer, outputs["by_layer"], meta)
    return by_layer
