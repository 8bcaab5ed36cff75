"""Benchmark: peak memory of the all-layers pool jobs with the pool kept as stored (float16), against the same
jobs reading it widened to float32 (the reference, measured in the same run).

The bert config stores activations as float16. The all-layer probe (run_all_layer_probing) and pool ablation
(run_pool_ablation) read every hidden state of an instance side by side: at bert-base's shape that is
211,727 train tokens x 13 x 768 neurons, 8.5 GB as float32 and 4.2 GB as stored. Both jobs run here, each in a
fresh process (so its peak resident memory is the job's), on bench_bert_scale.py's synthetic bert-shaped
activations (float16 files) at two fractions of the train split, once reading the pool widened and once at
stored precision; the peak is projected to the whole split along the line through the two sizes.

Memory does not depend on how long a probe trains, so the probes take --steps Adam steps (default 20) instead
of the config's 3,000: the times printed are not the jobs' (benchmarks/bench_bert_scale.py measures those).
The two readings give the same numbers to the bit (tests/test_probe_batch.py); this measures only what the
stored pool saves.

  .venv/bin/python benchmarks/bench_pool_memory.py [--scale 0.1] [--layers 12] [--steps 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_bert_scale import _peak_mb, bert_config, in_fresh_process, probe_data_in, stage_baseline

JOBS = ("all-layer probe", "pool ablation")
READINGS = ("widened to float32", "as stored (float16)")


def run_job(job: str, reading: str, train: str, test: str, out_dir: str, layers: int, steps: int, threads: int) -> dict:
    """One pool job in this (fresh) process; ``reading`` "widened to float32" reads the pool as the jobs did before
    they kept it at stored precision."""
    import torch

    import neurosieve.stages.ablation as ablation_stage
    import neurosieve.stages.probing as probing_stage
    from neurosieve.settings import AllLayerProbeSettings, PoolAblationSettings
    from neurosieve.store.activations import read_layers

    torch.set_num_threads(threads)
    if reading == READINGS[0]:
        widened = lambda path, names, stored=False: read_layers(path, names)  # noqa: E731
        probing_stage.read_layers = ablation_stage.read_layers = widened
    cfg = bert_config()
    cfg["probing"]["probe"].update(epochs=1, min_steps=steps, device="cuda" if torch.cuda.is_available() else "cpu")
    hidden = list(range(layers + 1))
    tag = "widened" if reading == READINGS[0] else "stored"
    files = {k: os.path.join(out_dir, f"pool-{tag}-{k}.parquet") for k in ("orderings", "by_layer", "ablation")}
    probe = os.path.join(out_dir, f"pool-{tag}-probe.npz")
    t0 = time.perf_counter()
    if job == JOBS[0]:
        outputs = {"orderings": files["orderings"], "by_layer": files["by_layer"], "probe": probe}
        probing_stage.run_all_layer_probing(train, test, hidden, "pos", outputs, AllLayerProbeSettings.from_config(cfg))
    else:
        ablation_stage.run_pool_ablation(
            train,
            test,
            hidden,
            "pos",
            probe,
            files["orderings"],
            "bench",
            files["ablation"],
            PoolAblationSettings.from_config(cfg),
            rankings=list(cfg["ablation"]["pool"]["rankings"]),
        )
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conll", type=Path, default=os.environ.get("NEUROSIEVE_CONLL_DIR"))
    ap.add_argument("--scale", type=float, default=0.1, help="the smaller fraction of the train split (and twice it)")
    ap.add_argument("--layers", type=int, default=12, help="encoder layers (bert-base: 12, so 13 hidden states)")
    ap.add_argument("--steps", type=int, default=20, help="Adam steps per probe (memory does not depend on them)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.conll is None:
        ap.error("give --conll or set NEUROSIEVE_CONLL_DIR")
    from neurosieve.store.corpus import parse_conll, token_table_to_arrow
    from neurosieve.store.io import write_parquet

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full = {
            s: parse_conll(gzip.decompress((args.conll / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")
        }
        for s, t in full.items():
            write_parquet(token_table_to_arrow(t), work / f"{s}.parquet")
        full_train = len(full["train"])
        base = in_fresh_process(stage_baseline, args.threads)["peak_mb"]
        runs: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        for k, scale in enumerate((args.scale, 2 * args.scale)):
            data = probe_data_in(work, scale, str(k), args.layers)
            for reading in READINGS:
                for job in JOBS:  # in this order: the pool ablation retrains from the all-layer probe's files
                    r = in_fresh_process(
                        run_job,
                        job,
                        reading,
                        data["train"],
                        data["test"],
                        str(work),
                        args.layers,
                        args.steps,
                        args.threads,
                    )
                    runs.setdefault((job, reading), []).append((data["train_tokens"], r))
                    print(f"  {job}, {reading}, {data['train_tokens']} train tokens: {r['peak_mb']:.0f} MB", flush=True)

    def projected(points: list[tuple[int, dict[str, Any]]]) -> float:
        (x1, r1), (x2, r2) = points
        return r2["peak_mb"] + max(0.0, (r2["peak_mb"] - r1["peak_mb"]) / (x2 - x1)) * (full_train - x2)

    hidden = args.layers + 1
    print(
        f"\nPool memory: {hidden} hidden states x 768 neurons, float16 files, {args.steps} Adam steps per probe, "
        f"{args.threads} thread(s); process baseline (imports) {base:.0f} MB; peak MB per job, projected to the "
        f"{full_train:,} train tokens along the line through the two sizes"
    )
    sizes = [x for x, _ in runs[JOBS[0], READINGS[0]]]
    head = " ".join(f"{f'{x:,} tok':>11s}" for x in sizes)
    print(f"{'job':16s} {'reading':20s} {head} {'full':>11s}")
    for job in JOBS:
        full_mb = {}
        for reading in READINGS:
            points = runs[job, reading]
            full_mb[reading] = projected(points)
            cells = " ".join(f"{r['peak_mb']:11.0f}" for _, r in points)
            print(f"{job:16s} {reading:20s} {cells} {full_mb[reading]:11.0f}")
        ratio = [r2["peak_mb"] / r1["peak_mb"] for (_, r1), (_, r2) in zip(*(runs[job, r] for r in READINGS))]
        cells = " ".join(f"{x:11.2f}" for x in ratio)
        print(f"{job:16s} {'stored / widened':20s} {cells} {full_mb[READINGS[1]] / full_mb[READINGS[0]]:11.2f}")


if __name__ == "__main__":
    main()
