"""The summary's correlation, ablation and near-twin sections: spreads beside numbers, a test beside every verdict."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.ablation import k_grid, model_ablation
from neurosieve.analysis.correlation import (
    correlate_instances,
    duplicate_experiment,
    ranking_stability,
    twin_experiment,
)
from neurosieve.report.summary import FamilyTables, family_summary, finalize, paper_gap, to_markdown, twin_rows

INSTANCES = [f"seed{i}" for i in range(1, 6)]
WIDTH = 20


def probe_curves(gap: float) -> pd.DataFrame:
    """Probe-ablation curves of 5 instances, 2 properties: keeping the top neurons beats the bottom by ``gap``."""
    rng = np.random.default_rng(0)
    rows = []
    for inst in INSTANCES:
        for prop in ("pos", "chunk"):
            for mode in ("mask", "retrain"):
                for k in k_grid(WIDTH, [10, 20, 50]):
                    base = 0.5 + 0.4 * k / WIDTH + rng.normal(scale=0.01)
                    for ranking, direction, value, seed in (
                        ("lca", "top", base + gap * (0 < k < WIDTH), None),
                        ("lca", "bottom", base, None),
                        ("none", "random", base + gap / 2 * (0 < k < WIDTH), 0),
                    ):
                        for group in ("overall", "open", "closed"):
                            rows.append(
                                {
                                    "instance": inst,
                                    "layer": 2,
                                    "property": prop,
                                    "mode": mode,
                                    "ranking": ranking,
                                    "direction": direction,
                                    "k": k,
                                    "k_percent": 100 * k / WIDTH,
                                    "metric": f"accuracy_{group}",
                                    "value": value,
                                    "random_seed": seed,
                                }
                            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tables() -> FamilyTables:
    rng = np.random.default_rng(1)
    shared = rng.normal(size=(3000, 4))
    acts = {}
    for inst in INSTANCES:
        x = rng.normal(size=(3000, WIDTH))
        x[:, :4] = shared + 0.4 * rng.normal(size=(3000, 4))  # neurons 0-3 recur in every instance
        acts[inst] = x
    res = correlate_instances(acts)
    twin = acts["seed1"] + 0.3 * rng.normal(size=(3000, WIDTH))
    change, after = twin_experiment(acts, "seed1-order9", twin, "seed1", ks=[2, 4])
    # Planted models: the shared neurons 0-3 carry the end task.
    importance = np.r_[np.full(4, 5.0), np.full(WIDTH - 4, 0.2)]

    def curves_for(scores: pd.DataFrame, instances: list[str], repeats: int, mode: str) -> pd.DataFrame:
        parts = []
        for inst in instances:
            orders = {
                m: scores[scores["instance"] == inst].sort_values(f"rank_{m}")["neuron"].to_numpy()
                for m in ("maxcorr", "meanmaxcorr", "mincorr", "linreg")
            }
            c = model_ablation(
                lambda r: {"f1": 90.0 - importance[r].sum()},
                WIDTH,
                orders,
                k_grid(WIDTH, [10, 25, 50]),
                repeats,
                0,
                mode=mode,
            )
            parts.append(c.assign(instance=inst, layer=2))
        return pd.concat(parts, ignore_index=True)

    model = pd.concat([curves_for(res.scores, INSTANCES, 5, m) for m in ("model", "model-mean")])
    model["property"] = "chunk-f1"
    twin_curves = pd.concat([curves_for(after, INSTANCES, 0, "model"), curves_for(after, ["seed1-order9"], 5, "model")])
    metrics = [
        {"seed": i, "test": {"f1": 90.0 + i / 10}, "init_weights_sha256": f"h{i}", "train_subset": {"sentences": [i]}}
        for i in range(1, 6)
    ]
    return FamilyTables(
        name="fam",
        train_metrics=metrics,
        probing=None,
        curves=pd.concat([probe_curves(0.1), model], ignore_index=True),
        labels=None,
        duplicate=duplicate_experiment(acts, "seed1", ks=[2]),
        stability=ranking_stability(res, [2]),
        scores=res.scores,
        layer=2,
        prop="pos",
        pairs=res.pairs,
        twin="seed1-order9",
        twin_metrics={"seed": 1, "test": {"f1": 90.5}, "init_weights_sha256": "h1", "train_subset": {"sentences": [1]}},
        twin_change=change.assign(layer=2),
        twin_curves=twin_curves,
    )


def test_every_verdict_has_a_test_and_p_value(tables: FamilyTables) -> None:
    table = pd.DataFrame(family_summary(tables))
    judged = table[table["verdict"] != ""]
    assert len(judged) > 20
    assert set(judged["verdict"]) <= {"agrees", "disagrees", "inconclusive", "equivalent", "differs"}
    assert judged["test"].str.contains("Wilcoxon|sign test").all() and (judged["p"] != "").all()
    # Every tested row carries its Holm-adjusted p (never below the raw one) and an interval.
    assert (judged["p_adj"] != "").all() and (judged["p_adj"].astype(float) >= judged["p"].astype(float)).all()
    assert (judged["low"] != "").all() and (judged["high"] != "").all()
    assert (table["sentence"].str.len() > 0).all() and "|" in to_markdown(table)


def test_every_row_is_tested_or_says_why_not(tables: FamilyTables) -> None:
    """A row over several instances has a p (and an interval), or is marked descriptive, naming the row that tests
    its comparison where there is one; a single value reads "not tested, n = 1"."""
    table = pd.DataFrame(family_summary(tables))
    assert (table["test"] != "").all()
    many = table[pd.to_numeric(table["n"], errors="coerce") > 1]
    tested = many[many["p"] != ""]
    assert len(tested) > 20 and (tested["low"] != "").all() and (tested["p_adj"] != "").all()
    rest = many[many["p"] == ""]
    assert rest["test"].str.startswith("descriptive").all(), rest[["id", "test"]]
    pointed = rest["test"].str.extract(r"^descriptive; tested in (\S+)$")[0].dropna()
    assert len(pointed) > 0 and set(pointed) <= set(table["id"])
    for _, r in table[table["test"].str.startswith("descriptive; tested in")].iterrows():
        assert f"row {r['test'].split()[-1]} tests its comparison" in r["sentence"]
    single = table[table["test"] == "not tested, n = 1"]
    assert (single["p"] == "").all() and not (pd.to_numeric(single["n"], errors="coerce") > 1).any()


def test_every_row_has_an_interval_or_says_why_not(tables: FamilyTables) -> None:
    """No row is silently without an interval: one that has none (an exact count, a yes/no check, a list, or tables
    that predate its measurement) names why in its "interval over" column and in its sentence."""
    table = pd.DataFrame(family_summary(tables))
    bare = table[table["low"] == ""]
    assert len(bare) > 5  # the copy, twin and check rows of the fixture
    assert bare["interval over"].str.startswith("none: ").all(), bare.loc[
        ~bare["interval over"].str.startswith("none"), ["id", "quantity"]
    ].to_string()
    for _, r in bare.iterrows():
        assert f"(no interval: {r['interval over'].removeprefix('none: ')})" in r["sentence"], r["id"]
    assert not table.loc[table["low"] != "", "interval over"].str.startswith("none").any()


def test_the_twin_s_own_predictive_value_carries_its_test_set_interval(tables: FamilyTables) -> None:
    """The near-twin is one instance: its own predictive value has the interval its model ablation wrote over
    resampled test sentences (from per-sentence chunk counts), or says why it has none."""
    import dataclasses

    from neurosieve.analysis.metrics import COUNTS_KEY

    gold = np.full(200, 10.0)
    ripple = 1 + 0.3 * np.sin(np.arange(200))  # sentences differ in how much they lose
    importance = np.r_[np.full(4, 5.0), np.full(WIDTH - 4, 0.2)]

    def score(removed: np.ndarray) -> dict[str, object]:
        f1 = 90.0 - importance[removed].sum()
        right = gold * (1 - (1 - f1 / 100) * ripple)
        return {"f1": 100 * right.sum() / gold.sum(), COUNTS_KEY: np.stack([right, gold, gold], axis=1)}

    twin = tables.twin or ""
    own = [
        model_ablation(
            score,
            WIDTH,
            {m: np.arange(WIDTH) for m in ("maxcorr", "meanmaxcorr", "mincorr", "linreg")},
            k_grid(WIDTH, [10, 25, 50]),
            5,
            0,
            mode=mode,
        ).assign(instance=twin, layer=2)
        for mode in ("model", "model-mean")
    ]
    others = tables.twin_curves[tables.twin_curves["instance"] != twin]
    with_counts = dataclasses.replace(tables, twin_curves=pd.concat([others, *own], ignore_index=True))
    rows = pd.DataFrame(family_summary(with_counts)).set_index("id")
    row = rows.loc["twin.layer2.maxcorr.zero.predictive_value_twin"]
    assert row["interval over"] == "test sentences" and row["low"] < float(row["value"]) < row["high"]
    assert row["low"] > 0  # the planted neurons come first: removing them costs more than random ones
    # Without the counts (a model ablation from before them) the row says why it has no interval.
    bare = pd.DataFrame(family_summary(tables)).set_index("id").loc["twin.layer2.maxcorr.zero.predictive_value_twin"]
    assert bare["low"] == "" and bare["interval over"].startswith("none: its model ablation predates")


def test_descriptive_rows_point_only_at_rows_that_exist() -> None:
    from neurosieve.analysis.verdicts import compare
    from neurosieve.report.summary import _row, finalize

    rows = [
        _row("fam", "s", "a level", 1.0, spread=spread_of([1.0, 2.0, 3.0]), key="s.level", source="t:v"),
        _row("fam", "s", "parts", "1 / 2", spread=spread_of([1.0, 2.0]), key="s.parts", source="t:v", see="s.diff"),
        _row("fam", "s", "orphan", "1 / 2", spread=spread_of([1.0, 2.0]), key="s.orphan", source="t:v", see="s.gone"),
        _row("fam", "s", "diff", 1.0, agrees=compare([1, 2, 3, 4, 5, 6], 0.0, "0"), key="s.diff", source="t:v"),
        _row("fam", "s", "one", 1.0, key="s.one", source="t:v"),
        _row("fam", "s", "check", "yes", key="s.check", source="t:v", untested="a check, not a statistical test"),
    ]
    out = pd.DataFrame(finalize(rows)).set_index("id")
    assert out.loc["s.level", "test"] == "descriptive (a level, not a comparison)"
    assert out.loc["s.parts", "test"] == "descriptive; tested in s.diff"
    assert out.loc["s.orphan", "test"] == "descriptive (a level, not a comparison)"
    assert out.loc["s.one", "test"] == "not tested, n = 1" and out.loc["s.one", "p"] == ""
    assert (
        out.loc["s.check", "test"] == "a check, not a statistical test" and "a check" in out.loc["s.check", "sentence"]
    )
    # Six values all above 0: two-sided p = 2/64, alone in its section after the others (untested) are skipped.
    assert out.loc["s.diff", "verdict"] == "differs" and out.loc["s.diff", "p"] == pytest.approx(2 / 64, abs=1e-4)
    assert "differs from 0: higher" in out.loc["s.diff", "sentence"]


def spread_of(values: list[float]):  # type: ignore[no-untyped-def]
    from neurosieve.analysis.verdicts import spread

    return spread(values)


def test_planted_effects_agree_and_carry_their_spread(tables: FamilyTables) -> None:
    t = pd.DataFrame(family_summary(tables)).set_index("quantity")
    gap = t.loc["pos, layer 2, retrained, 10% kept (LCA): top - bottom gap (points)"]
    # Five instances all one way: two-sided p = 0.0625, which can never reach 0.05; the interval shows the effect.
    assert (
        gap["verdict"] == "inconclusive"
        and gap["value"] == pytest.approx(10.0, abs=0.5)
        and gap["n"] == 5
        and gap["p"] == pytest.approx(0.0625, abs=1e-4)
        and gap["low"] > 5
    )
    assert "no test in a family of" in gap["sentence"] and "more instances are needed" in gap["sentence"]
    assert t.loc["near-twin seed1-order9 starts from seed 1's initial weights and sentences", "value"] == "yes"
    f1 = t.loc["chunk F1 over instances (mean)"]
    assert (
        f1["value"] == pytest.approx(90.3)
        and f1["min"] == pytest.approx(90.1)
        and f1["max"] == pytest.approx(90.5)
        and f1["n"] == 5
    )
    # The planted end task lives in the shared neurons, which MeanMaxCorr ranks first: top removal hurts more.
    row = t.loc[
        "meanmaxcorr (zero ablation), layer 2: F1 after removing top minus bottom neurons, mean over the k grid"
    ]
    assert row["value"] < 0 and row["high"] < 0
    assert (
        "meanmaxcorr (mean ablation), layer 2: F1 after removing top minus random neurons, mean over the k grid (minus the predictive value)"
        in t.index
    )


def test_paper_gap_is_averaged_over_properties(tables: FamilyTables) -> None:
    gaps = paper_gap(tables.curves)
    assert set(gaps["instance"]) == set(INSTANCES) and gaps["properties"].iloc[0] == "chunk, pos"
    assert gaps["gap"].to_numpy() == pytest.approx(np.full(5, 10.0), abs=0.5)
    rows = pd.DataFrame(family_summary(tables))
    paper = rows[rows["quantity"].str.startswith("paper's number")]
    assert len(paper) == 1 and paper["n"].item() == 5 and paper["low"].item() > 5
    assert paper["verdict"].item() == "inconclusive" and paper["p"].item() == pytest.approx(0.0625)


def test_twin_and_copy_rows_cover_every_instance(tables: FamilyTables) -> None:
    t = pd.DataFrame(family_summary(tables))
    twin = t[t["section"] == "near-twin"]
    for m in ("maxcorr", "meanmaxcorr", "mincorr", "linreg"):
        for inst in INSTANCES:
            assert twin["quantity"].str.startswith(f"{m}: {inst}'s ranking with vs without the twin").sum() == 1
        lost = twin[
            twin["quantity"]
            == f"{m} (zero ablation): predictive value lost when the twin joins the family (without - with)"
        ]
        assert lost["verdict"].item() in {"agrees", "disagrees", "inconclusive"} and lost["n"].item() == 5
        same = twin[twin["id"] == f"twin.layer2.{m}.zero.predictive_value_equivalent"]
        assert same["verdict"].item() in {"equivalent", "inconclusive"} and "within ±0.5" in same["test"].item()
    # Without the block bootstrap's columns (tables from before it), each ranking change says why it has no interval.
    change = twin[twin["id"].str.endswith(".ranking_change")]
    assert len(change) == 20 and change["interval over"].str.startswith("none: the near-twin tables predate").all()
    # With them, each instance's Spearman carries its interval over blocks of sentences, named so.
    bounded = tables.twin_change.assign(
        spearman_low=tables.twin_change["spearman"] - 0.05,
        spearman_high=np.minimum(tables.twin_change["spearman"] + 0.01, 1.0),
        blocks=40,
    )
    rows = pd.DataFrame(finalize(twin_rows(dataclasses.replace(tables, twin_change=bounded)))).set_index("id")
    one = rows.loc["twin.layer2.maxcorr.seed1.ranking_change"]
    spearman = bounded.set_index(["method", "instance"]).loc[("maxcorr", "seed1"), "spearman"]
    assert one["interval over"] == "sentence blocks" and one["low"] == pytest.approx(spearman - 0.05, abs=1e-3)
    assert "over 40 blocks of sentences" in one["quantity"] and "resampled blocks of sentences" in one["sentence"]
    assert "spearman_low" in one["source"]
    assert rows.loc["twin.layer2.maxcorr.untwinned.spearman", "interval over"] == "instances"  # four of them
    copy = t[t["quantity"].str.startswith("exact copy of seed1")]
    assert len(copy) == 5 and (copy["verdict"] == "").all()
    ref = t[t["section"] == "reference instance"]
    assert ref["quantity"].str.contains("matched through best partners").sum() == 4
    assert ref["quantity"].str.startswith("maxcorr (zero ablation): predictive value per reference instance").sum() == 1


def test_reference_instance_figure(tables: FamilyTables, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from neurosieve.analysis.ablation import predictive_value
    from neurosieve.analysis.correlation import partner_rank_agreement
    from neurosieve.report.figures import reference_instance, save

    methods = ["maxcorr", "meanmaxcorr", "mincorr", "linreg"]
    c = tables.curves[tables.curves["mode"] == "model"]
    pv = predictive_value(c).rename(columns={"ranking": "method"})
    assert sorted(pv["method"].unique()) == sorted(methods) and (pv.groupby("method").size() == 5).all()
    fig = reference_instance(pv, partner_rank_agreement(tables.scores, tables.pairs, methods), methods)
    save(fig, tmp_path / "f.png", tmp_path / "f.svg")
    assert (tmp_path / "f.png").stat().st_size > 5000


def test_ids_are_unique_dotted_and_name_what_they_measure(tables: FamilyTables) -> None:
    from neurosieve.report.summary import ID_PATTERN

    t = pd.DataFrame(family_summary(tables))
    assert t["id"].is_unique and t["id"].map(lambda i: bool(ID_PATTERN.match(i))).all()
    assert t["source"].str.len().gt(0).all()
    by_id = t.set_index("id")["quantity"]
    # A few ids pinned: the README cites ids like these, so renaming one is a visible change.
    assert by_id["probe_ablation.pos.layer2.retrain.keep10.gap_top_bottom"] == (
        "pos, layer 2, retrained, 10% kept (LCA): top - bottom gap (points)"
    )
    assert by_id["task.chunk_f1"] == "chunk F1 over instances (mean)"
    assert by_id["task.seed3.chunk_f1"] == "chunk F1, seed 3"
    assert by_id["task.twin.chunk_f1"].startswith("chunk F1, near-twin")
    assert by_id["model_ablation.layer2.meanmaxcorr.zero.f1_top_minus_bottom"].startswith("meanmaxcorr (zero ablation)")
    assert by_id["twin.layer2.maxcorr.zero.predictive_value_lost"].startswith("maxcorr (zero ablation): predictive")
    assert by_id["correlation.layer2.exact_copy.seed4.spearman"].startswith("exact copy of seed1 added")
    assert by_id["reference.layer2.meanmaxcorr_minus_maxcorr.zero"].startswith("MeanMaxCorr minus MaxCorr")
    assert by_id["probe_ablation.layer2.paper_gap"].startswith("paper's number")
    src = t.set_index("id")["source"]
    assert src["task.seed3.chunk_f1"] == "train_metrics[seed3]:test.f1"
    assert src["twin.layer2.maxcorr.zero.predictive_value_lost"] == "curves:value; twin_curves:value"


def test_ids_do_not_depend_on_the_prose(tables: FamilyTables, monkeypatch: pytest.MonkeyPatch) -> None:
    import neurosieve.report.summary as summary

    before = pd.DataFrame(family_summary(tables))
    row = summary._row

    def reworded(family, section, quantity, value, finding="", *args, **kwargs):  # type: ignore[no-untyped-def]
        return row(family, section.upper(), f"reworded: {quantity[::-1]}", value, finding.upper(), *args, **kwargs)

    monkeypatch.setattr(summary, "_row", reworded)
    after = pd.DataFrame(family_summary(tables))
    assert (after["quantity"] != before["quantity"]).all()
    assert after["id"].tolist() == before["id"].tolist() and after["source"].tolist() == before["source"].tolist()


def _expand(path: str) -> list[str]:
    """A brace path (``a/{b,c}/d``) as its files."""
    import re

    m = re.search(r"\{([^}]*)\}", path)
    return [path[: m.start()] + x + path[m.end() :] for x in m.group(1).split(",")] if m else [path]


def test_run_summary_sources_name_real_tables_and_columns(tables: FamilyTables, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import re

    import pyarrow.parquet as pq

    from neurosieve.report.summary import ID_PATTERN, run_summary

    out = tmp_path / "results"
    fam: dict = {"name": "fam", "layer": 2, "property": "pos", "twin": tables.twin}

    def put(key: str, rel: str, frame: pd.DataFrame) -> str:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out / rel)
        fam[key] = str(out / rel)
        return str(out / rel)

    probing = pd.DataFrame(
        [
            {"instance": i, "property": "pos", "layer": 2, "metric": m, "group": "overall", "value": v}
            for i in INSTANCES
            for m, v in (("accuracy", 0.9), ("majority_baseline", 0.8), ("untrained_accuracy", 0.7))
        ]
    )
    put("probing", "probing/fam/summary.parquet", probing)
    put("curves", "ablation/fam/curves.parquet", tables.curves)
    for key in ("duplicate", "stability", "scores", "pairs"):
        put(key, f"correlation/fam/layer2/{key}.parquet", getattr(tables, key))
    put("twin_change", "correlation/fam/twin/layer2/change.parquet", tables.twin_change)
    fam["twin_curves"] = []
    for inst, g in tables.twin_curves.groupby("instance"):
        (out / f"ablation/fam/twin/{inst}").mkdir(parents=True)
        g.to_parquet(out / f"ablation/fam/twin/{inst}/layer2.parquet")
        fam["twin_curves"].append(str(out / f"ablation/fam/twin/{inst}/layer2.parquet"))
    fam["overlap"] = []
    for layer in (1, 2):
        (out / "overlap/fam").mkdir(parents=True, exist_ok=True)
        overlap = pd.DataFrame(
            [
                {"instance": i, "ranking": r, "property": p, "width": 64, "k": 6, "overlap": o, "share": o / 6}
                for i in INSTANCES
                for r in ("maxcorr", "meanmaxcorr")
                for p, o in (("position_bin", 4), ("noise", 0))
            ]
        ).assign(chance=36 / 64, layer=layer)
        overlap = overlap.assign(ratio=overlap["overlap"] / overlap["chance"], p_value=0.01)
        overlap.to_parquet(out / f"overlap/fam/layer{layer}.parquet")
        fam["overlap"].append(str(out / f"overlap/fam/layer{layer}.parquet"))
    fam["train_metrics"] = []
    for m in tables.train_metrics:
        (out / f"models/fam/seed{m['seed']}").mkdir(parents=True)
        (out / f"models/fam/seed{m['seed']}/metrics.json").write_text(json.dumps(m))
        fam["train_metrics"].append(str(out / f"models/fam/seed{m['seed']}/metrics.json"))
    (out / "models/fam/seed1-order9").mkdir(parents=True)
    (out / "models/fam/seed1-order9/metrics.json").write_text(json.dumps(tables.twin_metrics))
    fam["twin_metrics"] = str(out / "models/fam/seed1-order9/metrics.json")

    md, csv = out / "summary/summary.md", out / "summary/summary.csv"
    md.parent.mkdir()
    table = run_summary([fam], str(md), str(csv))
    written = pd.read_csv(csv, keep_default_na=False)
    assert {"id", "source"} <= set(written.columns) and written["id"].tolist() == table["id"].tolist()
    assert written["id"].is_unique and written["id"].map(lambda i: bool(ID_PATTERN.match(i))).all()
    assert {"overlap.layer1.maxcorr.position_bin.share", "overlap.layer2.maxcorr.position_bin.share"} <= set(
        written["id"]
    )
    for row in written.itertuples():
        for part in row.source.split("; "):
            path, _, columns = part.rpartition(":")
            assert path and columns, (row.id, part)
            for f in _expand(path):
                assert (out / f).is_file(), (row.id, part)  # relative to the run's output folder
                for col in columns.split(","):
                    if f.endswith(".json"):
                        node = json.loads((out / f).read_text())
                        for k in col.split("."):
                            node = node[k]
                    else:
                        assert col in pq.read_schema(out / f).names, (row.id, part)
    src = written.set_index("id")["source"]
    assert src["probe.pos.layer2.accuracy"] == "probing/fam/summary.parquet:value"
    assert src["task.seed2.chunk_f1"] == "models/fam/seed2/metrics.json:test.f1"
    assert src["task.chunk_f1"] == "models/fam/{seed1,seed2,seed3,seed4,seed5}/metrics.json:test.f1"
    assert src["overlap.layer1.maxcorr.properties_above_chance"].startswith("overlap/fam/layer1.parquet:")
    text = md.read_text()
    assert text.startswith("# neurosieve summary") and "| id " in text and "probe.pos.layer2.accuracy" in text
    # Every table row has as many cells as the header: no unescaped "|" inside a cell.
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    widths = {len(re.split(r"(?<!\\)\|", ln)) for ln in lines}
    assert len(lines) == len(written) + 2 and len(widths) == 1


def test_label_slugs_are_ids_that_keep_labels_apart() -> None:
    from neurosieve.report.summary import ID_PATTERN, label_slug

    labels = [",", ".", ":", "PRP", "PRP$", "WP$", "B-NP", "I-NP", "``", "''", "-LRB-", "#", "$"]
    slugs = [label_slug(lab) for lab in labels]
    assert slugs[:5] == ["comma", "period", "colon", "prp", "prp_dollar"]
    assert len(set(slugs)) == len(slugs) and all(ID_PATTERN.match(f"labels.pos.{s}") for s in slugs)


def test_holm_runs_within_each_section_and_sets_the_verdict_words() -> None:
    """Eight instances all one way (two-sided p = 2/256): significant alone and in a section of two, not in a
    section of eight such tests (Holm: 8 x 0.0078 = 0.0625)."""
    from neurosieve.analysis.verdicts import paired_test
    from neurosieve.report.summary import _row, finalize

    rng = np.random.default_rng(0)
    base = rng.uniform(50, 60, 8)
    up, down = paired_test(base + 3, base, "greater"), paired_test(base - 3, base, "greater")
    sizes = {"one": 1, "two": 2, "eight": 8}
    rows = [
        _row("fam", sec, f"{sec} {i}", 3.0, "a > b", up if i else down, key=f"s.{sec}.t{i}", source="curves:value")
        for sec, m in sizes.items()
        for i in range(m)
    ]
    rows.append(_row("fam", "one", "untested", 1.0, key="s.one.untested", source="curves:value"))
    out = pd.DataFrame(finalize(rows)).set_index("id")
    assert out.loc["s.one.t0", "verdict"] == "disagrees" and out.loc["s.one.t0", "p_adj"] == pytest.approx(
        2 / 256, abs=1e-4
    )
    assert (out.loc[["s.two.t0", "s.two.t1"], "verdict"] == ["disagrees", "agrees"]).all()
    assert (out.filter(like="s.eight", axis=0)["verdict"] == "inconclusive").all()
    assert (out.filter(like="s.eight", axis=0)["p_adj"] == pytest.approx(0.0625, abs=1e-4)).all()
    assert "Holm-adjusted over 8 tests of its section" in out.loc["s.eight.t1", "sentence"]
    assert "contradicts the expected finding (a > b)" in out.loc["s.one.t0", "sentence"]
    assert out.loc["s.one.untested", "p_adj"] == "" and "_verdict" not in out


def _labels(open_factor: float, seed: int) -> pd.DataFrame:
    """44 labels: closed-class ones rarer; neurons needed grow with log frequency, times ``open_factor`` if open."""
    rng = np.random.default_rng(seed)
    is_open = np.arange(44) < 22
    count = np.where(is_open, rng.integers(2000, 20000, 44), rng.integers(20, 2000, 44))
    needed = np.round(4 * np.log10(count) * np.where(is_open, open_factor, 1.0) * rng.uniform(0.95, 1.05, 44))
    return pd.DataFrame(
        {"label": [f"L{i}" for i in range(44)], "train_count": count, "open_class": is_open, "neurons_needed": needed}
    )


def test_neurons_needed_per_label_is_controlled_for_frequency() -> None:
    from neurosieve.report.summary import distributedness_rows, finalize, open_class_effect

    # Neurons needed track frequency only: the raw medians differ (closed-class labels are rarer), the
    # equal-frequency effect does not.
    confounded = open_class_effect(_labels(1.0, 0))
    assert confounded["median_open"] > confounded["median_closed"] and confounded["spearman_frequency"] > 0.5
    assert abs(confounded["open_log2_ratio"]) < 0.15
    assert open_class_effect(_labels(2.0, 0))["open_log2_ratio"] == pytest.approx(1.0, abs=0.15)
    # Every instance counts; one instance is not tested.
    five = pd.concat([_labels(2.0, s).assign(instance=f"seed{s}") for s in range(1, 6)])
    rows = pd.DataFrame(distributedness_rows("fam", five, 2, "pos")).set_index("id")
    eq = rows.loc["labels.pos.layer2.open_minus_closed_at_equal_frequency"]
    assert eq["n"] == 5 and eq["p"] == pytest.approx(0.0625) and eq["low"] > 0.7
    one = pd.DataFrame(distributedness_rows("fam", _labels(2.0, 1), 2, "pos")).set_index("id")
    assert one.loc["labels.pos.layer2.open_minus_closed_at_equal_frequency", "verdict"] == "not tested, n = 1"
    assert one.loc["labels.pos.layer2.open_minus_closed_at_equal_frequency", "p"] == ""
    # One instance's intervals are over its labels resampled: they hold its own numbers, and the planted
    # doubling (log2 ratio 1) lies inside the ratio's.
    own = open_class_effect(_labels(2.0, 1))
    one = pd.DataFrame(finalize(distributedness_rows("fam", _labels(2.0, 1), 2, "pos"))).set_index("id")
    for key, value in (
        ("open_minus_closed_at_equal_frequency", own["open_log2_ratio"]),
        ("neurons_needed_frequency_spearman", own["spearman_frequency"]),
        ("neurons_needed_open_closed", own["median_open"] - own["median_closed"]),
    ):
        row = one.loc[f"labels.pos.layer2.{key}"]
        assert row["interval over"] == "labels" and row["low"] <= value <= row["high"], key
        assert "interval over resampled labels" in row["sentence"], key
    ratio = one.loc["labels.pos.layer2.open_minus_closed_at_equal_frequency"]
    assert ratio["low"] < 1.0 < ratio["high"] and ratio["high"] - ratio["low"] < 0.5


def test_open_closed_loss_has_a_random_selection_control(tables: FamilyTables) -> None:
    t = pd.DataFrame(family_summary(tables)).set_index("id")
    row = t.loc["probe_ablation.pos.layer2.retrain.keep10.lost_open_minus_closed_vs_random"]
    # The planted curves give every group the same loss, for the top and the random 10%: no excess either way.
    assert row["n"] == 5 and row["value"] == pytest.approx(0.0, abs=0.5) and row["verdict"] == "inconclusive"


def test_pool_rows_give_the_papers_gap_on_the_all_layers_pool() -> None:
    """The all-layers pool's rows: top / bottom / random at 10 % retrained, the top - bottom gap (the paper's
    number) and top - random, each tested over instances (5 instances all one way: two-sided p = 0.0625)."""
    from neurosieve.report.summary import POOL_SECTION, FamilyTables, finalize, pool_rows

    rows = []
    for i in range(5):
        for direction, ranking, value in (("top", "lca", 0.9), ("bottom", "lca", 0.6), ("random", "none", 0.7)):
            for seed in range(3) if direction == "random" else [None]:
                rows.append(
                    {
                        "ranking": ranking,
                        "direction": direction,
                        "mode": "retrain",
                        "k": 61,
                        "k_percent": 9.97,
                        "random_seed": seed,
                        "metric": "accuracy_overall",
                        "value": value + 0.01 * i,
                        "instance": f"seed{i}",
                        "layers": "0,1,2",
                        "width": 612,
                        "property": "pos",
                    }
                )
    pool = pd.DataFrame(rows)
    t = FamilyTables("fam", [], None, None, None, None, None, None, layer=2, prop="pos", pool=pool)
    out = {r["id"]: r for r in finalize(pool_rows(t))}
    assert set(out) == {
        "pool_ablation.pos.lca.retrain.keep10.accuracy_top_bottom_random",
        "pool_ablation.pos.lca.retrain.keep10.gap_top_bottom",
        "pool_ablation.pos.lca.retrain.keep10.gap_top_random",
    }
    assert all(r["section"] == POOL_SECTION for r in out.values())
    gap = out["pool_ablation.pos.lca.retrain.keep10.gap_top_bottom"]
    assert gap["value"] == pytest.approx(30.0) and gap["p"] == pytest.approx(0.0625)
    assert out["pool_ablation.pos.lca.retrain.keep10.gap_top_random"]["value"] == pytest.approx(20.0)
    assert "612 neurons" in gap["quantity"]
    assert pool_rows(FamilyTables("fam", [], None, None, None, None, None, None, layer=2, prop="pos")) == []


def test_model_ablation_rows_per_layer_with_the_positive_control() -> None:
    """Each ablated layer gets its rows (the figure layer's section, and one section per other layer, each its own
    Holm family); chunk_lca's top-vs-random row says it is a positive control."""
    from neurosieve.report.summary import FamilyTables, finalize, model_ablation_rows

    rows = []
    for layer in (1, 2):
        for i in range(5):
            for k in (0, 64, 128, 192, 256):
                for direction, ranking, drop in (
                    ("top", "chunk_lca", 0.1),
                    ("bottom", "chunk_lca", 0.0),
                    ("random", "none", 0.02),
                ):
                    rows.append(
                        {
                            "ranking": ranking,
                            "direction": direction,
                            "mode": "model",
                            "k": k,
                            "k_percent": k / 2.56,
                            "random_seed": 0 if direction == "random" else None,
                            "metric": "f1",
                            "value": 90 - drop * k - 0.1 * i * (direction == "top") * (0 < k < 256),
                            "instance": f"seed{i}",
                            "layer": layer,
                        }
                    )
    t = FamilyTables("fam", [], None, pd.DataFrame(rows), None, None, None, None, layer=2, prop="pos")
    out = {r["id"]: r for r in finalize(model_ablation_rows(t))}
    one, two = (out[f"model_ablation.layer{n}.chunk_lca.zero.f1_top_minus_random"] for n in (1, 2))
    assert one["section"] == "ablation (model, layer 1)" and two["section"] == "ablation (model)"
    assert "positive control" in two["expected finding"] and "layer 1" in one["quantity"]
    assert one["value"] < -10 and one["p"] == pytest.approx(0.0625)
    assert float(one["p_adj"]) == pytest.approx(0.125)  # Holm over the 2 tests of its own section


def test_split_half_rows_test_separated_against_same_and_random() -> None:
    """Per ranking: separated minus same half and separated minus random, mean over the interior k grid, tested
    over instances; a ranking that only looks good on its own tokens shows a negative first row."""
    from neurosieve.report.summary import SPLIT_SECTION, finalize, split_half_rows

    rows = []
    for i in range(5):
        for k in (0, 4, 16, 256):
            for mode, direction, ranking, acc in (
                ("retrain_split", "top", "lca_std", 0.80),
                ("retrain_same", "top", "lca_std", 0.85),
                ("retrain_split", "random", "none", 0.60),
            ):
                rows.append(
                    {
                        "ranking": ranking,
                        "direction": direction,
                        "mode": mode,
                        "k": k,
                        "k_percent": k / 2.56,
                        "random_seed": 0 if direction == "random" else None,
                        "metric": "accuracy_overall",
                        "value": (acc if 0 < k < 256 else 0.9) + 0.001 * i * (mode == "retrain_same"),
                        "instance": f"seed{i}",
                        "layer": 2,
                        "property": "pos",
                    }
                )
    out = {r["id"]: r for r in finalize(split_half_rows("fam", pd.DataFrame(rows), 2, "pos"))}
    same = out["split_half.pos.layer2.lca_std.separated_minus_same"]
    rnd = out["split_half.pos.layer2.lca_std.separated_minus_random"]
    assert same["section"] == rnd["section"] == SPLIT_SECTION
    assert same["value"] == pytest.approx(-5.2) and same["p"] == pytest.approx(0.0625)
    assert rnd["value"] == pytest.approx(20.0)
    assert split_half_rows("fam", pd.DataFrame(rows), 1, "pos") == []
    # One instance: its rows carry the instance's own sentence-bootstrap bounds (k 0 rows of the split mode).
    one = [r for r in rows if r["instance"] == "seed0"]
    for stem, (low, high) in (("separated_minus_same", (-0.08, -0.02)), ("separated_minus_random", (0.15, 0.25))):
        for end, value in (("low", low), ("high", high)):
            one.append({**one[0], "metric": f"{stem}_{end}", "value": value, "k": 0, "mode": "retrain_split"})
    out = {r["id"]: r for r in finalize(split_half_rows("fam", pd.DataFrame(one), 2, "pos"))}
    same = out["split_half.pos.layer2.lca_std.separated_minus_same"]
    assert (same["low"], same["high"], same["interval over"]) == (-8.0, -2.0, "test sentences") and same["p"] == ""
    assert out["split_half.pos.layer2.lca_std.separated_minus_random"]["low"] == pytest.approx(15.0)


def test_gap_half_width_reads_each_instances_bootstrap_bounds() -> None:
    from neurosieve.report.summary import gap_half_width

    rows = [
        {
            "instance": inst,
            "mode": "retrain",
            "layer": 2,
            "property": "pos",
            "ranking": "lca",
            "k_percent": pct,
            "metric": f"gap_{other}_{end}",
            "value": value,
        }
        for inst, width in (("seed1", 0.04), ("seed2", 0.06))
        for pct in (10.2, 19.9)
        for other in ("bottom", "random")
        for end, value in (("low", 0.1), ("high", 0.1 + width * (2 if other == "random" else 1)))
    ]
    curves = pd.DataFrame(rows)
    assert gap_half_width(curves, 2, "pos", 10, "bottom").to_dict() == pytest.approx({"seed1": 2.0, "seed2": 3.0})
    assert gap_half_width(curves, 2, "pos", 20, "random").to_dict() == pytest.approx({"seed1": 4.0, "seed2": 6.0})
    assert gap_half_width(curves, None, "pos", 10, "bottom").to_dict() == pytest.approx({"seed1": 2.0, "seed2": 3.0})
    assert gap_half_width(curves, 1, "pos", 10, "bottom").empty


def test_a_single_instance_s_gaps_carry_its_test_set_interval() -> None:
    """One instance has no interval over instances: its retrained top - bottom and top - random gaps (per layer and
    per ranking) carry that instance's sentence-bootstrap interval of the same gap at the same k, in points, and
    say so; another k's bounds are never borrowed."""
    from neurosieve.report.summary import finalize, probe_ablation_rows, ranking_comparison_rows

    curves = probe_curves(3.0)
    curves = curves[curves["instance"] == "seed1"]
    bounds = [
        {
            "instance": "seed1",
            "layer": 2,
            "property": "pos",
            "mode": "retrain",
            "ranking": "lca",
            "direction": "top",
            "k": k,
            "k_percent": 100 * k / WIDTH,
            "metric": f"{other}_{end}",
            "value": value + (0.5 if k == 4 else 0.0),  # the 20 % bounds differ: a wrong k would show
            "random_seed": None,
        }
        for k in (2, 4)
        for other, (low, high) in (
            ("gap_bottom", (0.01, 0.05)),
            ("gap_random", (0.0, 0.03)),
            ("lost_open", (0.02, 0.04)),
            ("kept", (0.6, 0.7)),
            ("regained", (0.8, 0.9)),
            ("lost_open_minus_closed_vs_random", (-0.01, 0.02)),
        )
        for end, value in (("low", low), ("high", high))
    ]
    masked = [  # the masked probe's own bounds: mode mask
        {**b, "mode": "mask", "value": b["value"] + 0.1}
        for b in bounds
        if b["metric"].startswith(("gap_bottom", "kept")) and b["k"] == 2
    ]
    curves = pd.concat([curves, pd.DataFrame(bounds + masked)], ignore_index=True)
    t = FamilyTables("fam", [], None, curves, None, None, None, None, layer=2, prop="pos")
    out = pd.DataFrame(finalize(probe_ablation_rows(t) + ranking_comparison_rows("fam", curves, 2, "pos", 10)))
    out = out.set_index("id")
    at = "probe_ablation.pos.layer2.retrain.keep10"
    mask = "probe_ablation.pos.layer2.mask.keep10"
    for key, (low, high) in {
        f"{mask}.gap_top_bottom": (11.0, 15.0),
        f"{mask}.accuracy_top_bottom_random": (70.0, 80.0),
        f"{at}.gap_top_bottom": (1.0, 5.0),
        f"{at}.gap_top_random": (0.0, 3.0),
        f"{at}.lca_vs_random": (0.0, 3.0),
        f"{at}.lost_open": (2.0, 4.0),
        f"{at}.accuracy_top_bottom_random": (60.0, 70.0),
        f"{at}.regained": (80.0, 90.0),
        f"{at}.lost_open_minus_closed_vs_random": (-1.0, 2.0),
    }.items():
        row = out.loc[key]
        assert (row["low"], row["high"]) == (pytest.approx(low), pytest.approx(high)), key
        assert row["interval over"] == "test sentences" and row["p"] == "" and row["n"] == 1, key
        assert "resampled test sentences" in row["sentence"], key
    assert out.loc["probe_ablation.pos.layer2.retrain.keep20.gap_top_bottom", "low"] == pytest.approx(51.0)
    # The paper's number of one instance: over one property it is that property's gap, with its interval; averaged
    # over two it has none.
    from neurosieve.report.summary import paper_gap_rows

    both = pd.DataFrame(finalize(paper_gap_rows(t))).set_index("id").loc["probe_ablation.layer2.paper_gap"]
    assert both["low"] == ""
    pos = FamilyTables(
        "fam", [], None, curves[curves["property"] == "pos"], None, None, None, None, layer=2, prop="pos"
    )
    row = pd.DataFrame(finalize(paper_gap_rows(pos))).set_index("id").loc["probe_ablation.layer2.paper_gap"]
    assert (row["low"], row["high"]) == (pytest.approx(1.0), pytest.approx(5.0))
    assert row["interval over"] == "test sentences"


def test_a_ranking_that_stops_short_of_the_k_is_not_compared_with_random_there() -> None:
    """The oracle's first K neurons can end below a reported share: its row at that share would set its top K
    against random's larger k (unequal budgets), so it has none; at a share it reaches, it has one."""
    from neurosieve.report.summary import ranking_comparison_rows

    curves = probe_curves(3.0)
    lca = curves[(curves["ranking"] == "lca") & (curves["direction"] == "top")]
    oracle = lca[lca["k"] <= 2].assign(ranking="oracle")  # K = 2 neurons of 20: reaches 10 %, not 20 %
    curves = pd.concat([curves, oracle], ignore_index=True)
    ids = lambda pct: {r["id"].split(".")[-1] for r in ranking_comparison_rows("fam", curves, 2, "pos", pct)}  # noqa: E731
    assert ids(10) == {"lca_vs_random", "oracle_vs_random"}
    assert ids(20) == {"lca_vs_random"}


def test_one_model_s_chunk_f1_carries_its_test_set_interval(tables: FamilyTables) -> None:
    """A seed's chunk F1 is one model's number: its row shows that model's sentence-bootstrap interval where the
    training metrics hold one (f1_low/f1_high), and none where older metrics lack it."""
    import dataclasses

    from neurosieve.report.summary import finalize

    metrics = [dict(m, test=dict(m["test"])) for m in tables.train_metrics]
    metrics[0]["test"].update(f1_low=89.6, f1_high=90.6)
    t = dataclasses.replace(tables, train_metrics=metrics)
    out = pd.DataFrame(finalize(family_summary(t))).set_index("id")
    row = out.loc["task.seed1.chunk_f1"]
    assert (row["low"], row["high"], row["n"]) == (pytest.approx(89.6), pytest.approx(90.6), 1)
    assert row["interval over"] == "test sentences" and "resampled test sentences" in row["sentence"]
    assert out.loc["task.seed2.chunk_f1", "low"] == ""
