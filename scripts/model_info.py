"""Fetch a pretrained model once (a hub model into the Hugging Face cache) and record its path and layer count."""

from neurosieve.core.runtime import configure
from neurosieve.models.modelspec import fetch_model_info
from neurosieve.store.io import write_json

log = configure(snakemake)  # noqa: F821
info = fetch_model_info(snakemake.params.model)  # noqa: F821
log.info("model %s: %d activation layers, at %s", info["model"], info["layers"], info["path"])
write_json(info, snakemake.output[0])  # noqa: F821
