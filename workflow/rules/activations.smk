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
        family=alternation(TRAINED),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        batch_size=config["activations"]["batch_size"],
        device=lambda w: FAMILIES[w.family]["device"],
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
    params:
        model=lambda w: instance_model(FAMILIES[w.family], w.instance),
        pooling=lambda w: FAMILIES[w.family]["pooling"],
        batch_size=lambda w: FAMILIES[w.family]["batch_size"],
        max_length=lambda w: FAMILIES[w.family]["max_length"],
        device=lambda w: FAMILIES[w.family]["device"],
    script:
        "../../scripts/activations_pretrained.py"
