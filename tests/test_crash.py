"""A job killed mid-write leaves nothing that looks complete, and the run resumes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_kill_and_resume(tmp_path: Path, conll_dir: Path) -> None:
    cfg = {
        "outdir": "results",
        "data": {"source": "local", "local_dir": str(conll_dir), "max_sentences": {"train": 200, "test": 50}},
        "families": {
            "f": {
                "kind": "bilstm",
                "seeds": [1],
                "model": {"embedding_dim": 8, "hidden_dim": 8},
                "train": {"epochs": 400},
            }
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    base = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--configfile",
        str(tmp_path / "config.yaml"),
        "--directory",
        str(tmp_path),
        "--cores",
        "1",
    ]
    target = "results/models/f/seed1/metrics.json"
    log = tmp_path / "results/logs/train/f/seed1.log"
    proc = subprocess.Popen(
        [*base, target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.time() + 300
        while time.time() < deadline and not (log.is_file() and "epoch 2:" in log.read_text()):
            assert proc.poll() is None, "snakemake ended before it could be killed"
            time.sleep(0.5)
        assert log.is_file(), "training never started"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    model_dir = tmp_path / "results/models/f/seed1"
    assert not (model_dir / "metrics.json").exists() and not (model_dir / "model.pt").exists()
    assert (tmp_path / "results/data/train.parquet").is_file()  # finished jobs stay finished

    # Resume as the README says: unlock, then rerun (incomplete jobs are redone).
    unlock = subprocess.run([*base, "--unlock"], capture_output=True, text=True)
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    plan = subprocess.run([*base, "--rerun-incomplete", "--dry-run", target], capture_output=True, text=True)
    planned = {m.group(1) for m in re.finditer(r"^rule (\w+):", plan.stdout, re.M)}
    assert planned == {"train"}, plan.stdout[-2000:]
    # Finish quickly: the resumed job is the same job, so shorten it through a params change.
    cfg["families"]["f"]["train"]["epochs"] = 1
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    done = subprocess.run([*base, "--rerun-incomplete", target], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (model_dir / "metrics.json").is_file() and (model_dir / "model.pt").is_file()
