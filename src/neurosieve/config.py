"""Validate the workflow configuration against its JSON schema, filling in defaults.

Run before any job, so that a wrong type, an unknown key or a missing required
key stops the workflow with the key named.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from neurosieve.core.corpus import CONLL2000_COLUMNS, DataError, check_columns
from neurosieve.core.properties import DERIVED, derivable
from neurosieve.core.registry import RANKING_NAMES
from neurosieve.models.modelspec import layer_count, model_dir_on_disk, resolve_model_spec


class ConfigError(ValueError):
    """An invalid configuration; the message names every offending key."""


def _with_defaults(cls: type[jsonschema.protocols.Validator]) -> type[jsonschema.protocols.Validator]:
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": set_defaults})


def _key(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "<top level>"


def validate_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a validated copy of ``config`` with the schema's defaults filled in.

    Raises :class:`ConfigError` listing each error as ``key: message``.
    """
    cfg = copy.deepcopy(dict(config))
    cls = _with_defaults(jsonschema.validators.validator_for(schema))
    errors = sorted(cls(schema).iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for err in errors:
            # if/then failures are reported through their inner errors, which name the key.
            leaf = [e for e in err.context] if err.validator in ("allOf", "anyOf", "oneOf") and err.context else [err]
            for e in leaf:
                lines.append(f"  config key '{_key(e.absolute_path)}': {e.message}")
        raise ConfigError("invalid configuration:\n" + "\n".join(dict.fromkeys(lines)))
    check_semantics(cfg)
    check_properties(cfg)
    return cfg


def coerce_cli_values(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``--config`` values read the way a config file is read.

    Snakemake parses a nested ``--config`` value (``data={local_dir: null}``) with YAML's base
    loader, which keeps every scalar a string: ``'2' is not of type 'integer'``, ``keep: false``
    "not a boolean", ``null`` a directory named ``null``. Each nested string is read again as a
    YAML scalar, so ``2``, ``false`` and ``null`` mean what they mean in a config file; top-level
    values (``outdir=x``) Snakemake has already typed, and are returned as given.
    """

    def scalar(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: scalar(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scalar(v) for v in value]
        if isinstance(value, str):
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                return value
            if parsed is None:  # only YAML's own spellings of null: '# ' parses to None as a comment
                return None if value.strip() in ("null", "Null", "NULL", "~") else value
            return parsed if isinstance(parsed, bool | int | float) else value
        return value

    return {k: scalar(v) if isinstance(v, Mapping | list) else v for k, v in overrides.items()}


#: Names a schema node may take from a registry (``x-registry: rankings`` becomes an ``enum`` of them), so that
#: adding a ranking to :mod:`neurosieve.core.registry` is the only edit the config needs.
REGISTRY_ENUMS = {"rankings": list(RANKING_NAMES)}


def load_schema(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML or JSON schema file, filling ``x-registry`` nodes with the registry's names."""

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            if "x-registry" in node:
                node["enum"] = list(REGISTRY_ENUMS[node["x-registry"]])
            for value in node.values():
                fill(value)
        elif isinstance(node, list):
            for value in node:
                fill(value)
        return node

    return fill(yaml.safe_load(Path(path).read_text()))


def check_semantics(cfg: Mapping[str, Any]) -> None:
    """Checks a schema cannot express: local model paths must exist, package models must import."""

    problems = []
    for name, fam in cfg.get("families", {}).items():
        if fam.get("kind") in TRAINED_KINDS:
            try:
                twin_instance(fam)
            except ConfigError as exc:
                key, _, message = str(exc).partition(": ")
                problems.append(f"  config key 'families.{name}.{key}': {message}")
            continue
        if fam.get("kind") == FINETUNED_KIND:
            specs = [("model", fam.get("model"))]
        elif fam.get("kind") == "pretrained":
            specs = [(f"models.{i}", spec) for i, spec in enumerate(fam.get("models", []))]
        else:
            continue
        for key, spec in specs:
            try:
                resolve_model_spec(spec)
            except ImportError as exc:
                if fam.get("kind") == "pretrained" and fam.get("num_layers") and not can_run_jobs():
                    # An environment that cannot run jobs (a linter's: Snakemake alone) only plans, and planning
                    # needs only the layer count the config gives: a warning there; anywhere else, an error.
                    warnings.warn(f"config key 'families.{name}.{key}': {exc}; its jobs would fail", stacklevel=2)
                else:
                    problems.append(f"  config key 'families.{name}.{key}': {exc}")
            except FileNotFoundError as exc:
                problems.append(f"  config key 'families.{name}.{key}': {exc}")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))


def can_run_jobs() -> bool:
    """Whether this environment can run the workflow's jobs (torch importable), or only parse and lint it."""
    return importlib.util.find_spec("torch") is not None


TRAINED_KINDS = ("bilstm", "transformer")


#: A pretrained encoder fine-tuned here per seed (see :mod:`neurosieve.models.finetuning`).
FINETUNED_KIND = "finetuned"


#: Kinds whose instances are seeds (``seed<N>``) and whose models are saved under ``models/``.
SEEDED_KINDS = (*TRAINED_KINDS, FINETUNED_KIND)


def corpus_columns(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    """The field names of the configured corpus: ``data.corpus.columns``, or CoNLL-2000's ``word pos chunk``."""

    corpus = cfg.get("data", {}).get("corpus")
    return tuple(corpus["columns"]) if corpus else CONLL2000_COLUMNS


def check_properties(cfg: Mapping[str, Any]) -> None:
    """Every probed, ablated or figured property must be a corpus column (not ``word``) or a derived property
    the corpus supports; ablated and figured properties must also be probed; trained taggers need ``chunk``."""

    columns = corpus_columns(cfg)
    problems = []
    try:
        check_columns(columns)
    except DataError as exc:
        problems.append(f"  config key 'data.corpus.columns': {exc}")
    available = [c for c in columns if c != "word"] + derivable(("sentence", "position", *columns))
    probing = cfg.get("probing", {}).get("properties", [])
    for i, prop in enumerate(probing):
        if prop not in available:
            why = (
                f"derived property {prop!r} needs column(s) {list(DERIVED[prop])}"
                if prop in DERIVED
                else f"{prop!r} is not available"
            )
            problems.append(f"  config key 'probing.properties.{i}': {why}; the corpus offers {available}")
    for i, prop in enumerate(cfg.get("ablation", {}).get("properties", [])):
        if prop not in probing:
            problems.append(
                f"  config key 'ablation.properties.{i}': {prop!r} is not among probing.properties {probing}"
            )
    fig = cfg.get("figures", {}).get("property")
    if fig is not None and fig not in probing:
        problems.append(f"  config key 'figures.property': {fig!r} is not among probing.properties {probing}")
    trained = [n for n, f in cfg.get("families", {}).items() if f.get("kind") in TRAINED_KINDS]
    if trained and "chunk" not in columns:
        problems.append(
            f"  config key 'data.corpus.columns': trained families {trained} learn the 'chunk' column, which the corpus lacks"
        )
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))


def instance_name(spec: str) -> str:
    """A file-system-safe instance name for a pretrained model spec."""
    name = spec.split(":", 1)[1] if spec.startswith("python:") else spec
    name = re.sub(r"[^A-Za-z0-9_.-]+", "--", name.strip("/").replace(os.sep, "/")).strip("-.")
    return name or "model"


def instances(family: Mapping[str, Any]) -> list[str]:
    """The instance names of a family: ``seed<N>`` for trained and fine-tuned families, one per model spec for pretrained ones."""
    if family["kind"] in SEEDED_KINDS:
        return [f"seed{s}" for s in family["seeds"]]
    names = [instance_name(m) for m in family["models"]]
    return [n if names.count(n) == 1 else f"{i}-{n}" for i, n in enumerate(names)]


def instance_model(family: Mapping[str, Any], instance: str) -> str:
    """The model spec behind a pretrained family's instance name."""
    return dict(zip(instances(family), family["models"]))[instance]


def instance_seed(instance: str) -> int:
    """The seed of a trained instance name ``seed<N>`` (or of a near-twin ``seed<N>-order<M>``)."""
    return instance_seeds(instance)[0]


_TRAINED_INSTANCE = re.compile(r"seed(\d+)(?:-order(\d+))?")


def instance_seeds(instance: str) -> tuple[int, int]:
    """(seed, data-order seed) of a trained instance: ``seed<N>`` is (N, N), a near-twin ``seed<N>-order<M>`` is (N, M)."""
    m = _TRAINED_INSTANCE.fullmatch(instance)
    if not m:
        raise ValueError(f"instance {instance!r} is not of the form seed<N> or seed<N>-order<M>")
    seed = int(m.group(1))
    return seed, int(m.group(2)) if m.group(2) is not None else seed


def twin_instance(family: Mapping[str, Any]) -> str | None:
    """The near-twin instance of a trained family (``seed<of>-order<order_seed>``), or None when it has none.

    The twin shares initialisation and training subset with instance
    ``seed<of>`` and differs only in data order (and dropout draws); it is
    not one of the family's instances, only the twin experiment uses it.
    """
    twin = family.get("twin") if family.get("kind") in TRAINED_KINDS else None
    if not twin:
        return None
    if twin["of"] not in family["seeds"]:
        raise ConfigError(f"twin.of: seed {twin['of']} is not one of the family's seeds {family['seeds']}")
    if twin["order_seed"] == twin["of"]:
        raise ConfigError(
            f"twin.order_seed: must differ from twin.of ({twin['of']}), else the twin would be its partner"
        )
    return f"seed{twin['of']}-order{twin['order_seed']}"


class LayersUnknown(ConfigError):
    """The layer count of a pretrained family is known only once its hub model is fetched."""


def family_depth(family: Mapping[str, Any]) -> int:
    """How many activation layers a family's models have (hidden layers + 1: layer 0 is the embedding layer).

    Trained families: ``model.num_layers + 1``. Pretrained and fine-tuned
    families: ``num_layers + 1`` when the config gives it, else read from each
    model's ``config.json`` on disk (a local directory, a packaged model, the
    Hugging Face cache); all instances of a family must share it. Never touches
    the network or an ML library: a hub model that is not cached raises
    :class:`LayersUnknown` (the workflow then asks its ``model_info`` job).
    """

    if family["kind"] in TRAINED_KINDS:
        return int(family["model"]["num_layers"]) + 1
    if family.get("num_layers") is not None:
        return int(family["num_layers"]) + 1
    counts = set()
    for m in family["models"] if family["kind"] == "pretrained" else [family["model"]]:
        path = model_dir_on_disk(m)
        if path is None:
            raise LayersUnknown(f"model {m!r} is not on disk (not cached from the Hugging Face hub yet)")
        counts.add(layer_count(path))
    return common_depth(counts)


def common_depth(counts: set[int] | list[int]) -> int:
    """The layer count shared by every instance of a pretrained family (given each instance's count)."""
    counts = set(counts)
    if len(counts) != 1:
        raise ConfigError(f"instances of a pretrained family must have the same number of layers, got {sorted(counts)}")
    return counts.pop()


def family_layers(family: Mapping[str, Any], depth: int | None = None) -> list[int]:
    """The activation layer indices a family dumps and analyses: all of them, or those its ``layers`` key keeps.

    ``depth`` overrides :func:`family_depth` (the workflow passes it when a hub model's count came from its
    ``model_info`` job).
    """
    count = family_depth(family) if depth is None else depth
    wanted = family.get("layers")
    if wanted is None:
        return list(range(count))
    bad = [i for i in wanted if not 0 <= i < count]
    if bad:
        raise ConfigError(f"config key 'layers': layers {bad} do not exist; the family has layers 0..{count - 1}")
    return sorted(set(wanted))
