# Shared setup: config validation (before any job runs), output paths, and instance lists.
from pathlib import Path

from neurosieve.config import (
    TRAINED_KINDS,
    family_layers,
    instance_model,
    instance_seed,
    instances,
    load_schema,
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
    return out
