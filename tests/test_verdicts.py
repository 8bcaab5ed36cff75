"""Paired tests and spreads behind the summary's verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.verdicts import (
    AGREES,
    DISAGREES,
    EQUIVALENT,
    INCONCLUSIVE,
    NOT_TESTED,
    compare,
    equivalence_test,
    holm,
    paired_by_unit,
    paired_test,
    paired_verdict,
    spread,
)


def test_spread_numbers_and_text() -> None:
    s = spread([1.0, 2.0, 3.0, np.nan])
    assert (s.mean, s.min, s.max, s.n) == (2.0, 1.0, 3.0, 3)
    assert s.sd == pytest.approx(1.0)
    assert s.text(1) == "2.0 ± 1.0 (1.0–3.0, n=3)"
    assert spread([]).n == 0 and math.isnan(spread([5.0]).sd)


def test_identical_curves_are_inconclusive() -> None:
    x = np.linspace(0.5, 0.9, 5)
    v = paired_test(x, x.copy())
    assert v.verdict == INCONCLUSIVE and v.p == 1.0 and v.n == 5


def test_two_sided_p_for_five_agreeing_instances_is_0_0625() -> None:
    """Five instances all one way: the exact two-sided p is 2/32, which can never reach 0.05."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.8, 5)
    v = paired_test(base + 0.2, base, "greater")
    assert v.p == pytest.approx(0.0625) and v.p_min == pytest.approx(0.0625) and v.test == "Wilcoxon signed-rank"
    assert v.verdict == INCONCLUSIVE and v.lean == 1 and v.effect.mean == pytest.approx(0.2)
    assert "two-sided" in v.describe() and "smallest possible p 0.0625" in v.describe()


def test_planted_large_effect_agrees_and_reversed_disagrees_with_six_instances() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.8, 6)
    v = paired_test(base + 0.2, base, "greater")
    assert v.verdict == AGREES and v.p == pytest.approx(2 / 64)
    r = paired_test(base - 0.2, base, "greater")
    assert r.verdict == DISAGREES and r.p == pytest.approx(2 / 64) and r.lean == -1
    assert paired_test(base - 0.2, base, "less").verdict == AGREES


def test_mixed_signs_are_inconclusive_and_small_n_uses_sign_test() -> None:
    v = paired_test([1.0, -1.0, 2.0, -2.0, 0.5, -0.5], np.zeros(6))
    assert v.verdict == INCONCLUSIVE and v.p > 0.3
    small = paired_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert small.test == "sign test" and small.verdict == INCONCLUSIVE and small.p == pytest.approx(2 / 8)


def test_one_instance_is_not_tested() -> None:
    v = paired_test([0.9], [0.5])
    assert v.verdict == NOT_TESTED and math.isnan(v.p) and not v.tested
    assert v.text() == NOT_TESTED and v.adjusted(0.01).verdict == NOT_TESTED


def test_holm_against_a_hand_worked_example() -> None:
    # Sorted: 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005 = 0.02, 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04).
    adjusted = holm([0.01, 0.04, np.nan, 0.03, 0.005])
    assert adjusted[[0, 1, 3, 4]] == pytest.approx([0.03, 0.06, 0.06, 0.02]) and math.isnan(adjusted[2])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0]) and holm([]).size == 0


def test_adjusted_p_sets_the_verdict_word() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.8, 6)
    v = paired_test(base + 0.2, base, "greater")
    assert v.adjusted(0.04).verdict == AGREES and v.adjusted(0.04).p_adj == 0.04
    assert v.adjusted(0.2).verdict == INCONCLUSIVE  # Holm can only take a verdict away
    assert v.adjusted(0.08, alpha=0.1).verdict == AGREES


def test_equivalence_against_a_hand_worked_example() -> None:
    d = np.array([0.1, -0.2, 0.3, 0.05, -0.1])
    # Margin 0.5: d + 0.5 all positive and d - 0.5 all negative, each one-sided p = 1/32: equivalent.
    v = equivalence_test(d, np.zeros(5), margin=0.5)
    assert v.verdict == EQUIVALENT and v.p == pytest.approx(1 / 32) and "within ±0.5" in v.describe()
    # Margin 0.25: d - 0.25 = (-0.15, -0.45, 0.05, -0.2, -0.35); the one positive has rank 1, so
    # P(W+ <= 1) = 2/32 under the null: p = 0.0625, not equivalent.
    w = equivalence_test(d, np.zeros(5), margin=0.25)
    assert w.verdict == INCONCLUSIVE and w.p == pytest.approx(0.0625)
    with pytest.raises(ValueError, match="margin"):
        equivalence_test(d, np.zeros(5), margin=0)


def test_interval_of_the_mean() -> None:
    low, high = spread([1.0, 2.0, 3.0]).interval()
    # Student's t with 2 degrees of freedom: 4.3027 x 1 / sqrt(3) = 2.4841.
    assert (low, high) == pytest.approx((2 - 2.4841, 2 + 2.4841), abs=1e-4)
    assert all(math.isnan(x) for x in spread([1.0]).interval())
    assert spread([2.0, 2.0]).interval() == (2.0, 2.0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="direction"):
        paired_test([1.0], [0.0], "up")
    with pytest.raises(ValueError, match="equal lengths"):
        paired_test([1.0, 2.0], [0.0])


def _curves(effect: float) -> pd.DataFrame:
    """Top/bottom curves of 5 instances at 3 k values; top is ``effect`` higher, random noise per point."""
    rng = np.random.default_rng(1)
    rows = []
    for inst in range(5):
        for k in (10, 20, 30):
            base = rng.uniform(0.5, 0.7)
            rows += [
                {"instance": f"seed{inst}", "k": k, "direction": "bottom", "value": base},
                {"instance": f"seed{inst}", "k": k, "direction": "top", "value": base + effect},
            ]
    return pd.DataFrame(rows)


def test_paired_verdict_pools_each_instance_over_k() -> None:
    table = _curves(0.1)
    pairs = paired_by_unit(table, "direction", "top", "bottom")
    assert len(pairs) == 5  # one observation per instance, not per curve point
    assert (pairs["a"] - pairs["b"]).to_numpy() == pytest.approx(np.full(5, 0.1))
    assert paired_verdict(table, "direction", "top", "bottom", alpha=0.1).verdict == AGREES
    assert paired_verdict(_curves(0.0), "direction", "top", "bottom", alpha=0.1).verdict == INCONCLUSIVE
    assert paired_verdict(_curves(-0.1), "direction", "top", "bottom", alpha=0.1).verdict == DISAGREES


def test_paired_by_unit_drops_units_missing_a_condition() -> None:
    t = pd.DataFrame({"instance": ["a", "a", "b"], "direction": ["top", "bottom", "top"], "value": [1.0, 0.0, 1.0]})
    assert paired_by_unit(t, "direction", "top", "bottom")["instance"].tolist() == ["a"]


def test_unpaired_test_of_two_groups() -> None:
    from neurosieve.analysis.verdicts import unpaired_test

    open_class = [40, 55, 61, 70, 38, 90]
    closed_class = [3, 5, 2, 8, 4, 6, 7]
    v = unpaired_test(open_class, closed_class, "greater")
    # Complete separation: the exact two-sided p is 2 / C(13, 6) = 2 / 1716.
    assert v.verdict == "agrees" and v.p == pytest.approx(2 / 1716) and v.p == pytest.approx(v.p_min)
    assert unpaired_test(closed_class, open_class, "greater").verdict == "disagrees"
    same = unpaired_test([1, 2, 3, 4], [1, 2, 3, 4], "greater")
    assert same.verdict == "inconclusive" and same.n == 8 and "Mann-Whitney" in same.test


def test_sentence_bootstrap_on_a_two_point_metric() -> None:
    """Two sentences of equal length, one all right and one all wrong: a resample holds two, one, or no copies of
    the right one (probabilities 1/4, 1/2, 1/4), so the accuracy is 1, 0.5 or 0 and the 95 % interval is [0, 1]."""
    from neurosieve.analysis.verdicts import sentence_bootstrap

    scores = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    sentences = np.array([0, 0, 0, 1, 1, 1])
    assert sentence_bootstrap(scores, sentences, resamples=4000, seed=1) == (0.0, 1.0)
    assert sentence_bootstrap(scores, sentences, seed=3) == sentence_bootstrap(scores, sentences, seed=3)
    # Many sentences: the interval is near the normal approximation of a sentence-level mean.
    rng = np.random.default_rng(0)
    sent = np.repeat(np.arange(2000), 10)
    correct = (rng.random(2000) < 0.8).repeat(10).astype(float)  # whole sentences right or wrong
    low, high = sentence_bootstrap(correct, sent, seed=0)
    half = 1.96 * np.sqrt(0.8 * 0.2 / 2000)
    assert low < correct.mean() < high and (high - low) / 2 == pytest.approx(half, rel=0.15)


def test_contrast_bootstrap_of_two_groups_of_tokens() -> None:
    """A difference between two groups of tokens (in-vocabulary minus OOV, open minus closed), resampled by whole
    sentences: known answers, and the one-group case equals the plain bootstrap."""
    from neurosieve.analysis.verdicts import sentence_bootstrap, sentence_bootstrap_contrast

    # Every sentence holds one A token (always right) and one B token (always wrong): every resample gives 1 - 0.
    sentences = np.repeat(np.arange(50), 2)
    a_tokens = np.tile([True, False], 50)
    right = a_tokens.astype(float)
    assert sentence_bootstrap_contrast(right, a_tokens, right, ~a_tokens, sentences) == (1.0, 1.0)
    # Two sentences: A tokens right in one, wrong in the other; B tokens always right. A resample holds 2, 1 or 0
    # copies of the first sentence, so mean(A) - mean(B) is 0, -0.5 or -1: the 95 % interval is [-1, 0].
    sentences = np.array([0, 0, 1, 1])
    in_a = np.array([True, False, True, False])
    scores = np.array([1.0, 1.0, 0.0, 1.0])
    assert sentence_bootstrap_contrast(scores, in_a, scores, ~in_a, sentences, resamples=4000, seed=1) == (-1.0, 0.0)
    # One group and no second term is sentence_bootstrap itself, draw for draw.
    rng = np.random.default_rng(2)
    sent = np.sort(rng.integers(0, 200, 3000))
    x = (rng.random(3000) < 0.7).astype(float)
    assert sentence_bootstrap_contrast(x, None, None, None, sent, seed=5) == sentence_bootstrap(x, sent, seed=5)
    # A ratio of two means: every sentence holds one token of each, the first always half the second.
    sentences = np.repeat(np.arange(40), 2)
    first = np.tile([True, False], 40)
    values = np.where(first, 0.5, 1.0)
    assert sentence_bootstrap_contrast(values, first, values, ~first, sentences, ratio=True) == (0.5, 0.5)
    # A group without tokens has no mean, hence no interval.
    low, high = sentence_bootstrap_contrast(x, np.ones(3000, bool), x, np.zeros(3000, bool), sent)
    assert np.isnan(low) and np.isnan(high)


def test_one_instance_carries_its_test_set_interval_and_says_so() -> None:
    """A spread of one value has no interval over instances; given its sentence bootstrap it reports that interval,
    named as such, while two or more values keep the interval over instances."""
    from dataclasses import replace

    from neurosieve.analysis.verdicts import spread, spread_columns

    one = spread([80.0])
    assert np.isnan(one.interval()[0]) and one.interval_over == ""
    assert spread_columns(one)["low"] == "" and spread_columns(one)["interval over"] == ""
    own = replace(one, bootstrap=(79.0, 81.5))
    assert own.interval() == (79.0, 81.5) and own.interval_over == "test sentences"
    cols = spread_columns(own, digits=2)
    assert (cols["low"], cols["high"], cols["interval over"], cols["n"]) == (79.0, 81.5, "test sentences", 1)
    many = replace(spread([80.0, 82.0, 81.0]), bootstrap=(0.0, 1.0))
    assert many.interval_over == "instances" and many.interval() != (0.0, 1.0)
    assert spread_columns(many)["interval over"] == "instances"


def test_a_comparison_without_direction_says_only_whether_the_values_differ() -> None:
    base = np.linspace(50.0, 60.0, 6)
    up = compare(base + 2, base, "the paper's lambdas")
    assert up.verdict == "differs" and up.lean == 1 and up.p == pytest.approx(2 / 64) and up.against
    down = compare(base - 2, base, "b")
    assert down.verdict == "differs" and down.lean == -1 and down.p == pytest.approx(up.p)
    # Five instances all one way: two-sided 0.0625, not significant; Holm in a family of two keeps it so.
    five = compare(base[:5] + 1, base[:5], "b")
    assert five.verdict == INCONCLUSIVE and five.p == pytest.approx(0.0625)
    assert up.adjusted(0.06).verdict == INCONCLUSIVE and up.adjusted(0.04).verdict == "differs"
    # Against one value (a one-sample test), and one instance is not tested.
    assert compare([0.2, 0.3, 0.1, 0.4, 0.25, 0.35], 0.0, "0").verdict == "differs"
    assert compare([0.2], 0.0, "0").verdict == NOT_TESTED
    mixed = compare([1.0, -1.0, 2.0, -2.0, 0.5, -0.5], 0.0, "0")
    assert mixed.verdict == INCONCLUSIVE and mixed.p == pytest.approx(1.0)


def test_sd_interval_is_the_chi_square_interval_worked_by_hand() -> None:
    """Three values with sd 1: s * sqrt(2 / chi2(2) quantile) at 97.5 % (7.3778) and 2.5 % (0.050636)."""
    from neurosieve.analysis.verdicts import sd_interval

    low, high = sd_interval([1.0, 2.0, 3.0])
    assert low == pytest.approx((2 / 7.377759) ** 0.5, rel=1e-5) and high == pytest.approx(
        (2 / 0.0506356) ** 0.5, rel=1e-5
    )
    assert all(np.isnan(sd_interval([1.0])))
    assert sd_interval([2.0, 2.0, 2.0]) == (0.0, 0.0)
