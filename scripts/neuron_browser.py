"""The neuron browser of one family: its figure instance and layer as one self-contained HTML page."""

from neurosieve.core.runtime import configure
from neurosieve.report.browser import run_browser
from neurosieve.settings import BrowserSettings

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
inp = snakemake.input  # noqa: F821
run_browser(
    inp.activations,
    p.layer,
    inp.orderings,
    inp.scores if "scores" in inp.keys() else None,
    snakemake.wildcards.family,  # noqa: F821
    p.instance,
    p.property,
    snakemake.output[0],  # noqa: F821
    BrowserSettings.from_params(p.settings),
)
