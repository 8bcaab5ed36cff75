"""Benchmark: training near the hardware, and training's determinism.

1. One training epoch (neurosieve.models.training.train_epoch: batching, embeddings, dropout, loss, Adam,
   clipping, schedule) against a bare forward + backward of the same nn.LSTM stack on the same
   batches (inputs embedded beforehand, no optimiser), in one process, alternately --runs times
   (goal: epoch / bare <= 1.5 on CPU with the job's threads). The bare stack runs twice: on the
   packed batches (what the model did before) and on the padded batches (torch's fused oneDNN
   path, the fastest the hardware offers; the model now runs that path exactly, see
   neurosieve.models.taggers.padded_bilstm). --sentences takes the first N training sentences (all by default).
2. With --repeats R > 0: train one (family, seed) of a config R times on the chosen device: wall
   time, test F1, and whether the runs agree exactly; then dump its test activations, reload the
   model and dump again.

  .venv/bin/python benchmarks/bench_training.py --config config/config.yaml --family bilstm --seed 1 \\
      --data-dir DIR [--device cuda] [--threads 1] [--sentences N] [--repeats 2]   (DIR default: $NEUROSIEVE_CONLL_DIR)
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from neurosieve.models.extract import tagger_extractor
from neurosieve.models.taggers import TaggerConfig, Vocab, build_model, load_model, save_model
from neurosieve.models.training import (
    PaddedCorpus,
    length_batches,
    make_optimizer,
    pick_device,
    train_epoch,
    train_tagger,
)
from neurosieve.store.activations import activation_layers, read_layer, write_activations
from neurosieve.store.corpus import first_sentences, label_set, parse_conll, sentences

DEFAULT_TRAIN = {"epochs": 8, "batch_size": 32, "lr": 0.002, "clip": 5.0, "word_dropout": 0.05}


def epoch_vs_bare(tokens, fam, seed: int, device: torch.device, runs: int) -> None:  # type: ignore[no-untyped-def]
    """Print one epoch's time and the bare LSTM forward+backward's on the same batches, run by run."""
    if fam["kind"] != "bilstm":
        raise SystemExit("the epoch-vs-bare comparison is for BiLSTM families (a bare nn.LSTM stack)")
    train_params = {**DEFAULT_TRAIN, **fam.get("train", {})}
    sents, tags = sentences(tokens["train"], "word"), sentences(tokens["train"], "chunk")
    mp = dict(fam.get("model", {}))
    vocab = Vocab.build(sents, label_set(tokens["train"]["chunk"], tokens["test"]["chunk"]), mp.pop("min_word_freq", 1))
    torch.manual_seed(seed)
    model = build_model(
        TaggerConfig(kind="bilstm", vocab_size=len(vocab.words), num_labels=len(vocab.labels), **mp)
    ).to(device)
    corpus = PaddedCorpus.build([vocab.encode_words(s) for s in sents], [vocab.encode_labels(t) for t in tags])
    batches = list(length_batches(corpus.lengths, int(train_params["batch_size"]), np.random.default_rng(seed)))
    opt, sched = make_optimizer(model, train_params, len(batches))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        inputs = [(model.embed(b.words.to(device), b.shapes.to(device)), b.lengths) for b in map(corpus.batch, batches)]

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def epoch() -> float:
        sync()
        t0 = time.perf_counter()
        train_epoch(
            model,
            corpus,
            iter(batches),
            opt,
            sched,
            device,
            train_params.get("clip"),
            float(train_params.get("word_dropout", 0.0)),
            gen,
        )
        sync()
        return time.perf_counter() - t0

    def packed(lstm: torch.nn.LSTM, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = pad_packed_sequence(
            lstm(pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False))[0],
            batch_first=True,
            total_length=h.shape[1],
        )
        return out

    def padded(lstm: torch.nn.LSTM, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return lstm(h)[0]  # torch's fused oneDNN path on the CPU; the reverse direction then also reads padding

    def bare(run_lstm) -> float:  # type: ignore[no-untyped-def]
        model.train()
        sync()
        t0 = time.perf_counter()
        for x, lengths in inputs:
            h = x
            for lstm in model.lstms:
                h = run_lstm(lstm, h, lengths)
            h.sum().backward()
        model.zero_grad(set_to_none=True)
        sync()
        return time.perf_counter() - t0

    n_tok = int(corpus.lengths.sum())
    print(
        f"{len(sents)} sentences, {n_tok} tokens, {len(batches)} batches of {train_params['batch_size']}; layers {model.layer_dims}; {torch.get_num_threads()} thread(s) on {device}"
    )
    for run in range(1, runs + 1):
        t_epoch, t_bare, t_padded = epoch(), bare(packed), bare(padded)
        print(
            f"run {run}: one epoch {t_epoch:7.2f} s; bare nn.LSTM forward+backward: packed {t_bare:7.2f} s, padded {t_padded:7.2f} s;"
            f" ratio epoch/bare = {t_epoch / t_bare:.2f} (packed), {t_epoch / t_padded:.2f} (padded) (goal <= 1.5)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--family", default="bilstm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get("NEUROSIEVE_CONLL_DIR"),
        required="NEUROSIEVE_CONLL_DIR" not in os.environ,
        help="directory holding train.txt.gz and test.txt.gz",
    )
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the training rule's threads:)")
    ap.add_argument("--sentences", type=int, default=None, help="first N training sentences for the epoch comparison")
    ap.add_argument("--runs", type=int, default=2, help="side-by-side epoch/bare runs")
    ap.add_argument("--repeats", type=int, default=0, help="full trainings for the determinism check (0 skips it)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    fam = yaml.safe_load(Path(args.config).read_text())["families"][args.family]
    tokens = {
        s: parse_conll(gzip.decompress((args.data_dir / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")
    }
    device = pick_device(args.device)
    if args.runs:
        sub = dict(tokens)
        if args.sentences:
            sub["train"] = first_sentences(tokens["train"], args.sentences)
        epoch_vs_bare(sub, fam, args.seed, device, args.runs)
    runs = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        train_params = {**DEFAULT_TRAIN, **fam.get("train", {})}
        model, vocab, m = train_tagger(
            tokens["train"],
            tokens["test"],
            fam["kind"],
            args.seed,
            fam.get("model", {}),
            train_params,
            fam.get("subset"),
            args.device,
        )
        runs.append((m, time.perf_counter() - t0))
        print(
            f"run {r + 1}: {m['device']}, {runs[-1][1]:.1f} s, test chunk F1 {m['test']['f1']:.2f}, token accuracy {m['test']['token_accuracy']:.2f}"
        )
    if len(runs) > 1:
        same = all(r[0]["test"] == runs[0][0]["test"] and r[0]["curve"] == runs[0][0]["curve"] for r in runs[1:])
        print(f"identical metrics and curves across runs with seed {args.seed}: {same}")
    if runs:
        with tempfile.TemporaryDirectory() as d:
            save_model(model, vocab, d)
            write_activations(tokens["test"], tagger_extractor(model, vocab, 128), f"{d}/a.parquet", {}, progress=False)
            again, vocab2 = load_model(d, next(model.parameters()).device)
            write_activations(
                tokens["test"], tagger_extractor(again, vocab2, 128), f"{d}/b.parquet", {}, progress=False
            )
            exact = all(
                np.array_equal(read_layer(f"{d}/a.parquet", n), read_layer(f"{d}/b.parquet", n))
                for n in activation_layers(f"{d}/a.parquet")
            )
            print(f"reloaded model reproduces its dumped activations exactly: {exact}")


if __name__ == "__main__":
    main()
