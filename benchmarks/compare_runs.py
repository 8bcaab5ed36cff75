"""Compare two workflow runs' summed job time from their ``benchmark:`` records, per stage.

Each rule writes a Snakemake benchmark record (wall seconds ``s`` and ``cpu_time``)
under ``<outdir>/benchmarks/<stage>/...``. This script sums them per stage for two
output trees that ran on the same machine (side by side, or one after the other),
optionally for one family only, and prints the new/old ratios three ways:

- all jobs of each run;
- the family's jobs (``--family``; a path component names the family);
- matched jobs: the records whose path exists in both runs (the same job in both,
  e.g. training seed 3, or the POS probe of seed 2's layer 1), which compares the
  cost of the same work when the new run also does work the old one did not.

  .venv/bin/python benchmarks/compare_runs.py OLD_OUTDIR NEW_OUTDIR [--family bilstm]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def job_times(outdir: Path) -> pd.DataFrame:
    """One row per benchmark record: its path below ``benchmarks/``, stage, wall and CPU seconds."""
    root = outdir / "benchmarks"
    rows = []
    for f in sorted(root.rglob("*.tsv")):
        rec = pd.read_csv(f, sep="\t").iloc[-1]
        rel = f.relative_to(root).as_posix()
        rows.append({"job": rel, "stage": rel.split("/")[0], "s": float(rec["s"]), "cpu": float(rec["cpu_time"])})
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path, help="the reference run's outdir (holds benchmarks/)")
    ap.add_argument("new", type=Path, help="the run to compare (holds benchmarks/)")
    ap.add_argument("--family", help="also compare only the jobs of this family")
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


if __name__ == "__main__":
    main()
