"""Derived token properties computed on token tables (the registry and the per-word label functions:
:mod:`neurosieve.core.properties`).

:func:`add_derived` appends them as columns, so the probing machinery (labels, control task,
baselines, selectivity) treats them exactly as it treats a corpus column. Two of them also have a
continuous value (:func:`continuous_properties`), used where a neuron is correlated with a property
rather than probed for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from neurosieve.core.properties import (
    DERIVED,
    OPEN_CLASS_POS,
    POSITION_BINS,
    POSITION_LABELS,
    capitalisation,
    coarse_pos,
    derivable,
    month_class,
    number_class,
    punctuation_class,
)


def bin_positions(values: np.ndarray) -> np.ndarray:
    """Bin 0-based positions (or distances) into :data:`POSITION_LABELS`."""
    idx = np.searchsorted(np.asarray(POSITION_BINS), np.asarray(values), side="left")
    return np.asarray(POSITION_LABELS, dtype=object)[idx]


def sentence_lengths(keys: pd.DataFrame) -> np.ndarray:
    """The length of each token's sentence (tokens), aligned with the rows of ``keys``."""
    sent = keys["sentence"].to_numpy()
    return pd.Series(sent).map(pd.Series(sent).value_counts()).to_numpy()


def distance_to_end(keys: pd.DataFrame) -> np.ndarray:
    """Tokens between each token and its sentence's last token (0 for the last token)."""
    return sentence_lengths(keys) - 1 - keys["position"].to_numpy()


def _per_type(column: str, fn: Callable[[str], str]) -> Callable[[pd.DataFrame], np.ndarray]:
    """A property computed once per distinct value of a column (word types repeat a lot)."""

    def compute(keys: pd.DataFrame) -> np.ndarray:
        values = keys[column].astype(str)
        return values.map({v: fn(v) for v in values.unique()}).to_numpy(dtype=object)

    compute.__doc__ = fn.__doc__
    return compute


#: Derived property name (an entry of :data:`neurosieve.core.properties.DERIVED`) -> function from the token key
#: to one label per token.
DERIVED_FUNCTIONS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "position_bin": lambda k: bin_positions(k["position"].to_numpy()),
    "end_distance_bin": lambda k: bin_positions(distance_to_end(k)),
    "sentence_final": lambda k: np.where(distance_to_end(k) == 0, "final", "not_final").astype(object),
    "capitalisation": _per_type("word", capitalisation),
    "number": _per_type("word", number_class),
    "month": _per_type("word", month_class),
    "punctuation": _per_type("word", punctuation_class),
    "coarse_pos": _per_type("pos", coarse_pos),
}


#: Continuous properties: name -> function from the key to one float per token.
CONTINUOUS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "position": lambda k: k["position"].to_numpy(np.float64),
    "distance_to_end": lambda k: distance_to_end(k).astype(np.float64),
}


def add_derived(keys: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """``keys`` with derived property columns appended (all it supports when ``names`` is None).

    A name that is already a column is left as it is (a corpus column wins); a
    requested name that is neither a column nor derivable is a ``KeyError``
    naming what it needs.
    """
    wanted = derivable(keys.columns) if names is None else list(names)
    out = keys.copy()
    for name in wanted:
        if name in keys.columns:
            continue
        if name not in DERIVED:
            raise KeyError(
                f"property {name!r} is neither a column of the token table {list(keys.columns)} nor a derived property {list(DERIVED)}"
            )
        needs, fn = DERIVED[name], DERIVED_FUNCTIONS[name]
        missing = [c for c in needs if c not in keys.columns]
        if missing:
            raise KeyError(f"derived property {name!r} needs the token column(s) {missing}, which this corpus lacks")
        out[name] = pd.Categorical(fn(keys))
    return out


def open_class_mask(keys: pd.DataFrame) -> np.ndarray:
    """Open-class tokens by the corpus's Penn Treebank ``pos`` column; a corpus without one has no open-class
    tokens, so its open-class accuracy is NaN and its closed-class accuracy is the overall one."""

    if "pos" not in keys.columns:
        return np.zeros(len(keys), dtype=bool)
    return is_open_class(keys["pos"].astype(str).to_numpy())


def continuous_properties(keys: pd.DataFrame) -> pd.DataFrame:
    """The continuous properties (:data:`CONTINUOUS`) of every token, one column each."""
    return pd.DataFrame({name: fn(keys) for name, fn in CONTINUOUS.items()}, index=keys.index)


def is_open_class(pos: Sequence[str]) -> np.ndarray:
    """Whether each token's POS tag is an open word class (see :data:`OPEN_CLASS_POS`)."""
    return np.isin(np.asarray(pos, dtype=object), list(OPEN_CLASS_POS))


__all__ = [
    "CONTINUOUS",
    "DERIVED_FUNCTIONS",
    "add_derived",
    "bin_positions",
    "continuous_properties",
    "distance_to_end",
    "is_open_class",
    "open_class_mask",
    "sentence_lengths",
]
