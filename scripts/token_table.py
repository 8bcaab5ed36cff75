"""Parse a verified CoNLL-2000 split into its Parquet token table."""

from neurosieve.core.runtime import configure
from neurosieve.store.corpus import build_token_table

configure(snakemake)  # noqa: F821
build_token_table(
    snakemake.input[0],  # noqa: F821
    snakemake.output[0],  # noqa: F821
    snakemake.wildcards.split,  # noqa: F821
    snakemake.params.max_sentences,  # noqa: F821
    columns=snakemake.params.columns,  # noqa: F821
    comment=snakemake.params.comment,  # noqa: F821
    check_published_counts=snakemake.params.check_published_counts,  # noqa: F821
)
