"""benchmarks/compare_runs.py --tables: which result tables two runs share, and how those that differ differ."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "benchmarks/compare_runs.py")
assert spec and spec.loader
compare_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_runs)


def test_tables_identical_differing_timing_and_missing(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        (root / "probing").mkdir(parents=True)
        (root / "summary").mkdir()
        (root / "logs").mkdir()
    same = pd.DataFrame({"metric": ["accuracy", "fit_seconds"], "value": [0.9, 1.0]})
    same.to_parquet(old / "probing/metrics.parquet")
    same.assign(value=[0.9, 7.5]).to_parquet(new / "probing/metrics.parquet")  # only the timing row moved
    pd.DataFrame({"x": [1.0, 2.0], "w": ["a", "b"]}).to_parquet(old / "probing/curves.parquet")
    pd.DataFrame({"x": [1.0, 2.5], "w": ["a", "c"]}).to_parquet(new / "probing/curves.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(new / "probing/extra.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(old / "logs/ignored.parquet")
    (old / "summary/summary.md").write_text("| a |\n")
    (new / "summary/summary.md").write_text("| b |\n")

    table = compare_runs.compare_tables(old, new).set_index("file")["status"]
    assert table["probing/metrics.parquet"] == "identical"
    assert table["probing/curves.parquet"] == "x: 1 values, max |diff| 0.5; w: 1 values"
    assert table["probing/extra.parquet"] == "only in new"
    assert table["summary/summary.md"] == "differs"
    assert "logs/ignored.parquet" not in table.index


def test_a_table_that_only_adds_rows_or_columns_keeps_every_old_row(tmp_path: Path) -> None:
    """A run that adds a ranking's rows or a column reproduces the old numbers: every old row is found unchanged."""
    old = pd.DataFrame({"ranking": ["lca", "lca"], "k": [1, 2], "value": [0.5, float("nan")]})
    grown = pd.concat([old, pd.DataFrame({"ranking": ["oracle"], "k": [1], "value": [0.7]})], ignore_index=True)
    old.to_parquet(tmp_path / "old.parquet")
    grown.assign(extra=1).to_parquet(tmp_path / "new.parquet")
    assert "every old row kept unchanged" in compare_runs.table_difference(
        tmp_path / "old.parquet", tmp_path / "new.parquet"
    )
    grown.loc[1, "value"] = 0.25  # an old number moved (NaN -> 0.25)
    grown.to_parquet(tmp_path / "moved.parquet")
    assert "1 of 2 old rows changed or gone" in compare_runs.table_difference(
        tmp_path / "old.parquet", tmp_path / "moved.parquet"
    )
    assert compare_runs.old_rows_kept(old, old.iloc[:1]) == 1  # a row gone


def test_summaries_compare_row_by_row_on_their_ids(tmp_path: Path) -> None:
    cols = "family,id,section,quantity,value\n"
    (tmp_path / "old.csv").write_text(cols + "f,a.x,s,q1,1.0\nf,a.y,s,q2,2.0\nf,a.gone,s,q3,3\n")
    (tmp_path / "new.csv").write_text(cols + "f,a.x,s,q1,1.0\nf,a.y,s,q2,2.5\nf,a.new,s,q4,4\n")
    text = compare_runs.summary_difference(tmp_path / "old.csv", tmp_path / "new.csv")
    assert text == "2 rows in both, 1 with another value (f:a.y); 1 only in old, 1 only in new"
    # A summary written before rows had ids is matched on family, section and quantity.
    (tmp_path / "older.csv").write_text("family,section,quantity,value\nf,s,q1,1.0\nf,s,q2,2.0\n")
    assert compare_runs.summary_difference(tmp_path / "older.csv", tmp_path / "new.csv").startswith(
        "2 rows in both, 1 with another value (f:s:q2)"
    )


def test_job_times_take_cpu_and_peak_from_the_log_where_it_has_them(tmp_path: Path) -> None:
    """A job whose log ends with its getrusage line counts that (exact); one without keeps the sampled record."""
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for job in ("probing/fam/a/layer0/pos", "probing/fam/b/layer0/pos"):
        rec = tmp_path / "benchmarks" / f"{job}.tsv"
        rec.parent.mkdir(parents=True)
        rec.write_text(header + "40.0\t0:00:40\t900.0\t0\t0\t0\t0\t0\t50\t15.0\n")
    log = tmp_path / "logs" / "probing/fam/a/layer0/pos.log"
    log.parent.mkdir(parents=True)
    log.write_text("x INFO: start\nx INFO: job resources: cpu_s=39.50 peak_mb=1234.5 wall_s=40.10 startup_cpu_s=3.20\n")
    got = compare_runs.job_times(tmp_path).set_index("job")
    assert got.loc["probing/fam/a/layer0/pos.tsv", ["cpu", "max_rss_mb", "exact"]].tolist() == [39.5, 1234.5, True]
    assert got.loc["probing/fam/b/layer0/pos.tsv", ["cpu", "max_rss_mb", "exact"]].tolist() == [15.0, 900.0, False]
