"""What a model actually sees of each word: its input identity and whether it is in the model's vocabulary.

Two surface forms the model cannot tell apart at its input (``The``/``the``
for an uncased tokenizer; ``1990``/``1991`` for the taggers trained here, whose
input is the normalised vocabulary entry plus a shape class) share one *input
key*. The control task (Hewitt & Liang) assigns its random labels per input key,
so that a control probe is never asked to separate what the model cannot; the
same lookup tells which test tokens are out of the model's vocabulary (the
taggers' ``<unk>``, a tokenizer's unknown piece).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosieve.analysis.input_keys import InputKeys, _per_type
from neurosieve.models.pretrained import load_tokenizer, word_pieces
from neurosieve.models.taggers import UNK, Vocab, normalise, shape
from neurosieve.store.corpus import label_codes


def tagger_input_keys(vocab: Vocab) -> InputKeys:
    """Input keys of a tagger trained here: its vocabulary entry (``<unk>`` when out of vocabulary) and shape class."""

    def lookup(word: str) -> tuple[str, bool]:
        entry = normalise(word)
        known = entry in vocab.word_index
        return f"{entry if known else UNK}|{shape(word)}", known

    return lambda words: _per_type(words, lookup)


def tokenizer_input_keys(tokenizer: Any) -> InputKeys:
    """Input keys of a pretrained encoder: the word's piece ids as its tokenizer encodes a pre-split word.

    This subsumes case folding (an uncased tokenizer gives ``The`` and ``the``
    the same pieces; a cased one does not) and accent stripping. A word counts
    as out of vocabulary when any of its pieces is the unknown token.
    """

    unk = tokenizer.unk_token_id

    def keys(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        types, inverse = label_codes(np.asarray(words, dtype=str))
        pieces = word_pieces(tokenizer, [[str(t)] for t in types]) if len(types) else []
        key = np.array([" ".join(map(str, p[0])) for p in pieces], dtype=object)
        known = np.array([unk is None or unk not in p[0] for p in pieces], dtype=bool)
        return key[inverse], known[inverse]

    return keys


def load_input_keys(kind: str, source: str | os.PathLike[str]) -> InputKeys:
    """The input-key function of a family: ``source`` is a tagger's model directory, or a pretrained (or fine-tuned
    family's) model spec."""
    if kind in ("pretrained", "finetuned"):  # a fine-tuned encoder sees its tokenizer's pieces
        return tokenizer_input_keys(load_tokenizer(str(source)))
    import json

    spec = Path(source) / "model.json"
    if not spec.is_file():
        raise FileNotFoundError(f"{spec}: a tagger's model.json is needed for its vocabulary")
    data = json.loads(spec.read_text())
    return tagger_input_keys(Vocab(data["words"], data["labels"]))
