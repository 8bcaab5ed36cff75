# Training stage: one job per (family, seed) of the families trained here.


rule train:
    """Train one seed of a tagger family on CoNLL-2000 chunking and score it with conlleval."""
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
        settings=lambda w: settings.TrainSettings.params(config, family=w.family),
        seeds=lambda w: list(instance_seeds(w.instance)),
    script:
        "../../scripts/train.py"


rule finetune:
    """Fine-tune a pretrained encoder with a chunking head (a fine-tuned family)."""
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
        settings=lambda w: settings.FinetuneSettings.params(config, family=w.family),
        seed=lambda w: instance_seed(w.instance),
    script:
        "../../scripts/finetune.py"
