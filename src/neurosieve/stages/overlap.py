"""The CCA-against-LCA stage (workflow edge): a layer's correlation rankings against every property's
LCA ordering, per instance, into one table."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from neurosieve.analysis.overlap import cca_lca_overlap
from neurosieve.settings import OverlapSettings
from neurosieve.store.io import provenance, read_table, write_parquet


def run_overlap(
    scores_path: str,
    orderings: Mapping[tuple[str, str], str],
    out_path: str,
    *,
    layer: int,
    settings: OverlapSettings,
) -> pd.DataFrame:
    """CCA-against-LCA overlap for one (family, layer) (workflow edge): correlation scores and LCA orderings in, table out."""

    top_fractions = list(settings.top_fractions)
    scores = read_table(scores_path)
    lca = {}
    for key, path in orderings.items():
        o = read_table(path)
        lca[key] = o[o["method"] == "lca"].sort_values("rank")["neuron"].to_numpy()
    table = cca_lca_overlap(scores, lca, top_fractions).assign(layer=layer)
    settings = {
        "layer": layer,
        "top_fractions": top_fractions,
        "p_value": "hypergeometric",
        "scores": scores_path,
    }
    write_parquet(table, out_path, provenance(settings))
    return table


__all__ = ["run_overlap"]
