"""All ablation curves of a family in one table, with their spread across instances."""

from neurosieve.ablation import run_ablation_summary
from neurosieve.runtime import configure

configure(snakemake)  # noqa: F821
run_ablation_summary(list(snakemake.input), snakemake.output.curves, snakemake.output.spread)  # noqa: F821
