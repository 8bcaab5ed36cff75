"""The plan of a run: which families, instances, layers, rankings and figures a validated config asks for,
and which files each job reads.

The workflow builds one :class:`RunPlan` while it parses (``workflow/rules/common.smk``) and its rules
ask it for their inputs; tests build one from a config alone. Paths come from
:class:`~neurosieve.core.paths.OutputPaths`, rankings and figures from
:mod:`neurosieve.core.registry`. The number of layers of a hub model may be known only after
a job has fetched its configuration, so the plan takes a ``depth`` function (family -> layer
count) that the workflow answers from its ``model_info`` checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from neurosieve.config import (
    FINETUNED_KIND,
    TRAINED_KINDS,
    ConfigError,
    LayersUnknown,
    family_depth,
    family_layers,
    instance_model,
    instances,
    twin_instance,
)
from neurosieve.core.corpus import local_split_file
from neurosieve.core.paths import PROBE_TABLES, OutputPaths
from neurosieve.core.registry import (
    CHUNK_LCA,
    CHUNK_PROPERTY,
    CORRELATION_RANKINGS,
    FIGURES,
    MODEL_RANKINGS,
    PROBE_RANKINGS,
    Figure,
    figure,
)
from neurosieve.settings import SUMMARY_FAMILY_SETTINGS, FigureSettings

#: The untrained-model baseline is probed as an extra instance of each family.
UNTRAINED = "untrained"
SPLITS = ("train", "test")


def _chosen(layers: list[int], depth: int, wanted: list[int] | None) -> list[int]:
    """``layers`` among ``wanted`` (None: all; a negative index counts from the top, -1 = ``depth - 1``)."""
    if wanted is None:
        return layers
    resolved = {n if n >= 0 else depth + n for n in wanted}
    return [n for n in layers if n in resolved]


class RunPlan:
    """Targets and job inputs of one validated config (``config`` as :func:`neurosieve.config.validate_config`
    returns it)."""

    def __init__(self, config: Mapping[str, Any], depth: Callable[[str], int] | None = None) -> None:
        self.config = config
        self.paths = OutputPaths(config["outdir"])
        self.families: Mapping[str, Any] = config["families"]
        self._depth = depth or (lambda family: family_depth(self.families[family]))
        kinds = {f: c["kind"] for f, c in self.families.items()}
        self.trained = [f for f, k in kinds.items() if k in TRAINED_KINDS]
        self.pretrained = [f for f, k in kinds.items() if k == "pretrained"]
        self.finetuned = [f for f, k in kinds.items() if k == FINETUNED_KIND]
        #: Families with a model saved here (trained or fine-tuned): activations from it, model ablation of it.
        self.modelled = self.trained + self.finetuned
        #: Families whose instances can be correlated with each other (at least two instances).
        self.correlated = [f for f in self.families if len(instances(self.families[f])) >= 2]
        self.twinned = [f for f in self.families if self.twin(f)]
        self.probing = config["probing"]
        self.ablation = config["ablation"]
        self.corr = config["correlation"]
        self.figures = config["figures"]

    # --- checks a schema cannot express ---
    def check(self) -> None:
        """Every setting that names a layer, an instance or a family names one that exists (else :class:`ConfigError`).

        Run while the workflow parses, before any job: one message lists every problem with its full key
        and what would be valid. A family whose layer count is known only after its model is fetched (a hub
        model not cached yet) is checked where its layers are known.
        """
        problems: list[str] = []
        depths: dict[str, int] = {}
        for fam, spec in self.families.items():
            try:
                depths[fam] = family_depth(spec)
            except LayersUnknown:
                continue
            layers = family_layers(spec, depths[fam])
            for key, wanted in (
                ("probing.layers", self.probing["layers"]),
                ("ablation.layers", self.ablation["layers"]),
            ):
                if wanted is None:
                    continue
                valid = (
                    f"family {fam!r} (layers {layers}; a negative index counts from its top, -1 = {depths[fam] - 1})"
                )
                if not _chosen(layers, depths[fam], list(wanted)):
                    problems.append(f"config key '{key}': {list(wanted)} selects no layer of {valid}")
            if not self.probed_layers(fam, depths[fam]):
                continue
            if not self.ablated_layers(fam, depths[fam]):
                problems.append(
                    f"config key 'ablation.layers': {self.ablation['layers']} keeps none of family {fam!r}'s probed "
                    f"layers {self.probed_layers(fam, depths[fam])}; the figures and the summary need one"
                )
            else:
                try:
                    self.fig_layer(fam, depths[fam])
                except ValueError as exc:
                    problems.append(str(exc))
        in_probe = [r for r in self.ablation["rankings"] if r in MODEL_RANKINGS]
        if in_probe:
            problems.append(
                f"config key 'ablation.rankings': {in_probe} are computed from the tagger by model ablation; "
                "name them in ablation.model.rankings only"
            )
        if (
            self.ablation["model"]["enabled"]
            and CHUNK_LCA in self.ablation["model"]["rankings"]
            and CHUNK_PROPERTY not in self.probing["properties"]
            and self.trained
        ):
            problems.append(
                f"config key 'ablation.model.rankings': {CHUNK_LCA} reads the {CHUNK_PROPERTY}-tag probe, but "
                f"probing.properties {self.probing['properties']} has no {CHUNK_PROPERTY!r}; add it there or drop "
                f"{CHUNK_LCA}"
            )
        not_probe = [r for r in self.ablation["pool"]["rankings"] if r not in PROBE_RANKINGS]
        if self.ablation["pool"]["enabled"] and not_probe:
            problems.append(
                f"config key 'ablation.pool.rankings': {not_probe} are not probe rankings; the pool is ranked by its "
                f"all-layer probe only, choose among {sorted(PROBE_RANKINGS)}"
            )
        for group, members in self.corr["cross_family"].items():
            for i, member in enumerate(members):
                key = f"correlation.cross_family.{group}.{i}"
                fam, _, layer = str(member).partition(":")
                if fam not in self.families:
                    problems.append(f"config key '{key}': {member!r} names no family; families: {list(self.families)}")
                elif not layer.isdigit():
                    problems.append(f"config key '{key}': {member!r} must be 'family:layer', e.g. '{fam}:1'")
                elif fam in depths and int(layer) not in family_layers(self.families[fam], depths[fam]):
                    layers = family_layers(self.families[fam], depths[fam])
                    problems.append(f"config key '{key}': family {fam!r} has no layer {layer} (layers {layers})")
        named = {inst: fam for fam in self.families for inst in self.instances(fam)}
        duplicate = self.corr["duplicate"]
        correlated = {i for f in self.correlated for i in self.instances(f)}
        if duplicate not in (None, "first") and duplicate not in correlated:
            problems.append(
                f"config key 'correlation.duplicate': {duplicate!r} is no instance of a family with several "
                f"instances ({sorted(correlated)}); 'first' copies each family's first, null skips the experiment"
            )
        for key in ("instance", "layer"):
            if isinstance(self.figures[key], Mapping):
                for fam in self.figures[key]:
                    if fam not in self.families:
                        problems.append(
                            f"config key 'figures.{key}.{fam}': no such family; families: {list(self.families)}"
                        )
        if isinstance(self.figures["instance"], Mapping):
            for fam, inst in self.figures["instance"].items():
                if fam in self.families and inst not in self.instances(fam):
                    problems.append(
                        f"config key 'figures.instance.{fam}': {inst!r} is no instance of family {fam!r} "
                        f"({self.instances(fam)})"
                    )
        elif self.figures["instance"] is not None and self.figures["instance"] not in named:
            problems.append(
                f"config key 'figures.instance': {self.figures['instance']!r} is no instance of any family "
                f"({sorted(named)}); null takes each family's first, and a mapping {{family: instance}} chooses "
                "per family"
            )
        for fam, spec in self.families.items():
            model = spec.get("model") if spec["kind"] == "transformer" else None
            if model and model["hidden_dim"] % model["num_heads"]:
                problems.append(
                    f"config key 'families.{fam}.model.num_heads': {model['num_heads']} does not divide "
                    f"hidden_dim {model['hidden_dim']}"
                )
        if self.figures["property"] not in self.ablation["properties"]:
            problems.append(
                f"config key 'figures.property': {self.figures['property']!r} must be one of ablation.properties "
                f"{list(self.ablation['properties'])}"
            )
        problems += self._data_problems()
        if problems:
            raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))

    def _data_problems(self) -> list[str]:
        """A local CoNLL-2000 directory must exist and hold both splits (gzipped or plain)."""
        data = self.config["data"]
        if data.get("corpus"):
            return []
        local = data.get("local_dir")
        if local is None:
            if data.get("source") == "local":
                return ["config key 'data.local_dir': required when data.source is 'local' (or use source: auto)"]
            return []
        directory = Path(local)
        if data.get("source") == "download":
            return []
        if not directory.is_dir():
            return [f"config key 'data.local_dir': directory {str(directory)!r} does not exist"]
        missing = [s for s in SPLITS if local_split_file(directory, s) is None]
        if missing:
            return [
                f"config key 'data.local_dir': {str(directory)!r} holds no "
                + " or ".join(f"{s}.txt.gz / {s}.txt" for s in missing)
            ]
        return []

    # --- families, instances, layers ---
    def instances(self, family: str) -> list[str]:
        return instances(self.families[family])

    def depth(self, family: str) -> int:
        return self._depth(family)

    def layers(self, family: str, depth: int | None = None) -> list[int]:
        """A family's activation layers (``depth``: its layer count when known already, as in :meth:`check`)."""
        return family_layers(self.families[family], self.depth(family) if depth is None else depth)

    def pool_memory_mb(self, input_mb: float, base: float, copies: float) -> int:
        """Memory (MB) of a job that holds every layer of its activation files at once, at their stored precision
        (the all-layer probe, the pool's ablation; a float16 pool stays float16 in memory): ``copies`` times the
        files' size, at least ``base``. At bert-base's shape (files of 5.2 GB as float16) the two jobs peak at 1.13
        and 1.23 times the files (benchmarks/bench_pool_memory.py)."""
        return int(max(base, copies * input_mb))

    def similarity_request_mb(self, family: str, files: list[str], sizes_mb: list[float], base: float = 4000) -> int:
        """:meth:`similarity_memory_mb` of a family's activation files (paths and sizes), the token count read
        from the first file's footer when ``correlation.cka_tokens`` samples (pyarrow: imported only then, when the
        job is scheduled, never while the workflow parses)."""
        sample = self.config["correlation"].get("cka_tokens")
        tokens = None
        if sample is not None and files:
            from neurosieve.store.activations import row_count

            tokens = row_count(files[0])
        return self.similarity_memory_mb(sizes_mb, len(self.layers(family)), tokens, sample, base)

    def similarity_memory_mb(
        self, sizes_mb: list[float], layers: int, tokens: int | None, cka_tokens: int | None, base: float = 4000
    ) -> int:
        """Memory (MB) of a family's CKA job (``similarity``), from its activation files' sizes (``sizes_mb``, one
        per instance; ``layers`` hidden states each, ``tokens`` rows). On every token it holds one instance's layers
        widened to float32 while the others stream past: three times one file (float16 files count twice). On a
        sample of ``cka_tokens`` it holds every file's sampled rows at stored precision plus one whole layer
        being read (float32, and the stored column beside it): the sample's share of all the files, 1.5 times,
        and three times one layer's share of a file. At bert-base's shape (six float16 files of 4.2 GB, 13
        hidden states, 211,727 tokens, a 20,000-token sample) that is 4.4 GB where every token asks 12.1 GB."""
        largest = max(sizes_mb, default=0.0)
        if cka_tokens is None or not tokens or cka_tokens >= tokens:
            return int(max(base, 3 * largest))
        share = cka_tokens / tokens
        return int(max(base, 1.5 * share * sum(sizes_mb) + 3 * largest / max(1, layers)))

    def chosen_layers(self, family: str, wanted: list[int] | None, depth: int | None = None) -> list[int]:
        """The family's layers among ``wanted`` (None: all; a negative index counts from the top, -1 = the last)."""
        depth = self.depth(family) if depth is None else depth
        return _chosen(self.layers(family, depth), depth, wanted)

    def probed_layers(self, family: str, depth: int | None = None) -> list[int]:
        return self.chosen_layers(family, self.probing["layers"], depth)

    def ablated_layers(self, family: str, depth: int | None = None) -> list[int]:
        chosen = self.chosen_layers(family, self.ablation["layers"], depth)
        return [n for n in self.probed_layers(family, depth) if n in chosen]

    def model_ablated_layers(self, family: str, depth: int | None = None) -> list[int]:
        """Layers ablated inside the model: ``ablation.layers`` and ``ablation.model.layers``, among the probed ones."""
        extra = self.chosen_layers(family, self.ablation["model"]["layers"], depth)
        probed = self.probed_layers(family, depth)
        return sorted({*self.ablated_layers(family, depth), *(n for n in extra if n in probed)})

    def twin(self, family: str) -> str | None:
        """The family's near-twin instance name, or None (only trained families with several instances have one)."""
        return twin_instance(self.families[family]) if family in self.correlated else None

    def twin_of(self, family: str) -> str:
        """The instance the family's near-twin copies (``seed<twin.of>``)."""
        return f"seed{self.families[family]['twin']['of']}"

    # --- data and models ---
    def pretrained_spec(self, family: str, instance: str) -> str:
        """The model spec of a pretrained (or fine-tuned) instance; the untrained baseline uses the config of the
        family's first model (a fine-tuned family: of the encoder it fine-tunes)."""
        if family in self.finetuned:
            return self.families[family]["model"]
        if instance == UNTRAINED:
            return self.families[family]["models"][0]
        return instance_model(self.families[family], instance)

    # --- correlation ---
    def corr_inputs(self, family: str) -> list[str]:
        split = self.corr["split"]
        return [self.paths.activations(family, inst, split) for inst in self.instances(family)]

    def twin_inputs(self, family: str) -> dict[str, Any]:
        twin = self.twin(family)
        assert twin is not None, family
        return {"family": self.corr_inputs(family), "twin": self.paths.activations(family, twin, self.corr["split"])}

    def cross_family_members(self, group: str) -> list[tuple[str, str, int]]:
        """(name, activation file, layer) of every instance of a cross-family group."""
        members = []
        for member in self.corr["cross_family"][group]:
            fam, layer = member.split(":")
            for inst in self.instances(fam):
                members.append((f"{fam}/{inst}", self.paths.activations(fam, inst, self.corr["split"]), int(layer)))
        return members

    # --- probing ---
    def probe_inputs(self, family: str, instance: str, layer: int | str, prop: str) -> dict[str, str]:
        """Inputs a probe needs besides activations: lambdas, the tagger's vocabulary, the untrained baseline."""
        out: dict[str, str] = {}
        if self.probing["grid"]:
            out["lambdas"] = self.paths.lambdas(family, layer, prop)
        out.update(self.tagger_spec(family, instance))
        if self.probing["untrained"]["enabled"] and instance != UNTRAINED:
            out["untrained"] = self.paths.probe(family, UNTRAINED, layer, prop, "metrics")
            out["untrained_tokens"] = self.paths.probe(family, UNTRAINED, layer, prop, "tokens")
        if self.probing["unk_training"] and family in self.trained:
            out["train_unk"] = self.paths.activations(family, instance, "train_unk")
        return out

    def tagger_spec(self, family: str, instance: str) -> dict[str, str]:
        """A trained instance's model.json (its vocabulary); nothing for pretrained families."""
        if family in self.trained:
            return {"model_spec": self.paths.model_file(family, instance, "model.json")}
        return {}

    def model_source(self, family: str, instance: str) -> str | None:
        """The pretrained model spec whose tokenizer gives the input keys (None for trained families)."""
        if family in self.pretrained or family in self.finetuned:
            return self.pretrained_spec(family, instance)
        return None

    def probing_summary_keys(self, family: str) -> list[tuple[str, int, str]]:
        return [
            (inst, layer, prop)
            for inst in self.instances(family)
            for layer in self.probed_layers(family)
            for prop in self.probing["properties"]
        ]

    # --- ablation ---
    def ablation_rankings(self, family: str, wanted: list[str] | str) -> list[str]:
        """The requested rankings this family has: correlation rankings need several instances.

        ``wanted`` is a list of ranking names, or ``"probe"`` / ``"model"`` / ``"pool"`` for the config's
        ``ablation.rankings`` / ``ablation.model.rankings`` / ``ablation.pool.rankings``.
        """
        if isinstance(wanted, str):
            ab = self.config["ablation"]
            wanted = {"probe": ab["rankings"], "model": ab["model"]["rankings"], "pool": ab["pool"]["rankings"]}[wanted]
        return [
            r
            for r in wanted
            if r in PROBE_RANKINGS
            or (r in CORRELATION_RANKINGS and family in self.correlated)
            or (r in MODEL_RANKINGS and family in self.trained)
        ]

    def model_kind(self, family: str) -> str:
        """The family's kind (``bilstm``, ``transformer``, ``pretrained``, ...): how its input keys are read."""
        return str(self.families[family]["kind"])

    def ranking_inputs(
        self, family: str, instance: str, layer: int | str, prop: str, wanted: list[str] | str
    ) -> dict[str, str]:
        out = {}
        rankings = self.ablation_rankings(family, wanted)
        if any(r in PROBE_RANKINGS for r in rankings):
            out["orderings"] = self.paths.probe(family, instance, layer, prop, "orderings")
        if any(r in CORRELATION_RANKINGS for r in rankings):
            out["scores"] = self.paths.correlation(family, layer, "scores")
        if CHUNK_LCA in rankings and wanted == "model":
            out["chunk_orderings"] = self.paths.probe(family, instance, layer, CHUNK_PROPERTY, "orderings")
            if int(layer) == max(self.layers(family)):  # the tagger head's input: the probe beside the tagger
                out["chunk_tokens"] = self.paths.probe(family, instance, layer, CHUNK_PROPERTY, "tokens")
        return out

    def fill_inputs(self, family: str, instance: str) -> dict[str, str]:
        """Mean ablation replaces a neuron by its mean over the training tokens: it needs the train activations."""
        if "mean" in self.ablation["model"]["fills"]:
            return {"train": self.paths.activations(family, instance, "train")}
        return {}

    def pool_ablations(self, family: str) -> list[str]:
        """The all-layers pool ablation of every instance and ablated property (none when ``ablation.pool`` is off)."""
        if not self.ablation["pool"]["enabled"]:
            return []
        return [
            self.paths.pool_ablation(family, inst, prop)
            for inst in self.instances(family)
            for prop in self.ablation["properties"]
        ]

    def ablation_curves(self, family: str) -> list[str]:
        out = []
        for inst in self.instances(family):
            for layer in self.ablated_layers(family):
                out += [self.paths.probe_ablation(family, inst, layer, prop) for prop in self.ablation["properties"]]
            if self.ablation["model"]["enabled"] and family in self.modelled:
                out += [self.paths.model_ablation(family, inst, layer) for layer in self.model_ablated_layers(family)]
        return out

    def twin_ablation_paths(self, family: str, layers: list[int] | None = None) -> list[str]:
        """With-twin model-ablation curves: every instance and the twin, every ablated layer (or ``layers``)."""
        twin = self.twin(family)
        if twin is None or not self.ablation["model"]["enabled"]:
            return []
        return [
            self.paths.twin_ablation(family, inst, layer)
            for inst in [*self.instances(family), twin]
            for layer in (self.ablated_layers(family) if layers is None else layers)
        ]

    # --- figures ---
    def figure_choice(self, key: str, family: str) -> Any:
        """``figures.<key>`` for one family: the value itself, or the family's entry of a per-family mapping
        (None where the mapping does not name the family)."""
        value = self.figures[key]
        return value.get(family) if isinstance(value, Mapping) else value

    def figure_key(self, key: str, family: str) -> str:
        """The config key a family's figure choice was read from (for messages)."""
        return f"figures.{key}.{family}" if isinstance(self.figures[key], Mapping) else f"figures.{key}"

    def fig_instance(self, family: str) -> str:
        """The instance a family's single-instance figures show: ``figures.instance`` (one name, or a mapping per
        family) when it names one of the family's instances, else its first (``check`` rejects names of none)."""
        names = self.instances(family)
        wanted = self.figure_choice("instance", family)
        return wanted if wanted in names else names[0]

    def fig_layer(self, family: str, depth: int | None = None) -> int:
        """The layer a family's figures show: ``figures.layer`` (an index, negative from the top, or a mapping per
        family), else the family's last ablated layer."""
        depth = self.depth(family) if depth is None else depth
        layers = self.ablated_layers(family, depth)
        wanted = self.figure_choice("layer", family)
        if wanted is None:
            return layers[-1]
        resolved = wanted if wanted >= 0 else depth + wanted
        if resolved not in layers:
            raise ValueError(
                f"config key '{self.figure_key('layer', family)}': layer {wanted} of family {family!r} is not "
                f"probed and ablated (its ablated layers: {layers}); null takes each family's last ablated layer, "
                "-1 its top one, and a mapping {family: layer} chooses per family"
            )
        return resolved

    def figures_for(self, family: str) -> list[Figure]:
        """The figures of the registry a family supports."""
        ok = {"probe"}
        if self.probing["grid"]:
            ok.add("grid")
        pooled = self.ablation["pool"]["enabled"] and self.figures["property"] in self.ablation["properties"]
        if self.probing["all_layers"] or pooled:  # the pool's all-layer probe writes the figure's table too
            ok.add("all_layers")
        if family in self.correlated:
            ok.add("corr")
            if family in self.modelled and self.ablation["model"]["enabled"]:
                ok.add("model")
        return [f for f in FIGURES if f.needs in ok]

    def figure_tables(self, family: str) -> dict[str, str]:
        """The file of every table kind a figure may read (:data:`neurosieve.core.registry.FIGURE_TABLES`) for one
        family: the figure instance, layer and property where they apply."""
        p = self.paths
        inst, layer, prop = self.fig_instance(family), self.fig_layer(family), self.figures["property"]
        return {
            "weights": p.probe(family, inst, layer, prop, "weights"),
            "labels": p.probe(family, inst, layer, prop, "labels"),
            "orderings": p.probe(family, inst, layer, prop, "orderings"),
            "metrics": p.probing_summary(family),
            "grid": p.lambdas(family, layer, prop),
            "by_layer": p.all_layers(family, inst, prop, "by_layer"),
            "curves": p.ablation(family, "curves"),
            "scores": p.correlation(family, layer, "scores"),
            "pairs": p.correlation(family, layer, "pairs"),
            "duplicate": p.correlation(family, layer, "duplicate"),
            "cka": p.similarity(family),
            "overlap": p.overlap(family, layer),
            "neurons": p.neurons(family, inst, layer),
            "activations": p.activations(family, inst, "test"),
        }

    def figure_inputs(self, name: str, family: str) -> dict[str, str]:
        """The tables figure ``name`` reads (its registry entry's ``inputs``), by kind."""
        tables = self.figure_tables(family)
        return {kind: tables[kind] for kind in figure(name).inputs}

    def figure_settings(self, name: str, family: str) -> dict[str, Any]:
        """The settings figure ``name`` shows (its registry entry's ``settings``; the rest None), as params."""
        rankings = self.ablation_rankings(family, self.ablation["model"]["rankings"])
        return FigureSettings.for_figure(
            self.config,
            figure(name).settings,
            layer=self.fig_layer(family),
            rankings=rankings,
            methods=[r for r in rankings if r in CORRELATION_RANKINGS],
        ).as_params()

    # --- overlap and neuron descriptions ---
    def overlap_keys(self, family: str) -> list[list[str]]:
        """(instance, property) of every LCA ordering the overlap of one layer reads."""
        return [[inst, prop] for inst in self.instances(family) for prop in self.probing["properties"]]

    def overlap_inputs(self, family: str, layer: int | str) -> dict[str, Any]:
        return {
            "scores": self.paths.correlation(family, layer, "scores"),
            "orderings": [
                self.paths.probe(family, inst, layer, prop, "orderings") for inst, prop in self.overlap_keys(family)
            ],
        }

    def describe_inputs(self, family: str, instance: str, layer: int | str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "activations": self.paths.activations(family, instance, self.corr["split"]),
            "orderings": [
                self.paths.probe(family, instance, layer, prop, "orderings") for prop in self.probing["properties"]
            ],
        }
        if family in self.correlated:
            out["scores"] = self.paths.correlation(family, layer, "scores")
        return out

    # --- neuron browser ---
    def browser_inputs(self, family: str) -> dict[str, str]:
        """The test activations, the figure property's probe orderings and (several instances) the correlation
        scores of a family's figure instance and layer: what its neuron browser shows."""
        inst, layer, prop = self.fig_instance(family), self.fig_layer(family), self.figures["property"]
        out = {
            "activations": self.paths.activations(family, inst, "test"),
            "orderings": self.paths.probe(family, inst, layer, prop, "orderings"),
        }
        if family in self.correlated:
            out["scores"] = self.paths.correlation(family, layer, "scores")
        return out

    def browser_outputs(self) -> list[str]:
        """Every family's neuron browser (none when ``browser.enabled`` is off)."""
        return [self.paths.browser(f) for f in self.families] if self.config["browser"]["enabled"] else []

    # --- summary ---
    def summary_family(self, family: str) -> dict[str, Any]:
        """The tables the summary reads for one family (only those the family has)."""
        p = self.paths
        inst, layer, prop = self.fig_instance(family), self.fig_layer(family), self.figures["property"]
        entry: dict[str, Any] = {
            "name": family,
            "layer": layer,
            "property": prop,
            "probing": p.probing_summary(family),
            "curves": p.ablation(family, "curves"),
            "labels": [p.probe(family, i, layer, prop, "labels") for i in self.instances(family)],
            "label_instances": self.instances(family),
            "train_metrics": [],
        }
        if family in self.modelled:
            entry["train_metrics"] = [p.model_file(family, i, "metrics.json") for i in self.instances(family)]
        if family in self.correlated:
            entry.update(
                duplicate=p.correlation(family, layer, "duplicate"),
                stability=p.correlation(family, layer, "stability"),
                scores=p.correlation(family, layer, "scores"),
                pairs=p.correlation(family, layer, "pairs"),
                overlap=[p.overlap(family, n) for n in self.probed_layers(family)],
            )
        twin = self.twin(family)
        if twin is not None:
            entry["twin"] = twin
            entry["twin_change"] = p.twin(family, layer, "change")
            entry["twin_curves"] = self.twin_ablation_paths(family, [layer])
            if family in self.trained:
                entry["twin_metrics"] = p.model_file(family, twin, "metrics.json")
        entry["neurons"] = p.neurons(family, inst, layer)
        entry["pool"] = self.pool_ablations(family)
        return entry

    def summary_inputs(self) -> list[str]:
        files: list[str] = []
        for fam in self.families:
            for key, value in self.summary_family(fam).items():
                if key in SUMMARY_FAMILY_SETTINGS:
                    continue
                files += value if isinstance(value, list) else [value]
        return files

    # --- every target ---
    def twin_outputs(self) -> list[str]:
        out = []
        for fam in self.twinned:
            out += [self.paths.twin(fam, n, "change") for n in self.ablated_layers(fam)]
            out += self.twin_ablation_paths(fam)
        return out

    def final_outputs(self) -> list[str]:
        """Every target of the run."""
        p, cfg = self.paths, self.config
        out = [p.token_table(s) for s in SPLITS]
        for fam in self.modelled:
            out += [p.model_file(fam, i, "metrics.json") for i in self.instances(fam)]
        for fam in self.families:
            if cfg["activations"]["keep"]:
                out += [p.activations(fam, i, s) for i in self.instances(fam) for s in SPLITS]
            if self.corr["cka"]:
                out.append(p.similarity(fam))
        for fam in self.correlated:
            out += [p.correlation(fam, n, "scores") for n in self.layers(fam)]
        for fam in self.families:
            for inst in self.instances(fam):
                for layer in self.probed_layers(fam):
                    out += [p.probe(fam, inst, layer, prop, "metrics") for prop in self.probing["properties"]]
        if self.probing["all_layers"]:
            for fam in self.families:
                out += [
                    p.all_layers(fam, i, prop, "by_layer")
                    for i in self.instances(fam)
                    for prop in self.probing["properties"]
                ]
        for fam in self.families:
            if self.ablation_curves(fam):
                out.append(p.ablation(fam, "spread"))
            out += self.pool_ablations(fam)
            out += [p.figure(fam, f.name, ext) for f in self.figures_for(fam) for ext in ("png", "svg")]
        for fam in self.correlated:
            out += [p.overlap(fam, n) for n in self.probed_layers(fam)]
        for fam in self.families:
            for inst in self.instances(fam):
                out += [p.neurons(fam, inst, n) for n in self.probed_layers(fam)]
        out += [p.summary(ext) for ext in ("md", "csv", "html")]
        out += self.browser_outputs()
        out += [p.cross_family(group) for group in self.corr["cross_family"]]
        out += self.twin_outputs()
        return out


__all__ = ["PROBE_TABLES", "SPLITS", "UNTRAINED", "RunPlan"]
