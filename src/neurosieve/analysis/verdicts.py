"""Spreads, intervals and tests: the uncertainty behind every headline number and every verdict of the summary.

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
* The test is **two-sided**: a verdict can go either way ("agrees" when the
  effect is significant in the finding's direction, "disagrees" when it is
  significant the other way, else "inconclusive"), so its p must count both
  tails. With n instances all pointing the same way the smallest two-sided p
  of the exact tests used here is 2/2^n: 0.0625 for the default five seeds,
  which can never reach 0.05; 6 instances reach 0.031 and 10 reach 0.002
  (``families.<name>.seeds`` sets them). After Holm's adjustment a family of m
  tests needs m times that below alpha. Every verdict states n and that
  smallest p (:attr:`Verdict.p_min`).
* Wilcoxon signed-rank (``scipy.stats.wilcoxon``, exact null distribution
  for small n) when there are at least ``min_wilcoxon`` (5) non-zero
  differences, else the sign test (``scipy.stats.binomtest`` on the signs). Zero
  differences are dropped (Wilcoxon's "wilcox" zero method; the sign test
  ignores ties the same way).
* A claim of *no difference* ("the near-twin loses no predictive value") is
  an equivalence claim, tested by two one-sided tests against a stated margin
  (:func:`equivalence_test`); failing to find a difference is not evidence of
  none.
* The summary groups its tests into declared families (one per summary
  section) and adjusts each family's p-values by Holm's step-down method
  (:func:`holm`); the verdict words use the adjusted p (:meth:`Verdict.adjusted`).
* Every tested number carries an interval: the 95 % t-interval of the mean
  over instances (:meth:`Spread.interval`). One instance is not tested at all:
  its verdict reads "not tested, n = 1" and no p is printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

AGREES, DISAGREES, INCONCLUSIVE = "agrees", "disagrees", "inconclusive"
EQUIVALENT = "equivalent"
DIFFERS = "differs"
"""The verdict of a comparison that expects no direction (``direction="either"``) when it is significant."""
NOT_TESTED = "not tested, n = 1"
DESCRIPTIVE = "descriptive"
"""The test column of a row that states a level (a model's F1, a noise width) rather than a comparison."""


DIRECTIONS = ("greater", "less")
EITHER = "either"
"""A comparison with no expected direction: "does a differ from b?" (two-sided; verdict "differs")."""
LEVEL = 0.95
"""Coverage of every interval in the summary."""


@dataclass(frozen=True)
class Spread:
    """Mean, standard deviation (ddof 1), minimum, maximum and count of a set of values (NaNs dropped)."""

    mean: float
    sd: float
    min: float
    max: float
    n: int
    bootstrap: tuple[float, float] | None = None
    """One unit's own interval where the units give none, in the values' units: a single instance's 95 % sentence
    bootstrap of its test set (:func:`sentence_bootstrap`), or another interval named by ``bootstrap_over``.
    Ignored for two or more units."""
    bootstrap_over: str = "test sentences"
    """What ``bootstrap`` resamples or ranges over: ``"test sentences"``, ``"probe seeds"`` (:func:`sd_interval`'s
    interval of one instance's sd over its probe fits), ``"labels"`` (a case bootstrap over its labels) or
    ``"sentence blocks"`` (a block bootstrap over runs of consecutive sentences: the near-twin's ranking change)."""

    def text(self, digits: int = 1, scale: float = 1.0) -> str:
        """``mean ± sd (min–max, n=N)``, values multiplied by ``scale`` (e.g. 100 for percentages)."""
        if self.n == 0:
            return "n/a (n=0)"
        f = lambda v: f"{scale * v:.{digits}f}"  # noqa: E731
        sd = f(self.sd) if self.n > 1 else "n/a"
        return f"{f(self.mean)} ± {sd} ({f(self.min)}–{f(self.max)}, n={self.n})"

    def interval(self, level: float = LEVEL) -> tuple[float, float]:
        """The ``level`` t-interval of the mean over the units (Student's t, n - 1 degrees of freedom).

        NaN for fewer than two units: one value has no interval, unless it carries its own (``bootstrap``, the
        single instance's test-set interval at the level it was computed at). Equal values give a zero-width
        interval.
        """
        if self.n < 2 or math.isnan(self.sd):
            return self.bootstrap if self.n == 1 and self.bootstrap is not None else (math.nan, math.nan)
        from scipy.stats import t

        half = float(t.ppf(0.5 + level / 2, self.n - 1)) * self.sd / math.sqrt(self.n)
        return (self.mean - half, self.mean + half)

    @property
    def interval_over(self) -> str:
        """What :meth:`interval` resamples: "instances" (the mean over two or more), "test sentences" (one
        instance's sentence bootstrap), "probe seeds" (one instance's sd over its probe fits), "labels" (one instance's
        labels resampled), or "" (none)."""
        if self.n >= 2 and not math.isnan(self.sd):
            return "instances"
        return self.bootstrap_over if self.n == 1 and self.bootstrap is not None else ""


def spread(values: Sequence[float] | np.ndarray | pd.Series) -> Spread:
    """The spread of ``values`` over instances (or any other unit): mean, sd, min–max and n."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return Spread(math.nan, math.nan, math.nan, math.nan, 0)
    sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
    return Spread(float(v.mean()), sd, float(v.min()), float(v.max()), int(v.size))


def sentence_bootstrap(
    scores: np.ndarray,
    sentences: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Percentile interval of a token-level mean (an accuracy, or a paired difference of two) over test sentences.

    ``scores`` holds one value per token (1/0 for correct, or the difference of two such columns), ``sentences``
    each token's sentence id. Whole sentences are resampled with replacement (tokens of one sentence are not
    independent), ``resamples`` times, all at once: each resample's sentence counts come from one multinomial
    draw, and its mean is sum(count x sentence total) / sum(count x sentence length). Seeded: the same inputs
    give the same interval.
    """
    return sentence_bootstrap_contrast(scores, None, None, None, sentences, resamples, seed, level)


def sentence_bootstrap_contrast(
    a: np.ndarray,
    in_a: np.ndarray | None,
    b: np.ndarray | None,
    in_b: np.ndarray | None,
    sentences: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
    ratio: bool = False,
) -> tuple[float, float]:
    """Percentile interval of mean(a over the tokens ``in_a``) minus mean(b over the tokens ``in_b``), over test
    sentences: a difference between two groups of tokens (in-vocabulary minus OOV accuracy, open- minus
    closed-class), each resample drawing whole sentences once for both groups, as :func:`sentence_bootstrap`
    draws them (the same seed gives the same sentence counts). ``in_a`` None means every token; ``b`` None
    means no second term; with ``ratio`` the first mean is divided by the second instead (a share of an
    accuracy regained). NaN when a group has no tokens.
    """
    sums = sentence_resampler(sentences, resamples, seed)
    if sums is None:
        return (math.nan, math.nan)

    def means(scores: np.ndarray, inside: np.ndarray | None) -> np.ndarray:
        w = np.ones(len(scores)) if inside is None else np.asarray(inside, dtype=np.float64)
        if not w.any():
            return np.full(resamples, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums(np.asarray(scores, dtype=np.float64) * w) / sums(w)

    if ratio and b is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = means(a, in_a) / means(b, in_b)
        diff[~np.isfinite(diff)] = np.nan
    else:
        diff = means(a, in_a) - (0.0 if b is None else means(b, in_b))
    return percentile_interval(diff, level)


def sentence_resampler(
    sentences: np.ndarray, resamples: int = 1000, seed: int = 0
) -> Callable[[np.ndarray], np.ndarray] | None:
    """The sentence bootstrap's draws, as a function: a per-token vector to its sum in each of ``resamples``
    resamples of whole sentences (drawn with replacement, seeded; the draws of :func:`sentence_bootstrap`).
    Statistics that are not means (an F1, a ratio) are computed from such resampled sums. None without
    sentences."""
    _, sent = np.unique(np.asarray(sentences), return_inverse=True)
    n = int(sent.max()) + 1 if len(sent) else 0
    if n == 0:
        return None
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    return lambda values: counts @ np.bincount(sent, weights=np.asarray(values, dtype=np.float64), minlength=n)


def sd_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """The ``level`` confidence interval of a standard deviation from ``values`` (n of them, ddof 1), under normal
    theory: s * sqrt((n - 1) / chi2 quantile), the chi-square quantiles at (1 + level) / 2 and (1 - level) / 2 with
    n - 1 degrees of freedom (``scipy.stats.chi2``). Wide for few values (three give 0.52 s to 6.3 s at 95 %);
    NaN for fewer than two."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return (math.nan, math.nan)
    from scipy.stats import chi2

    s, df = float(np.std(x, ddof=1)), len(x) - 1
    return (
        s * math.sqrt(df / float(chi2.ppf(0.5 + level / 2, df))),
        s * math.sqrt(df / float(chi2.ppf(0.5 - level / 2, df))),
    )


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of a bootstrap's resampled statistics; NaN statistics (a
    resample without a group's tokens) are dropped, and NaN is returned when more than half are NaN."""
    values = np.asarray(values, dtype=np.float64)
    kept = values[~np.isnan(values)]
    if len(kept) == 0 or len(kept) < len(values) / 2:
        return (math.nan, math.nan)
    tail = (1 - level) / 2
    low, high = np.quantile(kept, [tail, 1 - tail])
    return (float(low), float(high))


def smallest_p(n: int, two_sided: bool = True) -> float:
    """The smallest p an exact sign or Wilcoxon signed-rank test can give on ``n`` non-zero differences.

    Every difference on one side: 1/2^n one-sided, 2/2^n two-sided (capped at 1). A test whose smallest p is
    not below alpha cannot reach a verdict, whatever the data.
    """
    if n < 1:
        return 1.0
    return min(1.0, (2.0 if two_sided else 1.0) / 2.0**n)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a test of a finding.

    ``p`` is the raw two-sided p-value (for an equivalence test: the larger of its two one-sided p-values);
    ``p_adj`` the Holm-adjusted p within the test's family (NaN until :meth:`adjusted` sets it), and the
    verdict word follows ``p_adj`` once it is set. ``effect`` is the spread of the paired differences
    (a - b) over units; ``p_min`` the smallest p the test could give at this n. ``margin`` is the
    equivalence margin (NaN for a difference test).
    """

    verdict: str
    p: float
    test: str
    n: int
    direction: str
    effect: Spread
    p_min: float = math.nan
    p_adj: float = math.nan
    margin: float = math.nan
    lean: int = 0
    """+1 when the differences lean the finding's way (or, for equivalence, lie inside the margin), -1 the other
    way, 0 for no lean: what a significant p turns into a verdict word."""
    against: str = ""
    """What ``b`` was, in words ("the paper's lambdas", "0"), for a comparison without an expected direction."""

    @property
    def tested(self) -> bool:
        """False for fewer than two units, which are not tested (no p is reported)."""
        return not self.verdict.startswith("not tested")

    def adjusted(self, p_adj: float, alpha: float = 0.05) -> Verdict:
        """This verdict with its family's adjusted p: a verdict whose adjusted p is not below ``alpha`` is
        inconclusive (adjusting only raises p, so it never creates a verdict)."""
        if not self.tested:
            return self
        word = _word(p_adj, alpha, self.lean, not math.isnan(self.margin), self.direction == EITHER)
        return replace(self, p_adj=p_adj, verdict=word)

    def describe(self) -> str:
        """The test in words: ``Wilcoxon signed-rank, two-sided, n=5 (smallest possible p 0.0625)``."""
        if not self.tested:
            return self.verdict
        kind = f"equivalence within ±{self.margin:g}" if not math.isnan(self.margin) else "two-sided"
        floor = "" if math.isnan(self.p_min) else f" (smallest possible p {self.p_min:.3g})"
        return f"{self.test}, {kind}, n={self.n}{floor}"

    def text(self) -> str:
        """``inconclusive (Wilcoxon signed-rank, two-sided, n=5 (smallest possible p 0.0625), p=0.0625)``."""
        if not self.tested:
            return self.verdict
        p = "n/a" if math.isnan(self.p) else f"{self.p:.3g}"
        adj = "" if math.isnan(self.p_adj) else f", Holm-adjusted p={self.p_adj:.3g}"
        return f"{self.verdict} ({self.describe()}, p={p}{adj})"


def _not_tested(n: int) -> str:
    """The verdict of fewer than two units: ``not tested, n = 1`` (or 0)."""
    return f"not tested, n = {n}"


def _word(p: float, alpha: float, lean: int, equivalence: bool = False, either: bool = False) -> str:
    """The verdict word of a p-value at ``alpha`` and the side the data lean to (``either``: a comparison with no
    expected direction, which can only differ)."""
    if not p < alpha or lean == 0:
        return INCONCLUSIVE
    if either:
        return DIFFERS
    if equivalence:
        return EQUIVALENT
    return AGREES if lean > 0 else DISAGREES


def _one_sided(d: np.ndarray, alternative: str, test: str) -> float:
    if test == "wilcoxon":
        from scipy.stats import wilcoxon

        return float(wilcoxon(d, zero_method="wilcox", alternative=alternative, method="auto").pvalue)
    from scipy.stats import binomtest

    return float(binomtest(int((d > 0).sum()), len(d), 0.5, alternative=alternative).pvalue)


def _nonzero(d: np.ndarray) -> np.ndarray:
    """The differences that are not ties: those at float rounding level are ties, not evidence."""
    return d[np.abs(d) > 1e-12 * max(1.0, float(np.abs(d).max(initial=0.0)))]


def _kind(test: str, nonzero: int, min_wilcoxon: int) -> tuple[str, str]:
    if test not in ("auto", "wilcoxon", "sign"):
        raise ValueError(f"test must be auto, wilcoxon or sign, got {test!r}")
    kind = test if test != "auto" else ("wilcoxon" if nonzero >= min_wilcoxon else "sign")
    return kind, ("Wilcoxon signed-rank" if kind == "wilcoxon" else "sign test")


def _differences(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.shape} and {b.shape}")
    d = a - b
    return d[~np.isnan(d)]


def paired_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    direction: str = "greater",
    alpha: float = 0.05,
    test: str = "auto",
    min_wilcoxon: int = 5,
) -> Verdict:
    """Test the finding "a > b" (``direction="greater"``) or "a < b" (``"less"``) on paired values, two-sided;
    ``direction="either"`` asks only whether they differ (verdict "differs" or "inconclusive"; ``lean`` says
    which way: +1 for a > b).

    ``a[i]`` and ``b[i]`` belong to the same unit (instance). ``test`` is
    ``wilcoxon``, ``sign`` or ``auto`` (Wilcoxon with at least ``min_wilcoxon``
    non-zero differences, else the sign test). Pairs with a NaN are dropped; a single pair is not tested.
    The verdict is "agrees" when the two-sided p is below ``alpha`` and the differences lean the finding's
    way, "disagrees" when they lean the other way, else "inconclusive".
    """
    if direction not in (*DIRECTIONS, EITHER):
        raise ValueError(f"direction must be one of {(*DIRECTIONS, EITHER)}, got {direction!r}")
    d = _differences(a, b)
    effect = spread(d)
    nz = _nonzero(d)
    kind, name = _kind(test, len(nz), min_wilcoxon)
    if len(d) < 2:
        return Verdict(_not_tested(len(d)), math.nan, name, len(d), direction, effect)
    if len(nz) == 0:
        return Verdict(INCONCLUSIVE, 1.0, name, len(d), direction, effect, p_min=1.0)
    side = "greater" if direction == EITHER else direction
    other = "less" if side == "greater" else "greater"
    p_for = _one_sided(nz, side, kind)
    p_against = _one_sided(nz, other, kind)
    p = min(1.0, 2 * min(p_for, p_against))
    lean = 1 if p_for < p_against else (-1 if p_against < p_for else 0)
    word = _word(p, alpha, lean, either=direction == EITHER)
    return Verdict(word, p, name, len(d), direction, effect, p_min=smallest_p(len(nz)), lean=lean)


def compare(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray | float,
    against: str,
    alpha: float = 0.05,
    test: str = "auto",
) -> Verdict:
    """Does ``a`` differ from ``b``? A two-sided paired test with no expected direction (see :func:`paired_test`).

    ``b`` is paired values or one reference value for every unit (a one-sample test against it); ``against``
    names it in the row's sentence ("the paper's lambdas", "0").
    """
    a = np.asarray(a, np.float64)
    b = np.full_like(a, float(b)) if np.ndim(b) == 0 else np.asarray(b, np.float64)
    return replace(paired_test(a, b, EITHER, alpha, test), against=against)


def equivalence_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    margin: float,
    alpha: float = 0.05,
    test: str = "auto",
    min_wilcoxon: int = 5,
) -> Verdict:
    """Two one-sided tests (TOST) of "a and b differ by less than ``margin``" on paired values.

    The differences d = a - b are tested twice: d + margin > 0 and d - margin < 0, each one-sided (Wilcoxon
    signed-rank or sign test, as in :func:`paired_test`). The equivalence p is the larger of the two; the
    verdict is "equivalent" when it is below ``alpha``, else "inconclusive" (a difference the test cannot
    exclude). With five units it can reach 1/32 = 0.031: every difference inside the margin.
    """
    if not margin > 0:
        raise ValueError(f"the equivalence margin must be positive, got {margin!r}")
    d = _differences(a, b)
    effect = spread(d)
    lower, upper = _nonzero(d + margin), _nonzero(d - margin)
    kind, name = _kind(test, min(len(lower), len(upper)), min_wilcoxon)
    if len(d) < 2:
        return Verdict(_not_tested(len(d)), math.nan, name, len(d), "equivalent", effect, margin=margin)
    p_lower = _one_sided(lower, "greater", kind) if len(lower) else 1.0
    p_upper = _one_sided(upper, "less", kind) if len(upper) else 1.0
    p = max(p_lower, p_upper)
    floor = smallest_p(min(len(lower), len(upper)), two_sided=False)
    word = _word(p, alpha, 1, equivalence=True)
    return Verdict(word, p, name, len(d), "equivalent", effect, p_min=floor, margin=margin, lean=1)


def unpaired_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    direction: str = "greater",
    alpha: float = 0.05,
) -> Verdict:
    """Test "values of group a are larger (or smaller) than those of group b" for two independent groups.

    A two-sided Mann-Whitney U test, for findings about kinds of units rather than
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
        return Verdict(_not_tested(len(a) + len(b)), math.nan, name, len(a) + len(b), direction, spread([]))
    effect = spread(a - np.median(b))
    other = "less" if direction == "greater" else "greater"
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    p_for = float(mannwhitneyu(a, b, alternative=direction).pvalue)
    p_against = float(mannwhitneyu(a, b, alternative=other).pvalue)
    lean = 1 if p_for < p_against else (-1 if p_against < p_for else 0)
    floor = 2.0 / math.comb(len(a) + len(b), len(a))
    return Verdict(_word(p, alpha, lean), p, name, len(a) + len(b), direction, effect, p_min=floor, lean=lean)


def holm(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaNs are not tests: they stay NaN).

    The i-th smallest of m p-values becomes max over j <= i of (m - j + 1) p_(j), capped at 1. Written here
    because scipy has only false-discovery-rate control, and a whole statsmodels dependency for these three
    lines is not worth it.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    steps = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return out


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
    """The summary columns of a verdict: verdict, test, raw p and adjusted p (empty when there is none; a
    single unit's verdict says "not tested, n = 1" and prints no p)."""
    if verdict is None:
        return {"verdict": "", "test": "", "p": "", "p_adj": ""}
    r = lambda v: "" if math.isnan(v) else round(v, 4)  # noqa: E731
    return {"verdict": verdict.verdict, "test": verdict.describe(), "p": r(verdict.p), "p_adj": r(verdict.p_adj)}


def spread_columns(s: Spread | None, digits: int = 3, scale: float = 1.0, level: float = LEVEL) -> dict[str, object]:
    """The summary columns of a spread: the interval of its mean (low, high), sd, min, max and n (empty when
    there is none)."""
    if s is None:
        return {"low": "", "high": "", "interval over": "", "sd": "", "min": "", "max": "", "n": ""}
    r = lambda v: "" if math.isnan(v) else round(scale * v, digits)  # noqa: E731
    low, high = s.interval(level)
    over = s.interval_over if r(low) != "" else ""
    return {
        "low": r(low),
        "high": r(high),
        "interval over": over,
        "sd": r(s.sd),
        "min": r(s.min),
        "max": r(s.max),
        "n": s.n,
    }
