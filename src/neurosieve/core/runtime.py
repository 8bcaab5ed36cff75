"""What every workflow script does first: log to the rule's log file and respect its thread count."""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any


def _log_uncaught(logger: logging.Logger) -> Any:
    """An excepthook that writes an uncaught exception's traceback through ``logger`` (so into the log file)."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        logger.critical("job failed with an uncaught exception", exc_info=(kind, exc, tb))

    return hook


def configure(snakemake: Any) -> logging.Logger:
    """Send logging, warnings and any uncaught traceback to the job's ``log:`` file (and stderr).

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
