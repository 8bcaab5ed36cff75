"""Obtain one split of a user's column-format corpus (path or URL) and verify its checksum."""

from neurosieve.core.runtime import configure
from neurosieve.settings import CorpusFetchSettings
from neurosieve.stages.data import run_fetch_corpus

configure(snakemake)  # noqa: F821
run_fetch_corpus(
    snakemake.wildcards.split,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    CorpusFetchSettings.from_params(snakemake.params.settings),  # noqa: F821
)
