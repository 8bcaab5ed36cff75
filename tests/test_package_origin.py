"""Which ``neurosieve`` a workflow job runs: the clone's own ``src/`` ahead of any other copy, the installed
package when the workflow is a module (at the workflow's version only), and a job that imported another
copy stops with both paths named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import neurosieve
from neurosieve.core.runtime import PACKAGE_DIR_VAR, PackageOriginError, check_package_origin

ROOT = Path(__file__).resolve().parents[1]
OWN = ROOT / "src" / "neurosieve"
CORPUS = "The DT B-NP\ndog NN I-NP\nran VBD B-VP\n. . O\n\nA DT B-NP\ncat NN I-NP\n. . O\n\n"
# A partial config (merged onto the default one): the README's own-corpus route, no checksums.
CONFIG = {
    "data": {
        "corpus": {"train": "corpus/train.conll", "test": "corpus/test.conll", "columns": ["word", "pos", "chunk"]}
    }
}
TARGET = "results/data/raw/train.txt"  # one cheap script job: fetch_corpus


def work_dir(path: Path) -> Path:
    """A working directory with the tiny corpus and the config above."""
    (path / "corpus").mkdir(parents=True)
    for split in ("train", "test"):
        (path / f"corpus/{split}.conll").write_text(CORPUS)
    (path / "cfg.yaml").write_text(yaml.safe_dump(CONFIG))
    return path


def snakemake(work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Snakemake in ``work`` (one core), with ``env`` added to this process's environment."""
    cmd = [sys.executable, "-m", "snakemake", "--directory", str(work), "--cores", "1", *args]
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def test_job_imports_the_clones_src_before_another_copy(tmp_path: Path) -> None:
    # Another copy of the package, first on the search path of Snakemake and of its jobs (as an
    # editable install of another clone, or an older release, would be), which leaves a marker when imported.
    other = tmp_path / "other"
    shutil.copytree(OWN, other / "neurosieve", ignore=shutil.ignore_patterns("__pycache__"))
    marker = tmp_path / "imported-the-other-copy"
    init = other / "neurosieve/__init__.py"
    init.write_text(init.read_text() + f"\nimport pathlib\npathlib.Path({str(marker)!r}).write_text(__file__)\n")
    work = work_dir(tmp_path / "work")
    res = snakemake(
        work,
        "-s",
        str(ROOT / "Snakefile"),
        TARGET,
        "--configfile",
        str(work / "cfg.yaml"),
        env={"PYTHONPATH": str(other)},
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert not marker.exists(), f"a job (or the parse) imported {marker.read_text()}"
    assert (work / TARGET).read_text() == CORPUS
    log = (work / "results/logs/fetch_corpus/train.log").read_text()
    assert f"neurosieve {neurosieve.__version__} from {OWN}\n" in log


def module_copy(dest: Path, version: str) -> Path:
    """The workflow without its src/ (as a module deployment sees it), with ``version`` in its pyproject.toml."""
    for part in ("workflow", "scripts", "config", "envs"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "pyproject.toml").read_text()
    old = f'version = "{neurosieve.__version__}"'
    assert old in text
    (dest / "pyproject.toml").write_text(text.replace(old, f'version = "{version}"', 1))
    return dest


def test_installed_version_other_than_the_modules_stops_parsing(tmp_path: Path) -> None:
    wf = module_copy(tmp_path / "wf", "9.9.9")
    res = snakemake(work_dir(tmp_path / "work"), "-s", str(wf / "workflow/Snakefile"), "--dry-run", TARGET)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    installed = Path(neurosieve.__file__).resolve().parent
    assert (
        f"The installed neurosieve {neurosieve.__version__} ({installed}) is not this workflow's version 9.9.9 "
        f"({wf / 'pyproject.toml'})" in " ".join(out.split())
    ), out[-3000:]
    assert 'pip install "neurosieve @ git+<repository>@v9.9.9"' in out


def test_module_from_a_git_repository_runs_the_installed_package(tmp_path: Path) -> None:
    # As snakedeploy deploys it: a Snakefile that uses the workflow, at a tag of a git repository, as a module.
    repo = module_copy(tmp_path / "repo", neurosieve.__version__)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "release"], ["tag", "v1"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    work = work_dir(tmp_path / "work")
    (work / "config").mkdir()
    default = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    default["data"].update(CONFIG["data"])
    (work / "config/config.yaml").write_text(yaml.safe_dump(default))
    (work / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n'
        f'module neurosieve:\n    snakefile:\n        "git+file://{repo}/workflow/Snakefile@v1"\n'
        "    config:\n        config\n\n"
        "use rule * from neurosieve\n"
    )
    res = snakemake(work, "-s", str(work / "Snakefile"), TARGET)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    log = (work / "results/logs/fetch_corpus/train.log").read_text()
    assert f"from {Path(neurosieve.__file__).resolve().parent}\n" in log


def test_the_check_names_both_copies(tmp_path: Path) -> None:
    assert check_package_origin({}) is None  # outside a workflow job: nothing to compare with
    assert check_package_origin({PACKAGE_DIR_VAR: str(OWN)}, OWN) == OWN
    (tmp_path / "link").symlink_to(OWN)
    assert check_package_origin({PACKAGE_DIR_VAR: str(tmp_path / "link")}, OWN) == OWN
    other = tmp_path / "clone-a/src/neurosieve"
    other.mkdir(parents=True)
    with pytest.raises(
        PackageOriginError, match=f"from {OWN}, but the workflow planned its jobs with the package in {other}"
    ):
        check_package_origin({PACKAGE_DIR_VAR: str(other)}, OWN)
    with pytest.raises(PackageOriginError, match="a path this job cannot see"):
        check_package_origin({PACKAGE_DIR_VAR: str(tmp_path / "elsewhere")}, OWN)
    # setup.smk sets the variable the check reads
    assert f"{PACKAGE_DIR_VAR}=" in (ROOT / "workflow/rules/setup.smk").read_text()


def test_a_job_with_another_copy_stops_and_logs_why(tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    planned = tmp_path / "clone-b/src/neurosieve"
    planned.mkdir(parents=True)
    code = (
        "from neurosieve.core.runtime import configure\n"
        f"configure(__import__('types').SimpleNamespace(log=[{str(log)!r}], threads=1, rule='demo'))\n"
        "print('ran on')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, PACKAGE_DIR_VAR: str(planned)},
    )
    assert res.returncode != 0 and "ran on" not in res.stdout
    text = log.read_text()
    assert "PackageOriginError" in text and str(planned) in text and f"from {OWN}," in text
