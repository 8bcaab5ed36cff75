"""Correlation stages (workflow edge): the cross-model correlation rankings of one layer, the
near-twin experiment and linear CKA, read from activation tables and written as tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from neurosieve.analysis.correlation import (
    CKA_SAMPLE_SEED,
    TWIN_BOOTSTRAP_BLOCKS,
    CorrelationResult,
    correlate_instances,
    correlation_device,
    correlation_rankings,
    duplicate_experiment,
    fraction_ks,
    ranking_stability,
    sentence_sample,
    similarity_table,
    twin_change_bootstrap,
    twin_experiment,
)
from neurosieve.settings import CorrelationSettings, SimilaritySettings, TwinCorrelationSettings
from neurosieve.store.activations import activation_layers, read_keys, read_layer, stored_dtype
from neurosieve.store.io import provenance, read_table, write_parquet


def run_correlation(
    sources: Mapping[str, tuple[str, int]],
    scores_path: str,
    pairs_path: str,
    stability_path: str,
    duplicate_path: str,
    settings: CorrelationSettings,
) -> CorrelationResult:
    """Correlation stage (workflow edge): scores, pairs, stability and the duplicate experiment.

    ``sources`` maps an instance name to its activation file and layer: one
    layer of a family, or layers of several families correlated together.
    ``device`` is resolved by :func:`correlation_device`.
    """
    block, linreg, top_fractions = settings.block_size, settings.linreg, settings.top_fractions
    duplicate, device = settings.duplicate, settings.device
    import logging

    log = logging.getLogger(__name__)
    acts = {inst: read_layer(path, layer) for inst, (path, layer) in sources.items()}
    layers = {inst: layer for inst, (_, layer) in sources.items()}
    recorded = {"layers": layers, "block": block, "linreg": linreg, "top_fractions": list(top_fractions)}
    dev = correlation_device(device)
    # Standardised in place: one float32 copy of each instance's layer is all the stage holds.
    result = correlate_instances(acts, block, linreg, copy=False, device=dev)
    ks = fraction_ks(top_fractions, [a.shape[1] for a in acts.values()])
    dead = result.scores.groupby("instance")["dead"].sum()
    for inst, n in dead.items():
        log.info("%s layer %d: %d dead neurons of %d", inst, layers[inst], n, acts[inst].shape[1])
    meta = provenance(recorded)
    write_parquet(result.scores.assign(layer=result.scores["instance"].map(layers)), scores_path, meta)
    write_parquet(result.pairs.assign(layer=result.pairs["instance"].map(layers)), pairs_path, meta)
    write_parquet(ranking_stability(result, ks), stability_path, meta)
    if duplicate == "first":
        duplicate = next(iter(acts))
    elif duplicate is not None and duplicate not in acts:
        log.warning("duplicate instance %r is not among %s: experiment skipped", duplicate, list(acts))
        duplicate = None
    dup = (
        duplicate_experiment(acts, duplicate, ks, block=block, before=result.scores, device=dev, copy=False)
        if duplicate
        else pd.DataFrame(
            columns=["method", "instance", "duplicated", "spearman", "mean_score_before", "mean_score_after"]
        )
    )
    write_parquet(dup, duplicate_path, provenance({**recorded, "duplicate": duplicate}))
    return result


TWIN_BOOTSTRAP_SEED, TWIN_BOOTSTRAP_RESAMPLES = 0, 1000
"""Seed and resamples of the near-twin ranking change's block bootstrap (recorded beside the table)."""


def run_twin_correlation(
    family_paths: Mapping[str, str],
    twin_path: str,
    layer: int,
    twin: str,
    twin_of: str,
    before_path: str,
    scores_path: str,
    change_path: str,
    settings: TwinCorrelationSettings,
) -> pd.DataFrame:
    """Near-twin experiment of one layer (workflow edge): the family's scores with the twin added, and how
    every instance's ranking changes (``before_path``: the correlation stage's scores without the twin), each
    Spearman with its block-bootstrap interval over the sentences correlated (:func:`twin_change_bootstrap`:
    columns ``spearman_low``, ``spearman_high``, ``blocks``)."""
    block, linreg, top_fractions = settings.block_size, settings.linreg, settings.top_fractions

    acts = {inst: read_layer(path, layer) for inst, path in family_paths.items()}
    twin_acts = read_layer(twin_path, layer)
    methods = correlation_rankings(full_layer=linreg)
    ks = fraction_ks(top_fractions, [a.shape[1] for a in acts.values()])
    change, after = twin_experiment(acts, twin, twin_acts, twin_of, ks, methods, block, before=read_table(before_path))
    sentences = read_keys(next(iter(family_paths.values())), derived=False)["sentence"].to_numpy()
    bounds = twin_change_bootstrap(
        acts, twin, twin_acts, sentences, methods, resamples=TWIN_BOOTSTRAP_RESAMPLES, seed=TWIN_BOOTSTRAP_SEED
    )
    change = change.merge(bounds, on=["method", "instance"], how="left")
    meta = provenance(
        {
            "layer": layer,
            "twin": twin,
            "twin_of": twin_of,
            "block": block,
            "linreg": linreg,
            "top_fractions": list(top_fractions),
            "bootstrap": {"blocks": TWIN_BOOTSTRAP_BLOCKS, "resamples": TWIN_BOOTSTRAP_RESAMPLES},
        },
        TWIN_BOOTSTRAP_SEED,
    )
    write_parquet(after.assign(layer=layer), scores_path, meta)
    write_parquet(change.assign(layer=layer), change_path, meta)
    return change


def run_similarity(activation_paths: Mapping[str, str], out_path: str, settings: SimilaritySettings) -> pd.DataFrame:
    """Linear CKA between all (instance, layer) pairs of a family (workflow edge), on every token or on
    ``settings.tokens`` tokens of whole sentences (:func:`sentence_sample`, the same rows for every instance)."""

    files = {}
    for inst, p in activation_paths.items():
        for name in activation_layers(p):
            files[inst, int(name.split("_")[1])] = p
    rows = None
    if settings.tokens is not None:
        sentences = {p: read_table(p, ["sentence"])["sentence"].to_numpy() for p in activation_paths.values()}
        first, ids = next(iter(sentences.items()))
        for p, other in sentences.items():
            if not np.array_equal(other, ids):
                raise ValueError(
                    f"{p}: its tokens are not those of {first}; a family's activations must be dumped over the same "
                    "token table (rerun their extraction)"
                )
        rows = sentence_sample(ids, settings.tokens)

    if rows is None:
        table = similarity_table(list(files), lambda key: read_layer(files[key], key[1]))
    else:
        # Each layer read once, its sample kept at the precision it is stored in (so exactly): CKA streams every
        # later instance's layers past each held one, and each read is of the whole split, not of the sample.
        samples = {key: read_layer(p, key[1])[rows].astype(stored_dtype(p, key[1])) for key, p in files.items()}
        table = similarity_table(list(files), samples.__getitem__)
    sample = {"cka_tokens": settings.tokens, "tokens": None if rows is None else len(rows), "seed": CKA_SAMPLE_SEED}
    write_parquet(table, out_path, provenance({"instances": list(activation_paths), "sample": sample}))
    return table
