"""Render one figure of the report (PNG and SVG) from the workflow's tables."""

from neurosieve.core.runtime import configure
from neurosieve.report.figures import render

configure(snakemake)  # noqa: F821
inputs = {k: (list(v) if not isinstance(v, str) else v) for k, v in snakemake.input.items()}  # noqa: F821
render(snakemake.params.figure, inputs, dict(snakemake.params.settings), snakemake.output.png, snakemake.output.svg)  # noqa: F821
