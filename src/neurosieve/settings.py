"""Frozen settings objects: what each stage reads of the validated config, one object per stage.

A field's config key is spelled once, here (``field(metadata={"key": ...})``, else
``<section>.<field name>``); the schema (``workflow/schemas/config.schema.yaml``) holds its
type, default and description, and ``tests/test_settings.py`` checks that every key named here
exists in the schema. A rule passes ``settings=<Class>.params(config)`` (a plain dict, so that
Snakemake tracks it and a changed value reruns the jobs that use it); the job's script rebuilds
the object with :meth:`Settings.from_params` and hands it whole to the stage function.

Standard library only: the workflow imports this module while it parses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

S = TypeVar("S", bound="Settings")


def _lookup(config: Mapping[str, Any], dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(f"config key {dotted!r} is missing (was the config validated?)")
        value = value[part]
    return value


def _freeze(value: Any) -> Any:
    """Lists become tuples and mappings read-only, so that a settings object is immutable all the way down."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Settings:
    """Base of every stage's settings: built from a validated config, sent as plain params, rebuilt in the job."""

    section: ClassVar[str] = ""

    @classmethod
    def config_keys(cls, **where: str) -> dict[str, str]:
        """Each field's dotted config key (fields a subclass computes have ``key=None``).

        A key may name a family or a split, ``families.{family}.device`` or ``data.sha256.{split}``:
        ``where`` (``family=...``, ``split=...``) fills it in; without ``where`` the templates come back.
        """
        keys = {
            f.name: f.metadata.get("key", f"{cls.section}.{f.name}")
            for f in dataclasses.fields(cls)
            if f.metadata.get("key", "") is not None
        }
        return {name: key.format(**where) for name, key in keys.items()} if where else keys

    @classmethod
    def from_config(cls: type[S], config: Mapping[str, Any], **where: str) -> S:
        """The settings this stage reads of a validated config (of one family or split: ``where``)."""
        return cls.from_params(cls._read(config, **where))

    @classmethod
    def _read(cls, config: Mapping[str, Any], **where: str) -> dict[str, Any]:
        """The raw value of every field that has a config key."""
        return {name: _lookup(config, key) for name, key in cls.config_keys(**where).items()}

    @classmethod
    def from_params(cls: type[S], params: Mapping[str, Any]) -> S:
        """Rebuild the object from :meth:`as_params` (in a job's script); unknown or missing names are errors."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown, missing = set(params) - names, names - set(params)
        if unknown or missing:
            raise TypeError(f"{cls.__name__}: unknown settings {sorted(unknown)}, missing {sorted(missing)}")
        hints = typing.get_type_hints(cls)
        values = {}
        for name in names:
            value = params[name]
            nested = hints[name]
            if isinstance(nested, type) and issubclass(nested, Settings) and not isinstance(value, nested):
                value = nested.from_params(value)
            values[name] = value if isinstance(value, Settings) else _freeze(value)
        return cls(**values)

    def as_params(self) -> dict[str, Any]:
        """Plain Python values (dicts, lists, numbers, strings): a rule's ``params`` entry."""
        return {
            f.name: (v.as_params() if isinstance(v := getattr(self, f.name), Settings) else _thaw(v))
            for f in dataclasses.fields(self)
        }

    @classmethod
    def params(cls, config: Mapping[str, Any], **where: Any) -> dict[str, Any]:
        """``from_config(config, **where).as_params()``: what a rule passes."""
        return cls.from_config(config, **where).as_params()


@dataclass(frozen=True)
class ProbeBudget(Settings):
    """How one probe is fitted (``probing.probe``); retrained probes in ablation use the same."""

    section: ClassVar[str] = "probing.probe"
    epochs: int
    batch_size: int
    lr: float
    device: str
    min_steps: int
    standardize: bool
    solver: str
    tol: float
    max_iter: int

    def estimator_params(self) -> dict[str, Any]:
        """Keyword arguments of :class:`neurosieve.analysis.probe.ElasticNetProbe`."""
        return self.as_params()


@dataclass(frozen=True)
class ProbeSettings(Settings):
    """A probe job: its lambdas (unless the grid search chose them), budget, salient share and seed."""

    section: ClassVar[str] = "probing"
    l1: float
    l2: float
    salient_fraction: float
    seed: int
    probe: ProbeBudget
    fixed_budget_baseline: bool = True
    probe_seeds: int = 1


@dataclass(frozen=True)
class LambdaSearchSettings(Settings):
    """The (l1, l2) grid search of one (family, layer, property)."""

    section: ClassVar[str] = "probing"
    grid: Mapping[str, Any] | None
    tolerance: float
    seed: int
    probe: ProbeBudget
    path_tol: float = 1e-4
    lambda_criterion: str = "retrain_topk"
    lambda_seeds: int = 3
    lambda_keep: float = 0.1
    lambda_refit: int = 5
    dev_fraction: float = field(default=0.1, metadata={"key": "data.dev.fraction"})
    dev_seed: int = field(default=0, metadata={"key": "data.dev.seed"})


@dataclass(frozen=True)
class AllLayerProbeSettings(Settings):
    """The probe over every layer concatenated."""

    section: ClassVar[str] = "probing"
    l1: float
    l2: float
    seed: int
    probe: ProbeBudget


@dataclass(frozen=True)
class ProbeAblationSettings(Settings):
    """Probe ablation: keep k neurons by a ranking, mask the rest or retrain."""

    section: ClassVar[str] = "ablation"
    keep_percent: tuple[float, ...]
    keep_neurons: tuple[int, ...]
    modes: tuple[str, ...]
    random_repeats: int
    seed: int
    oracle_neurons: int = field(default=128, metadata={"key": "ablation.oracle.neurons"})
    dev_fraction: float = field(default=0.1, metadata={"key": "data.dev.fraction"})
    dev_seed: int = field(default=0, metadata={"key": "data.dev.seed"})
    label_focus: Mapping[str, tuple[str, ...]] = field(default_factory=dict, metadata={"key": "ablation.labels.focus"})
    label_max_k: int = field(default=10, metadata={"key": "ablation.labels.max_k"})
    label_random_repeats: int = field(default=3, metadata={"key": "ablation.labels.random_repeats"})
    split_half: tuple[str, ...] = field(default=(), metadata={"key": "ablation.split_half.rankings"})
    split_half_random_repeats: int = field(default=5, metadata={"key": "ablation.split_half.random_repeats"})
    probe_seeds: int = field(default=1, metadata={"key": "probing.probe_seeds"})


@dataclass(frozen=True)
class PoolAblationSettings(Settings):
    """Probe ablation of the all-layers pool: the shares kept, the random draws, the modes and the seed."""

    section: ClassVar[str] = "ablation.pool"
    keep_percent: tuple[float, ...]
    random_repeats: int
    modes: tuple[str, ...] = field(metadata={"key": "ablation.modes"})
    seed: int = field(metadata={"key": "ablation.seed"})
    probe_seeds: int = field(default=1, metadata={"key": "probing.probe_seeds"})


@dataclass(frozen=True)
class ModelAblationSettings(Settings):
    """Model ablation: remove k neurons inside a trained model and score the end task."""

    section: ClassVar[str] = "ablation.model"
    remove_percent: tuple[float, ...]
    random_repeats: int
    fills: tuple[str, ...]
    seed: int = field(metadata={"key": "ablation.seed"})
    device: str = field(default="auto", metadata={"key": "families.{family}.device"})

    @classmethod
    def _read(cls, config: Mapping[str, Any], **where: Any) -> dict[str, Any]:
        """As the base class; ``random_draws=False`` (the near-twin experiment's non-twin instances, whose random
        baseline the model_ablation rule already draws) sets ``random_repeats`` to 0."""
        draws = where.pop("random_draws", True)
        values = super()._read(config, **where)
        if not draws:
            values["random_repeats"] = 0
        return values


@dataclass(frozen=True)
class CorrelationSettings(Settings):
    """Cross-model correlation of one layer."""

    section: ClassVar[str] = "correlation"
    block_size: int
    linreg: bool
    top_fractions: tuple[float, ...]
    duplicate: str | None
    device: str


@dataclass(frozen=True)
class SimilaritySettings(Settings):
    """Linear CKA of a family's (instance, layer) pairs: on every token of the correlation split, or on a
    seeded sample of its sentences of about ``tokens`` tokens (CKA's cost and memory grow with the tokens)."""

    section: ClassVar[str] = "correlation"
    tokens: int | None = field(default=None, metadata={"key": "correlation.cka_tokens"})


@dataclass(frozen=True)
class TwinCorrelationSettings(Settings):
    """The near-twin experiment of one layer (correlation with and without the twin)."""

    section: ClassVar[str] = "correlation"
    block_size: int
    linreg: bool
    top_fractions: tuple[float, ...]


# --- data ---


@dataclass(frozen=True)
class DownloadSettings(Settings):
    """How a download is retried."""

    section: ClassVar[str] = "data.download"
    retries: int
    timeout: float
    backoff: float


@dataclass(frozen=True)
class FetchSettings(Settings):
    """What identifies one CoNLL-2000 split: its checksum (the job's params).

    Where the bytes come from is :class:`DataSourceSettings`, which the job reads from the config
    itself: moving the data or changing a timeout must not rerun anything.
    """

    section: ClassVar[str] = "data"
    sha256: str | None = field(metadata={"key": "data.sha256.{split}"})


@dataclass(frozen=True)
class DataSourceSettings(Settings):
    """Where one CoNLL-2000 split comes from (read in the job, not passed as params: see :class:`FetchSettings`)."""

    section: ClassVar[str] = "data"
    source: str
    local_dir: str | None
    url: str | tuple[str, ...] = field(metadata={"key": "data.urls.{split}"})
    download: DownloadSettings = field(metadata={"key": "data.download"})


@dataclass(frozen=True)
class TokenTableSettings(Settings):
    """Parsing one split into its token table: its first N sentences and a user's corpus format.

    ``columns`` and ``comment`` are ``data.corpus``'s; ``columns`` is None for CoNLL-2000 (its own
    columns, and its published counts checked).
    """

    section: ClassVar[str] = "data"
    max_sentences: int | None = field(metadata={"key": "data.max_sentences.{split}"})
    columns: tuple[str, ...] | None = field(metadata={"key": None})
    comment: str | None = field(metadata={"key": None})

    @classmethod
    def _read(cls, config: Mapping[str, Any], **where: str) -> dict[str, Any]:
        corpus = _lookup(config, "data.corpus")
        return {
            **super()._read(config, **where),
            "columns": corpus["columns"] if corpus else None,
            "comment": corpus["comment"] if corpus else None,
        }


@dataclass(frozen=True)
class CorpusFetchSettings(Settings):
    """One split of a user's own corpus (``data.corpus``): where it is, its checksum, how a download is retried."""

    section: ClassVar[str] = "data.corpus"
    location: str = field(metadata={"key": "data.corpus.{split}"})
    sha256: str | None = field(metadata={"key": "data.corpus.sha256.{split}"})
    download: DownloadSettings = field(metadata={"key": "data.download"})


# --- training (one family's mapping: families.<family>) ---


@dataclass(frozen=True)
class TrainSettings(Settings):
    """Training one tagger of a family trained here (bilstm, transformer); its seeds come from the instance name."""

    section: ClassVar[str] = "families.{family}"
    kind: str
    model: Mapping[str, Any]
    train: Mapping[str, Any]
    subset: float | None
    device: str


@dataclass(frozen=True)
class UntrainedModelSettings(TrainSettings):
    """The untrained baseline of a family trained here: its tagger built as the family's at
    ``probing.untrained.seed`` (initialisation and data order), trained for no epoch, on the CPU."""

    seed: int = field(metadata={"key": "probing.untrained.seed"})

    @classmethod
    def _read(cls, config: Mapping[str, Any], **where: str) -> dict[str, Any]:
        values = super()._read(config, **where)
        return {**values, "train": {**values["train"], "epochs": 0}, "device": "cpu"}


@dataclass(frozen=True)
class FinetuneSettings(Settings):
    """Fine-tuning one seed of a fine-tuned family; the seed comes from the instance name."""

    section: ClassVar[str] = "families.{family}"
    model: str
    train: Mapping[str, Any]
    pooling: str
    max_length: int | None
    subset: float | None
    device: str


# --- activations ---


@dataclass(frozen=True)
class TaggerActivationSettings(Settings):
    """Dumping a model saved here (a tagger, or a fine-tuned encoder) over one split.

    ``batch_size`` is the family's own (a fine-tuned family has one), else ``activations.batch_size``.
    With ``unk=True`` (the train split with training's word dropout, for ``probing.unk_training``)
    ``unk_rate`` is the family's ``train.word_dropout`` and ``seed`` is ``probing.seed``; else 0.
    """

    section: ClassVar[str] = "activations"
    batch_size: int = field(metadata={"key": None})
    device: str = field(metadata={"key": "families.{family}.device"})
    layers: tuple[int, ...] | None = field(metadata={"key": "families.{family}.layers"})
    dtype: str
    unk_rate: float = field(metadata={"key": None})
    seed: int = field(metadata={"key": None})

    @classmethod
    def _read(cls, config: Mapping[str, Any], *, family: str, unk: bool = False) -> dict[str, Any]:  # type: ignore[override]
        spec = _lookup(config, f"families.{family}")
        return {
            **super()._read(config, family=family),
            "batch_size": spec["batch_size"] if "batch_size" in spec else _lookup(config, "activations.batch_size"),
            "unk_rate": _lookup(config, f"families.{family}.train.word_dropout") if unk else 0.0,
            "seed": _lookup(config, "probing.seed") if unk else 0,
        }


@dataclass(frozen=True)
class EncoderActivationSettings(Settings):
    """Dumping a pretrained encoder over one split; with ``untrained=True`` the encoder's architecture at a
    random initialisation seeded by ``probing.untrained.seed`` (the untrained baseline), else None."""

    section: ClassVar[str] = "families.{family}"
    pooling: str
    batch_size: int
    max_length: int | None
    device: str
    layers: tuple[int, ...] | None
    dtype: str = field(metadata={"key": "activations.dtype"})
    random_init_seed: int | None = field(metadata={"key": None})

    @classmethod
    def _read(cls, config: Mapping[str, Any], *, family: str, untrained: bool = False) -> dict[str, Any]:  # type: ignore[override]
        seed = _lookup(config, "probing.untrained.seed") if untrained else None
        return {**super()._read(config, family=family), "random_init_seed": seed}


# --- neuron descriptions, overlap, figures ---


@dataclass(frozen=True)
class DescribeSettings(Settings):
    """Describing a layer's top neurons: the properties they are matched against, how many neurons and words."""

    section: ClassVar[str] = "describe"
    properties: tuple[str, ...] = field(metadata={"key": "probing.properties"})
    top_neurons: int
    top_words: int


@dataclass(frozen=True)
class BrowserSettings(Settings):
    """The neuron browser of one family: how many sentences, tokens and words of context it embeds."""

    section: ClassVar[str] = "browser"
    sentences: int
    tokens: int
    context: int
    properties: tuple[str, ...] = field(metadata={"key": "probing.properties"})


@dataclass(frozen=True)
class OverlapSettings(Settings):
    """CCA against LCA of one layer: the top-k sizes, as fractions of the layer."""

    section: ClassVar[str] = "overlap"
    top_fractions: tuple[float, ...]


SUMMARY_FAMILY_SETTINGS = ("name", "layer", "property", "twin", "label_instances")
"""The keys of a summary family entry (``Plan.summary_family``) that are settings, not input files."""


@dataclass(frozen=True)
class SummarySettings(Settings):
    """How the summary tests its findings: the significance level (applied to Holm-adjusted p-values) and
    the equivalence margin, in F1 points, of its "no loss" claims."""

    section: ClassVar[str] = "summary"
    alpha: float
    equivalence_margin: float


@dataclass(frozen=True)
class FigureSettings(Settings):
    """What one figure shows. A figure's job gets only the fields its registry entry names
    (:attr:`neurosieve.core.registry.Figure.settings`), the others None, so that a setting reruns only the
    figures that read it. ``layer``, ``rankings`` and ``methods`` are the plan's for the family (its figure
    layer, the model-ablation rankings it has, the correlation ones among them): :meth:`for_figure`."""

    section: ClassVar[str] = "figures"
    property: str | None
    closed_label: str | None
    open_label: str | None
    sentences: int | None
    top_neurons: int | None
    salient_fraction: float | None = field(metadata={"key": "probing.salient_fraction"})
    layer: int | None = field(metadata={"key": None})
    rankings: tuple[str, ...] | None = field(metadata={"key": None})
    methods: tuple[str, ...] | None = field(metadata={"key": None})

    @classmethod
    def _read(cls, config: Mapping[str, Any], **where: str) -> dict[str, Any]:
        return {"layer": None, "rankings": None, "methods": None, **super()._read(config, **where)}

    @classmethod
    def for_figure(cls, config: Mapping[str, Any], names: Sequence[str], **planned: Any) -> FigureSettings:
        """The fields ``names`` (read from the config, or ``planned`` by the plan); every other field None."""
        unknown = set(names) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"FigureSettings has no field {sorted(unknown)}")
        values = {**cls._read(config), **planned}
        return cls.from_params({f.name: values[f.name] if f.name in names else None for f in dataclasses.fields(cls)})


__all__ = [
    "AllLayerProbeSettings",
    "CorpusFetchSettings",
    "CorrelationSettings",
    "DataSourceSettings",
    "DescribeSettings",
    "DownloadSettings",
    "EncoderActivationSettings",
    "FetchSettings",
    "FigureSettings",
    "FinetuneSettings",
    "LambdaSearchSettings",
    "ModelAblationSettings",
    "OverlapSettings",
    "ProbeAblationSettings",
    "ProbeBudget",
    "ProbeSettings",
    "Settings",
    "TaggerActivationSettings",
    "TokenTableSettings",
    "TrainSettings",
    "TwinCorrelationSettings",
    "UntrainedModelSettings",
]
