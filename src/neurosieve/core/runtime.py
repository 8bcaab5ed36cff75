"""What every workflow script does first: log to the rule's log file, check the package copy, respect its thread count.

Which copy of the package a job runs: parsing the workflow (``workflow/rules/setup.smk``)
decides it (the workflow's own ``src/`` in a clone, put first on ``PYTHONPATH``, which
every job inherits; else the installed package, after checking that its version is the
workflow's) and records its directory in :data:`PACKAGE_DIR_VAR`. :func:`configure` logs
the copy a job imported and stops a job that imported another one (an editable install of
another clone, an older release): it would run code the workflow did not plan with, which
its ``package_code`` digest would not describe.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from neurosieve import __version__

#: Set by ``workflow/rules/setup.smk`` while parsing: the directory of the package the jobs must import.
PACKAGE_DIR_VAR = "NEUROSIEVE_PACKAGE_DIR"


class PackageOriginError(RuntimeError):
    """A job imported a ``neurosieve`` other than the one the workflow planned with."""


def package_dir() -> Path:
    """The directory of the ``neurosieve`` package this process imported (resolved)."""
    return Path(__file__).resolve().parent.parent


def _same_directory(a: Path, b: Path) -> bool:
    """Whether two paths name one directory (equal once resolved, or the same inode: a bind mount, a link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_package_origin(environ: Mapping[str, str] | None = None, actual: Path | None = None) -> Path | None:
    """Raise :class:`PackageOriginError` when this process's package is not the one the workflow planned with.

    ``environ`` defaults to ``os.environ`` and ``actual`` to :func:`package_dir`. Outside a
    workflow job (no :data:`PACKAGE_DIR_VAR`) nothing is checked and ``None`` is returned;
    otherwise the checked package directory is returned.
    """
    planned = (os.environ if environ is None else environ).get(PACKAGE_DIR_VAR)
    if not planned:
        return None
    actual = package_dir() if actual is None else actual
    if _same_directory(Path(planned), actual):
        return actual
    unseen = "" if Path(planned).is_dir() else " (a path this job cannot see)"
    raise PackageOriginError(
        f"this job imported neurosieve {__version__} from {actual}, but the workflow planned its jobs with "
        f"the package in {planned}{unseen}. The job's Python ({sys.executable}) found another copy first; "
        "remove it from the job's environment (pip uninstall neurosieve there) or install the workflow's own "
        "version there, then rerun."
    )


def _log_uncaught(logger: logging.Logger) -> Any:
    """An excepthook that writes an uncaught exception's traceback through ``logger`` (so into the log file)."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        logger.critical("job failed with an uncaught exception", exc_info=(kind, exc, tb))

    return hook


#: The fields of the line every job's log ends with (:func:`configure`): its CPU seconds and peak resident memory,
#: exact (``getrusage`` at exit), where Snakemake's ``benchmark:`` records sample them every 30 s and miss the rest;
#: ``startup_cpu_s`` is the part spent before :func:`configure` ran (the interpreter and the script's imports).
RESOURCE_FIELDS = ("cpu_s", "peak_mb", "wall_s", "startup_cpu_s")
RESOURCES_PREFIX = "job resources:"


def job_resources(wall_s: float = 0.0, startup_cpu_s: float = 0.0) -> dict[str, float]:
    """This process's CPU seconds (user + system, its finished children included) and peak resident MB (the larger
    of its own and its largest child's), from ``getrusage``, with the wall and startup seconds given; keyed by
    :data:`RESOURCE_FIELDS`."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {
        "cpu_s": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime,
        "peak_mb": max(own.ru_maxrss, kids.ru_maxrss) * unit / 2**20,
        "wall_s": wall_s,
        "startup_cpu_s": startup_cpu_s,
    }


def format_job_resources(values: Mapping[str, float]) -> str:
    """The log line of :func:`job_resources`' values: ``job resources: cpu_s=12.34 peak_mb=...``."""
    return " ".join([RESOURCES_PREFIX, *(f"{k}={values[k]:.2f}" for k in RESOURCE_FIELDS)])


def parse_job_resources(log_text: str) -> dict[str, float] | None:
    """The values of the last :func:`format_job_resources` line of a job's log, keyed by :data:`RESOURCE_FIELDS`;
    None without one (a job that did not finish, or a log of an older version)."""
    import re

    found = re.findall(" ".join([RESOURCES_PREFIX, *(f"{k}=([0-9.]+)" for k in RESOURCE_FIELDS)]), log_text)
    return dict(zip(RESOURCE_FIELDS, map(float, found[-1]))) if found else None


def configure(snakemake: Any) -> logging.Logger:
    """Send logging, warnings and any uncaught traceback to the job's ``log:`` file (and stderr).

    The log then names the package copy the job runs; a job that imported a copy other than
    the one the workflow planned with stops here (:func:`check_package_origin`). Its last line
    (:func:`format_job_resources`) gives the job's exact CPU seconds and peak memory.
    torch's thread count is capped at the job's ``threads`` when the script uses torch;
    torch itself is not imported here, so that rules whose environment lacks it still run.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    logs = list(getattr(snakemake, "log", []) or [])
    if logs:
        handlers.append(logging.FileHandler(logs[0], mode="w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s", handlers=handlers, force=True
    )
    logging.captureWarnings(True)
    log = logging.getLogger(f"neurosieve.{getattr(snakemake, 'rule', 'script')}")
    sys.excepthook = _log_uncaught(log)
    log.info("neurosieve %s from %s", __version__, package_dir())
    import atexit
    import time

    started, startup = time.perf_counter(), job_resources()["cpu_s"]
    # Registered after logging's own exit hook, so it runs first and the line reaches the log file.
    atexit.register(lambda: log.info(format_job_resources(job_resources(time.perf_counter() - started, startup))))
    check_package_origin()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(int(getattr(snakemake, "threads", 1) or 1))
    return log


def local_gpu_count() -> int:
    """CUDA GPUs this machine offers a job: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``; 0 without either.

    Read without importing torch, so that planning the workflow stays light.
    """
    import os
    import shutil
    import subprocess

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))
