"""The summary table: headline numbers of a run, each beside the paper's or the report's finding where one exists."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass
class FamilyTables:
    """What the summary reads for one family (any table may be missing)."""

    name: str
    train_metrics: Sequence[Mapping[str, Any]]
    probing: pd.DataFrame | None
    curves: pd.DataFrame | None
    labels: pd.DataFrame | None
    duplicate: pd.DataFrame | None
    stability: pd.DataFrame | None
    scores: pd.DataFrame | None
    layer: int
    prop: str
    overlap: pd.DataFrame | None = None
    neurons: pd.DataFrame | None = None


def _row(family: str, section: str, quantity: str, value: float | str, finding: str = "", agrees: bool | None = None) -> dict[str, Any]:
    return {
        "family": family,
        "section": section,
        "quantity": quantity,
        "value": value,
        "paper/report finding": finding,
        "agrees": "" if agrees is None else ("yes" if agrees else "no"),
    }


def _kept_accuracy(curves: pd.DataFrame, layer: int, prop: str, mode: str, direction: str, pct: float, group: str = "overall") -> float:
    c = curves[(curves["layer"] == layer) & (curves["property"] == prop) & (curves["mode"] == mode) & (curves["metric"] == f"accuracy_{group}")]
    c = c[(c["direction"] == direction) & c["ranking"].isin(["lca", "none"] if direction == "random" else ["lca"])]
    if c.empty:
        return float("nan")
    nearest = c.loc[(c["k_percent"] - pct).abs().idxmin(), "k_percent"]
    return float(100 * c[c["k_percent"] == nearest]["value"].mean())


def family_summary(t: FamilyTables) -> list[dict[str, Any]]:
    """The summary rows of one family."""
    rows: list[dict[str, Any]] = []
    f = t.name
    for m in t.train_metrics:
        rows.append(_row(f, "end task", f"chunk F1, seed {m['seed']}", round(m["test"]["f1"], 2), "word-only BiLSTM taggers: about 89-93 F1"))
    if t.probing is not None:
        acc = t.probing[(t.probing["metric"] == "accuracy") & (t.probing["group"] == "overall")]
        for (prop, layer), g in acc.groupby(["property", "layer"]):
            rows.append(_row(f, "probing", f"{prop} probe accuracy, layer {layer} (mean over instances)", round(100 * g["value"].mean(), 2)))
        sel = t.probing[(t.probing["metric"] == "selectivity") & (t.probing["group"] == "overall")]
        for (prop, layer), g in sel.groupby(["property", "layer"]):
            rows.append(_row(f, "probing", f"{prop} selectivity (vs control task), layer {layer}", round(100 * g["value"].mean(), 2), "Hewitt & Liang: a good probe is selective (> 0)", bool(g["value"].mean() > 0)))
    if t.curves is not None and "accuracy_overall" in set(t.curves["metric"]):
        full = _kept_accuracy(t.curves, t.layer, t.prop, "mask", "top", 100)
        for mode in ("mask", "retrain"):
            for pct in (10, 20):
                top = _kept_accuracy(t.curves, t.layer, t.prop, mode, "top", pct)
                bottom = _kept_accuracy(t.curves, t.layer, t.prop, mode, "bottom", pct)
                rnd = _kept_accuracy(t.curves, t.layer, t.prop, mode, "random", pct)
                label = f"{t.prop}, layer {t.layer}, {mode}ed, {pct}% kept"
                rows.append(_row(f, "ablation (probe)", f"{label}: top / bottom / random accuracy", f"{top:.1f} / {bottom:.1f} / {rnd:.1f}"))
                if pct == 10:
                    rows.append(_row(f, "ablation (probe)", f"{label}: top - bottom gap (points)", round(top - bottom, 1), "paper: top-10% vs bottom-10% gap 12.8 (NMT), 25.5 (LM), averaged over properties", bool(top > bottom)))
                if pct == 10 and mode == "retrain":
                    rows.append(_row(f, "ablation (probe)", f"{label}: share of full accuracy regained", round(100 * top / full, 1) if full else float("nan"), "paper: the retrained top 10% regains most of the accuracy", bool(full and top / full > 0.9)))
        for group in ("open", "closed"):
            drop = _kept_accuracy(t.curves, t.layer, t.prop, "retrain", "top", 100, group) - _kept_accuracy(t.curves, t.layer, t.prop, "retrain", "top", 10, group)
            rows.append(_row(f, "ablation (probe)", f"{group}-class accuracy lost keeping the top 10% (retrained)", round(drop, 1), "report: open-class accuracy suffers more than closed-class"))
    if t.labels is not None and "open_class" in t.labels and t.labels["open_class"].notna().any():
        lab = t.labels.dropna(subset=["open_class"])
        med_open = float(lab[lab["open_class"].astype(bool)]["neurons_needed"].median())
        med_closed = float(lab[~lab["open_class"].astype(bool)]["neurons_needed"].median())
        rows.append(_row(f, "distributedness", f"median neurons needed per label (open / closed class), layer {t.layer}", f"{med_open:.0f} / {med_closed:.0f}", "paper: closed-class labels need few neurons, open-class many", bool(med_open > med_closed)))
    if t.curves is not None and "f1" in set(t.curves["metric"]):
        c = t.curves[(t.curves["metric"] == "f1") & (t.curves["layer"] == t.layer)]
        for ranking in ("maxcorr", "meanmaxcorr", "mincorr", "lca"):
            g = c[c["ranking"] == ranking]
            if g.empty:
                continue
            half = g.loc[(g["k_percent"] - 50).abs().idxmin(), "k_percent"]
            top = g[(g["direction"] == "top") & (g["k_percent"] == half)]["value"].mean()
            bottom = g[(g["direction"] == "bottom") & (g["k_percent"] == half)]["value"].mean()
            rows.append(_row(f, "ablation (model)", f"chunk F1 with {half:.0f}% of layer {t.layer} removed by {ranking}: top / bottom", f"{top:.1f} / {bottom:.1f}", "paper: removing top neurons hurts the end task more than bottom ones", bool(top < bottom)))
    if t.scores is not None:
        for inst, g in t.scores.groupby("instance", sort=False):
            rows.append(_row(f, "correlation", f"dead neurons, layer {t.layer}, {inst}", int(g["dead"].sum())))
        for m in ("maxcorr", "meanmaxcorr", "mincorr"):
            rows.append(_row(f, "correlation", f"mean {m} score, layer {t.layer}", round(float(t.scores[m].mean()), 3)))
    if t.duplicate is not None and not t.duplicate.empty:
        d = t.duplicate[t.duplicate["duplicated"]].set_index("method")
        if {"maxcorr", "meanmaxcorr"} <= set(d.index):
            mx, mm = float(d.loc["maxcorr", "spearman"]), float(d.loc["meanmaxcorr", "spearman"])
            rows.append(_row(f, "correlation", "duplicated instance: Spearman of its ranking before/after (MaxCorr / MeanMaxCorr)", f"{mx:.3f} / {mm:.3f}", "report: MaxCorr is fooled by two identical instances, MeanMaxCorr is not", bool(mm > mx)))
    if t.stability is not None and not t.stability.empty:
        for (m, k), g in t.stability.groupby(["method", "k"]):
            rows.append(_row(f, "stability", f"{m}: share of top-{k} whose best partner is in the other instance's top-{k} (mean ± sd)", f"{g['share'].mean():.2f} ± {g['share'].std():.2f}"))
    if t.overlap is not None and not t.overlap.empty:
        rows.extend(overlap_summary(f, t.overlap))
    if t.neurons is not None and not t.neurons.empty:
        rows.extend(neuron_summary(f, t.neurons))
    return rows


def neuron_summary(family: str, neurons: pd.DataFrame, rankings: Sequence[str] = ("maxcorr", "meanmaxcorr")) -> list[dict[str, Any]]:
    """What the top neurons of each correlation ranking respond to: their most associated properties, counted
    (a property's labels pooled; continuous position and its bins count as position)."""
    rows = []
    for ranking in rankings:
        g = neurons[neurons["ranking"] == ranking]
        if g.empty:
            continue
        kind = g["property"].replace({"position": "position_bin", "distance_to_end": "end_distance_bin"})
        counts = kind.value_counts()
        listed = ", ".join(f"{p} ×{n}" for p, n in counts.items())
        first = g.sort_values("rank").iloc[0]
        label = f"={first['label']}" if first["label"] else ""
        quantity = f"top {len(g)} {ranking} neurons ({first['instance']}, layer {first['layer']}): most associated property (|r|), counted"
        rows.append(_row(family, "CCA vs LCA", quantity, f"{listed}; #1 neuron {first['neuron']}: {first['property']}{label} (r={first['r']:+.2f}; {first['top_words']})", CCA_LCA_FINDING))
    return rows


CCA_LCA_FINDING = "paper: position neurons are top in both CCA and LCA; the other top CCA neurons track conjunctions, determiners, punctuation"
POSITION_PROPERTIES = ("position_bin", "end_distance_bin", "sentence_final")


def overlap_summary(family: str, overlap: pd.DataFrame, rankings: Sequence[str] = ("maxcorr", "meanmaxcorr"), alpha: float = 0.05) -> list[dict[str, Any]]:
    """CCA against LCA, per layer: each property's top-k overlap with the top MaxCorr neurons (share, chance,
    median permutation p, instances significant), and which properties the top CCA neurons belong to."""
    from .overlap import headline_k, property_agreement

    rows = []
    for layer, table in overlap.groupby("layer"):
        k = headline_k(table)
        for ranking in rankings:
            if ranking not in set(table["ranking"]):
                continue
            agree = property_agreement(table, ranking, k, alpha)
            if ranking == rankings[0]:
                for r in agree.itertuples(index=False):
                    rows.append(_row(
                        family, "CCA vs LCA",
                        f"layer {layer}: share of the top-{k} {ranking} neurons among the top-{k} LCA neurons of {r.property}",
                        f"{r.share:.2f} (chance {r.chance_share:.2f}, median p {r.median_p:.2g}, p < {alpha} in {r.significant}/{r.instances} instances)",
                    ))
            belongs = agree[agree["significant"] > agree["instances"] / 2]
            listed = ", ".join(f"{r.property} (×{r.ratio:.1f})" for r in belongs.itertuples(index=False)) or "none above chance"
            position = [p for p in agree["property"] if p in POSITION_PROPERTIES]
            agrees = None if not position else bool(len(belongs) and belongs.iloc[0]["property"] in POSITION_PROPERTIES)
            rows.append(_row(family, "CCA vs LCA", f"layer {layer}: properties the top-{k} {ranking} neurons belong to (p < {alpha} in most instances, by ratio to chance)", listed, CCA_LCA_FINDING, agrees))
    return rows


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


def run_summary(families: Sequence[Mapping[str, Any]], md_path: str, csv_path: str) -> pd.DataFrame:
    """Read each family's tables and write the summary as Markdown and CSV (workflow edge)."""
    from .io import atomic_path

    def read(p: str | None) -> pd.DataFrame | None:
        return pd.read_parquet(p) if p else None

    rows = []
    for fam in families:
        t = FamilyTables(
            name=fam["name"],
            train_metrics=[json.loads(open(p).read()) for p in fam.get("train_metrics", [])],
            probing=read(fam.get("probing")),
            curves=read(fam.get("curves")),
            labels=read(fam.get("labels")),
            duplicate=read(fam.get("duplicate")),
            stability=read(fam.get("stability")),
            scores=read(fam.get("scores")),
            layer=int(fam["layer"]),
            prop=fam["property"],
            overlap=pd.concat([pd.read_parquet(p) for p in fam["overlap"]], ignore_index=True) if fam.get("overlap") else None,
            neurons=read(fam.get("neurons")),
        )
        rows.extend(family_summary(t))
    table = pd.DataFrame(rows)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        tmp.write_text("# neurosieve summary\n\n" + to_markdown(table))
    return table


