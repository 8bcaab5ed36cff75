# Cross-model correlation stage: per (family, layer) scores, pairs, stability and the
# duplicated-instance experiment; per family the layer-similarity (CKA) table.


rule correlation:
    """Correlate every neuron of one layer with the same layer of the family's other instances: MaxCorr, MeanMaxCorr, MinCorr, LinReg."""
    input:
        lambda w: PLAN.corr_inputs(w.family),
    output:
        scores=PATHS.correlation("{family}", "{layer}", "scores"),
        pairs=PATHS.correlation("{family}", "{layer}", "pairs"),
        stability=PATHS.correlation("{family}", "{layer}", "stability"),
        duplicate=PATHS.correlation("{family}", "{layer}", "duplicate"),
    log:
        PATHS.log("correlation", "{family}", "layer{layer}"),
    benchmark:
        PATHS.benchmark("correlation", "{family}", "layer{layer}")
    wildcard_constraints:
        family=alternation(CORRELATED),
        layer=r"\d+",
    conda:
        correlation_env
    threads: 2
    resources:
        mem_mb=layer_mem_mb(4000, copies=4),
        runtime=lambda w, attempt: 30 * attempt,
        gpu=int(CORR["device"] == "cuda"),
    params:
        names=lambda w: PLAN.instances(w.family),
        layers=lambda w: [int(w.layer)] * len(PLAN.instances(w.family)),
        settings=settings.CorrelationSettings.params(config),
    script:
        "../../scripts/correlation.py"


rule cross_family_correlation:
    """Correlate layers of several families together (correlation.cross_family)."""
    input:
        lambda w: [path for _, path, _ in PLAN.cross_family_members(w.group)],
    output:
        scores=PATHS.cross_family("{group}"),
        pairs=PATHS.cross_family("{group}", "pairs"),
        stability=PATHS.cross_family("{group}", "stability"),
        duplicate=PATHS.cross_family("{group}", "duplicate"),
    log:
        PATHS.log("correlation", "cross", "{group}"),
    conda:
        correlation_env
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
        gpu=int(CORR["device"] == "cuda"),
    params:
        names=lambda w: [name for name, _, _ in PLAN.cross_family_members(w.group)],
        layers=lambda w: [layer for _, _, layer in PLAN.cross_family_members(w.group)],
        # the duplicated-instance experiment is a family's, not a group's
        settings={**settings.CorrelationSettings.params(config), "duplicate": None},
    script:
        "../../scripts/correlation.py"


rule similarity:
    """Linear CKA between every (instance, layer) pair of a family."""
    input:
        lambda w: PLAN.corr_inputs(w.family),
    output:
        PATHS.similarity("{family}"),
    log:
        PATHS.log("similarity", "{family}"),
    benchmark:
        PATHS.benchmark("similarity", "{family}")
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        # one instance's layers as float32, or with correlation.cka_tokens the family's sample
        mem_mb=similarity_mem_mb,
        runtime=lambda w, attempt: 30 * attempt,
    params:
        names=lambda w: PLAN.instances(w.family),
        settings=settings.SimilaritySettings.params(config),
    script:
        "../../scripts/similarity.py"


rule twin_correlation:
    """Correlation rankings with the near-twin instance added to the family, and with an exact copy of one instance."""
    input:
        unpack(lambda w: PLAN.twin_inputs(w.family)),
        before=PATHS.correlation("{family}", "{layer}", "scores"),
    output:
        scores=PATHS.twin("{family}", "{layer}", "scores"),
        change=PATHS.twin("{family}", "{layer}", "change"),
    log:
        PATHS.log("correlation", "{family}", "layer{layer}", "twin"),
    benchmark:
        PATHS.benchmark("correlation", "{family}", "layer{layer}", "twin")
    wildcard_constraints:
        family=alternation(TWINNED),
        layer=r"\d+",
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
    params:
        names=lambda w: PLAN.instances(w.family),
        twin=lambda w: PLAN.twin(w.family),
        twin_of=lambda w: PLAN.twin_of(w.family),
        settings=settings.TwinCorrelationSettings.params(config),
    script:
        "../../scripts/twin_correlation.py"
