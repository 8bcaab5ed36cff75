"""Obtain one CoNLL-2000 split (download or local copy), verify its checksum, write the text.

Only the checksum reaches this script through ``params:`` (it is the content's identity).
Where the bytes come from (source, local directory, URL, retries, timeouts) is read
from the config on purpose: moving the data or changing a timeout must not rerun the
workflow, and the checksum guarantees the same bytes either way.
"""

from neurosieve.core.runtime import configure
from neurosieve.store.corpus import fetch_split, resolve_source

configure(snakemake)  # noqa: F821 (snakemake is injected by the script directive)
split = snakemake.wildcards.split  # noqa: F821
data = snakemake.config["data"]  # noqa: F821 (transport settings only, see above)
fetch_split(
    split,
    snakemake.output[0],  # noqa: F821
    source=resolve_source(data["source"], data["local_dir"]),
    url=data["urls"][split],
    local_dir=data["local_dir"],
    sha256=snakemake.params.sha256,  # noqa: F821
    retries=data["download"]["retries"],
    timeout=data["download"]["timeout"],
    backoff=data["download"]["backoff"],
)
