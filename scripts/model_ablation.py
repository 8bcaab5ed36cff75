"""Model ablation for one trained instance and layer: chunk F1 with k neurons removed (zeroed or set to their mean) inside the model."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import ModelAblationSettings
from neurosieve.stages.ablation import run_model_ablation

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
w = snakemake.wildcards  # noqa: F821
inp = snakemake.input  # noqa: F821
run_model_ablation(
    str(Path(inp.model).parent),
    inp.tokens,
    int(w.layer),
    inp.get("orderings"),
    inp.get("scores"),
    w.instance,
    snakemake.output[0],  # noqa: F821
    ModelAblationSettings.from_params(p.settings),
    rankings=p.rankings,
    train_activations_path=inp.get("train"),
    chunk_orderings_path=inp.get("chunk_orderings"),
    chunk_tokens_path=inp.get("chunk_tokens"),
)
