"""Frozen settings objects: every key they read exists in the schema, and they survive the trip through params."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from neurosieve import settings as settings_module
from neurosieve.config import load_schema, validate_config
from neurosieve.settings import ModelAblationSettings, ProbeBudget, ProbeSettings, Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
CONFIG = validate_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), SCHEMA)
CLASSES = [
    c for c in vars(settings_module).values() if isinstance(c, type) and issubclass(c, Settings) and c is not Settings
]


def schema_node(dotted: str) -> dict:  # type: ignore[type-arg]
    node = SCHEMA
    for part in dotted.split("."):
        assert part in node.get("properties", {}), f"{dotted}: no schema key {part!r}"
        node = node["properties"][part]
    return node


def test_every_stage_has_settings() -> None:
    assert len(CLASSES) >= 8


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_key_read_exists_in_the_schema(cls: type[Settings]) -> None:
    for key in cls.config_keys().values():
        schema_node(key)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_settings_round_trip_through_params_and_are_frozen(cls: type[Settings]) -> None:
    obj = cls.from_config(CONFIG)
    params = obj.as_params()
    assert yaml.safe_load(yaml.safe_dump(params)) == params  # plain values only: Snakemake can track them
    again = cls.from_params(params)
    assert again == obj
    field = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, field, None)


def test_values_come_from_their_keys() -> None:
    probe = ProbeSettings.from_config(CONFIG)
    assert probe.l1 == CONFIG["probing"]["l1"] and probe.seed == CONFIG["probing"]["seed"]
    assert probe.probe.estimator_params() == dict(CONFIG["probing"]["probe"])
    model = ModelAblationSettings.from_config(CONFIG)
    assert model.seed == CONFIG["ablation"]["seed"]  # a field read from another section
    assert model.remove_percent == tuple(CONFIG["ablation"]["model"]["remove_percent"])


def test_probe_budget_has_every_key_of_the_schema() -> None:
    """The budget is passed whole to the estimator: a key added to the schema must reach it."""
    assert {f.name for f in dataclasses.fields(ProbeBudget)} == set(schema_node("probing.probe")["properties"])


def test_unknown_or_missing_params_are_refused() -> None:
    params = ProbeSettings.params(CONFIG)
    with pytest.raises(TypeError, match="unknown settings \\['l3'\\]"):
        ProbeSettings.from_params({**params, "l3": 0.0})
    with pytest.raises(TypeError, match="missing \\['seed'\\]"):
        ProbeSettings.from_params({k: v for k, v in params.items() if k != "seed"})
    with pytest.raises(KeyError, match="probing.l1"):
        ProbeSettings.from_config({"probing": {}})
