# Probing stage (LCA): lambda selection once per (family, layer, property) on a reference
# instance, then one probe per (family, instance, layer, property).


rule select_lambdas:
    """Choose the probe's (l1, l2) on held-out train sentences of the family's reference instance."""
    input:
        lambda w: PATHS.activations(w.family, PLAN.instances(w.family)[0], "train"),
    output:
        PATHS.lambdas("{family}", "{layer}", "{prop}"),
    log:
        PATHS.log("probing", "{family}", "lambdas", "layer{layer}", "{prop}"),
    benchmark:
        PATHS.benchmark("probing", "{family}", "lambdas", "layer{layer}", "{prop}")
    wildcard_constraints:
        layer=r"\d+",
        prop=r"[A-Za-z][A-Za-z0-9_]*",
    conda:
        probe_env
    threads: 1
    resources:
        mem_mb=layer_mem_mb(3000, copies=4),
        runtime=lambda w, attempt: 30 * attempt,
        gpu=probe_gpu,
    params:
        settings=settings.LambdaSearchSettings.params(config),
    script:
        "../../scripts/select_lambdas.py"


rule untrained_model:
    """Build a tagger family's architecture at a seeded random initialisation (the untrained-model baseline)."""
    input:
        train=PATHS.token_table("train"),
        test=PATHS.token_table("test"),
    output:
        model=PATHS.model_file("{family}", UNTRAINED, "model.pt"),
        spec=PATHS.model_file("{family}", UNTRAINED, "model.json"),
        metrics=PATHS.model_file("{family}", UNTRAINED, "metrics.json"),
    log:
        PATHS.log("train", "{family}", UNTRAINED),
    wildcard_constraints:
        family=alternation(TRAINED),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        settings=lambda w: settings.UntrainedModelSettings.params(
            config, family=w.family
        ),
    script:
        "../../scripts/untrained_model.py"


rule probe:
    """Fit the elastic-net probe of one (instance, layer, property) with its baselines (control task, paper lambdas, <unk>), and its neuron orderings."""
    input:
        unpack(lambda w: PLAN.probe_inputs(w.family, w.instance, w.layer, w.prop)),
        train=PATHS.activations("{family}", "{instance}", "train"),
        test=PATHS.activations("{family}", "{instance}", "test"),
    output:
        **{
            t: PATHS.probe("{family}", "{instance}", "{layer}", "{prop}", t)
            for t in PROBE_TABLES
        },
        probe=PATHS.probe("{family}", "{instance}", "{layer}", "{prop}", "probe.npz"),
    log:
        PATHS.log("probing", "{family}", "{instance}", "layer{layer}", "{prop}"),
    benchmark:
        PATHS.benchmark("probing", "{family}", "{instance}", "layer{layer}", "{prop}")
    wildcard_constraints:
        layer=r"\d+",
        prop=r"[A-Za-z][A-Za-z0-9_]*",
        instance="(?!lambdas)[A-Za-z0-9_.-]+",
    conda:
        probe_env
    threads: 1
    resources:
        mem_mb=layer_mem_mb(3000, copies=4),
        runtime=lambda w, attempt: 30 * attempt,
        gpu=probe_gpu,
    params:
        settings=settings.ProbeSettings.params(config),
        model_kind=lambda w: PLAN.model_kind(w.family),
        model_source=lambda w: PLAN.model_source(w.family, w.instance),
    script:
        "../../scripts/probe.py"


rule probing_summary:
    """Collect a family's probe metrics into one table."""
    input:
        lambda w: [
            f"{PATHS.probe_dir(w.family, *key)}/metrics.parquet"
            for key in PLAN.probing_summary_keys(w.family)
        ],
    output:
        PATHS.probing_summary("{family}"),
    log:
        PATHS.log("probing", "{family}", "summary"),
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        entries=lambda w: PLAN.probing_summary_keys(w.family),
    script:
        "../../scripts/probing_summary.py"


rule probe_all_layers:
    """One probe over every layer of an instance concatenated, and where its top neurons sit by layer."""
    input:
        train=PATHS.activations("{family}", "{instance}", "train"),
        test=PATHS.activations("{family}", "{instance}", "test"),
    output:
        orderings=PATHS.all_layers("{family}", "{instance}", "{prop}", "orderings"),
        by_layer=PATHS.all_layers("{family}", "{instance}", "{prop}", "by_layer"),
        probe=PATHS.all_layers("{family}", "{instance}", "{prop}", "probe.npz"),
    log:
        PATHS.log("probing", "{family}", "{instance}", "all_layers", "{prop}"),
    benchmark:
        PATHS.benchmark("probing", "{family}", "{instance}", "all_layers", "{prop}")
    wildcard_constraints:
        prop=r"[A-Za-z][A-Za-z0-9_]*",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=pool_mem_mb(6000, copies=1.5),
        runtime=lambda w, attempt: 60 * attempt,
    params:
        layers=lambda w: PLAN.layers(w.family),
        settings=settings.AllLayerProbeSettings.params(config),
    script:
        "../../scripts/probe_all_layers.py"
