"""Benchmark: the correlation stage against a bare matrix product and a loop-over-neurons reference.

Measures, in one process, on 5 instances x 512 neurons x 47,377 tokens (the CoNLL-2000 test set):
  * for each device (the NumPy CPU path; torch on the CPU; torch on CUDA when present): the whole
    stage (MaxCorr, MeanMaxCorr, MinCorr, partners) vs the same number of bare float32 products
    Z_a^T Z_b of the same shape on that device (goal on CPU: ratio >= 0.6 in every run). Bare and
    stage run back to back, --runs times, so that each run's ratio is measured side by side; the
    ratio of CPU times (immune to other processes taking the cores) is printed too;
  * the stage with LinReg (NumPy path) and its peak traced memory (goal: <= 2 GB);
  * a loop-over-neuron-pairs reference (np.corrcoef per pair) on a slice, extrapolated.
Prints ratios; run:  .venv/bin/python benchmarks/bench_correlation.py [--tokens N] [--neurons D] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import torch

from neurosieve.analysis.correlation import correlate_instances, standardize


def sync(device: str | None) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def bare_products(acts: dict[str, np.ndarray], device: str | None) -> tuple[float, float]:
    """Wall and CPU seconds of the bare products Z_a^T Z_b over all pairs, on the device (None: NumPy)."""
    z = [standardize(a, device=device).z for a in acts.values()]
    _ = z[0].T @ z[1]  # warm-up: thread pool, kernels
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(len(z)):
        for j in range(i + 1, len(z)):
            _ = z[i].T @ z[j]
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


def timed_stage(
    acts: dict[str, np.ndarray], block: int, device: str | None, linreg: bool = False
) -> tuple[float, float]:
    """Wall and CPU seconds of the stage; as in the workflow, fresh activations are standardised in place."""
    fresh = {k: v.copy() for k, v in acts.items()}
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    correlate_instances(fresh, block=block, linreg=linreg, copy=False, device=device)
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--neurons", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=47377)
    ap.add_argument("--block", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3, help="side-by-side runs per device")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(args.tokens, 32)).astype(np.float32)
    acts = {
        f"i{k}": (
            shared @ rng.normal(size=(32, args.neurons)).astype(np.float32)
            + rng.normal(size=(args.tokens, args.neurons)).astype(np.float32)
        )
        for k in range(args.instances)
    }
    n_pairs = args.instances * (args.instances - 1) // 2
    print(f"shape: {args.instances} instances x {args.neurons} neurons x {args.tokens} tokens ({n_pairs} pairs)")

    devices: list[str | None] = [None, "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        name = "numpy (CPU)" if dev is None else f"torch {dev}"
        for run in range(1, args.runs + 1):
            bare, bare_cpu = bare_products(acts, dev)
            stage, stage_cpu = timed_stage(acts, args.block, dev)
            goal = "  (goal >= 0.6)" if dev is None else ""
            print(
                f"{name:12s} run {run}: bare {bare:7.2f} s, stage {stage:7.2f} s, GEMM ratio bare/stage = {bare / stage:.2f}{goal}; CPU-time ratio {bare_cpu / stage_cpu:.2f}"
            )

    bare, _ = bare_products(acts, None)
    tracemalloc.start()
    stage_lr, _ = timed_stage(acts, args.block, None, linreg=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"stage with LinReg (numpy):     {stage_lr:8.2f} s   ratio = {bare / stage_lr:.2f} (bare {bare:.2f} s; LinReg adds one Gram product per instance)"
    )
    inputs = sum(a.nbytes for a in acts.values())
    print(
        f"peak memory of the stage:      {(inputs + peak) / 2**30:8.2f} GiB = inputs {inputs / 2**30:.2f} + working {peak / 2**30:.2f} (goal <= 2)"
    )
    print(
        f"process max RSS (whole benchmark, reference copies included): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"
    )

    a, b = acts["i0"], acts["i1"]
    n_slice = 4
    t0 = time.perf_counter()
    for j in range(n_slice):
        for jj in range(args.neurons):
            np.corrcoef(a[:, j], b[:, jj])
    per_pair = (time.perf_counter() - t0) / (n_slice * args.neurons)
    loop_total = per_pair * n_pairs * args.neurons * args.neurons
    print(
        f"loop over neuron pairs (est.): {loop_total:8.0f} s   stage (with LinReg) is {loop_total / stage_lr:.0f}x faster"
    )


if __name__ == "__main__":
    main()
