# Shared setup: config validation (before any job runs), output paths, and instance lists.
from pathlib import Path

from neurosieve.config import (
    TRAINED_KINDS,
    family_layers,
    instance_model,
    instance_seeds,
    instances,
    load_schema,
    twin_instance,
    validate_config,
)

_validated = validate_config(
    config, load_schema(workflow.source_path("../schemas/config.schema.yaml"))
)
config.clear()
config.update(_validated)

OUT = config["outdir"]
FAMILIES = config["families"]
TRAINED = [f for f, c in FAMILIES.items() if c["kind"] in TRAINED_KINDS]
PRETRAINED = [f for f, c in FAMILIES.items() if c["kind"] == "pretrained"]
SPLITS = ["train", "test"]
# Families whose instances can be correlated with each other (at least two instances).
CORRELATED = [f for f in FAMILIES if len(instances(FAMILIES[f])) >= 2]
LAYERS = {f: family_layers(c) for f, c in FAMILIES.items()}


def alternation(names):
    """A wildcard constraint matching exactly these names (and nothing when there are none)."""
    return "|".join(names) if names else "(?!)"


wildcard_constraints:
    split="train|test",
    instance="[A-Za-z0-9_.-]+",


def data_source():
    """auto: the local directory when it holds both splits, else the download URLs."""
    d = config["data"]
    if d["source"] != "auto":
        return d["source"]
    local = d["local_dir"]
    if local and all(
        Path(local, f"{s}.txt.gz").is_file() or Path(local, f"{s}.txt").is_file()
        for s in SPLITS
    ):
        return "local"
    return "download"


def family_instances(family):
    return instances(FAMILIES[family])


def final_outputs():
    """Every target of the default run."""
    out = expand(f"{OUT}/data/{{split}}.parquet", split=SPLITS)
    for fam in TRAINED:
        out += expand(
            f"{OUT}/models/{fam}/{{inst}}/metrics.json", inst=family_instances(fam)
        )
    for fam in FAMILIES:
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
    for fam in FAMILIES:
        if family_ablation_curves(fam):
            out.append(f"{OUT}/ablation/{fam}/spread.parquet")
        out += [
            figure_path(fam, name, ext)
            for name in figures_for(fam)
            for ext in ("png", "svg")
        ]
    out += [f"{OUT}/summary/summary.md", f"{OUT}/summary/summary.csv"]
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
    layers = LAYERS[family]
    return [l for l in layers if PROBE["layers"] is None or l in PROBE["layers"]]


def probe_dir(family, instance, layer, prop):
    return f"{OUT}/probing/{family}/{instance}/layer{layer}/{prop}"


def probe_lambdas(w):
    if PROBE["grid"]:
        return {
            "lambdas": f"{OUT}/probing/{w.family}/lambdas/layer{w.layer}/{w.prop}.parquet"
        }
    return {}


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
    return [
        l for l in probed_layers(family) if ABL["layers"] is None or l in ABL["layers"]
    ]


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
            if ABL["model"]["enabled"] and family in TRAINED:
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
    if family in CORRELATED:
        ok.add("corr")
        if family in TRAINED and ABL["model"]["enabled"]:
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
    if family in TRAINED:
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
        )
    if family in TWINNED:
        entry["twin"] = family_twin(family)
        entry["twin_change"] = f"{twin_dir(family, layer)}/change.parquet"
        entry["twin_curves"] = twin_ablation_paths(family, [layer])
        if family in TRAINED:
            entry["twin_metrics"] = (
                f"{OUT}/models/{family}/{family_twin(family)}/metrics.json"
            )
    return entry


def summary_inputs():
    files = []
    for fam in FAMILIES:
        for key, value in summary_family(fam).items():
            if key in ("name", "layer", "property", "twin"):
                continue
            files += value if isinstance(value, list) else [value]
    return files
