"""CCA against LCA: do the neurons that recur across models (correlation rankings) carry the probed properties?

Dalvi et al. (2019) report that the two ranking methods agree: the top neurons
under cross-model correlation overlap the top neurons of the property probes,
with position neurons at the top of both. For one layer of a family this module
intersects, per instance, the top-k neurons of every correlation ranking with
the top-k of every property's LCA ordering, for several k. Two random k-subsets
of D neurons share k²/D neurons on average; their overlap is hypergeometric
(k draws without replacement from D neurons of which k are marked), so the
p-value is its exact upper tail P(X >= observed), from ``scipy.stats.hypergeom``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from neurosieve.analysis.correlation import METHODS, fraction_ks


def overlap_test(a: np.ndarray, b: np.ndarray, ks: Sequence[int], d: int) -> pd.DataFrame:
    """Overlap of the top-k of two orderings of the same ``d`` neurons, for each k, against random k-subsets.

    ``a`` and ``b`` are neuron indices, best first (full orderings or at least
    max(ks) long). Columns: k, overlap, share (overlap / k), chance (k² / d),
    ratio (overlap / chance) and p_value: the exact one-sided tail P(X >= overlap)
    of the hypergeometric overlap X of a uniform random k-subset with ``b``'s
    top-k (more overlap than chance).
    """
    rows = []
    for k in ks:
        top_b = np.zeros(d, bool)
        top_b[np.asarray(b[:k])] = True
        observed = int(top_b[np.asarray(a[:k])].sum())
        chance = k * k / d
        rows.append(
            {
                "k": int(k),
                "overlap": observed,
                "share": observed / k,
                "chance": chance,
                "ratio": observed / chance,
                # sf(x) is P(X > x): P(X >= observed) is sf(observed - 1). Population d, k marked, k drawn.
                "p_value": float(hypergeom.sf(observed - 1, d, k, k)),
            }
        )
    return pd.DataFrame(rows)


def correlation_orderings(
    scores: pd.DataFrame, instance: str, methods: Sequence[str] = METHODS
) -> dict[str, np.ndarray]:
    """An instance's neurons in rank order under each correlation method the scores table has."""
    s = scores[scores["instance"] == instance]
    return {m: s.sort_values(f"rank_{m}")["neuron"].to_numpy() for m in methods if f"rank_{m}" in s}


def cca_lca_overlap(
    scores: pd.DataFrame,
    lca: Mapping[tuple[str, str], np.ndarray],
    top_fractions: Sequence[float],
) -> pd.DataFrame:
    """Overlap of every correlation ranking's top-k with every property's LCA top-k, per instance.

    ``scores`` is a correlation stage's scores table (one layer, all
    instances); ``lca`` maps (instance, property) to that probe's LCA ordering.
    k runs over ``top_fractions`` of the layer width; p-values are exact
    (hypergeometric), so the table is a function of its inputs alone.
    """
    frames = []
    for inst in dict.fromkeys(scores["instance"]):
        corr = correlation_orderings(scores, inst)
        d = int((scores["instance"] == inst).sum())
        ks = fraction_ks(top_fractions, [d])
        for prop in sorted({p for (n, p) in lca if n == inst}):
            for method, order in corr.items():
                t = overlap_test(order, lca[inst, prop], ks, d)
                frames.append(t.assign(instance=inst, ranking=method, property=prop, width=d))
    cols = ["instance", "ranking", "property", "width", "k", "overlap", "share", "chance", "ratio", "p_value"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def headline_k(table: pd.DataFrame, fraction: float = 0.1) -> int:
    """The k of an overlap table closest to ``fraction`` of the layer (the one summaries and the figure report)."""
    ks = np.sort(table["k"].unique())
    width = float(table["width"].iloc[0])
    return int(ks[np.argmin(np.abs(ks - fraction * width))])


def property_agreement(table: pd.DataFrame, ranking: str, k: int, alpha: float = 0.05) -> pd.DataFrame:
    """Per property, over instances: mean overlap share, chance share, median p and how many instances pass ``alpha``.

    Sorted by mean ratio to chance, so the first row is the property the top
    neurons of ``ranking`` belong to most.
    """
    t = table[(table["ranking"] == ranking) & (table["k"] == k)]
    g = t.groupby("property")
    out = pd.DataFrame(
        {
            "share": g["share"].mean(),
            "chance_share": g["chance"].mean() / k,
            "ratio": g["ratio"].mean(),
            "median_p": g["p_value"].median(),
            "significant": g["p_value"].apply(lambda p: int((p < alpha).sum())),
            "instances": g.size(),
        }
    )
    return out.sort_values(["ratio", "share"], ascending=False).reset_index()


__all__ = ["cca_lca_overlap", "correlation_orderings", "headline_k", "overlap_test", "property_agreement"]
