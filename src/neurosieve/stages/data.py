"""Data stages (workflow edge): one CoNLL-2000 split or one split of a user's corpus fetched and verified,
and one split parsed into its token table."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from neurosieve.settings import CorpusFetchSettings, DataSourceSettings, FetchSettings, TokenTableSettings
from neurosieve.store.corpus import CONLL2000_COLUMNS, build_token_table
from neurosieve.store.fetch import fetch_corpus_file, fetch_split, resolve_source


def run_fetch_conll(
    split: str, out_path: str | os.PathLike[str], settings: FetchSettings, source: DataSourceSettings
) -> Path:
    """Obtain one CoNLL-2000 split from ``source`` and check it against ``settings`` (its checksum)."""
    d = source.download
    return fetch_split(
        split,
        out_path,
        source=resolve_source(source.source, source.local_dir),
        url=source.url,
        local_dir=source.local_dir,
        sha256=settings.sha256,
        retries=d.retries,
        timeout=d.timeout,
        backoff=d.backoff,
    )


def run_fetch_corpus(split: str, out_path: str | os.PathLike[str], settings: CorpusFetchSettings) -> Path:
    """Obtain one split of a user's own corpus (a path or URL) and check its checksum."""
    d = settings.download
    return fetch_corpus_file(
        settings.location,
        out_path,
        split=split,
        sha256=settings.sha256,
        retries=d.retries,
        timeout=d.timeout,
        backoff=d.backoff,
    )


def run_token_table(
    raw_path: str | os.PathLike[str], out_path: str | os.PathLike[str], split: str, settings: TokenTableSettings
) -> pd.DataFrame:
    """Parse one verified split into its token table; CoNLL-2000's published counts are checked for CoNLL-2000."""
    return build_token_table(
        raw_path,
        out_path,
        split,
        settings.max_sentences,
        columns=CONLL2000_COLUMNS if settings.columns is None else settings.columns,
        comment=settings.comment,
        check_published_counts=settings.columns is None,
    )


__all__ = ["run_fetch_conll", "run_fetch_corpus", "run_token_table"]
