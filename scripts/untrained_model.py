"""The untrained baseline of a family trained here: its tagger at the baseline's seed, saved without training."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import UntrainedModelSettings
from neurosieve.stages.training import run_training

configure(snakemake)  # noqa: F821
settings = UntrainedModelSettings.from_params(snakemake.params.settings)  # noqa: F821
run_training(
    snakemake.input.train,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    str(Path(snakemake.output.model).parent),  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    settings,
    seed=settings.seed,
    order_seed=settings.seed,
)
