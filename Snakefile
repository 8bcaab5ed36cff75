# Entry point found by `snakemake` at the repository root. The workflow itself lives in
# workflow/Snakefile (the module entry point); an included file cannot set the default
# target, so it is named here.


include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
