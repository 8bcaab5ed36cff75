"""Input keys: the type of a function mapping words to (what the model sees of each, in-vocabulary
flag), and the model-free one (the raw word). Model-specific keys live in
:mod:`neurosieve.models.inputs`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from neurosieve.store.corpus import label_codes

#: Maps words to (input key per word, in-vocabulary flag per word).
InputKeys = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]]


def _per_type(words: Sequence[str], lookup: Callable[[str], tuple[str, bool]]) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``lookup`` once per word type and spread the results over the tokens."""
    types, inverse = label_codes(np.asarray(words, dtype=str))
    looked = [lookup(str(t)) for t in types]
    keys = np.array([k for k, _ in looked], dtype=object)
    known = np.array([v for _, v in looked], dtype=bool)
    return keys[inverse], known[inverse]


def raw_input_keys(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Fallback keys when the model is unknown: the raw (cased) word type; every word counts as in vocabulary."""
    w = np.asarray(words, dtype=str).astype(object)
    return w, np.ones(len(w), dtype=bool)
