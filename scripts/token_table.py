"""Parse a verified split (CoNLL-2000 or a user's corpus) into its Parquet token table."""

from neurosieve.core.runtime import configure
from neurosieve.settings import TokenTableSettings
from neurosieve.stages.data import run_token_table

configure(snakemake)  # noqa: F821
run_token_table(
    snakemake.input[0],  # noqa: F821
    snakemake.output[0],  # noqa: F821
    snakemake.wildcards.split,  # noqa: F821
    TokenTableSettings.from_params(snakemake.params.settings),  # noqa: F821
)
