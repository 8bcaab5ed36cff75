"""Write the summary table (Markdown and CSV) of the run's headline numbers."""

from neurosieve.core.runtime import configure
from neurosieve.report.summary import run_summary

configure(snakemake)  # noqa: F821
run_summary(snakemake.params.families, snakemake.output.md, snakemake.output.csv, snakemake.output.html)  # noqa: F821
