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
    return cfg


def load_schema(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML or JSON schema file."""
    return yaml.safe_load(Path(path).read_text())


def check_semantics(cfg: Mapping[str, Any]) -> None:
    """Checks a schema cannot express: local model paths must exist, package models must import."""
    from .pretrained import resolve_model_spec

    problems = []
    for name, fam in cfg.get("families", {}).items():
        if fam.get("kind") == FINETUNED_KIND:
            specs = [("model", fam.get("model"))]
        elif fam.get("kind") == "pretrained":
            specs = [(f"models.{i}", spec) for i, spec in enumerate(fam.get("models", []))]
        else:
            continue
        for key, spec in specs:
            try:
                resolve_model_spec(spec)
            except (FileNotFoundError, ImportError) as exc:
                problems.append(f"  config key 'families.{name}.{key}': {exc}")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))


TRAINED_KINDS = ("bilstm", "transformer")
#: A pretrained encoder fine-tuned here per seed (see :mod:`neurosieve.finetuning`).
FINETUNED_KIND = "finetuned"
#: Kinds whose instances are seeds (``seed<N>``) and whose models are saved under ``models/``.
SEEDED_KINDS = (*TRAINED_KINDS, FINETUNED_KIND)


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
    """The seed of a trained instance name ``seed<N>``."""
    if not instance.startswith("seed") or not instance[4:].isdigit():
        raise ValueError(f"instance {instance!r} is not of the form seed<N>")
    return int(instance[4:])


def family_depth(family: Mapping[str, Any]) -> int:
    """How many activation layers a family's models have (``num_layers + 1``: layer 0 is the embedding layer).

    Trained families: ``model.num_layers``. Pretrained and fine-tuned families:
    the family's ``num_layers`` key when given (so the workflow plans without
    loading any model), else read from each model's configuration
    (``num_hidden_layers``; all instances of a family must share it).
    """
    if family["kind"] in TRAINED_KINDS:
        return family["model"]["num_layers"] + 1
    if family.get("num_layers") is not None:
        return int(family["num_layers"]) + 1
    return _configured_hidden_states(family["models"] if family["kind"] == "pretrained" else [family["model"]])


def family_layers(family: Mapping[str, Any]) -> list[int]:
    """The activation layer indices a family dumps and analyses: all of them, or those its ``layers`` key keeps."""
    count = family_depth(family)
    wanted = family.get("layers")
    if wanted is None:
        return list(range(count))
    bad = [i for i in wanted if not 0 <= i < count]
    if bad:
        raise ConfigError(f"config key 'layers': layers {bad} do not exist; the family has layers 0..{count - 1}")
    return sorted(set(wanted))


def _configured_hidden_states(specs: list[str]) -> int:
    """``num_hidden_layers + 1`` read from the models' configurations (they must agree)."""
    from transformers import AutoConfig

    from .pretrained import resolve_model_spec

    counts = set()
    for m in specs:
        try:
            counts.add(AutoConfig.from_pretrained(resolve_model_spec(m)).num_hidden_layers + 1)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"model {m!r} could not be found: not a local model directory, and not on the Hugging Face hub "
                f"or in its local cache (offline?): {exc}"
            ) from exc
    if len(counts) != 1:
        raise ConfigError(f"instances of a pretrained family must have the same number of layers, got {sorted(counts)}")
    return counts.pop()
