"""Linear CKA between every (instance, layer) pair of a family."""

from neurosieve.correlation import run_similarity
from neurosieve.runtime import configure

configure(snakemake)  # noqa: F821
run_similarity(dict(zip(snakemake.params.names, snakemake.input)), snakemake.output[0])  # noqa: F821
