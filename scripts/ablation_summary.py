"""All ablation curves of a family in one table, with their spread across instances."""

from neurosieve.core.runtime import configure
from neurosieve.stages.ablation import run_ablation_summary

configure(snakemake)  # noqa: F821
run_ablation_summary(list(snakemake.input), snakemake.output.curves, snakemake.output.spread)  # noqa: F821
