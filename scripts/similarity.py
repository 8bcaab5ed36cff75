"""Linear CKA between every (instance, layer) pair of a family."""

from neurosieve.core.runtime import configure
from neurosieve.stages.correlation import run_similarity

configure(snakemake)  # noqa: F821
run_similarity(dict(zip(snakemake.params.names, snakemake.input)), snakemake.output[0])  # noqa: F821
