"""All probe metrics of a family in one table."""

from neurosieve.probing import run_probing_summary
from neurosieve.runtime import configure

configure(snakemake)  # noqa: F821
run_probing_summary(list(snakemake.input), snakemake.params.entries, snakemake.output[0])  # noqa: F821
