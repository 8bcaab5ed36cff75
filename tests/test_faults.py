"""Faults found in review, each pinned by a test: GPU jobs get the CUDA environment, model-mean rows keep a property."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from neurosieve.analysis.ablation import END_TASK_PROPERTY, curve_spread, label_end_task

ROOT = Path(__file__).resolve().parents[1]


def rule_blocks() -> dict[str, str]:
    """Each rule's text, by name, from every .smk file (figure rules are generated and request no GPU)."""
    blocks = {}
    for smk in sorted((ROOT / "workflow/rules").glob("*.smk")):
        parts = re.split(r"^(?:rule|checkpoint) (\w+):\n", smk.read_text(), flags=re.M)
        blocks.update(dict(zip(parts[1::2], parts[2::2])))
    return blocks


def test_every_rule_that_may_get_a_gpu_picks_its_environment_by_device() -> None:
    blocks = rule_blocks()
    gpu_rules = {name: text for name, text in blocks.items() if re.search(r"^\s+gpu=", text, flags=re.M)}
    assert {"activations_trained_unk", "twin_model_ablation", "model_ablation", "probe", "correlation"} <= set(
        gpu_rules
    )
    for name, text in gpu_rules.items():
        conda = re.search(r"^    conda:\n\s+(.+)$", text, flags=re.M)
        assert conda, name
        # a fixed CPU environment would run a GPU job on the CPU build of torch
        assert conda.group(1).strip() in ("family_torch_env", "probe_env", "correlation_env"), (
            f"rule {name}: conda {conda.group(1)}"
        )


def test_model_ablation_rows_of_both_fills_are_labelled_with_the_end_task() -> None:
    rows = []
    for mode in ("retrain", "model", "model-mean"):
        for inst in ("seed1", "seed2"):
            for k in (0, 5):
                rows.append(
                    {
                        "mode": mode,
                        "property": "pos" if mode == "retrain" else np.nan,
                        "instance": inst,
                        "layer": 2,
                        "ranking": "maxcorr",
                        "direction": "top",
                        "k": k,
                        "metric": "f1",
                        "value": 90.0 - k,
                    }
                )
    curves = label_end_task(pd.DataFrame(rows))
    assert curves.loc[curves["mode"] == "retrain", "property"].eq("pos").all()
    assert curves.loc[curves["mode"] != "retrain", "property"].eq(END_TASK_PROPERTY).all()
    # the spread carries the label too: a selection by property (chunk-f1) finds the mean-fill rows
    spread = curve_spread(curves)
    assert set(spread.loc[spread["property"] == END_TASK_PROPERTY, "mode"]) == {"model", "model-mean"}
    assert not spread["property"].isna().any()


def _written(tmp_path: Path) -> Path:
    from neurosieve.store.io import write_parquet

    path = tmp_path / "probing" / "metrics.parquet"
    path.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_parquet(pd.DataFrame({"metric": ["accuracy"] * 5000, "value": rng.normal(size=5000)}), path, {"seed": 0})
    return path


def test_a_truncated_intermediate_is_named_with_the_command_that_rebuilds_it(tmp_path: Path) -> None:
    import pytest

    from neurosieve.store.io import IntermediateError, read_table

    path = _written(tmp_path)
    assert len(read_table(path)) == 5000
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IntermediateError) as info:
        read_table(path)
    assert str(path) in str(info.value) and f"--force {path}" in str(info.value)


def test_a_flipped_byte_is_caught_by_the_page_checksums(tmp_path: Path) -> None:
    import pytest

    from neurosieve.store.io import IntermediateError, read_table

    path = _written(tmp_path)
    data = bytearray(path.read_bytes())
    # inside the value column's data page: well after the header, well before the footer
    position = len(data) // 2
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntermediateError, match="metrics.parquet"):
        read_table(path)


def test_a_table_with_rows_removed_since_it_was_written_is_refused(tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    import pytest

    from neurosieve.store.io import IntermediateError, read_table

    path = _written(tmp_path)
    table = pq.read_table(path)  # keeps the schema metadata, as a careless edit with pyarrow would
    pq.write_table(table.slice(0, 4000), path)
    with pytest.raises(IntermediateError, match="holds 4000 rows but was written with 5000"):
        read_table(path)


def test_a_damaged_activation_file_is_named_too(tmp_path: Path) -> None:
    import pytest

    from neurosieve.store.activations import read_layer, write_activations
    from neurosieve.store.io import IntermediateError

    tokens = pd.DataFrame(
        {"sentence": np.repeat(np.arange(50), 4), "position": np.tile(np.arange(4), 50), "word": ["w"] * 200}
    )
    rng = np.random.default_rng(1)
    path = tmp_path / "test.parquet"
    write_activations(
        tokens,
        lambda block: [rng.normal(size=(sum(map(len, block)), 64)).astype(np.float32)],
        path,
        {},
        progress=False,
    )
    assert read_layer(path, 0).shape == (200, 64)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntermediateError, match="test.parquet"):
        read_layer(path, 0)
