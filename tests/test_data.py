"""CoNLL-2000 stage: counts, parsing errors, checksums, local and downloaded sources.

The mechanics (local copies, downloads, retries, checksums, the cache) are tested on the project's synthetic
sample (tests/data/conll-sample, with its own checksums); CoNLL-2000's published counts and checksums are tested
on the real files, by the tests marked conll (and slow), which use the ``conll_dir`` fixture.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurosieve.store.corpus import (
    CANONICAL_SHA256,
    EXPECTED_COUNTS,
    DataError,
    build_token_table,
    label_codes,
    parse_conll,
    read_tokens,
    sentences,
)
from neurosieve.store.fetch import cache_conll, fetch_split, resolve_source
from neurosieve.store.io import read_provenance

ROOT = Path(__file__).resolve().parents[1]

#: CoNLL-2000's part-of-speech tags (the Penn Treebank's 44 as the corpus spells them) and chunk types.
PENN_TAGS = set(
    "# $ '' ( ) , . : CC CD DT EX FW IN JJ JJR JJS MD NN NNP NNPS NNS PDT POS PRP PRP$ RB RBR RBS RP SYM TO UH "
    "VB VBD VBG VBN VBP VBZ WDT WP WP$ WRB ``".split()
)
CHUNK_TYPES = {"ADJP", "ADVP", "CONJP", "INTJ", "LST", "NP", "PP", "PRT", "SBAR", "UCP", "VP"}


def _make_sample():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "tests/data/make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.conll
def test_conll2000_counts_and_labels(conll_tokens: dict[str, pd.DataFrame]) -> None:
    train, test = conll_tokens["train"], conll_tokens["test"]
    assert (train["sentence"].nunique(), len(train)) == (8936, 211727) == EXPECTED_COUNTS["train"]
    assert (test["sentence"].nunique(), len(test)) == (2012, 47377) == EXPECTED_COUNTS["test"]
    assert train["pos"].nunique() == 44 and test["pos"].nunique() == 43
    assert set(train["pos"].astype(str)) == PENN_TAGS
    assert set(test["pos"].astype(str)) <= set(train["pos"].astype(str))
    only_test = set(test["chunk"].astype(str)) - set(train["chunk"].astype(str))
    assert only_test == {"I-LST"}


@pytest.mark.conll
def test_conll2000_fetch_local_then_parse(tmp_path: Path, conll_dir: Path) -> None:
    raw = fetch_split(
        "test", tmp_path / "raw/test.txt", source="local", local_dir=conll_dir, sha256=CANONICAL_SHA256["test"]
    )
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == CANONICAL_SHA256["test"]
    tokens = build_token_table(raw, tmp_path / "test.parquet", "test")
    back = read_tokens(tmp_path / "test.parquet")
    assert len(back) == 47377 and list(back.columns) == ["sentence", "position", "word", "pos", "chunk"]
    assert back["word"].astype(str).tolist() == tokens["word"].astype(str).tolist()
    prov = read_provenance(tmp_path / "test.parquet")
    assert prov["counts"] == {"sentences": 2012, "tokens": 47377} and "pyarrow" in prov["versions"]
    first = build_token_table(
        fetch_split("train", tmp_path / "train.txt", source="local", local_dir=conll_dir),
        tmp_path / "train.parquet",
        "train",
        max_sentences=5,
    )
    assert sentences(first)[0][:3] == ["Confidence", "in", "the"]


@pytest.mark.conll
def test_the_sample_is_not_copied_from_conll2000(
    conll_tokens: dict[str, pd.DataFrame], sample_tokens: dict[str, pd.DataFrame]
) -> None:
    """No sentence of the synthetic sample occurs in CoNLL-2000 (it is generated, not excerpted)."""
    real = {tuple(s) for split in conll_tokens.values() for s in sentences(split)}
    made = {tuple(s) for split in sample_tokens.values() for s in sentences(split)}
    assert len(made) > 400 and not made & real


def test_sample_counts_and_labels(sample_tokens: dict[str, pd.DataFrame]) -> None:
    """The sample is CoNLL-2000-shaped: Penn POS tags, well-formed BIO chunk tags of CoNLL-2000's types."""
    train, test = sample_tokens["train"], sample_tokens["test"]
    assert (train["sentence"].nunique(), len(train)) == (400, 6356)
    assert (test["sentence"].nunique(), len(test)) == (120, 1861)
    assert train["pos"].nunique() == 29 and test["pos"].nunique() == 29
    assert set(train["pos"].astype(str)) <= PENN_TAGS
    assert set(test["pos"].astype(str)) <= set(train["pos"].astype(str))
    chunks = set(train["chunk"].astype(str))
    assert chunks == set(test["chunk"].astype(str))
    assert {c[2:] for c in chunks - {"O"}} <= CHUNK_TYPES and {c[:2] for c in chunks - {"O"}} == {"B-", "I-"}
    for split in (train, test):  # an I- tag continues a chunk of its own type
        for tags in sentences(split, "chunk"):
            for before, tag in zip(["O", *tags], tags):
                assert not tag.startswith("I-") or before[2:] == tag[2:], (before, tag)
    # Words unseen in training (names, rare nouns): unknown words for a tagger, as in CoNLL-2000.
    unseen = ~test["word"].astype(str).str.lower().isin(set(train["word"].astype(str).str.lower()))
    assert 0.03 < unseen.mean() < 0.3


def test_sample_is_what_its_generator_writes(tmp_path: Path, sample_sha256: dict[str, str]) -> None:
    """tests/data/make_sample.py reproduces the committed files, whose checksums the tests pin."""
    make_sample = _make_sample()
    for split, path in make_sample.write(tmp_path).items():
        text = gzip.decompress(path.read_bytes())
        assert hashlib.sha256(text).hexdigest() == sample_sha256[split]
        assert text == gzip.decompress((ROOT / "tests/data/conll-sample" / f"{split}.txt.gz").read_bytes())
    n, seed = make_sample.SPLITS["test"]
    assert make_sample.make_split(n, seed + 1) != make_sample.make_split(n, seed)  # the seed matters


def test_fetch_local_then_parse(tmp_path: Path, sample_dir: Path, sample_sha256: dict[str, str]) -> None:
    raw = fetch_split(
        "test", tmp_path / "raw/test.txt", source="local", local_dir=sample_dir, sha256=sample_sha256["test"]
    )
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == sample_sha256["test"]
    with pytest.raises(DataError, match="120 sentences / 1861 tokens, expected 2012 / 47377"):
        build_token_table(raw, tmp_path / "test.parquet", "test")  # a full split is checked against CoNLL-2000's
    assert not (tmp_path / "test.parquet").exists()
    tokens = build_token_table(raw, tmp_path / "test.parquet", "test", check_published_counts=False)
    back = read_tokens(tmp_path / "test.parquet")
    assert len(back) == 1861 and list(back.columns) == ["sentence", "position", "word", "pos", "chunk"]
    assert back["word"].astype(str).tolist() == tokens["word"].astype(str).tolist()
    prov = read_provenance(tmp_path / "test.parquet")
    assert prov["counts"] == {"sentences": 120, "tokens": 1861} and "pyarrow" in prov["versions"]


def test_max_sentences_takes_the_first(tmp_path: Path, sample_dir: Path) -> None:
    raw = fetch_split("train", tmp_path / "train.txt", source="local", local_dir=sample_dir)
    tokens = build_token_table(raw, tmp_path / "train.parquet", "train", max_sentences=5)
    assert tokens["sentence"].nunique() == 5
    assert sentences(tokens)[0][:3] == ["This", "unit", "level"]


def test_parse_sentences_and_positions() -> None:
    t = parse_conll("A DT B-NP\ndog NN I-NP\n\n\nruns VBZ B-VP\n\n", "x")
    assert t["sentence"].tolist() == [0, 0, 1] and t["position"].tolist() == [0, 1, 0]


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("A DT B-NP\ndog NN\n")
    with pytest.raises(DataError, match=r"bad\.txt, line 2: expected 3 fields"):
        build_token_table(bad, tmp_path / "out.parquet", "custom")
    assert not (tmp_path / "out.parquet").exists()
    assert not list(tmp_path.glob(".out.parquet*"))


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(DataError, match="empty.txt: no tokens"):
        build_token_table(empty, tmp_path / "out.parquet", "custom")
    assert not (tmp_path / "out.parquet").exists()


def _local_copy(tmp_path: Path, payload: bytes) -> Path:
    d = tmp_path / "mirror"
    d.mkdir()
    (d / "test.txt.gz").write_bytes(payload)
    return d


def test_truncated_gzip(tmp_path: Path, sample_dir: Path, sample_sha256: dict[str, str]) -> None:
    data = (sample_dir / "test.txt.gz").read_bytes()
    d = _local_copy(tmp_path, data[: len(data) // 2])
    with pytest.raises(DataError, match="test.txt.gz: corrupt or truncated gzip"):
        fetch_split("test", tmp_path / "out.txt", source="local", local_dir=d, sha256=sample_sha256["test"])
    assert not (tmp_path / "out.txt").exists()


def test_checksum_mismatch(tmp_path: Path, sample_dir: Path, sample_sha256: dict[str, str]) -> None:
    original = gzip.decompress((sample_dir / "test.txt.gz").read_bytes())
    text = original.replace(b"company", b"compant", 1)
    assert text != original  # one letter changed
    d = _local_copy(tmp_path, gzip.compress(text))
    with pytest.raises(DataError, match="sha256 of the decompressed text"):
        fetch_split("test", tmp_path / "out.txt", source="local", local_dir=d, sha256=sample_sha256["test"])
    assert not (tmp_path / "out.txt").exists()


def test_missing_local_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data.local_dir: directory .*nowhere.* does not exist"):
        fetch_split("test", tmp_path / "out.txt", source="local", local_dir=tmp_path / "nowhere")
    assert not (tmp_path / "out.txt").exists()


class _Server:
    """A local HTTP server on 127.0.0.1 serving CoNLL-format files from ``root``, with scripted failures."""

    def __init__(self, root: Path, fail_first: int = 0, corrupt: bool = False, truncate: bool = False):
        self.root, self.fail_left, self.corrupt, self.truncate, self.hits = root, fail_first, corrupt, truncate, 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits += 1
                if server.fail_left > 0:
                    server.fail_left -= 1
                    self.send_error(503, "try again")
                    return
                body = (server.root / Path(self.path).name).read_bytes()
                if server.corrupt:
                    body = gzip.compress(gzip.decompress(body)[:-100])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if server.truncate else body)  # a dropped connection

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(sample_dir: Path) -> Iterator[type]:
    """Serves the sample (its checksums are the fixture ``sample_sha256``)."""
    yield lambda **kw: _Server(sample_dir, **kw)


@pytest.fixture
def serve_conll(conll_dir: Path) -> Iterator[type]:
    """Serves the real CoNLL-2000 files (their checksums are CANONICAL_SHA256)."""
    yield lambda **kw: _Server(conll_dir, **kw)


def test_download(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with serve() as s:
        out = fetch_split(
            "test", tmp_path / "t.txt", url=f"{s.url}/test.txt.gz", sha256=sample_sha256["test"], backoff=0
        )
    assert hashlib.sha256(out.read_bytes()).hexdigest() == sample_sha256["test"] and s.hits == 1


def test_download_retries_after_a_failure(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with serve(fail_first=1) as s:
        fetch_split(
            "test",
            tmp_path / "t.txt",
            url=f"{s.url}/test.txt.gz",
            sha256=sample_sha256["test"],
            retries=2,
            backoff=0,
        )
    assert s.hits == 2 and (tmp_path / "t.txt").is_file()


def test_download_gives_up_after_retries(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    with serve(fail_first=10) as s, pytest.raises(DataError, match="download failed after 3 attempts"):
        fetch_split("test", tmp_path / "t.txt", url=f"{s.url}/test.txt.gz", retries=2, backoff=0)
    assert not (tmp_path / "t.txt").exists()


def test_download_wrong_content(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with serve(corrupt=True) as s, pytest.raises(DataError, match="sha256"):
        fetch_split("test", tmp_path / "t.txt", url=f"{s.url}/test.txt.gz", sha256=sample_sha256["test"], backoff=0)
    assert not (tmp_path / "t.txt").exists()


def test_auto_source_follows_the_config_not_the_disk(tmp_path: Path) -> None:
    assert resolve_source("auto", None) == "download"
    # A configured directory is used even when it lacks the files: the job then fails naming it,
    # instead of silently downloading.
    assert resolve_source("auto", str(tmp_path / "empty")) == "local"
    assert resolve_source("download", str(tmp_path)) == "download"
    with pytest.raises(DataError, match="data.local_dir: directory .*empty.* does not exist"):
        fetch_split(
            "test",
            tmp_path / "out.txt",
            source=resolve_source("auto", str(tmp_path / "empty")),
            local_dir=tmp_path / "empty",
        )


def test_cache_conll_downloads_once_and_verifies(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with serve() as s:
        urls = {split: f"{s.url}/{split}.txt.gz" for split in ("train", "test")}
        d = cache_conll(tmp_path / "cache", urls, sample_sha256, backoff=0)
        assert s.hits == 2
        for split in ("train", "test"):
            assert (
                hashlib.sha256(gzip.decompress((d / f"{split}.txt.gz").read_bytes())).hexdigest()
                == sample_sha256[split]
            )
        cache_conll(tmp_path / "cache", urls, sample_sha256, backoff=0)  # already there and verified: no download
        assert s.hits == 2
        with pytest.raises(DataError, match="sha256"):  # a cached file is re-verified against what is expected
            cache_conll(tmp_path / "cache", urls, backoff=0)
        assert s.hits == 2


def test_cache_conll_keeps_nothing_unverified(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with serve(corrupt=True) as s, pytest.raises(DataError, match="sha256"):
        urls = {split: f"{s.url}/{split}.txt.gz" for split in ("train", "test")}
        cache_conll(tmp_path / "cache", urls, sample_sha256, backoff=0)
    assert not list((tmp_path / "cache").glob("*.gz"))


def _pytest_without_conll(
    tmp_path: Path, mirror: str, *args: str, test: str = "tests/test_data.py::test_conll2000_counts_and_labels"
) -> subprocess.CompletedProcess[str]:
    """Run ``test`` in a fresh pytest with no NEUROSIEVE_CONLL_DIR, an empty cache and a given mirror."""
    env = {k: v for k, v in os.environ.items() if k != "NEUROSIEVE_CONLL_DIR"}
    env.update(NEUROSIEVE_CACHE=str(tmp_path / "cache"), NEUROSIEVE_CONLL_URL=mirror)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, f"{ROOT}/{test}"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def _dead_mirror() -> str:
    with socket.socket() as sock:  # a port nobody listens on: no network
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_default_run_needs_no_conll(tmp_path: Path) -> None:
    """Without CoNLL-2000 (no NEUROSIEVE_CONLL_DIR, no cache, no network) the default run of a test file whose
    real-data test needs it passes the rest and deselects that one: the conftest marked it conll and slow."""
    res = _pytest_without_conll(tmp_path, _dead_mirror(), test="tests/test_metrics.py")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert re.search(r"\b\d+ passed, 1 deselected\b", out), out[-3000:]
    assert "CoNLL-2000 is needed" not in out and not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_fixture_downloads_into_the_cache(tmp_path: Path, serve_conll) -> None:  # type: ignore[no-untyped-def]
    with serve_conll() as s:
        res = _pytest_without_conll(tmp_path, s.url, "-m", "conll")
    assert res.returncode == 0, res.stdout[-3000:]
    assert s.hits == 2 and sorted(p.name for p in (tmp_path / "cache/conll2000").iterdir()) == [
        "test.txt.gz",
        "train.txt.gz",
    ]


@pytest.mark.slow
def test_fixture_without_data_fails_with_one_message(tmp_path: Path) -> None:
    res = _pytest_without_conll(tmp_path, _dead_mirror(), "-m", "conll")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert out.count("CoNLL-2000 is needed by the slow tests") == 1, out[-3000:]
    assert "set NEUROSIEVE_CONLL_DIR" in out and str(tmp_path / "cache") in out
    assert not (tmp_path / "cache/conll2000/train.txt.gz").exists()


def test_recorded_versions_need_no_imports() -> None:
    """A job that never imports transformers or scikit-learn records the same versions as one that does."""
    code = (
        "import json, sys; from neurosieve.store.io import versions; lazy = versions(); "
        "assert 'transformers' not in sys.modules and 'sklearn' not in sys.modules; "
        "import transformers, sklearn, torch; print(json.dumps([lazy, versions()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    lazy, imported = json.loads(out.stdout)
    assert lazy == imported and {"transformers", "sklearn", "torch", "numpy"} <= set(lazy)


@pytest.mark.parametrize(
    "values",
    [
        np.array(["NN", "DT", "NN", "VBZ", "$", "nn", "Ä", "DT"]),
        np.array([3, 1, 3, 2, 7]),
        np.array([0.5, np.nan, 0.5, -1.0]),
        np.array([], dtype=str),
        np.array(["a|Xx", "<unk>|x", "a|Xx"], dtype=object),
    ],
)
def test_label_codes_are_np_unique(values: np.ndarray) -> None:
    classes, codes = label_codes(values)
    want_classes, want_codes = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(classes, want_classes)
    np.testing.assert_array_equal(codes, want_codes)
    assert classes.dtype == want_classes.dtype


def test_label_codes_reject_missing_labels_and_flatten() -> None:
    with pytest.raises(ValueError, match="1 missing labels .*token 2"):
        label_codes(np.array(["NN", "DT", None], dtype=object))
    classes, codes = label_codes(np.array([["b"], ["a"], ["b"]]))  # a column vector, flattened as np.unique does
    assert classes.tolist() == ["a", "b"] and codes.tolist() == [1, 0, 1]


def test_a_truncated_transfer_is_retried_then_named(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    """The server announces the whole file and sends half: each attempt fails, and the error names the URL."""
    with serve(truncate=True) as s, pytest.raises(DataError, match=r"test.txt.gz: download failed after 2 attempts"):
        fetch_split("test", tmp_path / "t.txt", url=f"{s.url}/test.txt.gz", retries=1, backoff=0)
    assert s.hits == 2 and not (tmp_path / "t.txt").exists()


def test_mirrors_are_tried_in_turn_with_the_same_checksum(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """An ordered list of mirrors: one that is down and one that serves other content are passed over (each
    after its retries); the first that serves the checksum wins, and nothing after it is asked."""
    with serve(fail_first=99) as down, serve(corrupt=True) as wrong, serve() as good, serve() as spare:
        mirrors = [f"{m.url}/test.txt.gz" for m in (down, wrong, good, spare)]
        out = fetch_split("test", tmp_path / "t.txt", url=mirrors, sha256=sample_sha256["test"], retries=1, backoff=0)
        assert hashlib.sha256(out.read_bytes()).hexdigest() == sample_sha256["test"]
        assert (down.hits, wrong.hits, good.hits, spare.hits) == (2, 1, 1, 0)
        with pytest.raises(DataError) as err:
            fetch_split("test", tmp_path / "u.txt", url=mirrors[:2], sha256=sample_sha256["test"], retries=0, backoff=0)
    message = str(err.value)
    assert message.startswith("data.urls.test: every mirror failed") and mirrors[0] in message and mirrors[1] in message
    assert "sha256 of the decompressed text" in message and not (tmp_path / "u.txt").exists()


def test_the_config_takes_a_list_of_mirrors(tmp_path: Path, serve, sample_sha256: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """data.urls.<split> is one URL or a list of mirrors, validated by the schema and carried to the job."""
    import yaml

    from neurosieve.config import ConfigError, load_schema, validate_config
    from neurosieve.settings import DataSourceSettings, FetchSettings
    from neurosieve.stages.data import run_fetch_conll

    root = Path(__file__).resolve().parents[1]
    schema = load_schema(root / "workflow/schemas/config.schema.yaml")
    cfg = yaml.safe_load((root / "config/config.yaml").read_text())
    with serve(fail_first=99) as down, serve() as good:
        mirrors = [f"{down.url}/test.txt.gz", f"{good.url}/test.txt.gz"]
        cfg["data"].update(
            source="download", urls={"test": mirrors}, sha256={"test": sample_sha256["test"]}, download={"backoff": 0}
        )
        valid = validate_config(cfg, schema)
        source = DataSourceSettings.from_config(valid, split="test")
        assert source.url == tuple(mirrors)
        out = run_fetch_conll("test", tmp_path / "t.txt", FetchSettings.from_config(valid, split="test"), source)
        assert hashlib.sha256(out.read_bytes()).hexdigest() == sample_sha256["test"] and good.hits == 1
    cfg["data"]["urls"] = {"test": []}
    with pytest.raises(ConfigError, match="data.urls.test"):
        validate_config(cfg, schema)
