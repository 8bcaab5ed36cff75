# The summary table of headline numbers, beside the paper's and the report's findings.


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
        )
    return entry


def summary_inputs():
    files = []
    for fam in FAMILIES:
        for key, value in summary_family(fam).items():
            if key in ("name", "layer", "property"):
                continue
            files += value if isinstance(value, list) else [value]
    return files


rule summary:
    input:
        summary_inputs(),
    output:
        md=report(
            f"{OUT}/summary/summary.md",
            caption="../report/summary.rst",
            category="Summary",
        ),
        csv=f"{OUT}/summary/summary.csv",
    log:
        f"{OUT}/logs/summary.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        families=[summary_family(f) for f in FAMILIES],
    script:
        "../../scripts/summary.py"
