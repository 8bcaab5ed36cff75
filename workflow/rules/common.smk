# Shared setup: config validation (before any job runs), output paths, and instance lists.
import json
from pathlib import Path

# Light imports only (jsonschema, yaml): parsing needs no torch, transformers or hub access.
from neurosieve.config import (
    FINETUNED_KIND,
    TRAINED_KINDS,
    LayersUnknown,
    common_depth,
    family_depth,
    corpus_columns,
    family_layers,
    instance_model,
    instance_seed,
    instance_seeds,
    instances,
    load_schema,
    twin_instance,
    validate_config,
)
from neurosieve.core.runtime import local_gpu_count
from neurosieve.store.corpus import is_url

_validated = validate_config(
    config, load_schema(workflow.source_path("../schemas/config.schema.yaml"))
)
config.clear()
config.update(_validated)

OUT = config["outdir"]
FAMILIES = config["families"]
TRAINED = [f for f, c in FAMILIES.items() if c["kind"] in TRAINED_KINDS]
PRETRAINED = [f for f, c in FAMILIES.items() if c["kind"] == "pretrained"]
FINETUNED = [f for f, c in FAMILIES.items() if c["kind"] == FINETUNED_KIND]
# Families with a model saved here (trained or fine-tuned): activations from it, model ablation of it.
MODELLED = TRAINED + FINETUNED
SPLITS = ["train", "test"]
# Families whose instances can be correlated with each other (at least two instances).
CORRELATED = [f for f in FAMILIES if len(instances(FAMILIES[f])) >= 2]


class FamilyLayers:
    """LAYERS[family]: a family's activation layers, from the config or the model files on disk.

    A hub model not on disk yet is asked of the model_info checkpoint (fetched once on the
    head node), so only input functions may look such a family up.
    """

    def depth(self, family):
        try:
            return family_depth(FAMILIES[family])
        except LayersUnknown:
            counts = []
            for inst in family_instances(family):
                job = checkpoints.model_info.get(family=family, instance=inst)
                counts.append(read_model_info(job.output[0])["layers"])
            return common_depth(counts)

    def __getitem__(self, family):
        return family_layers(FAMILIES[family], self.depth(family))


def read_model_info(path):
    with open(path) as f:
        return json.load(f)


LAYERS = FamilyLayers()


def chosen_layers(family, wanted):
    """The family's layers among ``wanted`` (None: all; a negative index counts from the top, -1 = the last)."""
    if wanted is None:
        return LAYERS[family]
    resolved = {l if l >= 0 else LAYERS.depth(family) + l for l in wanted}
    return [l for l in LAYERS[family] if l in resolved]


# A user's own column-format corpus (data.corpus), or None for CoNLL-2000.
CORPUS = config["data"]["corpus"]


def alternation(names):
    """A wildcard constraint matching exactly these names (and nothing when there are none)."""
    return "|".join(names) if names else "(?!)"


# Run locally, GPU jobs share the GPUs present (a --resources gpu=N given by hand wins).
if (
    workflow.local_exec
    and not workflow.dryrun
    and "gpu" not in workflow.global_resources
):
    workflow.global_resources["gpu"] = local_gpu_count()


wildcard_constraints:
    split="train|test",
    instance="[A-Za-z0-9_.-]+",


def family_instances(family):
    return instances(FAMILIES[family])


# --- software environments and cluster resources ---


def family_uses_gpu(family):
    """A family's jobs ask the scheduler for a GPU when its device is cuda, or auto with gpu.request_for_auto."""
    device = FAMILIES[family]["device"]
    return device == "cuda" or (device == "auto" and config["gpu"]["request_for_auto"])


def family_gpu(wildcards):
    return int(family_uses_gpu(wildcards.family))


def family_torch_env(wildcards):
    """The CUDA build of the model environment for jobs that get a GPU, else the CPU build."""
    if family_uses_gpu(wildcards.family):
        return "../../envs/torch-cuda.yaml"
    return "../../envs/torch.yaml"


def probe_gpu(wildcards):
    return int(config["probing"]["probe"]["device"] == "cuda")


def probe_env(wildcards):
    """Probes fitted on a GPU need the CUDA build of PyTorch."""
    if config["probing"]["probe"]["device"] == "cuda":
        return "../../envs/torch-cuda.yaml"
    return "../../envs/analysis.yaml"


def layer_mem_mb(base, copies):
    """A memory request that grows with the activation files a job reads one layer of.

    max(base, copies x (input size / layers)) MB, times the attempt number. Activation
    files hold every layer; a job reading one layer holds about that share in memory,
    times the copies its computation makes.
    """

    def mem_mb(wildcards, input, attempt):
        per_layer = input.size_mb / max(1, len(LAYERS[wildcards.family]))
        return int(max(base, copies * per_layer) * attempt)

    return mem_mb


def activation_output(path):
    """Activation files are kept for reuse unless activations.keep is false (then temp())."""
    return path if config["activations"]["keep"] else temp(path)


def final_outputs():
    """Every target of the default run."""
    out = expand(f"{OUT}/data/{{split}}.parquet", split=SPLITS)
    for fam in MODELLED:
        out += expand(
            f"{OUT}/models/{fam}/{{inst}}/metrics.json", inst=family_instances(fam)
        )
    for fam in FAMILIES:
        if config["activations"]["keep"]:
            out += expand(
                f"{OUT}/activations/{fam}/{{inst}}/{{split}}.parquet",
                inst=family_instances(fam),
                split=SPLITS,
            )
        if config["correlation"]["cka"]:
            out.append(f"{OUT}/similarity/{fam}/cka.parquet")
    for fam in CORRELATED:
        out += expand(
            f"{OUT}/correlation/{fam}/layer{{layer}}/scores.parquet", layer=LAYERS[fam]
        )
    for fam in FAMILIES:
        for inst in family_instances(fam):
            for layer in probed_layers(fam):
                out += expand(
                    f"{probe_dir(fam, inst, layer, '{prop}')}/metrics.parquet",
                    prop=config["probing"]["properties"],
                )
    if PROBE["all_layers"]:
        for fam in FAMILIES:
            out += expand(
                f"{OUT}/probing/{fam}/{{inst}}/all_layers/{{prop}}/by_layer.parquet",
                inst=family_instances(fam),
                prop=PROBE["properties"],
            )
    for fam in FAMILIES:
        if family_ablation_curves(fam):
            out.append(f"{OUT}/ablation/{fam}/spread.parquet")
        out += [
            figure_path(fam, name, ext)
            for name in figures_for(fam)
            for ext in ("png", "svg")
        ]
    for fam in CORRELATED:
        out += [overlap_path(fam, layer) for layer in probed_layers(fam)]
    for fam in FAMILIES:
        for inst in family_instances(fam):
            out += [neurons_path(fam, inst, layer) for layer in probed_layers(fam)]
    out += [f"{OUT}/summary/summary.{ext}" for ext in ("md", "csv", "html")]
    for group in config["correlation"]["cross_family"]:
        out.append(f"{OUT}/correlation/cross/{group}/scores.parquet")
    out += twin_outputs()
    return out


# --- correlation stage ---

CORR = config["correlation"]


def corr_inputs(family):
    return [
        f"{OUT}/activations/{family}/{inst}/{CORR['split']}.parquet"
        for inst in family_instances(family)
    ]


# --- near-twin experiment ---


def family_twin(family):
    """The family's near-twin instance name, or None (only trained families with several instances have one)."""
    return twin_instance(FAMILIES[family]) if family in CORRELATED else None


TWINNED = [f for f in FAMILIES if family_twin(f)]


def twin_dir(family, layer):
    return f"{OUT}/correlation/{family}/layer{layer}/twin"


def twin_inputs(family):
    return {
        "family": corr_inputs(family),
        "twin": f"{OUT}/activations/{family}/{family_twin(family)}/{CORR['split']}.parquet",
    }


def twin_ablation_paths(family, layers=None):
    """With-twin model-ablation curves: every instance and the twin, every ablated layer (or ``layers``)."""
    if family not in TWINNED or not ABL["model"]["enabled"]:
        return []
    return [
        f"{OUT}/ablation/twin/{family}/{inst}/layer{layer}.parquet"
        for inst in [*family_instances(family), family_twin(family)]
        for layer in (ablated_layers(family) if layers is None else layers)
    ]


def twin_outputs():
    out = []
    for fam in TWINNED:
        out += [f"{twin_dir(fam, l)}/change.parquet" for l in ablated_layers(fam)]
        out += twin_ablation_paths(fam)
    return out


def cross_family_members(group):
    """(name, activation file, layer) of every instance of a cross-family group."""
    members = []
    for member in CORR["cross_family"][group]:
        fam, layer = member.split(":")
        for inst in family_instances(fam):
            path = f"{OUT}/activations/{fam}/{inst}/{CORR['split']}.parquet"
            members.append((f"{fam}/{inst}", path, int(layer)))
    return members


# --- probing stage ---

PROBE = config["probing"]


PROBE_TABLES = ["metrics", "orderings", "weights", "labels"]


def probed_layers(family):
    return chosen_layers(family, PROBE["layers"])


def probe_dir(family, instance, layer, prop):
    return f"{OUT}/probing/{family}/{instance}/layer{layer}/{prop}"


def probe_lambdas(w):
    if PROBE["grid"]:
        return {
            "lambdas": f"{OUT}/probing/{w.family}/lambdas/layer{w.layer}/{w.prop}.parquet"
        }
    return {}


# The untrained-model baseline is probed as an extra instance of each family.
UNTRAINED = "untrained"


def untrained_enabled():
    return PROBE["untrained"]["enabled"]


def pretrained_spec(family, instance):
    """The model spec of a pretrained (or fine-tuned) instance; the untrained baseline uses the config of the
    family's first model (a fine-tuned family: of the encoder it fine-tunes)."""
    if family in FINETUNED:
        return FAMILIES[family]["model"]
    if instance == UNTRAINED:
        return FAMILIES[family]["models"][0]
    return instance_model(FAMILIES[family], instance)


def tagger_spec(w):
    """A trained instance's model.json (its vocabulary); nothing for pretrained families."""
    if w.family in TRAINED:
        return {"model_spec": f"{OUT}/models/{w.family}/{w.instance}/model.json"}
    return {}


def model_inputs(w):
    """Inputs a probe needs besides activations: lambdas, the tagger's vocabulary, the untrained baseline."""
    out = {**probe_lambdas(w), **tagger_spec(w)}
    if untrained_enabled() and w.instance != UNTRAINED:
        out["untrained"] = (
            f"{probe_dir(w.family, UNTRAINED, w.layer, w.prop)}/metrics.parquet"
        )
    if PROBE["unk_training"] and w.family in TRAINED:
        out["train_unk"] = (
            f"{OUT}/activations/{w.family}/{w.instance}/train_unk.parquet"
        )
    return out


def model_source_param(w):
    """The pretrained model spec whose tokenizer gives the input keys (None for trained families)."""
    if w.family in PRETRAINED or w.family in FINETUNED:
        return pretrained_spec(w.family, w.instance)
    return None


def probing_summary_keys(family):
    return [
        (inst, layer, prop)
        for inst in family_instances(family)
        for layer in probed_layers(family)
        for prop in PROBE["properties"]
    ]


# --- ablation stage ---

ABL = config["ablation"]


PROBE_RANKINGS = {"lca", "probeless", "random"}


def ablated_layers(family):
    chosen = chosen_layers(family, ABL["layers"])
    return [l for l in probed_layers(family) if l in chosen]


def ablation_rankings(family, wanted):
    """The requested rankings this family has: correlation rankings need several instances."""
    return [r for r in wanted if r in PROBE_RANKINGS or family in CORRELATED]


def ranking_inputs(family, instance, layer, prop, wanted):
    out = {}
    rankings = ablation_rankings(family, wanted)
    if any(r in PROBE_RANKINGS for r in rankings):
        out["orderings"] = (
            f"{probe_dir(family, instance, layer, prop)}/orderings.parquet"
        )
    if any(r not in PROBE_RANKINGS for r in rankings):
        out["scores"] = f"{OUT}/correlation/{family}/layer{layer}/scores.parquet"
    return out


def fill_inputs(family, instance):
    """Mean ablation replaces a neuron by its mean over the training tokens: it needs the train activations."""
    if "mean" in ABL["model"]["fills"]:
        return {"train": f"{OUT}/activations/{family}/{instance}/train.parquet"}
    return {}


def family_ablation_curves(family):
    out = []
    for inst in family_instances(family):
        for layer in ablated_layers(family):
            out += [
                f"{OUT}/ablation/probe/{family}/{inst}/layer{layer}/{prop}.parquet"
                for prop in ABL["properties"]
            ]
            if ABL["model"]["enabled"] and family in MODELLED:
                out.append(f"{OUT}/ablation/model/{family}/{inst}/layer{layer}.parquet")
    return out


# --- figures stage ---

FIG = config["figures"]


# name: (number, report category, needs)
#   needs: "probe" (any family), "corr" (several instances), "model" (trained and several instances)
FIGURES = {
    "weights_closed": (1, "Probing (LCA)", "probe"),
    "weights_open": (2, "Probing (LCA)", "probe"),
    "accuracy_vs_kept": (3, "Ablation", "probe"),
    "model_ablation": (4, "Ablation", "model"),
    "ranking_scores": (5, "Correlation (CCA)", "corr"),
    "stability": (6, "Correlation (CCA)", "model"),
    "mask_vs_retrain": (7, "Ablation", "probe"),
    "neurons_per_label": (8, "Probing (LCA)", "probe"),
    "top_neurons": (9, "Probing (LCA)", "probe"),
    "similarity": (10, "Correlation (CCA)", "probe"),
    "probe_accuracy_by_layer": (11, "Probing (LCA)", "probe"),
    "reference_instance": (12, "Correlation (CCA)", "model"),
    "lambda_grid": (13, "Probing (LCA)", "grid"),
    "top_neurons_by_layer": (14, "Probing (LCA)", "all_layers"),
    "cca_vs_lca": (15, "Correlation (CCA)", "corr"),
}


def fig_instance(family):
    names = family_instances(family)
    return FIG["instance"] if FIG["instance"] in names else names[0]


def fig_layer(family):
    layers = ablated_layers(family)
    if FIG["layer"] is None:
        return layers[-1]
    if FIG["layer"] not in layers:
        raise ValueError(
            f"config key 'figures.layer': layer {FIG['layer']} of family {family!r} is not "
            f"probed and ablated (ablated layers: {layers})"
        )
    return FIG["layer"]


if FIG["property"] not in ABL["properties"]:
    raise ValueError(
        f"config key 'figures.property': {FIG['property']!r} must be one of ablation.properties {ABL['properties']}"
    )


def figures_for(family):
    """The figures a family supports."""
    ok = {"probe"}
    if PROBE["grid"]:
        ok.add("grid")
    if PROBE["all_layers"]:
        ok.add("all_layers")
    if family in CORRELATED:
        ok.add("corr")
        if family in MODELLED and ABL["model"]["enabled"]:
            ok.add("model")
    return [name for name, (_, _, need) in FIGURES.items() if need in ok]


def figure_path(family, name, ext):
    return f"{OUT}/figures/{family}/fig{FIGURES[name][0]:02d}_{name}.{ext}"


def figure_inputs(name, family):
    inst, layer = fig_instance(family), fig_layer(family)
    pdir = probe_dir(family, inst, layer, FIG["property"])
    curves = f"{OUT}/ablation/{family}/curves.parquet"
    corr = f"{OUT}/correlation/{family}/layer{layer}"
    return {
        "weights_closed": {"weights": f"{pdir}/weights.parquet"},
        "weights_open": {"weights": f"{pdir}/weights.parquet"},
        "accuracy_vs_kept": {"curves": curves},
        "model_ablation": {"curves": curves},
        "ranking_scores": {"scores": f"{corr}/scores.parquet"},
        "stability": {"curves": curves, "duplicate": f"{corr}/duplicate.parquet"},
        "mask_vs_retrain": {"curves": curves},
        "neurons_per_label": {"labels": f"{pdir}/labels.parquet"},
        "top_neurons": {
            "activations": f"{OUT}/activations/{family}/{inst}/test.parquet",
            "orderings": f"{pdir}/orderings.parquet",
            "neurons": neurons_path(family, inst, layer),
        },
        "similarity": {"cka": f"{OUT}/similarity/{family}/cka.parquet"},
        "probe_accuracy_by_layer": {
            "metrics": f"{OUT}/probing/{family}/summary.parquet"
        },
        "reference_instance": {
            "curves": curves,
            "scores": f"{corr}/scores.parquet",
            "pairs": f"{corr}/pairs.parquet",
        },
        "lambda_grid": {
            "grid": f"{OUT}/probing/{family}/lambdas/layer{layer}/{FIG['property']}.parquet"
        },
        "top_neurons_by_layer": {
            "by_layer": f"{OUT}/probing/{family}/{inst}/all_layers/{FIG['property']}/by_layer.parquet"
        },
        "cca_vs_lca": {"overlap": overlap_path(family, layer)},
    }[name]


def figure_settings(name, family):
    return {
        "layer": fig_layer(family),
        "property": FIG["property"],
        "label": FIG["closed_label"] if name == "weights_closed" else FIG["open_label"],
        "salient_fraction": PROBE["salient_fraction"],
        "rankings": ablation_rankings(family, ABL["model"]["rankings"]),
        "sentences": FIG["sentences"],
        "top_neurons": FIG["top_neurons"],
        "methods": [
            r
            for r in ablation_rankings(family, ABL["model"]["rankings"])
            if r not in PROBE_RANKINGS
        ],
    }


# --- summary stage ---


def summary_family(family):
    """The tables the summary reads for one family (only those the family has)."""
    inst, layer, prop = fig_instance(family), fig_layer(family), FIG["property"]
    entry = {
        "name": family,
        "layer": layer,
        "property": prop,
        "probing": f"{OUT}/probing/{family}/summary.parquet",
        "curves": f"{OUT}/ablation/{family}/curves.parquet",
        "labels": f"{probe_dir(family, inst, layer, prop)}/labels.parquet",
        "train_metrics": [],
    }
    if family in MODELLED:
        entry["train_metrics"] = [
            f"{OUT}/models/{family}/{i}/metrics.json" for i in family_instances(family)
        ]
    if family in CORRELATED:
        corr = f"{OUT}/correlation/{family}/layer{layer}"
        entry.update(
            duplicate=f"{corr}/duplicate.parquet",
            stability=f"{corr}/stability.parquet",
            scores=f"{corr}/scores.parquet",
            pairs=f"{corr}/pairs.parquet",
            overlap=[overlap_path(family, l) for l in probed_layers(family)],
        )
    if family in TWINNED:
        entry["twin"] = family_twin(family)
        entry["twin_change"] = f"{twin_dir(family, layer)}/change.parquet"
        entry["twin_curves"] = twin_ablation_paths(family, [layer])
        if family in TRAINED:
            entry["twin_metrics"] = (
                f"{OUT}/models/{family}/{family_twin(family)}/metrics.json"
            )
    entry["neurons"] = neurons_path(family, inst, layer)
    return entry


def summary_inputs():
    files = []
    for fam in FAMILIES:
        for key, value in summary_family(fam).items():
            if key in ("name", "layer", "property", "twin"):
                continue
            files += value if isinstance(value, list) else [value]
    return files


# --- provenance of the package's code ---


def add_package_code_params(workflow):
    """Add a `package_code` param to each script-based rule (the digest of the package modules its script uses)."""
    from neurosieve.core.dependencies import code_digest

    package_dir = _SRC / "neurosieve"
    if (
        not package_dir.is_dir()
    ):  # a remote workflow: the installed package's own source
        import neurosieve

        package_dir = Path(neurosieve.__file__).parent
    for r in workflow.rules:
        if r.script:
            script = r.basedir.join(r.script).get_path_or_uri(secret_free=True)
            r.set_params(package_code=code_digest(script, package_dir))


# --- CCA against LCA ---

OVERLAP = config["overlap"]


def overlap_path(family, layer):
    return f"{OUT}/overlap/{family}/layer{layer}.parquet"


def overlap_keys(family):
    """(instance, property) of every LCA ordering the overlap of one layer reads."""
    return [
        [inst, prop]
        for inst in family_instances(family)
        for prop in PROBE["properties"]
    ]


def overlap_inputs(family, layer):
    return {
        "scores": f"{OUT}/correlation/{family}/layer{layer}/scores.parquet",
        "orderings": [
            f"{probe_dir(family, inst, layer, prop)}/orderings.parquet"
            for inst, prop in overlap_keys(family)
        ],
    }


# --- what the top neurons respond to ---

DESCRIBE = config["describe"]


def neurons_path(family, instance, layer):
    return f"{OUT}/neurons/{family}/{instance}/layer{layer}.parquet"


def describe_inputs(family, instance, layer):
    out = {
        "activations": f"{OUT}/activations/{family}/{instance}/{CORR['split']}.parquet",
        "orderings": [
            f"{probe_dir(family, instance, layer, prop)}/orderings.parquet"
            for prop in PROBE["properties"]
        ],
    }
    if family in CORRELATED:
        out["scores"] = f"{OUT}/correlation/{family}/layer{layer}/scores.parquet"
    return out
