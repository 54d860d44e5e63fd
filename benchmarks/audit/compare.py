"""Comparing two detectors run on the same items: paired tests, multiplicity, plain readings.

Two detectors scored on the same conversations give *paired* results, and a paired test is
far more sensitive than comparing two separate intervals. This module holds the tests that
../shared/docs/AUDIT.md asks for ("Comparing two detectors on the same items"):

- :func:`mcnemar_exact`: the exact McNemar test on paired 0/1 decisions (alerts), optionally
  restricted by a mask, e.g. to the positives to compare recall, or to the negatives to
  compare false-positive rates.
- :func:`delong_test`: DeLong, DeLong & Clarke-Pearson (1988) for two correlated ROC-AUCs,
  computed with the O(n log n) midrank algorithm of Sun & Xu (2014). Neither scipy,
  statsmodels nor scikit-learn has it.
- :func:`holm` and :func:`benjamini_hochberg`: adjusted p-values for a family of comparisons
  (many subgroups, many detector pairs), and :func:`reject` to read them against α.
- :class:`Comparison`: one row of the report (two runs, a metric, the difference with its
  interval, raw and adjusted p-values, the method) with a plain-words ``reading`` written by
  :func:`describe_difference`, which says so plainly when a gap is not significant.

As in :mod:`benchmarks.metrics.classification`, data arguments are positional and options
keyword-only, and undefined values are None, never NaN.

References:
    E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson (1988). Comparing the areas under two
    or more correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44(3), 837-845.

    X. Sun, W. Xu (2014). Fast implementation of DeLong's algorithm for comparing the areas
    under correlated receiver operating characteristic curves. IEEE Signal Processing
    Letters 21(11), 1389-1393.

    Q. McNemar (1947). Note on the sampling error of the difference between correlated
    proportions or percentages. Psychometrika 12(2), 153-157.

    S. Holm (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6(2), 65-70.

    Y. Benjamini, Y. Hochberg (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. JRSS B 57(1), 289-300.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.metrics._validation import (
    FloatArray,
    IntArray,
    as_floats,
    as_labels,
    check_lengths,
)

__all__ = [
    "Comparison",
    "DeLongResult",
    "IntervalLike",
    "McNemarResult",
    "adjust_comparisons",
    "benjamini_hochberg",
    "delong_auc_variance",
    "delong_test",
    "describe_difference",
    "holm",
    "mcnemar_exact",
    "reject",
]

DELONG_METHOD = "DeLong (Sun & Xu fast algorithm)"


# --------------------------------------------------------------------------------------------
# Exact McNemar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class McNemarResult:
    """The exact McNemar test on two detectors' paired decisions.

    Attributes:
        b01: rows where detector A said 0 and detector B said 1.
        b10: rows where detector A said 1 and detector B said 0.
        statistic: ``min(b01, b10)``, the exact test's statistic as statsmodels reports it.
        p_value: two-sided exact binomial p-value of ``b10`` out of ``b01 + b10`` at 1/2.
        n: rows compared (after the mask).
        difference: share of 1s under A minus share under B, ``(b10 - b01) / n``: the
            recall difference when the mask keeps the positives, the FPR difference when it
            keeps the negatives. None when no row was compared.
        method: always ``"exact binomial"``.
        note: why the test has nothing to weigh, when that is so.
    """

    b01: int
    b10: int
    statistic: int
    p_value: float
    n: int
    difference: float | None
    method: str = "exact binomial"
    note: str | None = None


def mcnemar_exact(
    y_pred_a: ArrayLike, y_pred_b: ArrayLike, *, mask: ArrayLike | None = None
) -> McNemarResult:
    """Test whether two detectors' paired 0/1 decisions differ, exactly.

    Only the discordant rows carry information: under the null hypothesis that both detectors
    fire equally often, each discordant row is equally likely to be a ``10`` or a ``01``, so
    ``b10 ~ Binomial(b01 + b10, 1/2)`` and the two-sided exact binomial test applies. It
    agrees with ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True)``.

    Restrict the rows with ``mask`` to compare a conditional rate: ``mask=(y_true == 1)``
    compares recall, ``mask=(y_true == 0)`` compares the false-positive rate. To compare
    accuracy, pass correctness indicators (``y_pred == y_true``) as the decisions.

    Args:
        y_pred_a: 0/1 decisions of detector A, one per item.
        y_pred_b: 0/1 decisions of detector B on the same items, in the same order.
        mask: optional 0/1 or boolean selector of the rows to compare.

    Returns:
        The discordant counts, the exact p-value and the difference in rates. With no
        discordant row the p-value is 1.0 and ``note`` says why.

    Raises:
        ValueError: on inputs that are not 1-D 0/1 arrays of one length.

    Examples:
        >>> r = mcnemar_exact([1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1])
        >>> r.b01, r.b10, r.statistic, round(r.p_value, 4)  # 2·P(X <= 1), X ~ Bin(6, 1/2)
        (1, 5, 1, 0.2188)
        >>> y_true = [1, 1, 1, 0, 0]
        >>> r = mcnemar_exact([1, 1, 0, 1, 0], [0, 0, 0, 1, 1], mask=[t == 1 for t in y_true])
        >>> r.n, r.difference  # recall 2/3 against 0/3
        (3, 0.6666666666666666)
        >>> mcnemar_exact([1, 0], [1, 0]).note
        'no discordant pairs: both detectors made the same decision on every row compared'
    """
    a = as_labels(y_pred_a, "y_pred_a")
    b = as_labels(y_pred_b, "y_pred_b")
    check_lengths(y_pred_a=a, y_pred_b=b)
    if mask is not None:
        keep = as_labels(mask, "mask").astype(bool)
        check_lengths(y_pred_a=a, mask=keep)
        a, b = a[keep], b[keep]
    n = len(a)
    b01 = int(np.sum((a == 0) & (b == 1)))
    b10 = int(np.sum((a == 1) & (b == 0)))
    difference = None if n == 0 else (b10 - b01) / n
    if b01 + b10 == 0:
        # binomtest(0, 0) raises; with nothing discordant the data cannot favour either side.
        note = (
            "no rows to compare"
            if n == 0
            else "no discordant pairs: both detectors made the same decision on every row compared"
        )
        return McNemarResult(b01, b10, 0, 1.0, n, difference, note=note)
    # Imported here: scipy.stats costs a few hundred milliseconds, paid only when a test runs.
    from scipy.stats import binomtest

    p_value = min(1.0, float(binomtest(b10, b01 + b10, 0.5).pvalue))
    return McNemarResult(b01, b10, min(b01, b10), p_value, n, difference)


# --------------------------------------------------------------------------------------------
# DeLong for correlated ROC-AUCs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeLongResult:
    """DeLong's test of ``AUC(A) - AUC(B)`` for two scores of the same items.

    Every numeric field is None when it is undefined (one class missing, fewer than two
    items in a class, or a zero variance with a non-zero difference); ``note`` says why.

    Attributes:
        auc_a: ROC-AUC of score A.
        auc_b: ROC-AUC of score B.
        difference: ``auc_a - auc_b``.
        se: DeLong standard error of the difference.
        z: ``difference / se``.
        p_value: two-sided normal p-value of ``z``.
        low: lower end of the ``level`` Wald interval of the difference, clipped to [-1, 1].
        high: upper end of that interval.
        level: the interval's confidence level.
        n_pos: number of positive items.
        n_neg: number of negative items.
        method: how the numbers were computed.
        note: why some field is None, or a caveat the reader needs.
    """

    auc_a: float | None
    auc_b: float | None
    difference: float | None
    se: float | None
    z: float | None
    p_value: float | None
    low: float | None
    high: float | None
    level: float
    n_pos: int
    n_neg: int
    method: str = DELONG_METHOD
    note: str | None = None


def delong_auc_variance(y_true: ArrayLike, score: ArrayLike) -> tuple[float | None, float | None]:
    """Return one score's ROC-AUC and DeLong's estimate of its variance.

    The AUC is the Mann-Whitney probability that a random positive outscores a random
    negative, ties counting one half (scikit-learn's ``roc_auc_score``). Higher scores are
    taken to mean "more likely positive": the direction is never flipped to make the AUC
    exceed 0.5 (pROC's ``direction="auto"`` does that, and biases the AUC upwards).

    Args:
        y_true: 0/1 labels.
        score: one finite score per item.

    Returns:
        ``(auc, variance)``. The AUC is None unless both classes are present; the variance is
        None unless there are at least two positives and two negatives (DeLong's sample
        variances divide by ``n - 1``). The variance is exactly 0.0 when every positive
        outscores the same share of negatives and vice versa, e.g. perfect separation: the
        normal approximation then says nothing.

    Raises:
        ValueError: on labels other than 0/1, non-finite scores or unequal lengths.

    Examples:
        >>> delong_auc_variance([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])  # V10 = V01 = (1/2, 1)
        (0.75, 0.125)
        >>> delong_auc_variance([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])
        (1.0, 0.0)
        >>> delong_auc_variance([0, 0], [0.1, 0.2])
        (None, None)
    """
    labels, scores = _scored(y_true, score)
    n_pos, n_neg = _class_sizes(labels)
    if n_pos == 0 or n_neg == 0:
        return None, None
    aucs, v10, v01 = _structural_components(labels, scores[np.newaxis, :])
    if n_pos < 2 or n_neg < 2:
        return float(aucs[0]), None
    return float(aucs[0]), _component_variance(v10[0], v01[0])


def delong_test(
    y_true: ArrayLike, score_a: ArrayLike, score_b: ArrayLike, *, level: float = 0.95
) -> DeLongResult:
    """Test whether two scores of the same items have the same ROC-AUC (DeLong 1988).

    Each positive ``i`` gets the structural component ``V10[i]``, the share of negatives it
    outscores (ties one half), and each negative ``j`` gets ``V01[j]``, the share of positives
    that outscore it; both average to the AUC. The variance of ``AUC(A) - AUC(B)`` is
    ``var(V10_A - V10_B) / n_pos + var(V01_A - V01_B) / n_neg`` (sample variances), which
    carries the correlation between the two scores. Sun & Xu (2014) obtain every component
    from three sets of midranks (within positives, within negatives, and pooled), so the test
    costs O(n log n) rather than O(n_pos · n_neg).

    The interval is the Wald interval ``difference ± z_(1+level)/2 · se``, clipped to
    [-1, 1] where an AUC difference lives. Items are assumed independent: when one author
    contributes many conversations, prefer the paired cluster bootstrap.

    Args:
        y_true: 0/1 labels.
        score_a: detector A's finite scores (higher = more likely positive).
        score_b: detector B's finite scores for the same items, in the same order.
        level: confidence level of the interval, strictly between 0 and 1.

    Returns:
        A :class:`DeLongResult`. With one class missing every number is None. With fewer
        than two positives or two negatives the AUCs are given but no test. A zero variance
        with a zero difference (the same ranking, or both perfect) gives z = 0 and p = 1; a
        zero variance with a non-zero difference gives no test. ``note`` says which.

    Raises:
        ValueError: on bad labels, non-finite scores, unequal lengths or a level outside (0, 1).

    Examples:
        >>> r = delong_test([0, 0, 0, 1, 1, 1], [0.1, 0.3, 0.6, 0.4, 0.8, 0.9],
        ...                 [0.2, 0.5, 0.1, 0.3, 0.7, 0.4])
        >>> round(r.auc_a, 4), round(r.auc_b, 4), round(r.z, 3), round(r.p_value, 3)
        (0.8889, 0.7778, 0.354, 0.724)
        >>> delong_test([1, 1, 1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]).note
        'ROC-AUC needs both classes: got 3 positives and 0 negatives'
    """
    _check_level(level)
    labels, a = _scored(y_true, score_a, name="score_a")
    b = as_floats(score_b, "score_b", finite=True)
    check_lengths(y_true=labels, score_a=a, score_b=b)
    n_pos, n_neg = _class_sizes(labels)

    def undefined(
        note: str, auc_a: float | None = None, auc_b: float | None = None
    ) -> DeLongResult:
        difference = None if auc_a is None or auc_b is None else auc_a - auc_b
        return DeLongResult(
            auc_a, auc_b, difference, None, None, None, None, None, level, n_pos, n_neg, note=note
        )

    if n_pos == 0 or n_neg == 0:
        return undefined(f"ROC-AUC needs both classes: got {n_pos} positives and {n_neg} negatives")
    aucs, v10, v01 = _structural_components(labels, np.vstack([a, b]))
    auc_a, auc_b = float(aucs[0]), float(aucs[1])
    if n_pos < 2 or n_neg < 2:
        return undefined(
            "DeLong's variance needs at least two positives and two negatives: "
            f"got {n_pos} and {n_neg}",
            auc_a,
            auc_b,
        )
    difference = auc_a - auc_b
    variance = _component_variance(v10[0] - v10[1], v01[0] - v01[1])
    if variance == 0.0:
        if difference == 0.0:
            note = (
                "zero variance: every item is outranked equally often under both scores "
                "(e.g. the same ranking, or both perfect); the data show no difference"
            )
            return DeLongResult(
                auc_a, auc_b, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, level, n_pos, n_neg, note=note
            )
        return undefined(
            "zero variance with a non-zero difference (e.g. one score separates the classes "
            "perfectly and the other is constant): DeLong's normal approximation does not "
            "apply; use the paired bootstrap",
            auc_a,
            auc_b,
        )
    se = math.sqrt(variance)
    z = difference / se
    # erfc keeps full relative precision for tiny p-values, where 1 - Φ(|z|) would round to 0.
    p_value = math.erfc(abs(z) / math.sqrt(2.0))
    half_width = NormalDist().inv_cdf((1.0 + level) / 2.0) * se
    low = max(-1.0, difference - half_width)
    high = min(1.0, difference + half_width)
    return DeLongResult(auc_a, auc_b, difference, se, z, p_value, low, high, level, n_pos, n_neg)


def _structural_components(
    labels: IntArray, scores: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return each score row's AUC, V10 (per positive) and V01 (per negative): Sun & Xu (2014).

    ``scores`` has one row per detector. With ``m`` positives and ``n`` negatives, let ``T_X``
    be the midranks of a positive among the positives, ``T_Y`` of a negative among the
    negatives and ``T_Z`` of either among all items. Then ``T_Z - T_X`` counts the negatives
    below a positive (ties one half), so ``V10 = (T_Z - T_X) / n``; likewise
    ``V01 = 1 - (T_Z - T_Y) / m``, and ``AUC = (ΣT_Z[positives] - m(m+1)/2) / (m·n)``.
    """
    positive = labels == 1
    pos, neg = scores[:, positive], scores[:, ~positive]
    m, n = pos.shape[1], neg.shape[1]
    t_x = np.vstack([_midranks(row) for row in pos])
    t_y = np.vstack([_midranks(row) for row in neg])
    t_z = np.vstack([_midranks(row) for row in np.hstack([pos, neg])])
    # Rank sums are exact in float64 (half-integers far below 2**53), so the AUC is the exact
    # Mann-Whitney ratio rounded once, and equal rankings give bit-identical components.
    aucs = (t_z[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    v10 = (t_z[:, :m] - t_x) / n
    v01 = 1.0 - (t_z[:, m:] - t_y) / m
    return aucs, v10, v01


def _midranks(values: FloatArray) -> FloatArray:
    """Return 1-based ranks with each run of tied values given its average rank.

    Sun & Xu's Algorithm 1, vectorised: sort once, find the runs of equal values, and give
    every member of a run spanning sorted positions ``[s, e)`` the rank ``(s + 1 + e) / 2``.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return ranks


def _component_variance(v10: FloatArray, v01: FloatArray) -> float:
    """Return ``var(v10) / len(v10) + var(v01) / len(v01)`` with sample (n - 1) variances.

    Constant components give exactly 0.0: np.var of a constant array can come out at 1e-33
    from the rounding of its mean, which would turn "no variance" into an absurd z.
    """
    if np.all(v10 == v10[0]) and np.all(v01 == v01[0]):
        return 0.0
    return float(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))


def _scored(
    y_true: ArrayLike, score: ArrayLike, *, name: str = "score"
) -> tuple[IntArray, FloatArray]:
    labels = as_labels(y_true, "y_true")
    scores = as_floats(score, name, finite=True)
    check_lengths(y_true=labels, **{name: scores})
    return labels, scores


def _class_sizes(labels: IntArray) -> tuple[int, int]:
    n_pos = int(labels.sum())
    return n_pos, len(labels) - n_pos


def _check_level(level: float) -> None:
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")


# --------------------------------------------------------------------------------------------
# Multiplicity
# --------------------------------------------------------------------------------------------


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Return Holm's step-down adjusted p-values (family-wise error control).

    With the ``m`` defined p-values sorted ascending, the ``k``-th (1-based) is adjusted to
    ``max over j <= k of min(1, (m - j + 1) · p_(j))``: monotone in the raw p-values and
    capped at 1. Rejecting where the adjusted value is at most α controls the probability of
    any false rejection at α, under any dependence between the tests. Matches
    ``statsmodels.stats.multitest.multipletests(method="holm")``.

    None entries (comparisons that are undefined, e.g. a metric with no positives in a
    subgroup) are passed through as None and are not counted in the family: a test that was
    never run cannot produce a false rejection.

    Args:
        p_values: raw p-values in [0, 1], or None.

    Returns:
        Adjusted p-values in the input order.

    Raises:
        ValueError: on a NaN, a non-number, or a value outside [0, 1].

    Examples:
        >>> holm([0.01, 0.04, 0.03, None])  # m = 3: 3·0.01, max(0.03, 2·0.03), max(0.06, 0.04)
        [0.03, 0.06, 0.06, None]
        >>> holm([0.5, 0.6])
        [1.0, 1.0]
    """
    where, p = _family(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = (m - np.arange(m)) * p[order]
    adjusted = np.minimum(1.0, np.maximum.accumulate(stepped))
    return _scatter(p_values, where, order, adjusted)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Return Benjamini-Hochberg step-up adjusted p-values (false discovery rate control).

    With the ``m`` defined p-values sorted ascending, the ``k``-th (1-based) is adjusted to
    ``min over j >= k of min(1, m · p_(j) / j)``: monotone and capped at 1. Rejecting where
    the adjusted value is at most q keeps the expected share of false discoveries among the
    rejections at most q (for independent or positively dependent tests). Matches
    ``statsmodels.stats.multitest.multipletests(method="fdr_bh")``.

    None entries are passed through as None and excluded from the family, as in :func:`holm`.

    Args:
        p_values: raw p-values in [0, 1], or None.

    Returns:
        Adjusted p-values in the input order.

    Raises:
        ValueError: on a NaN, a non-number, or a value outside [0, 1].

    Examples:
        >>> benjamini_hochberg([0.01, 0.04, 0.03, None])  # 3·0.01/1, then 3·0.04/3 for both
        [0.03, 0.04, 0.04, None]
    """
    where, p = _family(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = m * p[order] / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(stepped[::-1])[::-1])
    return _scatter(p_values, where, order, adjusted)


def reject(adjusted: Sequence[float | None], alpha: float) -> list[bool | None]:
    """Return, for each adjusted p-value, whether it is at most ``alpha``; None stays None.

    Examples:
        >>> reject([0.03, 0.06, None], 0.05)
        [True, False, None]
    """
    _check_alpha(alpha)
    _family(adjusted)  # validates
    return [None if p is None else bool(p <= alpha) for p in adjusted]


def _family(p_values: Sequence[float | None]) -> tuple[list[int], FloatArray]:
    """Return the positions of the defined p-values and those values, validated."""
    where: list[int] = []
    values: list[float] = []
    for i, p in enumerate(p_values):
        if p is None:
            continue
        try:
            value = float(p)
        except (TypeError, ValueError):
            raise ValueError(f"p-value {i} is not a number: {p!r}") from None
        if math.isnan(value):
            raise ValueError(f"p-value {i} is NaN: use None for an undefined comparison")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"p-value {i} must lie in [0, 1], got {value}")
        where.append(i)
        values.append(value)
    return where, np.asarray(values, dtype=np.float64)


def _scatter(
    p_values: Sequence[float | None],
    where: list[int],
    order: NDArray[np.intp],
    adjusted: FloatArray,
) -> list[float | None]:
    """Put the adjusted values (in sorted order) back at their input positions."""
    out: list[float | None] = [None] * len(p_values)
    for rank, k in enumerate(order):
        out[where[int(k)]] = float(adjusted[rank])
    return out


def _check_alpha(alpha: float) -> None:
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}")


# --------------------------------------------------------------------------------------------
# The report's comparison row
# --------------------------------------------------------------------------------------------


class IntervalLike(Protocol):
    """What :meth:`Comparison.from_interval` reads: the fields of an audit ``Interval``."""

    @property
    def estimate(self) -> float | None: ...

    @property
    def low(self) -> float | None: ...

    @property
    def high(self) -> float | None: ...

    @property
    def level(self) -> float: ...

    @property
    def method(self) -> str: ...

    @property
    def note(self) -> str | None: ...


ADJUSTMENTS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One comparison of two runs on one metric, as the report shows it.

    Numbers are plain floats (numpy scalars are converted) so the record serialises to JSON
    as is; undefined ones are None, and NaN is refused. ``reading`` is not passed in: it is
    written from the numbers by :func:`describe_difference`, so it cannot disagree with them.

    Attributes:
        run_a: name of the first run.
        run_b: name of the second run.
        metric: the metric compared, e.g. ``"recall"``.
        estimate: metric of A minus metric of B; None when undefined.
        low: lower end of the interval of the difference, or None.
        high: upper end of that interval, or None.
        level: the interval's confidence level; required with an interval.
        p_value: raw p-value of the paired test, or None.
        adjusted_p_value: p-value adjusted for multiplicity, or None.
        adjustment: name of the adjustment (``"Holm"``, ``"Benjamini-Hochberg"``).
        method: how the interval and the p-value were obtained.
        alpha: significance level the reading uses.
        note: a caveat carried from the computation, e.g. why the estimate is undefined.
        reading: one plain-words sentence (derived).

    Raises:
        ValueError: on NaN, a p-value outside [0, 1], ``low > high``, half an interval, an
            interval without its level, or an adjusted p-value without the adjustment's name.

    Examples:
        >>> c = Comparison(run_a="A", run_b="B", metric="recall", estimate=0.05, low=-0.01,
        ...                high=0.11, level=0.95, p_value=0.12, method="paired bootstrap")
        >>> print(c.reading)  # doctest: +NORMALIZE_WHITESPACE
        recall: A − B = +0.05 (95% interval -0.01 to +0.11), p = 0.12: not significant at
        α=0.05; the data cannot tell A and B apart on recall.
    """

    run_a: str
    run_b: str
    metric: str
    estimate: float | None
    low: float | None = None
    high: float | None = None
    level: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    adjustment: str | None = None
    method: str
    alpha: float = 0.05
    note: str | None = None
    reading: str = field(init=False)

    def __post_init__(self) -> None:
        for name in ("estimate", "low", "high", "level", "p_value", "adjusted_p_value"):
            value = getattr(self, name)
            if value is not None:
                value = float(value)
                if math.isnan(value):
                    raise ValueError(f"{name} is NaN: use None for an undefined value")
                object.__setattr__(self, name, value)
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(
            self,
            "reading",
            describe_difference(
                self.run_a,
                self.run_b,
                self.metric,
                self.estimate,
                low=self.low,
                high=self.high,
                level=self.level,
                p_value=self.p_value,
                adjusted_p_value=self.adjusted_p_value,
                adjustment=self.adjustment,
                alpha=self.alpha,
                note=self.note,
            ),
        )

    @classmethod
    def from_interval(
        cls,
        interval: IntervalLike,
        *,
        run_a: str,
        run_b: str,
        metric: str,
        p_value: float | None = None,
        test: str | None = None,
        alpha: float = 0.05,
    ) -> Comparison:
        """Build a row from an interval of the difference (e.g. a paired bootstrap's).

        Args:
            interval: anything with ``estimate``, ``low``, ``high``, ``level``, ``method``
                and ``note``, such as :class:`benchmarks.audit.intervals.Interval`.
            run_a: name of the first run (the difference is A minus B).
            run_b: name of the second run.
            metric: the metric compared.
            p_value: p-value of a paired test of the same difference, if one was run.
            test: name of that test, appended to the method (e.g. ``"exact McNemar"``).
            alpha: significance level for the reading.

        Examples:
            >>> from types import SimpleNamespace
            >>> iv = SimpleNamespace(estimate=0.04, low=0.01, high=0.07, level=0.95,
            ...                      method="paired bootstrap (percentile)", note=None)
            >>> c = Comparison.from_interval(iv, run_a="A", run_b="B", metric="recall",
            ...                              p_value=0.008, test="exact McNemar")
            >>> c.method
            'paired bootstrap (percentile); exact McNemar'
        """
        method = interval.method if test is None else f"{interval.method}; {test}"
        return cls(
            run_a=run_a,
            run_b=run_b,
            metric=metric,
            estimate=interval.estimate,
            low=interval.low,
            high=interval.high,
            level=interval.level,
            p_value=p_value,
            method=method,
            alpha=alpha,
            note=interval.note,
        )

    @classmethod
    def from_mcnemar(
        cls,
        result: McNemarResult,
        *,
        run_a: str,
        run_b: str,
        metric: str,
        alpha: float = 0.05,
    ) -> Comparison:
        """Build a row from :func:`mcnemar_exact`'s result, without an interval.

        ``metric`` names the rate the mask selected (``"recall"`` for the positives). For an
        interval as well, pass a paired bootstrap's to :meth:`from_interval` with this
        p-value and ``test="exact McNemar"``.

        Examples:
            >>> r = mcnemar_exact([1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1])
            >>> print(Comparison.from_mcnemar(r, run_a="A", run_b="B", metric="alert rate")
            ...       .reading)  # doctest: +NORMALIZE_WHITESPACE
            alert rate: A − B = +0.571, p = 0.219: not significant at α=0.05; the data cannot
            tell A and B apart on alert rate.
        """
        return cls(
            run_a=run_a,
            run_b=run_b,
            metric=metric,
            estimate=result.difference,
            p_value=result.p_value,
            method=f"exact McNemar ({result.method})",
            alpha=alpha,
            note=result.note,
        )

    @classmethod
    def from_delong(
        cls,
        result: DeLongResult,
        *,
        run_a: str,
        run_b: str,
        metric: str = "ROC-AUC",
        alpha: float = 0.05,
    ) -> Comparison:
        """Build a row from :func:`delong_test`'s result (score A is ``run_a``).

        Examples:
            >>> r = delong_test([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4])
            >>> Comparison.from_delong(r, run_a="A", run_b="B").p_value
            1.0
        """
        return cls(
            run_a=run_a,
            run_b=run_b,
            metric=metric,
            estimate=result.difference,
            low=result.low,
            high=result.high,
            level=result.level if result.low is not None else None,
            p_value=result.p_value,
            method=result.method,
            alpha=alpha,
            note=result.note,
        )


def adjust_comparisons(
    comparisons: Sequence[Comparison], *, method: Literal["holm", "bh"] = "holm"
) -> list[Comparison]:
    """Return the comparisons with their p-values adjusted as one family, readings rewritten.

    ``method="holm"`` controls the family-wise error rate (many subgroups where any false
    claim matters); ``method="bh"`` the false discovery rate (screening many pairs). Rows
    without a p-value stay unadjusted and do not count in the family.

    Examples:
        >>> rows = [Comparison(run_a="A", run_b="B", metric=m, estimate=0.05, p_value=p,
        ...                    method="exact McNemar") for m, p in [("recall", 0.03),
        ...                                                         ("FPR", 0.02)]]
        >>> [c.adjusted_p_value for c in adjust_comparisons(rows)]
        [0.04, 0.04]
        >>> print(adjust_comparisons(rows)[0].reading)  # doctest: +NORMALIZE_WHITESPACE
        recall: A − B = +0.05, Holm-adjusted p = 0.04: significant at α=0.05; A is higher than
        B on recall.
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"method must be one of {sorted(ADJUSTMENTS)}, got {method!r}")
    raw = [c.p_value for c in comparisons]
    adjusted = holm(raw) if method == "holm" else benjamini_hochberg(raw)
    return [
        replace(c, adjusted_p_value=p, adjustment=None if p is None else ADJUSTMENTS[method])
        for c, p in zip(comparisons, adjusted, strict=True)
    ]


def describe_difference(
    run_a: str,
    run_b: str,
    metric: str,
    estimate: float | None,
    *,
    low: float | None = None,
    high: float | None = None,
    level: float | None = None,
    p_value: float | None = None,
    adjusted_p_value: float | None = None,
    adjustment: str | None = None,
    alpha: float = 0.05,
    note: str | None = None,
) -> str:
    """Say in plain words what a difference between two runs does and does not show.

    The decision uses the adjusted p-value when there is one, else the raw p-value, else
    whether the interval excludes 0. A gap that is not significant is called that, with the
    consequence spelled out: the data cannot tell the two detectors apart on this metric
    (AUDIT.md: "A 5-point F1 gap on a few hundred positives is often not significant: say
    so"). When the test and the interval disagree (they may come from different methods),
    the reading says so rather than picking one silently.

    Args:
        run_a: name of the first run.
        run_b: name of the second run.
        metric: the metric compared.
        estimate: metric of A minus metric of B, or None when undefined.
        low: lower end of the interval of the difference.
        high: upper end of the interval.
        level: confidence level of the interval, required with one.
        p_value: raw p-value of a paired test.
        adjusted_p_value: the p-value after a multiplicity adjustment.
        adjustment: the adjustment's name, required with ``adjusted_p_value``.
        alpha: significance level.
        note: why the estimate or the test is undefined, shown when it is.

    Returns:
        One or two sentences.

    Raises:
        ValueError: on a p-value outside [0, 1], half an interval, ``low > high``, an
            interval without its level, or an adjusted p-value without the adjustment's name.

    Examples:
        >>> print(describe_difference("A", "B", "F1", 0.05, low=-0.02, high=0.12, level=0.95,
        ...                           p_value=0.16))  # doctest: +NORMALIZE_WHITESPACE
        F1: A − B = +0.05 (95% interval -0.02 to +0.12), p = 0.16: not significant at α=0.05;
        the data cannot tell A and B apart on F1.
        >>> print(describe_difference("A", "B", "FPR", -0.004, low=-0.006, high=-0.002,
        ...                           level=0.9))  # doctest: +NORMALIZE_WHITESPACE
        FPR: A − B = -0.004 (90% interval -0.006 to -0.002), the interval excludes 0:
        significant at α=0.05; A is lower than B on FPR.
        >>> print(describe_difference("A", "B", "recall", None, note="no positives here"))
        recall: undefined for A or B (no positives here); no comparison is possible.
    """
    _check_alpha(alpha)
    for name, p in (("p_value", p_value), ("adjusted_p_value", adjusted_p_value)):
        if p is not None and not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {p}")
    if adjusted_p_value is not None and not adjustment:
        raise ValueError("an adjusted p-value needs the adjustment's name")
    if (low is None) != (high is None):
        raise ValueError("give both ends of the interval (low and high) or neither")
    interval: tuple[float, float, float] | None = None
    if low is not None and high is not None:
        if level is None:
            raise ValueError("an interval needs its confidence level")
        _check_level(level)
        if low > high:
            raise ValueError(f"low must not exceed high, got {low} > {high}")
        interval = (low, high, level)

    if estimate is None:
        why = f" ({note})" if note else ""
        return f"{metric}: undefined for {run_a} or {run_b}{why}; no comparison is possible."
    head = f"{metric}: {run_a} − {run_b} = {_signed(estimate)}"
    excludes_0 = False
    if interval is not None:
        head += f" ({_percent(interval[2])} interval {_signed(interval[0])} to "
        head += f"{_signed(interval[1])})"
        excludes_0 = interval[0] > 0 or interval[1] < 0

    if adjusted_p_value is not None:
        significant = adjusted_p_value <= alpha
        basis = f"{adjustment}-adjusted p {_p(adjusted_p_value)}"
    elif p_value is not None:
        significant = p_value <= alpha
        basis = f"p {_p(p_value)}"
    elif interval is not None:
        significant = excludes_0
        basis = f"the interval {'excludes' if excludes_0 else 'includes'} 0"
    else:
        why = f" ({note})" if note else ""
        return (
            f"{head}: no test and no interval{why}, so nothing can be said about whether "
            f"{run_a} and {run_b} differ on {metric}."
        )

    if not significant:
        text = (
            f"{head}, {basis}: not significant at α={alpha:g}; the data cannot tell "
            f"{run_a} and {run_b} apart on {metric}."
        )
        if excludes_0:
            text += " The interval excludes 0 although the test does not reject: read with care."
        return text
    if estimate > 0:
        direction = "higher than"
    elif estimate < 0:
        direction = "lower than"
    else:
        direction = "different from"
    text = (
        f"{head}, {basis}: significant at α={alpha:g}; {run_a} is {direction} {run_b} on {metric}."
    )
    if interval is not None and not excludes_0:
        text += " The interval includes 0 although the test rejects: read with care."
    return text


def _signed(x: float) -> str:
    # Three significant digits: enough to compare, and small FPR gaps stay visible.
    return f"{x:+.3g}"


def _percent(level: float) -> str:
    return f"{level * 100:g}%"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3g}"
