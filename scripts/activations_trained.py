"""Dump every layer of a tagger trained here over one split."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.stages.activations import dump_tagger_activations

configure(snakemake)  # noqa: F821
dump_tagger_activations(
    Path(snakemake.input.model).parent,  # noqa: F821
    snakemake.input.tokens,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    batch_size=snakemake.params.batch_size,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    unk_rate=snakemake.params.get("unk_rate", 0.0),  # noqa: F821
    seed=snakemake.params.get("seed", 0),  # noqa: F821
    layers=snakemake.params.layers,  # noqa: F821
    dtype=snakemake.params.dtype,  # noqa: F821
)
