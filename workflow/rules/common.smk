# Shared setup: the config validated before any job runs, the run's plan (targets and job
# inputs: neurosieve.plan.RunPlan) and what rules need for environments and resources.
# Output paths are known by PATHS (neurosieve.core.paths.OutputPaths), rankings and figures
# by neurosieve.core.registry.
import json
import sys

# Light imports only (jsonschema, yaml): parsing needs no torch, transformers or hub access.
from neurosieve.config import (
    ConfigError,
    LayersUnknown,
    coerce_cli_values,
    common_depth,
    family_depth,
    instance_seed,
    instance_seeds,
    load_schema,
    validate_config,
)
from neurosieve.core.registry import CHUNK_LCA, FIGURES, PROBE_RANKINGS
from neurosieve.core.runtime import local_gpu_count
from neurosieve.plan import PROBE_TABLES, SPLITS, UNTRAINED, RunPlan
import neurosieve.settings as settings  # one frozen settings class per stage
from neurosieve.core.corpus import is_url


def invalid_config(exc):
    """Stop parsing with one message naming every bad key, without a traceback."""
    sys.exit(f"neurosieve: {exc}")


# Nested --config values arrive as strings (Snakemake reads them with YAML's base loader):
# read them as a config file would before validating.
update_config(
    config, coerce_cli_values(workflow.config_settings.overwrite_config or {})
)
try:
    _validated = validate_config(
        config, load_schema(workflow.source_path("../schemas/config.schema.yaml"))
    )
except ConfigError as exc:
    invalid_config(exc)
config.clear()
config.update(_validated)


def read_model_info(path):
    with open(path) as f:
        return json.load(f)


def layer_count(family):
    """A family's layer count: from the config or model files on disk, else from the model_info
    checkpoint (a hub model, fetched once on the head node; only input functions may ask).
    """
    try:
        return family_depth(config["families"][family])
    except LayersUnknown:
        return common_depth(
            [
                read_model_info(
                    checkpoints.model_info.get(family=family, instance=inst).output[0]
                )["layers"]
                for inst in PLAN.instances(family)
            ]
        )


PLAN = RunPlan(config, depth=layer_count)
try:
    PLAN.check()
except ConfigError as exc:
    invalid_config(exc)
PATHS = PLAN.paths
# Short names the rules use.
FAMILIES = PLAN.families
TRAINED, PRETRAINED, FINETUNED = PLAN.trained, PLAN.pretrained, PLAN.finetuned
MODELLED, CORRELATED, TWINNED = PLAN.modelled, PLAN.correlated, PLAN.twinned
PROBE, ABL, CORR, FIG = (
    config["probing"],
    config["ablation"],
    config["correlation"],
    config["figures"],
)
# A user's own column-format corpus (data.corpus), or None for CoNLL-2000.
CORPUS = config["data"]["corpus"]


def alternation(names):
    """A wildcard constraint matching exactly these names (and nothing when there are none)."""
    return "|".join(names) if names else "(?!)"


wildcard_constraints:
    split="train|test",
    instance="[A-Za-z0-9_.-]+",


# --- software environments and cluster resources ---

# Run locally, GPU jobs share the GPUs present (a --resources gpu=N given by hand wins).
if (
    workflow.local_exec
    and not workflow.dryrun
    and "gpu" not in workflow.global_resources
):
    workflow.global_resources["gpu"] = local_gpu_count()


def family_uses_gpu(family):
    """A family's jobs ask the scheduler for a GPU when its device is cuda, or auto with gpu.request_for_auto."""
    device = FAMILIES[family]["device"]
    return device == "cuda" or (device == "auto" and config["gpu"]["request_for_auto"])


def family_gpu(wildcards):
    return int(family_uses_gpu(wildcards.family))


def probe_gpu(wildcards):
    return int(PROBE["probe"]["device"] == "cuda")


def family_torch_env(w):
    """The CUDA build of PyTorch for a family's jobs that get a GPU, else the CPU build."""
    return "../../envs/torch-cuda.yaml" if family_gpu(w) else "../../envs/torch.yaml"


def probe_env(w):
    """Probes fitted on a GPU need the CUDA build of PyTorch."""
    return "../../envs/torch-cuda.yaml" if probe_gpu(w) else "../../envs/analysis.yaml"


def correlation_env(w):
    """Correlation on a GPU (correlation.device: cuda) needs the CUDA build of PyTorch."""
    cuda = CORR["device"] == "cuda"
    return "../../envs/torch-cuda.yaml" if cuda else "../../envs/analysis.yaml"


def layer_mem_mb(base, copies):
    """max(base, copies x (input size / layers)) MB, times the attempt: a job reading one layer of
    an activation file (which holds every layer) holds about that share, times its copies.
    """

    def mem_mb(wildcards, input, attempt):
        per_layer = input.size_mb / max(1, len(PLAN.layers(wildcards.family)))
        return int(max(base, copies * per_layer) * attempt)

    return mem_mb


def pool_mem_mb(base, copies):
    """PLAN.pool_memory_mb of the job's input files, times the attempt: the all-layer probe and the pool's
    ablation hold every layer of both splits at once (at bert-base's shape 5.2 GB as stored, float16). The
    fista solver holds a standardised float32 copy of the pool beside it: two more copies of a float16 file.
    """
    fista = config["probing"]["probe"]["solver"] == "fista"

    def mem_mb(wildcards, input, attempt):
        return PLAN.pool_memory_mb(input.size_mb, base, copies + 2 * fista) * attempt

    return mem_mb


def similarity_mem_mb(wildcards, input, attempt):
    """PLAN.similarity_request_mb of the family's activation files, times the attempt: with
    correlation.cka_tokens the job holds the sample, not one instance's every token."""
    # Snakemake's own sizes first: while the DAG is built they leave the request to be determined (<TBD>)
    # until the files exist, so nothing reads a file that is not there yet.
    sizes = list(input.size_files_mb)
    files = [str(f) for f in input]
    return PLAN.similarity_request_mb(wildcards.family, files, sizes) * attempt


def activation_output(path):
    """Activation files are kept for reuse unless activations.keep is false (then temp())."""
    return path if config["activations"]["keep"] else temp(path)
