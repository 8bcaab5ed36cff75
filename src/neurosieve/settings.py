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
from collections.abc import Mapping
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
    def config_keys(cls) -> dict[str, str]:
        """Each field's dotted config key."""
        return {f.name: f.metadata.get("key", f"{cls.section}.{f.name}") for f in dataclasses.fields(cls)}

    @classmethod
    def from_config(cls: type[S], config: Mapping[str, Any]) -> S:
        """The settings this stage reads of a validated config."""
        return cls.from_params({name: _lookup(config, key) for name, key in cls.config_keys().items()})

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
    def params(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """``from_config(config).as_params()``: what a rule passes."""
        return cls.from_config(config).as_params()


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


@dataclass(frozen=True)
class LambdaSearchSettings(Settings):
    """The (l1, l2) grid search of one (family, layer, property)."""

    section: ClassVar[str] = "probing"
    grid: Mapping[str, Any] | None
    tolerance: float
    seed: int
    probe: ProbeBudget


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


@dataclass(frozen=True)
class ModelAblationSettings(Settings):
    """Model ablation: remove k neurons inside a trained model and score the end task."""

    section: ClassVar[str] = "ablation.model"
    remove_percent: tuple[float, ...]
    random_repeats: int
    fills: tuple[str, ...]
    seed: int = field(metadata={"key": "ablation.seed"})


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
class TwinCorrelationSettings(Settings):
    """The near-twin experiment of one layer (correlation with and without the twin)."""

    section: ClassVar[str] = "correlation"
    block_size: int
    linreg: bool
    top_fractions: tuple[float, ...]


__all__ = [
    "AllLayerProbeSettings",
    "CorrelationSettings",
    "LambdaSearchSettings",
    "ModelAblationSettings",
    "ProbeAblationSettings",
    "ProbeBudget",
    "ProbeSettings",
    "Settings",
    "TwinCorrelationSettings",
]
