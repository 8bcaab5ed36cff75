"""Chunk F1 follows conlleval: checked against seqeval on random and corpus tag sequences."""

from __future__ import annotations

import random

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from neurosieve.analysis.metrics import chunk_scores, chunks, token_accuracy
from neurosieve.store.corpus import sentences

TAGS = ["O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP", "I-PP", "I-LST"]


def test_conlleval_chunk_rules() -> None:
    # I- after O starts a chunk; a type change inside I- starts a new one; B- always starts one.
    assert chunks(["I-NP", "I-NP", "O", "B-VP", "I-NP", "B-NP", "I-NP"]) == {
        (0, 2, "NP"),
        (3, 4, "VP"),
        (4, 5, "NP"),
        (5, 7, "NP"),
    }


@pytest.mark.parametrize("seed", range(5))
def test_matches_seqeval_on_random_tags(seed: int) -> None:
    rng = random.Random(seed)
    gold = [[rng.choice(TAGS) for _ in range(rng.randint(1, 15))] for _ in range(200)]
    pred = [[t if rng.random() < 0.7 else rng.choice(TAGS) for t in s] for s in gold]
    s = chunk_scores(gold, pred)
    assert s["f1"] == pytest.approx(100 * f1_score(gold, pred), abs=1e-9)
    assert s["precision"] == pytest.approx(100 * precision_score(gold, pred), abs=1e-9)
    assert s["recall"] == pytest.approx(100 * recall_score(gold, pred), abs=1e-9)


@pytest.mark.parametrize("corpus", ["sample", pytest.param("conll", marks=[pytest.mark.conll, pytest.mark.slow])])
def test_real_gold_against_itself(corpus: str, request: pytest.FixtureRequest) -> None:
    """Gold chunk tags of a corpus (the synthetic sample; CoNLL-2000's test split in the slow run) against themselves
    and shifted by one token, where seqeval must agree."""
    gold = sentences(request.getfixturevalue(f"{corpus}_tokens")["test"], "chunk")
    assert chunk_scores(gold, gold)["f1"] == 100.0
    shifted = [s[1:] + ["O"] for s in gold]
    assert chunk_scores(gold, shifted)["f1"] == pytest.approx(100 * f1_score(gold, shifted), abs=1e-9)
    assert 0 < chunk_scores(gold, shifted)["f1"] < 100
    assert token_accuracy(gold, gold) == 100.0


def test_chunk_f1_interval_resamples_sentences() -> None:
    """The counts sum to chunk_scores'; the interval holds the F1 and narrows with more sentences; sentences that
    all score the same give a zero-width interval at that F1 (two of three chunks right in each: F1 = 2/3)."""
    import numpy as np

    from neurosieve.analysis.metrics import chunk_counts, chunk_f1_interval

    rng = random.Random(0)
    gold = [[rng.choice(TAGS) for _ in range(rng.randint(1, 15))] for _ in range(400)]
    pred = [[t if rng.random() < 0.7 else rng.choice(TAGS) for t in s] for s in gold]
    counts = chunk_counts(gold, pred)
    right, n_gold, n_pred = counts.sum(axis=0)
    assert chunk_scores(gold, pred)["f1"] == pytest.approx(200 * right / (n_gold + n_pred))
    f1 = chunk_scores(gold, pred)["f1"]
    low, high = chunk_f1_interval(counts)
    assert low < f1 < high and high - low < 10
    small = chunk_f1_interval(counts[:50])
    assert small[1] - small[0] > high - low
    assert chunk_f1_interval(counts, seed=3) == chunk_f1_interval(counts, seed=3)
    same = np.tile([[2, 3, 3]], (20, 1))
    assert chunk_f1_interval(same) == (pytest.approx(200 / 3), pytest.approx(200 / 3))
