"""The summary table: headline numbers of a run, each beside the paper's or the report's finding where one exists."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
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


def _mean_metric(probing: pd.DataFrame, metric: str, group: str, prop: str, layer: int) -> float:
    """Mean over instances of one probing metric, in percent (nan when absent)."""
    v = probing[(probing["metric"] == metric) & (probing["group"] == group) & (probing["property"] == prop) & (probing["layer"] == layer)]["value"]
    return float(100 * v.mean()) if len(v) else float("nan")


def _pct(v: float) -> str:
    return "n/a" if np.isnan(v) else f"{v:.1f}"


def probing_rows(family: str, probing: pd.DataFrame, train_metrics: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Probing rows: every probe accuracy beside what it must be compared with, each verdict naming its comparison.

    Per (property, layer), means over instances: the probe against the per-word
    majority baseline and the untrained model's probe; selectivity against the
    untrained model's; accuracy on in- vs out-of-vocabulary tokens (and, for
    POS, open vs closed class on in-vocabulary tokens); the chosen lambdas
    beside the paper's default pair. For a trained family's top layer (the
    input of the tagger's linear head) the chunk probe beside the tagger's own
    token accuracy.
    """
    rows: list[dict[str, Any]] = []
    acc = probing[(probing["metric"] == "accuracy") & (probing["group"] == "overall")]
    for (prop, layer), g in acc.groupby(["property", "layer"]):
        m = lambda metric, group="overall": _mean_metric(probing, metric, group, prop, layer)  # noqa: E731
        where = f"{prop}, layer {layer}"
        probe, majority, untrained = m("accuracy"), m("majority_baseline"), m("untrained_accuracy")
        rows.append(_row(family, "probing", f"{where}: probe accuracy (mean over instances)", round(probe, 2)))
        rows.append(_row(family, "probing", f"{where}: probe / per-word majority baseline / untrained-model probe (accuracy)", f"{_pct(probe)} / {_pct(majority)} / {_pct(untrained)}"))
        if not np.isnan(majority):
            rows.append(_row(family, "probing", f"{where}: probe minus per-word majority baseline (points)", round(probe - majority, 2), "the property is encoded beyond a word-identity lookup only if the probe beats the per-word majority tagger on the same test tokens", bool(probe > majority)))
        if not np.isnan(untrained):
            rows.append(_row(family, "probing", f"{where}: probe minus untrained-model probe (points)", round(probe - untrained, 2), "learned, not just the input: the trained model's probe beats the same probe on the same architecture at random init", bool(probe > untrained)))
        sel, u_sel = m("selectivity"), m("untrained_selectivity")
        rows.append(_row(
            family, "probing", f"{where}: selectivity (vs control task keyed on the model's input) / untrained model's",
            f"{_pct(sel)} / {_pct(u_sel)}",
            "Hewitt & Liang: the trained model's probe is more selective than the untrained model's" if not np.isnan(u_sel) else "",
            bool(sel > u_sel) if not np.isnan(u_sel) else None,
        ))
        iv, oov, share = m("accuracy", "in_vocab"), m("accuracy", "oov"), m("oov_share")
        if not np.isnan(iv):
            unk_oov = m("unk_trained_accuracy", "oov")
            rows.append(_row(family, "probing", f"{where}: accuracy on in-vocabulary / out-of-vocabulary tokens (OOV share of test {_pct(share)}%)", f"{_pct(iv)} / {_pct(oov)}"))
            if not np.isnan(unk_oov):
                rows.append(_row(
                    family, "probing", f"{where}: OOV gap (in-vocab minus OOV accuracy), probe trained without / with <unk> inputs",
                    f"{_pct(iv - oov)} / {_pct(m('unk_trained_accuracy', 'in_vocab') - unk_oov)}",
                    "showing the probe <unk> during training narrows the OOV gap", bool((m("unk_trained_accuracy", "in_vocab") - unk_oov) < (iv - oov)),
                ))
            if prop == "pos":
                rows.append(_row(family, "probing", f"{where}: open / closed class accuracy, all tokens | in-vocabulary tokens", f"{_pct(m('accuracy', 'open'))} / {_pct(m('accuracy', 'closed'))} | {_pct(m('accuracy', 'open_in_vocab'))} / {_pct(m('accuracy', 'closed_in_vocab'))}", "unknown words are all open-class: compare open vs closed on in-vocabulary tokens"))
        l1 = probing[(probing["metric"] == "l1") & (probing["property"] == prop) & (probing["layer"] == layer)]["value"]
        l2 = probing[(probing["metric"] == "l2") & (probing["property"] == prop) & (probing["layer"] == layer)]["value"]
        if len(l1) and len(l2):
            a, b = float(l1.iloc[0]), float(l2.iloc[0])
            note = " (unregularised: no penalised pair was within tolerance)" if a == 0 and b == 0 else ""
            paper = m("paper_default_accuracy")
            top_sel, top_paper = m("top10pct_retrain_accuracy", "selected"), m("top10pct_retrain_accuracy", "paper_default")
            rows.append(_row(family, "probing", f"{where}: chosen (l1, l2) = ({a:g}, {b:g}){note} vs paper default (1e-05, 1e-05): accuracy", f"{_pct(probe)} / {_pct(paper)}"))
            rows.append(_row(family, "probing", f"{where}: retrained top-10% LCA neurons, chosen vs paper-default lambdas (accuracy)", f"{_pct(top_sel)} / {_pct(top_paper)}"))
    for tm in train_metrics:
        dims = tm.get("layer_dims") or []
        top = len(dims) - 1
        probe = _mean_metric(probing[probing["instance"] == f"seed{tm['seed']}"], "accuracy", "overall", "chunk", top) if "instance" in probing else float("nan")
        tagger = float(tm["test"].get("token_accuracy", float("nan")))
        if top >= 1 and not np.isnan(probe):
            rows.append(_row(
                family, "probing", f"chunk probe on layer {top} (the tagger head's input) / tagger's own token accuracy, seed {tm['seed']}",
                f"{probe:.2f} / {tagger:.2f}", "same capacity as the tagger's linear head: within 1 point", bool(abs(probe - tagger) <= 1.0),
            ))
    return rows


def ranking_comparison_rows(family: str, curves: pd.DataFrame, layer: int, prop: str, pct: float = 10) -> list[dict[str, Any]]:
    """Ranking against ranking, from retraining curves only (never from masking, which favours LCA's own probe).

    For each ranking, the accuracy of a probe retrained on its top ``pct``% of
    neurons, beside the mean over random selections of the same size.
    """
    c = curves[(curves["layer"] == layer) & (curves["property"] == prop) & (curves["mode"] == "retrain") & (curves["metric"] == "accuracy_overall")]
    if c.empty:
        return []
    nearest = c.loc[(c["k_percent"] - pct).abs().idxmin(), "k_percent"]
    c = c[c["k_percent"] == nearest]
    rnd = 100 * c[c["direction"] == "random"]["value"].mean()
    rows = []
    for ranking, g in c[c["direction"] == "top"].groupby("ranking"):
        top = 100 * g["value"].mean()
        rows.append(_row(
            family, "ablation (probe)", f"{prop}, layer {layer}: retrained on the top {nearest:.0f}% by {ranking} / on random {nearest:.0f}% (accuracy)",
            f"{top:.1f} / {rnd:.1f}", "a ranking finds informative neurons if its retrained top beats random ones (retrained, same budget)", bool(top > rnd),
        ))
    return rows


def family_summary(t: FamilyTables) -> list[dict[str, Any]]:
    """The summary rows of one family."""
    rows: list[dict[str, Any]] = []
    f = t.name
    for m in t.train_metrics:
        rows.append(_row(f, "end task", f"chunk F1, seed {m['seed']}", round(m["test"]["f1"], 2), "word-only BiLSTM taggers: about 89-93 F1"))
    if t.probing is not None:
        rows.extend(probing_rows(f, t.probing, t.train_metrics))
    if t.curves is not None and "accuracy_overall" in set(t.curves["metric"]):
        # Retrained probes share the full probe's budget, so "full" is the retrained probe keeping every neuron.
        full = _kept_accuracy(t.curves, t.layer, t.prop, "retrain", "top", 100)
        for mode in ("mask", "retrain"):
            for pct in (10, 20):
                top = _kept_accuracy(t.curves, t.layer, t.prop, mode, "top", pct)
                bottom = _kept_accuracy(t.curves, t.layer, t.prop, mode, "bottom", pct)
                rnd = _kept_accuracy(t.curves, t.layer, t.prop, mode, "random", pct)
                label = f"{t.prop}, layer {t.layer}, {mode}ed, {pct}% kept"
                rows.append(_row(f, "ablation (probe)", f"{label}: top / bottom / random accuracy", f"{top:.1f} / {bottom:.1f} / {rnd:.1f}"))
                if pct == 10 and mode == "mask":
                    # The masked probe is the one whose weights define the LCA ranking (Antverg & Belinkov's first pitfall).
                    rows.append(_row(f, "ablation (probe)", f"{label}: top - bottom gap (points)", round(top - bottom, 1), "no verdict from masking: the masked probe defines the LCA ranking; see the retrained row"))
                if pct == 10 and mode == "retrain":
                    rows.append(_row(f, "ablation (probe)", f"{label}: top - bottom gap (points)", round(top - bottom, 1), "paper: top-10% vs bottom-10% gap 12.8 (NMT), 25.5 (LM), averaged over properties; here retrained with the full probe's budget", bool(top > bottom)))
                    rows.append(_row(f, "ablation (probe)", f"{label}: share of full accuracy regained (vs retrained probe on all neurons, same budget)", round(100 * top / full, 1) if full else float("nan"), "paper: the retrained top 10% regains most of the accuracy", bool(full and top / full > 0.9)))
        for group in ("open", "closed", "open_in_vocab", "closed_in_vocab"):
            drop = _kept_accuracy(t.curves, t.layer, t.prop, "retrain", "top", 100, group) - _kept_accuracy(t.curves, t.layer, t.prop, "retrain", "top", 10, group)
            if np.isnan(drop):
                continue
            name = f"{group.split('_')[0]}-class" + (" (in-vocabulary tokens)" if "in_vocab" in group else "")
            rows.append(_row(f, "ablation (probe)", f"{name} accuracy lost keeping the top 10% (retrained)", round(drop, 1), "report: open-class accuracy suffers more than closed-class" + ("; in-vocabulary tokens only (OOV words are all open-class)" if "in_vocab" in group else "")))
        rows.extend(ranking_comparison_rows(f, t.curves, t.layer, t.prop))
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
        )
        rows.extend(family_summary(t))
    table = pd.DataFrame(rows)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        tmp.write_text("# neurosieve summary\n\n" + to_markdown(table))
    return table


