"""Train one (family, seed) tagger for chunking and save it with its metrics."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.stages.training import run_training

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
run_training(
    snakemake.input.train,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    str(Path(snakemake.output.model).parent),  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    kind=p.kind,
    seed=p.seed,
    model_params=p.model,
    train_params=p.train,
    subset=p.subset,
    device=p.device,
    order_seed=p.order_seed,
)
