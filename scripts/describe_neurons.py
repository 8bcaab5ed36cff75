"""Describe the top neurons of one (family, instance, layer): most associated property label, its r, top words."""

from neurosieve.core.runtime import configure
from neurosieve.stages.describe import run_describe

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
inp = snakemake.input  # noqa: F821
w = snakemake.wildcards  # noqa: F821
run_describe(
    inp.activations,
    int(w.layer),
    dict(zip(p.properties, inp.orderings)),
    inp.scores if "scores" in inp.keys() else None,
    w.instance,
    snakemake.output[0],  # noqa: F821
    properties=p.properties,
    correlation_rankings=p.correlation_rankings,
    top_n=p.top_n,
    n_words=p.n_words,
)
