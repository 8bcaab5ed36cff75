"""The summary table: headline numbers of a run, each beside the paper's finding (or the expectation docs/methods.md states) where one exists.

Every row carries a stable ``id`` (lowercase and dotted, e.g. ``probe.pos.layer2.accuracy``: built from what
the row measures, never from its prose, and unique within a family) and a ``source``: the input table and
column(s) it was read from. :func:`family_summary` gives sources as a :class:`FamilyTables` field
(``probing:value``, ``train_metrics[seed1]:test.f1``); :func:`run_summary` replaces the field by the file it
read, relative to the run's output folder (``probing/bilstm/summary.parquet:value``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from neurosieve.analysis.ablation import LABEL_MODE, PROBE_MINUS_TAGGER, SPLIT_MODES, predictive_value, reported_points
from neurosieve.analysis.calibration import GREEDY, ORACLE, PROXY_MODE, calibrated_areas, oracle_violations
from neurosieve.analysis.correlation import partner_rank_agreement
from neurosieve.analysis.overlap import headline_k, property_agreement
from neurosieve.analysis.verdicts import (
    AGREES,
    DESCRIPTIVE,
    DIFFERS,
    DISAGREES,
    EQUIVALENT,
    NOT_TESTED,
    Spread,
    Verdict,
    compare,
    equivalence_test,
    holm,
    paired_test,
    paired_verdict,
    percentile_interval,
    sd_interval,
    spread,
    spread_columns,
    verdict_columns,
)
from neurosieve.core.registry import CHUNK_LCA, CORRELATION_RANKINGS, RANKING_NAMES, TRIVIAL_RANKINGS
from neurosieve.core.registry import ranking as registry_ranking
from neurosieve.settings import SUMMARY_FAMILY_SETTINGS, SummarySettings
from neurosieve.store.io import atomic_path, read_table


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
    pairs: pd.DataFrame | None = None
    twin: str | None = None
    twin_metrics: Mapping[str, Any] | None = None
    twin_change: pd.DataFrame | None = None
    twin_curves: pd.DataFrame | None = None
    overlap: pd.DataFrame | None = None
    neurons: pd.DataFrame | None = None
    pool: pd.DataFrame | None = None
    """Probe ablation of the all-layers pool, every instance and property (:func:`pool_rows`)."""
    alpha: float = 0.05
    margin: float = 0.5
    """Significance level of every test, and the equivalence margin (F1 points) of "no loss" claims."""


ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
"""What a metric id looks like: lowercase words of ``[a-z0-9_]``, joined by dots, at least two."""


def metric_id(*parts: object) -> str:
    """A metric id from the things a row measures (section, property, layer, ranking, ...), in order.

    Each part is lowercased and every run of characters outside ``[a-z0-9_]`` becomes ``_`` (so an
    instance ``seed1-order9`` reads ``seed1_order9`` and a percentage ``12.5`` reads ``12_5``); empty parts
    are dropped.
    """
    words = [re.sub(r"[^a-z0-9_]+", "_", str(p).lower()).strip("_") for p in parts]
    return ".".join(w for w in words if w)


def src(table: str, *columns: str, item: object = None) -> str:
    """A row's source before the files are known: a :class:`FamilyTables` field and the columns read from it.

    ``item`` picks one file of a field that holds several (``train_metrics`` by instance, ``overlap`` by
    layer): ``src("overlap", "share", item="layer2")`` is ``overlap[layer2]:share``. Nested JSON keys are
    dotted (``test.f1``).
    """
    return f"{table}{'' if item is None else f'[{item}]'}:{','.join(columns)}"


def _row(
    family: str,
    section: str,
    quantity: str,
    value: float | str,
    finding: str = "",
    agrees: bool | Verdict | None = None,
    spread: Spread | None = None,
    digits: int = 3,
    scale: float = 1.0,
    *,
    key: str,
    source: str | Sequence[str],
    see: str = "",
    untested: str = "",
    no_interval: str = "",
) -> dict[str, Any]:
    """One summary row. ``spread`` adds the interval of the mean (low, high), sd, min, max and n over instances
    (times ``scale``); ``agrees`` is a :class:`Verdict` from a paired test (verdict, test and p) or, for an
    untested comparison, a bool. A tested row's interval and spread are always those of the tested difference
    (the verdict's effect), so that the interval printed beside a p is the interval of what was tested.

    ``key`` is the row's stable id (see :data:`ID_PATTERN`); ``source`` the table(s) and column(s) it was read
    from, as :func:`src` writes them (several are joined by ``; ``). ``see`` is, for a descriptive row (one that
    states the parts of a comparison), the id of the row that tests it; ``untested`` the test column of a row
    that is not a statistical test at all (a check, a list of other rows' results), said in words.
    ``no_interval`` says why a row has no interval (a count that is exact, a yes/no check, a list; or tables
    written before the interval was measured): it goes into the "interval over" column as ``none: <why>``, so that no row is silently
    without one.
    """
    if not ID_PATTERN.match(key):
        raise ValueError(f"summary row id {key!r} is not lowercase and dotted ({ID_PATTERN.pattern})")
    if isinstance(agrees, Verdict):
        judged = verdict_columns(agrees)
        if agrees.tested:
            spread = agrees.effect  # a tested row's interval and spread are those of the tested difference
    elif agrees is None:
        judged = {**verdict_columns(None), "test": untested}
    else:
        judged = {"verdict": "yes" if agrees else "no", "test": "untested (single value)", "p": "", "p_adj": ""}
    interval = spread_columns(spread, digits, scale)
    if no_interval and interval["low"] == "":
        interval["interval over"] = f"{NO_INTERVAL}{no_interval}"
    return {
        "family": family,
        "id": key,
        "section": section,
        "quantity": quantity,
        "value": value,
        **interval,
        "expected finding": finding,
        **judged,
        "sentence": "",
        "source": source if isinstance(source, str) else "; ".join(source),
        VERDICT_KEY: agrees if isinstance(agrees, Verdict) else None,
        SEE_KEY: see,
    }


NO_INTERVAL = "none: "
"""The "interval over" column's prefix for a row that has no interval, before the reason why."""
VERDICT_KEY = "_verdict"
"""A row's :class:`Verdict` object until :func:`finalize` adjusts it and writes the row's sentence."""
SEE_KEY = "_see"
"""The id of the row that tests a descriptive row's comparison, until :func:`finalize` writes its test column."""
TESTED_IN = f"{DESCRIPTIVE}; tested in "
"""The test column's prefix before the id of the row that tests a descriptive row's comparison."""


def untested_label(row: Mapping[str, Any]) -> str:
    """The test column of a row without a test: "not tested, n = 1" for one instance (or one value), else
    "descriptive" (a level over instances, such as a model's F1 or a noise width), naming the row that tests
    its comparison where there is one."""
    n = row.get("n", "")
    if n in ("", None) or (isinstance(n, (int, float)) and not n > 1):
        return NOT_TESTED
    see = row.get(SEE_KEY) or ""
    return f"{TESTED_IN}{see}" if see else f"{DESCRIPTIVE} (a level, not a comparison)"


def _fmt(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def sentence(row: Mapping[str, Any], family_size: int = 0, alpha: float = 0.05) -> str:
    """The row's verdict sentence, generated from what it measured and how it was tested (never hand-written).

    It names the quantity and value, the interval and n, the test with its raw and Holm-adjusted p (and the
    size of the test family), the smallest p the test could reach, and what the verdict means for the expected
    finding.
    """
    v: Verdict | None = row.get(VERDICT_KEY)
    text = f"{row['quantity']}: {_fmt(row['value'])}"
    of = "of the tested difference's mean" if v is not None and v.tested else "of the mean"
    if row.get("low", "") != "" and row.get("interval over") == "test sentences":
        text += (
            f" (95 % interval over resampled test sentences {_fmt(row['low'])} to {_fmt(row['high'])}: the test "
            "set's sampling noise, one instance)"
        )
    elif row.get("low", "") != "" and row.get("interval over") == "probe seeds":
        text += (
            f" (95 % interval of the sd over probe seeds {_fmt(row['low'])} to {_fmt(row['high'])}: chi-square, "
            "normal theory, one instance)"
        )
    elif row.get("low", "") != "" and row.get("interval over") == TWIN_BLOCKS:
        text += (
            f" (95 % interval over resampled blocks of sentences {_fmt(row['low'])} to {_fmt(row['high'])}: the "
            "sampling noise of the tokens correlated, one instance)"
        )
    elif row.get("low", "") != "" and row.get("interval over") == "labels":
        text += (
            f" (95 % interval over resampled labels {_fmt(row['low'])} to {_fmt(row['high'])}: which labels the "
            "tag set happens to have, one instance)"
        )
    elif row.get("low", "") != "":
        text += f" (95 % interval {of} {_fmt(row['low'])} to {_fmt(row['high'])}, n = {row['n']})"
    elif str(row.get("interval over", "")).startswith(NO_INTERVAL):
        text += f" (no interval: {row['interval over'].removeprefix(NO_INTERVAL)})"
    elif row.get("n", "") not in ("", None):
        text += f" (n = {row['n']})"
    finding = row.get("expected finding") or ""
    if v is None:
        if row.get("verdict") in ("yes", "no"):
            text += (
                f"; compared with a single value, not tested: {'as' if row['verdict'] == 'yes' else 'not as'} expected"
            )
        elif row.get("test", "").startswith(DESCRIPTIVE):
            see = row["test"].removeprefix(TESTED_IN) if row["test"].startswith(TESTED_IN) else ""
            text += f"; descriptive: row {see} tests its comparison" if see else "; descriptive: a level, not tested"
        elif row.get("test") == NOT_TESTED:
            text += "; not tested: one value"
        elif row.get("test"):
            text += f"; {row['test']}"
        return text + "."
    if not v.tested:
        return text + f"; {v.verdict}: fewer than two instances give no p."
    p = f"{v.p:.3g}"
    tests = "test" if family_size == 1 else "tests"
    adj = "" if math.isnan(v.p_adj) else f", Holm-adjusted over {family_size} {tests} of its section {v.p_adj:.3g}"
    text += f"; {v.describe()}: p = {p}{adj}"
    # The best a family can do: its smallest p times the family's size (Holm's first step).
    floor = min(1.0, max(family_size, 1) * v.p_min) if not math.isnan(v.p_min) else math.nan
    if v.verdict == AGREES:
        text += (
            f"; agrees with the expected finding ({finding})" if finding else "; significant in the expected direction"
        )
    elif v.verdict == DISAGREES:
        text += (
            f"; contradicts the expected finding ({finding})"
            if finding
            else "; significant against the expected direction"
        )
    elif v.verdict == EQUIVALENT:
        text += f"; equivalent: two one-sided tests place the median difference within ±{v.margin:g}"
    elif v.verdict == DIFFERS:
        text += f"; differs from {v.against}: {'higher' if v.lean > 0 else 'lower'}"
    elif not floor < alpha:
        text += (
            f"; inconclusive: with these instances no test in a family of {max(family_size, 1)} can reach an "
            f"adjusted p below {alpha:g} (its smallest is {floor:.3g}); more instances are needed"
        )
    elif not math.isnan(v.margin):
        text += f"; inconclusive: a difference of {v.margin:g} or more is not excluded"
    elif v.against:
        text += f"; inconclusive: no difference from {v.against} is shown at {alpha:g} after adjustment"
    else:
        text += f"; inconclusive: neither direction is shown at {alpha:g} after adjustment"
    return text + "."


def finalize(rows: list[dict[str, Any]], alpha: float = 0.05) -> list[dict[str, Any]]:
    """Adjust each test family's p-values (Holm; a family is one summary section of one model family), set the
    verdict words from the adjusted p, and write every row's sentence. Returns the rows without their verdict
    objects."""
    tested: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        v = r.get(VERDICT_KEY)
        if v is not None and v.tested and not math.isnan(v.p):
            tested.setdefault((r["family"], r["section"]), []).append(i)
    size = {}
    for members in tested.values():
        adjusted = holm([rows[i][VERDICT_KEY].p for i in members])
        for i, p_adj in zip(members, adjusted):
            v = rows[i][VERDICT_KEY].adjusted(float(p_adj), alpha)
            rows[i] = {**rows[i], **verdict_columns(v), VERDICT_KEY: v}
            size[i] = len(members)
    ids = {(r["family"], r["id"]) for r in rows}
    out = []
    for i, r in enumerate(rows):
        if r.get(SEE_KEY) and (r["family"], r[SEE_KEY]) not in ids:
            r = {**r, SEE_KEY: ""}  # the row that would test it was not written (e.g. no retrained curves)
        if not r.get("test"):
            r = {**r, "test": untested_label(r)}
        r = {**r, "sentence": sentence(r, size.get(i, 0), alpha)}
        r.pop(VERDICT_KEY, None)
        r.pop(SEE_KEY, None)
        out.append(r)
    return out


PAPER_GAP = "paper: top-10% vs bottom-10% gap 12.8 (NMT), 25.5 (LM), averaged over properties, retrained probes"


FILL_NAME = {"model": "zero ablation", "model-mean": "mean ablation"}
FILL_ID = {"model": "zero", "model-mean": "mean"}


CORR_METHODS = CORRELATION_RANKINGS  # the registry's correlation rankings, in its order


def _at_percent(c: pd.DataFrame, pct: float) -> pd.DataFrame:
    """The rows of a curve table at the k closest to ``pct`` % of the layer (one k for the whole table)."""
    if c.empty:
        return c
    nearest = c.loc[(c["k_percent"] - pct).abs().idxmin(), "k_percent"]
    return c[c["k_percent"] == nearest]


def kept_per_instance(
    curves: pd.DataFrame,
    layer: int | None,
    prop: str | None,
    mode: str,
    direction: str,
    pct: float,
    group: str = "overall",
    ranking: str = "lca",
) -> pd.Series:
    """Probe accuracy (%) per instance keeping ``pct`` % of the neurons (top, bottom or random), random repeats averaged."""
    c = curves[(curves["mode"] == mode) & (curves["metric"] == f"accuracy_{group}")]
    if layer is not None:  # None: a table of one selection pool (the all-layers pool has no layer)
        c = c[c["layer"] == layer]
    if prop is not None:
        c = c[c["property"] == prop]
    c = c[(c["direction"] == direction) & c["ranking"].isin(["none"] if direction == "random" else [ranking])]
    c = _at_percent(c, pct)
    return 100 * c.groupby("instance")["value"].mean()


def gap_bounds(
    curves: pd.DataFrame,
    layer: int | None,
    prop: str,
    pct: float,
    other: str,
    ranking: str = "lca",
    mode: str = "retrain",
) -> pd.DataFrame:
    """Per instance (rows), the sentence-bootstrap interval (columns ``low``, ``high``; points) of a ranking's
    retrained (or, with ``mode``, masked) top minus ``other`` (bottom or random) gap at ``pct`` % (rows
    ``gap_<other>_low``/``high`` of probe ablation's curves); empty where the curves have none."""
    return curve_bounds(curves, layer, prop, pct, f"gap_{other}", ranking, mode)


def curve_bounds(
    curves: pd.DataFrame,
    layer: int | None,
    prop: str,
    pct: float,
    stem: str,
    ranking: str = "lca",
    mode: str = "retrain",
) -> pd.DataFrame:
    """Per instance (rows), the sentence-bootstrap interval (columns ``low``, ``high``; points) that probe
    ablation's curves hold for a retrained (or ``mode``'s) quantity ``stem`` of a ranking at ``pct`` % (rows
    ``<stem>_low`` and ``<stem>_high``: the gaps, ``gap_bottom``/``gap_random``, and the accuracy lost by word
    class, ``lost_open``, ...); empty where the curves have none."""
    low, high = f"{stem}_low", f"{stem}_high"
    c = curves[
        (curves["mode"] == mode)
        & ((curves["layer"] == layer) if layer is not None else True)  # None: the all-layers pool
        & (curves["property"] == prop)
        & (curves["ranking"] == ranking)
        & curves["metric"].isin([low, high])
    ]
    # The k of the accuracy rows nearest pct (the bounds exist at the reported k only: never another k's).
    grid = curves.loc[
        (curves["mode"] == mode)
        & ((curves["layer"] == layer) if layer is not None else True)
        & (curves["property"] == prop)
        & (curves["metric"] == "accuracy_overall"),
        "k_percent",
    ]
    c = c[c["k_percent"] == grid.loc[(grid - pct).abs().idxmin()]] if len(grid) else _at_percent(c, pct)
    return bounds_by_instance(c, low, high)


def bounds_by_instance(rows: pd.DataFrame, low: str, high: str, scale: float = 100.0) -> pd.DataFrame:
    """Per instance, the sentence-bootstrap bounds a curves table holds in rows of metric ``low`` and ``high``
    (fractions), times ``scale`` (points by default; 1 for a ratio such as a calibrated area): columns ``low``,
    ``high``; empty where either is missing."""
    wide = rows[rows["metric"].isin([low, high])].pivot_table(index="instance", columns="metric", values="value")
    if not {low, high} <= set(wide.columns):
        return pd.DataFrame(columns=["low", "high"])
    return (scale * wide[[low, high]]).set_axis(["low", "high"], axis=1).dropna()


def with_own(
    s: Spread | Verdict | None, interval: tuple[float, float] | None, over: str = "test sentences"
) -> Spread | None:
    """``s`` (or a verdict's effect) as is, or, for a single instance, with that instance's own ``interval`` of the
    same quantity (what it ranges ``over``: its test sentences, probe seeds or labels); unchanged when the interval
    is missing or not finite. The one place a row of one instance gets an interval."""
    base = s.effect if isinstance(s, Verdict) else s
    if base is None or base.n != 1 or interval is None or not np.isfinite(interval).all():
        return base
    return dataclasses.replace(base, bootstrap=(float(interval[0]), float(interval[1])), bootstrap_over=over)


def with_bounds(s: Spread | Verdict | None, bounds: pd.DataFrame) -> Spread | None:
    """:func:`with_own` with that instance's sentence-bootstrap interval of the same quantity (``bounds``,
    :func:`bounds_by_instance`): a family of one instance still shows its test set's noise."""
    one = (bounds["low"].iloc[0], bounds["high"].iloc[0]) if len(bounds) == 1 else None
    return with_own(s, one)


def gap_half_width(
    curves: pd.DataFrame, layer: int | None, prop: str, pct: float, other: str, ranking: str = "lca"
) -> pd.Series:
    """Per instance, half the width (points) of the sentence-bootstrap interval of a ranking's retrained top minus
    ``other`` (bottom or random) gap at ``pct`` % (rows ``gap_<other>_low``/``high`` of probe ablation's curves)."""
    b = gap_bounds(curves, layer, prop, pct, other, ranking)
    return (b["high"] - b["low"]) / 2 if not b.empty else pd.Series(dtype=float)


def gap_noise_rows(
    family: str, section: str, label: str, at: str, other: str, half: pd.Series, table: str
) -> list[dict[str, Any]]:
    """The descriptive row of a gap's test-set noise: the mean over instances of each instance's sentence-bootstrap
    half-width (:func:`gap_half_width`), beside the gap's own rows (none when the curves have no bounds, and none for
    one instance, whose gap rows show that interval itself)."""
    if len(half) < 2:
        return []  # one instance: its gap row carries that interval itself
    return [
        _row(
            family,
            section,
            f"{label}: top - {other} gap, half-width of one instance's 95 % sentence-bootstrap interval "
            "(points; the test set's sampling noise, mean over instances)",
            round(float(half.mean()), 2),
            spread=spread(half),
            digits=2,
            key=f"{at}.gap_top_{other}_bootstrap_half_width",
            source=src(table, "value"),
        )
    ]


def seeds_note(curves: pd.DataFrame, pct: float) -> str:
    """``"; a ranking's retrained probes: mean over 3 probe seeds"`` when the retrained rankings at ``pct`` % were
    fitted with several probe seeds (column ``probe_seeds`` of probe ablation's curves), else empty."""
    if "probe_seeds" not in curves:
        return ""
    c = _at_percent(curves[(curves["mode"] == "retrain") & (curves["direction"] != "random")], pct)
    n = int(c["probe_seeds"].max()) if len(c) and c["probe_seeds"].notna().any() else 1
    return f"; a ranking's retrained probes: mean over {n} probe seeds" if n > 1 else ""


def _pm(v: pd.Series | np.ndarray, digits: int = 1) -> str:
    s = spread(v)
    return f"{s.mean:.{digits}f} ± {s.sd:.{digits}f}" if s.n > 1 else f"{s.mean:.{digits}f}"


def end_task_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """Chunk F1 over the family's instances, with its spread, and the near-twin's F1."""
    rows: list[dict[str, Any]] = []
    if t.train_metrics:
        f1 = [m["test"]["f1"] for m in t.train_metrics]
        s = spread(f1)
        rows.append(
            _row(
                t.name,
                "end task",
                "chunk F1 over instances (mean)",
                round(s.mean, 2),
                "word-only BiLSTM taggers: about 89-93 F1",
                spread=s,
                digits=2,
                key="task.chunk_f1",
                source=src("train_metrics", "test.f1"),
            )
        )
    if t.twin_metrics is not None:
        tm = t.twin_metrics
        rows.append(
            _row(
                t.name,
                "end task",
                f"chunk F1, near-twin {t.twin}",
                round(tm["test"]["f1"], 2),
                spread=f1_spread(tm["test"]),
                digits=2,
                key="task.twin.chunk_f1",
                no_interval=NO_F1_BOUNDS,
                source=src("twin_metrics", "test.f1"),
            )
        )
        partner = next((m for m in t.train_metrics if m["seed"] == tm.get("seed")), None)
        if partner is not None and "init_weights_sha256" in tm:
            same = tm["init_weights_sha256"] == partner.get("init_weights_sha256") and tm.get(
                "train_subset"
            ) == partner.get("train_subset")
            rows.append(
                _row(
                    t.name,
                    "end task",
                    f"near-twin {t.twin} starts from seed {tm['seed']}'s initial weights and sentences",
                    "yes" if same else "no",
                    key="task.twin.same_start",
                    no_interval="a yes/no fact of how the twin was started, not an estimate",
                    source=[
                        src("twin_metrics", "init_weights_sha256", "train_subset"),
                        src("train_metrics", "init_weights_sha256", "train_subset", item=f"seed{tm['seed']}"),
                    ],
                )
            )
    return rows


def probe_ablation_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """Probe ablation (LCA ranking): kept accuracy with spread, top-vs-bottom verdicts, the paper's gap number."""
    if t.curves is None or "accuracy_overall" not in set(t.curves["metric"]):
        return []
    rows: list[dict[str, Any]] = []
    f, c = t.name, t.curves
    sec = "ablation (probe)"
    for mode in ("mask", "retrain"):
        grid = c[(c["mode"] == mode) & (c["layer"] == t.layer)]["k_percent"]
        # The grid's points nearest 10% and 20% (once each, named by their real value; their ids by the target).
        for pct, target in reported_points(grid).items():
            at = metric_id("probe_ablation", t.prop, f"layer{t.layer}", mode, f"keep{target}")
            retrained_gap = metric_id(
                "probe_ablation", t.prop, f"layer{t.layer}", "retrain", f"keep{target}", "gap_top_bottom"
            )
            top, bottom, rnd = (
                kept_per_instance(c, t.layer, t.prop, mode, d, pct) for d in ("top", "bottom", "random")
            )
            if top.empty:
                continue
            seeds = seeds_note(c[(c["layer"] == t.layer) & (c["property"] == t.prop)], pct) if mode == "retrain" else ""
            label = f"{t.prop}, layer {t.layer}, {mode}ed, {pct:.0f}% kept (LCA{seeds})"
            rows.append(
                _row(
                    f,
                    sec,
                    f"{label}: top / bottom / random accuracy (mean ± sd over instances)",
                    f"{_pm(top)} / {_pm(bottom)} / {_pm(rnd)}",
                    spread=with_bounds(spread(top), curve_bounds(c, t.layer, t.prop, pct, "kept", mode=mode)),
                    digits=1,
                    key=f"{at}.accuracy_top_bottom_random",
                    source=src("curves", "value"),
                    see=retrained_gap,
                )
            )
            if mode == "mask":
                # The masked probe is the one whose weights define the LCA ranking (Antverg & Belinkov's first
                # pitfall): its gaps are shown, but verdicts come from retrained probes only.
                gap = (top - bottom).dropna()
                rows.append(
                    _row(
                        f,
                        sec,
                        f"{label}: top - bottom gap (points)",
                        round(float(gap.mean()), 1),
                        "no verdict from masking: the masked probe defines the LCA ranking; see the retrained rows",
                        spread=with_bounds(spread(gap), gap_bounds(c, t.layer, t.prop, pct, "bottom", mode=mode)),
                        digits=1,
                        key=f"{at}.gap_top_bottom",
                        source=src("curves", "value"),
                        see=retrained_gap,
                    )
                )
                continue
            pairs = pd.concat({"top": top, "bottom": bottom}, axis=1).dropna()
            v = paired_test(pairs["top"], pairs["bottom"], "greater")
            rows.append(
                _row(
                    f,
                    sec,
                    f"{label}: top - bottom gap (points)",
                    round(v.effect.mean, 1),
                    "paper: keeping the top neurons keeps more accuracy than keeping the bottom ones",
                    v,
                    with_bounds(v, gap_bounds(c, t.layer, t.prop, pct, "bottom")),
                    1,
                    key=f"{at}.gap_top_bottom",
                    source=src("curves", "value"),
                )
            )
            pairs = pd.concat({"top": top, "random": rnd}, axis=1).dropna()
            v = paired_test(pairs["top"], pairs["random"], "greater")
            rows.append(
                _row(
                    f,
                    sec,
                    f"{label}: top - random gap (points)",
                    round(v.effect.mean, 1),
                    "paper: the top neurons beat random ones",
                    v,
                    with_bounds(v, gap_bounds(c, t.layer, t.prop, pct, "random")),
                    1,
                    key=f"{at}.gap_top_random",
                    source=src("curves", "value"),
                )
            )
            for other in ("bottom", "random"):
                rows += gap_noise_rows(
                    f, sec, label, at, other, gap_half_width(c, t.layer, t.prop, pct, other), "curves"
                )
    # Retrained top 10% against the retrained probe on every neuron (same training budget), else the mask probe.
    full = kept_per_instance(c, t.layer, t.prop, "retrain", "top", 100)
    if full.empty:
        full = kept_per_instance(c, t.layer, t.prop, "mask", "top", 100)
    top10 = kept_per_instance(c, t.layer, t.prop, "retrain", "top", 10)
    share = (100 * top10 / full).dropna()
    if not share.empty:
        # Not tested: a threshold of 90 % is a convention, not a null hypothesis; the interval says where it lies.
        rows.append(
            _row(
                f,
                sec,
                f"{t.prop}, layer {t.layer}, retrained, 10% kept: % of full accuracy regained",
                round(float(share.mean()), 1),
                "paper: the retrained top 10% regains most (> 90%) of the accuracy",
                spread=with_bounds(spread(share), curve_bounds(c, t.layer, t.prop, 10, "regained")),
                digits=1,
                key=metric_id("probe_ablation", t.prop, f"layer{t.layer}", "retrain", "keep10", "regained"),
                source=src("curves", "value"),
            )
        )
    for suffix, tokens in (
        ("", "all tokens; confounded with OOV words, which are all open-class"),
        ("_in_vocab", "in-vocabulary tokens only"),
    ):
        lost = {}
        for group in ("open", "closed"):
            lost[group] = kept_per_instance(
                c, t.layer, t.prop, "retrain", "top", 100, group + suffix
            ) - kept_per_instance(c, t.layer, t.prop, "retrain", "top", 10, group + suffix)
            if not lost[group].dropna().empty:
                rows.append(
                    _row(
                        f,
                        sec,
                        f"{group}-class accuracy lost keeping the top 10% (retrained; {tokens})",
                        round(float(lost[group].mean()), 1),
                        spread=with_bounds(
                            spread(lost[group]), curve_bounds(c, t.layer, t.prop, 10, f"lost_{group}{suffix}")
                        ),
                        digits=1,
                        key=metric_id(
                            "probe_ablation", t.prop, f"layer{t.layer}", "retrain", "keep10", f"lost_{group}{suffix}"
                        ),
                        source=src("curves", "value"),
                        see=metric_id(
                            "probe_ablation",
                            t.prop,
                            f"layer{t.layer}",
                            "retrain",
                            "keep10",
                            f"lost_open_minus_closed{suffix}",
                        ),
                    )
                )
        # The same for a random 10 % of the neurons: does "open suffers more" hold for any 10 %?
        lost_random = {
            group: kept_per_instance(c, t.layer, t.prop, "retrain", "top", 100, group + suffix)
            - kept_per_instance(c, t.layer, t.prop, "retrain", "random", 10, group + suffix)
            for group in ("open", "closed")
        }
        control = pd.concat(
            {
                "lca": lost.get("open", pd.Series(dtype=float)) - lost.get("closed", pd.Series(dtype=float)),
                "random": lost_random["open"] - lost_random["closed"],
            },
            axis=1,
        ).dropna()

        def tested(a: pd.Series, b: pd.Series, quantity: str, finding: str, name: str) -> None:
            v = paired_test(a, b, "greater")
            key = metric_id("probe_ablation", t.prop, f"layer{t.layer}", "retrain", "keep10", name)
            rows.append(
                _row(
                    f,
                    sec,
                    quantity,
                    round(v.effect.mean, 1),
                    finding,
                    v,
                    with_bounds(v, curve_bounds(c, t.layer, t.prop, 10, name)),
                    1,
                    key=key,
                    source=src("curves", "value"),
                )
            )

        if not control.empty:
            tested(
                control["lca"],
                control["random"],
                f"open minus closed-class accuracy lost, top 10% by LCA minus a random 10% (retrained; {tokens})",
                "control: the open-class excess loss of the top 10% beyond that of random selections of the same size",
                f"lost_open_minus_closed{suffix}_vs_random",
            )
        pairs = pd.concat(lost, axis=1).dropna()
        if not pairs.empty:
            tested(
                pairs["open"],
                pairs["closed"],
                f"open minus closed-class accuracy lost, top 10% retrained (points; {tokens})",
                "expected (docs/methods.md): open-class accuracy suffers more than closed-class",
                f"lost_open_minus_closed{suffix}",
            )
    rows += paper_gap_rows(t)
    return rows


def paper_gap(curves: pd.DataFrame, mode: str = "retrain", pct: float = 10, ranking: str = "lca") -> pd.DataFrame:
    """The paper's summary number per (layer, instance): top-``pct``% minus bottom-``pct``% probe accuracy
    (points), averaged over the ablated properties. Columns layer, instance, gap, properties."""
    c = curves[(curves["mode"] == mode) & (curves["metric"] == "accuracy_overall") & (curves["ranking"] == ranking)]
    rows = []
    for (layer, prop), g in c.groupby(["layer", "property"]):
        top = kept_per_instance(g, layer, prop, mode, "top", pct, ranking=ranking)
        bottom = kept_per_instance(g, layer, prop, mode, "bottom", pct, ranking=ranking)
        for inst, gap in (top - bottom).dropna().items():
            rows.append({"layer": layer, "property": prop, "instance": inst, "gap": gap})
    out = pd.DataFrame(rows, columns=["layer", "property", "instance", "gap"])
    return (
        out.groupby(["layer", "instance"])
        .agg(gap=("gap", "mean"), properties=("property", lambda p: ", ".join(sorted(p))))
        .reset_index()
    )


def paper_gap_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """The paper's own summary number, per layer, under retraining, with its spread and a test that it is > 0."""
    if t.curves is None or "accuracy_overall" not in set(t.curves["metric"]):
        return []
    rows = []
    gaps = paper_gap(t.curves)
    for layer, g in gaps.groupby("layer"):
        v = paired_test(g["gap"].to_numpy(), np.zeros(len(g)), "greater")
        props = g["properties"].iloc[0]
        # One instance and one property: the gap is that property's top - bottom gap, whose interval over test
        # sentences probe ablation measured (averaged over several properties it has none).
        own = gap_bounds(t.curves, layer, props, 10, "bottom") if "," not in props else pd.DataFrame()
        rows.append(
            _row(
                t.name,
                "ablation (probe)",
                f"paper's number: top-10% - bottom-10% retrained accuracy, averaged over properties ({props}), layer {layer} (points)",
                round(v.effect.mean, 1),
                PAPER_GAP,
                v,
                with_bounds(v, own),
                1,
                key=metric_id("probe_ablation", f"layer{layer}", "paper_gap"),
                source=src("curves", "value"),
            )
        )
    return rows


POOL_SECTION = "ablation (all-layers pool)"


def pool_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """The paper's own setting: every layer concatenated and ranked together by one probe.

    Per ablated property and pool ranking, retrained accuracy keeping the top, bottom and a random 10 % of the
    pool, the top - bottom gap (the number the paper reports, 12.8-25.5 points over its pools) and top - random,
    each tested over instances. Beside the per-layer rows it tells whether a small gap comes from one layer's
    width or from the model.
    """
    c = t.pool
    if c is None or c.empty:
        return []
    rows: list[dict[str, Any]] = []
    f = t.name
    for prop in sorted(c["property"].unique()):
        cp = c[c["property"] == prop]
        width = int(cp["width"].max())
        layers = str(cp["layers"].iloc[0])
        rnd = kept_per_instance(cp, None, prop, "retrain", "random", 10)
        for name in [r for r in RANKING_NAMES if r in set(cp["ranking"])]:
            top, bottom = (kept_per_instance(cp, None, prop, "retrain", d, 10, ranking=name) for d in ("top", "bottom"))
            if top.empty:
                continue
            at = metric_id("pool_ablation", prop, name, "retrain", "keep10")
            label = (
                f"{prop}, all layers pooled ({layers}; {width} neurons), retrained, 10% kept "
                f"({registry_ranking(name).label}{seeds_note(cp, 10)})"
            )
            rows.append(
                _row(
                    f,
                    POOL_SECTION,
                    f"{label}: top / bottom / random accuracy (mean ± sd over instances)",
                    f"{_pm(top)} / {_pm(bottom)} / {_pm(rnd)}",
                    spread=with_bounds(spread(top), curve_bounds(cp, None, prop, 10, "kept", name)),
                    digits=1,
                    key=f"{at}.accuracy_top_bottom_random",
                    source=src("pool", "value"),
                    see=f"{at}.gap_top_bottom",
                )
            )
            for other, values, finding in (
                ("bottom", bottom, PAPER_GAP),
                ("random", rnd, "paper: the top neurons beat random ones"),
            ):
                pairs = pd.concat({"top": top, other: values}, axis=1).dropna()
                v = paired_test(pairs["top"], pairs[other], "greater")
                rows.append(
                    _row(
                        f,
                        POOL_SECTION,
                        f"{label}: top - {other} gap (points)",
                        round(v.effect.mean, 1),
                        finding,
                        v,
                        with_bounds(v, gap_bounds(cp, None, prop, 10, other, name)),
                        1,
                        key=f"{at}.gap_top_{other}",
                        source=src("pool", "value"),
                    )
                )
                half = gap_half_width(cp, None, prop, 10, other, name)
                rows += gap_noise_rows(f, POOL_SECTION, label, at, other, half, "pool")
    return rows


def _model_curves(t: FamilyTables, every_layer: bool = False) -> pd.DataFrame:
    """Model-ablation F1 curves of the family's figure layer (of every model-ablated layer with ``every_layer``)."""
    if t.curves is None or "f1" not in set(t.curves["metric"]):
        return pd.DataFrame()
    c = t.curves[(t.curves["metric"] == "f1") & t.curves["mode"].isin(list(FILL_NAME))]
    return c if every_layer else c[c["layer"] == t.layer]


def _interior(c: pd.DataFrame) -> pd.DataFrame:
    width = c.groupby("instance")["k"].transform("max")
    return c[(c["k"] > 0) & (c["k"] < width)]


#: What a model-ablation ranking's top-vs-random row expects, where it is not a ranking under test.
MODEL_EXPECTATION = {
    CHUNK_LCA: "positive control: the chunk probe's top neurons must cost more F1 than random ones, or the test is blind",
}


def model_ablation_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """Model ablation per ablated layer, ranking and fill: F1 at about half removed, top vs bottom and top vs
    random verdicts.

    Each verdict pools the interior of the k grid per instance (mean F1
    difference, i.e. the area between the curves) and tests across instances.
    """
    modelled = _model_curves(t, every_layer=True)
    rows: list[dict[str, Any]] = []
    for layer in sorted(int(n) for n in modelled["layer"].unique()) if len(modelled) else []:
        # One test family per layer: the figure layer's section, and one of its own for each other layer.
        sec = "ablation (model)" if layer == t.layer else f"ablation (model, layer {layer})"
        c = modelled[modelled["layer"] == layer]
        for mode, fill in FILL_NAME.items():
            m = c[c["mode"] == mode]
            if m.empty:
                continue
            rnd = m[m["direction"] == "random"]
            for name in [r for r in dict.fromkeys(m["ranking"]) if r != "none"]:
                at = metric_id("model_ablation", f"layer{layer}", name, FILL_ID[mode])
                g = m[m["ranking"] == name]
                half = _at_percent(pd.concat([g, rnd]), 50)
                per = {
                    d: half[half["direction"] == d].groupby("instance")["value"].mean()
                    for d in ("top", "bottom", "random")
                }
                rows.append(
                    _row(
                        t.name,
                        sec,
                        f"chunk F1 with {half['k_percent'].iloc[0]:.0f}% of layer {layer} removed by {name} ({fill}): top / bottom / random",
                        f"{_pm(per['top'])} / {_pm(per['bottom'])} / {_pm(per['random'])}",
                        spread=spread(per["top"]),
                        digits=2,
                        key=f"{at}.f1_half_removed_top_bottom_random",
                        source=src("curves", "value"),
                        see=f"{at}.f1_top_minus_bottom",
                    )
                )
                inner = _interior(pd.concat([g, rnd]))
                v = paired_verdict(inner, "direction", "top", "bottom", "less")
                rows.append(
                    _row(
                        t.name,
                        sec,
                        f"{name} ({fill}), layer {layer}: F1 after removing top minus bottom neurons, mean over the k grid",
                        round(v.effect.mean, 2),
                        "paper: removing top neurons hurts the end task more than removing bottom ones",
                        v,
                        v.effect,
                        2,
                        key=f"{at}.f1_top_minus_bottom",
                        source=src("curves", "value"),
                    )
                )
                v = paired_verdict(inner, "direction", "top", "random", "less")
                rows.append(
                    _row(
                        t.name,
                        sec,
                        f"{name} ({fill}), layer {layer}: F1 after removing top minus random neurons, mean over the k grid (minus the predictive value)",
                        round(v.effect.mean, 2),
                        MODEL_EXPECTATION.get(
                            name,
                            "a useful ranking finds the neurons the model needs: top removal hurts more than random",
                        ),
                        v,
                        v.effect,
                        2,
                        key=f"{at}.f1_top_minus_random",
                        source=src("curves", "value"),
                    )
                )
    return rows


def correlation_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """Dead neurons, mean scores with their spread, the exact-copy experiment for every instance, stability."""
    rows: list[dict[str, Any]] = []
    f = t.name
    if t.scores is not None:
        for inst, g in t.scores.groupby("instance", sort=False):
            rows.append(
                _row(
                    f,
                    "correlation",
                    f"dead neurons, layer {t.layer}, {inst}",
                    int(g["dead"].sum()),
                    key=metric_id("correlation", f"layer{t.layer}", inst, "dead_neurons"),
                    no_interval="an exact count over the test tokens, not an estimate",
                    source=src("scores", "dead"),
                )
            )
        for m in CORR_METHODS:
            if m in t.scores:
                per = t.scores.groupby("instance")[m].mean()
                rows.append(
                    _row(
                        f,
                        "correlation",
                        f"mean {m} score, layer {t.layer} (spread over instances)",
                        round(float(per.mean()), 3),
                        spread=spread(per),
                        key=metric_id("correlation", f"layer{t.layer}", m, "mean_score"),
                        source=src("scores", m),
                    )
                )
    if t.duplicate is not None and not t.duplicate.empty:
        d = t.duplicate.set_index(["method", "instance"])
        dup = t.duplicate.loc[t.duplicate["duplicated"], "instance"].iloc[0]
        if {"maxcorr", "meanmaxcorr"} <= set(t.duplicate["method"]):
            for inst in dict.fromkeys(t.duplicate["instance"]):
                mx, mm = float(d.loc[("maxcorr", inst), "spearman"]), float(d.loc[("meanmaxcorr", inst), "spearman"])
                role = (
                    "the copied instance (fixed by construction: MaxCorr all 1, MeanMaxCorr monotone)"
                    if inst == dup
                    else "another instance"
                )
                rows.append(
                    _row(
                        f,
                        "correlation",
                        f"exact copy of {dup} added: Spearman of {inst}'s ranking before/after, MaxCorr / MeanMaxCorr ({role})",
                        f"{mx:.3f} / {mm:.3f}",
                        "expected (docs/methods.md): MaxCorr is fooled by two identical instances, MeanMaxCorr is not (no test: see the near-twin rows)",
                        key=metric_id("correlation", f"layer{t.layer}", "exact_copy", inst, "spearman"),
                        no_interval="a demonstration with one exact copy, not resampled (the copied instance's "
                        "MaxCorr is fixed by construction)",
                        source=src("duplicate", "spearman"),
                    )
                )
    if t.stability is not None and not t.stability.empty:
        for (m, k), g in t.stability.groupby(["method", "k"]):
            rows.append(
                _row(
                    f,
                    "stability",
                    f"{m}: share of top-{k} whose best partner is in the other instance's top-{k} (over ordered pairs)",
                    round(float(g["share"].mean()), 3),
                    spread=spread(g["share"]),
                    key=metric_id("stability", f"layer{t.layer}", m, f"top{k}", "partner_share"),
                    source=src("stability", "share"),
                )
            )
    return rows


def _predictive(curves: pd.DataFrame, random: pd.DataFrame | None = None) -> pd.DataFrame:

    return predictive_value(curves, random=random)


TWIN_LOSS_FINDING = {
    "maxcorr": "expected (docs/methods.md): a near-identical instance fools MaxCorr, so it loses predictive value",
    "meanmaxcorr": "expected (docs/methods.md): MeanMaxCorr is not fooled by a near-identical instance: no loss",
}
TWIN_KEEP_FINDING = {
    "maxcorr": "expected (docs/methods.md): MaxCorr does not keep its predictive value (not equivalent)",
    "meanmaxcorr": "expected (docs/methods.md): MeanMaxCorr keeps its predictive value when a near-twin joins",
}
"""What docs/methods.md expects of each correlation ranking when a near-twin joins (none for the others)."""


TWIN_UNRESAMPLED = "the near-twin tables predate the block bootstrap of the ranking change: rerun twin_correlation"
"""Why a near-twin ranking-change row has no interval of its own."""
TWIN_BLOCKS = "sentence blocks"
"""What a near-twin ranking change's own interval ranges over (``interval over``)."""
NO_OOV = "no out-of-vocabulary test tokens to compare with"
"""Why an in- vs out-of-vocabulary row has no interval when the test set has no OOV token."""


def twin_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """The near-twin experiment: ranking change of every instance, predictive value with and without the twin."""
    rows: list[dict[str, Any]] = []
    f, sec = t.name, "near-twin"
    if t.twin_change is not None and not t.twin_change.empty:
        ch = t.twin_change[t.twin_change["layer"] == t.layer] if "layer" in t.twin_change else t.twin_change
        ks = sorted(int(c[3:-8]) for c in ch if c.startswith("top") and c.endswith("_overlap"))
        k = ks[len(ks) // 2] if ks else None
        for m, g in ch.groupby("method", sort=False):
            for _, r in g.iterrows():
                role = f"twinned with {t.twin}" if r["twinned"] else "not twinned"
                over = f", top-{k} overlap {r[f'top{k}_overlap']:.2f}" if k else ""
                own = (r.get("spearman_low", np.nan), r.get("spearman_high", np.nan))
                blocks = (
                    f"; interval: the Spearman, over {int(r['blocks'])} blocks of sentences"
                    if np.isfinite(own).all()
                    else ""
                )
                rows.append(
                    _row(
                        f,
                        sec,
                        f"{m}: {r['instance']}'s ranking with vs without the twin ({role}): Spearman{', top-k overlap' if k else ''}{blocks}",
                        f"{r['spearman']:.3f}{over}",
                        spread=with_own(spread([r["spearman"]]), own, over=TWIN_BLOCKS),
                        key=metric_id("twin", f"layer{t.layer}", m, r["instance"], "ranking_change"),
                        no_interval=TWIN_UNRESAMPLED,
                        source=src(
                            "twin_change",
                            "spearman",
                            *(["spearman_low", "spearman_high"] if blocks else []),
                            *([f"top{k}_overlap"] if k else []),
                        ),
                    )
                )
            untwinned = g[~g["twinned"]]
            others = untwinned["spearman"]
            one = (
                (untwinned["spearman_low"].iloc[0], untwinned["spearman_high"].iloc[0])
                if len(untwinned) == 1 and "spearman_low" in untwinned
                else None
            )
            rows.append(
                _row(
                    f,
                    sec,
                    f"{m}: Spearman with vs without the twin, instances not twinned",
                    round(float(others.mean()), 3),
                    spread=with_own(spread(others), one, over=TWIN_BLOCKS),
                    key=metric_id("twin", f"layer{t.layer}", m, "untwinned", "spearman"),
                    no_interval=TWIN_UNRESAMPLED,
                    source=src("twin_change", "spearman"),
                )
            )
    c = _model_curves(t)
    if t.twin_curves is None or t.twin_curves.empty or c.empty:
        return rows
    tc = t.twin_curves[(t.twin_curves["metric"] == "f1") & (t.twin_curves["layer"] == t.layer)]
    base = c[c["ranking"].isin(CORR_METHODS) | (c["direction"] == "random")]
    without = _predictive(base)
    with_random = pd.concat([base, tc[tc["direction"] == "random"]])
    with_twin = _predictive(tc[tc["direction"] != "random"], random=with_random)
    for mode, fill in FILL_NAME.items():
        for m in CORR_METHODS:
            a = without[(without["mode"] == mode) & (without["ranking"] == m)].set_index("instance")["predictive_value"]
            b = with_twin[(with_twin["mode"] == mode) & (with_twin["ranking"] == m)].set_index("instance")[
                "predictive_value"
            ]
            if a.empty or b.empty:
                continue
            at = metric_id("twin", f"layer{t.layer}", m, FILL_ID[mode])
            rows.append(
                _row(
                    f,
                    sec,
                    f"{m} ({fill}): predictive value without the twin (F1 points above random removal)",
                    round(float(a.mean()), 2),
                    spread=spread(a),
                    digits=2,
                    key=f"{at}.predictive_value_without",
                    source=src("curves", "value"),
                    see=f"{at}.predictive_value_equivalent",
                )
            )
            rows.append(
                _row(
                    f,
                    sec,
                    f"{m} ({fill}): predictive value with the twin in the family, original instances",
                    round(float(b.drop(t.twin, errors="ignore").mean()), 2),
                    spread=spread(b.drop(t.twin, errors="ignore")),
                    digits=2,
                    key=f"{at}.predictive_value_with",
                    source=src("twin_curves", "value"),
                    see=f"{at}.predictive_value_equivalent",
                )
            )
            if t.twin in b.index:
                tw = t.twin_curves
                own = tw[
                    (tw["instance"] == t.twin) & (tw["layer"] == t.layer) & (tw["mode"] == mode) & (tw["ranking"] == m)
                ]
                why = (
                    "its model ablation predates the per-sentence chunk counts (rerun it to record them)"
                    if "predictive_value_low" not in set(own["metric"])
                    else "the bootstrap of its predictive value gave no finite bounds"
                )
                rows.append(
                    _row(
                        f,
                        sec,
                        f"{m} ({fill}): predictive value of the twin's own ranking",
                        round(float(b[t.twin]), 2),
                        spread=with_bounds(
                            spread([b[t.twin]]),
                            bounds_by_instance(own, "predictive_value_low", "predictive_value_high", scale=1.0),
                        ),
                        digits=2,
                        key=f"{at}.predictive_value_twin",
                        no_interval=why,
                        source=src("twin_curves", "value"),
                    )
                )
            pairs = pd.concat({"without": a, "with": b}, axis=1).dropna()
            for v, what, finding, name in (
                (
                    paired_test(pairs["without"], pairs["with"], "greater"),
                    "predictive value lost when the twin joins the family (without - with)",
                    TWIN_LOSS_FINDING.get(m, ""),
                    "predictive_value_lost",
                ),
                (
                    equivalence_test(pairs["without"], pairs["with"], t.margin, t.alpha),
                    f"predictive value with vs without the twin, equivalent within ±{t.margin:g} F1 points",
                    TWIN_KEEP_FINDING.get(m, ""),
                    "predictive_value_equivalent",
                ),
            ):
                rows.append(
                    _row(
                        f,
                        sec,
                        f"{m} ({fill}): {what}",
                        round(v.effect.mean, 2),
                        finding,
                        v,
                        v.effect,
                        2,
                        key=f"{at}.{name}",
                        source=[src("curves", "value"), src("twin_curves", "value")],
                    )
                )
    return rows


def reference_rows(t: FamilyTables) -> list[dict[str, Any]]:
    """Does the ranking depend on the reference instance? Agreement through best partners, and the spread of
    each reference instance's predictive value."""
    rows: list[dict[str, Any]] = []
    f, sec = t.name, "reference instance"
    if t.scores is not None and t.pairs is not None:
        agree = partner_rank_agreement(t.scores, t.pairs, [m for m in CORR_METHODS if f"rank_{m}" in t.scores])
        for m, g in agree.groupby("method", sort=False):
            rows.append(
                _row(
                    f,
                    sec,
                    f"{m}: Spearman between rankings on two reference instances, matched through best partners (over ordered pairs)",
                    round(float(g["spearman"].mean()), 3),
                    "1: the reference instance does not matter",
                    spread=spread(g["spearman"]),
                    key=metric_id("reference", f"layer{t.layer}", m, "partner_spearman"),
                    source=[src("scores", f"rank_{m}"), src("pairs", "best_neuron")],
                )
            )
    c = _model_curves(t)
    if c.empty:
        return rows
    pv = _predictive(c)
    for mode, fill in FILL_NAME.items():
        p = pv[pv["mode"] == mode]
        for m, g in p.groupby("ranking", sort=False):
            per = ", ".join(f"{i} {v:.2f}" for i, v in zip(g["instance"], g["predictive_value"]))
            rows.append(
                _row(
                    f,
                    sec,
                    f"{m} ({fill}): predictive value per reference instance ({per})",
                    round(float(g["predictive_value"].mean()), 2),
                    spread=spread(g["predictive_value"]),
                    digits=2,
                    key=metric_id("reference", f"layer{t.layer}", m, FILL_ID[mode], "predictive_value"),
                    source=src("curves", "value"),
                )
            )
        wide = p.pivot_table(index="instance", columns="ranking", values="predictive_value")
        if {"maxcorr", "meanmaxcorr"} <= set(wide.columns):
            pairs = wide[["meanmaxcorr", "maxcorr"]].dropna()
            v = paired_test(pairs["meanmaxcorr"], pairs["maxcorr"], "greater")
            rows.append(
                _row(
                    f,
                    sec,
                    f"MeanMaxCorr minus MaxCorr predictive value ({fill})",
                    round(v.effect.mean, 2),
                    "expected (docs/methods.md): MeanMaxCorr is the better ranking",
                    v,
                    v.effect,
                    2,
                    key=metric_id("reference", f"layer{t.layer}", "meanmaxcorr_minus_maxcorr", FILL_ID[mode]),
                    source=src("curves", "value"),
                )
            )
    return rows


def _metric(probing: pd.DataFrame, metric: str, group: str | None, prop: str, layer: int) -> pd.DataFrame:
    """The rows of one probing metric (all instances; every group when ``group`` is None)."""
    return probing[
        (probing["metric"] == metric)
        & ((probing["group"] == group) if group is not None else True)
        & (probing["property"] == prop)
        & (probing["layer"] == layer)
    ]


def _probing_spread_row(
    family: str,
    quantity: str,
    per_instance: pd.Series,
    key: str,
    *,
    bootstrap: str = "",
    probing: pd.DataFrame | None = None,
    at: tuple[str, int] | None = None,
    own: Spread | None = None,
) -> dict[str, Any]:
    """A descriptive probing row: the mean over instances of a per-instance value, with its spread (for one
    instance, with its sentence-bootstrap interval: ``bootstrap``, the metric of ``probing`` at ``at``'s property
    and layer; or ``own``, a spread that carries its own interval)."""
    values = per_instance.dropna()
    s = own if own is not None else spread(values)
    if bootstrap and probing is not None and at is not None:
        s = with_bootstrap(s, probing, bootstrap, *at)
    return _row(
        family,
        "probing",
        quantity,
        round(float(values.mean()), 2),
        spread=s,
        digits=2,
        key=key,
        source=src("probing", "value"),
    )


def bootstrap_rows(family: str, probing: pd.DataFrame, prop: str, layer: int) -> list[dict[str, Any]]:
    """Test-set sampling noise: each instance's 95 % sentence-bootstrap interval (1,000 resamples of the test
    sentences), of its probe accuracy and of its margin over the input-key lookup, as a half-width in points
    (mean over instances). None for a family of one instance: its accuracy and margin rows carry the interval."""
    rows = []
    where, at = f"{prop}, layer {layer}", metric_id("probe", prop, f"layer{layer}")
    for metric, what, name in (
        ("accuracy_bootstrap", "probe accuracy", "accuracy"),
        ("minus_majority_input_key_bootstrap", "probe minus the input-key lookup", "minus_majority_input_key"),
    ):
        low, high = (
            _by_instance(probing, metric, "low", prop, layer),
            _by_instance(probing, metric, "high", prop, layer),
        )
        if len(low) < 2:
            continue  # one instance: the accuracy and margin rows carry that interval themselves
        half = ((high - low) / 2).dropna()
        rows.append(
            _probing_spread_row(
                family,
                f"{where}: {what}, half-width of one instance's 95 % sentence-bootstrap interval (points)",
                half,
                f"{at}.{name}_bootstrap_half_width",
            )
        )
    return rows


def probe_seed_rows(family: str, probing: pd.DataFrame, prop: str, layer: int) -> list[dict[str, Any]]:
    """The optimiser's noise: each instance's probe refitted with other probe seeds (``probing.probe_seeds``).

    For the full-width accuracy and for the probe's own LCA top 10 % retrained: each instance's mean over
    probe seeds (interval over instances) and its sd over probe seeds (mean over instances, in points), so
    that a difference between rankings or lambdas can be read against the noise of refitting one probe.
    """
    rows = []
    where, at = f"{prop}, layer {layer}", metric_id("probe", prop, f"layer{layer}")
    for metric, what, name in (
        ("probe_seed_accuracy", "probe accuracy", "accuracy"),
        ("probe_seed_top10pct_retrain_accuracy", "retrained top 10% by the probe's own LCA", "top10pct_retrain"),
    ):
        t = _metric(probing, metric, None, prop, layer)
        if t.empty:
            continue
        per = t.groupby("instance")["value"]
        seeds = int(per.size().min())
        mean, sd = 100 * per.mean(), 100 * per.std(ddof=1)
        rows.append(
            _probing_spread_row(
                family,
                f"{where}: {what}, mean over {seeds} probe seeds (mean over instances)",
                mean,
                f"{at}.{name}_probe_seed_mean",
                bootstrap=f"{name}_seed_mean_bootstrap",
                probing=probing,
                at=(prop, layer),
            )
        )
        # One instance: the interval of its sd over its probe fits (chi-square), as none over instances exists.
        own = sd_interval(100 * t["value"].to_numpy()) if per.ngroups == 1 else None
        rows.append(
            _probing_spread_row(
                family,
                f"{where}: {what}, sd over {seeds} probe seeds (points; mean over instances)",
                sd,
                f"{at}.{name}_probe_seed_sd",
                own=with_own(spread(sd.dropna()), own, "probe seeds"),
            )
        )
    return rows


def _mean_metric(probing: pd.DataFrame, metric: str, group: str, prop: str, layer: int) -> float:
    """Mean over instances of one probing metric, in percent (nan when absent)."""
    v = _metric(probing, metric, group, prop, layer)["value"]
    return float(100 * v.mean()) if len(v) else float("nan")


def _by_instance(probing: pd.DataFrame, metric: str, group: str, prop: str, layer: int) -> pd.Series:
    """One probing metric per instance, in percent (the unit of every paired test)."""
    v = _metric(probing, metric, group, prop, layer)
    if "instance" not in v or v.empty:
        return pd.Series(dtype=float)
    return 100 * v.groupby("instance")["value"].mean()


def with_bootstrap(
    s: Spread | Verdict | None, probing: pd.DataFrame, metric: str, prop: str, layer: int
) -> Spread | None:
    """``s`` (or a verdict's effect) as is, or, for a single instance, with that instance's 95 % sentence-bootstrap
    interval of the same quantity (``metric``'s low and high rows of the probing table, in percent): a family of
    one instance has no interval over instances, but its test set's sampling noise is still measured."""
    base = s.effect if isinstance(s, Verdict) else s
    if base is None or base.n != 1:
        return base
    low, high = _by_instance(probing, metric, "low", prop, layer), _by_instance(probing, metric, "high", prop, layer)
    return with_own(base, (low.iloc[0], high.iloc[0]) if len(low) == 1 and len(high) == 1 else None)


def _paired(a: pd.Series, b: pd.Series, direction: str = "greater") -> Verdict | None:
    """Paired test of ``a`` against ``b`` over the instances both have (None when they share none)."""
    pairs = pd.concat({"a": a, "b": b}, axis=1).dropna()
    return paired_test(pairs["a"], pairs["b"], direction) if len(pairs) else None


def _vs(a: pd.Series, b: pd.Series | float, against: str) -> Verdict | None:
    """Does ``a`` differ from ``b`` (paired by instance, or against one value)? Two-sided, no expected direction;
    ``against`` names ``b`` in the row's sentence. None when no instance has both."""
    if not isinstance(b, pd.Series):
        values = a.dropna().to_numpy()
        return compare(values, float(b), against) if len(values) else None
    pairs = pd.concat({"a": a, "b": b}, axis=1).dropna()
    return compare(pairs["a"].to_numpy(), pairs["b"].to_numpy(), against) if len(pairs) else None


def _pct(v: float) -> str:
    return "n/a" if np.isnan(v) else f"{v:.1f}"


NO_F1_BOUNDS = "its training metrics predate the F1 interval (retrain to record it)"
"""Why a model's chunk F1 row has no interval (it is used only when the metrics hold no bounds)."""


def f1_spread(test: Mapping[str, Any]) -> Spread | None:
    """One model's chunk F1 with its 95 % sentence-bootstrap interval (``f1_low``/``f1_high`` of its training
    metrics, written since the interval was added; None for older metrics, which then show no interval)."""
    if "f1_low" not in test or not np.isfinite([test["f1_low"], test["f1_high"]]).all():
        return None
    f1 = float(test["f1"])
    return Spread(f1, math.nan, f1, f1, 1, bootstrap=(float(test["f1_low"]), float(test["f1_high"])))


def probing_rows(
    family: str,
    probing: pd.DataFrame,
    train_metrics: Sequence[Mapping[str, Any]] = (),
    curves: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Probing rows: every probe accuracy beside what it must be compared with, each verdict naming its comparison.

    Per (property, layer), means over instances: the probe against the per-word
    majority baseline and the untrained model's probe; selectivity against the
    untrained model's; accuracy on in- vs out-of-vocabulary tokens (and, for
    POS, open vs closed class on in-vocabulary tokens); the chosen lambdas
    beside the paper's default pair. For a trained family's top layer (the
    input of the tagger's linear head) the chunk probe beside the tagger's own
    token accuracy, each seed's difference with its sentence-bootstrap interval where model ablation measured it
    on the same test tokens (``curves``).
    """
    rows: list[dict[str, Any]] = []
    acc = probing[(probing["metric"] == "accuracy") & (probing["group"] == "overall")]
    for prop, layer in acc.groupby(["property", "layer"]).groups:
        m = lambda metric, group="overall": _mean_metric(probing, metric, group, prop, layer)  # noqa: E731
        where = f"{prop}, layer {layer}"
        at = metric_id("probe", prop, f"layer{layer}")
        probe, majority, untrained = m("accuracy"), m("majority_baseline"), m("untrained_accuracy")
        each = lambda metric, group="overall": _by_instance(probing, metric, group, prop, layer)  # noqa: E731
        boot = lambda s, metric: with_bootstrap(s, probing, metric, prop, layer)  # noqa: E731
        rows.append(
            _row(
                family,
                "probing",
                f"{where}: probe accuracy (mean over instances)",
                round(probe, 2),
                spread=boot(spread(each("accuracy")), "accuracy_bootstrap"),
                digits=2,
                key=f"{at}.accuracy",
                source=src("probing", "value"),
                see=f"{at}.accuracy_minus_majority",
            )
        )
        rows.append(
            _row(
                family,
                "probing",
                f"{where}: probe / per-word majority baseline / untrained-model probe (accuracy)",
                f"{_pct(probe)} / {_pct(majority)} / {_pct(untrained)}",
                spread=boot(spread(each("accuracy")), "accuracy_bootstrap"),
                digits=2,
                key=f"{at}.accuracy_probe_majority_untrained",
                source=src("probing", "value"),
                see=f"{at}.accuracy_minus_majority",
            )
        )
        rows += probe_seed_rows(family, probing, prop, layer)
        rows += bootstrap_rows(family, probing, prop, layer)
        # Each instance's accuracy is its mean over probe seeds when there are several (the optimiser's noise
        # averaged before the instances are compared).
        seeded = _metric(probing, "probe_seed_accuracy", None, prop, layer)
        accuracy = 100 * seeded.groupby("instance")["value"].mean() if len(seeded) else each("accuracy")
        v = _paired(accuracy, each("majority_baseline"))
        if v is not None:
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: probe minus per-word majority baseline (points; each instance's mean over probe seeds "
                    "where it has several)",
                    round(v.effect.mean, 2),
                    "the property is encoded beyond a word-identity lookup only if the probe beats the per-word majority tagger on the same test tokens",
                    v,
                    boot(v, "minus_majority_bootstrap"),
                    2,
                    key=f"{at}.accuracy_minus_majority",
                    source=src("probing", "value"),
                )
            )
        v = _paired(accuracy, each("majority_baseline_input_key"))
        if v is not None:
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: probe minus per-word majority baseline keyed on the model's input (points; "
                    f"the baseline {_pct(m('majority_baseline_input_key'))} on input keys, "
                    f"{_pct(majority)} on raw words)",
                    round(v.effect.mean, 2),
                    "a linear probe reads the property beyond what a lookup of the model's own input gives",
                    v,
                    boot(v, "minus_majority_input_key_bootstrap"),
                    digits=2,
                    key=f"{at}.accuracy_minus_majority_input_key",
                    source=src("probing", "value"),
                )
            )
        v = _paired(accuracy, each("untrained_accuracy"))
        if v is not None:
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: probe minus untrained-model probe (points)",
                    round(v.effect.mean, 2),
                    "learned, not just the input: the trained model's probe beats the same probe on the same architecture at random init",
                    v,
                    boot(v, "minus_untrained_bootstrap"),
                    2,
                    key=f"{at}.accuracy_minus_untrained",
                    source=src("probing", "value"),
                )
            )
        v = _paired(each("accuracy"), each("fixed_budget_accuracy"))
        if v is not None:
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: probe solved to tolerance (chosen lambdas) minus the fixed-budget Adam probe of earlier "
                    "versions (paper's lambdas) (points)",
                    round(v.effect.mean, 2),
                    "the finding tested: the solved probe beats the fixed-budget one on the same test tokens, per instance",
                    v,
                    boot(v, "solved_minus_fixed_budget_bootstrap"),
                    2,
                    key=f"{at}.accuracy_solved_minus_fixed_budget",
                    source=src("probing", "value"),
                    no_interval="the probe tables predate the sentence bootstrap of this difference: rerun the probe "
                    "jobs",
                )
            )
        conv = each("solver_converged", "") / 100  # each() gives percent; this metric is 0/1 per instance
        if len(conv):
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: probes that reached the solver's tolerance (not its iteration cap)",
                    f"{int(conv.sum())} / {len(conv)}",
                    spread=spread(conv),
                    key=f"{at}.probes_converged",
                    source=src("probing", "value"),
                    no_interval="a count of the fits that converged, not an estimate",
                )
            )
        sel, u_sel = m("selectivity"), m("untrained_selectivity")
        v = _paired(each("selectivity"), each("untrained_selectivity"))
        rows.append(
            _row(
                family,
                "probing",
                f"{where}: selectivity (vs control task keyed on the model's input) / untrained model's "
                + ("(interval and test: trained minus untrained)" if v is not None else "(interval: the selectivity)"),
                f"{_pct(sel)} / {_pct(u_sel)}",
                "Hewitt & Liang: the trained model's probe is more selective than the untrained model's"
                if v is not None
                else "",
                v,
                # The interval of what is tested (trained minus untrained): over instances, or for one instance
                # over its test sentences.
                boot(v, "selectivity_minus_untrained_bootstrap")
                if v is not None
                else boot(spread(each("selectivity")), "selectivity_bootstrap"),
                2,
                key=f"{at}.selectivity_trained_untrained",
                source=src("probing", "value"),
            )
        )
        iv, oov, share = m("accuracy", "in_vocab"), m("accuracy", "oov"), m("oov_share")
        if not np.isnan(iv):
            unk_oov = m("unk_trained_accuracy", "oov")
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: accuracy on in-vocabulary / out-of-vocabulary tokens (OOV share of test {_pct(share)}%; "
                    "interval and test: in-vocabulary minus OOV)",
                    f"{_pct(iv)} / {_pct(oov)}",
                    agrees=(
                        v := _vs(each("accuracy", "in_vocab"), each("accuracy", "oov"), "the accuracy on OOV tokens")
                    ),
                    spread=boot(v, "in_vocab_minus_oov_bootstrap"),
                    digits=2,
                    key=f"{at}.accuracy_in_vocab_oov",
                    no_interval=NO_OOV if np.isnan(oov) else "",
                    source=src("probing", "value"),
                )
            )
            lookup_iv, lookup_oov = m("majority_baseline", "in_vocab"), m("majority_baseline", "oov")
            if not np.isnan(lookup_iv):
                rows.append(
                    _row(
                        family,
                        "probing",
                        f"{where}: probe minus per-word majority baseline on in-vocabulary / out-of-vocabulary "
                        "tokens (points; where the gap to the lookup lives; interval and test: the OOV margin minus "
                        "the in-vocabulary one)",
                        " / ".join("n/a" if np.isnan(v) else f"{v:+.1f}" for v in (iv - lookup_iv, oov - lookup_oov)),
                        agrees=(
                            v := _vs(
                                each("accuracy", "oov") - each("majority_baseline", "oov"),
                                each("accuracy", "in_vocab") - each("majority_baseline", "in_vocab"),
                                "the margin over the lookup on in-vocabulary tokens",
                            )
                        ),
                        spread=boot(v, "oov_minus_in_vocab_margin_bootstrap"),
                        digits=2,
                        key=f"{at}.accuracy_minus_majority_in_vocab_oov",
                        no_interval=NO_OOV if np.isnan(oov) else "",
                        source=src("probing", "value"),
                    )
                )
            if not np.isnan(unk_oov):
                gap = each("accuracy", "in_vocab") - each("accuracy", "oov")
                unk_gap = each("unk_trained_accuracy", "in_vocab") - each("unk_trained_accuracy", "oov")
                rows.append(
                    _row(
                        family,
                        "probing",
                        f"{where}: OOV gap (in-vocab minus OOV accuracy), probe trained without / with <unk> inputs",
                        f"{_pct(iv - oov)} / {_pct(m('unk_trained_accuracy', 'in_vocab') - unk_oov)}",
                        "showing the probe <unk> during training narrows the OOV gap",
                        _paired(gap, unk_gap),
                        spread(gap - unk_gap),
                        2,
                        key=f"{at}.oov_gap_without_with_unk",
                        source=src("probing", "value"),
                    )
                )
            if prop == "pos":
                rows.append(
                    _row(
                        family,
                        "probing",
                        f"{where}: open / closed class accuracy, all tokens | in-vocabulary tokens (interval and "
                        "test: open minus closed on in-vocabulary tokens)",
                        f"{_pct(m('accuracy', 'open'))} / {_pct(m('accuracy', 'closed'))} | {_pct(m('accuracy', 'open_in_vocab'))} / {_pct(m('accuracy', 'closed_in_vocab'))}",
                        "unknown words are all open-class: compare open vs closed on in-vocabulary tokens",
                        (
                            v := _vs(
                                each("accuracy", "open_in_vocab"),
                                each("accuracy", "closed_in_vocab"),
                                "closed-class accuracy on in-vocabulary tokens",
                            )
                        ),
                        boot(v, "open_minus_closed_in_vocab_bootstrap"),
                        digits=2,
                        key=f"{at}.accuracy_open_closed",
                        source=src("probing", "value"),
                    )
                )
        l1 = probing[(probing["metric"] == "l1") & (probing["property"] == prop) & (probing["layer"] == layer)]["value"]
        l2 = probing[(probing["metric"] == "l2") & (probing["property"] == prop) & (probing["layer"] == layer)]["value"]
        if len(l1) and len(l2):
            a, b = float(l1.iloc[0]), float(l2.iloc[0])
            note = " (unregularised: no penalised pair was within tolerance)" if a == 0 and b == 0 else ""
            paper = m("paper_default_accuracy")
            top_sel, top_paper = (
                m("top10pct_retrain_accuracy", "selected"),
                m("top10pct_retrain_accuracy", "paper_default"),
            )
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: chosen (l1, l2) = ({a:g}, {b:g}){note} vs paper default (1e-05, 1e-05): accuracy "
                    "(interval and test: chosen minus paper)",
                    f"{_pct(probe)} / {_pct(paper)}",
                    agrees=(v := _vs(each("accuracy"), each("paper_default_accuracy"), "the paper's lambdas")),
                    spread=boot(v, "chosen_minus_paper_bootstrap"),
                    digits=2,
                    key=f"{at}.accuracy_chosen_vs_paper_lambdas",
                    source=src("probing", "value"),
                )
            )
            rows.append(
                _row(
                    family,
                    "probing",
                    f"{where}: retrained top-10% LCA neurons, chosen vs paper-default lambdas (accuracy; interval "
                    "and test: chosen minus paper)",
                    f"{_pct(top_sel)} / {_pct(top_paper)}",
                    agrees=(
                        v := _vs(
                            each("top10pct_retrain_accuracy", "selected"),
                            each("top10pct_retrain_accuracy", "paper_default"),
                            "the paper's lambdas",
                        )
                    ),
                    spread=boot(v, "top10_chosen_minus_paper_bootstrap"),
                    digits=2,
                    key=f"{at}.top10_retrain_chosen_vs_paper_lambdas",
                    source=src("probing", "value"),
                )
            )
    pairs: dict[str, tuple[float, float]] = {}
    tops = {len(tm.get("layer_dims") or []) - 1 for tm in train_metrics}
    if len(tops) != 1:  # no seeds, or seeds of different depths: no common head layer to compare at
        return rows
    top = tops.pop()
    for tm in train_metrics:
        probe = (
            _mean_metric(probing[probing["instance"] == f"seed{tm['seed']}"], "accuracy", "overall", "chunk", top)
            if "instance" in probing
            else float("nan")
        )
        tagger = float(tm["test"].get("token_accuracy", float("nan")))
        if top >= 1 and not np.isnan(probe):
            pairs[f"seed{tm['seed']}"] = (probe, tagger)
    tested = metric_id("probe", "chunk", f"layer{top}", "minus_tagger_accuracy")
    own = pd.DataFrame(columns=["low", "high"])
    if curves is not None and {"mode", "layer", "metric"} <= set(curves.columns):
        at_top = curves[(curves["mode"] == "model") & (curves["layer"] == top)]
        own = bounds_by_instance(at_top, f"{PROBE_MINUS_TAGGER}_low", f"{PROBE_MINUS_TAGGER}_high")
    for inst, (probe, tagger) in pairs.items():
        bounds = own.loc[[inst]] if inst in own.index else own.iloc[:0]
        rows.append(
            _row(
                family,
                "probing",
                f"chunk probe on layer {top} (the tagger head's input) / tagger's own token accuracy, seed "
                f"{inst.removeprefix('seed')}" + (" (interval: probe minus tagger, points)" if len(bounds) else ""),
                f"{probe:.2f} / {tagger:.2f}",
                "same capacity as the tagger's linear head: within 1 point",
                None if len(pairs) > 1 else bool(abs(probe - tagger) <= TAGGER_MARGIN),
                with_bounds(spread([probe - tagger]), bounds),
                digits=2,
                key=metric_id("probe", "chunk", f"layer{top}", inst, "accuracy_vs_tagger"),
                source=[
                    src("probing", "value"),
                    src("train_metrics", "test.token_accuracy", item=inst),
                    *([src("curves", "value")] if len(bounds) else []),
                ],
                no_interval="model ablation wrote no per-token comparison: it compares them for a tagger trained "
                "here, at its top layer, when chunk_lca is among its rankings (tables from before that: rerun it)"
                + (f" (row {tested} has the interval over seeds)" if len(pairs) > 1 else ""),
            )
        )
    if len(pairs) > 1:
        probe_acc = pd.Series({i: p for i, (p, _) in pairs.items()})
        tagger_acc = pd.Series({i: a for i, (_, a) in pairs.items()})
        v = equivalence_test(probe_acc, tagger_acc, TAGGER_MARGIN)
        rows.append(
            _row(
                family,
                "probing",
                f"chunk probe on layer {top} minus the tagger's own token accuracy (points; the probe has the "
                f"capacity of the tagger's linear head), equivalent within ±{TAGGER_MARGIN:g} points",
                round(v.effect.mean, 2),
                "same capacity as the tagger's linear head: within 1 point",
                v,
                digits=2,
                key=tested,
                source=[src("probing", "value"), src("train_metrics", "test.token_accuracy")],
            )
        )
    return rows


TAGGER_MARGIN = 1.0
"""Points within which a chunk probe on the tagger head's input should match the tagger's own token accuracy."""


def ranking_comparison_rows(
    family: str, curves: pd.DataFrame, layer: int, prop: str, pct: float = 10
) -> list[dict[str, Any]]:
    """Ranking against ranking, from retraining curves only (never from masking, which favours LCA's own probe).

    For each ranking, the accuracy of a probe retrained on its top ``pct``% of
    neurons against retrained probes on random selections of the same size,
    paired by instance. A ranking with no selection of that size (the oracle's first K neurons end below it)
    has no row: it is never compared with random at another k.
    """
    c = curves[
        (curves["layer"] == layer)
        & (curves["property"] == prop)
        & (curves["mode"] == "retrain")
        & (curves["metric"] == "accuracy_overall")
    ]
    if c.empty:
        return []
    rnd = kept_per_instance(c, layer, prop, "retrain", "random", pct)
    at_k = set(_at_percent(c[c["direction"] == "random"], pct)["k_percent"])
    rows = []
    for ranking in sorted(set(c.loc[c["direction"] == "top", "ranking"])):
        mine = c[(c["direction"] == "top") & (c["ranking"] == ranking)]
        if at_k and not set(_at_percent(mine, pct)["k_percent"]) <= at_k:
            continue  # a ranking that stops short of this k (the oracle's first K): never compared at unequal k
        top = kept_per_instance(c, layer, prop, "retrain", "top", pct, ranking=ranking)
        v = _paired(top, rnd)
        rows.append(
            _row(
                family,
                "ablation (probe)",
                f"{prop}, layer {layer}: retrained on the top {pct:g}% by {ranking} / on random {pct:g}% (accuracy, mean over instances; "
                f"interval and test: top minus random{seeds_note(c, pct)})",
                f"{_pm(top)} / {_pm(rnd)}",
                "a ranking finds informative neurons if its retrained top beats random ones (retrained, same budget)",
                v,
                # One instance: the interval of what the row says it tests, top minus random, over test sentences.
                with_bounds(v, gap_bounds(curves, layer, prop, pct, "random", ranking))
                if top.size == 1
                else spread(top),
                1,
                key=metric_id(
                    "probe_ablation", prop, f"layer{layer}", "retrain", f"keep{pct:g}", f"{ranking}_vs_random"
                ),
                source=src("curves", "value"),
            )
        )
    return rows


def calibration_rows(family: str, curves: pd.DataFrame, layer: int, prop: str) -> list[dict[str, Any]]:
    """Where each ranking sits between random neurons and the greedy oracle: its calibrated area over absolute k.

    The area (0 = random, 1 = oracle; over log2 k up to the oracle's K, retrained probes) per instance,
    with its spread and a paired test of "above random" (area > 0); and whether the oracle was at least as
    good as every ranking on its own selection split (if not, the oracle, not the ranking, is at fault).
    """
    c = curves[(curves["layer"] == layer) & (curves["property"] == prop)]
    if ORACLE not in set(c["ranking"]):
        return []
    oracle_k = c.loc[(c["ranking"] == ORACLE) & (c["mode"] == "retrain"), "k"].max()
    areas = calibrated_areas(c, mode="retrain")  # only the k the oracle reaches count there
    trivial = areas[areas["ranking"].isin(TRIVIAL_RANKINGS)]
    best_trivial = trivial.groupby("instance")["area"].max() if not trivial.empty else None
    rows = []
    for ranking, g in areas.groupby("ranking", sort=False):
        a = g.set_index("instance")["area"].dropna()
        if a.empty:
            continue
        # One instance: the interval of its area (and of its margin over the trivial rankings) over test sentences.
        mine = c[(c["ranking"] == ranking) & (c["mode"] == "retrain")]
        own = lambda stem: bounds_by_instance(mine, f"{stem}_low", f"{stem}_high", scale=1.0)  # noqa: E731
        rows.append(
            _row(
                family,
                "ablation (probe)",
                f"{prop}, layer {layer}: calibrated area of {ranking} (retrained top k, k = 1..{int(oracle_k)}; "
                "0 = random k, 1 = greedy oracle)",
                _pm(a, 2),
                "a ranking that finds informative neurons sits above random (area > 0); 1 matches the oracle",
                _paired(a, pd.Series(0.0, index=a.index)),
                with_bounds(spread(a), own("calibrated_area")),
                2,
                key=metric_id("probe_ablation", prop, f"layer{layer}", "retrain", ranking, "calibrated_area"),
                source=src("curves", "value"),
            )
        )
        if best_trivial is not None and ranking not in TRIVIAL_RANKINGS:
            gap = (a - best_trivial).dropna()
            rows.append(
                _row(
                    family,
                    "ablation (probe)",
                    f"{prop}, layer {layer}: calibrated area of {ranking} minus the best trivial baseline's "
                    f"({', '.join(r for r in TRIVIAL_RANKINGS if r in set(trivial['ranking']))}; per instance)",
                    _pm(gap, 2),
                    "a ranking worth trusting beats the rankings that see no labels, not only random",
                    _paired(a, best_trivial),
                    with_bounds(spread(gap), own("area_vs_trivial")),
                    2,
                    key=metric_id("probe_ablation", prop, f"layer{layer}", "retrain", ranking, "area_vs_trivial"),
                    source=src("curves", "value"),
                )
            )
    check = c[c["mode"] == PROXY_MODE]
    if not check.empty:
        bad = oracle_violations(check)
        points = check[check["ranking"] == ORACLE]
        if "oracle_source" in points:
            taken = points[points["oracle_source"].notna() & (points["oracle_source"] != GREEDY)]
            source = (
                f"; the greedy search's own first k at {len(points) - len(taken)} of {len(points)} (instance, k), "
                f"a ranking's top k that scored higher there at {len(taken)}"
            )
        else:
            source = ""
        rows.append(
            _row(
                family,
                "ablation (probe)",
                f"{prop}, layer {layer}: the oracle is at least as good as every ranking on its selection split "
                f"(proxy accuracy, {check['k'].nunique()} k x {check['ranking'].nunique() - 1} rankings x "
                f"{check['instance'].nunique()} instances; exceptions: {len(bad)}{source})",
                "yes" if bad.empty else "no",
                "required of an oracle: a ranking above it means the greedy search failed",
                None,  # a check of the reference, not a finding: no verdict
                key=metric_id("probe_ablation", prop, f"layer{layer}", "oracle_check"),
                untested="a check over every k, ranking and instance, not a statistical test",
                no_interval="a yes/no check over every k, ranking and instance",
                source=src("curves", "value"),
            )
        )
    return rows


#: Names of the punctuation in POS and chunk labels, for metric ids (``,`` -> ``comma``, ``PRP$`` -> ``prp_dollar``).
PUNCTUATION_NAMES = {
    ",": "comma",
    ".": "period",
    ":": "colon",
    "$": "dollar",
    "#": "hash",
    "(": "lparen",
    ")": "rparen",
    "`": "backtick",
    "'": "quote",
    "-": "_",
}


SPLIT_SECTION = "ablation (split halves)"


def split_half_rows(family: str, curves: pd.DataFrame, layer: int, prop: str) -> list[dict[str, Any]]:
    """Ranking and evaluation separated: per ranking, its top-k probes retrained on half B when it was fitted on
    half A (separated) minus when fitted on half B itself (the usual path), mean over the interior k grid, and the
    separated ranking against random k retrained on half B, both tested over instances (two-sided)."""
    modes = set(SPLIT_MODES.values())
    c = curves[
        curves["mode"].isin(modes)
        & (curves["layer"] == layer)
        & (curves["property"] == prop)
        & (curves["metric"] == "accuracy_overall")
    ]
    if c.empty:
        return []
    c = _interior(c).assign(value=lambda d: 100 * d["value"])
    rnd = c[(c["direction"] == "random") & (c["mode"] == SPLIT_MODES["split"])]
    rows: list[dict[str, Any]] = []

    def own(v: Verdict, name: str, stem: str) -> Spread | None:
        """One instance: its sentence-bootstrap interval of the same comparison (rows ``<stem>_low``/``high``)."""
        mine = curves[
            (curves["mode"] == SPLIT_MODES["split"])
            & (curves["layer"] == layer)
            & (curves["property"] == prop)
            & (curves["ranking"] == name)
        ]
        return with_bounds(v, bounds_by_instance(mine, f"{stem}_low", f"{stem}_high"))

    for name in [r for r in RANKING_NAMES if r in set(c["ranking"])]:
        g = c[(c["ranking"] == name) & (c["direction"] == "top")]
        at = metric_id("split_half", prop, f"layer{layer}", name)
        label = f"{prop}, layer {layer}, {registry_ranking(name).label}: retrained top-k accuracy on half B"
        v = paired_verdict(g, "mode", SPLIT_MODES["split"], SPLIT_MODES["same"], "less")
        rows.append(
            _row(
                family,
                SPLIT_SECTION,
                f"{label}, ranked on half A minus ranked on half B, mean over the k grid (points)",
                round(v.effect.mean, 2),
                "a ranking evaluated on the tokens it was fitted on can look better than it is (Antverg & Belinkov)",
                v,
                own(v, name, "separated_minus_same"),
                2,
                key=f"{at}.separated_minus_same",
                source=src("curves", "value"),
            )
        )
        split = pd.concat([g[g["mode"] == SPLIT_MODES["split"]], rnd])
        v = paired_verdict(split, "direction", "top", "random", "greater")
        rows.append(
            _row(
                family,
                SPLIT_SECTION,
                f"{label}, ranked on half A, minus random k, mean over the k grid (points)",
                round(v.effect.mean, 2),
                "with ranking and evaluation separated, the ranking still beats random neurons",
                v,
                own(v, name, "separated_minus_random"),
                2,
                key=f"{at}.separated_minus_random",
                source=src("curves", "value"),
            )
        )
    return rows


def label_slug(label: str) -> str:
    """A label as an id part: punctuation named (``,`` -> ``comma``), other characters outside [a-z0-9_] as hex."""
    out = [
        c if re.fullmatch(r"[a-z0-9_]", c) else f"_{PUNCTUATION_NAMES.get(c, f'x{ord(c):x}')}_"
        for c in str(label).lower()
    ]
    return re.sub(r"_+", "_", "".join(out)).strip("_") or "empty"


def label_focus_rows(family: str, curves: pd.DataFrame, layer: int, prop: str) -> list[dict[str, Any]]:
    """Per-label focus tests: one-vs-rest F1 with the label's own top k neurons against random k and against
    another label's top k (mean over k = 1..max_k, per instance; paired tests over instances)."""
    c = curves[(curves["mode"] == LABEL_MODE) & (curves["layer"] == layer) & (curves["property"] == prop)]
    bounds = c[~c["metric"].str.startswith("f1:")]  # each instance's bootstrap bounds (label_focus)
    c = c[c["metric"].str.startswith("f1:")]
    rows: list[dict[str, Any]] = []
    for metric, g in c.groupby("metric", sort=False):
        label = str(metric).split(":", 1)[1]

        def own_interval(v: Verdict | None, suffix: str, label: str = label) -> Spread | None:
            """One instance: its sentence-bootstrap interval of own minus the other (points)."""
            return with_bounds(v, bounds_by_instance(bounds, f"f1_{suffix}_low:{label}", f"f1_{suffix}_high:{label}"))

        per = lambda sel: 100 * g[sel].groupby("instance")["value"].mean()  # noqa: E731
        own_f1 = per(g["ranking"] == "own")
        rnd = per(g["direction"] == "random")
        other_name = next((r for r in g["ranking"].unique() if str(r).startswith("other:")), None)
        other = per(g["ranking"] == other_name) if other_name else pd.Series(dtype=float)
        ks = f"k = 1..{int(g['k'].max())}"
        base = metric_id("labels", prop, f"layer{layer}", label_slug(label))
        comparisons = [
            ("random k", rnd, "paper: a focused label is served by a few neurons of its own", "own_vs_random")
        ]
        if other_name:
            who = other_name.split(":", 1)[1]
            comparisons.append(
                (
                    f"{who!r}'s top k",
                    other,
                    "a label's own neurons serve it better than another label's",
                    "own_vs_other",
                )
            )
        for what, ref, finding, suffix in comparisons:
            rows.append(
                _row(
                    family,
                    "labels",
                    f"{prop} label {label!r}, layer {layer}: one-vs-rest F1 with its own top k neurons / with {what} "
                    f"({ks}, mean; interval and test: own minus the other)",
                    f"{_pm(own_f1)} / {_pm(ref)}",
                    finding,
                    (v := _paired(own_f1, ref)),
                    own_interval(v, suffix) if len(own_f1) == 1 else spread(own_f1),
                    1,
                    key=f"{base}.{suffix}",
                    source=src("curves", "value"),
                )
            )
    return rows


def open_class_effect(labels: pd.DataFrame) -> dict[str, float]:
    """How many more neurons an open-class label needs than a closed-class one of the same training frequency.

    Least squares of log2(neurons needed) on an intercept, log10(training count + 1) and the open-class
    indicator, over the labels of one instance: the indicator's coefficient is the log2 ratio of neurons needed
    at equal frequency (0: none; 1: open-class labels need twice as many). Closed-class labels are rarer, so
    the raw medians mix class with frequency. Also the Spearman correlation of neurons needed with frequency,
    and the raw medians. Written by hand: three columns of least squares need no statistics package.
    """
    from scipy.stats import spearmanr

    lab = labels.dropna(subset=["open_class"])
    is_open = lab["open_class"].astype(bool).to_numpy()
    needed = lab["neurons_needed"].to_numpy(np.float64)
    count = lab["train_count"].to_numpy(np.float64)
    out = {
        "median_open": float(np.median(needed[is_open])) if is_open.any() else math.nan,
        "median_closed": float(np.median(needed[~is_open])) if (~is_open).any() else math.nan,
        "spearman_frequency": float(spearmanr(needed, count).statistic) if len(lab) > 2 else math.nan,
        "open_log2_ratio": math.nan,
    }
    if is_open.sum() >= 2 and (~is_open).sum() >= 2:
        design = np.column_stack([np.ones(len(lab)), np.log10(count + 1), is_open.astype(np.float64)])
        coef, *_ = np.linalg.lstsq(design, np.log2(np.maximum(needed, 1)), rcond=None)
        out["open_log2_ratio"] = float(coef[2])
    return out


def open_class_effect_bootstrap(
    labels: pd.DataFrame, resamples: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of :func:`open_class_effect`'s numbers over labels resampled with replacement
    (a case bootstrap of one instance's labels: the uncertainty of which labels a tag set happens to have), for
    the open minus closed median (``median_gap``), the Spearman with frequency and the open-class log2 ratio.
    Seeded; a resample with fewer than two labels of a class gives NaN there (dropped by the percentile)."""
    lab = labels.dropna(subset=["open_class"]).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {"median_gap": [], "spearman_frequency": [], "open_log2_ratio": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant resample's Spearman is NaN, by design
        for _ in range(resamples):
            e = open_class_effect(lab.iloc[rng.integers(0, len(lab), len(lab))])
            draws["median_gap"].append(e["median_open"] - e["median_closed"])
            draws["spearman_frequency"].append(e["spearman_frequency"])
            draws["open_log2_ratio"].append(e["open_log2_ratio"])
    return {k: percentile_interval(np.asarray(v)) for k, v in draws.items()}


def distributedness_rows(family: str, labels: pd.DataFrame, layer: int, prop: str) -> list[dict[str, Any]]:
    """Neurons needed per label, open against closed class, in every instance: the raw medians, their
    correlation with label frequency, and the open-class effect at equal frequency (tested over instances)."""
    if "open_class" not in labels or labels["open_class"].isna().all():
        return []
    if "instance" not in labels:
        labels = labels.assign(instance="")
    each = pd.DataFrame(
        [{"instance": i, **open_class_effect(g)} for i, g in labels.groupby("instance", sort=True)]
    ).set_index("instance")
    sec, where = "distributedness", f"layer {layer}, {prop}"
    at = metric_id("labels", prop, f"layer{layer}")
    # One instance: intervals over its labels resampled (no interval over instances exists).
    boot = open_class_effect_bootstrap(labels) if len(each) == 1 else {}

    def over_labels(s: Spread | Verdict | None, name: str) -> Spread | None:
        return with_own(s, boot.get(name), "labels")

    spearman = _vs(each["spearman_frequency"], 0.0, "0 (no relation to frequency)")
    ratio = paired_test(each["open_log2_ratio"].to_numpy(), np.zeros(len(each)), "greater")
    return [
        _row(
            family,
            sec,
            f"median neurons needed per label (open / closed class), {where}, mean over instances "
            "(interval: open minus closed)",
            f"{each['median_open'].mean():.0f} / {each['median_closed'].mean():.0f}",
            "paper: closed-class labels need few neurons, open-class many",
            spread=over_labels(spread(each["median_open"] - each["median_closed"]), "median_gap"),
            digits=1,
            key=f"{at}.neurons_needed_open_closed",
            source=src("labels", "neurons_needed", "open_class"),
            see=f"{at}.open_minus_closed_at_equal_frequency",
        ),
        _row(
            family,
            sec,
            f"Spearman of neurons needed with the label's training frequency, {where} (the confound of the raw medians)",
            round(float(each["spearman_frequency"].mean()), 2),
            agrees=spearman,
            spread=over_labels(spearman, "spearman_frequency"),
            digits=2,
            key=f"{at}.neurons_needed_frequency_spearman",
            source=src("labels", "neurons_needed", "train_count"),
        ),
        _row(
            family,
            sec,
            f"open- vs closed-class neurons needed at equal training frequency, {where} "
            "(log2 ratio from least squares on log frequency and class, per instance)",
            round(float(each["open_log2_ratio"].mean()), 2),
            "paper: closed-class labels need few neurons, open-class many",
            ratio,
            over_labels(ratio, "open_log2_ratio"),
            digits=2,
            key=f"{at}.open_minus_closed_at_equal_frequency",
            source=src("labels", "neurons_needed", "open_class", "train_count"),
        ),
    ]


def family_summary(t: FamilyTables) -> list[dict[str, Any]]:
    """The summary rows of one family, each with its id (unique within the family) and logical source."""
    rows: list[dict[str, Any]] = []
    f = t.name
    for m in t.train_metrics:
        rows.append(
            _row(
                f,
                "end task",
                f"chunk F1, seed {m['seed']}",
                round(m["test"]["f1"], 2),
                "word-only BiLSTM taggers: about 89-93 F1",
                spread=f1_spread(m["test"]),
                digits=2,
                key=metric_id("task", f"seed{m['seed']}", "chunk_f1"),
                no_interval=NO_F1_BOUNDS,
                source=src("train_metrics", "test.f1", item=f"seed{m['seed']}"),
            )
        )
    rows += end_task_rows(t)
    if t.probing is not None:
        rows.extend(probing_rows(f, t.probing, t.train_metrics, t.curves))
    rows += probe_ablation_rows(t)
    rows += pool_rows(t)
    if t.curves is not None:
        rows.extend(ranking_comparison_rows(f, t.curves, t.layer, t.prop))
        rows.extend(calibration_rows(f, t.curves, t.layer, t.prop))
        rows.extend(label_focus_rows(f, t.curves, t.layer, t.prop))
        rows.extend(split_half_rows(f, t.curves, t.layer, t.prop))
    if t.labels is not None:
        rows.extend(distributedness_rows(f, t.labels, t.layer, t.prop))
    rows += model_ablation_rows(t)
    rows += correlation_rows(t)
    rows += twin_rows(t)
    rows += reference_rows(t)
    if t.overlap is not None and not t.overlap.empty:
        rows.extend(overlap_summary(f, t.overlap, alpha=t.alpha))
    if t.neurons is not None and not t.neurons.empty:
        rows.extend(neuron_summary(f, t.neurons))
    rows = finalize(rows, t.alpha)
    seen: dict[str, int] = {}
    for r in rows:
        seen[r["id"]] = seen.get(r["id"], 0) + 1
    repeated = sorted(k for k, n in seen.items() if n > 1)
    if repeated:
        raise ValueError(f"family {f!r}: summary ids must be unique, repeated: {repeated}")
    return rows


def neuron_summary(
    family: str, neurons: pd.DataFrame, rankings: Sequence[str] = ("maxcorr", "meanmaxcorr")
) -> list[dict[str, Any]]:
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
        rows.append(
            _row(
                family,
                "CCA vs LCA",
                quantity,
                f"{listed}; #1 neuron {first['neuron']}: {first['property']}{label} (r={first['r']:+.2f}; {first['top_words']})",
                CCA_LCA_FINDING,
                key=metric_id("neurons", f"layer{first['layer']}", first["instance"], ranking, "top_properties"),
                no_interval="a description of the top neurons, not an estimate",
                source=src("neurons", "property", "label", "r", "top_words"),
            )
        )
    return rows


CCA_LCA_FINDING = "paper: position neurons are top in both CCA and LCA; the other top CCA neurons track conjunctions, determiners, punctuation"


POSITION_PROPERTIES = ("position_bin", "end_distance_bin", "sentence_final")


def overlap_summary(
    family: str, overlap: pd.DataFrame, rankings: Sequence[str] = ("maxcorr", "meanmaxcorr"), alpha: float = 0.05
) -> list[dict[str, Any]]:
    """CCA against LCA, per layer: each property's top-k overlap with the top MaxCorr neurons (share, chance,
    median exact hypergeometric p, instances significant; verdict: share above chance, paired over instances), and which
    properties the top CCA neurons belong to (verdict: the position property's share above chance)."""

    rows = []
    for layer, table in overlap.groupby("layer"):
        k = headline_k(table)
        for ranking in rankings:
            if ranking not in set(table["ranking"]):
                continue
            at_k = table[(table["ranking"] == ranking) & (table["k"] == k)]

            def above_chance(prop: str) -> Verdict:
                t = at_k[at_k["property"] == prop]
                return paired_test(t["share"].to_numpy(), (t["chance"] / k).to_numpy(), "greater", alpha)

            agree = property_agreement(table, ranking, k, alpha)
            if ranking == rankings[0]:
                for r in agree.itertuples(index=False):
                    rows.append(
                        _row(
                            family,
                            "CCA vs LCA",
                            f"layer {layer}: share of the top-{k} {ranking} neurons among the top-{k} LCA neurons of {r.property}",
                            f"{r.share:.2f} (chance {r.chance_share:.2f}, median p {r.median_p:.2g}, p < {alpha} in {r.significant}/{r.instances} instances)",
                            "overlap above chance (k/D)",
                            above_chance(r.property),
                            spread=spread(at_k.loc[at_k["property"] == r.property, "share"].to_numpy()),
                            digits=2,
                            key=metric_id("overlap", f"layer{layer}", ranking, r.property, "share"),
                            source=src("overlap", "share", "chance", "p_value", item=f"layer{layer}"),
                        )
                    )
            belongs = agree[agree["significant"] > agree["instances"] / 2]
            listed = (
                ", ".join(f"{r.property} (×{r.ratio:.1f})" for r in belongs.itertuples(index=False))
                or "none above chance"
            )
            position = [p for p in agree["property"] if p in POSITION_PROPERTIES]
            verdict = above_chance(position[0]) if position else None
            rows.append(
                _row(
                    family,
                    "CCA vs LCA",
                    f"layer {layer}: properties the top-{k} {ranking} neurons belong to (overlap p < {alpha} in most instances, by ratio to chance)",
                    listed,
                    CCA_LCA_FINDING,
                    verdict,
                    key=metric_id("overlap", f"layer{layer}", ranking, "properties_above_chance"),
                    untested="a list of the per-property overlap tests (rows overlap.<layer>.<ranking>.<property>.share)",
                    no_interval="a list; each property's own overlap row has its interval",
                    source=src("overlap", "share", "chance", "ratio", "p_value", item=f"layer{layer}"),
                )
            )
    return rows


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (pandas' ``to_markdown``, through ``tabulate``), cells as written.

    A ``|`` inside a cell is escaped, so that it does not end the cell.
    """
    cells = table.astype(object).where(table.notna(), "")
    cells = cells.map(lambda v: v.replace("|", "\\|") if isinstance(v, str) else v)
    return cells.to_markdown(index=False, tablefmt="github", disable_numparse=True) + "\n"


def to_html(table: pd.DataFrame, title: str = "neurosieve summary") -> str:
    """A standalone HTML page holding the table (Snakemake's report shows HTML inline, not Markdown)."""
    import html

    style = (
        "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
    )
    body = table.to_html(index=False, border=0, na_rep="")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"


_SOURCE = re.compile(r"^(?P<table>\w+)(?:\[(?P<item>[^\]]+)\])?:(?P<columns>.+)$")


def brace_paths(paths: Sequence[str]) -> str:
    """Several files as one path with a shell-style brace list where they differ.

    ``["a/s1/m.json", "a/s2/m.json"]`` gives ``a/{s1,s2}/m.json``; a single path is returned as it is.
    """
    paths = list(dict.fromkeys(paths))
    if len(paths) == 1:
        return paths[0]
    parts = [p.split("/") for p in paths]
    shortest = min(len(p) for p in parts)
    head = 0
    while head < shortest - 1 and len({p[head] for p in parts}) == 1:
        head += 1
    tail = 0
    while tail < shortest - head - 1 and len({p[-1 - tail] for p in parts}) == 1:
        tail += 1
    middle = ",".join(dict.fromkeys("/".join(p[head : len(p) - tail]) for p in parts))
    return "/".join([*parts[0][:head], "{" + middle + "}", *parts[0][len(parts[0]) - tail :]])


def resolve_sources(
    rows: Sequence[dict[str, Any]],
    files: Mapping[str, str | Sequence[str]],
    items: Mapping[str, Mapping[str, str]],
    root: str,
) -> None:
    """Replace each row's logical source (``field[item]:columns``) by the file it names, relative to ``root``.

    ``files`` maps a :class:`FamilyTables` field to the file (or files) it was read from; ``items`` maps a
    field holding several files to the file of each item (``{"overlap": {"layer2": path}}``). A field with
    several files and no item is written as one brace path. A field without a file is left as it is.
    """

    def path(p: str) -> str:
        return os.path.relpath(os.path.abspath(p), root).replace(os.sep, "/")

    for row in rows:
        resolved = []
        for part in row["source"].split("; "):
            m = _SOURCE.match(part)
            if m is None or m["table"] not in files:
                resolved.append(part)
                continue
            chosen = items.get(m["table"], {}).get(m["item"] or "")
            found = files[m["table"]]
            if chosen is not None:
                where = path(chosen)
            elif isinstance(found, str):
                where = path(found)
            else:
                where = brace_paths([path(p) for p in found])
            resolved.append(f"{where}:{m['columns']}")
        row["source"] = "; ".join(resolved)


def run_summary(
    families: Sequence[Mapping[str, Any]],
    md_path: str,
    csv_path: str,
    html_path: str | None = None,
    root: str | None = None,
    settings: SummarySettings | None = None,
) -> pd.DataFrame:
    """Read each family's tables and write the summary as Markdown and CSV, and as HTML for the report (workflow edge).

    Each row's ``source`` names the file it was read from, relative to ``root``: by default the folder every
    input lies under (the run's output folder, for the workflow's summary). ``settings`` gives the tests'
    alpha and equivalence margin (the schema's defaults when None).
    """
    alpha = settings.alpha if settings else 0.05
    margin = settings.equivalence_margin if settings else 0.5

    def read(p: str | None) -> pd.DataFrame | None:
        return read_table(p) if p else None

    def files_of(fam: Mapping[str, Any]) -> dict[str, str | list[str]]:
        return {k: v for k, v in fam.items() if k not in SUMMARY_FAMILY_SETTINGS and v}

    inputs = {
        os.path.abspath(p)
        for fam in families
        for value in files_of(fam).values()
        for p in ([value] if isinstance(value, str) else value)
    }
    if root is None:
        common = os.path.commonpath(sorted(inputs)) if inputs else os.getcwd()
        root = os.path.dirname(common) if len(inputs) == 1 else common
    rows = []
    for fam in families:
        metrics = [json.loads(open(p).read()) for p in fam.get("train_metrics", [])]
        overlaps = {p: read_table(p) for p in fam.get("overlap") or []}
        t = FamilyTables(
            name=fam["name"],
            train_metrics=metrics,
            probing=read(fam.get("probing")),
            curves=read(fam.get("curves")),
            labels=pd.concat(
                [read_table(p).assign(instance=i) for i, p in zip(fam["label_instances"], fam["labels"])],
                ignore_index=True,
            )
            if fam.get("labels")
            else None,
            duplicate=read(fam.get("duplicate")),
            stability=read(fam.get("stability")),
            scores=read(fam.get("scores")),
            layer=int(fam["layer"]),
            prop=fam["property"],
            pairs=read(fam.get("pairs")),
            twin=fam.get("twin"),
            twin_metrics=json.loads(open(fam["twin_metrics"]).read()) if fam.get("twin_metrics") else None,
            twin_change=read(fam.get("twin_change")),
            twin_curves=pd.concat([read_table(p) for p in fam["twin_curves"]], ignore_index=True)
            if fam.get("twin_curves")
            else None,
            overlap=pd.concat(overlaps.values(), ignore_index=True) if overlaps else None,
            neurons=read(fam.get("neurons")),
            pool=pd.concat([read_table(p) for p in fam["pool"]], ignore_index=True) if fam.get("pool") else None,
            alpha=alpha,
            margin=margin,
        )
        fam_rows = family_summary(t)
        items = {
            "train_metrics": {f"seed{m['seed']}": p for m, p in zip(metrics, fam.get("train_metrics", []))},
            "overlap": {f"layer{layer}": p for p, o in overlaps.items() for layer in o["layer"].unique()},
            "labels": dict(zip(fam.get("label_instances") or [], fam.get("labels") or [])),
        }
        resolve_sources(fam_rows, files_of(fam), items, root)
        rows.extend(fam_rows)
    table = pd.DataFrame(rows)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        tmp.write_text("# neurosieve summary\n\n" + to_markdown(table))
    if html_path:
        with atomic_path(html_path) as tmp:
            tmp.write_text(to_html(table))
    return table
