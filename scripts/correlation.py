"""Cross-model correlation of one layer of a family (or of a cross-family group)."""

from neurosieve.core.runtime import configure
from neurosieve.settings import CorrelationSettings
from neurosieve.stages.correlation import run_correlation

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
out = snakemake.output  # noqa: F821
run_correlation(
    dict(zip(p.names, zip(snakemake.input, p.layers))),  # noqa: F821
    out.scores,
    out.pairs,
    out.stability,
    out.duplicate,
    CorrelationSettings.from_params(p.settings),
)
