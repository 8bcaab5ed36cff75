"""Pretrained model specs, resolved without any ML library.

Parsing the workflow must not need torch, transformers or the Hugging Face hub: it
only needs to know where a model lives and how many layers it has. Both come from
the model's ``config.json`` when it is on disk (a local directory, a model an
installed package ships, or the Hugging Face cache). A hub model that is not cached
yet is fetched once by the workflow's ``model_info`` job, which records what the
analysis needs (:func:`fetch_model_info`); ``HF_HUB_OFFLINE=1`` is honoured there.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any


def resolve_model_spec(spec: str) -> str:
    """Turn a model spec into what ``from_pretrained`` takes.

    ``python:<package>`` is a model directory shipped inside an installed
    package (found through its ``get_model_path()`` or ``MODEL_DIR``); a spec
    that starts like a path must be an existing directory; anything else is a
    Hugging Face hub id, returned unchanged.
    """
    if spec.startswith("python:"):
        name = spec.split(":", 1)[1]
        try:
            mod = importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"model {spec!r}: package {name!r} is not installed ({exc})") from exc
        getter = getattr(mod, "get_model_path", None)
        path = getter() if callable(getter) else getattr(mod, "MODEL_DIR", None)
        if path is None or not Path(path).is_dir():
            raise FileNotFoundError(f"model {spec!r}: package {name!r} ships no model directory")
        return str(path)
    if spec.startswith(("/", "./", "../", "~")) or Path(spec).is_dir():
        path = Path(spec).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"model path {spec!r} does not exist")
        return str(path)
    return spec


def _hub_cache() -> Path:
    """The Hugging Face hub cache directory, by the hub's own environment variables."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    return Path(home) / "hub"


def cached_model_dir(hub_id: str) -> Path | None:
    """The cached snapshot of a hub model (the one ``refs/main`` names), or ``None`` if it is not cached."""
    repo = _hub_cache() / ("models--" + hub_id.replace("/", "--"))
    ref = repo / "refs" / "main"
    snapshots = (
        [repo / "snapshots" / ref.read_text().strip()] if ref.is_file() else sorted((repo / "snapshots").glob("*"))
    )
    found = [s for s in snapshots if (s / "config.json").is_file()]
    return found[-1] if found else None


def model_dir_on_disk(spec: str) -> Path | None:
    """Where a spec's files are on this machine without any download, or ``None`` (a hub model not cached)."""
    resolved = resolve_model_spec(spec)
    if resolved != spec or spec.startswith("python:") or Path(resolved).is_dir():
        return Path(resolved)
    return cached_model_dir(spec)


def layer_count(model_dir: str | os.PathLike[str]) -> int:
    """Activation layers of a model: its hidden layers plus the embedding layer (read from ``config.json``)."""
    cfg = json.loads(Path(model_dir, "config.json").read_text())
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        if isinstance(cfg.get(key), int):
            return cfg[key] + 1
    raise ValueError(f"{Path(model_dir, 'config.json')}: no num_hidden_layers (or n_layer) entry")


def fetch_model_info(spec: str) -> dict[str, Any]:
    """Make a model available on this machine (downloading a hub model once) and describe it.

    Returns ``{"model", "path", "layers", "hidden_size"}``. A hub model is fetched with
    ``huggingface_hub.snapshot_download``, which honours ``HF_HUB_OFFLINE=1`` (then only
    the cache is used) and ``HF_HOME``.
    """
    path = model_dir_on_disk(spec)
    if path is None:
        from huggingface_hub import snapshot_download

        try:
            path = Path(snapshot_download(spec))
        except Exception as exc:  # the hub raises many types (offline, unknown repo, gated, HTTP)
            raise FileNotFoundError(
                f"model {spec!r} could not be found: not a local model directory, and not on the Hugging Face hub "
                f"or in its local cache (offline? HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '')!r}): {exc}"
            ) from exc
    cfg = json.loads(Path(path, "config.json").read_text())
    return {"model": spec, "path": str(path), "layers": layer_count(path), "hidden_size": cfg.get("hidden_size")}


__all__ = ["cached_model_dir", "fetch_model_info", "layer_count", "model_dir_on_disk", "resolve_model_spec"]
