# Figures (DESIGN §4): one rule per figure, each rendering PNG + SVG per family, with a
# caption in the HTML report (snakemake --report).

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
    }


for _name, (_number, _category, _need) in FIGURES.items():

    rule:
        name:
            f"figure_{_name}"
        input:
            unpack(lambda w, n=_name: figure_inputs(n, w.family)),
        output:
            png=report(
                f"{OUT}/figures/{{family}}/fig{_number:02d}_{_name}.png",
                caption=f"../report/{_name}.rst",
                category=_category,
                subcategory="{family}",
            ),
            svg=f"{OUT}/figures/{{family}}/fig{_number:02d}_{_name}.svg",
        log:
            f"{OUT}/logs/figures/{{family}}/{_name}.log",
        conda:
            "../../envs/analysis.yaml"
        params:
            figure=_name,
            settings=lambda w, n=_name: figure_settings(n, w.family),
        script:
            "../../scripts/figure.py"
