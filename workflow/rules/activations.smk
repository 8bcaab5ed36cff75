# Activation stage: every layer's activation for every token, per (family, instance, split).


rule activations_trained:
    input:
        model=f"{OUT}/models/{{family}}/{{instance}}/model.pt",
        spec=f"{OUT}/models/{{family}}/{{instance}}/model.json",
        tokens=f"{OUT}/data/{{split}}.parquet",
    output:
        f"{OUT}/activations/{{family}}/{{instance}}/{{split}}.parquet",
    log:
        f"{OUT}/logs/activations/{{family}}/{{instance}}/{{split}}.log",
    benchmark:
        f"{OUT}/benchmarks/activations/{{family}}/{{instance}}/{{split}}.tsv"
    wildcard_constraints:
        family=alternation(MODELLED),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
        gpu=lambda w: family_gpu(w.family),
    params:
        batch_size=lambda w: (
            FAMILIES[w.family]["batch_size"]
            if w.family in FINETUNED
            else config["activations"]["batch_size"]
        ),
        device=lambda w: FAMILIES[w.family]["device"],
        layers=lambda w: LAYERS[w.family],
        dtype=config["activations"]["dtype"],
    script:
        "../../scripts/activations_trained.py"


rule activations_pretrained:
    input:
        tokens=f"{OUT}/data/{{split}}.parquet",
    output:
        f"{OUT}/activations/{{family}}/{{instance}}/{{split}}.parquet",
    log:
        f"{OUT}/logs/activations/{{family}}/{{instance}}/{{split}}.log",
    benchmark:
        f"{OUT}/benchmarks/activations/{{family}}/{{instance}}/{{split}}.tsv"
    wildcard_constraints:
        family=alternation(PRETRAINED),
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 8000 * attempt,
        runtime=lambda w, attempt: 120 * attempt,
        gpu=lambda w: family_gpu(w.family),
    params:
        model=lambda w: instance_model(FAMILIES[w.family], w.instance),
        pooling=lambda w: FAMILIES[w.family]["pooling"],
        batch_size=lambda w: FAMILIES[w.family]["batch_size"],
        max_length=lambda w: FAMILIES[w.family]["max_length"],
        device=lambda w: FAMILIES[w.family]["device"],
        layers=lambda w: LAYERS[w.family],
        dtype=config["activations"]["dtype"],
    script:
        "../../scripts/activations_pretrained.py"
