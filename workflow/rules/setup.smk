# Parse-time helpers needed before the config is known. Light on purpose: the standard
# library and Snakemake only, so that parsing the workflow needs no ML library.
import copy
import sys
from pathlib import Path

import yaml
from snakemake.utils import update_config


def merge_onto_default_config(config, shipped):
    """Merge a partial config (no `families`) onto the default config/config.yaml.

    The default is the working directory's config/config.yaml when there is one (a
    deployment's own copy), else ``shipped``, the one that comes with the workflow.
    """
    local = Path("config/config.yaml")
    default = local if local.is_file() else Path(shipped)
    partial = copy.deepcopy(dict(config))
    config.clear()
    config.update(yaml.safe_load(default.read_text()))
    update_config(config, partial)


# Parse with the workflow's own package source when it is local (a clone, or the catalog's
# lint step in an environment without the package): the parse-time helpers then always match
# this version of the workflow. Snakemake passes this search path on to every script.
_SRC = Path(workflow.basedir).parent / "src"
if (_SRC / "neurosieve" / "__init__.py").is_file() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))
