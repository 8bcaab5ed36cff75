"""The registries, the output-path object and the run plan: one place per concept, and they agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from neurosieve.analysis.correlation import METHODS
from neurosieve.config import ConfigError, load_schema, validate_config
from neurosieve.core.paths import OutputPaths
from neurosieve.core.registry import (
    CORRELATION_RANKINGS,
    FIGURES,
    PROBE_RANKINGS,
    RANKING_NAMES,
    RANKINGS,
    figure,
    ranking,
)
from neurosieve.plan import RunPlan
from neurosieve.report import figures as report_figures

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")


def test_paths_give_concrete_files_and_rule_patterns() -> None:
    p = OutputPaths("out/")
    assert p.activations("bilstm", "seed1", "test") == "out/activations/bilstm/seed1/test.parquet"
    assert p.activations("{family}", "{instance}", "{split}") == "out/activations/{family}/{instance}/{split}.parquet"
    assert p.probe("f", "i", 2, "pos", "metrics") == "out/probing/f/i/layer2/pos/metrics.parquet"
    assert p.probe("f", "i", 2, "pos", "probe.npz") == "out/probing/f/i/layer2/pos/probe.npz"
    assert p.figure("f", "cca_vs_lca", "svg") == "out/figures/f/fig15_cca_vs_lca.svg"
    assert p.log("probing", "f", "layer2", "pos") == "out/logs/probing/f/layer2/pos.log"
    assert p.benchmark("train", "f", "seed1") == "out/benchmarks/train/f/seed1.tsv"


def test_figure_registry_numbers_are_one_to_n_and_captions_take_their_number_from_it() -> None:
    assert [f.number for f in FIGURES] == list(range(1, len(FIGURES) + 1))
    assert len({f.name for f in FIGURES}) == len(FIGURES)
    assert set(report_figures.RENDERERS) == {f.name for f in FIGURES}, "a figure without a drawing, or the reverse"
    for f in FIGURES:
        caption = (ROOT / "workflow/report" / f"{f.name}.rst").read_text()
        assert caption.startswith("**Figure {{ snakemake.params.number }}.**"), f.name
        # no figure number typed by hand anywhere in a caption
        assert not re.search(r"Figure \d", caption), f.name
    assert figure("lambda_grid").stem == "fig13_lambda_grid"


def test_ranking_registry_is_the_one_the_schema_and_the_analysis_use() -> None:
    props = SCHEMA["properties"]["ablation"]["properties"]
    assert props["rankings"]["items"]["enum"] == list(RANKING_NAMES)
    assert props["model"]["properties"]["rankings"]["items"]["enum"] == list(RANKING_NAMES)
    assert METHODS == CORRELATION_RANKINGS
    assert PROBE_RANKINGS == {r.name for r in RANKINGS if r.source == "probe"} and "lca" in PROBE_RANKINGS
    assert ranking("meanmaxcorr").source == "correlation"
    assert set(report_figures.RANKING_LABEL) >= set(RANKING_NAMES)


def _plan(config_file: str) -> RunPlan:
    cfg = validate_config(yaml.safe_load((ROOT / config_file).read_text()), SCHEMA)
    return RunPlan(cfg)


@pytest.mark.parametrize("config_file", [".test/config/config.yaml", "tests/config/workflow.yaml"])
def test_plan_of_the_test_configs_targets_every_supported_figure_once(config_file: str) -> None:
    plan = _plan(config_file)
    targets = plan.final_outputs()
    assert len(targets) == len(set(targets))
    for fam in plan.families:
        names = {f.name for f in plan.figures_for(fam)}
        assert "weights_closed" in names
        assert ("model_ablation" in names) == (fam in plan.correlated and fam in plan.modelled)
        for f in plan.figures_for(fam):
            assert plan.paths.figure(fam, f.name, "png") in targets
            # every input a figure reads is itself a target, or produced on the way to one
            assert all(isinstance(v, str) for v in plan.figure_inputs(f.name, fam).values())
    assert plan.paths.summary("md") in targets


def test_plan_resolves_negative_layers_and_rejects_an_unablated_figure_layer() -> None:
    plan = _plan("config/config.yaml")
    fam = plan.trained[0]
    depth = plan.depth(fam)
    assert plan.chosen_layers(fam, [-1]) == [depth - 1]
    assert plan.fig_layer(fam) == plan.ablated_layers(fam)[-1]
    cfg = dict(plan.config) | {"figures": dict(plan.config["figures"]) | {"layer": 0}}
    bad = RunPlan(cfg)
    try:
        bad.fig_layer(fam)
    except ValueError as exc:
        assert "figures.layer" in str(exc)
    else:
        raise AssertionError("layer 0 is not ablated in the default config")


def test_schema_defaults_are_the_default_run() -> None:
    """One source of defaults: a config holding only the default `families` plans the default run.

    Every key of config/config.yaml other than `families` must equal the schema's default, so a user's
    own config that sets only its families gets the same analysis as the shipped one."""
    full = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    shipped = validate_config(full, SCHEMA)
    families_only = validate_config({"families": full["families"]}, SCHEMA)

    def differences(a: object, b: object, key: str = "") -> list[str]:
        if isinstance(a, dict) and isinstance(b, dict):
            return [
                d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{key}.{k}".strip("."))
            ]
        return [] if a == b else [f"{key}: config.yaml {a!r}, schema default {b!r}"]

    assert differences(shipped, families_only) == []


def test_docs_name_figures_by_the_registry() -> None:
    """docs/methods.md lists every figure with its registry number; every `Figure N (`name`)` in the docs agrees."""
    methods = (ROOT / "docs/methods.md").read_text()
    section = methods[methods.index("## Figures") : methods.index("## Data on disk")]
    listed = [(int(n), name) for n, name in re.findall(r"^(\d+)\. `(\w+)`:", section, flags=re.M)]
    assert listed == [(f.number, f.name) for f in FIGURES]
    mentions = 0
    for doc in ("README.md", "config/README.md", "docs/methods.md"):
        for number, name in re.findall(r"Figure (\d+) \(`(\w+)`", (ROOT / doc).read_text()):
            assert figure(name).number == int(number), f"{doc}: Figure {number} is {name!r}'s number?"
            mentions += 1
    assert mentions >= 10


def _default_with(**changes: object) -> dict:  # type: ignore[type-arg]
    """config/config.yaml with some top-level sections updated (a shallow merge per section)."""
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for section, values in changes.items():
        cfg[section] = {**cfg.get(section, {}), **values}  # type: ignore[dict-item]
    return cfg


BAD_PLANS = [
    ({"probing": {"layers": [5]}}, "config key 'probing.layers': [5] selects no layer of family 'bilstm'"),
    # valid for MiniLM (0, 3, 6), but leaves the BiLSTM (0, 1, 2) with nothing probed
    ({"probing": {"layers": [3]}}, "selects no layer of family 'bilstm' (layers [0, 1, 2]"),
    ({"ablation": {"layers": [3]}}, "config key 'ablation.layers': [3] selects no layer of family 'bilstm'"),
    (
        {"correlation": {"cross_family": {"g": ["bilst:1", "minilm:3"]}}},
        "'correlation.cross_family.g.0': 'bilst:1' names no family",
    ),
    ({"correlation": {"cross_family": {"g": ["bilstm:1", "minilm:2"]}}}, "family 'minilm' has no layer 2"),
    ({"correlation": {"duplicate": "seed7"}}, "config key 'correlation.duplicate': 'seed7' is no instance"),
    ({"figures": {"instance": "seed9"}}, "config key 'figures.instance': 'seed9' is no instance of any family"),
    ({"figures": {"layer": 1}}, "config key 'figures.layer': layer 1 of family 'bilstm' is not probed and ablated"),
    (
        {"data": {"local_dir": "/nonexistent/conll2000"}},
        "config key 'data.local_dir': directory '/nonexistent/conll2000'",
    ),
    ({"data": {"source": "local"}}, "config key 'data.local_dir': required when data.source is 'local'"),
]


@pytest.mark.parametrize(
    ("changes", "message"), BAD_PLANS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_PLANS)]
)
def test_plan_check_names_the_key_and_what_is_valid(changes: dict, message: str) -> None:  # type: ignore[type-arg]
    plan = RunPlan(validate_config(_default_with(**changes), SCHEMA))
    with pytest.raises(ConfigError) as info:
        plan.check()
    assert message in str(info.value)


def test_plan_check_accepts_the_shipped_configs_and_negative_layers(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("config/config.yaml", "config/minilm-finetuned.yaml"):
        _plan(name).check()
    monkeypatch.chdir(ROOT / ".test")  # the test case runs with --directory .test: its sample lies at ../tests/data
    _plan(".test/config/config.yaml").check()
    monkeypatch.chdir(ROOT)
    _plan("tests/config/workflow.yaml").check()
    RunPlan(validate_config(_default_with(probing={"layers": [-1]}, ablation={"layers": [-1]}), SCHEMA)).check()
    (tmp_path / "train.txt.gz").write_bytes(b"")
    (tmp_path / "test.txt").write_text("")
    RunPlan(validate_config(_default_with(data={"local_dir": str(tmp_path)}), SCHEMA)).check()
    (tmp_path / "test.txt").unlink()
    with pytest.raises(ConfigError, match="holds no test.txt.gz / test.txt"):
        RunPlan(validate_config(_default_with(data={"local_dir": str(tmp_path)}), SCHEMA)).check()


def test_transformer_heads_must_divide_the_width() -> None:
    cfg = yaml.safe_load((ROOT / "tests/config/workflow.yaml").read_text())
    fam = next(f for f, c in cfg["families"].items() if c["kind"] == "transformer")
    cfg["families"][fam].setdefault("model", {}).update(hidden_dim=30, num_heads=4)
    with pytest.raises(ConfigError, match=rf"'families.{fam}.model.num_heads': 4 does not divide hidden_dim 30"):
        RunPlan(validate_config(cfg, SCHEMA)).check()


def test_a_bad_plan_stops_the_dry_run_with_one_message_and_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("probing:\n  layers: [5]\n")
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "--configfile", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "neurosieve: invalid configuration:" in run.stderr
    assert "config key 'probing.layers': [5] selects no layer of family 'bilstm'" in run.stderr
    assert "Traceback" not in run.stderr and 'File "' not in run.stderr


def test_every_probe_ranking_of_the_registry_has_its_function() -> None:
    from neurosieve.analysis.probing import PROBE_RANKING_FUNCTIONS, PROBE_RANKING_ORDER

    assert set(PROBE_RANKING_FUNCTIONS) == PROBE_RANKINGS
    assert PROBE_RANKING_ORDER == tuple(r for r in RANKING_NAMES if r in PROBE_RANKINGS)


def test_figure_layer_and_instance_per_family_and_from_the_top() -> None:
    """One integer cannot fit a BiLSTM (layers 0-2) and MiniLM (0, 3, 6): -1 or a mapping can."""
    top = RunPlan(validate_config(_default_with(figures={"layer": -1}), SCHEMA))
    top.check()
    assert top.fig_layer("bilstm") == 2 and top.fig_layer("minilm") == 6
    per = RunPlan(
        validate_config(
            _default_with(figures={"layer": {"bilstm": 2, "minilm": 6}, "instance": {"bilstm": "seed3"}}), SCHEMA
        )
    )
    per.check()
    assert per.fig_layer("minilm") == 6 and per.fig_instance("bilstm") == "seed3"
    assert per.fig_instance("minilm") == per.instances("minilm")[0]
    for figures, message in (
        ({"layer": {"bilstm": 1}}, "config key 'figures.layer.bilstm': layer 1 of family 'bilstm'"),
        ({"layer": {"bilst": 2}}, "config key 'figures.layer.bilst': no such family"),
        ({"instance": {"bilstm": "seed9"}}, "config key 'figures.instance.bilstm': 'seed9' is no instance"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            RunPlan(validate_config(_default_with(figures=figures), SCHEMA)).check()


def test_a_new_figure_is_one_registry_entry_plus_its_drawing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A figure added to the registry gets its job's inputs and settings from the entry, and render draws it
    through its registered function: no plan or render code names it."""
    import pandas as pd

    from neurosieve.core import registry
    from neurosieve.settings import FigureSettings
    from neurosieve.store.io import write_parquet

    new = registry.Figure(
        len(FIGURES) + 1, "label_counts", "Probing (LCA)", "probe", "labels by count", ("labels",), ("property",)
    )
    monkeypatch.setattr(registry, "FIGURES", (*FIGURES, new))
    monkeypatch.setattr("neurosieve.plan.FIGURES", (*FIGURES, new))
    plan = _plan("tests/config/workflow.yaml")
    fam = plan.trained[0]
    assert new in plan.figures_for(fam)
    assert plan.paths.figure(fam, "label_counts", "png") in plan.final_outputs()
    inst, layer, prop = plan.fig_instance(fam), plan.fig_layer(fam), plan.figures["property"]
    assert plan.figure_inputs("label_counts", fam) == {"labels": plan.paths.probe(fam, inst, layer, prop, "labels")}
    params = plan.figure_settings("label_counts", fam)
    assert params["property"] == prop and all(v is None for k, v in params.items() if k != "property")

    drawn = {}

    def label_counts(inputs, s):  # type: ignore[no-untyped-def]
        drawn.update(table=pd.read_parquet(inputs["labels"]), property=s.property)
        return report_figures.plt.figure()

    monkeypatch.setattr(report_figures, "RENDERERS", dict(report_figures.RENDERERS))
    report_figures.renders("label_counts")(label_counts)
    write_parquet(pd.DataFrame({"label": ["NN"], "train_count": [3]}), tmp_path / "labels.parquet")
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    report_figures.render(
        "label_counts", {"labels": str(tmp_path / "labels.parquet")}, FigureSettings.from_params(params), png, svg
    )
    assert drawn["property"] == prop and list(drawn["table"]["label"]) == ["NN"]
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    with pytest.raises(ValueError, match="unknown tables or settings"):
        registry.Figure(99, "bad", "Ablation", "probe", "t", ("no_such_table",))


#: Rules whose params still read config values outside a settings object: the probing rules belong to the
#: probe-solver work (their scripts are being changed), and the ablation rules' device and rankings are next.
PARAMS_NOT_YET_SETTINGS: set[str] = set()
RAW_CONFIG = re.compile(r"\b(config|FAMILIES|PROBE|ABL|CORR|FIG|CORPUS)\[")


def rule_params() -> dict[str, str]:
    """Every rule's ``params:`` block in workflow/rules/*.smk, by rule name (the text of the block)."""
    out: dict[str, str] = {}
    for smk in sorted((ROOT / "workflow/rules").glob("*.smk")):
        rule, block, indent = None, None, 0
        for line in smk.read_text().splitlines():
            stripped = line.strip()
            depth = len(line) - len(line.lstrip())
            if m := re.match(r"(?:rule|checkpoint)\s+(\w+)\s*:", stripped):
                rule = m.group(1)
            elif re.match(r"name:", stripped) and rule is None:
                rule = "figure_*"
            if block is not None:
                if stripped and depth <= indent:
                    out[rule or "?"] = "\n".join(block)
                    block = None
                else:
                    block.append(line)
            if stripped == "params:":
                block, indent = [], depth
        if block is not None:
            out[rule or "?"] = "\n".join(block)
    return out


def test_rule_params_hold_settings_objects_not_config_values() -> None:
    """A rule passes what its job reads of the config as one ``settings=`` param (a settings object's params);
    its other params are paths, registry entries or identifiers from the wildcards, never a config value."""
    params = rule_params()
    assert {"train", "finetune", "activations_trained", "figure_*", "describe_neurons", "token_table"} <= set(params)
    raw = {rule for rule, text in params.items() if RAW_CONFIG.search(text)}
    assert raw <= PARAMS_NOT_YET_SETTINGS, f"config values spelled in a rule's params: {sorted(raw)}"
    for rule, text in params.items():
        if rule not in PARAMS_NOT_YET_SETTINGS and "settings" in text:
            assert re.search(r"settings=.*(settings\.\w+\.params\(|PLAN\.figure_settings\()", text, re.S), rule


def test_correlation_ranks_on_train_tokens_by_default() -> None:
    """Rankings from train tokens, scored by model ablation on test tokens: no token is used for both."""
    plan = _plan("config/config.yaml")
    members = plan.corr_inputs("bilstm")
    assert members and all(str(m).endswith("train.parquet") for m in members)
    test = RunPlan(validate_config(_default_with(correlation={"split": "test"}), SCHEMA))
    assert all(str(m).endswith("test.parquet") for m in test.corr_inputs("bilstm"))


def test_model_rankings_only_in_model_ablation_of_trained_families() -> None:
    plan = _plan("config/config.yaml")
    assert {"head_weight", "single_neuron"} <= set(plan.ablation_rankings("bilstm", "model"))
    assert not {"head_weight", "single_neuron"} & set(plan.ablation_rankings("minilm", "model"))
    assert "scores" in plan.ranking_inputs("bilstm", "seed1", 2, "pos", "model")
    bad = RunPlan(validate_config(_default_with(ablation={"rankings": ["lca", "head_weight"]}), SCHEMA))
    with pytest.raises(ConfigError, match="ablation.rankings.*head_weight.*model ablation"):
        bad.check()


def test_chunk_lca_reads_the_chunk_probe_and_model_ablation_covers_the_middle_layer() -> None:
    """The positive control reads the chunk probe of the same instance and layer; model ablation runs on the
    BiLSTM's middle and top layers (ablation.model.layers -2 besides ablation.layers -1), probe ablation on the top."""
    plan = _plan("config/config.yaml")
    assert "chunk_lca" in plan.ablation_rankings("bilstm", "model")
    assert "chunk_lca" not in plan.ablation_rankings("minilm", "model")
    inputs = plan.ranking_inputs("bilstm", "seed1", 1, "pos", "model")
    assert inputs["chunk_orderings"] == plan.paths.probe("bilstm", "seed1", 1, "chunk", "orderings")
    assert "chunk_orderings" not in plan.ranking_inputs("bilstm", "seed1", 2, "pos", "probe")
    # The chunk probe's per-token correctness is compared with the tagger's at the top layer (the head's input) only.
    assert "chunk_tokens" not in inputs
    top = plan.ranking_inputs("bilstm", "seed1", 2, "pos", "model")
    assert top["chunk_tokens"] == plan.paths.probe("bilstm", "seed1", 2, "chunk", "tokens")
    assert plan.model_ablated_layers("bilstm") == [1, 2] and plan.ablated_layers("bilstm") == [2]
    curves = plan.ablation_curves("bilstm")
    assert plan.paths.model_ablation("bilstm", "seed3", 1) in curves
    assert plan.paths.probe_ablation("bilstm", "seed3", 2, "pos") in curves
    assert plan.paths.probe_ablation("bilstm", "seed3", 1, "pos") not in curves
    only_top = RunPlan(validate_config(_default_with(ablation={"model": {"layers": []}}), SCHEMA))
    assert only_top.model_ablated_layers("bilstm") == [2]
    no_chunk = RunPlan(validate_config(_default_with(probing={"properties": ["pos"]}), SCHEMA))
    with pytest.raises(ConfigError, match="ablation.model.rankings.*chunk_lca.*probing.properties"):
        no_chunk.check()
    bad = RunPlan(validate_config(_default_with(ablation={"rankings": ["lca", "chunk_lca"]}), SCHEMA))
    with pytest.raises(ConfigError, match="ablation.rankings.*chunk_lca.*model ablation"):
        bad.check()


def test_the_all_layers_pool_is_planned_for_every_instance_and_checked() -> None:
    plan = _plan("config/config.yaml")
    pools = plan.pool_ablations("bilstm")
    assert pools == [plan.paths.pool_ablation("bilstm", f"seed{s}", "pos") for s in range(1, 6)]
    assert set(pools) <= set(plan.final_outputs()) and plan.summary_family("bilstm")["pool"] == pools
    assert plan.ablation_rankings("bilstm", "pool") == ["lca", "lca_std", "activation_sd"]
    # The pool's all-layer probe also draws Figure 14 (where the top neurons of one ordering over the model sit).
    assert "top_neurons_by_layer" in [f.name for f in plan.figures_for("bilstm")]
    off = RunPlan(validate_config(_default_with(ablation={"pool": {"enabled": False}}), SCHEMA))
    assert off.pool_ablations("bilstm") == [] and not any("all_layers" in p for p in off.final_outputs())
    assert "top_neurons_by_layer" not in [f.name for f in off.figures_for("bilstm")]
    bad = RunPlan(validate_config(_default_with(ablation={"pool": {"rankings": ["lca", "maxcorr"]}}), SCHEMA))
    with pytest.raises(ConfigError, match="ablation.pool.rankings.*maxcorr.*not probe rankings"):
        bad.check()


def test_pool_jobs_ask_for_the_memory_of_every_layer_as_stored() -> None:
    """The all-layer probe and the pool's ablation hold both splits' every layer at once, at the files' precision:
    their memory request grows with the activation files instead of a fixed 6-8 GB that the BERT config's pool
    (13 x 768 neurons, 5.2 GB as float16) would overrun on every retry."""
    plan32 = RunPlan(validate_config(_default_with(), SCHEMA))
    plan16 = RunPlan(validate_config(_default_with(activations={"dtype": "float16"}), SCHEMA))
    assert plan32.pool_memory_mb(400, base=6000, copies=1.5) == 6000  # the default run's pools: the base
    assert plan32.pool_memory_mb(10_000, base=6000, copies=1.5) == 15_000
    assert plan16.pool_memory_mb(5_000, base=6000, copies=1.5) == 7_500  # a float16 pool stays float16 in memory
    smk = (ROOT / "workflow/rules/probing.smk").read_text() + (ROOT / "workflow/rules/ablation.smk").read_text()
    for rule in ("probe_all_layers", "pool_ablation"):
        block = smk[smk.index(f"rule {rule}:") :].split("\nrule ")[0]
        assert "mem_mb=pool_mem_mb(" in block, rule


def test_the_cka_job_asks_for_its_sample_not_every_token(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With correlation.cka_tokens the similarity job holds the family's sampled rows (and one layer being read),
    not one instance's every token: at bert-base's shape 4.4 GB instead of 12.1 GB; without a sample, or with
    one as large as the split, it asks what it did."""
    import pandas as pd

    from neurosieve.store.activations import row_count

    plan = RunPlan(validate_config(_default_with(), SCHEMA))
    files = [4034.0] * 6  # six float16 train files of 211,727 tokens x 13 x 768
    assert plan.similarity_memory_mb(files, 13, 211_727, None) == 12_102
    assert plan.similarity_memory_mb(files, 13, 211_727, 20_000) == 4_360
    assert plan.similarity_memory_mb(files, 13, 211_727, 300_000) == 12_102
    assert plan.similarity_memory_mb([100.0, 100.0], 3, 5_000, 1_000) == 4_000  # small families: the base
    path = tmp_path / "acts.parquet"
    pd.DataFrame({"sentence": [0, 0, 1], "layer_0": [[0.0], [1.0], [2.0]]}).to_parquet(path)
    assert row_count(path) == 3
    # What the rule asks: the token count from the file's footer, the layers from the plan, the sample from config.
    sampled = RunPlan(validate_config(_default_with(correlation={"cka_tokens": 1}), SCHEMA))
    layers = len(sampled.layers("bilstm"))
    assert sampled.similarity_request_mb("bilstm", [str(path)], [90_000.0]) == sampled.similarity_memory_mb(
        [90_000.0], layers, 3, 1
    )
    assert sampled.similarity_request_mb("bilstm", [str(path)], [90_000.0]) < plan.similarity_request_mb(
        "bilstm", [str(path)], [90_000.0]
    )
    smk = (ROOT / "workflow/rules/correlation.smk").read_text()
    assert "mem_mb=similarity_mem_mb" in smk[smk.index("rule similarity:") :].split("\nrule ")[0]
