"""Obtaining corpus files: a local copy or a download (through pooch's downloaders, over an ordered list of
mirrors), decompressed and checked against the sha256 of the text before anything is written.

Only the data rules import this module (and with it pooch and requests); parsing and reading token tables
is :mod:`neurosieve.store.corpus`.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pooch
import requests

from neurosieve.core.corpus import CANONICAL_SHA256, CANONICAL_URLS, SPLITS, DataError, is_url, local_split_file
from neurosieve.store.io import atomic_path

log = logging.getLogger(__name__)


def decompress(raw: bytes, source: str) -> bytes:
    """Decompress gzip bytes (plain text passes through); a truncated gzip is an error naming ``source``."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{source}: corrupt or truncated gzip ({exc})") from exc


def verify_sha256(text: bytes, expected: str | None, source: str, setting: str = "data.sha256.<split>") -> None:
    """Check the decompressed text's sha256 against ``expected`` (``None`` skips the check; ``setting`` names its key)."""
    if not expected:
        return
    got = hashlib.sha256(text).hexdigest()
    if got != expected.lower():
        raise DataError(
            f"{source}: sha256 of the decompressed text is {got}, expected {expected} "
            f"(wrong or damaged file; set {setting} to null to skip the check)"
        )


def _downloader(url: str, timeout: float) -> Any:
    """pooch's downloader for the URL's protocol (HTTP(S), FTP, SFTP, DOI), with the timeout."""
    scheme = urllib.parse.urlparse(url).scheme
    if scheme in ("http", "https"):
        return pooch.HTTPDownloader(timeout=timeout, progressbar=False)
    if scheme == "ftp":
        return pooch.FTPDownloader(timeout=timeout, progressbar=False)
    return pooch.downloaders.choose_downloader(url, progressbar=False)


def download(url: str, retries: int = 3, timeout: float = 60.0, backoff: float = 1.0) -> bytes:
    """Fetch ``url`` through pooch's downloader for its protocol (a ``file://`` URL is read), with a timeout,
    retrying failed attempts with exponential back-off; a truncated transfer is a failed attempt.

    The retry loop is ours: pooch retries only inside its registries (``Pooch.fetch``), whose files need the
    checksum of the download itself, while CoNLL-2000's checksum is of the decompressed text (mirrors wrap
    it in different gzip headers).
    """
    last: Exception | None = None
    for attempt in range(1, retries + 2):
        try:
            if urllib.parse.urlparse(url).scheme == "file":
                return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path)).read_bytes()
            with tempfile.TemporaryDirectory(prefix="neurosieve-download-") as d:
                target = Path(d) / "download"
                _downloader(url, timeout)(url, str(target), None)
                return target.read_bytes()
        except (requests.exceptions.RequestException, OSError, ValueError, EOFError) as exc:
            last = exc
            if attempt <= retries:
                wait = backoff * 2 ** (attempt - 1)
                log.warning("download of %s failed (%s); retry %d/%d in %.1fs", url, exc, attempt, retries, wait)
                time.sleep(wait)
    raise DataError(f"{url}: download failed after {retries + 1} attempts: {last}")


def download_verified(
    urls: str | Sequence[str],
    sha256: str | None,
    setting: str,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> tuple[bytes, bytes, str]:
    """Download from an ordered list of mirrors, each tried in turn (with its retries) until one gives a file
    whose decompressed text has the checksum ``sha256``, the same for every mirror. Returns the raw bytes, the
    decompressed text and the URL that served them; a :class:`DataError` names every mirror's failure."""
    mirrors = [urls] if isinstance(urls, str) else list(urls)
    if not mirrors:
        raise DataError(f"{setting}: no URL configured")
    failures = []
    for url in mirrors:
        try:
            raw = download(url, retries=retries, timeout=timeout, backoff=backoff)
            text = decompress(raw, url)
            verify_sha256(text, sha256, url, setting.replace("urls", "sha256"))
            return raw, text, url
        except DataError as exc:
            failures.append(str(exc))
            if len(mirrors) > 1:
                log.warning("mirror %s failed (%s); trying the next", url, exc)
    if len(failures) == 1:
        raise DataError(failures[0])
    raise DataError(f"{setting}: every mirror failed:\n  " + "\n  ".join(failures))


def read_local(local_dir: str | os.PathLike[str], split: str) -> tuple[bytes, str]:
    """Read ``{split}.txt.gz`` (or ``{split}.txt``) from a local directory."""
    d = Path(local_dir)
    if not d.is_dir():
        raise DataError(f"data.local_dir: directory {str(d)!r} does not exist")
    path = local_split_file(d, split)
    if path is None:
        raise DataError(f"data.local_dir: neither {split}.txt.gz nor {split}.txt found in {str(d)!r}")
    return path.read_bytes(), str(path)


def fetch_split(
    split: str,
    dest: str | os.PathLike[str],
    *,
    source: str = "download",
    url: str | Sequence[str] | None = None,
    local_dir: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> Path:
    """Obtain one split (download or local copy), verify it, and write its decompressed text to ``dest``.

    ``url`` is one URL or an ordered list of mirrors, tried in turn until one serves the checksum
    (:func:`download_verified`). Nothing is written unless the content decompresses and its checksum matches.
    """
    if source == "download":
        _, text, _ = download_verified(
            url or [], sha256, f"data.urls.{split}", retries=retries, timeout=timeout, backoff=backoff
        )
    elif source == "local":
        if local_dir is None:
            raise DataError("data.local_dir: required when data.source is 'local'")
        raw, name = read_local(local_dir, split)
        text = decompress(raw, name)
        verify_sha256(text, sha256, name)
    else:
        raise DataError(f"data.source: unknown value {source!r} (use 'download' or 'local')")
    with atomic_path(dest) as tmp:
        tmp.write_bytes(text)
    return Path(dest)


def resolve_source(source: str, local_dir: str | os.PathLike[str] | None) -> str:
    """``auto`` means ``local`` when a local directory is configured and ``download`` otherwise.

    The choice depends on the configuration only, never on what happens to be on
    disk: a configured directory that lacks the files is an error (from
    :func:`read_local`), not a silent download.
    """
    if source != "auto":
        return source
    return "local" if local_dir else "download"


def cache_conll(
    directory: str | os.PathLike[str],
    urls: dict[str, str | Sequence[str]] | None = None,
    sha256: dict[str, str | None] | None = None,
    *,
    retries: int = 1,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Make ``directory`` hold verified ``train.txt.gz`` and ``test.txt.gz``, downloading what is missing.

    A file already there is re-verified (a damaged one is an error, never silently
    replaced); a downloaded one is written only after its checksum matches, so an
    interrupted download leaves nothing behind. A split's URL may be a list of mirrors, tried in turn.
    Returns the directory.
    """
    urls = {**CANONICAL_URLS, **(urls or {})}
    sha256 = {**CANONICAL_SHA256, **(sha256 or {})}
    d = Path(directory)
    for split in SPLITS:
        target = d / f"{split}.txt.gz"
        if target.is_file():
            verify_sha256(decompress(target.read_bytes(), str(target)), sha256[split], str(target))
            continue
        raw, text, url = download_verified(
            urls[split], sha256[split], f"data.urls.{split}", retries=retries, timeout=timeout, backoff=backoff
        )
        with atomic_path(target) as tmp:
            tmp.write_bytes(raw if raw[:2] == b"\x1f\x8b" else gzip.compress(text, mtime=0))
        log.info("cached %s in %s", url, target)
    return d


def fetch_corpus_file(
    location: str,
    dest: str | os.PathLike[str],
    *,
    split: str,
    sha256: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> Path:
    """Obtain one split of a user's column-format corpus from a path or URL, verify it, write its text to ``dest``.

    A URL is downloaded like CoNLL-2000 (timeout, retries); a path must name an
    existing file. Gzip is decompressed; nothing is written unless the checksum
    (of the decompressed text, when given) matches.
    """
    if is_url(location):
        raw, name = download(location, retries=retries, timeout=timeout, backoff=backoff), location
    else:
        path = Path(location)
        if not path.is_file():
            raise DataError(f"data.corpus.{split}: file {str(path)!r} does not exist")
        raw, name = path.read_bytes(), str(path)
    text = decompress(raw, name)
    verify_sha256(text, sha256, name, f"data.corpus.sha256.{split}")
    with atomic_path(dest) as tmp:
        tmp.write_bytes(text)
    return Path(dest)


__all__ = [
    "cache_conll",
    "decompress",
    "download",
    "download_verified",
    "fetch_corpus_file",
    "fetch_split",
    "read_local",
    "resolve_source",
    "verify_sha256",
]
