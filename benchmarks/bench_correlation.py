"""Benchmark: the correlation stage against a bare matrix product and a loop-over-neurons reference.

Measures, in one process, on 5 instances x 512 neurons x 47,377 tokens (the CoNLL-2000 test set):
  * the whole stage (MaxCorr, MeanMaxCorr, MinCorr, partners; then also LinReg) vs the same
    number of bare float32 products Z_a Z_b^T of the same shape (goal: ratio >= 0.6);
  * its peak traced memory (goal: <= 2 GB);
  * a loop-over-neuron-pairs reference (np.corrcoef per pair) on a slice, extrapolated.
Prints ratios; run:  .venv/bin/python benchmarks/bench_correlation.py [--tokens N] [--neurons D]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from neurosieve.correlation import correlate_instances, standardize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--neurons", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=47377)
    ap.add_argument("--block", type=int, default=1024)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(args.tokens, 32)).astype(np.float32)
    acts = {
        f"i{k}": (shared @ rng.normal(size=(32, args.neurons)).astype(np.float32) + rng.normal(size=(args.tokens, args.neurons)).astype(np.float32))
        for k in range(args.instances)
    }
    n_pairs = args.instances * (args.instances - 1) // 2

    z = [standardize(a).z for a in acts.values()]
    _ = z[0].T @ z[1]  # warm-up: BLAS thread pool
    t0 = time.perf_counter()
    for i in range(args.instances):
        for j in range(i + 1, args.instances):
            _ = z[i].T @ z[j]
    bare = time.perf_counter() - t0

    # As in the workflow, freshly read activations are standardised in place.
    fresh = {k: v.copy() for k, v in acts.items()}
    tracemalloc.start()
    t0 = time.perf_counter()
    correlate_instances(fresh, block=args.block, linreg=False, copy=False)
    stage = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    fresh = {k: v.copy() for k, v in acts.items()}
    t0 = time.perf_counter()
    correlate_instances(fresh, block=args.block, linreg=True, copy=False)
    stage_lr = time.perf_counter() - t0

    a, b = acts["i0"], acts["i1"]
    n_slice = 4
    t0 = time.perf_counter()
    for j in range(n_slice):
        for jj in range(args.neurons):
            np.corrcoef(a[:, j], b[:, jj])
    per_pair = (time.perf_counter() - t0) / (n_slice * args.neurons)
    loop_total = per_pair * n_pairs * args.neurons * args.neurons

    print(f"shape: {args.instances} instances x {args.neurons} neurons x {args.tokens} tokens ({n_pairs} pairs)")
    print(f"bare matmuls:                  {bare:8.2f} s")
    print(f"stage (no LinReg):             {stage:8.2f} s   speed ratio bare/stage = {bare / stage:.2f} (goal >= 0.6)")
    print(f"stage (with LinReg):           {stage_lr:8.2f} s   ratio = {bare / stage_lr:.2f}")
    inputs = sum(a.nbytes for a in acts.values())
    print(f"peak memory of the stage:      {(inputs + peak) / 2**30:8.2f} GiB = inputs {inputs / 2**30:.2f} + working {peak / 2**30:.2f} (goal <= 2)")
    print(f"process max RSS (whole benchmark, reference copies included): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    print(f"loop over neuron pairs (est.): {loop_total:8.0f} s   stage is {loop_total / stage:.0f}x faster")


if __name__ == "__main__":
    main()
