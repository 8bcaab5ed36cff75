# Cross-model correlation stage: per (family, layer) scores, pairs, stability and the
# duplicated-instance experiment; per family the layer-similarity (CKA) table.


rule correlation:
    input:
        lambda w: corr_inputs(w.family),
    output:
        scores=f"{OUT}/correlation/{{family}}/layer{{layer}}/scores.parquet",
        pairs=f"{OUT}/correlation/{{family}}/layer{{layer}}/pairs.parquet",
        stability=f"{OUT}/correlation/{{family}}/layer{{layer}}/stability.parquet",
        duplicate=f"{OUT}/correlation/{{family}}/layer{{layer}}/duplicate.parquet",
    log:
        f"{OUT}/logs/correlation/{{family}}/layer{{layer}}.log",
    benchmark:
        f"{OUT}/benchmarks/correlation/{{family}}/layer{{layer}}.tsv"
    wildcard_constraints:
        family=alternation(CORRELATED),
        layer=r"\d+",
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=layer_mem_mb(4000, copies=4),
        runtime=lambda w, attempt: 30 * attempt,
        gpu=int(CORR["device"] == "cuda"),
    params:
        names=lambda w: family_instances(w.family),
        layers=lambda w: [int(w.layer)] * len(family_instances(w.family)),
        block=CORR["block_size"],
        linreg=CORR["linreg"],
        top_fractions=CORR["top_fractions"],
        duplicate=CORR["duplicate"],
        device=CORR["device"],
    script:
        "../../scripts/correlation.py"


rule cross_family_correlation:
    input:
        lambda w: [path for _, path, _ in cross_family_members(w.group)],
    output:
        scores=f"{OUT}/correlation/cross/{{group}}/scores.parquet",
        pairs=f"{OUT}/correlation/cross/{{group}}/pairs.parquet",
        stability=f"{OUT}/correlation/cross/{{group}}/stability.parquet",
        duplicate=f"{OUT}/correlation/cross/{{group}}/duplicate.parquet",
    log:
        f"{OUT}/logs/correlation/cross/{{group}}.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
        gpu=int(CORR["device"] == "cuda"),
    params:
        names=lambda w: [name for name, _, _ in cross_family_members(w.group)],
        layers=lambda w: [layer for _, _, layer in cross_family_members(w.group)],
        block=CORR["block_size"],
        linreg=CORR["linreg"],
        top_fractions=CORR["top_fractions"],
        duplicate=None,
        device=CORR["device"],
    script:
        "../../scripts/correlation.py"


rule similarity:
    input:
        lambda w: corr_inputs(w.family),
    output:
        f"{OUT}/similarity/{{family}}/cka.parquet",
    log:
        f"{OUT}/logs/similarity/{{family}}.log",
    benchmark:
        f"{OUT}/benchmarks/similarity/{{family}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=lambda w, input, attempt: int(max(4000, 2 * input.size_mb) * attempt),
        runtime=lambda w, attempt: 30 * attempt,
    params:
        names=lambda w: family_instances(w.family),
    script:
        "../../scripts/similarity.py"


rule twin_correlation:
    input:
        unpack(lambda w: twin_inputs(w.family)),
        before=f"{OUT}/correlation/{{family}}/layer{{layer}}/scores.parquet",
    output:
        scores=f"{OUT}/correlation/{{family}}/layer{{layer}}/twin/scores.parquet",
        change=f"{OUT}/correlation/{{family}}/layer{{layer}}/twin/change.parquet",
    log:
        f"{OUT}/logs/correlation/{{family}}/layer{{layer}}/twin.log",
    benchmark:
        f"{OUT}/benchmarks/correlation/{{family}}/layer{{layer}}/twin.tsv"
    wildcard_constraints:
        family=alternation(TWINNED),
        layer=r"\d+",
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=lambda w, attempt: 4000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
    params:
        names=lambda w: family_instances(w.family),
        twin=lambda w: family_twin(w.family),
        twin_of=lambda w: f"seed{FAMILIES[w.family]['twin']['of']}",
        block=CORR["block_size"],
        linreg=CORR["linreg"],
        top_fractions=CORR["top_fractions"],
    script:
        "../../scripts/twin_correlation.py"
