"""Dump every hidden state of a pretrained encoder (or of its untrained baseline), pooled per word, over one split."""

from neurosieve.core.runtime import configure
from neurosieve.settings import EncoderActivationSettings
from neurosieve.stages.activations import run_encoder_activations

configure(snakemake)  # noqa: F821
run_encoder_activations(
    snakemake.params.model,  # noqa: F821
    snakemake.input.tokens,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    EncoderActivationSettings.from_params(snakemake.params.settings),  # noqa: F821
)
