"""Describe the top neurons of one (family, instance, layer): most associated property label, its r, top words."""

from neurosieve.core.runtime import configure
from neurosieve.settings import DescribeSettings
from neurosieve.stages.describe import run_describe

configure(snakemake)  # noqa: F821
inp = snakemake.input  # noqa: F821
w = snakemake.wildcards  # noqa: F821
settings = DescribeSettings.from_params(snakemake.params.settings)  # noqa: F821
run_describe(
    inp.activations,
    int(w.layer),
    dict(zip(settings.properties, inp.orderings)),
    inp.scores if "scores" in inp.keys() else None,
    w.instance,
    snakemake.output[0],  # noqa: F821
    settings,
)
