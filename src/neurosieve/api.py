"""neurosieve from Python: extract a model's activations, rank its neurons, and test a ranking.

The workflow's stages call the same functions this module calls (the registry's ranking functions,
:func:`~neurosieve.analysis.correlation.correlate_instances`, :func:`~neurosieve.analysis.ablation.probe_ablation`,
the greedy oracle and the calibrated area), so a number computed here in a notebook is computed as the
workflow computes it. ``docs/api.md`` walks through it; ``examples/`` runs it on a tiny random BERT and on a
custom ``torch.nn.Module``.

* **extract**: :func:`activations` runs an extractor over sentences (lists of words) and returns one
  (words × neurons) array per layer. Extractors: :func:`module_extractor` (any ``nn.Module``, forward hooks at
  the submodules you name), :func:`pretrained_extractor` (a Hugging Face encoder and its tokenizer, every
  hidden state pooled per word), :func:`tagger_extractor` (the taggers trained by the workflow).
* **rank**: :func:`probe_rankings` fits the elastic-net probe once and returns every probe ranking of the
  registry (LCA and its variants, probeless, the trivial baselines, random); :func:`correlation_rankings`
  returns MaxCorr, MeanMaxCorr, MinCorr and LinReg of several instances of a model. Each ranking is a
  :class:`NeuronRanking`: the order, each neuron's score, and what produced it.
* **test**: :func:`ablation_test` keeps a ranking's top k neurons (k = 1, 2, 4, ...) and retrains a probe on
  them, beside random k and the greedy oracle's k, and places the ranking between the two by its calibrated
  area (0 = random, 1 = oracle).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from neurosieve import __version__
from neurosieve.analysis.ablation import k_grid, probe_ablation
from neurosieve.analysis.calibration import ORACLE, best_of_oracle, calibrated_areas, oracle_reference
from neurosieve.analysis.correlation import CORRELATION_RANKING_FUNCTIONS, correlate_instances
from neurosieve.analysis.probe import ElasticNetProbe
from neurosieve.analysis.probing import PROBE_RANKING_FUNCTIONS, PROBE_RANKING_ORDER, RankingInputs
from neurosieve.models.extract import tagger_extractor
from neurosieve.models.hooks import Encoder, module_extractor
from neurosieve.models.pretrained import pretrained_extractor
from neurosieve.store.activations import Extractor

#: The probe a ranking is read from unless told otherwise: the workflow's defaults (``probing.l1``/``l2`` and
#: ``probing.probe``: the paper's lambdas, a fixed budget of Adam steps on standardised neurons; a test keeps
#: them equal to the config schema's).
PROBE_DEFAULTS: dict[str, Any] = {
    "l1": 1e-5,
    "l2": 1e-5,
    "solver": "adam",
    "epochs": 4,
    "batch_size": 512,
    "lr": 0.1,
    "min_steps": 3000,
    "standardize": True,
}


@dataclass(frozen=True)
class NeuronRanking:
    """A layer's neurons ordered by one ranking: ``order`` (most important first), ``score`` (one per neuron,
    indexed by neuron; NaN where the ranking has none) and ``provenance`` (ranking, settings, version)."""

    name: str
    order: np.ndarray
    score: np.ndarray
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def top(self, k: int) -> np.ndarray:
        """The ``k`` most important neurons."""
        return np.asarray(self.order[:k])


def activations(extractor: Extractor, sentences: Sequence[Sequence[str]], block: int = 256) -> list[np.ndarray]:
    """One (words × neurons) float32 array per layer the extractor returns, the words of ``sentences`` in order."""
    parts: list[list[np.ndarray]] = []
    for start in range(0, len(sentences), block):
        out = extractor(sentences[start : start + block])
        parts = parts or [[] for _ in out]
        for p, a in zip(parts, out):
            p.append(np.asarray(a, dtype=np.float32))
    return [np.concatenate(p) for p in parts]


def probe_rankings(
    X: np.ndarray,
    labels: Sequence[str],
    methods: Sequence[str] | None = None,
    *,
    seed: int = 0,
    **probe: Any,
) -> dict[str, NeuronRanking]:
    """Every probe ranking of the registry (or ``methods``) of one layer's activations ``X`` for ``labels``.

    One elastic-net probe is fitted (:data:`PROBE_DEFAULTS`, overridden by ``probe``: ``l1``, ``l2``,
    ``solver``, ...) and each ranking read from it as a probe job of the workflow reads it; ``lca_paper`` is
    ``lca`` unless the probe's lambdas differ from the paper's, where the workflow fits a second probe.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(labels).astype(str)
    params = {**PROBE_DEFAULTS, **probe}
    fitted = ElasticNetProbe(random_state=seed, **params).fit(X, y)
    ctx = RankingInputs.build(fitted.coef_, fitted.classes_, X, y, seed)
    names = list(PROBE_RANKING_ORDER if methods is None else methods)
    unknown = [m for m in names if m not in PROBE_RANKING_FUNCTIONS]
    if unknown:
        raise KeyError(f"unknown probe ranking(s) {unknown}; known: {list(PROBE_RANKING_FUNCTIONS)}")
    out = {}
    for name in names:
        order, score_in_order = PROBE_RANKING_FUNCTIONS[name](ctx)
        score = np.full(X.shape[1], np.nan)
        score[order] = score_in_order
        out[name] = NeuronRanking(
            name, order, score, {"ranking": name, "probe": params, "seed": seed, "version": __version__}
        )
    return out


def correlation_rankings(
    layers: Mapping[str, np.ndarray], methods: Sequence[str] | None = None
) -> dict[str, dict[str, NeuronRanking]]:
    """MaxCorr, MeanMaxCorr, MinCorr and LinReg (or ``methods``) of every instance of a model: ``layers`` maps an
    instance's name to its (words × neurons) activations of one layer, the same words for all. Returns
    ``{instance: {ranking: NeuronRanking}}``."""
    names = list(CORRELATION_RANKING_FUNCTIONS if methods is None else methods)
    unknown = [m for m in names if m not in CORRELATION_RANKING_FUNCTIONS]
    if unknown:
        raise KeyError(f"unknown correlation ranking(s) {unknown}; known: {list(CORRELATION_RANKING_FUNCTIONS)}")
    scores = correlate_instances(dict(layers), linreg="linreg" in names).scores
    out: dict[str, dict[str, NeuronRanking]] = {}
    for inst, s in scores.groupby("instance", sort=False):
        s = s.sort_values("neuron")
        out[str(inst)] = {
            m: NeuronRanking(
                m,
                s.sort_values(f"rank_{m}")["neuron"].to_numpy(),
                s[m].to_numpy(dtype=np.float64),
                {"ranking": m, "instances": list(layers), "version": __version__},
            )
            for m in names
        }
    return out


@dataclass(frozen=True)
class AblationTest:
    """What :func:`ablation_test` measured: the long curves table (retrained top k of each ranking, random k,
    the oracle's k) and each ranking's calibrated area (0 = random k, 1 = the greedy oracle)."""

    curves: pd.DataFrame
    areas: pd.DataFrame

    def area(self, ranking: str) -> float:
        """The calibrated area of one ranking."""
        return float(self.areas.set_index("ranking").loc[ranking, "area"])


def ablation_test(
    rankings: Mapping[str, NeuronRanking | np.ndarray],
    X_train: np.ndarray,
    y_train: Sequence[str],
    X_test: np.ndarray,
    y_test: Sequence[str],
    *,
    groups: Sequence[object] | None = None,
    neurons: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128),
    random_repeats: int = 20,
    oracle_neurons: int = 128,
    dev_fraction: float = 0.1,
    seed: int = 0,
    **probe: Any,
) -> AblationTest:
    """Keep each ranking's top k neurons and retrain a probe on them (scored on the test words), beside random k
    (``random_repeats`` draws per k) and the greedy oracle's first k (searched on ``dev_fraction`` of the training
    sentences, ``groups`` naming each training word's sentence; each word its own sentence when None), as the
    workflow's probe ablation does; returns the curves and each ranking's calibrated area."""
    X_train = np.ascontiguousarray(X_train, dtype=np.float32)
    X_test = np.ascontiguousarray(X_test, dtype=np.float32)
    y_tr, y_te = np.asarray(y_train).astype(str), np.asarray(y_test).astype(str)
    orders = {n: np.asarray(r.order if isinstance(r, NeuronRanking) else r) for n, r in rankings.items()}
    ks = k_grid(X_train.shape[1], (), neurons)
    groups = np.arange(len(y_tr)) if groups is None else np.asarray(groups)
    reference = oracle_reference(X_train, y_tr, groups, orders, ks, oracle_neurons, dev_fraction, seed)
    full = ElasticNetProbe(random_state=seed, **{**PROBE_DEFAULTS, **probe}).fit(X_train, y_tr)
    curves = probe_ablation(
        full,
        X_train,
        y_tr,
        X_test,
        y_te,
        np.zeros(len(y_te), dtype=bool),
        {**orders, ORACLE: reference.order},
        ks,
        ("retrain",),
        random_repeats,
        seed,
        salt=zlib.crc32(b"api"),
        top_only=(ORACLE,),
    )
    curves = best_of_oracle(curves, reference.check).assign(instance="api")
    return AblationTest(curves, calibrated_areas(curves).drop(columns=["instance"]))


__all__ = [
    "PROBE_DEFAULTS",
    "AblationTest",
    "Encoder",
    "NeuronRanking",
    "ablation_test",
    "activations",
    "correlation_rankings",
    "module_extractor",
    "pretrained_extractor",
    "probe_rankings",
    "tagger_extractor",
]
