"""Multiplicity adjustments for a family of comparisons: Holm and Benjamini-Hochberg.

Many subgroups or many detector pairs make a family of tests; reading each raw p-value against α
inflates the chance of a false claim. :func:`holm` gives step-down adjusted p-values that control
the family-wise error rate, :func:`benjamini_hochberg` step-up ones that control the false discovery
rate, and :func:`reject` reads adjusted values against α. Undefined comparisons are None, never NaN,
and stay out of the family. All three are re-exported by
:mod:`benchmarks.audit.comparisons.compare`, whose ``adjust_comparisons`` applies them to report
rows.

References:
    S. Holm (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6(2), 65-70.

    Y. Benjamini, Y. Hochberg (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. JRSS B 57(1), 289-300.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from benchmarks.metrics._validation import FloatArray

__all__ = ["benjamini_hochberg", "holm", "reject"]


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
