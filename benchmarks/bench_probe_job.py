"""Benchmark: one probe job as the workflow runs it, in a fresh process, against another checkout's code.

A probe job is more than its fits: the process imports torch and scikit-learn,
reads a layer of the train, test and ``<unk>`` train activations, fits every
probe (selected, control, paper-lambda, ``<unk>``, the top-10% retrains) and
writes its tables. Each repeat runs the job in a new Python process (as
Snakemake does, so first-touch memory and imports count), from this checkout's
``src/`` and, with ``--against``, from another checkout's ``src/``, alternating.
Prints per run: the import time, the job's wall time (``run_probing``), the
full-width fits inside it (its ``fit_seconds``), the peak memory; then the
median ratio new/old and whether both wrote the same tables (every value but
``fit_seconds``).

  git worktree add /tmp/base <commit>
  .venv/bin/python benchmarks/bench_probe_job.py results/activations/bilstm/seed1 \\
      --layer 2 --property pos --model-dir results/models/bilstm/seed1 --against /tmp/base/src
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("metrics", "orderings", "weights", "labels")


def child(args: argparse.Namespace) -> None:
    """Run the job in this process and print its timings and a digest of its tables as JSON."""
    start = time.perf_counter()
    import pandas as pd
    import torch

    from neurosieve.stages.probing import run_probing

    imported = time.perf_counter() - start
    torch.set_num_threads(1)  # as the probe rule's threads: 1
    import neurosieve
    from neurosieve.config import load_schema, validate_config

    # The probe budget of the checkout whose code runs this job (its own schema's defaults: an older checkout
    # knows no solver settings, a newer one fits with its own default solver).
    checkout = Path(neurosieve.__file__).resolve().parents[2]
    schema = load_schema(checkout / "workflow/schemas/config.schema.yaml")
    budget = dict(validate_config({"families": {"f": {"kind": "bilstm", "seeds": [1]}}}, schema)["probing"]["probe"])

    inst = Path(args.instance_dir)
    unk = inst / "train_unk.parquet"
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {t: f"{tmp}/{t}.parquet" for t in TABLES} | {"probe": f"{tmp}/probe.npz"}
        t0 = time.perf_counter()
        common = dict(
            model_kind="bilstm" if args.model_dir else None,
            model_source=args.model_dir,
            train_unk_path=str(unk) if unk.is_file() else None,
        )
        job_args = (str(inst / "train.parquet"), str(inst / "test.parquet"), args.layer, args.property, outputs)
        if "settings" in inspect.signature(run_probing).parameters:  # this checkout: one settings object
            import dataclasses

            from neurosieve.settings import ProbeSettings

            fields = {f.name for f in dataclasses.fields(ProbeSettings)}
            settings = {"l1": args.l1, "l2": args.l2, "salient_fraction": 0.25, "seed": 0, "probe": budget}
            settings |= {"fixed_budget_baseline": True} if "fixed_budget_baseline" in fields else {}
            run_probing(*job_args, ProbeSettings.from_params(settings), **common)
        else:  # a checkout from before the settings objects
            run_probing(
                *job_args,
                lambdas=[args.l1, args.l2],
                probe_params=budget,
                salient_fraction=0.25,
                seed=0,
                **common,
            )
        job = time.perf_counter() - t0
        frames = {t: pd.read_parquet(outputs[t]) for t in TABLES}
    metrics = frames["metrics"]
    fits = float(metrics.loc[metrics["metric"] == "fit_seconds", "value"].iloc[0])
    frames["metrics"] = metrics[metrics["metric"] != "fit_seconds"]
    digest = {t: int(pd.util.hash_pandas_object(f.astype(str), index=False).sum()) for t, f in frames.items()}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"import": imported, "job": job, "fits": fits, "peak_mb": peak_mb, "digest": digest}))


def run_once(src: Path, argv: list[str]) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", *argv], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(f"job from {src} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - start
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("instance_dir", help="directory holding train.parquet, test.parquet (and train_unk.parquet)")
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--property", default="pos")
    # The lambda search's choice for the default run's layer 2 POS probe (not the paper's pair, so the
    # paper-lambda probe is fitted beside it, as in the default run).
    ap.add_argument("--l1", type=float, default=0.0)
    ap.add_argument("--l2", type=float, default=1e-6)
    ap.add_argument(
        "--model-dir",
        default=None,
        help="the tagger's model directory (its vocabulary gives the control task's input keys)",
    )
    ap.add_argument(
        "--against", type=Path, default=None, help="another checkout's src/ to run the same job from, alternating"
    )
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    argv = [
        args.instance_dir,
        "--layer",
        str(args.layer),
        "--property",
        args.property,
        "--l1",
        str(args.l1),
        "--l2",
        str(args.l2),
    ]
    argv += ["--model-dir", args.model_dir] if args.model_dir else []
    trees = {"new": ROOT / "src"} | ({"old": args.against.resolve()} if args.against else {})
    runs: dict[str, list[dict]] = {name: [] for name in trees}  # type: ignore[type-arg]
    for r in range(args.repeats):
        for name, src in trees.items():
            res = run_once(src, argv)
            runs[name].append(res)
            print(
                f"{name} #{r + 1}: process {res['process']:.1f} s (imports {res['import']:.1f} s, job {res['job']:.1f} s "
                f"of which full-width fits {res['fits']:.1f} s), peak {res['peak_mb']:.0f} MB",
                flush=True,
            )
    if "old" in runs:
        med = {name: sorted(r["process"] for r in rs)[len(rs) // 2] for name, rs in runs.items()}
        same = all(r["digest"] == runs["new"][0]["digest"] for rs in runs.values() for r in rs)
        print(
            f"new / old process time (median): {med['new'] / med['old']:.2f} ({med['new']:.1f} vs {med['old']:.1f} s); same tables: {same}"
        )


if __name__ == "__main__":
    main()
