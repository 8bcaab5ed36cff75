# Activation stage: every layer's activation for every token, per (family, instance, split).


rule activations_trained:
    input:
        model=f"{OUT}/models/{{family}}/{{instance}}/model.pt",
        spec=f"{OUT}/models/{{family}}/{{instance}}/model.json",
        tokens=f"{OUT}/data/{{split}}.parquet",
    output:
        activation_output(
            f"{OUT}/activations/{{family}}/{{instance}}/{{split}}.parquet"
        ),
    log:
        f"{OUT}/logs/activations/{{family}}/{{instance}}/{{split}}.log",
    benchmark:
        f"{OUT}/benchmarks/activations/{{family}}/{{instance}}/{{split}}.tsv"
    wildcard_constraints:
        family=alternation(MODELLED),
    conda:
        family_torch_env
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
        gpu=family_gpu,
    params:
        batch_size=lambda w: (
            FAMILIES[w.family]["batch_size"]
            if w.family in FINETUNED
            else config["activations"]["batch_size"]
        ),
        device=lambda w: FAMILIES[w.family]["device"],
        layers=lambda w: FAMILIES[w.family]["layers"],
        dtype=config["activations"]["dtype"],
    script:
        "../../scripts/activations_trained.py"


checkpoint model_info:
    output:
        f"{OUT}/models/{{family}}/{{instance}}/pretrained.json",
    log:
        f"{OUT}/logs/model_info/{{family}}/{{instance}}.log",
    wildcard_constraints:
        family=alternation(PRETRAINED),
    localrule: True
    conda:
        "../../envs/torch.yaml"
    params:
        model=lambda w: pretrained_spec(w.family, w.instance),
    script:
        "../../scripts/model_info.py"


rule activations_pretrained:
    input:
        tokens=f"{OUT}/data/{{split}}.parquet",
        info=f"{OUT}/models/{{family}}/{{instance}}/pretrained.json",
    output:
        activation_output(
            f"{OUT}/activations/{{family}}/{{instance}}/{{split}}.parquet"
        ),
    log:
        f"{OUT}/logs/activations/{{family}}/{{instance}}/{{split}}.log",
    benchmark:
        f"{OUT}/benchmarks/activations/{{family}}/{{instance}}/{{split}}.tsv"
    wildcard_constraints:
        family=alternation(PRETRAINED),
    conda:
        family_torch_env
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 8000 * attempt,
        runtime=lambda w, attempt: 120 * attempt,
        gpu=family_gpu,
    params:
        model=lambda w: pretrained_spec(w.family, w.instance),
        random_init_seed=lambda w: (
            PROBE["untrained"]["seed"] if w.instance == UNTRAINED else None
        ),
        pooling=lambda w: FAMILIES[w.family]["pooling"],
        batch_size=lambda w: FAMILIES[w.family]["batch_size"],
        max_length=lambda w: FAMILIES[w.family]["max_length"],
        device=lambda w: FAMILIES[w.family]["device"],
        layers=lambda w: FAMILIES[w.family]["layers"],
        dtype=config["activations"]["dtype"],
    script:
        "../../scripts/activations_pretrained.py"


rule activations_trained_unk:
    input:
        model=f"{OUT}/models/{{family}}/{{instance}}/model.pt",
        spec=f"{OUT}/models/{{family}}/{{instance}}/model.json",
        tokens=f"{OUT}/data/train.parquet",
    output:
        f"{OUT}/activations/{{family}}/{{instance}}/train_unk.parquet",
    log:
        f"{OUT}/logs/activations/{{family}}/{{instance}}/train_unk.log",
    benchmark:
        f"{OUT}/benchmarks/activations/{{family}}/{{instance}}/train_unk.tsv"
    wildcard_constraints:
        family=alternation(TRAINED),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
        gpu=lambda w: int(FAMILIES[w.family]["device"] == "cuda"),
    params:
        batch_size=config["activations"]["batch_size"],
        device=lambda w: FAMILIES[w.family]["device"],
        unk_rate=lambda w: FAMILIES[w.family]["train"]["word_dropout"],
        seed=PROBE["seed"],
        layers=lambda w: FAMILIES[w.family]["layers"],
        dtype=config["activations"]["dtype"],
    script:
        "../../scripts/activations_trained.py"
