"""Obtain one CoNLL-2000 split (download or local copy), verify its checksum, write the text."""

from neurosieve.data import fetch_split
from neurosieve.runtime import configure

configure(snakemake)  # noqa: F821 (snakemake is injected by the script directive)
p = snakemake.params  # noqa: F821
fetch_split(
    snakemake.wildcards.split,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    source=p.source,
    url=p.url,
    local_dir=p.local_dir,
    sha256=p.sha256,
    retries=p.retries,
    timeout=p.timeout,
    backoff=p.backoff,
)
