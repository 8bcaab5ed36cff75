"""The test-config DAG on a real one-node SLURM cluster (run with `pytest -m slurm`; needs root).

The fixture installs SLURM from Debian's packages when it is missing, starts munged,
slurmctld and slurmd on 127.0.0.1, and stops each by its PID afterwards. If the cluster
cannot be installed or started, the test fails; it never skips.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from neurosieve.config import load_schema, validate_config
from neurosieve.core.registry import FIGURES
from neurosieve.plan import RunPlan

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "tests/slurm/cluster.sh"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("slurm-state")
    res = subprocess.run(["bash", str(CLUSTER), "start", str(state)], capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        pytest.fail(f"could not install or start SLURM:\n{res.stdout}\n{res.stderr}")
    try:
        yield state
    finally:
        subprocess.run(["bash", str(CLUSTER), "stop", str(state)], timeout=120)
        for name in ("slurmd", "slurmctld", "munged"):
            assert not (state / f"{name}.pid").exists()


@pytest.mark.slurm
def test_dag_runs_as_slurm_jobs(cluster: Path, tmp_path: Path, conll_dir: Path) -> None:
    cfg = yaml.safe_load((ROOT / "tests/config/workflow.yaml").read_text())
    cfg["outdir"] = "results"
    cfg["data"]["local_dir"] = str(conll_dir)
    cfg["families"] = {"tiny_lstm": {**cfg["families"]["tiny_lstm"], "seeds": [1, 2]}}
    cfg["correlation"].pop("cross_family")
    # What the executor is tested on is every kind of job (training, extraction, correlation, probing, ablation,
    # figures), not each probe path or property: the all-layer probes, the pool, the <unk> probes and the derived
    # properties stay with the slow tests (POS for the ablations, chunk tags for model ablation's positive control),
    # which keeps this DAG to about 40 SLURM jobs (each pays a submission, status checks and a Python start).
    cfg["probing"].update(all_layers=False, unk_training=False, properties=["pos", "chunk"])
    cfg["ablation"]["pool"] = {"enabled": False}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    plan = RunPlan(validate_config(cfg, load_schema(ROOT / "workflow/schemas/config.schema.yaml")))
    figures = [f"figure_{f.name}" for f in plan.figures_for("tiny_lstm")]
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--configfile",
        str(tmp_path / "config.yaml"),
        "--directory",
        str(tmp_path),
        "--workflow-profile",
        str(ROOT / "workflow/profiles/slurm"),
        "--slurm-init-seconds-before-status-checks",
        "5",
        # The one-node test cluster has no accounting database: squeue instead of sacct
        # (needs MinJobAge in slurm.conf of at least 3x the first status-check wait).
        "--slurm-status-command",
        "squeue",
        # The family's figures and its neuron browser as one SLURM job (the profile's documented grouping). A
        # group asks for the summed threads and memory of the jobs it runs side by side; --cores caps those at
        # the one node's cores (without it all 17 would run at once: 17 CPUs and 35 GB, which sbatch refuses).
        "--cores",
        str(os.cpu_count()),
        "--groups",
        *(f"{rule}=figures" for rule in [*figures, "neuron_browser"]),
        "--group-components",
        f"figures={len(figures) + 1}",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=2400, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]

    # Every job ran as a SLURM job: squeue (MinJobAge keeps finished jobs listed) names each rule.
    q = subprocess.run(
        ["squeue", "-t", "all", "-h", "-o", "%T|%k"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    done = [line.split("|", 1)[1] for line in q if line.startswith("COMPLETED|")]
    for rule in (
        "token_table",
        "train",
        "activations_trained",
        "correlation",
        "probe",
        "model_ablation",
        "figures",
    ):
        assert any(c.startswith(f"rule_{rule}_") or c == f"rule_{rule}" for c in done), (
            f"no SLURM job for rule {rule}: {done}"
        )
    assert sum(c.startswith("rule_train_") for c in done) == 3  # two seeds and the near-twin of seed 1
    assert not any(c.startswith(("rule_figure_", "rule_neuron_browser")) for c in done)  # all in the group's job
    # The download and the summaries are localrules.
    for rule in ("fetch_conll", "summary", "probing_summary", "ablation_summary"):
        assert not any(c.startswith(f"rule_{rule}") for c in done), f"{rule} ran as its own SLURM job: {done}"

    # And the outputs are right.
    out = tmp_path / "results"
    summary = pd.read_csv(out / "summary/summary.csv")
    assert summary["quantity"].str.startswith("chunk F1, seed").sum() == 2
    assert len(list((out / "figures/tiny_lstm").glob("fig*.png"))) == len(figures) >= len(FIGURES) - 3
    scores = pd.read_parquet(out / "correlation/tiny_lstm/layer2/scores.parquet")
    assert set(scores["instance"]) == {"seed1", "seed2"} and not scores["maxcorr"].isna().any()
