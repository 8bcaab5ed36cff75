"""Obtain one CoNLL-2000 split (download or local copy), verify its checksum, write the text.

Only the checksum reaches this script through ``params:`` (it is the content's identity).
Where the bytes come from (source, local directory, URL, retries, timeouts) is read
from the config on purpose: moving the data or changing a timeout must not rerun the
workflow, and the checksum guarantees the same bytes either way.
"""

from neurosieve.core.runtime import configure
from neurosieve.settings import DataSourceSettings, FetchSettings
from neurosieve.stages.data import run_fetch_conll

configure(snakemake)  # noqa: F821 (snakemake is injected by the script directive)
split = snakemake.wildcards.split  # noqa: F821
run_fetch_conll(
    split,
    snakemake.output[0],  # noqa: F821
    FetchSettings.from_params(snakemake.params.settings),  # noqa: F821
    DataSourceSettings.from_config(snakemake.config, split=split),  # noqa: F821 (transport only, see above)
)
