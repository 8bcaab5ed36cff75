"""Probe ablation for one (instance, layer, property): keep k neurons by each ranking; mask or retrain."""

from pathlib import Path

from neurosieve.core.runtime import configure
from neurosieve.settings import ProbeAblationSettings
from neurosieve.stages.ablation import run_probe_ablation

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
w = snakemake.wildcards  # noqa: F821
inp = snakemake.input  # noqa: F821
run_probe_ablation(
    inp.train,
    inp.test,
    int(w.layer),
    w.prop,
    inp.probe,
    inp.orderings,
    inp.get("scores"),
    w.instance,
    snakemake.output[0],  # noqa: F821
    ProbeAblationSettings.from_params(p.settings),
    rankings=p.rankings,
    model_kind=p.model_kind,
    model_source=str(Path(inp.model_spec).parent) if "model_spec" in inp.keys() else p.model_source,
)
