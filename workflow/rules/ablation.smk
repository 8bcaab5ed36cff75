# Ablation stage: probe ablation per (family, instance, layer, property); model ablation
# per (trained family, instance, layer); per family, all curves with their spread.


rule probe_ablation:
    """Keep k neurons of one probed layer by each ranking (top, bottom), at random and by the greedy oracle; mask the rest or retrain; per-label focus tests."""
    input:
        unpack(
            lambda w: PLAN.ranking_inputs(
                w.family, w.instance, w.layer, w.prop, "probe"
            )
        ),
        unpack(lambda w: PLAN.tagger_spec(w.family, w.instance)),
        train=PATHS.activations("{family}", "{instance}", "train"),
        test=PATHS.activations("{family}", "{instance}", "test"),
        probe=PATHS.probe("{family}", "{instance}", "{layer}", "{prop}", "probe.npz"),
    output:
        PATHS.probe_ablation("{family}", "{instance}", "{layer}", "{prop}"),
    log:
        PATHS.log(
            "ablation", "probe", "{family}", "{instance}", "layer{layer}", "{prop}"
        ),
    benchmark:
        PATHS.benchmark(
            "ablation", "probe", "{family}", "{instance}", "layer{layer}", "{prop}"
        )
    wildcard_constraints:
        layer=r"\d+",
        prop=r"[A-Za-z][A-Za-z0-9_]*",
    conda:
        probe_env
    threads: 1
    resources:
        mem_mb=layer_mem_mb(3000, copies=4),
        runtime=lambda w, attempt: 60 * attempt,
        gpu=probe_gpu,
    params:
        rankings=lambda w: PLAN.ablation_rankings(w.family, "probe"),
        settings=settings.ProbeAblationSettings.params(config),
        model_kind=lambda w: PLAN.model_kind(w.family),
        model_source=lambda w: PLAN.model_source(w.family, w.instance),
    script:
        "../../scripts/probe_ablation.py"


rule pool_ablation:
    """Keep the top, bottom or a random share of the all-layers pool (every layer concatenated, ranked together by one probe): the paper's setting."""
    input:
        train=PATHS.activations("{family}", "{instance}", "train"),
        test=PATHS.activations("{family}", "{instance}", "test"),
        orderings=PATHS.all_layers("{family}", "{instance}", "{prop}", "orderings"),
        probe=PATHS.all_layers("{family}", "{instance}", "{prop}", "probe.npz"),
    output:
        PATHS.pool_ablation("{family}", "{instance}", "{prop}"),
    log:
        PATHS.log("ablation", "probe", "{family}", "{instance}", "all_layers", "{prop}"),
    benchmark:
        PATHS.benchmark(
            "ablation", "probe", "{family}", "{instance}", "all_layers", "{prop}"
        )
    wildcard_constraints:
        prop=r"[A-Za-z][A-Za-z0-9_]*",
    conda:
        probe_env
    threads: 1
    resources:
        mem_mb=pool_mem_mb(8000, copies=1.6),
        runtime=lambda w, attempt: 90 * attempt,
        gpu=probe_gpu,
    params:
        layers=lambda w: PLAN.layers(w.family),
        rankings=lambda w: PLAN.ablation_rankings(w.family, "pool"),
        settings=settings.PoolAblationSettings.params(config),
    script:
        "../../scripts/pool_ablation.py"


rule model_ablation:
    """Remove k neurons of a trained tagger's layer by each ranking and at random (zero or mean fill) and score chunk F1 on test."""
    input:
        unpack(
            lambda w: PLAN.ranking_inputs(
                w.family, w.instance, w.layer, "pos", "model"
            )
        ),
        unpack(lambda w: PLAN.fill_inputs(w.family, w.instance)),
        model=PATHS.model_file("{family}", "{instance}", "model.pt"),
        spec=PATHS.model_file("{family}", "{instance}", "model.json"),
        tokens=PATHS.token_table("test"),
    output:
        PATHS.model_ablation("{family}", "{instance}", "{layer}"),
    log:
        PATHS.log("ablation", "model", "{family}", "{instance}", "layer{layer}"),
    benchmark:
        PATHS.benchmark("ablation", "model", "{family}", "{instance}", "layer{layer}")
    wildcard_constraints:
        family=alternation(MODELLED),
        layer=r"\d+",
    conda:
        family_torch_env
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 60 * attempt,
        gpu=family_gpu,
    params:
        rankings=lambda w: PLAN.ablation_rankings(w.family, "model"),
        settings=lambda w: settings.ModelAblationSettings.params(
            config, family=w.family
        ),
    script:
        "../../scripts/model_ablation.py"


# The near-twin experiment's predictive value: each instance's (and the twin's) model with the top and
# bottom neurons of the rankings computed with the twin in the family removed. The random-removal
# baseline is the model_ablation rule's, on the same model.
rule twin_model_ablation:
    """Model ablation of the near-twin experiment: the family's rankings recomputed with the twin present, on every instance."""
    input:
        unpack(lambda w: PLAN.fill_inputs(w.family, w.instance)),
        scores=PATHS.twin("{family}", "{layer}", "scores"),
        model=PATHS.model_file("{family}", "{instance}", "model.pt"),
        spec=PATHS.model_file("{family}", "{instance}", "model.json"),
        tokens=PATHS.token_table("test"),
    output:
        PATHS.twin_ablation("{family}", "{instance}", "{layer}"),
    log:
        PATHS.log("ablation", "twin", "{family}", "{instance}", "layer{layer}"),
    benchmark:
        PATHS.benchmark("ablation", "twin", "{family}", "{instance}", "layer{layer}")
    wildcard_constraints:
        family=alternation(TWINNED),
        layer=r"\d+",
    conda:
        family_torch_env
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 60 * attempt,
        gpu=family_gpu,
    params:
        rankings=lambda w: [
            r
            for r in PLAN.ablation_rankings(w.family, "model")
            if r not in PROBE_RANKINGS and r != CHUNK_LCA
        ],
        # The twin has no model_ablation run: its random baseline is drawn here.
        settings=lambda w: settings.ModelAblationSettings.params(
            config, family=w.family, random_draws=w.instance == PLAN.twin(w.family)
        ),
    script:
        "../../scripts/model_ablation.py"


rule ablation_summary:
    """Collect a family's probe- and model-ablation curves into one table, with their spread over instances."""
    input:
        lambda w: PLAN.ablation_curves(w.family),
    output:
        curves=PATHS.ablation("{family}", "curves"),
        spread=PATHS.ablation("{family}", "spread"),
    log:
        PATHS.log("ablation", "{family}", "summary"),
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/ablation_summary.py"
