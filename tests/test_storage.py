"""BERT-scale storage: float16 activation files, dumps of selected layers, one layer read at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from neurosieve.settings import CorrelationSettings
from neurosieve.stages.activations import dump_pretrained_activations
from neurosieve.stages.correlation import run_correlation
from neurosieve.store.activations import activation_layers, read_layer, read_layers, write_activations
from neurosieve.store.corpus import first_sentences, token_table_to_arrow
from neurosieve.store.io import read_provenance, write_parquet

METHODS = ["maxcorr", "meanmaxcorr", "mincorr", "linreg", "maxcorr_signed", "meanmaxcorr_signed", "mincorr_signed"]


def _random_bert(directory: Path, seed: int, tokenizer_dir: Path) -> Path:
    """A small random BERT (3 layers of 48 neurons) of its own seed, with the tiny fixture's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=48,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=96,
        max_position_embeddings=128,
    )
    BertModel(cfg).save_pretrained(directory)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def test_config_tokens(sample_tokens: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test split the size of the test config's (its first 100 sentences), from the synthetic sample."""
    path = tmp_path_factory.mktemp("tokens") / "test.parquet"
    write_parquet(token_table_to_arrow(first_sentences(sample_tokens["test"], 100)), path)
    return path


@pytest.fixture(scope="module")
def dumps(
    tiny_bert: Path, test_config_tokens: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Path]]:
    """Three seeds' activations over the test config's test split, stored as float32 and as float16."""
    d = tmp_path_factory.mktemp("dumps")
    out: dict[str, dict[str, Path]] = {"float32": {}, "float16": {}}
    for seed in (1, 2, 3):
        model = _random_bert(d / f"bert{seed}", seed, tiny_bert)
        for dtype in out:
            path = d / f"{dtype}-{seed}.parquet"
            dump_pretrained_activations(str(model), test_config_tokens, path, batch_size=16, device="cpu", dtype=dtype)
            out[dtype][f"s{seed}"] = path
    return out


def test_float16_reads_back_as_float32_at_half_the_size(dumps: dict[str, dict[str, Path]]) -> None:
    half, full = dumps["float16"]["s1"], dumps["float32"]["s1"]
    assert pq.read_schema(half).field("layer_3").type.value_type == "halffloat"
    assert read_provenance(half)["dtype"] == "float16"
    a, b = read_layer(half, 3), read_layer(full, 3)
    assert a.dtype == np.float32 and a.flags.writeable and a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
    assert not np.array_equal(a, b)  # really rounded, not silently stored as float32
    size = lambda p: pq.ParquetFile(p).metadata.row_group(0).column(6).total_uncompressed_size  # noqa: E731
    assert size(half) < 0.6 * size(full)


@pytest.mark.parametrize("layer", [1, 3])
def test_float16_correlation_within_1e3_of_float32(
    dumps: dict[str, dict[str, Path]], tmp_path: Path, layer: int
) -> None:
    scores = {}
    for dtype, files in dumps.items():
        outs = [tmp_path / f"{dtype}-{n}.parquet" for n in ("scores", "pairs", "stability", "duplicate")]
        run_correlation(
            {k: (str(p), layer) for k, p in files.items()},
            *map(str, outs),
            CorrelationSettings(
                block_size=1024, linreg=True, top_fractions=(0.05, 0.1, 0.25), duplicate="first", device="auto"
            ),
        )
        scores[dtype] = pd.read_parquet(outs[0]).sort_values(["instance", "neuron"]).reset_index(drop=True)
    a, b = scores["float16"], scores["float32"]
    assert len(a) == 3 * 48
    diff = (a[METHODS] - b[METHODS]).abs().max()
    assert (diff <= 1e-3).all(), diff.to_dict()
    assert (a["dead"] == b["dead"]).all()


def test_float16_range_is_checked(tmp_path: Path, small_tokens: dict[str, pd.DataFrame]) -> None:
    tokens = first_sentences(small_tokens["test"], 2)
    huge = lambda block: [np.full((sum(map(len, block)), 2), 1e6, np.float32)]  # noqa: E731
    with pytest.raises(ValueError, match="float16's range"):
        write_activations(tokens, huge, tmp_path / "x.parquet", {}, dtype="float16", progress=False)
    assert not (tmp_path / "x.parquet").exists()


def test_selected_layers_are_the_full_dump_columns(tiny_bert: Path, test_config_tokens: Path, tmp_path: Path) -> None:
    full, some = tmp_path / "full.parquet", tmp_path / "some.parquet"
    dump_pretrained_activations(str(tiny_bert), test_config_tokens, full, batch_size=16, device="cpu")
    dims = dump_pretrained_activations(
        str(tiny_bert), test_config_tokens, some, batch_size=16, device="cpu", layers=[2, 0]
    )
    assert dims == [32, 32]
    assert activation_layers(some) == ["layer_2", "layer_0"]
    assert read_provenance(some)["layers"] == [2, 0]
    for layer in (0, 2):
        np.testing.assert_array_equal(read_layer(some, layer), read_layer(full, layer))
    with pytest.raises(KeyError, match="layer_1"):
        read_layer(some, 1)
    with pytest.raises(ValueError, match="layers \\[5\\] requested"):
        dump_pretrained_activations(
            str(tiny_bert), test_config_tokens, tmp_path / "bad.parquet", device="cpu", layers=[5]
        )


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_read_layers_is_the_layers_side_by_side(
    tmp_path: Path, small_tokens: dict[str, pd.DataFrame], dtype: str
) -> None:
    """Several layers read into one matrix (the all-layers pool) equal the single layers concatenated, over several
    row groups and layers of different widths, in the order asked."""
    tokens = first_sentences(small_tokens["test"], 30)
    rng = np.random.default_rng(0)
    widths = {0: 5, 1: 3, 2: 7}

    def extract(block: list) -> list[np.ndarray]:
        n = sum(map(len, block))
        return [rng.normal(size=(n, w)).astype(np.float32) for w in widths.values()]

    path = tmp_path / "acts.parquet"
    write_activations(tokens, extract, path, {}, block_sentences=8, progress=False, dtype=dtype)
    assert pq.ParquetFile(path).num_row_groups > 1
    X, got = read_layers(path, [2, 0, 1])
    assert got == [7, 5, 3] and X.dtype == np.float32 and X.flags.c_contiguous and X.flags.writeable
    np.testing.assert_array_equal(X, np.concatenate([read_layer(path, n) for n in (2, 0, 1)], axis=1))
    with pytest.raises(KeyError, match="layer_9"):
        read_layers(path, [0, 9])
    # At stored precision a float16 pool stays float16, holding the file's values exactly (half the memory).
    H, got = read_layers(path, [2, 0, 1], stored=True)
    assert got == [7, 5, 3] and H.dtype == np.dtype(dtype) and H.flags.c_contiguous and H.flags.writeable
    np.testing.assert_array_equal(H.astype(np.float32), X)
