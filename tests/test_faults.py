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
    # a NaN property would drop the mean-fill rows from the spread (pandas groups skip NaN keys)
    spread = curve_spread(curves)
    assert set(spread["mode"]) == {"retrain", "model", "model-mean"}
