"""Paired tests and spreads behind the summary's verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from neurosieve.analysis.verdicts import (
    AGREES,
    DISAGREES,
    INCONCLUSIVE,
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


def test_planted_large_effect_agrees_and_reversed_disagrees() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.8, 5)
    v = paired_test(base + 0.2, base, "greater")
    assert v.verdict == AGREES and v.p == pytest.approx(1 / 32) and v.test == "Wilcoxon signed-rank"
    assert v.effect.mean == pytest.approx(0.2)
    r = paired_test(base - 0.2, base, "greater")
    assert r.verdict == DISAGREES and r.p == pytest.approx(1 / 32)
    assert paired_test(base - 0.2, base, "less").verdict == AGREES


def test_mixed_signs_are_inconclusive_and_small_n_uses_sign_test() -> None:
    v = paired_test([1.0, -1.0, 2.0, -2.0, 0.5, -0.5], np.zeros(6))
    assert v.verdict == INCONCLUSIVE and v.p > 0.3
    small = paired_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert small.test == "sign test" and small.verdict == INCONCLUSIVE and small.p == pytest.approx(1 / 8)


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
    assert paired_verdict(table, "direction", "top", "bottom").verdict == AGREES
    assert paired_verdict(_curves(0.0), "direction", "top", "bottom").verdict == INCONCLUSIVE
    assert paired_verdict(_curves(-0.1), "direction", "top", "bottom").verdict == DISAGREES


def test_paired_by_unit_drops_units_missing_a_condition() -> None:
    t = pd.DataFrame({"instance": ["a", "a", "b"], "direction": ["top", "bottom", "top"], "value": [1.0, 0.0, 1.0]})
    assert paired_by_unit(t, "direction", "top", "bottom")["instance"].tolist() == ["a"]


def test_unpaired_test_of_two_groups() -> None:
    from neurosieve.analysis.verdicts import unpaired_test

    open_class = [40, 55, 61, 70, 38, 90]
    closed_class = [3, 5, 2, 8, 4, 6, 7]
    assert unpaired_test(open_class, closed_class, "greater").verdict == "agrees"
    assert unpaired_test(closed_class, open_class, "greater").verdict == "disagrees"
    same = unpaired_test([1, 2, 3, 4], [1, 2, 3, 4], "greater")
    assert same.verdict == "inconclusive" and same.n == 8 and "Mann-Whitney" in same.test
