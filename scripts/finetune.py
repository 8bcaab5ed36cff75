"""Fine-tune one (family, seed): the family's pretrained encoder with a linear chunking head."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import FinetuneSettings
from neurosieve.stages.training import run_finetuning

configure(snakemake)  # noqa: F821
run_finetuning(
    snakemake.input.train,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    str(Path(snakemake.output.model).parent),  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    FinetuneSettings.from_params(snakemake.params.settings),  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
)
