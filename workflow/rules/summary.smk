# The summary table of headline numbers, beside the paper's findings.


rule summary:
    """The summary table: every headline number with its id, source, spread over instances and paired test."""
    input:
        lambda w: PLAN.summary_inputs(),
    output:
        md=PATHS.summary("md"),
        csv=PATHS.summary("csv"),
        html=report(
            PATHS.summary("html"),
            caption="../report/summary.rst",
            category="Summary",
            labels={"table": "headline numbers"},
        ),
    log:
        PATHS.log("summary"),
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        families=lambda w: [PLAN.summary_family(f) for f in FAMILIES],
        settings=settings.SummarySettings.params(config),
    script:
        "../../scripts/summary.py"
