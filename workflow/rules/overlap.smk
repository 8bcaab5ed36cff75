# CCA against LCA: per (family, probed layer), the top-k overlap of every correlation ranking
# with every property's LCA ordering, per instance, with chance and an exact (hypergeometric) p-value;
# per (family, instance, probed layer), what each ranking's top neurons respond to.


rule cca_lca_overlap:
    """Top-k overlap of each correlation ranking with each property's LCA ordering, with its exact hypergeometric p-value."""
    input:
        unpack(lambda w: PLAN.overlap_inputs(w.family, int(w.layer))),
    output:
        PATHS.overlap("{family}", "{layer}"),
    log:
        PATHS.log("overlap", "{family}", "layer{layer}"),
    wildcard_constraints:
        family=alternation(CORRELATED),
        layer=r"\d+",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        entries=lambda w: PLAN.overlap_keys(w.family),
        settings=settings.OverlapSettings.params(config),
    script:
        "../../scripts/overlap.py"


rule describe_neurons:
    """Name the property label each top neuron of each ranking is most associated with, per instance and probed layer."""
    input:
        unpack(lambda w: PLAN.describe_inputs(w.family, w.instance, int(w.layer))),
    output:
        PATHS.neurons("{family}", "{instance}", "{layer}"),
    log:
        PATHS.log("neurons", "{family}", "{instance}", "layer{layer}"),
    wildcard_constraints:
        layer=r"\d+",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 3000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        settings=settings.DescribeSettings.params(config),
    script:
        "../../scripts/describe_neurons.py"
