"""The near-twin experiment of one layer of a family: rankings with and without the twin."""

from neurosieve.core.runtime import configure
from neurosieve.settings import TwinCorrelationSettings
from neurosieve.stages.correlation import run_twin_correlation

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
inp = snakemake.input  # noqa: F821
out = snakemake.output  # noqa: F821
run_twin_correlation(
    dict(zip(p.names, inp.family)),
    inp.twin,
    int(snakemake.wildcards.layer),  # noqa: F821
    p.twin,
    p.twin_of,
    inp.before,
    out.scores,
    out.change,
    TwinCorrelationSettings.from_params(p.settings),
)
