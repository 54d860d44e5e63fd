"""DeLong's test for two correlated ROC-AUCs, with the fast midrank algorithm of Sun & Xu.

Two detectors scored on the same conversations give correlated ROC-AUCs; DeLong, DeLong &
Clarke-Pearson (1988) estimate the variance of their difference from per-item structural
components, and Sun & Xu (2014) compute those from midranks in O(n log n). Neither scipy,
statsmodels nor scikit-learn has it. :func:`delong_auc_variance` gives one score's AUC and
its variance, :func:`delong_test` the paired test. Both are re-exported by
:mod:`benchmarks.audit.comparisons.compare`, which turns a result into a report row
(``Comparison.from_delong``).

As in :mod:`benchmarks.metrics.classification`, data arguments are positional and options
keyword-only, and undefined values are None, never NaN.

References:
    E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson (1988). Comparing the areas under two
    or more correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44(3), 837-845.

    X. Sun, W. Xu (2014). Fast implementation of DeLong's algorithm for comparing the areas
    under correlated receiver operating characteristic curves. IEEE Signal Processing
    Letters 21(11), 1389-1393.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validation import (
    FloatArray,
    IntArray,
    as_floats,
    as_labels,
    check_lengths,
)

__all__ = [
    "DELONG_METHOD",
    "DeLongResult",
    "delong_auc_variance",
    "delong_test",
]

DELONG_METHOD = "DeLong (Sun & Xu fast algorithm)"


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
