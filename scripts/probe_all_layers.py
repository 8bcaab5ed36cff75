"""All-layer LCA for one (instance, property): one probe on every layer concatenated, one ordering over the model."""

from neurosieve.core.runtime import configure
from neurosieve.settings import AllLayerProbeSettings
from neurosieve.stages.probing import run_all_layer_probing

configure(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
inp = snakemake.input  # noqa: F821
run_all_layer_probing(
    inp.train,
    inp.test,
    p.layers,
    snakemake.wildcards.prop,  # noqa: F821
    dict(snakemake.output.items()),  # noqa: F821
    AllLayerProbeSettings.from_params(p.settings),
)
