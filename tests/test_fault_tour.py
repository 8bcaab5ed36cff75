"""The fault tour: bad configs and bad inputs, one table, each asserting what a user sees and that nothing is lost.

Every case asserts that the message's first line names the key or the file (and, for configs, that the
error comes while the workflow parses, before any job: the same validate-then-plan-check path the
workflow runs; two cases go through a real `snakemake -n`). Cases that write assert that nothing
half-written is left behind. ``test_tour_summary`` prints the line the README's reliability section quotes.
"""

from __future__ import annotations

import errno
import gzip
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from neurosieve.config import ConfigError, load_schema, validate_config
from neurosieve.plan import RunPlan
from neurosieve.store.corpus import DataError, check_columns, parse_conll
from neurosieve.store.fetch import decompress, read_local, verify_sha256
from neurosieve.store.io import IntermediateError, read_table, write_parquet

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
DEFAULT = yaml.safe_load((ROOT / "config/config.yaml").read_text())
TEST_CONFIG = yaml.safe_load((ROOT / "tests/config/workflow.yaml").read_text())


def merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``change`` merged in recursively (lists and scalars replaced)."""
    out = dict(base)
    for key, value in change.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def plan_error(config: dict[str, Any]) -> str:
    """What parsing the workflow says of ``config``: the schema, then the plan's own checks."""
    try:
        RunPlan(validate_config(config, SCHEMA)).check()
    except ConfigError as exc:
        return str(exc)
    raise AssertionError("the config was accepted")


def first_problem(message: str) -> str:
    """The first line that names a problem (after the 'invalid configuration:' heading)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[1] if lines[0] == "invalid configuration:" and len(lines) > 1 else lines[0]


TRANSFORMER = next(f for f, c in TEST_CONFIG["families"].items() if c["kind"] == "transformer")

#: (name, config change on the default run (or a whole config), the key the first line must name)
CONFIG_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("top-level typo", {"probng": {}}, "'<top level>'"),
    ("nested typo", {"probing": {"probe": {"epoch": 3}}}, "'probing.probe'"),
    ("string for an integer", {"activations": {"batch_size": "128"}}, "'activations.batch_size'"),
    ("percent above 100", {"ablation": {"keep_percent": [5, 10, 150]}}, "'ablation.keep_percent.2'"),
    ("empty property list", {"probing": {"properties": []}}, "'probing.properties'"),
    ("unknown ranking", {"ablation": {"rankings": ["lca", "maxcor"]}}, "'ablation.rankings.1'"),
    ("unknown property", {"probing": {"properties": ["pos", "ner"]}}, "'probing.properties.1'"),
    ("probe layer out of range", {"probing": {"layers": [5]}}, "'probing.layers'"),
    ("ablation layer out of range", {"ablation": {"layers": [3]}}, "'ablation.layers'"),
    ("layer of one family only", {"probing": {"layers": [3]}}, "'probing.layers'"),
    ("fractions given as percent", {"correlation": {"top_fractions": [5, 10]}}, "'correlation.top_fractions.0'"),
    ("missing data directory", {"data": {"local_dir": "/nonexistent/conll2000"}}, "'data.local_dir'"),
    ("local source without directory", {"data": {"source": "local"}}, "'data.local_dir'"),
    (
        "ablated property not probed",
        {"probing": {"properties": ["pos"]}, "ablation": {"properties": ["chunk"]}},
        "'ablation.properties.0'",
    ),
    ("figure instance typo", {"figures": {"instance": "seed9"}}, "'figures.instance'"),
    ("figure layer not ablated", {"figures": {"layer": 1}}, "'figures.layer'"),
    ("figure property not ablated", {"figures": {"property": "chunk"}}, "'figures.property'"),
    ("unknown dtype", {"activations": {"dtype": "fp16"}}, "'activations.dtype'"),
    ("grid without l2", {"probing": {"grid": {"l1": [0.0, 1e-5]}}}, "'probing.grid'"),
    (
        "remove percent above 100",
        {"ablation": {"model": {"remove_percent": [10, 120]}}},
        "'ablation.model.remove_percent.1'",
    ),
    ("negative seed", {"families": {"bilstm": {"seeds": [-1, 2, 3]}}}, "'families.bilstm.seeds.0'"),
    (
        "cross-family typo",
        {"correlation": {"cross_family": {"g": ["bilst:1", "minilm:3"]}}},
        "'correlation.cross_family.g.0'",
    ),
    (
        "cross-family layer missing",
        {"correlation": {"cross_family": {"g": ["bilstm:1", "minilm:2"]}}},
        "'correlation.cross_family.g.1'",
    ),
    (
        "cross-family member without layer",
        {"correlation": {"cross_family": {"g": ["bilstm", "minilm:3"]}}},
        "'correlation.cross_family.g.0'",
    ),
    ("duplicate names no instance", {"correlation": {"duplicate": "seed7"}}, "'correlation.duplicate'"),
    ("removed key", {"overlap": {"permutations": 1000}}, "'overlap'"),
    ("negative lambda", {"probing": {"l1": -1e-5}}, "'probing.l1'"),
    ("zero correlation block", {"correlation": {"block_size": 0}}, "'correlation.block_size'"),
    ("unknown family kind", {"families": {"bilstm": {"kind": "lstm"}}}, "'families.bilstm"),
    ("twin of a missing seed", {"families": {"bilstm": {"twin": {"of": 9}}}}, "'families.bilstm.twin.of':"),
    (
        "model package not installed",
        {"families": {"minilm": {"models": ["python:no_such_package_xyz"]}}},
        "'families.minilm.models.0'",
    ),
    (
        "model directory missing",
        {"families": {"minilm": {"models": ["/no/such/model/dir"]}}},
        "'families.minilm.models.0'",
    ),
    ("unknown fill", {"ablation": {"model": {"fills": ["zero", "median"]}}}, "'ablation.model.fills.1'"),
    ("unknown probe device", {"probing": {"probe": {"device": "gpu"}}}, "'probing.probe.device'"),
    ("fraction of sentences above 1", {"families": {"bilstm": {"subset": 1.5}}}, "'families.bilstm.subset'"),
]


@pytest.mark.parametrize(("name", "change", "key"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_config_mistake_names_its_key_first(name: str, change: dict[str, Any], key: str) -> None:
    line = first_problem(plan_error(merged(DEFAULT, change)))
    assert line.startswith(f"config key {key}") or f"config key {key}" in line, line


def test_transformer_heads_that_do_not_divide_the_width() -> None:
    config = merged(TEST_CONFIG, {"families": {TRANSFORMER: {"model": {"hidden_dim": 30, "num_heads": 4}}}})
    assert first_problem(plan_error(config)).startswith(f"config key 'families.{TRANSFORMER}.model.num_heads'")


def test_local_directory_without_the_splits(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("")
    line = first_problem(plan_error(merged(DEFAULT, {"data": {"local_dir": str(tmp_path)}})))
    assert line.startswith("config key 'data.local_dir'") and "test.txt" in line


# --- bad inputs: each error names the file (and line) -------------------------------------------------


def _raises(fn: Callable[[], Any], kind: type[Exception]) -> str:
    with pytest.raises(kind) as info:
        fn()
    return str(info.value).splitlines()[0]


GOOD = "The DT B-NP\ncat NN I-NP\nsat VBD B-VP\n. . O\n\n"

INPUT_CASES: list[tuple[str, Callable[[Path], str], str]] = [
    (
        "line with too many fields",
        lambda d: _raises(lambda: parse_conll(GOOD + "a b c d\n", "train.txt"), DataError),
        "train.txt, line 6",
    ),
    (
        "label column missing",
        lambda d: _raises(lambda: parse_conll(GOOD + "dog NN\n", "test.txt"), DataError),
        "test.txt, line 6",
    ),
    ("empty file", lambda d: _raises(lambda: parse_conll("", "train.txt"), DataError), "train.txt: no tokens"),
    (
        "only blank lines",
        lambda d: _raises(lambda: parse_conll("\n\n\n", "train.txt"), DataError),
        "train.txt: no tokens",
    ),
    (
        "not UTF-8",
        lambda d: _raises(lambda: parse_conll(b"caf\xe9 NN O\n", "train.txt"), DataError),
        "train.txt: not UTF-8",
    ),
    (
        "truncated gzip",
        lambda d: _raises(lambda: decompress(gzip.compress(GOOD.encode())[:20], "train.txt.gz"), DataError),
        "train.txt.gz: corrupt or truncated gzip",
    ),
    (
        "wrong checksum",
        lambda d: _raises(lambda: verify_sha256(GOOD.encode(), "0" * 64, "test.txt"), DataError),
        "test.txt",
    ),
    ("directory without the split", lambda d: _raises(lambda: read_local(d, "train"), DataError), "data.local_dir"),
    (
        "columns without word",
        lambda d: _raises(lambda: check_columns(["pos", "chunk"]), DataError),
        "data.corpus.columns",
    ),
    (
        "duplicate column",
        lambda d: _raises(lambda: check_columns(["word", "pos", "pos"]), DataError),
        "data.corpus.columns",
    ),
]


@pytest.mark.parametrize(("name", "case", "names"), INPUT_CASES, ids=[c[0] for c in INPUT_CASES])
def test_bad_input_names_its_file(name: str, case: Callable[[Path], str], names: str, tmp_path: Path) -> None:
    assert names in case(tmp_path)


# --- intermediates and interrupted writes: named, and nothing half-written ---------------------------


def _table(tmp_path: Path) -> Path:
    path = tmp_path / "results" / "probing" / "metrics.parquet"
    path.parent.mkdir(parents=True)
    write_parquet(pd.DataFrame({"value": np.arange(4000, dtype=float)}), path, {"seed": 0})
    return path


def test_corrupted_intermediate_is_named(tmp_path: Path) -> None:
    path = _table(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    line = _raises(lambda: read_table(path), IntermediateError)
    assert line.startswith(str(path)) and f"--force {path}" in line


def test_full_disk_on_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "table.parquet"
    target.parent.mkdir()

    def no_space(*args: Any, **kwargs: Any) -> None:
        Path(args[1]).write_bytes(b"PAR1 partial")  # part of the file reaches the disk first
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", no_space)
    with pytest.raises(OSError, match="No space left"):
        write_parquet(pd.DataFrame({"x": [1, 2]}), target)
    assert list(target.parent.iterdir()) == []  # neither the target nor a temporary file


def test_killed_job_leaves_no_finished_looking_output_and_a_rerun_completes(tmp_path: Path) -> None:
    target = tmp_path / "table.parquet"
    script = (
        "import os, sys\n"
        "import pandas as pd\n"
        "import pyarrow.parquet as pq\n"
        "from neurosieve.store import io\n"
        "real = pq.write_table\n"
        "def dying(table, where, **kw):\n"
        "    real(table, where, **kw)\n"
        "    os._exit(9)  # killed after writing, before the rename\n"
        "if sys.argv[2] == 'kill':\n"
        "    pq.write_table = dying\n"
        "io.write_parquet(pd.DataFrame({'x': range(10)}), sys.argv[1])\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(target), "kill"], capture_output=True, timeout=120)
    assert killed.returncode == 9 and not target.exists()
    rerun = subprocess.run([sys.executable, "-c", script, str(target), "run"], capture_output=True, timeout=120)
    assert rerun.returncode == 0 and len(read_table(target)) == 10


def test_dry_run_stops_before_any_job(tmp_path: Path) -> None:
    """Through real `snakemake -n`: one config with a schema error, one with a plan error; no output directory."""
    for change in ({"activations": {"dtype": "fp16"}}, {"figures": {"instance": "seed9"}}):
        cfg = tmp_path / "bad.yaml"
        cfg.write_text(yaml.safe_dump(change))
        run = subprocess.run(
            [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "--configfile", str(cfg)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert run.returncode != 0
        key = next(iter(change)) + "." + next(iter(next(iter(change.values()))))
        assert f"config key '{key}'" in run.stderr
        assert "Traceback" not in run.stderr
        assert not (tmp_path / "results").exists()


def test_tour_summary() -> None:
    """The line the README quotes: how many mistakes the tour tries, names and loses nothing on."""
    tried = len(CONFIG_CASES) + 2 + len(INPUT_CASES) + 4
    print(f"\nfault tour: {tried} mistakes tried, {tried} named, nothing lost")
    assert tried >= 40


def tour_table() -> str:
    """The tour as a Markdown table (docs/fault-tour.md holds it; `python tests/test_fault_tour.py` rewrites it)."""
    rows = [f"| config | {name} | `{key.strip(chr(39) + ':').rstrip(chr(39))}` |" for name, _, key in CONFIG_CASES]
    rows += [
        f"| config | Transformer heads that do not divide the width | `families.{TRANSFORMER}.model.num_heads` |",
        "| config | local data directory without both splits | `data.local_dir` |",
    ]
    rows += [f"| input | {name} | `{names}` |" for name, _, names in INPUT_CASES]
    rows += [
        "| intermediate | a flipped byte in a Parquet table | the file, and `snakemake --force <file>` |",
        "| write | disk full while writing | nothing left behind |",
        "| write | job killed before its output is complete | nothing left behind; a rerun completes |",
        "| dry run | a schema error and a plan error through `snakemake -n` | the key; no traceback, no job |",
    ]
    head = "| kind | mistake | the first line names |\n|---|---|---|\n"
    return head + "\n".join(rows) + "\n"


def test_the_documented_table_is_the_tour() -> None:
    doc = (ROOT / "docs/fault-tour.md").read_text()
    assert tour_table() in doc, "regenerate it: python tests/test_fault_tour.py"


if __name__ == "__main__":
    intro = (
        "# The fault tour\n\n"
        "Every mistake `tests/test_fault_tour.py` makes, and what the first line of the message names.\n"
        "Config mistakes stop `snakemake -n` while it parses, before any job, without a traceback.\n\n"
    )
    (ROOT / "docs/fault-tour.md").write_text(intro + tour_table())
