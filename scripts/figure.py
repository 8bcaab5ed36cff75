"""Render one figure of the report (PNG and SVG) from the workflow's tables."""

from neurosieve.core.runtime import configure
from neurosieve.report.figures import render
from neurosieve.settings import FigureSettings

configure(snakemake)  # noqa: F821
inputs = {k: (list(v) if not isinstance(v, str) else v) for k, v in snakemake.input.items()}  # noqa: F821
render(
    snakemake.params.figure,  # noqa: F821
    inputs,
    FigureSettings.from_params(snakemake.params.settings),  # noqa: F821
    snakemake.output.png,  # noqa: F821
    snakemake.output.svg,  # noqa: F821
)
