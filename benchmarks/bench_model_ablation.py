"""Benchmark: model ablation from a cached layer against re-running the whole tagger, in one process.

Uses the default run's BiLSTM architecture (config/config.yaml) and its ablated layer, on the
CoNLL-2000 test set. The weights are the untrained initialisation (the cost does not depend on
them). For a few selections it times (a) the full masked re-run, as model ablation did before, and
(b) scoring from the cached layer, checks that both give the same scores, and prints the speed-up
per selection and for the default run's whole job (its number of distinct selections, cache build
included):

  .venv/bin/python benchmarks/bench_model_ablation.py [--config config/config.yaml] [--selections 4]
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from neurosieve.analysis.ablation import k_grid
from neurosieve.models.layer_cache import LayerCache
from neurosieve.models.taggers import TaggerConfig, Vocab, build_model
from neurosieve.models.training import evaluate
from neurosieve.store.corpus import label_set, parse_conll, sentences


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--family", default="bilstm")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get("NEUROSIEVE_CONLL_DIR", "data/conll2000"),
        help="holds train.txt.gz and test.txt.gz",
    )
    ap.add_argument("--selections", type=int, default=4, help="selections timed both ways")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the rule's threads:)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = yaml.safe_load(Path(args.config).read_text())
    fam, abl = cfg["families"][args.family], cfg.get("ablation", {})
    layer = (abl.get("layers") or [fam.get("model", {}).get("num_layers", 2)])[-1]
    model_cfg = abl.get("model", {})
    tokens = {
        s: parse_conll(gzip.decompress((args.data_dir / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")
    }
    mp = dict(fam.get("model", {}))
    mp.pop("min_word_freq", None)
    vocab = Vocab.build(sentences(tokens["train"]), label_set(tokens["train"]["chunk"], tokens["test"]["chunk"]))
    torch.manual_seed(0)
    model = build_model(
        TaggerConfig(kind=fam["kind"], vocab_size=len(vocab.words), num_labels=len(vocab.labels), **mp)
    ).eval()
    width = model.layer_dims[layer]
    ks = [
        k for k in k_grid(width, model_cfg.get("remove_percent", [10, 20, 30, 40, 50, 60, 70, 80, 90])) if 0 < k < width
    ]
    n_rankings = len(model_cfg.get("rankings", ["maxcorr", "meanmaxcorr", "mincorr", "lca"]))
    distinct = len(ks) * (2 * n_rankings + model_cfg.get("random_repeats", 3)) + 2  # k = 0 and k = all once each
    rng = np.random.default_rng(0)
    picks = [rng.choice(width, size=ks[i % len(ks)], replace=False) for i in range(args.selections)]

    evaluate(model, vocab, tokens["test"])  # warm-up
    t0 = time.perf_counter()
    full = []
    for removed in picks:
        mask = torch.ones(width)
        mask[torch.as_tensor(removed)] = 0.0
        full.append(evaluate(model, vocab, tokens["test"], masks={layer: mask}))
    t_full = (time.perf_counter() - t0) / len(picks)
    t0 = time.perf_counter()
    cache = LayerCache(model, vocab, tokens["test"], layer)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = [cache.score(removed) for removed in picks]
    t_fast = (time.perf_counter() - t0) / len(picks)
    same = all(abs(a[m] - b[m]) <= 1e-9 for a, b in zip(full, fast) for m in a)

    n_tok = len(tokens["test"])
    print(
        f"{args.family} ({fam['kind']}, layers {model.layer_dims}), ablated layer {layer} of width {width}; {n_tok} test tokens; {args.threads} thread(s)"
    )
    print(f"full masked re-run:        {t_full:8.3f} s per selection")
    print(f"cache build (one pass):    {t_build:8.3f} s once")
    print(f"from the cached layer:     {t_fast:8.3f} s per selection   speed-up {t_full / t_fast:.1f}x per selection")
    old, new = distinct * t_full, t_build + distinct * t_fast
    print(f"default job ({distinct} distinct selections): {old:.1f} s -> {new:.1f} s   speed-up {old / new:.1f}x")
    print(f"identical scores on the {len(picks)} timed selections: {same}")


if __name__ == "__main__":
    main()
