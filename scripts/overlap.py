"""CCA against LCA for one (family, layer): top-k overlap of correlation rankings with each property's LCA ordering."""

from neurosieve.core.runtime import configure
from neurosieve.settings import OverlapSettings
from neurosieve.stages.overlap import run_overlap

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
run_overlap(
    snakemake.input.scores,  # noqa: F821
    {(inst, prop): path for (inst, prop), path in zip(p.entries, snakemake.input.orderings)},  # noqa: F821
    snakemake.output[0],  # noqa: F821
    layer=int(snakemake.wildcards.layer),  # noqa: F821
    settings=OverlapSettings.from_params(p.settings),
)
