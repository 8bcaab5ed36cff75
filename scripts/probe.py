"""Train and evaluate one elastic-net probe; write its orderings, weights, per-label neurons and metrics."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import ProbeSettings
from neurosieve.stages.probing import run_probing

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
w = snakemake.wildcards  # noqa: F821
inp = snakemake.input  # noqa: F821
run_probing(
    inp.train,
    inp.test,
    int(w.layer),
    w.prop,
    dict(snakemake.output.items()),  # noqa: F821
    ProbeSettings.from_params(p.settings),
    lambdas_path=inp.get("lambdas"),
    model_kind=p.model_kind,
    model_source=str(Path(inp.model_spec).parent) if "model_spec" in inp.keys() else p.model_source,
    untrained_path=inp.get("untrained"),
    train_unk_path=inp.get("train_unk"),
    untrained_tokens_path=inp.get("untrained_tokens"),
)
