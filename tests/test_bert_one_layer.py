"""benchmarks/bert_one_layer.py: each benchmark record the rules write is counted under its rule, and a run's
measured cost is set beside the projection of the same jobs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml

from neurosieve.config import load_schema, validate_config
from neurosieve.core.paths import OutputPaths

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bert_one_layer", ROOT / "benchmarks/bert_one_layer.py")
assert spec and spec.loader
bert_one_layer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bert_one_layer)


def test_every_record_the_rules_write_is_counted_under_its_rule() -> None:
    p = OutputPaths("results")

    def rel(path: str) -> str:
        return Path(path).relative_to("results/benchmarks").as_posix()

    expected = {
        p.benchmark("activations", "bert", "multiberts-seed_0", "train"): "activations_pretrained",
        p.benchmark("activations", "bert", "untrained", "test"): "activations_pretrained",
        p.benchmark("probing", "bert", "lambdas", "layer1", "pos"): "select_lambdas",
        p.benchmark("probing", "bert", "bert-base-uncased", "layer0", "chunk"): "probe",
        p.benchmark("probing", "bert", "bert-base-uncased", "all_layers", "pos"): "probe_all_layers",
        p.benchmark("ablation", "probe", "bert", "bert-base-uncased", "layer1", "pos"): "probe_ablation",
        p.benchmark("ablation", "probe", "bert", "bert-base-uncased", "all_layers", "pos"): "pool_ablation",
        p.benchmark("ablation", "model", "bilstm", "seed1", "layer2"): "model_ablation",
        p.benchmark("correlation", "bert", "layer1"): "correlation",
        p.benchmark("correlation", "bilstm", "layer2", "twin"): "twin_correlation",
        p.benchmark("similarity", "bert"): "similarity",
    }
    assert {rel(k): bert_one_layer.rule_of(rel(k)) for k in expected} == {rel(k): v for k, v in expected.items()}


def test_run_config_is_the_shipped_bert_config_on_the_cpu_with_its_layers(tmp_path: Path) -> None:
    cfg = bert_one_layer.run_config(tmp_path, layers=1)
    shipped = yaml.safe_load((ROOT / "config/bert-base-uncased.yaml").read_text())
    assert cfg["families"]["bert"]["models"] == shipped["families"]["bert"]["models"]
    assert cfg["families"]["bert"]["num_layers"] == 1 and cfg["families"]["bert"]["device"] == "cpu"
    assert cfg["probing"]["probe"]["device"] == "cpu" and cfg["data"]["local_dir"] == str(tmp_path)
    assert cfg["ablation"] == shipped["ablation"]
    validate_config(cfg, load_schema(ROOT / "workflow/schemas/config.schema.yaml"))  # raises if invalid


def test_measured_jobs_beside_the_projection_of_the_same_jobs() -> None:
    jobs = pd.DataFrame(
        [
            ("activations/bert/a/train.tsv", "activations_pretrained", "train", 30.0, 200.0),
            ("activations/bert/a/test.tsv", "activations_pretrained", "test", 8.0, 300.0),
            ("probing/bert/a/layer0/pos.tsv", "probe", "", 11.0, 1000.0),
            ("probing/bert/a/layer1/pos.tsv", "probe", "", 13.0, 9000.0),
            ("similarity/bert.tsv", "similarity", "", 1.0, 100.0),
        ],
        columns=["job", "rule", "split", "cpu", "max_rss_mb"],
    )
    projection = {
        "planned": {"activations_pretrained": 2, "probe": 2},
        "devices": {
            "cpu": {
                "per_job_seconds": {"activations_pretrained": 20.0, "probe": 10.0},
                "per_sentence_seconds": 0.01,
                "peak_mb": {"activations_pretrained": 250.0, "probe": 1200.0},
            }
        },
    }
    table = bert_one_layer.set_beside(jobs, projection, {"train": 3000, "test": 1000})
    assert table.loc["activations_pretrained", "projected CPU-s"] == pytest.approx(40.0)  # 30 + 10 sentence-costs
    assert table.loc["probe", "projected CPU-s"] == pytest.approx(20.0)
    assert table.loc["probe", "peak MB"] == 9000.0
    assert table.loc["total", "measured CPU-s"] == pytest.approx(62.0)  # similarity is not a projected rule
    assert table.loc["total", "measured / projected"] == pytest.approx(62.0 / 60.0)
    assert table.loc["total", "peak MB"] == 9000.0 and table.loc["total", "projected peak MB"] == 1200.0
