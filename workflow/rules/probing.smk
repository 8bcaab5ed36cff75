# Probing stage (LCA): lambda selection once per (family, layer, property) on a reference
# instance, then one probe per (family, instance, layer, property).


rule select_lambdas:
    input:
        lambda w: f"{OUT}/activations/{w.family}/{family_instances(w.family)[0]}/train.parquet",
    output:
        f"{OUT}/probing/{{family}}/lambdas/layer{{layer}}/{{prop}}.parquet",
    log:
        f"{OUT}/logs/probing/{{family}}/lambdas/layer{{layer}}/{{prop}}.log",
    benchmark:
        f"{OUT}/benchmarks/probing/{{family}}/lambdas/layer{{layer}}/{{prop}}.tsv"
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
        grid=PROBE["grid"],
        tolerance=PROBE["tolerance"],
        probe=PROBE["probe"],
        seed=PROBE["seed"],
    script:
        "../../scripts/select_lambdas.py"


rule untrained_model:
    input:
        train=f"{OUT}/data/train.parquet",
        test=f"{OUT}/data/test.parquet",
    output:
        model=f"{OUT}/models/{{family}}/{UNTRAINED}/model.pt",
        spec=f"{OUT}/models/{{family}}/{UNTRAINED}/model.json",
        metrics=f"{OUT}/models/{{family}}/{UNTRAINED}/metrics.json",
    log:
        f"{OUT}/logs/train/{{family}}/{UNTRAINED}.log",
    wildcard_constraints:
        family=alternation(TRAINED),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        kind=lambda w: FAMILIES[w.family]["kind"],
        seed=PROBE["untrained"]["seed"],
        model=lambda w: FAMILIES[w.family]["model"],
        train=lambda w: {**FAMILIES[w.family]["train"], "epochs": 0},
        subset=lambda w: FAMILIES[w.family]["subset"],
        device="cpu",
    script:
        "../../scripts/train.py"


rule probe:
    input:
        unpack(model_inputs),
        train=f"{OUT}/activations/{{family}}/{{instance}}/train.parquet",
        test=f"{OUT}/activations/{{family}}/{{instance}}/test.parquet",
    output:
        **{
            t: f"{OUT}/probing/{{family}}/{{instance}}/layer{{layer}}/{{prop}}/{t}.parquet"
            for t in PROBE_TABLES
        },
        probe=f"{OUT}/probing/{{family}}/{{instance}}/layer{{layer}}/{{prop}}/probe.npz",
    log:
        f"{OUT}/logs/probing/{{family}}/{{instance}}/layer{{layer}}/{{prop}}.log",
    benchmark:
        f"{OUT}/benchmarks/probing/{{family}}/{{instance}}/layer{{layer}}/{{prop}}.tsv"
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
        lambdas=[PROBE["l1"], PROBE["l2"]],
        probe=PROBE["probe"],
        salient_fraction=PROBE["salient_fraction"],
        seed=PROBE["seed"],
        model_kind=lambda w: FAMILIES[w.family]["kind"],
        model_source=model_source_param,
    script:
        "../../scripts/probe.py"


rule probing_summary:
    input:
        lambda w: [
            f"{probe_dir(w.family, *key)}/metrics.parquet"
            for key in probing_summary_keys(w.family)
        ],
    output:
        f"{OUT}/probing/{{family}}/summary.parquet",
    log:
        f"{OUT}/logs/probing/{{family}}/summary.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        entries=lambda w: probing_summary_keys(w.family),
    script:
        "../../scripts/probing_summary.py"


rule probe_all_layers:
    input:
        train=f"{OUT}/activations/{{family}}/{{instance}}/train.parquet",
        test=f"{OUT}/activations/{{family}}/{{instance}}/test.parquet",
    output:
        orderings=f"{OUT}/probing/{{family}}/{{instance}}/all_layers/{{prop}}/orderings.parquet",
        by_layer=f"{OUT}/probing/{{family}}/{{instance}}/all_layers/{{prop}}/by_layer.parquet",
    log:
        f"{OUT}/logs/probing/{{family}}/{{instance}}/all_layers/{{prop}}.log",
    benchmark:
        f"{OUT}/benchmarks/probing/{{family}}/{{instance}}/all_layers/{{prop}}.tsv"
    wildcard_constraints:
        prop=r"[A-Za-z][A-Za-z0-9_]*",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 6000 * attempt,
        runtime=lambda w, attempt: 60 * attempt,
    params:
        layers=lambda w: LAYERS[w.family],
        lambdas=[PROBE["l1"], PROBE["l2"]],
        probe=PROBE["probe"],
        seed=PROBE["seed"],
    script:
        "../../scripts/probe_all_layers.py"
