"""Train one (family, seed) tagger for chunking and save it with its metrics."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import TrainSettings
from neurosieve.stages.training import run_training

configure(snakemake)  # noqa: F821
seed, order_seed = snakemake.params.seeds  # noqa: F821 (from the instance name: seed<N>[-order<M>])
run_training(
    snakemake.input.train,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    str(Path(snakemake.output.model).parent),  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    TrainSettings.from_params(snakemake.params.settings),  # noqa: F821
    seed=seed,
    order_seed=order_seed,
)
