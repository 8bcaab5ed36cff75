"""Obtain one split of a user's column-format corpus (path or URL) and verify its checksum."""

from neurosieve.core.runtime import configure
from neurosieve.store.corpus import fetch_corpus_file

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
fetch_corpus_file(
    p.location,
    snakemake.output[0],  # noqa: F821
    split=snakemake.wildcards.split,  # noqa: F821
    sha256=p.sha256,
    retries=p.retries,
    timeout=p.timeout,
    backoff=p.backoff,
)
