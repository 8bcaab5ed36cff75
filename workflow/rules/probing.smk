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
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 3000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
    params:
        grid=PROBE["grid"],
        tolerance=PROBE["tolerance"],
        probe=PROBE["probe"],
        seed=PROBE["seed"],
    script:
        "../../scripts/select_lambdas.py"


rule probe:
    input:
        unpack(probe_lambdas),
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
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 3000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
    params:
        lambdas=[PROBE["l1"], PROBE["l2"]],
        probe=PROBE["probe"],
        salient_fraction=PROBE["salient_fraction"],
        seed=PROBE["seed"],
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
    conda:
        "../../envs/analysis.yaml"
    params:
        entries=lambda w: probing_summary_keys(w.family),
    script:
        "../../scripts/probing_summary.py"
