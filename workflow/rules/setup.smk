# Parse-time helpers needed before the config is known. Light on purpose: the standard
# library and Snakemake only, so that parsing the workflow needs no ML library.
import copy
import os
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


# Which neurosieve the jobs run (one place; neurosieve.core.runtime.configure checks it in every job).
# - A clone (src/ next to workflow/): its own src/, first on this process's search path (for
#   parsing) and first on PYTHONPATH, which every script job inherits (Snakemake's script
#   preamble only appends this process's search path to the job's, after any installed copy).
# - A module (no src/, e.g. deployed with snakedeploy): the installed package, whose version
#   must be the workflow's (project.version of the pyproject.toml at the root of the
#   workflow's source, which Snakemake fetches from the same tag when the workflow is remote).
# Either way its directory goes to NEUROSIEVE_PACKAGE_DIR (neurosieve.core.runtime.PACKAGE_DIR_VAR),
# and a job that imported another copy stops. On SLURM every job parses the workflow again.
# (located from this file: workflow.basedir is the root Snakefile's directory when the workflow
# is started from there, and source_path() answers with a cache copy)
_SRC = Path(str(workflow.current_basedir)).resolve().parent.parent / "src"


def _use_workflow_source(src):
    """Put ``src`` first on this process's search path and on PYTHONPATH; forget a copy imported from elsewhere."""
    if str(src) in sys.path:
        sys.path.remove(str(src))
    sys.path.insert(0, str(src))
    loaded = sys.modules.get("neurosieve")
    if loaded is not None and src not in Path(loaded.__file__).resolve().parents:
        for name in [
            n for n in sys.modules if n == "neurosieve" or n.startswith("neurosieve.")
        ]:
            del sys.modules[name]
    rest = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            [str(src), *[p for p in rest if p and p != str(src)]]
        )
    )


def _check_installed_version(installed):
    """Stop parsing when the installed package's version is not the workflow's (a module deployment)."""
    import tomllib

    from snakemake.exceptions import WorkflowError
    from snakemake.logging import logger

    base = workflow.current_basedir
    pyproject = base.join("../../pyproject.toml").get_path_or_uri(secret_free=True)
    if "://" not in pyproject:  # a local path: without the rules/../..
        pyproject = os.path.normpath(pyproject)
    try:
        with open(workflow.source_path("../../pyproject.toml"), "rb") as f:
            wanted = tomllib.load(f)["project"]["version"]
    except Exception as e:  # a copy of the workflow without its pyproject.toml
        logger.warning(
            f"neurosieve: the workflow's version is unknown ({e}); not checking the installed package."
        )
        return
    if installed.__version__ == wanted:
        return
    if getattr(base, "repo", None):  # GitHub, GitLab
        where = f"https://{base.host}/{base.repo}"
    elif getattr(base, "repo_path", None):  # a local git repository
        where = f"file://{base.repo_path}"
    else:
        where = "<repository>"
    raise WorkflowError(
        f"The installed neurosieve {installed.__version__} ({Path(installed.__file__).parent}) "
        f"is not this workflow's version {wanted} ({pyproject}): its jobs would run code other "
        "than the workflow's. Install the matching version into the environment that runs "
        f'Snakemake: pip install "neurosieve @ git+{where}@v{wanted}"'
    )


_CLONE = (_SRC / "neurosieve" / "__init__.py").is_file()
if _CLONE:
    _use_workflow_source(_SRC)
import neurosieve

if not _CLONE:
    _check_installed_version(neurosieve)
os.environ.update(
    NEUROSIEVE_PACKAGE_DIR=str(Path(neurosieve.__file__).resolve().parent)
)
