"""Linear CKA between every (instance, layer) pair of a family."""

from neurosieve.core.runtime import configure
from neurosieve.settings import SimilaritySettings
from neurosieve.stages.correlation import run_similarity

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
run_similarity(dict(zip(p.names, snakemake.input)), snakemake.output[0], SimilaritySettings.from_params(p.settings))  # noqa: F821
