"""Dump every layer of a model saved here (a tagger or a fine-tuned encoder) over one split."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import TaggerActivationSettings
from neurosieve.stages.activations import run_tagger_activations

configure(snakemake)  # noqa: F821
run_tagger_activations(
    Path(snakemake.input.model).parent,  # noqa: F821
    snakemake.input.tokens,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    TaggerActivationSettings.from_params(snakemake.params.settings),  # noqa: F821
)
