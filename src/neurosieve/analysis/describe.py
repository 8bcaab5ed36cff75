"""What a top neuron responds to: its most associated property label, the strength of that association, its top words.

For every neuron of a layer and every label of every property (corpus columns
and derived properties) this computes the point-biserial correlation between
the neuron's activation and the label's indicator over the tokens, and for the
continuous properties (position, distance to the sentence end) the Pearson
correlation with their value. A neuron is described by the label (or
continuous property) with the largest |r|, its signed r, and the words of its
most strongly activating tokens. All correlations come from one matrix product
of z-scored activations and z-scored indicators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from neurosieve.analysis.correlation import standardize
from neurosieve.store.properties import continuous_properties


def property_matrix(keys: pd.DataFrame, properties: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Every token's value of every label indicator (one column per property label) and continuous property.

    Returns the (tokens × columns) float32 matrix and a table naming each column
    (``property``, ``label``; the label is empty for a continuous property).
    """
    cols, names = [], []
    for prop in properties:
        values = keys[prop].astype(str).to_numpy()
        for label in np.unique(values):
            cols.append(values == label)
            names.append((prop, str(label)))
    for prop, values in continuous_properties(keys).items():
        cols.append(values.to_numpy())
        names.append((prop, ""))
    matrix = np.stack(cols, axis=1).astype(np.float32)
    return matrix, pd.DataFrame(names, columns=["property", "label"])


def associations(x: np.ndarray, keys: pd.DataFrame, properties: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Pearson r of every neuron (rows) with every property column of :func:`property_matrix` (columns).

    Dead neurons and constant columns (a label on every token) correlate 0.
    """
    y, names = property_matrix(keys, properties)
    zx, zy = standardize(x), standardize(y)
    return (zx.z.T @ zy.z) / max(len(x), 1), names


def top_words(x: np.ndarray, words: Sequence[str], neurons: Sequence[int], n: int) -> list[list[str]]:
    """For each neuron, the first ``n`` distinct words of its tokens in order of decreasing activation."""
    words = np.asarray(words, dtype=object)
    out = []
    for j in neurons:
        seen: dict[str, None] = {}
        for i in np.argsort(-x[:, j], kind="stable"):
            seen.setdefault(str(words[i]), None)
            if len(seen) == n:
                break
        out.append(list(seen))
    return out


def describe_neurons(
    x: np.ndarray,
    keys: pd.DataFrame,
    rankings: Mapping[str, np.ndarray],
    properties: Sequence[str],
    top_n: int = 10,
    n_words: int = 5,
) -> pd.DataFrame:
    """For the top ``top_n`` neurons of each ranking: the most associated property label, its r, and its top words.

    ``rankings`` maps a ranking name (e.g. ``maxcorr``, ``lca:pos``) to neuron
    indices, best first. Columns: ranking, rank (1-based), neuron, property,
    label (empty for a continuous property), r (signed), abs_r,
    second_property/second_label/second_r (the runner-up from another
    property, to show how clear-cut the description is) and top_words.
    """
    r, names = associations(x, keys, properties)
    a = np.abs(r)
    rows = []
    for ranking, order in rankings.items():
        neurons = np.asarray(order[:top_n], dtype=np.int64)
        words = top_words(x, keys["word"].astype(str).to_numpy(), neurons, n_words)
        for rank, (j, w) in enumerate(zip(neurons, words), start=1):
            best = int(np.argmax(a[j]))
            other = names["property"].to_numpy() != names["property"].iat[best]
            second = int(np.flatnonzero(other)[np.argmax(a[j, other])]) if other.any() else best
            rows.append(
                {
                    "ranking": ranking,
                    "rank": rank,
                    "neuron": int(j),
                    "property": names["property"].iat[best],
                    "label": names["label"].iat[best],
                    "r": float(r[j, best]),
                    "abs_r": float(a[j, best]),
                    "second_property": names["property"].iat[second],
                    "second_label": names["label"].iat[second],
                    "second_r": float(r[j, second]),
                    "top_words": " ".join(w),
                }
            )
    return pd.DataFrame(rows)


def extreme_tokens(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's ``n`` highest and ``n`` lowest activating tokens: two (neurons × n) arrays of token rows,
    strongest first (ties to the earlier token)."""
    order = np.argsort(-np.asarray(x, dtype=np.float32), axis=0, kind="stable")  # tokens × neurons, highest first
    n = min(int(n), len(order))
    return order[:n].T.copy(), order[::-1][:n].T.copy()


def strongest_labels(x: np.ndarray, keys: pd.DataFrame, properties: Sequence[str], n: int = 3) -> pd.DataFrame:
    """For every neuron, the ``n`` property labels (or continuous properties) with the largest |r|: columns neuron,
    rank (1 = strongest), property, label, r."""
    r, names = associations(x, keys, properties)
    top = np.argsort(-np.abs(r), axis=1, kind="stable")[:, :n]
    rows = [
        {
            "neuron": j,
            "rank": i + 1,
            "property": names["property"].iat[c],
            "label": names["label"].iat[c],
            "r": float(r[j, c]),
        }
        for j in range(r.shape[0])
        for i, c in enumerate(top[j])
    ]
    return pd.DataFrame(rows, columns=["neuron", "rank", "property", "label", "r"])


def neuron_caption(row: Mapping[str, object]) -> str:
    """A one-line description of a neuron: ``position_bin=0 (r=+0.82)``, or ``position (r=-0.61)`` when continuous."""
    what = f"{row['property']}={row['label']}" if row["label"] else str(row["property"])
    return f"{what} (r={float(row['r']):+.2f})"


__all__ = [
    "associations",
    "describe_neurons",
    "extreme_tokens",
    "neuron_caption",
    "property_matrix",
    "strongest_labels",
    "top_words",
]
