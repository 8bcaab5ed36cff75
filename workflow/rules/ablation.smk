# Ablation stage: probe ablation per (family, instance, layer, property); model ablation
# per (trained family, instance, layer); per family, all curves with their spread.


rule probe_ablation:
    input:
        unpack(
            lambda w: ranking_inputs(
                w.family, w.instance, w.layer, w.prop, ABL["rankings"]
            )
        ),
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
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 3000 * attempt,
        runtime=lambda w, attempt: 60 * attempt,
    params:
        rankings=lambda w: ablation_rankings(w.family, ABL["rankings"]),
        percents=ABL["keep_percent"],
        neurons=ABL["keep_neurons"],
        modes=ABL["modes"],
        random_repeats=ABL["random_repeats"],
        seed=ABL["seed"],
        retrain=ABL["retrain"],
    script:
        "../../scripts/probe_ablation.py"


rule model_ablation:
    input:
        unpack(
            lambda w: ranking_inputs(
                w.family, w.instance, w.layer, "pos", ABL["model"]["rankings"]
            )
        ),
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
        family=alternation(TRAINED),
        layer=r"\d+",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 60 * attempt,
        gpu=lambda w: int(FAMILIES[w.family]["device"] == "cuda"),
    params:
        rankings=lambda w: ablation_rankings(w.family, ABL["model"]["rankings"]),
        percents=ABL["model"]["remove_percent"],
        random_repeats=ABL["model"]["random_repeats"],
        seed=ABL["seed"],
        device=lambda w: FAMILIES[w.family]["device"],
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
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/ablation_summary.py"
