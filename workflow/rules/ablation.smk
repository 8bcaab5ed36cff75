# Ablation stage: probe ablation per (family, instance, layer, property); model ablation
# per (trained family, instance, layer); per family, all curves with their spread.


rule probe_ablation:
    input:
        unpack(
            lambda w: ranking_inputs(
                w.family, w.instance, w.layer, w.prop, ABL["rankings"]
            )
        ),
        unpack(tagger_spec),
        train=f"{OUT}/activations/{{family}}/{{instance}}/train.parquet",
        test=f"{OUT}/activations/{{family}}/{{instance}}/test.parquet",
        probe=f"{OUT}/probing/{{family}}/{{instance}}/layer{{layer}}/{{prop}}/probe.npz",
    output:
        f"{OUT}/ablation/probe/{{family}}/{{instance}}/layer{{layer}}/{{prop}}.parquet",
    log:
        f"{OUT}/logs/ablation/probe/{{family}}/{{instance}}/layer{{layer}}/{{prop}}.log",
    benchmark:
        f"{OUT}/benchmarks/ablation/probe/{{family}}/{{instance}}/layer{{layer}}/{{prop}}.tsv"
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
        rankings=lambda w: ablation_rankings(w.family, ABL["rankings"]),
        percents=ABL["keep_percent"],
        neurons=ABL["keep_neurons"],
        modes=ABL["modes"],
        random_repeats=ABL["random_repeats"],
        seed=ABL["seed"],
        model_kind=lambda w: FAMILIES[w.family]["kind"],
        model_source=model_source_param,
    script:
        "../../scripts/probe_ablation.py"


rule model_ablation:
    input:
        unpack(
            lambda w: ranking_inputs(
                w.family, w.instance, w.layer, "pos", ABL["model"]["rankings"]
            )
        ),
        unpack(lambda w: fill_inputs(w.family, w.instance)),
        model=f"{OUT}/models/{{family}}/{{instance}}/model.pt",
        spec=f"{OUT}/models/{{family}}/{{instance}}/model.json",
        tokens=f"{OUT}/data/test.parquet",
    output:
        f"{OUT}/ablation/model/{{family}}/{{instance}}/layer{{layer}}.parquet",
    log:
        f"{OUT}/logs/ablation/model/{{family}}/{{instance}}/layer{{layer}}.log",
    benchmark:
        f"{OUT}/benchmarks/ablation/model/{{family}}/{{instance}}/layer{{layer}}.tsv"
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
        rankings=lambda w: ablation_rankings(w.family, ABL["model"]["rankings"]),
        percents=ABL["model"]["remove_percent"],
        random_repeats=ABL["model"]["random_repeats"],
        seed=ABL["seed"],
        device=lambda w: FAMILIES[w.family]["device"],
        fills=ABL["model"]["fills"],
    script:
        "../../scripts/model_ablation.py"


# The near-twin experiment's predictive value: each instance's (and the twin's) model with the top and
# bottom neurons of the rankings computed with the twin in the family removed. The random-removal
# baseline is the model_ablation rule's, on the same model.
rule twin_model_ablation:
    input:
        unpack(lambda w: fill_inputs(w.family, w.instance)),
        scores=f"{OUT}/correlation/{{family}}/layer{{layer}}/twin/scores.parquet",
        model=f"{OUT}/models/{{family}}/{{instance}}/model.pt",
        spec=f"{OUT}/models/{{family}}/{{instance}}/model.json",
        tokens=f"{OUT}/data/test.parquet",
    output:
        f"{OUT}/ablation/twin/{{family}}/{{instance}}/layer{{layer}}.parquet",
    log:
        f"{OUT}/logs/ablation/twin/{{family}}/{{instance}}/layer{{layer}}.log",
    benchmark:
        f"{OUT}/benchmarks/ablation/twin/{{family}}/{{instance}}/layer{{layer}}.tsv"
    wildcard_constraints:
        family=alternation(TWINNED),
        layer=r"\d+",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 60 * attempt,
        gpu=family_gpu,
    params:
        rankings=[r for r in ABL["model"]["rankings"] if r not in PROBE_RANKINGS],
        percents=ABL["model"]["remove_percent"],
        # The twin has no model_ablation run: its random baseline is drawn here.
        random_repeats=lambda w: (
            ABL["model"]["random_repeats"]
            if w.instance == family_twin(w.family)
            else 0
        ),
        seed=ABL["seed"],
        device=lambda w: FAMILIES[w.family]["device"],
        fills=ABL["model"]["fills"],
    script:
        "../../scripts/model_ablation.py"


rule ablation_summary:
    input:
        lambda w: family_ablation_curves(w.family),
    output:
        curves=f"{OUT}/ablation/{{family}}/curves.parquet",
        spread=f"{OUT}/ablation/{{family}}/spread.parquet",
    log:
        f"{OUT}/logs/ablation/{{family}}/summary.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/ablation_summary.py"
