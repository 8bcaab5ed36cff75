# The summary table of headline numbers, beside the paper's findings.


rule summary:
    input:
        lambda w: summary_inputs(),
    output:
        md=f"{OUT}/summary/summary.md",
        csv=f"{OUT}/summary/summary.csv",
        html=report(
            f"{OUT}/summary/summary.html",
            caption="../report/summary.rst",
            category="Summary",
            labels={"table": "headline numbers"},
        ),
    log:
        f"{OUT}/logs/summary.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        families=lambda w: [summary_family(f) for f in FAMILIES],
    script:
        "../../scripts/summary.py"
