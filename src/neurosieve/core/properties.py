"""Derived token properties: labels computed from a token table alone (no new data), probed like ``pos``.

Dalvi et al. (2019) find position neurons at the top of both the cross-model
(CCA) and the probe (LCA) rankings, and top CCA neurons that track
conjunctions, determiners and punctuation. These properties let the workflow
ask that: each is a function from the token key (``sentence``, ``position``,
``word`` and, for the coarse POS classes, Penn Treebank ``pos``) to one string
label per token. :func:`add_derived` appends them as columns, so the probing
machinery (labels, control task, baselines, selectivity) treats them exactly as
it treats a corpus column.

Two of them also have a continuous value (:func:`continuous_properties`), used
where a neuron is correlated with a property rather than probed for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

#: Upper bounds (inclusive) of the position bins and their labels: 0, 1, 2, 3-4, 5-8, 9-16, 17+.
POSITION_BINS = (0, 1, 2, 4, 8, 16)


POSITION_LABELS = ("0", "1", "2", "3-4", "5-8", "9-16", "17+")


MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)


#: Punctuation classes by token; any other token made only of non-alphanumerics is ``other``.
PUNCTUATION = {
    ",": "comma",
    ".": "terminal",
    "?": "terminal",
    "!": "terminal",
    ":": "colon",
    ";": "colon",
    "--": "dash",
    "-": "dash",
    "``": "quote",
    "''": "quote",
    '"': "quote",
    "'": "quote",
    "`": "quote",
    "(": "bracket",
    ")": "bracket",
    "-LRB-": "bracket",
    "-RRB-": "bracket",
    "[": "bracket",
    "]": "bracket",
    "{": "bracket",
    "}": "bracket",
}


#: Penn Treebank tags of the paper's coarse classes; every other tag is ``other``.
COARSE_POS = {
    "conjunction": ("CC", "IN"),
    "determiner": ("DT", "PDT", "WDT"),
    "punctuation": (",", ".", ":", "``", "''", "(", ")", "-LRB-", "-RRB-", "#", "$"),
    "noun": ("NN", "NNS", "NNP", "NNPS", "PRP"),
    "verb": ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD"),
}


_COARSE_OF_TAG = {tag: cls for cls, tags in COARSE_POS.items() for tag in tags}


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


def capitalisation(word: str) -> str:
    """Capitalisation shape: ``lower``, ``title``, ``upper`` (two letters or more), ``mixed`` or ``none`` (no letters)."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return "none"
    if all(c.islower() for c in letters):
        return "lower"
    if all(c.isupper() for c in letters):
        return "upper" if len(letters) > 1 else "title"
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return "title"
    return "mixed"


def number_class(word: str) -> str:
    """``digits`` (only digits), ``numeric`` (digits with , . / - : %), ``has_digit`` (digits among letters) or ``none``."""
    if not any(c.isdigit() for c in word):
        return "none"
    if word.isdigit():
        return "digits"
    if all(c.isdigit() or c in ",./-:%" for c in word):
        return "numeric"
    return "has_digit"


def month_class(word: str) -> str:
    """``month`` for an English month name or its abbreviation (a trailing dot allowed), else ``other``."""
    w = word.lower().rstrip(".")
    return "month" if w in MONTHS and (w != "may" or word[:1].isupper()) else "other"


def punctuation_class(word: str) -> str:
    """The token's punctuation class (:data:`PUNCTUATION`), ``other`` for other symbol tokens, ``none`` for words."""
    if word in PUNCTUATION:
        return PUNCTUATION[word]
    return "other" if not any(c.isalnum() for c in word) else "none"


def coarse_pos(tag: str) -> str:
    """The paper's coarse class of a Penn Treebank tag (:data:`COARSE_POS`), ``other`` for the rest."""
    return _COARSE_OF_TAG.get(tag, "other")


def _per_type(column: str, fn: Callable[[str], str]) -> Callable[[pd.DataFrame], np.ndarray]:
    """A property computed once per distinct value of a column (word types repeat a lot)."""

    def compute(keys: pd.DataFrame) -> np.ndarray:
        values = keys[column].astype(str)
        return values.map({v: fn(v) for v in values.unique()}).to_numpy(dtype=object)

    compute.__doc__ = fn.__doc__
    return compute


#: Derived property name -> (columns it needs, function from the key to one label per token).
DERIVED: dict[str, tuple[tuple[str, ...], Callable[[pd.DataFrame], np.ndarray]]] = {
    "position_bin": (("position",), lambda k: bin_positions(k["position"].to_numpy())),
    "end_distance_bin": (("sentence", "position"), lambda k: bin_positions(distance_to_end(k))),
    "sentence_final": (
        ("sentence", "position"),
        lambda k: np.where(distance_to_end(k) == 0, "final", "not_final").astype(object),
    ),
    "capitalisation": (("word",), _per_type("word", capitalisation)),
    "number": (("word",), _per_type("word", number_class)),
    "month": (("word",), _per_type("word", month_class)),
    "punctuation": (("word",), _per_type("word", punctuation_class)),
    "coarse_pos": (("pos",), _per_type("pos", coarse_pos)),
}


#: Continuous properties: name -> function from the key to one float per token.
CONTINUOUS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "position": lambda k: k["position"].to_numpy(np.float64),
    "distance_to_end": lambda k: distance_to_end(k).astype(np.float64),
}


def derivable(columns: Sequence[str]) -> list[str]:
    """The derived properties a token table with these columns supports."""
    have = set(columns)
    return [name for name, (needs, _) in DERIVED.items() if set(needs) <= have]


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
        needs, fn = DERIVED[name]
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


#: Penn Treebank tags of open word classes (nouns, verbs, adjectives, adverbs, numbers, foreign words).
OPEN_CLASS_POS = frozenset("NN NNS NNP NNPS VB VBD VBG VBN VBP VBZ JJ JJR JJS RB RBR RBS CD FW".split())


def is_open_class(pos: Sequence[str]) -> np.ndarray:
    """Whether each token's POS tag is an open word class (see :data:`OPEN_CLASS_POS`)."""
    return np.isin(np.asarray(pos, dtype=object), list(OPEN_CLASS_POS))


__all__ = [
    "COARSE_POS",
    "CONTINUOUS",
    "DERIVED",
    "POSITION_LABELS",
    "add_derived",
    "bin_positions",
    "capitalisation",
    "coarse_pos",
    "continuous_properties",
    "derivable",
    "distance_to_end",
    "month_class",
    "number_class",
    "open_class_mask",
    "punctuation_class",
]
