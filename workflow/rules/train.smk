# Training stage: one job per (family, seed) of the families trained here.


rule train:
    input:
        train=PATHS.token_table("train"),
        test=PATHS.token_table("test"),
    output:
        model=PATHS.model_file("{family}", "{instance}", "model.pt"),
        spec=PATHS.model_file("{family}", "{instance}", "model.json"),
        metrics=PATHS.model_file("{family}", "{instance}", "metrics.json"),
    log:
        PATHS.log("train", "{family}", "{instance}"),
    benchmark:
        PATHS.benchmark("train", "{family}", "{instance}")
    wildcard_constraints:
        family=alternation(TRAINED),
        instance=r"seed\d+(-order\d+)?",
    conda:
        family_torch_env
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 3000 * attempt,
        runtime=lambda w, attempt: 90 * attempt,
        gpu=family_gpu,
    params:
        kind=lambda w: FAMILIES[w.family]["kind"],
        seed=lambda w: instance_seeds(w.instance)[0],
        order_seed=lambda w: instance_seeds(w.instance)[1],
        model=lambda w: FAMILIES[w.family]["model"],
        train=lambda w: FAMILIES[w.family]["train"],
        subset=lambda w: FAMILIES[w.family]["subset"],
        device=lambda w: FAMILIES[w.family]["device"],
    script:
        "../../scripts/train.py"


rule finetune:
    input:
        train=PATHS.token_table("train"),
        test=PATHS.token_table("test"),
    output:
        model=PATHS.model_file("{family}", "{instance}", "model.pt"),
        spec=PATHS.model_file("{family}", "{instance}", "model.json"),
        metrics=PATHS.model_file("{family}", "{instance}", "metrics.json"),
    log:
        PATHS.log("finetune", "{family}", "{instance}"),
    benchmark:
        PATHS.benchmark("finetune", "{family}", "{instance}")
    wildcard_constraints:
        family=alternation(FINETUNED),
        instance=r"seed\d+",
    conda:
        family_torch_env
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 6000 * attempt,
        runtime=lambda w, attempt: 240 * attempt,
        gpu=family_gpu,
    params:
        model=lambda w: FAMILIES[w.family]["model"],
        seed=lambda w: instance_seed(w.instance),
        train=lambda w: FAMILIES[w.family]["train"],
        pooling=lambda w: FAMILIES[w.family]["pooling"],
        max_length=lambda w: FAMILIES[w.family]["max_length"],
        subset=lambda w: FAMILIES[w.family]["subset"],
        device=lambda w: FAMILIES[w.family]["device"],
    script:
        "../../scripts/finetune.py"
