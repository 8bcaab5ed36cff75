"""The Python API: hooks read what the module computes, rankings are the workflow's, the examples run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from neurosieve import api

ROOT = Path(__file__).resolve().parents[1]


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(20, 8)
        self.lstm = torch.nn.LSTM(8, 6, batch_first=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh())

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.lstm(self.embed(ids))[0])


def test_module_extractor_reads_each_words_first_position() -> None:
    """Two positions per word (as word pieces): each word gets its first position's output, at every hook."""
    torch.manual_seed(0)
    model = Tiny().eval()
    sents = [["a", "b", "c"], ["d", "e"]]

    def encode(batch):  # type: ignore[no-untyped-def]
        width = 2 * max(len(s) for s in batch) + 1
        ids = torch.zeros(len(batch), width, dtype=torch.long)
        word_ids = []
        for b, s in enumerate(batch):
            ids[b, 1 : 1 + 2 * len(s)] = torch.arange(1, 1 + 2 * len(s)) + 3 * b
            word_ids.append([None, *[w for w in range(len(s)) for _ in (0, 1)], *[None] * (width - 1 - 2 * len(s))])
        return ids, word_ids

    lstm, mlp = api.activations(api.module_extractor(model, encode, ["lstm", "mlp.1"], batch_size=2), sents)
    ids, _ = encode(sents)
    with torch.no_grad():
        out = model.lstm(model.embed(ids))[0]
        hidden = model.mlp(out)
    want = [(0, 1), (0, 3), (0, 5), (1, 1), (1, 3)]  # the first piece of each word
    assert np.allclose(lstm, np.stack([out[b, t].numpy() for b, t in want]), atol=1e-6)
    assert np.allclose(mlp, np.stack([hidden[b, t].numpy() for b, t in want]), atol=1e-6)
    with pytest.raises(KeyError, match="not submodules"):
        api.module_extractor(model, encode, ["nope"])


def test_rankings_are_the_workflows() -> None:
    """The probe rankings find planted informative neurons of small variance (standardised LCA); the correlation
    rankings are those of the correlation stage's function; the ablation test places them between random and
    the oracle."""
    from neurosieve.analysis.correlation import correlate_instances

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 3000)
    X = rng.normal(size=(3000, 12)).astype(np.float32)
    X[:, :3] *= 0.1
    X[np.arange(3000), y] += 0.3  # neurons 0-2 decide the label, at a tenth of the others' scale
    labels = np.array(["NN", "DT", ","])[y]
    ranks = api.probe_rankings(X[:2000], labels[:2000], min_steps=300)
    assert set(ranks) >= {"lca", "lca_std", "probeless", "activation_sd", "random"}
    assert set(ranks["lca_std"].top(3)) == {0, 1, 2} and ranks["lca_std"].provenance["ranking"] == "lca_std"
    assert sorted(ranks["lca"].order) == list(range(12)) and np.isfinite(ranks["lca_std"].score).all()
    other = X + rng.normal(scale=0.5, size=X.shape).astype(np.float32)
    across = api.correlation_rankings({"a": X, "b": other}, ["maxcorr", "mincorr"])
    scores = correlate_instances({"a": X, "b": other}, linreg=False).scores
    a = scores[scores["instance"] == "a"].sort_values("rank_maxcorr")["neuron"].to_numpy()
    assert np.array_equal(across["a"]["maxcorr"].order, a) and set(across) == {"a", "b"}
    test = api.ablation_test(
        {"lca_std": ranks["lca_std"], "activation_sd": ranks["activation_sd"]},
        X[:2000],
        labels[:2000],
        X[2000:],
        labels[2000:],
        neurons=(1, 2, 3, 6),
        random_repeats=4,
        oracle_neurons=6,
        min_steps=300,
    )
    assert test.area("lca_std") > 0.8 and test.area("lca_std") > test.area("activation_sd")
    assert set(test.curves["ranking"]) == {"lca_std", "activation_sd", "oracle", "none"}


def test_probe_defaults_are_the_configs() -> None:
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())["properties"]["probing"]
    probe = schema["properties"]["probe"]["properties"]
    want = {k: probe[k]["default"] for k in ("solver", "epochs", "batch_size", "lr", "min_steps", "standardize")}
    want.update(l1=schema["properties"]["l1"]["default"], l2=schema["properties"]["l2"]["default"])
    assert api.PROBE_DEFAULTS == want


@pytest.mark.parametrize("example", ["custom_module", "tiny_bert"])
def test_examples_run(example: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The documented examples, on a smaller budget: every ranking lands on the calibrated scale."""
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    module = __import__(example)
    areas = module.main(120, min_steps=150)
    assert areas and all(np.isfinite(v) for v in areas.values())
    assert "calibrated areas" in capsys.readouterr().out
    sys.modules.pop(example, None)
