"""Dump every hidden state of a pretrained encoder, pooled per word, over one split."""

from neurosieve.core.runtime import configure
from neurosieve.stages.activations import dump_pretrained_activations

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
dump_pretrained_activations(
    p.model,
    snakemake.input.tokens,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    pooling=p.pooling,
    batch_size=p.batch_size,
    max_length=p.max_length,
    device=p.device,
    random_init_seed=p.random_init_seed,
    layers=p.layers,
    dtype=p.dtype,
)
