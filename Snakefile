# Entry point found by `snakemake` at the repository root. The workflow itself lives in
# workflow/Snakefile (the module entry point); a rule in an included file cannot be the
# default target of the including file, so the default is named here.


include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
