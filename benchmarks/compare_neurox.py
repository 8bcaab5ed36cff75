"""Compare: this workflow's LCA rankings against NeuroX's own, retrained on their top neurons, on one run's activations.

The reference implementation of the paper's ranking is NeuroX (``neurox.interpretation.linear_probe``:
``train_logistic_regression_probe``, Adam on mini-batches for a fixed number of epochs, then
``get_neuron_ordering``, the cumulative weight-mass sweep). For one (instance, layer, property) of a
finished run this script

1. trains NeuroX's probe on the run's training activations at the paper's lambdas (1e-5, 1e-5 by
   default) with NeuroX's defaults (10 epochs, batch 32, lr 0.001) and takes its neuron ordering;
2. reads the run's own orderings of the same probe job (``lca_paper``: the ordering of the probe
   fitted at the paper's lambdas; ``lca``, ``lca_std``, ...);
3. retrains a probe on each ordering's top ``--percent`` % of neurons, and on ``--random`` random
   selections of the same size, and scores each on the test split. Every retrain uses the same
   procedure: the run's probe settings (the saved probe's parameters), and also NeuroX's own
   training (``--neurox-retrain``), so that neither ranking is judged by the other's probe.

NeuroX 1.0.9 pins 2021 versions of torch, numpy and scikit-learn; its probe code runs on today's.
Install it beside the workflow without its pins (its ``utils`` module imports imbalanced-learn):

  .venv/bin/pip install --no-deps neurox==1.0.9 imbalanced-learn sklearn-compat
  .venv/bin/python benchmarks/compare_neurox.py results --family bilstm --instance seed1 --layer 2 --property pos
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from neurosieve.analysis.ablation import random_selections
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import fresh_probe
from neurosieve.core.paths import OutputPaths
from neurosieve.store.activations import read_keys, read_layer
from neurosieve.store.io import read_table


def neurox_ordering(
    X: np.ndarray, labels: np.ndarray, l1: float, l2: float, epochs: int, seed: int
) -> tuple[np.ndarray, object]:
    """NeuroX's probe trained on ``X`` and its global neuron ordering (most important first)."""
    from neurox.interpretation import linear_probe

    classes = np.unique(labels)
    class_to_idx = {c: i for i, c in enumerate(classes)}
    y = np.searchsorted(classes, labels).astype(np.int64)
    torch.manual_seed(seed)
    probe = linear_probe.train_logistic_regression_probe(
        X.astype(np.float32), y, lambda_l1=l1, lambda_l2=l2, num_epochs=epochs
    )
    ordering, _ = linear_probe.get_neuron_ordering(probe, class_to_idx)
    order = np.asarray(ordering, dtype=np.int64)
    rest = np.setdiff1d(np.arange(X.shape[1]), order)  # NeuroX's sweep reaches every neuron; kept for safety
    return np.concatenate([order, rest]), probe


def neurox_retrain_accuracy(
    X: np.ndarray, labels: np.ndarray, X_test: np.ndarray, labels_test: np.ndarray, l1: float, l2: float, seed: int
) -> float:
    """Test accuracy of NeuroX's own probe trained on the kept neurons (its training defaults)."""
    from neurox.interpretation import linear_probe

    classes = np.unique(labels)
    y = np.searchsorted(classes, labels).astype(np.int64)
    torch.manual_seed(seed)
    probe = linear_probe.train_logistic_regression_probe(X.astype(np.float32), y, lambda_l1=l1, lambda_l2=l2)
    with torch.no_grad():
        pred = probe(torch.from_numpy(X_test.astype(np.float32))).argmax(dim=1).numpy()
    return float(np.mean(classes[pred] == labels_test))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", help="a finished run's outdir (results)")
    ap.add_argument("--family", default="bilstm")
    ap.add_argument("--instance", default="seed1")
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--property", default="pos")
    ap.add_argument("--percent", type=float, default=10.0)
    ap.add_argument("--l1", type=float, default=1e-5)
    ap.add_argument("--l2", type=float, default=1e-5)
    ap.add_argument("--epochs", type=int, default=10, help="NeuroX's num_epochs (its default)")
    ap.add_argument("--random", type=int, default=20, help="random selections of the same size")
    ap.add_argument("--rankings", default="lca_paper,lca,lca_std,lca_freq", help="the run's orderings to compare")
    ap.add_argument("--neurox-retrain", action="store_true", help="also retrain with NeuroX's own probe")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    paths = OutputPaths(args.outdir)
    train_path = paths.activations(args.family, args.instance, "train")
    test_path = paths.activations(args.family, args.instance, "test")
    X, X_test = read_layer(train_path, args.layer), read_layer(test_path, args.layer)
    y = read_keys(train_path)[args.property].astype(str).to_numpy()
    y_test = read_keys(test_path)[args.property].astype(str).to_numpy()
    job = (args.family, args.instance, args.layer, args.property)
    saved = ElasticNetProbe.load(paths.probe(*job, "probe.npz"))
    orderings = read_table(paths.probe(*job, "orderings"))
    width = X.shape[1]
    k = int(round(args.percent / 100 * width))
    print(
        f"{args.outdir}: {args.family} {args.instance} layer {args.layer} {args.property}: {len(X):,} train / "
        f"{len(X_test):,} test tokens x {width} neurons; top {args.percent:g} % = {k} neurons; "
        f"retrains with the run's probe ({saved.solver}, l1={saved.l1:g}, l2={saved.l2:g})"
    )

    orders: dict[str, np.ndarray] = {}
    for name in [r for r in args.rankings.split(",") if r]:
        o = orderings[orderings["method"] == name].sort_values("rank")["neuron"].to_numpy()
        if len(o):
            orders[name] = o
    t0 = time.process_time()
    orders["neurox"], _ = neurox_ordering(X, y, args.l1, args.l2, args.epochs, args.seed)
    print(f"NeuroX probe ({args.epochs} epochs, l1={args.l1:g}, l2={args.l2:g}): {time.process_time() - t0:.0f} CPU-s")

    def ours(kept: np.ndarray) -> float:
        probe = fresh_probe(saved)
        probe.fit(X[:, kept], y)
        return float(np.mean(probe.predict(X_test[:, kept]) == y_test))

    rows = []
    for name, order in orders.items():
        kept = np.sort(order[:k])
        row = {"ranking": name, "retrained (run's probe)": 100 * ours(kept)}
        if args.neurox_retrain:
            row["retrained (NeuroX probe)"] = 100 * neurox_retrain_accuracy(
                X[:, kept], y, X_test[:, kept], y_test, args.l1, args.l2, args.seed
            )
        row["shared with neurox"] = len(np.intersect1d(kept, orders["neurox"][:k]))
        rows.append(row)
    rnd = [100 * ours(kept) for _, kept in random_selections(width, k, args.random, args.seed)]
    rows.append(
        {
            "ranking": f"random ({args.random} draws: mean, sd {np.std(rnd, ddof=1):.2f})",
            "retrained (run's probe)": float(np.mean(rnd)),
        }
    )
    table = pd.DataFrame(rows)
    table["shared with neurox"] = table["shared with neurox"].astype("Int64")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    ref = table.set_index("ranking")["retrained (run's probe)"]
    if "lca_paper" in ref:
        verdict = "at least as good as" if ref["lca_paper"] >= ref["neurox"] else "below"
        print(
            f"lca_paper's top {k} retrained: {ref['lca_paper']:.2f} % vs NeuroX's ranking {ref['neurox']:.2f} %: "
            f"{verdict} the reference implementation's ranking (one instance, one probe seed each)"
        )


if __name__ == "__main__":
    main()
