"""Chunk-level F1 exactly as the CoNLL-2000 ``conlleval`` script defines it.

A chunk starts at a B- tag, or at an I- tag whose type differs from the
previous token's (or follows O); it ends where the next token does not continue
it. Precision, recall and F1 count exactly matching (start, end, type) spans.
``tests/test_metrics.py`` checks this against ``seqeval`` (its default mode
follows conlleval).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from neurosieve.analysis.verdicts import percentile_interval, sentence_resampler


def _split(tag: str) -> tuple[str, str]:
    if tag == "O" or "-" not in tag:
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def chunks(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """The (start, end exclusive, type) chunks of one tag sequence under conlleval's rules."""
    out: set[tuple[int, int, str]] = set()
    start, kind = -1, ""
    prev_prefix = "O"
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, t = _split(tag)
        starts = prefix == "B" or (prefix == "I" and (prev_prefix == "O" or t != kind))
        ends = kind and (prefix == "O" or prefix == "B" or t != kind)
        if ends:
            out.add((start, i, kind))
            kind = ""
        if starts:
            start, kind = i, t
        prev_prefix = prefix
    return out


#: The key under which a model-ablation score carries its per-sentence :func:`chunk_counts` (sentences x 3): kept out
#: of the curve rows, resampled for intervals (:func:`neurosieve.analysis.ablation.predictive_value_bootstrap`).
COUNTS_KEY = "chunk_counts"


def chunk_counts(
    gold: Iterable[Sequence[str]],
    pred: Iterable[Sequence[str]],
    gold_chunks: Sequence[set[tuple[int, int, str]]] | None = None,
) -> np.ndarray:
    """Per sentence, the chunks predicted exactly right, the gold chunks and the predicted ones (conlleval's
    counts; sentences x 3 integers): what :func:`chunk_scores` sums, and what a sentence bootstrap resamples."""
    rows = []
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence lengths differ: {len(g)} gold tags vs {len(p)} predicted")
        cg, cp = chunks(g) if gold_chunks is None else gold_chunks[i], chunks(p)
        rows.append((len(cg & cp), len(cg), len(cp)))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def chunk_f1_interval(counts: np.ndarray, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """The 95 % sentence-bootstrap interval of chunk F1 (in %) from :func:`chunk_counts`: whole sentences
    resampled with replacement (seeded), F1 = 2 x right / (gold + predicted) of each resample's summed counts."""
    sums = sentence_resampler(np.arange(len(counts)), resamples, seed)
    if sums is None:
        return (float("nan"), float("nan"))
    right, gold, pred = (sums(counts[:, j]) for j in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(gold + pred > 0, 200.0 * right / (gold + pred), 0.0)
    return percentile_interval(f1)


def chunk_scores(
    gold: Iterable[Sequence[str]],
    pred: Iterable[Sequence[str]],
    gold_chunks: Sequence[set[tuple[int, int, str]]] | None = None,
) -> dict[str, float]:
    """Chunk precision, recall and F1 (in %, as conlleval prints them) over sentences.

    ``gold_chunks`` may pass the gold sentences' :func:`chunks`, when many predictions are scored against the same gold.
    """
    return scores_from_counts(chunk_counts(gold, pred, gold_chunks))


def scores_from_counts(counts: np.ndarray) -> dict[str, float]:
    """Chunk precision, recall and F1 (in %) from :func:`chunk_counts`' per-sentence counts, summed."""
    correct, n_gold, n_pred = (int(c) for c in np.asarray(counts).reshape(-1, 3).sum(axis=0))
    precision = 100.0 * correct / n_pred if n_pred else 0.0
    recall = 100.0 * correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def token_accuracy(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> float:
    """Share of tokens tagged correctly, in %."""
    g = np.concatenate([np.asarray(s, dtype=object) for s in gold])
    p = np.concatenate([np.asarray(s, dtype=object) for s in pred])
    return 100.0 * float(np.mean(g == p))
