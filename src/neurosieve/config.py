"""Validate the workflow configuration against its JSON schema, filling in defaults.

Run before any job, so that a wrong type, an unknown key or a missing required
key stops the workflow with the key named.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml


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


def load_schema(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML or JSON schema file."""
    return yaml.safe_load(Path(path).read_text())


def check_semantics(cfg: Mapping[str, Any]) -> None:
    """Checks a schema cannot express: local model paths must exist, package models must import."""
    from .pretrained import resolve_model_spec

    problems = []
    for name, fam in cfg.get("families", {}).items():
        if fam.get("kind") != "pretrained":
            continue
        for i, spec in enumerate(fam.get("models", [])):
            try:
                resolve_model_spec(spec)
            except (FileNotFoundError, ImportError) as exc:
                problems.append(f"  config key 'families.{name}.models.{i}': {exc}")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))


TRAINED_KINDS = ("bilstm", "transformer")


def corpus_columns(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    """The field names of the configured corpus: ``data.corpus.columns``, or CoNLL-2000's ``word pos chunk``."""
    from .data import CONLL2000_COLUMNS

    corpus = cfg.get("data", {}).get("corpus")
    return tuple(corpus["columns"]) if corpus else CONLL2000_COLUMNS


def check_properties(cfg: Mapping[str, Any]) -> None:
    """Every probed, ablated or figured property must be a corpus column (not ``word``) or a derived property
    the corpus supports; ablated and figured properties must also be probed; trained taggers need ``chunk``."""
    from .data import DataError, check_columns
    from .properties import DERIVED, derivable

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
            why = f"derived property {prop!r} needs column(s) {list(DERIVED[prop][0])}" if prop in DERIVED else f"{prop!r} is not available"
            problems.append(f"  config key 'probing.properties.{i}': {why}; the corpus offers {available}")
    for i, prop in enumerate(cfg.get("ablation", {}).get("properties", [])):
        if prop not in probing:
            problems.append(f"  config key 'ablation.properties.{i}': {prop!r} is not among probing.properties {probing}")
    fig = cfg.get("figures", {}).get("property")
    if fig is not None and fig not in probing:
        problems.append(f"  config key 'figures.property': {fig!r} is not among probing.properties {probing}")
    trained = [n for n, f in cfg.get("families", {}).items() if f.get("kind") in TRAINED_KINDS]
    if trained and "chunk" not in columns:
        problems.append(f"  config key 'data.corpus.columns': trained families {trained} learn the 'chunk' column, which the corpus lacks")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))


def instance_name(spec: str) -> str:
    """A file-system-safe instance name for a pretrained model spec."""
    name = spec.split(":", 1)[1] if spec.startswith("python:") else spec
    name = re.sub(r"[^A-Za-z0-9_.-]+", "--", name.strip("/").replace(os.sep, "/")).strip("-.")
    return name or "model"


def instances(family: Mapping[str, Any]) -> list[str]:
    """The instance names of a family: ``seed<N>`` for trained families, one per model spec for pretrained ones."""
    if family["kind"] in TRAINED_KINDS:
        return [f"seed{s}" for s in family["seeds"]]
    names = [instance_name(m) for m in family["models"]]
    return [n if names.count(n) == 1 else f"{i}-{n}" for i, n in enumerate(names)]


def instance_model(family: Mapping[str, Any], instance: str) -> str:
    """The model spec behind a pretrained family's instance name."""
    return dict(zip(instances(family), family["models"]))[instance]


def instance_seed(instance: str) -> int:
    """The seed of a trained instance name ``seed<N>``."""
    if not instance.startswith("seed") or not instance[4:].isdigit():
        raise ValueError(f"instance {instance!r} is not of the form seed<N>")
    return int(instance[4:])


def family_layers(family: Mapping[str, Any]) -> list[int]:
    """The activation layer indices of a family (0 is the embedding layer).

    Trained families: ``num_layers + 1``. Pretrained families: read from the
    first model's configuration (``num_hidden_layers + 1``); all instances of a
    family must share it.
    """
    if family["kind"] in TRAINED_KINDS:
        return list(range(family["model"]["num_layers"] + 1))
    from transformers import AutoConfig

    from .pretrained import resolve_model_spec

    counts = set()
    for m in family["models"]:
        try:
            counts.add(AutoConfig.from_pretrained(resolve_model_spec(m)).num_hidden_layers + 1)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"model {m!r} could not be found: not a local model directory, and not on the Hugging Face hub "
                f"or in its local cache (offline?): {exc}"
            ) from exc
    if len(counts) != 1:
        raise ConfigError(f"instances of a pretrained family must have the same number of layers, got {sorted(counts)}")
    return list(range(counts.pop()))
