# Activation stage: every layer's activation for every token, per (family, instance, split).


rule activations_trained:
    """Dump every layer's activations of a trained tagger (or its untrained twin) for one split, word-aligned."""
    input:
        model=PATHS.model_file("{family}", "{instance}", "model.pt"),
        spec=PATHS.model_file("{family}", "{instance}", "model.json"),
        tokens=PATHS.token_table("{split}"),
    output:
        activation_output(PATHS.activations("{family}", "{instance}", "{split}")),
    log:
        PATHS.log("activations", "{family}", "{instance}", "{split}"),
    benchmark:
        PATHS.benchmark("activations", "{family}", "{instance}", "{split}")
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
        settings=lambda w: settings.TaggerActivationSettings.params(
            config, family=w.family
        ),
    script:
        "../../scripts/activations_trained.py"


checkpoint model_info:
    """Read a pretrained model's layer count (a checkpoint: the layers planned downstream depend on it)."""
    output:
        PATHS.model_file("{family}", "{instance}", "pretrained.json"),
    log:
        PATHS.log("model_info", "{family}", "{instance}"),
    wildcard_constraints:
        family=alternation(PRETRAINED),
    localrule: True
    conda:
        "../../envs/torch.yaml"
    params:
        model=lambda w: PLAN.pretrained_spec(w.family, w.instance),
    script:
        "../../scripts/model_info.py"


rule activations_pretrained:
    """Dump every layer's activations of a pretrained encoder for one split, one vector a word (its pieces pooled as configured)."""
    input:
        tokens=PATHS.token_table("{split}"),
        info=PATHS.model_file("{family}", "{instance}", "pretrained.json"),
    output:
        activation_output(PATHS.activations("{family}", "{instance}", "{split}")),
    log:
        PATHS.log("activations", "{family}", "{instance}", "{split}"),
    benchmark:
        PATHS.benchmark("activations", "{family}", "{instance}", "{split}")
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
        model=lambda w: PLAN.pretrained_spec(w.family, w.instance),
        settings=lambda w: settings.EncoderActivationSettings.params(
            config, family=w.family, untrained=w.instance == UNTRAINED
        ),
    script:
        "../../scripts/activations_pretrained.py"


# The untrained baseline of a fine-tuned family: its encoder's architecture at a seeded random
# initialisation, dumped like a pretrained model (no head, nothing fine-tuned).
ruleorder: activations_untrained_encoder > activations_trained


rule activations_untrained_encoder:
    """Dump activations of a pretrained family's architecture at a seeded random initialisation (the untrained baseline)."""
    input:
        tokens=PATHS.token_table("{split}"),
    output:
        activation_output(PATHS.activations("{family}", UNTRAINED, "{split}")),
    log:
        PATHS.log("activations", "{family}", UNTRAINED, "{split}"),
    benchmark:
        PATHS.benchmark("activations", "{family}", UNTRAINED, "{split}")
    wildcard_constraints:
        family=alternation(FINETUNED),
    conda:
        family_torch_env
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 8000 * attempt,
        runtime=lambda w, attempt: 120 * attempt,
        gpu=family_gpu,
    params:
        model=lambda w: PLAN.pretrained_spec(w.family, UNTRAINED),
        settings=lambda w: settings.EncoderActivationSettings.params(
            config, family=w.family, untrained=True
        ),
    script:
        "../../scripts/activations_pretrained.py"


rule activations_trained_unk:
    """Dump a tagger's train activations with its own <unk> dropout applied (for the <unk>-trained probe)."""
    input:
        model=PATHS.model_file("{family}", "{instance}", "model.pt"),
        spec=PATHS.model_file("{family}", "{instance}", "model.json"),
        tokens=PATHS.token_table("train"),
    output:
        PATHS.activations("{family}", "{instance}", "train_unk"),
    log:
        PATHS.log("activations", "{family}", "{instance}", "train_unk"),
    benchmark:
        PATHS.benchmark("activations", "{family}", "{instance}", "train_unk")
    wildcard_constraints:
        family=alternation(TRAINED),
    conda:
        family_torch_env
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
        gpu=family_gpu,
    params:
        settings=lambda w: settings.TaggerActivationSettings.params(
            config, family=w.family, unk=True
        ),
    script:
        "../../scripts/activations_trained.py"
