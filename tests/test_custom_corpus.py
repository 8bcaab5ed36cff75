"""A user's own column-format corpus: reading it (paths, URLs, checksums, named errors) and the workflow on it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from neurosieve.store.corpus import DataError, build_token_table, parse_conll
from neurosieve.store.fetch import fetch_corpus_file

ROOT = Path(__file__).resolve().parents[1]

# word -> (ner, pos, chunk-role) of a small synthetic language; the chunk tag follows from the sentence's phrases.
LEXICON = {
    "Alice": ("B-PER", "NNP"),
    "Bob": ("B-PER", "NNP"),
    "Carol": ("B-PER", "NNP"),
    "Paris": ("B-LOC", "NNP"),
    "Oslo": ("B-LOC", "NNP"),
    "Lima": ("B-LOC", "NNP"),
    "dog": ("O", "NN"),
    "city": ("O", "NN"),
    "report": ("O", "NN"),
    "market": ("O", "NN"),
    "saw": ("O", "VBD"),
    "left": ("O", "VBD"),
    "wrote": ("O", "VBD"),
}


def synthetic_corpus(n: int, seed: int) -> str:
    """``n`` sentences in the column order word, ner, pos, chunk: ``[the] X VERB [the] Y [, Z] .``"""
    rng = np.random.default_rng(seed)
    nouns = [w for w, (_, p) in LEXICON.items() if p.startswith("NN")]
    verbs = [w for w, (_, p) in LEXICON.items() if p == "VBD"]
    lines = []
    for _ in range(n):
        toks: list[tuple[str, str, str, str]] = []
        for phrase in range(int(rng.integers(2, 4))):
            if phrase == 1:
                toks.append((verbs[rng.integers(len(verbs))], "O", "VBD", "B-VP"))
            elif phrase > 1:
                toks.append((",", "O", ",", "O"))
            noun = nouns[rng.integers(len(nouns))]
            ner, pos = LEXICON[noun]
            if pos == "NN":
                toks += [("the", "O", "DT", "B-NP"), (noun, ner, pos, "I-NP")]
            else:
                toks.append((noun, ner, pos, "B-NP"))
        toks.append((".", "O", ".", "O"))
        lines += [" ".join(t) for t in toks] + [""]
    return "\n".join(lines) + "\n"


COLUMNS = ["word", "ner", "pos", "chunk"]


def test_parse_custom_columns_and_comments() -> None:
    t = parse_conll("# sent_id = 1\nAlice B-PER NNP B-NP\nleft O VBD B-VP\n\n", "u", COLUMNS, comment="# ")
    assert list(t.columns) == ["sentence", "position", *COLUMNS]
    assert t["ner"].astype(str).tolist() == ["B-PER", "O"]


def test_bad_custom_file_names_file_line_and_columns(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conll"
    bad.write_text("Alice B-PER NNP B-NP\nleft O VBD\n")
    with pytest.raises(DataError, match=r"bad\.conll, line 2: expected 4 fields \(word ner pos chunk\), got 3"):
        build_token_table(bad, tmp_path / "out.parquet", "train", columns=COLUMNS, check_published_counts=False)
    assert not (tmp_path / "out.parquet").exists()
    with pytest.raises(DataError, match=r"needs a 'word' column"):
        parse_conll("a b\n", "u", ["token", "tag"])
    with pytest.raises(DataError, match=r"reserved name"):
        parse_conll("a b\n", "u", ["word", "position"])


def test_fetch_corpus_from_path_and_file_url(tmp_path: Path) -> None:
    text = synthetic_corpus(5, 0).encode()
    src = tmp_path / "train.conll"
    src.write_bytes(text)
    sha = hashlib.sha256(text).hexdigest()
    fetch_corpus_file(str(src), tmp_path / "a.txt", split="train", sha256=sha)
    fetch_corpus_file(src.as_uri(), tmp_path / "b.txt", split="train", sha256=sha, retries=0)
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes() == text
    with pytest.raises(DataError, match=r"data.corpus.test: file .*missing.conll' does not exist"):
        fetch_corpus_file(str(tmp_path / "missing.conll"), tmp_path / "c.txt", split="test")
    with pytest.raises(DataError, match="sha256 of the decompressed text.*set data.corpus.sha256.train to null"):
        fetch_corpus_file(str(src), tmp_path / "c.txt", split="train", sha256="0" * 64)
    assert not (tmp_path / "c.txt").exists()
    # A custom corpus is not held to CoNLL-2000's published counts.
    tokens = build_token_table(
        tmp_path / "a.txt", tmp_path / "t.parquet", "train", columns=COLUMNS, check_published_counts=False
    )
    assert tokens["sentence"].nunique() == 5 and set(tokens["ner"].astype(str)) <= {"B-PER", "B-LOC", "O"}


@pytest.mark.slow
def test_workflow_on_a_custom_corpus(tmp_path: Path) -> None:
    """The whole workflow on a small synthetic corpus whose ``ner`` column is probed like ``pos``."""
    work = tmp_path
    (work / "corpus").mkdir()
    (work / "corpus/train.conll").write_text(synthetic_corpus(80, 1))
    test_text = synthetic_corpus(30, 2).encode()
    (work / "corpus/test.conll").write_bytes(test_text)
    cfg = {
        "outdir": "results",
        "data": {
            "corpus": {
                "train": "corpus/train.conll",  # relative to the working directory
                "test": (work / "corpus/test.conll").as_uri(),
                "columns": COLUMNS,
                "sha256": {"test": hashlib.sha256(test_text).hexdigest()},
            }
        },
        "families": {
            "tiny": {
                "kind": "bilstm",
                "seeds": [1, 2],
                "model": {"embedding_dim": 8, "hidden_dim": 8, "num_layers": 1},
                "train": {"epochs": 1, "batch_size": 16},
            }
        },
        "correlation": {"top_fractions": [0.25], "duplicate": None, "cka": False},
        "probing": {"properties": ["pos", "ner", "position_bin"], "layers": [1], "grid": None, "probe": {"epochs": 2}},
        "ablation": {
            "keep_percent": [50],
            "random_repeats": 1,
            "modes": ["mask"],
            "rankings": ["lca", "maxcorr"],
            "model": {"enabled": False},
        },
        "describe": {"top_neurons": 3},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        "2",
        "--configfile",
        str(work / "config.yaml"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-5000:]
    out = work / "results"
    tokens = pd.read_parquet(out / "data/test.parquet")
    assert list(tokens.columns) == ["sentence", "position", *COLUMNS] and tokens["sentence"].nunique() == 30
    m = pd.read_parquet(out / "probing/tiny/seed1/layer1/ner/metrics.parquet").set_index(["metric", "group"])["value"]
    assert 0 < m[("accuracy", "overall")] <= 1
    labels = pd.read_parquet(out / "probing/tiny/seed1/layer1/ner/labels.parquet")
    assert set(labels["label"]) == {"B-PER", "B-LOC", "O"}
    overlap = pd.read_parquet(out / "overlap/tiny/layer1.parquet")
    assert set(overlap["property"]) == {"pos", "ner", "position_bin"}
    neurons = pd.read_parquet(out / "neurons/tiny/seed1/layer1.parquet")
    assert {"maxcorr", "lca:ner"} <= set(neurons["ranking"])
    summary = pd.read_csv(out / "summary/summary.csv")
    assert "CCA vs LCA" in set(summary["section"])
    # A corrupted test file is caught by its checksum before anything reads it.
    (work / "corpus/test.conll").write_bytes(test_text.replace(b"Alice", b"Alicia"))
    (out / "data/raw/test.txt").unlink()
    res = subprocess.run([*cmd, "--forcerun", "fetch_corpus"], capture_output=True, text=True, timeout=600)
    assert res.returncode != 0 and "sha256 of the decompressed text" in res.stderr + res.stdout
