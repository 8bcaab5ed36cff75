"""Benchmark: what a fine-tuned family config costs, projected from a short timed run.

Fine-tunes the family's encoder on a few batches (the real training loop, one
epoch) and times inference on test sentences, then projects the config's
fine-tuning, activation and model-ablation stages linearly from those rates:

  per seed   train_sentences * subset * epochs * t_train
           + epochs * test_sentences * t_infer                 (evaluation after each epoch)
           + (train_sentences + test_sentences) * t_infer      (activation dumps)
           + model-ablation evaluations * test_sentences * t_infer

Probing, correlation and figures are not included (they are small next to these
for a 384-wide encoder). Wall and CPU seconds are both printed: on a shared
machine the CPU time divided by the threads used is the better guess of the
wall time on idle cores.

  .venv/bin/python benchmarks/bench_finetuning.py [--config config/minilm-finetuned.yaml] [--sentences 96] [--threads 2]
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import torch
import yaml

from neurosieve.config import load_schema, validate_config
from neurosieve.models.finetuning import Windowing, finetune_tagger, predict_finetuned
from neurosieve.store.corpus import first_sentences, parse_conll, sentences

ROOT = Path(__file__).resolve().parents[1]


def model_ablation_evaluations(abl: dict, width: int) -> int:
    """Distinct removals a model-ablation job scores (identical removals are scored once)."""
    from neurosieve.analysis.ablation import k_grid

    ks = k_grid(width, abl["model"]["remove_percent"])
    inner = [k for k in ks if 0 < k < width]
    rankings = len(abl["model"]["rankings"])
    return 2 + len(inner) * (2 * rankings + abl["model"]["random_repeats"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "config/minilm-finetuned.yaml")
    ap.add_argument(
        "--conll",
        type=Path,
        default=os.environ.get("NEUROSIEVE_CONLL_DIR"),
        help="directory of train.txt.gz and test.txt.gz (default: $NEUROSIEVE_CONLL_DIR)",
    )
    ap.add_argument("--sentences", type=int, default=96, help="training sentences of the timed run")
    ap.add_argument("--test-sentences", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.conll is None:
        ap.error("give --conll or set NEUROSIEVE_CONLL_DIR")
    torch.set_num_threads(args.threads)
    cfg = validate_config(
        yaml.safe_load(args.config.read_text()), load_schema(ROOT / "workflow/schemas/config.schema.yaml")
    )
    name, fam = next((n, f) for n, f in cfg["families"].items() if f["kind"] == "finetuned")
    tokens = {s: parse_conll(gzip.decompress((args.conll / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")}
    train = first_sentences(tokens["train"], args.sentences)
    test = first_sentences(tokens["test"], args.test_sentences)
    params = {**fam["train"], "epochs": 1}

    c0, t0 = time.process_time(), time.perf_counter()
    model, tok, labels, metrics = finetune_tagger(
        train, test, fam["model"], 1, params, fam["pooling"], fam["max_length"], None, "cpu", progress=False
    )
    total_wall, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    windowing = Windowing(tok, model.encoder, fam["max_length"])
    c0, t0 = time.process_time(), time.perf_counter()
    predict_finetuned(model, windowing, labels, sentences(test, "word"), fam["batch_size"])
    infer_wall, infer_cpu = (
        (time.perf_counter() - t0) / args.test_sentences,
        (time.process_time() - c0) / args.test_sentences,
    )
    # The timed run evaluated the test sentences once after its epoch: take that out of the training rate.
    train_wall = (total_wall - infer_wall * args.test_sentences) / args.sentences
    train_cpu = (total_cpu - infer_cpu * args.test_sentences) / args.sentences

    n_train = cfg["data"]["max_sentences"]["train"] or int(tokens["train"]["sentence"].nunique())
    n_test = cfg["data"]["max_sentences"]["test"] or int(tokens["test"]["sentence"].nunique())
    subset = fam["subset"] or 1.0
    epochs = fam["train"]["epochs"]
    evals = (
        model_ablation_evaluations(cfg["ablation"], model.layer_dims[-1]) if cfg["ablation"]["model"]["enabled"] else 0
    )
    rates = {"train": (train_wall, train_cpu), "infer": (infer_wall, infer_cpu)}
    stages = {  # stage: (sentences, which rate)
        "fine-tuning": (n_train * subset * epochs, "train"),
        "evaluation after each epoch": (epochs * n_test, "infer"),
        "activation dumps (train + test)": (n_train + n_test, "infer"),
        f"model ablation ({evals} evaluations)": (evals * n_test, "infer"),
    }
    print(f"{args.config.name}: family {name!r}, {fam['model']}, {len(fam['seeds'])} seeds, {args.threads} threads")
    print(
        f"timed: {args.sentences} sentences x 1 epoch in {total_wall:.1f} s wall / {total_cpu:.1f} s CPU (incl. one test evaluation)"
    )
    print(
        f"rates: training {train_wall:.3f} s wall / {train_cpu:.3f} s CPU per sentence-epoch; inference {infer_wall:.4f} s wall / {infer_cpu:.4f} s CPU per sentence"
    )
    per_seed_wall = per_seed_cpu = 0.0
    for stage, (n, rate) in stages.items():
        w, c = n * rates[rate][0], n * rates[rate][1]
        per_seed_wall += w
        per_seed_cpu += c
        print(f"  per seed  {stage:<40s} {w:8.0f} s wall  {c:8.0f} s CPU")
    seeds = len(fam["seeds"])
    print(
        f"projected for {seeds} seeds: {seeds * per_seed_wall / 60:.1f} min wall as measured here, "
        f"{seeds * per_seed_cpu / args.threads / 60:.1f} min on {args.threads} idle cores (CPU time / threads)"
    )


if __name__ == "__main__":
    main()
