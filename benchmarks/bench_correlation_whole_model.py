"""Benchmark: whole-model correlation (every layer of each instance side by side) in bounded memory, by streaming.

Runs :func:`neurosieve.analysis.correlation.correlate_streaming` on 6 instances x 13 layers x 768 neurons
(bert-base: 9,984 neurons an instance, as Wu et al. 2020 compare whole models) over synthetic activations that are
generated per token block on the fly, deterministically from the seed and the block, so the input itself is never
held. They share a 64-dimensional latent signal across instances (so best partners are meaningful), have
per-neuron means and scales spread like a transformer's, and a few dead (constant) neurons per instance.

Reports: the plan (accumulator budget, passes over the tokens), wall and CPU seconds of the moments pass and the
whole stage, the time spent generating input inside the reader, peak resident memory (ru_maxrss; goal <= 8 GB),
and the ratio of the bare float32 products Z_a^T Z_b (timed in the same run on a slice of tokens, extrapolated to
all pairs and tokens) to the stage's time.

Run:  .venv/bin/python benchmarks/bench_correlation_whole_model.py [--tokens 20000] [--memory-gb 6]
BLAS threads are capped at 2 (OPENBLAS/OMP/MKL_NUM_THREADS, unless set).

Measured once at full size (2-core machine shared with two other agents, no GPU; 23 GB RAM), run with
`/usr/bin/time -v .venv/bin/python benchmarks/bench_correlation_whole_model.py` (defaults: 6 x 9,984 neurons,
20,000 tokens, token block 4,096, budget 6 GiB); load average 1.4 at the start, 4-6.5 during the stage:
    plan: 3 passes over the tokens (+1 for the moments), accumulators 4.44 GiB, blocks 1.56 GiB
    bare products, extrapolated from one 4,096-token product: 292.7 s wall, 292.1 s CPU (timed at load ~1.4)
    stage: 592.2 s wall, 467.9 s CPU; moments pass 23.6 s; synthetic input generation 80.7 s wall, 67.0 s CPU
    ratio bare/stage: CPU 0.62 (0.73 without input generation); wall 0.49, skewed by the load rising mid-run
    peak resident memory: 5.43 GiB = 5.83 GB (time -v: 5,694,808 kB), goal <= 8 GB met
The CPU beyond the products (~110 s) is the float64 accumulation over token blocks, the per-band reductions
along both axes and the z-scoring of each block per pass.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from neurosieve.analysis.correlation import correlate_streaming, plan_streaming, stream_moments  # noqa: E402

LATENT = 64


class Synthetic:
    """A reader of synthetic whole-model activations: ``read(instance, token_slice)``, the same rows on every call.

    Neuron j of instance i over tokens t: mean_ij + scale_ij * (latent_t . W_i[:, j] + noise_tij), the latent
    shared by all instances; ``dead`` neurons per instance are constant. Time spent generating is counted.
    """

    def __init__(self, instances: list[str], width: int, seed: int, dead: int = 3) -> None:
        self.instances = {name: i for i, name in enumerate(instances)}
        self.seed = seed
        self.loadings, self.means, self.scales, self.dead = [], [], [], []
        for i in range(len(instances)):
            rng = np.random.default_rng([seed, 1000 + i])
            self.loadings.append((rng.normal(size=(LATENT, width)) * 0.3).astype(np.float32))
            mean = rng.uniform(-3, 3, size=width)
            mean[rng.choice(width, 4, replace=False)] = 40.0  # a few outlier dimensions with a large offset
            self.means.append(mean.astype(np.float32))
            self.scales.append((10.0 ** rng.uniform(-1, 1, size=width)).astype(np.float32))
            self.dead.append(rng.choice(width, dead, replace=False))
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0

    def __call__(self, instance: str, sl: slice) -> np.ndarray:
        t0, c0 = time.perf_counter(), time.process_time()
        i = self.instances[instance]
        n = sl.stop - sl.start
        latent = np.random.default_rng([self.seed, 0, sl.start]).standard_normal((n, LATENT), dtype=np.float32)
        x = np.random.default_rng([self.seed, 1 + i, sl.start]).standard_normal(
            (n, self.loadings[i].shape[1]), dtype=np.float32
        )
        x += latent @ self.loadings[i]
        x *= self.scales[i]
        x += self.means[i]
        x[:, self.dead[i]] = self.means[i][self.dead[i]]
        self.wall += time.perf_counter() - t0
        self.cpu += time.process_time() - c0
        self.calls += 1
        return x


def bare_products(read: Synthetic, names: list[str], slice_tokens: int) -> tuple[float, float]:
    """Wall and CPU seconds of one bare float32 product Z_a^T Z_b (full width, ``slice_tokens`` tokens)."""

    def z(name: str) -> np.ndarray:
        x = read(name, slice(0, slice_tokens))
        x -= x.mean(0)
        x /= np.where(x.std(0) > 0, x.std(0), 1.0).astype(np.float32)
        return x

    za, zb = z(names[0]), z(names[1])
    _ = za[:, :256].T @ zb  # warm-up: thread pool
    t0, c0 = time.perf_counter(), time.process_time()
    _ = za.T @ zb
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=6)
    ap.add_argument("--layers", type=int, default=13)
    ap.add_argument("--width", type=int, default=768, help="neurons per layer")
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("--token-block", type=int, default=4096)
    ap.add_argument("--memory-gb", type=float, default=6.0, help="budget of correlate_streaming, GiB")
    ap.add_argument("--slice-tokens", type=int, default=4096, help="tokens of the bare-product slice")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    names = [f"i{k}" for k in range(args.instances)]
    d = args.layers * args.width
    n_pairs = len(names) * (len(names) - 1) // 2
    memory = int(args.memory_gb * 2**30)
    read = Synthetic(names, d, args.seed)
    plan = plan_streaming(dict.fromkeys(names, d), args.token_block, memory)
    print(f"load average at start (1, 5, 15 min): {os.getloadavg()}; cores: {os.cpu_count()}")
    print(
        f"shape: {len(names)} instances x {d} neurons ({args.layers} x {args.width}) x {args.tokens} tokens, "
        f"{n_pairs} pairs; token block {args.token_block}; budget {args.memory_gb:g} GiB"
    )
    print(
        f"plan: {plan.passes} passes over the tokens (+1 for the moments), accumulators "
        f"{plan.accumulator_entries * 8 / 2**30:.2f} GiB, blocks and temporaries {plan.block_bytes / 2**30:.2f} GiB, "
        f"estimated peak {plan.estimated_peak_bytes / 2**30:.2f} GiB"
    )

    slice_tokens = min(args.slice_tokens, args.tokens)
    bare_wall, bare_cpu = bare_products(read, names, slice_tokens)
    scale = n_pairs * args.tokens / slice_tokens
    bare_wall, bare_cpu = bare_wall * scale, bare_cpu * scale
    print(
        f"bare products Z_a^T Z_b: {slice_tokens} tokens x {d}^2 in the same run, extrapolated to {n_pairs} pairs x "
        f"{args.tokens} tokens: {bare_wall:.1f} s wall, {bare_cpu:.1f} s CPU"
    )
    read.wall = read.cpu = 0.0
    read.calls = 0

    t0, c0 = time.perf_counter(), time.process_time()
    moments = {n: stream_moments(read, n, args.tokens, args.token_block) for n in names}
    m_wall, m_cpu = time.perf_counter() - t0, time.process_time() - c0
    result = correlate_streaming(read, names, args.tokens, args.token_block, memory, moments=moments)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    s = result.scores
    print(
        f"stage: {wall:.1f} s wall, {cpu:.1f} s CPU (moments pass {m_wall:.1f} s wall, {m_cpu:.1f} s CPU); "
        f"input generation inside the reader {read.wall:.1f} s wall, {read.cpu:.1f} s CPU ({read.calls} blocks read)"
    )
    print(
        f"ratio bare/stage: wall {bare_wall / wall:.2f}, CPU {bare_cpu / cpu:.2f}; "
        f"without input generation: wall {bare_wall / (wall - read.wall):.2f}, CPU {bare_cpu / (cpu - read.cpu):.2f}"
    )
    print(
        f"peak resident memory (ru_maxrss, whole process): {peak / 2**30:.2f} GiB = {peak / 1e9:.2f} GB "
        f"(goal <= 8 GB: {'met' if peak <= 8e9 else 'MISSED'})"
    )
    print(
        f"scores: {len(s)} neurons, {int(s['dead'].sum())} dead; mean MaxCorr {s['maxcorr'].mean():.3f}, "
        f"MeanMaxCorr {s['meanmaxcorr'].mean():.3f}, MinCorr {s['mincorr'].mean():.3f}"
    )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
