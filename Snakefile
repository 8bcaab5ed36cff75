# Entry point found by `snakemake` at the repository root. The workflow itself lives in
# workflow/Snakefile (the module entry point); a rule in an included file cannot be the
# default target of the including file, so the default is named here.


include: "workflow/Snakefile"


rule default:
    """Everything the config plans: data, models, activations, correlation, probing, ablation, figures and the summary."""
    default_target: True
    input:
        rules.all.input,
