"""The neuron-description stage (workflow edge): what each ranking's top neurons respond to."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from neurosieve.analysis.describe import describe_neurons
from neurosieve.analysis.overlap import correlation_orderings
from neurosieve.core.registry import CORRELATION_RANKINGS
from neurosieve.settings import DescribeSettings
from neurosieve.store.activations import read_keys, read_layer
from neurosieve.store.io import provenance, read_table, write_parquet


def run_describe(
    activations_path: str,
    layer: int,
    orderings: Mapping[str, str],
    scores_path: str | None,
    instance: str,
    out_path: str,
    settings: DescribeSettings,
) -> pd.DataFrame:
    """Describe the top neurons of one (family, instance, layer) (workflow edge).

    ``orderings`` maps a property to its probe's orderings table (its LCA
    ordering becomes ranking ``lca:<property>``); ``scores_path`` is the
    layer's correlation scores (the family's correlation rankings), or None.
    """
    properties, top_n, n_words = list(settings.properties), settings.top_neurons, settings.top_words

    rankings: dict[str, np.ndarray] = {}
    if scores_path:
        rankings.update(correlation_orderings(read_table(scores_path), instance, CORRELATION_RANKINGS))
    for prop, path in orderings.items():
        o = read_table(path)
        rankings[f"lca:{prop}"] = o[o["method"] == "lca"].sort_values("rank")["neuron"].to_numpy()
    keys = read_keys(activations_path)
    table = describe_neurons(read_layer(activations_path, layer), keys, rankings, properties, top_n, n_words)
    settings = {
        "layer": layer,
        "instance": instance,
        "properties": properties,
        "top_n": top_n,
        "n_words": n_words,
    }
    write_parquet(table.assign(instance=instance, layer=layer), out_path, provenance(settings))
    return table


__all__ = ["run_describe"]
