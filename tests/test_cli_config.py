"""--config values mean what they mean in a config file (Snakemake hands nested ones over as strings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from neurosieve.config import coerce_cli_values

ROOT = Path(__file__).resolve().parents[1]


def test_nested_strings_are_read_as_yaml_scalars() -> None:
    # what Snakemake's parse_config gives for: families={bilstm: {seeds: [1, 2]}} activations={keep: false} ...
    given = {
        "families": {"bilstm": {"seeds": ["1", "2"], "subset": "0.5"}},
        "activations": {"keep": "false", "dtype": "float16"},
        "data": {"local_dir": "null", "corpus": {"comment": "# "}},
        "figures": {"instance": "seed1", "closed_label": ","},
        "outdir": "results/x",  # top level: already typed by Snakemake
        "seed": 3,
    }
    assert coerce_cli_values(given) == {
        "families": {"bilstm": {"seeds": [1, 2], "subset": 0.5}},
        "activations": {"keep": False, "dtype": "float16"},
        "data": {"local_dir": None, "corpus": {"comment": "# "}},
        "figures": {"instance": "seed1", "closed_label": ","},
        "outdir": "results/x",
        "seed": 3,
    }


def test_the_dry_run_accepts_nested_numbers_booleans_and_null(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "-s",
            str(ROOT / "Snakefile"),
            "--config",
            "families={bilstm: {seeds: [1, 2]}}",
            "activations={keep: false}",
            "data={local_dir: null}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "seed3" not in run.stdout  # the two seeds given, not the default five
