"""Benchmark: the elastic-net probe against a NeuroX-style reference on the same data, in one process.

The reference is written here as NeuroX trains its probes: Adam, batches of 32,
10 epochs, the same loss (mean cross-entropy + l1*sum|W| + l2*||W||_2), one
Python step per batch. The neurosieve probe runs with the workflow's default
training budget (the schema's ``probing.probe``). Prints both wall times, their
ratio (goal >= 10x) and both test accuracies (goal: equal or better). Uses a
layer of real activations:

  .venv/bin/python benchmarks/bench_probing.py results/activations/bilstm/seed1 --layer 2 --property pos
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.config import load_schema, validate_config
from neurosieve.store.activations import read_keys, read_layer

ROOT = Path(__file__).resolve().parents[1]


def default_budget() -> dict:  # type: ignore[type-arg]
    """The probe training budget a default run uses (schema defaults of ``probing.probe``)."""
    cfg = validate_config(
        {"families": {"f": {"kind": "bilstm", "seeds": [1]}}}, load_schema(ROOT / "workflow/schemas/config.schema.yaml")
    )
    return dict(cfg["probing"]["probe"])


def neurox_style(
    X: np.ndarray, y: np.ndarray, n_classes: int, l1: float, l2: float, epochs: int = 10, batch: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Linear(X.shape[1], n_classes)
    opt = torch.optim.Adam(model.parameters())
    xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        perm = torch.randperm(len(xt))
        for s in range(0, len(xt), batch):
            idx = perm[s : s + batch]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss = loss + l1 * model.weight.abs().sum() + l2 * torch.linalg.vector_norm(model.weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.weight.detach(), model.bias.detach()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("instance_dir", type=Path, help="directory holding train.parquet and test.parquet activations")
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--property", default="pos")
    ap.add_argument("--l1", type=float, default=1e-5)
    ap.add_argument("--l2", type=float, default=1e-5)
    ap.add_argument("--reference-epochs", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(1)
    Xtr, Xte = (
        read_layer(args.instance_dir / "train.parquet", args.layer),
        read_layer(args.instance_dir / "test.parquet", args.layer),
    )
    ytr_s = read_keys(args.instance_dir / "train.parquet")[args.property].astype(str).to_numpy()
    yte_s = read_keys(args.instance_dir / "test.parquet")[args.property].astype(str).to_numpy()
    classes, ytr = np.unique(ytr_s, return_inverse=True)

    # Warm both paths up (thread pools, allocator) so that neither pays first-call costs in the timing.
    ElasticNetProbe(epochs=1).fit(Xtr[:5000], ytr_s[:5000])
    neurox_style(Xtr[:2000], ytr[:2000].astype(np.int64), len(classes), args.l1, args.l2, 1)

    t0 = time.perf_counter()
    budget = default_budget()
    probe = ElasticNetProbe(l1=args.l1, l2=args.l2, **budget).fit(Xtr, ytr_s)
    ours = time.perf_counter() - t0
    acc_ours = probe.score(Xte, yte_s)

    t0 = time.perf_counter()
    w, b = neurox_style(Xtr, ytr.astype(np.int64), len(classes), args.l1, args.l2, args.reference_epochs)
    ref = time.perf_counter() - t0
    pred = classes[(torch.from_numpy(Xte) @ w.T + b).argmax(1).numpy()]
    acc_ref = float((pred == yte_s).mean())

    print(
        f"data: {Xtr.shape[0]} train / {Xte.shape[0]} test tokens x {Xtr.shape[1]} neurons, {len(classes)} labels ({args.property})"
    )
    print(f"neurosieve probe ({budget}):   {ours:8.2f} s   test accuracy {100 * acc_ours:.2f}%")
    print(
        f"NeuroX-style (Adam, batch 32, {args.reference_epochs} epochs): {ref:8.2f} s   test accuracy {100 * acc_ref:.2f}%"
    )
    print(f"speed-up: {ref / ours:.1f}x (goal >= 10x); accuracy difference {100 * (acc_ours - acc_ref):+.2f} points")


if __name__ == "__main__":
    main()
