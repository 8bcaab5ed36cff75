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
# the default config with a fine-tuned family and a user's corpus, for the settings that read them
_RICH = yaml.safe_load((ROOT / "config/config.yaml").read_text())
_RICH["families"]["ft"] = {"kind": "finetuned", "model": "some/encoder", "seeds": [1]}
_RICH["data"]["corpus"] = {"train": "a.conll", "test": "b.conll", "columns": ["word", "pos", "chunk"]}
RICH = validate_config(_RICH, SCHEMA)
#: Where each settings class reads its config: a family of the right kind, a split (default: neither).
WHERE = {
    "TrainSettings": {"family": "bilstm"},
    "UntrainedModelSettings": {"family": "bilstm"},
    "FinetuneSettings": {"family": "ft"},
    "TaggerActivationSettings": {"family": "bilstm", "unk": True},
    "EncoderActivationSettings": {"family": "minilm", "untrained": True},
    "FetchSettings": {"split": "train"},
    "DataSourceSettings": {"split": "test"},
    "TokenTableSettings": {"split": "train"},
    "CorpusFetchSettings": {"split": "test"},
    "ModelAblationSettings": {"family": "bilstm"},
}
CLASSES = [
    c for c in vars(settings_module).values() if isinstance(c, type) and issubclass(c, Settings) and c is not Settings
]


def _children(node: dict) -> dict:  # type: ignore[type-arg]
    """A schema node's properties, with those of its conditional branches (a family's kinds)."""
    out = dict(node.get("properties", {}))
    for branch in node.get("allOf", []):
        out.update({k: v for k, v in branch.get("then", {}).get("properties", {}).items() if v is not True})
    return out


def schema_node(dotted: str) -> dict:  # type: ignore[type-arg]
    """The schema of a dotted key; ``{family}`` is any family (the family schema), ``{split}`` train or test."""
    node = SCHEMA
    for part in dotted.split("."):
        if part == "{family}":
            assert node is SCHEMA["properties"]["families"], dotted
            node = SCHEMA["$defs"]["family"]
            continue
        part = "train" if part == "{split}" else part
        assert part in _children(node), f"{dotted}: no schema key {part!r}"
        node = _children(node)[part]
    return node


def test_every_stage_has_settings() -> None:
    assert len(CLASSES) >= 8


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_key_read_exists_in_the_schema(cls: type[Settings]) -> None:
    for key in cls.config_keys().values():
        schema_node(key)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_settings_round_trip_through_params_and_are_frozen(cls: type[Settings]) -> None:
    obj = cls.from_config(RICH, **WHERE.get(cls.__name__, {}))
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
    model = ModelAblationSettings.from_config(CONFIG, family="bilstm")
    assert model.seed == CONFIG["ablation"]["seed"]  # a field read from another section
    assert model.remove_percent == tuple(CONFIG["ablation"]["model"]["remove_percent"])
    assert model.device == CONFIG["families"]["bilstm"]["device"] and model.random_repeats > 0
    # The near-twin experiment's non-twin instances draw no random baseline (model_ablation drew it).
    assert ModelAblationSettings.from_config(CONFIG, family="bilstm", random_draws=False).random_repeats == 0


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


def test_family_and_split_settings_read_their_own_keys() -> None:
    from neurosieve.settings import (
        EncoderActivationSettings,
        FetchSettings,
        FigureSettings,
        TaggerActivationSettings,
        TokenTableSettings,
        TrainSettings,
        UntrainedModelSettings,
    )

    bilstm = RICH["families"]["bilstm"]
    train = TrainSettings.from_config(RICH, family="bilstm")
    assert train.train["epochs"] == bilstm["train"]["epochs"] and train.device == bilstm["device"]
    untrained = UntrainedModelSettings.from_config(RICH, family="bilstm")
    assert untrained.train["epochs"] == 0 and untrained.device == "cpu"
    assert untrained.seed == RICH["probing"]["untrained"]["seed"] and untrained.model == train.model
    plain = TaggerActivationSettings.from_config(RICH, family="bilstm")
    unk = TaggerActivationSettings.from_config(RICH, family="bilstm", unk=True)
    assert (plain.unk_rate, plain.seed) == (0.0, 0) and plain.batch_size == RICH["activations"]["batch_size"]
    assert unk.unk_rate == bilstm["train"]["word_dropout"] and unk.seed == RICH["probing"]["seed"]
    # a fine-tuned family dumps with its own batch size
    assert TaggerActivationSettings.from_config(RICH, family="ft").batch_size == RICH["families"]["ft"]["batch_size"]
    encoder = EncoderActivationSettings.from_config(RICH, family="minilm")
    assert encoder.random_init_seed is None and encoder.layers == tuple(RICH["families"]["minilm"]["layers"])
    assert FetchSettings.from_config(CONFIG, split="test").sha256 == CONFIG["data"]["sha256"]["test"]
    assert TokenTableSettings.from_config(CONFIG, split="test").columns is None  # CoNLL-2000
    assert TokenTableSettings.from_config(RICH, split="test").columns == ("word", "pos", "chunk")
    # a figure's settings hold what it shows and nothing else (a change elsewhere reruns no figure)
    fig = FigureSettings.for_figure(CONFIG, ["closed_label", "layer"], layer=2, rankings=["lca"], methods=[])
    assert fig.closed_label == CONFIG["figures"]["closed_label"] and fig.layer == 2
    assert fig.open_label is None and fig.rankings is None and fig.salient_fraction is None
    with pytest.raises(TypeError, match="no field"):
        FigureSettings.for_figure(CONFIG, ["colour"])
