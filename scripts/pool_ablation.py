"""Probe ablation of the all-layers pool for one (instance, property): keep the top, bottom or random share."""

from neurosieve.core.runtime import configure
from neurosieve.settings import PoolAblationSettings
from neurosieve.stages.ablation import run_pool_ablation

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
w = snakemake.wildcards  # noqa: F821
inp = snakemake.input  # noqa: F821
run_pool_ablation(
    inp.train,
    inp.test,
    p.layers,
    w.prop,
    inp.probe,
    inp.orderings,
    w.instance,
    snakemake.output[0],  # noqa: F821
    PoolAblationSettings.from_params(p.settings),
    rankings=p.rankings,
)
