# CCA against LCA: per (family, probed layer), the top-k overlap of every correlation ranking
# with every property's LCA ordering, per instance, with chance and a permutation p-value.


rule cca_lca_overlap:
    input:
        unpack(lambda w: overlap_inputs(w.family, int(w.layer))),
    output:
        overlap_path("{family}", "{layer}"),
    log:
        f"{OUT}/logs/overlap/{{family}}/layer{{layer}}.log",
    wildcard_constraints:
        family=alternation(CORRELATED),
        layer=r"\d+",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        entries=lambda w: overlap_keys(w.family),
        top_fractions=OVERLAP["top_fractions"],
        permutations=OVERLAP["permutations"],
        seed=OVERLAP["seed"],
    script:
        "../../scripts/overlap.py"
