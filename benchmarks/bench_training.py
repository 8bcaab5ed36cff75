"""Train one (family, seed) of a config twice on the chosen device: wall time, test F1, and whether the
two runs agree exactly (determinism). Then dump its test activations, reload the model and dump again.

  .venv/bin/python benchmarks/bench_training.py --config config/config.yaml --family bilstm --seed 1 \\
      --data-dir /path/to/conll2000 [--device cuda]   (default: $NEUROSIEVE_CONLL_DIR)
"""

from __future__ import annotations

import argparse
import os
import gzip
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from neurosieve.activations import activation_layers, read_layer, tagger_extractor, write_activations
from neurosieve.data import parse_conll
from neurosieve.models import load_model, save_model
from neurosieve.training import train_tagger


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--family", default="bilstm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", type=Path, default=os.environ.get("NEUROSIEVE_CONLL_DIR"), required="NEUROSIEVE_CONLL_DIR" not in os.environ, help="directory holding train.txt.gz and test.txt.gz")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    fam = yaml.safe_load(Path(args.config).read_text())["families"][args.family]
    tokens = {s: parse_conll(gzip.decompress((args.data_dir / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")}
    runs = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        train_params = {"epochs": 8, "batch_size": 32, "lr": 0.002, **fam.get("train", {})}
        model, vocab, m = train_tagger(tokens["train"], tokens["test"], fam["kind"], args.seed, fam.get("model", {}), train_params, fam.get("subset"), args.device)
        runs.append((m, time.perf_counter() - t0))
        print(f"run {r + 1}: {m['device']}, {runs[-1][1]:.1f} s, test chunk F1 {m['test']['f1']:.2f}, token accuracy {m['test']['token_accuracy']:.2f}")
    if len(runs) > 1:
        same = all(r[0]["test"] == runs[0][0]["test"] and r[0]["curve"] == runs[0][0]["curve"] for r in runs[1:])
        print(f"identical metrics and curves across runs with seed {args.seed}: {same}")
    with tempfile.TemporaryDirectory() as d:
        save_model(model, vocab, d)
        write_activations(tokens["test"], tagger_extractor(model, vocab, 128), f"{d}/a.parquet", {}, progress=False)
        again, vocab2 = load_model(d, next(model.parameters()).device)
        write_activations(tokens["test"], tagger_extractor(again, vocab2, 128), f"{d}/b.parquet", {}, progress=False)
        exact = all(np.array_equal(read_layer(f"{d}/a.parquet", n), read_layer(f"{d}/b.parquet", n)) for n in activation_layers(f"{d}/a.parquet"))
        print(f"reloaded model reproduces its dumped activations exactly: {exact}")


if __name__ == "__main__":
    main()
