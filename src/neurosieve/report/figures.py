"""The workflow's figures, each a function from tables to a matplotlib Figure (sized for a paper column).

Numbering follows docs/methods.md (Figures). Saving is separate (:func:`save`), so every
figure function can be called on in-memory tables.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from neurosieve.analysis.ablation import SPLIT_MODES, predictive_value
from neurosieve.analysis.calibration import ORACLE, area_spread, calibrated_areas
from neurosieve.analysis.correlation import partner_rank_agreement
from neurosieve.analysis.describe import neuron_caption
from neurosieve.analysis.overlap import headline_k
from neurosieve.core.registry import RANKINGS, figure
from neurosieve.settings import FigureSettings
from neurosieve.store.activations import read_keys, read_layer
from neurosieve.store.corpus import sentences
from neurosieve.store.io import (
    atomic_path,  # noqa: E402
    read_table,
)

matplotlib.use("Agg")


COLUMN = 3.4  # inches: one column of a two-column paper


PAGE = 7.0


STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 300,
}


DIRECTION_STYLE = {"top": ("tab:red", "-"), "bottom": ("tab:blue", "--"), "random": ("0.4", ":")}


RANKING_LABEL = {r.name: r.label for r in RANKINGS} | {"none": "random"}


def styled(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw a figure under the paper-column style (small fonts, no top/right spines)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with plt.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper


def save(fig: Figure, png: str | os.PathLike[str], svg: str | os.PathLike[str]) -> None:
    """Write a figure as PNG and SVG, each atomically, and close it."""
    for path, fmt in ((png, "png"), (svg, "svg")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, bbox_inches="tight")
    plt.close(fig)


def _fig(width: float, height: float, ncols: int = 1, nrows: int = 1, **kw) -> tuple[Figure, np.ndarray]:  # type: ignore[no-untyped-def]
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, constrained_layout=True, **kw)
    for ax in axes.flat:
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7)
    return fig, axes


@styled
def weight_distribution(weights: pd.DataFrame, label: str, salient_fraction: float = 0.25, title: str = "") -> Figure:
    """Figures 1-2: a label's probe weights over neurons, sorted by |w|, with the cumulative weight mass."""
    w = weights[weights["label"] == label]
    if w.empty:
        raise KeyError(f"label {label!r} not in the probe's labels")
    a = np.sort(np.abs(w["weight"].to_numpy()))[::-1]
    cum = np.cumsum(a) / a.sum() if a.sum() else np.zeros_like(a)
    k = int(np.searchsorted(cum, salient_fraction) + 1)
    fig, axes = _fig(COLUMN, 2.2)
    ax = axes[0, 0]
    ax.bar(np.arange(len(a)), a, width=1.0, color="tab:purple", linewidth=0)
    ax.set_xlabel("neurons, sorted by |weight|")
    ax.set_ylabel(f"|weight| for label {label!r}")
    ax2 = ax.twinx()
    ax2.plot(np.arange(len(a)), 100 * cum, color="k", lw=1)
    ax2.axhline(100 * salient_fraction, color="0.5", lw=0.6, ls=":")
    ax2.axvline(k, color="0.5", lw=0.6, ls=":")
    ax2.set_ylabel("cumulative weight mass (%)", fontsize=8)
    ax2.tick_params(labelsize=7)
    ax2.set_ylim(0, 102)
    ax.set_title(title or f"{label!r}: {k} of {len(a)} neurons hold {100 * salient_fraction:.0f}% of the weight")
    return fig


def _curves(ax, data: pd.DataFrame, x: str, directions: Sequence[str] = ("top", "bottom", "random")) -> None:  # type: ignore[no-untyped-def]
    for d in directions:
        g = data[data["direction"] == d].groupby(x)["value"].agg(["mean", "min", "max"]).reset_index()
        if g.empty:
            continue
        color, ls = DIRECTION_STYLE[d]
        ax.plot(g[x], g["mean"], color=color, ls=ls, lw=1.2, marker="o", ms=2.5, label=d)
        if (g["max"] > g["min"]).any():
            ax.fill_between(g[x], g["min"], g["max"], color=color, alpha=0.15, lw=0)


@styled
def accuracy_vs_kept(curves: pd.DataFrame, ranking: str = "lca", mode: str = "retrain") -> Figure:
    """Figure 3: probe accuracy against the share of neurons kept (top, bottom, random), overall/open/closed."""
    fig, axes = _fig(PAGE, 2.2, ncols=3, sharey=True)
    for ax, group in zip(axes[0], ("overall", "open", "closed")):
        c = curves[
            (curves["mode"] == mode)
            & (curves["metric"] == f"accuracy_{group}")
            & curves["ranking"].isin([ranking, "none"])
        ]
        _curves(ax, c.assign(value=100 * c["value"]), "k_percent")
        ax.set_title(f"{group} {'class' if group != 'overall' else ''}".strip())
        ax.set_xlabel("neurons kept (% of layer)")
    axes[0, 0].set_ylabel(f"probe accuracy (%), {mode}ed")
    axes[0, 0].legend(title=f"{RANKING_LABEL.get(ranking, ranking)} neurons", frameon=False)
    return fig


@styled
def model_ablation_curves(curves: pd.DataFrame, rankings: Sequence[str]) -> Figure:
    """Figure 4: chunking F1 against the number of neurons ablated in the model, one panel per ranking
    (at most four panels a row, so that the LCA variants beside the correlation rankings stay readable)."""
    rankings = [r for r in rankings if r in set(curves["ranking"])]
    ncols = max(1, min(4, len(rankings)))
    nrows = max(1, -(-len(rankings) // ncols))
    fig, axes = _fig(PAGE, 2.1 * nrows, ncols=ncols, nrows=nrows, sharey=True)
    c = curves[(curves["mode"] == "model") & (curves["metric"] == "f1")]
    for ax, r in zip(axes.flat, rankings):
        _curves(ax, c[c["ranking"].isin([r, "none"])], "k")
        ax.set_title(RANKING_LABEL.get(r, r))
        ax.set_xlabel("neurons ablated")
    for ax in list(axes.flat)[len(rankings) :]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel("chunking F1 (conlleval)")
    axes[0, 0].legend(frameon=False)
    return fig


@styled
def ranking_scores(scores: pd.DataFrame, methods: Sequence[str] = ("maxcorr", "meanmaxcorr", "mincorr")) -> Figure:
    """Figure 5: the ranking scores themselves, sorted, for each method (a line per instance)."""
    fig, axes = _fig(PAGE, 2.1, ncols=len(methods), sharey=True)
    for ax, m in zip(axes[0], methods):
        for inst, g in scores.groupby("instance", sort=False):
            ax.plot(np.sort(g[m].to_numpy())[::-1], lw=1, label=inst)
        ax.set_title(RANKING_LABEL.get(m, m))
        ax.set_xlabel("neuron rank")
        ax.set_ylim(0, 1.02)
    axes[0, 0].set_ylabel("score (|Pearson r|)")
    axes[0, 0].legend(frameon=False, fontsize=6)
    return fig


@styled
def stability(curves: pd.DataFrame, duplicate: pd.DataFrame, ranking: str = "maxcorr") -> Figure:
    """Figure 6: model-ablation curves with each instance as the reference, and the duplicated-instance experiment."""
    fig, axes = _fig(PAGE, 2.3, ncols=3)
    c = curves[(curves["mode"] == "model") & (curves["metric"] == "f1")]
    for ax, d in zip(axes[0][:2], ("top", "bottom")):
        for inst, g in c[(c["ranking"] == ranking) & (c["direction"] == d)].groupby("instance"):
            ax.plot(g["k"], g["value"], lw=1, marker="o", ms=2, label=inst)
        ax.set_title(f"{d} {RANKING_LABEL.get(ranking, ranking)} neurons removed")
        ax.set_xlabel("neurons ablated")
    axes[0, 0].set_ylabel("chunking F1 (one line per instance)")
    axes[0, 0].legend(frameon=False, fontsize=6)
    ax = axes[0, 2]
    if not duplicate.empty:
        pivot = duplicate.pivot_table(index="instance", columns="method", values="spearman")
        x = np.arange(len(pivot))
        for i, m in enumerate(pivot.columns):
            ax.bar(x + 0.38 * i - 0.19, pivot[m], width=0.38, label=RANKING_LABEL.get(m, m))
        dup = duplicate.loc[duplicate["duplicated"], "instance"].iloc[0]
        ax.set_xticks(x, [f"{i}*" if i == dup else i for i in pivot.index], rotation=45, fontsize=6)
        ax.set_ylabel("Spearman r, before vs after")
        ax.set_title("one instance duplicated (*)")
        ax.legend(frameon=False)
    return fig


@styled
def mask_vs_retrain(curves: pd.DataFrame, ranking: str = "lca") -> Figure:
    """Figure 7: masking against retraining at the same k (top and bottom neurons kept)."""
    fig, axes = _fig(COLUMN, 2.3)
    ax = axes[0, 0]
    c = curves[(curves["metric"] == "accuracy_overall") & (curves["ranking"] == ranking)]
    for mode, marker in (("mask", "s"), ("retrain", "o")):
        for d in ("top", "bottom"):
            g = c[(c["mode"] == mode) & (c["direction"] == d)].groupby("k_percent")["value"].mean()
            color, _ = DIRECTION_STYLE[d]
            ax.plot(
                g.index,
                100 * g.to_numpy(),
                color=color,
                ls="-" if mode == "retrain" else "--",
                marker=marker,
                ms=2.5,
                lw=1,
                label=f"{d}, {mode}",
            )
    ax.set_xlabel("neurons kept (% of layer)")
    ax.set_ylabel("probe accuracy (%)")
    ax.legend(frameon=False)
    return fig


@styled
def neurons_per_label(labels: pd.DataFrame) -> Figure:
    """Figure 8: neurons each label needs (salient weight mass) against its training frequency."""
    fig, axes = _fig(COLUMN, 2.4)
    ax = axes[0, 0]
    is_open = (
        labels["open_class"].fillna(False).astype(bool)
        if "open_class" in labels
        else pd.Series(False, index=labels.index)
    )
    for flag, color, name in ((True, "tab:orange", "open class"), (False, "tab:green", "closed class")):
        g = labels[is_open == flag]
        ax.scatter(g["train_count"].clip(lower=1), g["neurons_needed"], s=10, color=color, label=name)
        for _, r in g.iterrows():
            ax.annotate(
                r["label"],
                (max(r["train_count"], 1), r["neurons_needed"]),
                fontsize=5,
                xytext=(2, 1),
                textcoords="offset points",
            )
    ax.set_xscale("log")
    ax.set_xlabel("label frequency in train (tokens)")
    ax.set_ylabel("neurons needed (salient weight mass)")
    ax.legend(frameon=False)
    return fig


@styled
def top_neuron_sentences(
    words: Sequence[Sequence[str]],
    activations: Sequence[np.ndarray],
    neurons: Sequence[int],
    titles: Sequence[str] | None = None,
    label_width: float = 0.16,
) -> Figure:
    """Figure 9: words of real sentences coloured by the activation of top neurons (red positive, blue negative).

    ``label_width`` is the share of the figure's width kept left of the words for each neuron's title.
    """
    rows = len(neurons) * len(words)
    fig = plt.figure(figsize=(PAGE, 0.32 * rows + 0.3))
    cmap = plt.get_cmap("RdBu_r")
    y = 1.0
    step = 1.0 / (rows + 0.5)
    for n_i, neuron in enumerate(neurons):
        vals = np.concatenate([a[:, n_i] for a in activations])
        scale = np.abs(vals).max() or 1.0
        for s_i, sent in enumerate(words):
            y -= step
            label = (titles[n_i] if titles else f"neuron {neuron}") if s_i == 0 else ""
            fig.text(0.0, y, label, fontsize=7 if "\n" not in label else 6, ha="left", va="center", weight="bold")
            x = label_width
            for w, v in zip(sent, activations[s_i][:, n_i]):
                t = fig.text(
                    x,
                    y,
                    w,
                    fontsize=7,
                    va="center",
                    bbox={"facecolor": cmap(0.5 + 0.5 * v / scale), "edgecolor": "none", "pad": 1.2},
                )
                bb = t.get_window_extent(renderer=fig.canvas.get_renderer())
                x += bb.width / fig.bbox.width + 0.008
                if x > 0.98:
                    break
    return fig


@styled
def similarity_heatmap(cka: pd.DataFrame) -> Figure:
    """Figure 10: linear CKA between every (instance, layer) pair."""
    keys = (
        cka[["instance_a", "layer_a"]]
        .drop_duplicates()
        .sort_values(["instance_a", "layer_a"], key=lambda s: s.map(str) if s.name == "instance_a" else s)
    )
    idx = {tuple(k): i for i, k in enumerate(keys.itertuples(index=False))}
    m = np.full((len(idx), len(idx)), np.nan)
    for r in cka.itertuples(index=False):
        m[idx[(r.instance_a, r.layer_a)], idx[(r.instance_b, r.layer_b)]] = r.cka
    size = min(PAGE, 1.2 + 0.22 * len(idx))
    fig, axes = _fig(size, size * 0.85)
    ax = axes[0, 0]
    im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
    names = [f"{i} L{layer}" for i, layer in idx]
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=5)
    ax.set_yticks(range(len(names)), names, fontsize=5)
    fig.colorbar(im, ax=ax, label="linear CKA", shrink=0.8)
    return fig


#: Figure 11's lines: (metric, group, label, style). The probe and every baseline it must be compared with.
ACCURACY_LINES = (
    ("accuracy", "overall", "probe", {"marker": "o"}),
    ("majority_baseline", "overall", "per-word majority", {"ls": "--", "marker": "_"}),
    ("untrained_accuracy", "overall", "untrained model", {"ls": ":", "marker": "s"}),
    ("control_accuracy", "overall", "control task", {"ls": "-.", "marker": "^"}),
    ("accuracy", "in_vocab", "probe, in-vocab tokens", {"ls": "-", "marker": "v", "alpha": 0.6}),
    ("accuracy", "oov", "probe, OOV tokens", {"ls": "-", "marker": "x", "alpha": 0.6}),
)


@styled
def probe_accuracy_by_layer(metrics: pd.DataFrame) -> Figure:
    """Probe accuracy per layer and property (mean and range over instances) beside its baselines.

    One panel per property: the probe, the per-word majority baseline, the
    untrained model's probe, the control task (selectivity is the gap to it),
    and the probe on in- and out-of-vocabulary tokens; a companion to the summary table.
    """
    props = sorted(metrics["property"].unique())
    fig, axes = _fig(COLUMN * max(1, len(props)) * 0.9, 2.4, ncols=max(1, len(props)))
    for ax, prop in zip(axes[0], props):
        for metric, group, label, style in ACCURACY_LINES:
            m = metrics[(metrics["metric"] == metric) & (metrics["group"] == group) & (metrics["property"] == prop)]
            if m.empty or m["value"].isna().all():
                continue
            s = m.groupby("layer")["value"].agg(["mean", "min", "max"])
            spread = [
                np.clip(100 * (s["mean"] - s["min"]), 0, None),
                np.clip(100 * (s["max"] - s["mean"]), 0, None),
            ]  # rounding can go below 0
            ax.errorbar(s.index, 100 * s["mean"], yerr=spread, ms=3, capsize=2, label=label, **style)
        ax.set_title(prop)
        ax.set_xticks(sorted(metrics.loc[metrics["property"] == prop, "layer"].unique()))  # whole layers only
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_ylabel("accuracy (%)")
    axes[0, -1].legend(frameon=False, fontsize=5)
    return fig


@styled
def lambda_grid(grid: pd.DataFrame) -> Figure:
    """Does lambda select? Held-out accuracy of every (l1, l2) pair searched against weight concentration (left)
    and against the share of neurons the probe uses at all (right: exact zeros from the converging solver);
    chosen pair, the reference, the paper's default pair and the fixed-budget probe of earlier versions marked."""
    topk = "topk_accuracy" in grid and grid["topk_accuracy"].notna().any()
    has_used = "neurons_used" in grid and float(grid["neurons_used"].max()) > 0
    fig, axes = _fig(PAGE, 2.4, ncols=(2 if has_used else 1) + 1 if topk else 2)
    # The fixed-budget comparison row of a converging-solver search (an Adam probe beside fista's path).
    solver = grid["solver"] if "solver" in grid else pd.Series("adam", index=grid.index)
    fixed_only = (solver == "adam") & (solver == "fista").any()
    width = float(grid["neurons_used"].max()) if "neurons_used" in grid else 0.0
    panels = [("concentration", "weight concentration (share of |W| in top 10% neurons)")]
    if "neurons_used" in grid and width > 0:
        grid = grid.assign(used_share=grid["neurons_used"] / max(width, 1.0))
        panels.append(("used_share", "share of neurons with a nonzero weight"))
    for ax, (x, xlabel) in zip(axes[0], panels):
        pts = grid[~fixed_only]
        ax.scatter(pts[x], 100 * pts["accuracy"], s=10, c="0.6", label="grid")
        for _, r in pts.iterrows():
            ax.annotate(
                f"{r['l1']:g},{r['l2']:g}",
                (r[x], 100 * r["accuracy"]),
                fontsize=4,
                xytext=(2, 2),
                textcoords="offset points",
            )
        for col, marker, label in (
            ("reference", "s", "reference"),
            ("paper_default", "D", "paper default (1e-5, 1e-5)"),
            ("chosen", "*", "chosen"),
        ):
            if col in grid:
                g = grid[grid[col].astype(bool) & ~fixed_only]
                ax.scatter(
                    g[x],
                    100 * g["accuracy"],
                    s=40 if marker == "*" else 18,
                    marker=marker,
                    facecolors="none" if marker != "*" else None,
                    edgecolors="k",
                    label=label,
                )
        if fixed_only.any():
            g = grid[fixed_only]
            ax.scatter(g[x], 100 * g["accuracy"], s=22, marker="x", c="C3", label="fixed budget (Adam, paper pair)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("held-out accuracy (%)")
    axes[0, 0].legend(frameon=False, fontsize=5)
    if len(panels) == 1 and not topk:
        axes[0, 1].set_visible(False)
    if topk:
        # The retrained-top-k criterion: each pair's held-out accuracy of its own top neurons retrained, mean and
        # sd over probe seeds; pairs tied with the best (inside the noise) drawn filled.
        ax = axes[0, len(panels)]
        pts = grid[grid["topk_accuracy"].notna()]
        tied = pts["within_tolerance"].astype(bool)
        for flag, face in ((True, "k"), (False, "none")):
            g = pts[tied == flag]
            ax.errorbar(
                g["concentration"],
                100 * g["topk_accuracy"],
                yerr=100 * g["topk_sd"].fillna(0),
                fmt="o",
                ms=3,
                mfc=face,
                mec="k",
                ecolor="0.5",
                label="tied with the best" if flag else "below the best",
            )
        chosen = pts[pts["chosen"].astype(bool)]
        ax.scatter(chosen["concentration"], 100 * chosen["topk_accuracy"], s=60, marker="*", c="C1", label="chosen")
        ax.set_xlabel("weight concentration")
        ax.set_ylabel("held-out accuracy, own top neurons retrained (%)")
        ax.legend(frameon=False, fontsize=5)
    return fig


@styled
def top_neurons_by_layer(by_layer: pd.DataFrame) -> Figure:
    """All-layer ranking: share of the top 1%, 5% and 10% of the model's neurons that each layer holds."""
    fig, axes = _fig(COLUMN, 2.2)
    ax = axes[0, 0]
    fractions = sorted(by_layer["fraction"].unique())
    layers = sorted(by_layer["layer"].unique())
    width = 0.8 / max(1, len(fractions))
    for i, f in enumerate(fractions):
        g = by_layer[by_layer["fraction"] == f].set_index("layer").reindex(layers)
        ax.bar(
            np.arange(len(layers)) + (i - (len(fractions) - 1) / 2) * width,
            100 * g["share"],
            width,
            label=f"top {100 * f:g}%",
        )
    ax.set_xticks(np.arange(len(layers)), [str(layer) for layer in layers])
    ax.set_xlabel("layer (0 = embeddings)")
    ax.set_ylabel("share of selected neurons (%)")
    ax.legend(frameon=False, fontsize=6)
    return fig


@styled
def reference_instance(predictive: pd.DataFrame, agreement: pd.DataFrame, methods: Sequence[str]) -> Figure:
    """Figure 12: does a ranking depend on the instance it is computed on?

    Left: the predictive value (chunk F1 above random removal, mean over the
    k grid) of each reference instance's ranking, one dot per instance, a box
    for the spread, per method. Right: the Spearman agreement of rankings
    computed on two reference instances, matched through best partners, one
    dot per ordered pair.
    """
    fig, axes = _fig(PAGE, 2.4, ncols=2)
    rng = np.random.default_rng(0)
    for ax, table, col, ylabel in (
        (axes[0, 0], predictive, "predictive_value", "predictive value (F1 points above random)"),
        (axes[0, 1], agreement, "spearman", "Spearman r through best partners"),
    ):
        data = [table.loc[table["method"] == m, col].to_numpy() for m in methods]
        ax.boxplot(data, widths=0.5, showfliers=False)
        for i, v in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(v)), v, s=8, color="tab:red", zorder=3)
        ax.set_xticks(range(1, len(methods) + 1), [RANKING_LABEL.get(m, m) for m in methods], rotation=20)
        ax.set_ylabel(ylabel)
    axes[0, 0].axhline(0, color="0.5", lw=0.6, ls=":")
    axes[0, 0].set_title("predictive value of each instance's ranking")
    axes[0, 1].set_title("agreement between reference instances")
    return fig


@styled
def cca_vs_lca(overlap: pd.DataFrame, fraction: float = 0.1) -> Figure:
    """Figure 12: how many of each correlation ranking's top-k neurons are among each property's top-k LCA neurons.

    A cell is the mean share over instances at the k nearest ``fraction`` of
    the layer, annotated with the ratio to chance (k/D) and the median
    exact (hypergeometric) p-value; the title gives chance.
    """

    k = headline_k(overlap, fraction)
    t = overlap[overlap["k"] == k]
    rankings = [r for r in RANKING_LABEL if r in set(t["ranking"])]
    props = sorted(set(t["property"]))
    share = t.pivot_table(index="ranking", columns="property", values="share", aggfunc="mean").reindex(
        index=rankings, columns=props
    )
    ratio = t.pivot_table(index="ranking", columns="property", values="ratio", aggfunc="mean").reindex(
        index=rankings, columns=props
    )
    p = t.pivot_table(index="ranking", columns="property", values="p_value", aggfunc="median").reindex(
        index=rankings, columns=props
    )
    fig, axes = _fig(min(PAGE, 1.6 + 0.75 * len(props)), 0.9 + 0.42 * len(rankings))
    ax = axes[0, 0]
    im = ax.imshow(share.to_numpy(float), vmin=0, vmax=1, cmap="magma_r", aspect="auto")
    for i in range(len(rankings)):
        for j in range(len(props)):
            v = share.iat[i, j]
            if np.isnan(v):
                continue
            ax.text(
                j,
                i,
                f"{v:.2f}\n×{ratio.iat[i, j]:.1f}, p={p.iat[i, j]:.2g}",
                ha="center",
                va="center",
                fontsize=5.5,
                color="white" if v > 0.5 else "black",
            )
    ax.set_xticks(range(len(props)), props, rotation=30, ha="right")
    ax.set_yticks(range(len(rankings)), [RANKING_LABEL.get(r, r) for r in rankings])
    ax.set_xlabel("property (its LCA top-k)")
    chance = float(t["chance"].mean()) / k
    ax.set_title(f"top-{k} CCA ∩ top-{k} LCA, share of k (chance {chance:.2f})")
    fig.colorbar(im, ax=ax, label="overlap share (mean over instances)", shrink=0.8)
    return fig


def described_neurons(
    table: pd.DataFrame, prop: str, top: int, rankings: Sequence[str] = ("maxcorr",)
) -> tuple[np.ndarray, list[str]]:
    """Figure 9's neurons and titles from a neuron-description table: the top LCA neurons of ``prop``, then the
    top neurons of each correlation ranking present, each titled with its rank, the property label it is
    most associated with (and r) and its top-activating words."""

    neurons, titles = [], []
    for ranking in (f"lca:{prop}", *rankings):
        rows = table[table["ranking"] == ranking].sort_values("rank").head(top)
        name = "LCA" if ranking.startswith("lca:") else RANKING_LABEL.get(ranking, ranking)
        for r in rows.to_dict("records"):
            neurons.append(int(r["neuron"]))
            titles.append(
                f"{name} #{r['rank']}: neuron {r['neuron']}\n{neuron_caption(r)}\ntop: {' '.join(r['top_words'].split()[:3])}"
            )
    return np.asarray(neurons, dtype=np.int64), titles


@styled
def calibrated_curves(curves: pd.DataFrame, mode: str = "retrain") -> Figure:
    """Figure 16: probe accuracy against the number of neurons kept (log2 axis, k up to the oracle's K), each
    ranking's top k beside random k (band: min to max over draws and instances) and the greedy oracle; the legend
    gives each ranking's calibrated area (0 = random, 1 = oracle; mean ± sd over instances)."""
    c = curves[(curves["mode"] == mode) & (curves["metric"] == "accuracy_overall") & (curves["k"] > 0)]
    oracle_k = c.loc[c["ranking"] == ORACLE, "k"]
    if len(oracle_k):
        c = c[c["k"] <= oracle_k.max()]
    areas = area_spread(calibrated_areas(c, mode=mode)) if len(oracle_k) else pd.DataFrame()
    area_of = {r["ranking"]: r for _, r in areas.iterrows()} if len(areas) else {}
    fig, axes = _fig(PAGE, 3.0)
    ax = axes[0, 0]
    rnd = c[c["direction"] == "random"].groupby("k")["value"].agg(["mean", "min", "max"])
    if len(rnd):
        ax.plot(rnd.index, 100 * rnd["mean"], color="0.4", ls=":", lw=1.2, label="random k")
        ax.fill_between(rnd.index, 100 * rnd["min"], 100 * rnd["max"], color="0.4", alpha=0.15, lw=0)
    top = c[(c["direction"] == "top") & ~c["ranking"].isin(["none", ORACLE])]
    colors = plt.get_cmap("tab10")
    for i, (name, g) in enumerate(top.groupby("ranking", sort=False)):
        m = g.groupby("k")["value"].mean()
        label = RANKING_LABEL.get(name, name)
        if name in area_of:
            a = area_of[name]
            label += f" (area {a['mean']:.2f}" + (f" ± {a['std']:.2f})" if a["n"] > 1 else ")")
        ax.plot(m.index, 100 * m.to_numpy(), color=colors(i % 10), lw=1, marker="o", ms=2, label=label)
    orc = c[c["ranking"] == ORACLE].groupby("k")["value"].mean()
    if len(orc):
        ax.plot(orc.index, 100 * orc.to_numpy(), color="k", lw=1.6, marker="s", ms=2.5, label="oracle (greedy)")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("neurons kept (k)")
    ax.set_ylabel(f"probe accuracy (%), {mode}ed on the top k")
    ax.legend(frameon=False, fontsize=6, loc="lower right", ncols=2)
    return fig


@styled
def split_halves(curves: pd.DataFrame) -> Figure:
    """Figure 17: each split-half ranking's retrained top-k accuracy (log2 k) when it was fitted on the other half
    of train (separated, solid) and on the evaluation half itself (dashed), beside random k retrained there (band:
    min to max over draws and instances); means over instances."""
    c = curves[curves["mode"].isin(list(SPLIT_MODES.values())) & (curves["metric"] == "accuracy_overall")]
    c = c[c["k"] > 0]
    names = [r for r in RANKING_LABEL if r in set(c.loc[c["direction"] == "top", "ranking"])]
    ncols = max(1, min(4, len(names)))
    fig, axes = _fig(PAGE, 2.4, ncols=ncols, sharey=True)
    if not names:
        axes[0, 0].text(0.5, 0.5, "no split-half rows (ablation.split_half.rankings is empty)", ha="center")
        return fig
    rnd = c[c["direction"] == "random"].groupby("k")["value"].agg(["mean", "min", "max"])
    for ax, name in zip(axes.flat, names):
        ax.plot(rnd.index, 100 * rnd["mean"], color="0.4", ls=":", lw=1.2, label="random k")
        ax.fill_between(rnd.index, 100 * rnd["min"], 100 * rnd["max"], color="0.4", alpha=0.15, lw=0)
        for mode, style, what in (
            (SPLIT_MODES["split"], "-", "ranked on the other half"),
            (SPLIT_MODES["same"], "--", "ranked on this half"),
        ):
            m = c[(c["ranking"] == name) & (c["mode"] == mode) & (c["direction"] == "top")].groupby("k")["value"].mean()
            ax.plot(m.index, 100 * m.to_numpy(), ls=style, lw=1.1, marker="o", ms=2, label=what)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_title(RANKING_LABEL.get(name, name))
        ax.set_xlabel("neurons kept (k)")
    axes[0, 0].set_ylabel("probe accuracy (%), retrained on half B")
    axes[0, 0].legend(frameon=False, fontsize=6, loc="lower right")
    return fig


def _layer_curves(path: str, layer: int, prop: str | None = None) -> pd.DataFrame:
    c = read_table(path)
    c = c[c["layer"] == layer]
    return c[c["property"] == prop] if prop else c


#: How each figure of the registry is drawn from its tables and settings, by figure name (``@renders``).
#: A new figure is one registry entry plus one function here.
RENDERERS: dict[str, Callable[[Mapping[str, Any], FigureSettings], Figure]] = {}


def renders(*names: str) -> Callable[[Callable[..., Figure]], Callable[..., Figure]]:
    """Register a function ``(inputs, settings) -> Figure`` as the drawing of figures ``names``.

    ``inputs`` maps each table kind of the figure's registry entry to its file; ``settings`` holds the
    fields the entry names (:class:`neurosieve.settings.FigureSettings`).
    """

    def register(fn: Callable[..., Figure]) -> Callable[..., Figure]:
        for name in names:
            figure(name)  # a KeyError for a name the registry lacks
            if name in RENDERERS:
                raise ValueError(f"figure {name!r} has two drawing functions")
            RENDERERS[name] = fn
        return fn

    return register


@renders("weights_closed")
def _weights_closed(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return weight_distribution(read_table(inputs["weights"]), s.closed_label, s.salient_fraction)


@renders("weights_open")
def _weights_open(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return weight_distribution(read_table(inputs["weights"]), s.open_label, s.salient_fraction)


@renders("accuracy_vs_kept")
def _accuracy_vs_kept(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return accuracy_vs_kept(_layer_curves(inputs["curves"], s.layer, s.property))


@renders("model_ablation")
def _model_ablation(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return model_ablation_curves(_layer_curves(inputs["curves"], s.layer), list(s.rankings))


@renders("ranking_scores")
def _ranking_scores(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return ranking_scores(read_table(inputs["scores"]))


@renders("stability")
def _stability(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return stability(_layer_curves(inputs["curves"], s.layer), read_table(inputs["duplicate"]))


@renders("reference_instance")
def _reference_instance(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    methods = list(s.methods)
    curves = _layer_curves(inputs["curves"], s.layer)
    curves = curves[(curves["mode"] == "model") & (curves["ranking"].isin(methods) | (curves["direction"] == "random"))]
    pv = predictive_value(curves).rename(columns={"ranking": "method"})
    agree = partner_rank_agreement(read_table(inputs["scores"]), read_table(inputs["pairs"]), methods)
    return reference_instance(pv, agree, methods)


@renders("mask_vs_retrain")
def _mask_vs_retrain(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return mask_vs_retrain(_layer_curves(inputs["curves"], s.layer, s.property))


@renders("neurons_per_label")
def _neurons_per_label(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return neurons_per_label(read_table(inputs["labels"]))


@renders("top_neurons")
def _top_neurons(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    keys = read_keys(inputs["activations"])
    acts = read_layer(inputs["activations"], s.layer)
    order = read_table(inputs["orderings"])
    neurons = order[order["method"] == "lca"].sort_values("rank")["neuron"].to_numpy()[: s.top_neurons]
    titles = [f"LCA #{r + 1}: neuron {n}" for r, n in enumerate(neurons)]
    if "neurons" in inputs:
        neurons, titles = described_neurons(read_table(inputs["neurons"]), s.property, s.top_neurons)
    sents = sentences(keys)
    starts = np.concatenate([[0], np.cumsum([len(x) for x in sents])])
    chosen = [i for i, x in enumerate(sents) if 6 <= len(x) <= 14][: s.sentences]
    return top_neuron_sentences(
        [sents[i] for i in chosen],
        [acts[starts[i] : starts[i + 1]][:, neurons] for i in chosen],
        neurons.tolist(),
        titles,
        label_width=0.3 if "neurons" in inputs else 0.16,
    )


@renders("similarity")
def _similarity(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return similarity_heatmap(read_table(inputs["cka"]))


@renders("probe_accuracy_by_layer")
def _probe_accuracy_by_layer(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return probe_accuracy_by_layer(read_table(inputs["metrics"]))


@renders("calibrated_curves")
def _calibrated_curves(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return calibrated_curves(_layer_curves(inputs["curves"], s.layer, s.property))


@renders("split_halves")
def _split_halves(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return split_halves(_layer_curves(inputs["curves"], s.layer, s.property))


@renders("lambda_grid")
def _lambda_grid(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return lambda_grid(read_table(inputs["grid"]))


@renders("top_neurons_by_layer")
def _top_neurons_by_layer(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return top_neurons_by_layer(read_table(inputs["by_layer"]))


@renders("cca_vs_lca")
def _cca_vs_lca(inputs: Mapping[str, Any], s: FigureSettings) -> Figure:
    return cca_vs_lca(read_table(inputs["overlap"]))


def render(name: str, inputs: Mapping[str, Any], settings: FigureSettings, png: str, svg: str) -> None:
    """Build figure ``name`` from the workflow's tables with its registered drawing (workflow edge) and save it as
    PNG and SVG."""
    if name not in RENDERERS:
        raise KeyError(f"figure {name!r} has no drawing function (@renders); drawn: {sorted(RENDERERS)}")
    save(RENDERERS[name](inputs, settings), png, svg)


__all__ = [
    "RENDERERS",
    "accuracy_vs_kept",
    "cca_vs_lca",
    "lambda_grid",
    "mask_vs_retrain",
    "split_halves",
    "model_ablation_curves",
    "neurons_per_label",
    "probe_accuracy_by_layer",
    "ranking_scores",
    "reference_instance",
    "render",
    "renders",
    "save",
    "similarity_heatmap",
    "stability",
    "top_neuron_sentences",
    "top_neurons_by_layer",
    "weight_distribution",
]
