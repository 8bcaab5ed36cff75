"""What every workflow script does first: log to the rule's log file and respect its thread count."""

from __future__ import annotations

import logging
import sys
from typing import Any


def configure(snakemake: Any) -> logging.Logger:
    """Send logging to the job's ``log:`` file (and stderr) and cap torch's threads at the job's ``threads``."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    logs = list(getattr(snakemake, "log", []) or [])
    if logs:
        handlers.append(logging.FileHandler(logs[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s", handlers=handlers, force=True)
    import torch

    torch.set_num_threads(int(getattr(snakemake, "threads", 1) or 1))
    return logging.getLogger(f"neurosieve.{getattr(snakemake, 'rule', 'script')}")
