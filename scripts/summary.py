"""Write the summary table (Markdown and CSV) of the run's headline numbers."""

from neurosieve.core.runtime import configure
from neurosieve.report.summary import run_summary
from neurosieve.settings import SummarySettings

configure(snakemake)  # noqa: F821
run_summary(
    snakemake.params.families,  # noqa: F821
    snakemake.output.md,  # noqa: F821
    snakemake.output.csv,  # noqa: F821
    snakemake.output.html,  # noqa: F821
    settings=SummarySettings.from_params(snakemake.params.settings),  # noqa: F821
)
