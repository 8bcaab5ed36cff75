"""Compare two workflow runs' summed job time from their ``benchmark:`` records, per stage.

Each rule writes a Snakemake benchmark record (wall seconds ``s`` and ``cpu_time``)
under ``<outdir>/benchmarks/<stage>/...``. Where the job's log (``<outdir>/logs/``, same path) ends with its
exact CPU seconds and peak memory (``neurosieve.core.runtime.format_job_resources``, ``getrusage`` at exit),
those replace the record's, which Snakemake samples every 30 s. This script sums them per stage for two
output trees that ran on the same machine (side by side, or one after the other),
optionally for one family only, and prints the new/old ratios three ways:

- all jobs of each run;
- the family's jobs (``--family``; a path component names the family);
- matched jobs: the records whose path exists in both runs (the same job in both,
  e.g. training seed 3, or the POS probe of seed 2's layer 1), which compares the
  cost of the same work when the new run also does work the old one did not.

With ``--tables`` it also compares the two runs' results: every Parquet table (the data, not the
provenance metadata, which records versions and times) and the summary, file by file, and says
which are identical, which differ (and by how much, per numeric column) and which exist in one
run only. Timing columns (``fit_seconds`` rows, ``*_seconds``) are left out of the comparison.

  .venv/bin/python benchmarks/compare_runs.py OLD_OUTDIR NEW_OUTDIR [--family bilstm] [--tables]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import pandas as pd


def job_times(outdir: Path) -> pd.DataFrame:
    """One row per benchmark record: its path below ``benchmarks/``, stage, wall and CPU seconds, peak resident MB,
    ``exact``: whether CPU seconds and peak come from the job's log (``getrusage`` at exit) rather than
    Snakemake's sampled record, and ``startup_cpu``: the CPU seconds of that job before its script's set-up (the
    interpreter and imports; NaN where not exact)."""
    from neurosieve.core.runtime import parse_job_resources

    root = outdir / "benchmarks"
    rows = []
    for f in sorted(root.rglob("*.tsv")):
        rec = pd.read_csv(f, sep="\t").iloc[-1]
        rel = f.relative_to(root).as_posix()
        rss = float(rec["max_rss"]) if pd.notna(rec.get("max_rss")) else float("nan")
        log = outdir / "logs" / f.relative_to(root).with_suffix(".log")
        exact = parse_job_resources(log.read_text(errors="replace")) if log.is_file() else None
        rows.append(
            {
                "job": rel,
                "stage": rel.split("/")[0],
                "s": float(rec["s"]),
                "cpu": exact["cpu_s"] if exact else float(rec["cpu_time"]),
                "max_rss_mb": exact["peak_mb"] if exact else rss,
                "exact": exact is not None,
                "startup_cpu": exact["startup_cpu_s"] if exact else float("nan"),
            }
        )
    if not rows:
        raise SystemExit(f"no benchmark records under {root}")
    return pd.DataFrame(rows)


def of_family(jobs: pd.DataFrame, family: str) -> pd.DataFrame:
    """The records of one family's jobs: a directory of the record's path, or its file name, names the family."""
    parts = jobs["job"].str.split("/")
    return jobs[parts.apply(lambda p: family in p[1:-1] or p[-1] == f"{family}.tsv")]


def compare(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Per-stage and total sums of both runs with new/old ratios."""
    sums = pd.concat(
        {"old": old.groupby("stage")[["s", "cpu"]].sum(), "new": new.groupby("stage")[["s", "cpu"]].sum()}, axis=1
    ).fillna(0.0)
    sums.loc["total"] = sums.sum()
    counts = (
        pd.concat({"old": old.groupby("stage").size(), "new": new.groupby("stage").size()}, axis=1)
        .fillna(0)
        .astype(int)
    )
    counts.loc["total"] = counts.sum()
    out = pd.DataFrame(
        {
            "jobs old": counts["old"],
            "jobs new": counts["new"],
            "s old": sums[("old", "s")],
            "s new": sums[("new", "s")],
            "s new/old": sums[("new", "s")] / sums[("old", "s")].replace(0, float("nan")),
            "cpu old": sums[("old", "cpu")],
            "cpu new": sums[("new", "cpu")],
            "cpu new/old": sums[("new", "cpu")] / sums[("old", "cpu")].replace(0, float("nan")),
        }
    )
    return out.round(2)


#: What measures time rather than results: rows whose ``metric`` names one, and columns named so.
TIMING = ("fit_seconds", "wall_seconds", "seconds")


def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    if "metric" in table.columns:
        table = table[~table["metric"].astype(str).isin(TIMING)]
    return table.drop(columns=[c for c in table.columns if str(c).endswith("seconds")]).reset_index(drop=True)


def old_rows_kept(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """How many rows of ``a`` have no identical row in ``b`` (on their common columns, counted as multisets).

    0 means the new table holds every old row unchanged and only adds rows or columns (a new ranking's
    rows, a new column): the old numbers are reproduced exactly. Values compare by their exact text
    (``repr`` of floats round-trips, and NaN equals NaN).
    """
    common = [c for c in a.columns if c in b.columns]
    if not common:
        return len(a)
    count = Counter(map(tuple, b[common].astype(str).itertuples(index=False)))
    missing = 0
    for row in map(tuple, a[common].astype(str).itertuples(index=False)):
        if count[row] > 0:
            count[row] -= 1
        else:
            missing += 1
    return missing


def table_difference(old: Path, new: Path) -> str:
    """'identical', or what differs between two Parquet tables (shape, columns, largest numeric difference).

    When the new table has other columns or more rows, it says whether every old row is still there
    unchanged (on the common columns): a run that only adds rankings or columns reproduces the old numbers.
    """
    a, b = _comparable(pd.read_parquet(old)), _comparable(pd.read_parquet(new))
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        what = (
            f"columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
            if list(a.columns) != list(b.columns)
            else f"shape {a.shape} vs {b.shape}"
        )
        missing = old_rows_kept(a, b)
        kept = "every old row kept unchanged" if missing == 0 else f"{missing} of {len(a)} old rows changed or gone"
        return f"{what}; {kept}"
    if a.equals(b):
        return "identical"
    parts = []
    for col in a.columns:
        x, y = a[col], b[col]
        if x.equals(y):
            continue
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            diff = (x.astype(float) - y.astype(float)).abs()
            parts.append(f"{col}: {int((diff > 0).sum())} values, max |diff| {diff.max():.3g}")
        else:
            parts.append(f"{col}: {int((x.astype(str) != y.astype(str)).sum())} values")
    return "; ".join(parts) or "identical"


def summary_difference(old: Path, new: Path) -> str:
    """What differs between two summary.csv files, row by row on their stable ids (family, id; a summary
    written before rows had ids is matched on family, section and quantity): rows only in one, and shared
    rows whose value moved (up to five named)."""
    a, b = pd.read_csv(old, dtype=str), pd.read_csv(new, dtype=str)
    shared = set(a.columns) & set(b.columns)
    keys = ["family", "id"] if "id" in shared else ["family", "section", "quantity"]
    if not {*keys, "value"} <= shared:
        return "differs"
    both = a.merge(b, on=keys, suffixes=("_old", "_new"))
    moved = both[both["value_old"].fillna("") != both["value_new"].fillna("")]
    only_old, only_new = len(a) - len(both), len(b) - len(both)
    listed = ", ".join(moved[keys].astype(str).agg(":".join, axis=1).head(5))
    return (
        f"{len(both)} rows in both, {len(moved)} with another value{' (' + listed + ')' if listed else ''}; "
        f"{only_old} only in old, {only_new} only in new"
    )


def compare_tables(old: Path, new: Path) -> pd.DataFrame:
    """Every Parquet table and summary file of two output trees, side by side (logs and benchmarks skipped)."""
    skip = {"logs", "benchmarks", ".snakemake"}
    names = set()
    for root in (old, new):
        for f in list(root.rglob("*.parquet")) + list(root.glob("summary/summary.*")):
            rel = f.relative_to(root)
            if not skip & set(rel.parts):
                names.add(rel.as_posix())
    rows = []
    for rel in sorted(names):
        a, b = old / rel, new / rel
        if not a.exists() or not b.exists():
            status = "only in " + ("new" if b.exists() else "old")
        elif rel.endswith(".parquet"):
            status = table_difference(a, b)
        elif rel.endswith("summary.csv") and a.read_bytes() != b.read_bytes():
            status = summary_difference(a, b)
        else:
            status = "identical" if a.read_bytes() == b.read_bytes() else "differs"
        rows.append({"file": rel, "status": status})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path, help="the reference run's outdir (holds benchmarks/)")
    ap.add_argument("new", type=Path, help="the run to compare (holds benchmarks/)")
    ap.add_argument("--family", help="also compare only the jobs of this family")
    ap.add_argument("--tables", action="store_true", help="also compare every result table and the summary")
    args = ap.parse_args()
    old, new = job_times(args.old), job_times(args.new)
    views = {"all jobs": (old, new)}
    if args.family:
        views[f"family {args.family}"] = (of_family(old, args.family), of_family(new, args.family))
    both = sorted(set(old["job"]) & set(new["job"]))
    views[f"matched jobs ({len(both)} records in both runs)"] = (old[old["job"].isin(both)], new[new["job"].isin(both)])
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        for name, (o, n) in views.items():
            print(f"\n== {name} ==")
            print(compare(o, n).to_string())
        if args.tables:
            tables = compare_tables(args.old, args.new)
            same = tables["status"] == "identical"
            print(f"\n== result tables: {int(same.sum())} of {len(tables)} identical ==")
            if not same.all():
                print(tables[~same].to_string(index=False, max_colwidth=110))


if __name__ == "__main__":
    main()
