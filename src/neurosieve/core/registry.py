"""The registries of neuron rankings and figures: one entry each, read by every layer and by the workflow.

Standard library only, so that parsing the workflow (which plans one rule per figure and
checks the rankings a config names) imports nothing heavy. Adding a ranking is one
:class:`Ranking` entry here plus the function that computes it (a probe ranking in
``analysis.probing.PROBE_RANKING_FUNCTIONS``, a correlation ranking in
``analysis.correlation.CORRELATION_RANKING_FUNCTIONS``); adding a figure is one :class:`Figure`
entry (the tables it reads, the settings it shows) plus its drawing function, registered for it
in :mod:`neurosieve.report.figures` (``@renders(name)``). Its caption is its ``title`` unless a
longer one is written in ``workflow/report/<name>.rst`` (whose number comes from here, through the
rule's ``number`` param). The token-property registry is :data:`neurosieve.core.properties.DERIVED` (its functions: ``neurosieve.store.properties``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Ranking:
    """A way of ordering a layer's neurons, most important first.

    ``source`` says which stage's table holds it: ``probe`` rankings are columns of a probe
    job's ``orderings.parquet`` (one per instance, layer and property); ``correlation``
    rankings are columns of a layer's ``correlation/.../scores.parquet`` and need a family
    of at least two instances; ``model`` rankings are computed by model ablation from the
    tagger itself, or (``chunk_lca``) read from the probe of the tagger's own output (taggers
    trained here only; model ablation only).
    """

    name: str
    source: Literal["probe", "correlation", "model"]
    label: str
    description: str
    #: A trivial baseline (no labels, no other model): a ranking worth trusting must beat it, not only random.
    trivial: bool = False


RANKINGS: tuple[Ranking, ...] = (
    Ranking("lca", "probe", "LCA (probe weights)", "NeuroX's cumulative weight-mass ordering of the elastic-net probe"),
    Ranking(
        "lca_std",
        "probe",
        "LCA (standardised)",
        "LCA's weight-mass ordering on standardised importance, |w| times the neuron's sd on train (scale-free)",
    ),
    Ranking(
        "lca_freq",
        "probe",
        "LCA (frequency-weighted)",
        "global standardised weight mass, each label's |w|·sd weighted by its share of training tokens",
    ),
    Ranking(
        "lca_paper",
        "probe",
        "LCA (paper lambdas)",
        "LCA's ordering of the probe fitted at the paper's lambdas (1e-5, 1e-5), raw weights as in the paper",
    ),
    Ranking("probeless", "probe", "probeless", "spread of the per-label mean activations (Antverg & Belinkov)"),
    Ranking(
        "activation_sd",
        "probe",
        "activation sd",
        "a trivial baseline that sees no labels: neurons by their standard deviation over the training tokens",
        trivial=True,
    ),
    Ranking(
        "activation_mean_abs",
        "probe",
        "mean |activation|",
        "a trivial baseline that sees no labels: neurons by their mean absolute activation over the training tokens",
        trivial=True,
    ),
    Ranking("random", "probe", "random", "a seeded random ordering"),
    Ranking(
        "head_weight",
        "model",
        "tagger head |W|·sd",
        "a trivial baseline that sees no labels: the L2 norm of the tagger head's weights on the neuron times its sd "
        "on the test tokens (what the head reads from it; the top layer only)",
        trivial=True,
    ),
    Ranking(
        "single_neuron",
        "model",
        "single-neuron effect",
        "an upper reference, not a fair ranking: chunk F1 lost when the neuron alone is zeroed, on the same test "
        "sentences that model ablation scores",
    ),
    Ranking(
        "chunk_lca",
        "model",
        "chunk probe LCA (positive control)",
        "a positive control: the standardised LCA ordering (lca_std) of the probe for chunk tags, the tagger's own "
        "output; if removing its top neurons costs no more chunk F1 than random ones, model ablation cannot see a "
        "ranking that matters",
    ),
    Ranking("maxcorr", "correlation", "MaxCorr", "highest |r| with any neuron of another instance, over instances"),
    Ranking("meanmaxcorr", "correlation", "MeanMaxCorr", "mean over other instances of the best partner's |r|"),
    Ranking("mincorr", "correlation", "MinCorr", "lowest over other instances of the best partner's |r|"),
    Ranking(
        "linreg",
        "correlation",
        "LinReg",
        "R² of a least-squares fit on another instance's whole layer; the worst decides",
    ),
)

RANKING_NAMES: tuple[str, ...] = tuple(r.name for r in RANKINGS)
#: Rankings read from a probe job's orderings table.
PROBE_RANKINGS: frozenset[str] = frozenset(r.name for r in RANKINGS if r.source == "probe")
#: The trivial baselines among the rankings (no labels, no other model).
TRIVIAL_RANKINGS: tuple[str, ...] = tuple(r.name for r in RANKINGS if r.trivial)
#: Rankings computed by model ablation from the tagger itself (taggers trained here; model ablation only).
MODEL_RANKINGS: frozenset[str] = frozenset(r.name for r in RANKINGS if r.source == "model")
#: Rankings read from a layer's correlation scores (families of several instances only).
CORRELATION_RANKINGS: tuple[str, ...] = tuple(r.name for r in RANKINGS if r.source == "correlation")
#: The model ranking read from the chunk-tag probe's orderings (its lca_std), the property it needs.
CHUNK_LCA, CHUNK_PROPERTY = "chunk_lca", "chunk"


def ranking(name: str) -> Ranking:
    """The registry entry of ranking ``name`` (a KeyError lists the known ones)."""
    for r in RANKINGS:
        if r.name == name:
            return r
    raise KeyError(f"unknown ranking {name!r}; known rankings: {list(RANKING_NAMES)}")


#: What a family needs for a figure: any probed family, a grid search, an all-layer probe,
#: several instances (correlation), or several trained instances with model ablation.
Needs = Literal["probe", "grid", "all_layers", "corr", "model"]


#: The tables a figure may read, by kind (:meth:`neurosieve.plan.RunPlan.figure_tables` gives each one's
#: file for a family: the figure instance, figure layer and figure property where they apply).
FIGURE_TABLES: dict[str, str] = {
    "weights": "the probe's weights",
    "labels": "the probe's per-label table",
    "orderings": "the probe's neuron orderings",
    "metrics": "the family's probing summary",
    "grid": "the lambda grid search",
    "by_layer": "the all-layer probe's top neurons per layer",
    "curves": "the family's ablation curves",
    "scores": "the layer's correlation scores",
    "pairs": "the layer's best partners per pair of instances",
    "duplicate": "the duplicated-instance experiment",
    "cka": "the family's layer similarity (CKA)",
    "overlap": "CCA against LCA of the layer",
    "neurons": "the neuron descriptions",
    "activations": "the test split's activations",
}

#: What a figure may show besides its tables: the fields of :class:`neurosieve.settings.FigureSettings`.
FIGURE_SETTINGS = (
    "property",
    "closed_label",
    "open_label",
    "sentences",
    "top_neurons",
    "salient_fraction",
    "layer",
    "rankings",
    "methods",
)


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its number, name (file ``figNN_<name>``), report category, needs, title (its
    caption unless ``workflow/report/<name>.rst`` has a longer one), the tables it reads (kinds of
    :data:`FIGURE_TABLES`) and the settings it shows (of :data:`FIGURE_SETTINGS`)."""

    number: int
    name: str
    category: str
    needs: Needs
    title: str
    inputs: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [*(set(self.inputs) - set(FIGURE_TABLES)), *(set(self.settings) - set(FIGURE_SETTINGS))]
        if unknown or not self.inputs:
            raise ValueError(f"figure {self.name!r}: unknown tables or settings {sorted(unknown)}, or no table")

    @property
    def stem(self) -> str:
        """The file name without extension: ``fig01_weights_closed``."""
        return f"fig{self.number:02d}_{self.name}"


FIGURES: tuple[Figure, ...] = (
    Figure(
        1,
        "weights_closed",
        "Probing (LCA)",
        "probe",
        "probe weights of a closed-class label (the comma)",
        ("weights",),
        ("closed_label", "salient_fraction"),
    ),
    Figure(
        2,
        "weights_open",
        "Probing (LCA)",
        "probe",
        "probe weights of an open-class label (NN)",
        ("weights",),
        ("open_label", "salient_fraction"),
    ),
    Figure(
        3,
        "accuracy_vs_kept",
        "Ablation",
        "probe",
        "probe accuracy against neurons kept (overall, open, closed)",
        ("curves",),
        ("layer", "property"),
    ),
    Figure(
        4,
        "model_ablation",
        "Ablation",
        "model",
        "chunk F1 against neurons ablated inside the model",
        ("curves",),
        ("layer", "rankings"),
    ),
    Figure(5, "ranking_scores", "Correlation (CCA)", "corr", "the ranking scores themselves", ("scores",), ()),
    Figure(
        6,
        "stability",
        "Correlation (CCA)",
        "model",
        "stability across reference instances; duplicated instance",
        ("curves", "duplicate"),
        ("layer",),
    ),
    Figure(7, "mask_vs_retrain", "Ablation", "probe", "masking against retraining", ("curves",), ("layer", "property")),
    Figure(
        8, "neurons_per_label", "Probing (LCA)", "probe", "neurons needed per label against frequency", ("labels",), ()
    ),
    Figure(
        9,
        "top_neurons",
        "Probing (LCA)",
        "probe",
        "top neurons over real sentences",
        ("activations", "orderings", "neurons"),
        ("layer", "property", "sentences", "top_neurons"),
    ),
    Figure(
        10, "similarity", "Correlation (CCA)", "probe", "linear CKA between every (instance, layer) pair", ("cka",), ()
    ),
    Figure(
        11,
        "probe_accuracy_by_layer",
        "Probing (LCA)",
        "probe",
        "probe accuracy per layer beside its baselines",
        ("metrics",),
        (),
    ),
    Figure(
        12,
        "reference_instance",
        "Correlation (CCA)",
        "model",
        "how much a ranking depends on its instance",
        ("curves", "scores", "pairs"),
        ("layer", "methods"),
    ),
    Figure(
        13,
        "lambda_grid",
        "Probing (LCA)",
        "grid",
        "the lambda path: held-out accuracy against weight concentration and neurons used",
        ("grid",),
        (),
    ),
    Figure(
        14,
        "top_neurons_by_layer",
        "Probing (LCA)",
        "all_layers",
        "where an all-layer ordering's top neurons sit",
        ("by_layer",),
        (),
    ),
    Figure(15, "cca_vs_lca", "Correlation (CCA)", "corr", "CCA against LCA: top-k overlap", ("overlap",), ()),
    Figure(
        16,
        "calibrated_curves",
        "Ablation",
        "probe",
        "each ranking's retrained top k between random k and the greedy oracle (absolute k)",
        ("curves",),
        ("layer", "property"),
    ),
    Figure(
        17,
        "split_halves",
        "Ablation",
        "probe",
        "ranking and evaluation separated: top k ranked on one half of train, retrained on the other",
        ("curves",),
        ("layer", "property"),
    ),
)


def figure(name: str) -> Figure:
    """The registry entry of figure ``name`` (a KeyError lists the known ones)."""
    for f in FIGURES:
        if f.name == name:
            return f
    raise KeyError(f"unknown figure {name!r}; known figures: {[f.name for f in FIGURES]}")


__all__ = [
    "CHUNK_LCA",
    "CHUNK_PROPERTY",
    "CORRELATION_RANKINGS",
    "FIGURES",
    "FIGURE_SETTINGS",
    "FIGURE_TABLES",
    "PROBE_RANKINGS",
    "RANKINGS",
    "RANKING_NAMES",
    "MODEL_RANKINGS",
    "TRIVIAL_RANKINGS",
    "Figure",
    "Ranking",
    "figure",
    "ranking",
]
