"""Derived token properties: each label by hand, the activation keys carry them, and they probe like ``pos``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.probing import probe_layer
from neurosieve.core.properties import (
    DERIVED,
    capitalisation,
    coarse_pos,
    derivable,
    month_class,
    number_class,
    punctuation_class,
)
from neurosieve.store.activations import read_keys, write_activations
from neurosieve.store.corpus import parse_conll
from neurosieve.store.properties import DERIVED_FUNCTIONS, add_derived, bin_positions, continuous_properties

TEXT = "The DT B-NP\nSeptember NNP I-NP\nsales NNS I-NP\nrose VBD B-VP\n3.5 CD B-NP\n% NN I-NP\nand CC O\nIBM NNP B-NP\nfell VBD B-VP\n. . O\n\nMay MD O\nI PRP B-NP\n? . O\n"


def test_position_bins() -> None:
    got = bin_positions(np.array([0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 70]))
    assert got.tolist() == ["0", "1", "2", "3-4", "3-4", "5-8", "5-8", "9-16", "9-16", "17+", "17+"]


@pytest.mark.parametrize(
    "fn, cases",
    [
        (
            capitalisation,
            {"the": "lower", "The": "title", "IBM": "upper", "I": "title", "McDonald": "mixed", "3.5": "none"},
        ),
        (number_class, {"1989": "digits", "3.5": "numeric", "1,000": "numeric", "80s": "has_digit", "ten": "none"}),
        (
            month_class,
            {"September": "month", "Sept.": "month", "jan": "month", "May": "month", "may": "other", "sales": "other"},
        ),
        (
            punctuation_class,
            {
                ",": "comma",
                ".": "terminal",
                "``": "quote",
                "(": "bracket",
                "--": "dash",
                ";": "colon",
                "%": "other",
                "IBM": "none",
            },
        ),
        (
            coarse_pos,
            {"CC": "conjunction", "DT": "determiner", ",": "punctuation", "NNS": "noun", "VBD": "verb", "JJ": "other"},
        ),
    ],
)
def test_word_level_classes(fn, cases) -> None:  # type: ignore[no-untyped-def]
    assert {w: fn(w) for w in cases} == cases


def test_add_derived_on_a_token_table() -> None:
    t = add_derived(parse_conll(TEXT, "x"))
    assert set(DERIVED) <= set(t.columns)
    assert t["position_bin"].astype(str).tolist()[:6] == ["0", "1", "2", "3-4", "3-4", "5-8"]
    assert t["end_distance_bin"].astype(str).tolist()[-3:] == ["2", "1", "0"]
    assert t["sentence_final"].astype(str).tolist() == ["not_final"] * 9 + ["final", "not_final", "not_final", "final"]
    assert t["coarse_pos"].astype(str).tolist()[:4] == ["determiner", "noun", "noun", "verb"]
    assert t["month"].astype(str).tolist()[1] == "month" and t["month"].astype(str).tolist()[10] == "month"
    cont = continuous_properties(t)
    assert cont["position"].tolist()[:3] == [0, 1, 2] and cont["distance_to_end"].tolist()[-3:] == [2, 1, 0]
    # The original key columns are untouched.
    assert t["position"].tolist()[:3] == [0, 1, 2]


def test_corpus_column_wins_and_missing_columns_are_named() -> None:
    t = parse_conll("a X q\nb Y r\n", "x", columns=("word", "tag", "month"))
    assert derivable(t.columns) == [
        "position_bin",
        "end_distance_bin",
        "sentence_final",
        "capitalisation",
        "number",
        "month",
        "punctuation",
    ]
    out = add_derived(t, ["month", "position_bin"])
    assert out["month"].astype(str).tolist() == ["q", "r"]  # the corpus's own column, not the derived one
    with pytest.raises(KeyError, match="'coarse_pos' needs the token column.*'pos'"):
        add_derived(t, ["coarse_pos"])
    with pytest.raises(KeyError, match="'nonsense' is neither a column"):
        add_derived(t, ["nonsense"])


def test_activation_keys_carry_derived_properties(tmp_path: Path) -> None:
    tokens = parse_conll(TEXT, "x")
    write_activations(
        tokens,
        lambda block: [np.zeros((sum(map(len, block)), 2), np.float32)],
        tmp_path / "a.parquet",
        {},
        progress=False,
    )
    keys = read_keys(tmp_path / "a.parquet")
    assert {"pos", "chunk", *DERIVED} <= set(keys.columns)
    assert set(read_keys(tmp_path / "a.parquet", derived=False).columns) == {
        "sentence",
        "position",
        "word",
        "pos",
        "chunk",
    }


def test_a_position_neuron_is_found_by_the_position_probe() -> None:
    """A probe for the derived position bins reads a planted position neuron and puts it first in its LCA ordering."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 25, size=160)
    keys = pd.DataFrame(
        {
            "sentence": np.repeat(np.arange(len(lengths)), lengths),
            "position": np.concatenate([np.arange(n) for n in lengths]),
        }
    )
    keys["word"] = rng.integers(0, 2000, size=len(keys)).astype(str)
    keys["pos"] = "NN"
    keys = add_derived(keys, ["position_bin"])
    x = rng.normal(size=(len(keys), 12)).astype(np.float32)
    x[:, 5] = np.log1p(keys["position"].to_numpy()) + 0.05 * rng.normal(size=len(keys))
    half = len(lengths) // 2
    train = keys["sentence"] < half
    out = probe_layer(
        x[train.to_numpy()],
        keys[train].reset_index(drop=True),
        x[~train.to_numpy()],
        keys[~train].reset_index(drop=True),
        "position_bin",
        l1=1e-4,
        l2=1e-4,
        probe_params={"epochs": 60, "batch_size": 512, "lr": 0.2},
        salient_fraction=0.5,
        seed=0,
    )
    m = out["metrics"].set_index(["metric", "group"])["value"]
    majority = keys.loc[~train, "position_bin"].value_counts(normalize=True).max()
    assert m[("accuracy", "overall")] > majority + 0.1 and m[("selectivity", "overall")] > 0.1
    lca = out["orderings"][out["orderings"]["method"] == "lca"].sort_values("rank")["neuron"].tolist()
    assert lca[0] == 5
    assert set(out["labels"]["label"]) == {"0", "1", "2", "3-4", "5-8", "9-16", "17+"}


def test_every_registered_property_has_its_function_and_the_registry_stays_light() -> None:
    """One entry in the registry (core, standard library only: parsing the workflow imports it) and one
    function on token tables (store) per derived property."""
    import ast

    assert set(DERIVED) == set(DERIVED_FUNCTIONS)
    tree = ast.parse((Path(__file__).resolve().parents[1] / "src/neurosieve/core/properties.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "collections"}, imported
