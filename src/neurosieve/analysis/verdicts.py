"""Spreads and paired tests: the uncertainty behind every headline number and every verdict of the summary.

A *verdict* compares a run's result with a directional finding of the paper or
an expectation stated in docs/methods.md ("removing top neurons hurts more than removing bottom
ones", "a = top accuracy > b = bottom accuracy"). It comes from a paired test
across independent units (instances), never from one curve:

* The unit of pairing is the instance. Several observations of one instance
  (the points of a curve at different k, random repeats, properties) are
  averaged into one value per instance and condition before testing, so that
  the test never counts correlated observations as independent
  (pseudo-replication). Averaging the difference over k is the area between
  the two curves over the k grid.
* The test is one-sided in the finding's direction: the finding is a
  directional hypothesis. "agrees" means the one-sided p in the finding's
  direction is below alpha (0.05); "disagrees" means the one-sided p in the
  opposite direction is below alpha; otherwise "inconclusive". At most one
  of the two can hold. Why one-sided: with five instances the smallest
  two-sided Wilcoxon p is 2/32 = 0.0625, so a two-sided test could never
  reach 0.05 with the default five seeds; the smallest one-sided p is
  1/32 = 0.031, reached when all five instances point the same way.
* Wilcoxon signed-rank (``scipy.stats.wilcoxon``, exact null distribution
  for small n) when there are at least ``min_wilcoxon`` (5) non-zero
  differences, else the sign test (``scipy.stats.binomtest`` on the signs). Zero
  differences are dropped (Wilcoxon's "wilcox" zero method; the sign test
  ignores ties the same way). With fewer than five non-zero differences no
  one-sided test can reach 0.05 and the verdict is necessarily inconclusive;
  the reported n says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

AGREES, DISAGREES, INCONCLUSIVE = "agrees", "disagrees", "inconclusive"


DIRECTIONS = ("greater", "less")


@dataclass(frozen=True)
class Spread:
    """Mean, standard deviation (ddof 1), minimum, maximum and count of a set of values (NaNs dropped)."""

    mean: float
    sd: float
    min: float
    max: float
    n: int

    def text(self, digits: int = 1, scale: float = 1.0) -> str:
        """``mean ± sd (min–max, n=N)``, values multiplied by ``scale`` (e.g. 100 for percentages)."""
        if self.n == 0:
            return "n/a (n=0)"
        f = lambda v: f"{scale * v:.{digits}f}"  # noqa: E731
        sd = f(self.sd) if self.n > 1 else "n/a"
        return f"{f(self.mean)} ± {sd} ({f(self.min)}–{f(self.max)}, n={self.n})"


def spread(values: Sequence[float] | np.ndarray | pd.Series) -> Spread:
    """The spread of ``values`` over instances (or any other unit): mean, sd, min–max and n."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return Spread(math.nan, math.nan, math.nan, math.nan, 0)
    sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
    return Spread(float(v.mean()), sd, float(v.min()), float(v.max()), int(v.size))


@dataclass(frozen=True)
class Verdict:
    """The outcome of a paired one-sided test of a directional finding.

    ``p`` is the one-sided p-value in the finding's direction, except for
    "disagrees", where it is the one-sided p-value in the opposite direction
    (the one that is significant). ``effect`` is the spread of the paired
    differences (a - b) over units.
    """

    verdict: str
    p: float
    test: str
    n: int
    direction: str
    effect: Spread

    def text(self) -> str:
        """``agrees (Wilcoxon signed-rank, one-sided, n=5, p=0.031)``."""
        p = "n/a" if math.isnan(self.p) else f"{self.p:.3g}"
        return f"{self.verdict} ({self.test}, one-sided, n={self.n}, p={p})"


def _one_sided(d: np.ndarray, alternative: str, test: str) -> float:
    if test == "wilcoxon":
        from scipy.stats import wilcoxon

        return float(wilcoxon(d, zero_method="wilcox", alternative=alternative, method="auto").pvalue)
    from scipy.stats import binomtest

    return float(binomtest(int((d > 0).sum()), len(d), 0.5, alternative=alternative).pvalue)


def paired_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    direction: str = "greater",
    alpha: float = 0.05,
    test: str = "auto",
    min_wilcoxon: int = 5,
) -> Verdict:
    """Test the finding "a > b" (``direction="greater"``) or "a < b" (``"less"``) on paired values.

    ``a[i]`` and ``b[i]`` belong to the same unit (instance). ``test`` is
    ``wilcoxon``, ``sign`` or ``auto`` (Wilcoxon with at least ``min_wilcoxon``
    non-zero differences, else the sign test). Pairs with a NaN are dropped.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if test not in ("auto", "wilcoxon", "sign"):
        raise ValueError(f"test must be auto, wilcoxon or sign, got {test!r}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.shape} and {b.shape}")
    d = a - b
    d = d[~np.isnan(d)]
    effect = spread(d)
    # Differences at float rounding level are ties, not evidence.
    nz = d[np.abs(d) > 1e-12 * max(1.0, float(np.abs(d).max(initial=0.0)))]
    kind = test if test != "auto" else ("wilcoxon" if len(nz) >= min_wilcoxon else "sign")
    name = "Wilcoxon signed-rank" if kind == "wilcoxon" else "sign test"
    if len(nz) == 0:
        return Verdict(INCONCLUSIVE, 1.0 if len(d) else math.nan, name, len(d), direction, effect)
    other = "less" if direction == "greater" else "greater"
    p_for = _one_sided(nz, direction, kind)
    p_against = _one_sided(nz, other, kind)
    if p_for < alpha:
        return Verdict(AGREES, p_for, name, len(d), direction, effect)
    if p_against < alpha:
        return Verdict(DISAGREES, p_against, name, len(d), direction, effect)
    return Verdict(INCONCLUSIVE, p_for, name, len(d), direction, effect)


def unpaired_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    direction: str = "greater",
    alpha: float = 0.05,
) -> Verdict:
    """Test "values of group a are larger (or smaller) than those of group b" for two independent groups.

    A one-sided Mann-Whitney U test, for findings about kinds of units rather than
    paired units (e.g. open- vs closed-class labels: how many neurons each needs).
    ``n`` counts both groups; ``effect`` is the spread of ``a`` minus b's median.
    """
    from scipy.stats import mannwhitneyu

    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    name = "Mann-Whitney U"
    if len(a) == 0 or len(b) == 0:
        return Verdict(INCONCLUSIVE, math.nan, name, len(a) + len(b), direction, spread([]))
    effect = spread(a - np.median(b))
    other = "less" if direction == "greater" else "greater"
    p_for = float(mannwhitneyu(a, b, alternative=direction).pvalue)
    p_against = float(mannwhitneyu(a, b, alternative=other).pvalue)
    if p_for < alpha:
        return Verdict(AGREES, p_for, name, len(a) + len(b), direction, effect)
    if p_against < alpha:
        return Verdict(DISAGREES, p_against, name, len(a) + len(b), direction, effect)
    return Verdict(INCONCLUSIVE, p_for, name, len(a) + len(b), direction, effect)


def paired_by_unit(
    table: pd.DataFrame,
    condition: str,
    a: object,
    b: object,
    value: str = "value",
    unit: Sequence[str] = ("instance",),
) -> pd.DataFrame:
    """One row per unit with the mean ``value`` under condition ``a`` and under ``b`` (columns ``a``, ``b``).

    Everything else that varies within a unit and condition (k, random seed,
    property) is averaged: the unit, not the curve point, is the independent
    observation. Units lacking either condition are dropped.
    """
    missing = [c for c in (condition, value, *unit) if c not in table]
    if missing:
        raise KeyError(f"table has no column(s) {missing}")
    sub = table[table[condition].isin([a, b])]
    means = sub.groupby([*unit, condition], dropna=False)[value].mean().unstack(condition)
    for c in (a, b):
        if c not in means:
            means[c] = np.nan
    out = means[[a, b]].dropna().rename(columns={a: "a", b: "b"}).reset_index()
    out.columns.name = None
    return out


def paired_verdict(
    table: pd.DataFrame,
    condition: str,
    a: object,
    b: object,
    direction: str = "greater",
    value: str = "value",
    unit: Sequence[str] = ("instance",),
    alpha: float = 0.05,
    test: str = "auto",
) -> Verdict:
    """Verdict on the finding "``a`` > ``b``" (or "<") from a long table, paired by ``unit``.

    ``condition`` names the column whose values ``a`` and ``b`` are compared
    (e.g. ``direction`` with ``"top"`` vs ``"bottom"``); see
    :func:`paired_by_unit` for how the rows of one unit are pooled.
    """
    pairs = paired_by_unit(table, condition, a, b, value, unit)
    return paired_test(pairs["a"].to_numpy(), pairs["b"].to_numpy(), direction, alpha, test)


def verdict_columns(verdict: Verdict | None) -> dict[str, object]:
    """The summary columns of a verdict: verdict, test and p (empty when there is none)."""
    if verdict is None:
        return {"verdict": "", "test": "", "p": ""}
    return {
        "verdict": verdict.verdict,
        "test": f"{verdict.test}, one-sided ({verdict.direction}), n={verdict.n}",
        "p": "" if math.isnan(verdict.p) else round(verdict.p, 4),
    }


def spread_columns(s: Spread | None, digits: int = 3, scale: float = 1.0) -> dict[str, object]:
    """The summary columns of a spread: sd, min, max and n (empty when there is none)."""
    if s is None:
        return {"sd": "", "min": "", "max": "", "n": ""}
    r = lambda v: "" if math.isnan(v) else round(scale * v, digits)  # noqa: E731
    return {"sd": r(s.sd), "min": r(s.min), "max": r(s.max), "n": s.n}
