"""Every output path of the workflow, known by one object.

Rules, the plan of targets and tests ask :class:`OutputPaths` for a path instead of typing it:
a path's layout lives here once. Pass concrete values for a concrete file, or Snakemake
wildcards (``"{family}"``) for a rule's pattern:

>>> p = OutputPaths("results")
>>> p.activations("bilstm", "seed1", "test")
'results/activations/bilstm/seed1/test.parquet'
>>> p.activations("{family}", "{instance}", "{split}")
'results/activations/{family}/{instance}/{split}.parquet'

Standard library only: the workflow imports it while it parses.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurosieve.core.registry import figure

Part = str | int

#: The tables a probe job writes (:meth:`OutputPaths.probe`), each ``<name>.parquet`` beside ``probe.npz``.
PROBE_TABLES = ("metrics", "tokens", "orderings", "weights", "labels")


@dataclass(frozen=True)
class OutputPaths:
    """The layout of a run's outputs under ``root`` (the config's ``outdir``)."""

    root: str

    def _join(self, *parts: Part) -> str:
        return "/".join([self.root.rstrip("/"), *map(str, parts)])

    # --- data ---
    def raw_split(self, split: Part) -> str:
        """The verified text of a corpus split."""
        return self._join("data", "raw", f"{split}.txt")

    def token_table(self, split: Part) -> str:
        """A split's token table (sentence, position, word and the corpus columns)."""
        return self._join("data", f"{split}.parquet")

    # --- models ---
    def model_dir(self, family: Part, instance: Part) -> str:
        return self._join("models", family, instance)

    def model_file(self, family: Part, instance: Part, name: str) -> str:
        """``model.pt``, ``model.json``, ``metrics.json`` or ``pretrained.json`` of an instance."""
        return f"{self.model_dir(family, instance)}/{name}"

    # --- activations ---
    def activations(self, family: Part, instance: Part, split: Part) -> str:
        """An instance's activation table of one split (``train``, ``test`` or ``train_unk``)."""
        return self._join("activations", family, instance, f"{split}.parquet")

    # --- correlation ---
    def correlation_dir(self, family: Part, layer: Part) -> str:
        return self._join("correlation", family, f"layer{layer}")

    def correlation(self, family: Part, layer: Part, table: str) -> str:
        """``scores``, ``pairs``, ``stability`` or ``duplicate`` of one layer."""
        return f"{self.correlation_dir(family, layer)}/{table}.parquet"

    def twin(self, family: Part, layer: Part, table: str) -> str:
        """``scores`` or ``change`` of the near-twin experiment."""
        return f"{self.correlation_dir(family, layer)}/twin/{table}.parquet"

    def cross_family(self, group: Part, table: str = "scores") -> str:
        """``scores``, ``pairs``, ``stability`` or ``duplicate`` of a cross-family group."""
        return self._join("correlation", "cross", group, f"{table}.parquet")

    def similarity(self, family: Part) -> str:
        return self._join("similarity", family, "cka.parquet")

    # --- probing ---
    def probe_dir(self, family: Part, instance: Part, layer: Part, prop: Part) -> str:
        return self._join("probing", family, instance, f"layer{layer}", prop)

    def probe(self, family: Part, instance: Part, layer: Part, prop: Part, table: str) -> str:
        """``metrics``, ``tokens``, ``orderings``, ``weights`` or ``labels`` (``.parquet``), or ``probe.npz``."""
        name = table if "." in table else f"{table}.parquet"
        return f"{self.probe_dir(family, instance, layer, prop)}/{name}"

    def lambdas(self, family: Part, layer: Part, prop: Part) -> str:
        return self._join("probing", family, "lambdas", f"layer{layer}", f"{prop}.parquet")

    def probing_summary(self, family: Part) -> str:
        return self._join("probing", family, "summary.parquet")

    def all_layers(self, family: Part, instance: Part, prop: Part, table: str) -> str:
        """``orderings`` or ``by_layer`` (``.parquet``) of the probe over every layer concatenated, or ``probe.npz``."""
        return self._join(
            "probing", family, instance, "all_layers", prop, table if "." in table else f"{table}.parquet"
        )

    # --- ablation ---
    def probe_ablation(self, family: Part, instance: Part, layer: Part, prop: Part) -> str:
        return self._join("ablation", "probe", family, instance, f"layer{layer}", f"{prop}.parquet")

    def pool_ablation(self, family: Part, instance: Part, prop: Part) -> str:
        """Probe ablation of the all-layers pool (every layer concatenated, ranked together)."""
        return self._join("ablation", "probe", family, instance, "all_layers", f"{prop}.parquet")

    def model_ablation(self, family: Part, instance: Part, layer: Part) -> str:
        return self._join("ablation", "model", family, instance, f"layer{layer}.parquet")

    def twin_ablation(self, family: Part, instance: Part, layer: Part) -> str:
        return self._join("ablation", "twin", family, instance, f"layer{layer}.parquet")

    def ablation(self, family: Part, table: str) -> str:
        """``curves`` or ``spread`` of a family's ablation summary."""
        return self._join("ablation", family, f"{table}.parquet")

    # --- overlap, neurons, figures, summary ---
    def overlap(self, family: Part, layer: Part) -> str:
        return self._join("overlap", family, f"layer{layer}.parquet")

    def neurons(self, family: Part, instance: Part, layer: Part) -> str:
        return self._join("neurons", family, instance, f"layer{layer}.parquet")

    def browser(self, family: Part) -> str:
        """The neuron browser of a family: one self-contained HTML page."""
        return self._join("browser", f"{family}.html")

    def figure(self, family: Part, name: str, ext: str) -> str:
        """A figure of the registry (:data:`neurosieve.core.registry.FIGURES`) as ``png`` or ``svg``."""
        return self._join("figures", family, f"{figure(name).stem}.{ext}")

    def summary(self, ext: str) -> str:
        return self._join("summary", f"summary.{ext}")

    # --- logs and benchmarks ---
    def log(self, *parts: Part) -> str:
        """A job's log: ``log("probing", family, ...)`` -> ``<root>/logs/probing/<family>/....log``."""
        return self._join("logs", *parts[:-1], f"{parts[-1]}.log")

    def benchmark(self, *parts: Part) -> str:
        """A job's time and memory record, laid out as its log."""
        return self._join("benchmarks", *parts[:-1], f"{parts[-1]}.tsv")


__all__ = ["OutputPaths"]
