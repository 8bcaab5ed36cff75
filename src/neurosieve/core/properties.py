"""Derived token properties, the registry: each label computed from a token table alone (no new data),
probed like ``pos``.

Dalvi et al. (2019) find position neurons at the top of both the cross-model
(CCA) and the probe (LCA) rankings, and top CCA neurons that track
conjunctions, determiners and punctuation. These properties let the workflow
ask that. This module names each derived property and the token columns it needs
(:data:`DERIVED`), with the per-word label functions; it imports the standard library
only, so that parsing the workflow (which checks the properties a config names) stays
light. :mod:`neurosieve.store.properties` computes them on token tables (one
function per entry of :data:`DERIVED`), with the continuous properties.
"""

from __future__ import annotations

from collections.abc import Sequence

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


#: Derived property name -> the token columns it needs (its function: ``neurosieve.store.properties.DERIVED_FUNCTIONS``).
DERIVED: dict[str, tuple[str, ...]] = {
    "position_bin": ("position",),
    "end_distance_bin": ("sentence", "position"),
    "sentence_final": ("sentence", "position"),
    "capitalisation": ("word",),
    "number": ("word",),
    "month": ("word",),
    "punctuation": ("word",),
    "coarse_pos": ("pos",),
}


def derivable(columns: Sequence[str]) -> list[str]:
    """The derived properties a token table with these columns supports."""
    have = set(columns)
    return [name for name, needs in DERIVED.items() if set(needs) <= have]


#: Penn Treebank tags of open word classes (nouns, verbs, adjectives, adverbs, numbers, foreign words).
OPEN_CLASS_POS = frozenset("NN NNS NNP NNPS VB VBD VBG VBN VBP VBZ JJ JJR JJS RB RBR RBS CD FW".split())


__all__ = [
    "COARSE_POS",
    "DERIVED",
    "MONTHS",
    "OPEN_CLASS_POS",
    "POSITION_BINS",
    "POSITION_LABELS",
    "PUNCTUATION",
    "capitalisation",
    "coarse_pos",
    "derivable",
    "month_class",
    "number_class",
    "punctuation_class",
]
