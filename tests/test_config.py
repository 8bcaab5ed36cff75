"""Config validation: defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neurosieve.config import ConfigError, instances, load_schema, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")


def minimal() -> dict:
    return {"families": {"lstm": {"kind": "bilstm", "seeds": [1, 2]}}}


def test_defaults_filled() -> None:
    cfg = validate_config(minimal(), SCHEMA)
    assert cfg["outdir"] == "results"
    assert cfg["data"]["source"] == "auto" and cfg["data"]["download"]["retries"] == 3
    assert cfg["data"]["sha256"]["test"].startswith("73b7b1e5")
    fam = cfg["families"]["lstm"]
    assert fam["train"]["epochs"] == 8 and fam["model"]["num_layers"] == 2 and fam["subset"] is None
    assert instances(fam) == ["seed1", "seed2"]


@pytest.mark.parametrize("path", ["config/config.yaml", "tests/config/config.yaml", "config/bert-base-uncased.yaml", "config/minilm-offline.yaml"])
def test_shipped_configs_are_valid(path: str) -> None:
    validate_config(yaml.safe_load((ROOT / path).read_text()), SCHEMA)


@pytest.mark.parametrize(
    "mutate, key, message",
    [
        (lambda c: c["families"]["lstm"].setdefault("train", {}).update(epochs="ten"), "families.lstm.train.epochs", "not of type 'integer'"),
        (lambda c: c.update(bogus=1), "<top level>", "'bogus' was unexpected"),
        (lambda c: c["families"]["lstm"].update(layers=3), "families.lstm", "'layers' was unexpected"),
        (lambda c: c["families"]["lstm"].pop("seeds"), "families.lstm", "'seeds' is a required property"),
        (lambda c: c.pop("families"), "<top level>", "'families' is a required property"),
        (lambda c: c["families"]["lstm"].update(seeds=[]), "families.lstm.seeds", "should be non-empty"),
        (lambda c: c["families"]["lstm"].update(kind="gru"), "families.lstm.kind", "is not one of"),
        (lambda c: c.update(data={"sha256": {"test": "abc"}}), "data.sha256.test", "does not match"),
        (lambda c: c.update(probing={"properties": ["pos", "ner"]}), "probing.properties.1", "'ner' is not available"),
        (lambda c: c.update(probing={"properties": ["word"]}), "probing.properties.0", "'word' is not available"),
        (lambda c: c.update(probing={"properties": ["position_bin"]}), "ablation.properties.0", "'pos' is not among probing.properties"),
        (lambda c: c.update(probing={"properties": ["pos"]}, ablation={"properties": ["pos"]}, figures={"property": "coarse_pos"}), "figures.property", "not among probing.properties"),
    ],
)
def test_errors_name_the_key(mutate, key: str, message: str) -> None:  # type: ignore[no-untyped-def]
    cfg = minimal()
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    assert f"config key '{key}'" in str(err.value) and message in str(err.value)


def test_missing_model_path(tmp_path: Path) -> None:
    cfg = {"families": {"bert": {"kind": "pretrained", "models": [str(tmp_path / "missing")]}}}
    with pytest.raises(ConfigError, match=r"families.bert.models.0.*does not exist"):
        validate_config(cfg, SCHEMA)


def test_missing_model_package() -> None:
    cfg = {"families": {"bert": {"kind": "pretrained", "models": ["python:no_such_package_xyz"]}}}
    with pytest.raises(ConfigError, match="is not installed"):
        validate_config(cfg, SCHEMA)


def test_pretrained_instances_are_unique_names() -> None:
    fam = validate_config({"families": {"m": {"kind": "pretrained", "models": ["google/multiberts-seed_0", "google/multiberts-seed_1"]}}}, SCHEMA)["families"]["m"]
    assert instances(fam) == ["google--multiberts-seed_0", "google--multiberts-seed_1"]


def test_unknown_hub_id_fails_before_any_job() -> None:
    from neurosieve.config import family_layers

    fam = validate_config({"families": {"m": {"kind": "pretrained", "models": ["no-such-org/no-such-model-xyz"]}}}, SCHEMA)["families"]["m"]
    with pytest.raises(ConfigError, match="no-such-org/no-such-model-xyz.*could not be found"):
        family_layers(fam)


def test_family_layers_of_a_local_model(tiny_bert: Path) -> None:
    from neurosieve.config import family_layers

    fam = validate_config({"families": {"m": {"kind": "pretrained", "models": [str(tiny_bert)]}}}, SCHEMA)["families"]["m"]
    assert family_layers(fam) == [0, 1, 2]
    assert family_layers({"kind": "bilstm", "model": {"num_layers": 3}}) == [0, 1, 2, 3]


def test_derived_properties_are_accepted() -> None:
    cfg = minimal()
    cfg["probing"] = {"properties": ["pos", "position_bin", "coarse_pos", "capitalisation"]}
    assert validate_config(cfg, SCHEMA)["probing"]["properties"][1] == "position_bin"
