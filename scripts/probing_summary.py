"""All probe metrics of a family in one table."""

from neurosieve.core.runtime import configure
from neurosieve.stages.probing import run_probing_summary

configure(snakemake)  # noqa: F821
run_probing_summary(list(snakemake.input), snakemake.params.entries, snakemake.output[0])  # noqa: F821
