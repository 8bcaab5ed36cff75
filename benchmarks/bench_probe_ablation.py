"""Benchmark: the probe-ablation job's retraining, all probes fitted together vs one after another, in one process.

Shape of the default run's job (config/config.yaml): a layer of 256 neurons, 45 POS labels, the
five default rankings x top/bottom plus 5 random repeats, keep 5/10/20/50 % (and 0, all), each
retrained probe with the full probe's budget, the schema's default (Adam, batch 512, cosine
schedule, at least 3,000 steps, standardised). Activations are synthetic (labels planted in a
random subspace plus noise) with CoNLL-2000's token counts times --fraction. Prints both wall
times, their ratio (goal >= 10x) and the largest accuracy difference between a batched probe
and its sequential twin, and the same batched call with each group stepped as one chunk (the step before
chunking; ``fit_probes`` steps a group's probes a cache-sized chunk at a time), with both curves compared to
the bit. It also times the floor: the training's matrix products alone
(forward and weight gradient of every probe, every step, as bare batched GEMMs), so the
sequential time over the floor bounds what batching the same fits can gain on this machine
without fewer or cheaper products:

  .venv/bin/python benchmarks/bench_probe_ablation.py [--fraction 1] [--threads 1] [--device cuda]
      [--neurons 768 --labels 44 --percents 5,10,20,30,50,75 --no-sequential]   # bert-base's last layer
      [--against OTHER/src]   # another checkout's batched fits of the same selections, in the same run
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench_probing import default_budget
from neurosieve.analysis import probe_batch
from neurosieve.analysis.ablation import _each_selection, k_grid, probe_ablation
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import grouped_accuracy

RANKINGS = ("lca", "probeless", "maxcorr", "meanmaxcorr", "mincorr")


def synthetic(n: int, d: int, c: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    freq = 1.0 / np.arange(1, c + 1)
    y = rng.choice(c, size=n, p=freq / freq.sum())
    means = rng.normal(size=(c, 24)) @ rng.normal(size=(24, d)) / 3
    X = (means[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, np.array([f"T{i}" for i in range(c)])[y]


def sync(device: str) -> None:
    """Wait for the device's queued work, so that wall times count it (CUDA runs asynchronously)."""
    if device == "cuda":
        torch.cuda.synchronize()


def gemm_floor(widths: list[int], n_train: int, labels: int, probe: ElasticNetProbe) -> float:
    """Seconds the retraining's products take alone: per step and width k, (P x B x k)(P x k x C) and its transpose-product."""
    epochs, steps = probe.training_steps(n_train)
    batch, dev = int(probe.batch_size), str(probe.device)
    per_step = 0.0
    for k in sorted(set(widths)):
        if k == 0:
            continue
        p = widths.count(k)
        x, w, g = (torch.randn(*shape, device=dev) for shape in [(p, batch, k), (p, k, labels), (p, batch, labels)])
        torch.bmm(x, w), torch.bmm(x.transpose(1, 2), g)  # warm-up
        reps = 30
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.bmm(x, w)
            torch.bmm(x.transpose(1, 2), g)
        sync(dev)
        per_step += (time.perf_counter() - t0) / reps
    return per_step * epochs * steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--fraction", type=float, default=1.0, help="share of CoNLL-2000's 211,727 train / 47,377 test tokens"
    )
    ap.add_argument("--neurons", type=int, default=256)
    ap.add_argument("--labels", type=int, default=45)
    ap.add_argument("--random-repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the rule's threads:)")
    ap.add_argument(
        "--device", choices=["cpu", "cuda"], default="cpu", help="where the probes are fitted (probing.probe.device)"
    )
    ap.add_argument("--percents", default="5,10,20,50", help="kept shares of the layer (ablation.keep_percent)")
    ap.add_argument("--no-sequential", action="store_true", help="skip the one-by-one fits (hours at 768 neurons)")
    ap.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another checkout's src/: its fit_probes retrains the same selections too, in this process",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n_train, n_test = int(211727 * args.fraction), int(47377 * args.fraction)
    X, y = synthetic(n_train + n_test, args.neurons, args.labels, rng)
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    open_mask = np.isin(yte, [f"T{i}" for i in range(0, args.labels, 2)])
    rankings = {r: rng.permutation(args.neurons) for r in RANKINGS}
    ks = k_grid(args.neurons, [float(v) for v in args.percents.split(",")])
    params = {"l1": 1e-5, "l2": 1e-5, "random_state": 0, **default_budget(), "device": args.device}
    probe = ElasticNetProbe(**params).fit(Xtr, ytr)
    ElasticNetProbe(**{**params, "epochs": 1, "min_steps": 0}).fit(Xtr[:5000], ytr[:5000])  # warm-up

    def run() -> tuple[pd.DataFrame, float]:
        t0 = time.perf_counter()
        out = probe_ablation(
            probe, Xtr, ytr, Xte, yte, open_mask, rankings, ks, modes=("retrain",), random_repeats=args.random_repeats
        )
        sync(args.device)
        return out, time.perf_counter() - t0

    curves, batched = run()
    chunk_bytes = probe_batch._CHUNK_BYTES
    probe_batch._CHUNK_BYTES = 1 << 62  # every group's probes through a step in one chunk
    one_chunk_curves, one_chunk = run()
    probe_batch._CHUNK_BYTES = chunk_bytes
    same = curves.equals(one_chunk_curves)
    other = None
    if args.against:
        # The other checkout's batched fits (its probe_batch module, this checkout's everything else), then this
        # checkout's once more, so that each is timed after the other has run.
        spec = importlib.util.spec_from_file_location(
            "other_probe_batch", args.against / "neurosieve" / "analysis" / "probe_batch.py"
        )
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        import neurosieve.analysis.ablation as ablation

        ours = ablation.fit_probes
        ablation.fit_probes = module.fit_probes
        other_curves, other = run()
        ablation.fit_probes = ours
        batched = min(batched, run()[1])
        gap = float((other_curves["value"] - curves["value"]).abs().max())

    def one_by_one(distinct: dict[bytes, np.ndarray], acc: pd.DataFrame) -> tuple[float, float]:
        """Seconds to fit the distinct selections one after another, and the largest accuracy difference from
        the batched curves."""
        t0 = time.perf_counter()
        solo = {}
        for key, kept in distinct.items():
            p = ElasticNetProbe(**params).fit(Xtr[:, kept], ytr)
            solo[key] = grouped_accuracy(yte, p.predict(Xte[:, kept]), open_mask)["overall"]
        seconds = time.perf_counter() - t0
        diff = 0.0
        for name, direction, k, s, kept in _each_selection(rankings, args.neurons, ks, args.random_repeats, 0):
            row = acc[(acc["ranking"] == name) & (acc["direction"] == direction) & (acc["k"] == k)]
            if s is not None:
                row = row[row["random_seed"] == s]
            diff = max(diff, abs(float(row["value"].iloc[0]) - solo[np.sort(kept).tobytes()]))
        return seconds, diff

    distinct = {
        np.sort(kept).tobytes(): np.sort(kept)
        for *_, kept in _each_selection(rankings, args.neurons, ks, args.random_repeats, 0)
    }
    floor = gemm_floor([len(k) for k in distinct.values()], n_train, args.labels, probe)
    acc = curves[curves["metric"] == "accuracy_overall"]
    sequential, diff = (None, 0.0) if args.no_sequential else one_by_one(distinct, acc)
    print(
        f"data: {n_train} train / {n_test} test tokens x {args.neurons} neurons, {args.labels} labels; {args.threads} thread(s), {args.device}"
    )
    epochs, steps = probe.training_steps(n_train)
    print(f"{len(distinct)} distinct retrained probes (ks {ks}), {epochs} epochs of {steps} steps each")
    print(
        f"batched, each group's step as one chunk: {one_chunk:8.2f} s   chunked / one chunk {batched / one_chunk:.2f}; "
        f"curves {'identical' if same else 'DIFFERENT'}"
    )
    print(f"batched (fit_probes):               {batched:8.2f} s   floor / batched {floor / batched:.2f}")
    if other is not None:
        print(
            f"batched, {args.against}'s fit_probes: {other:8.2f} s   this / that {batched / other:.2f}; "
            f"largest accuracy difference {100 * gap:.3f} points"
        )
    print(f"floor (the products alone, bare GEMMs): {floor:8.2f} s")
    if sequential is not None:
        print(
            f"sequential (one fit after another): {sequential:8.2f} s   speed-up {sequential / batched:.1f}x (goal >= 10x)"
        )
        print(f"sequential / floor {sequential / floor:.1f}x: the most batching these products can gain here")
        print(
            f"largest accuracy difference batched vs sequential: {100 * diff:.3f} points; "
            f"accuracy range {100 * acc['value'].min():.1f}-{100 * acc['value'].max():.1f}%"
        )


if __name__ == "__main__":
    main()
