"""Grid search of the probe's (l1, l2) on held-out train sentences of a reference instance."""

from neurosieve.core.runtime import configure
from neurosieve.settings import LambdaSearchSettings
from neurosieve.stages.probing import run_lambda_selection

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
w = snakemake.wildcards  # noqa: F821
run_lambda_selection(
    snakemake.input[0],  # noqa: F821
    int(w.layer),
    w.prop,
    snakemake.output[0],  # noqa: F821
    LambdaSearchSettings.from_params(p.settings),
)
