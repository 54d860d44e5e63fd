"""Confidence intervals for plain rates: exact Clopper–Pearson, Wilson and Jeffreys.

A plain rate is k successes out of n trials counted in a confusion table: recall = TP / (TP +
FN), FPR = FP / (FP + TN), specificity, precision *conditional on the alerts* (TP / (TP + FP),
the n alerts taken as fixed), the share of escalating positives detected before escalation. For
these the binomial model gives intervals with no resampling at all (``../shared/docs/AUDIT.md``,
"Intervals"):

- ``"clopper-pearson"`` (exact): never below its nominal coverage; use it for decisions
  (verdicts, non-inferiority bounds).
- ``"wilson"`` and ``"jeffreys"``: shorter, coverage close to nominal on average; for display.
- Wald (p ± z·√(p(1−p)/n)) is never offered: it collapses to [0, 0] at k = 0, exactly where an
  auditor needs the "3/n" bound.

The binomial model treats the n trials as independent. When conversations are clustered (one
author, many conversations) the exact interval is too narrow; :func:`rate_intervals` says so in
the interval's note, and :mod:`benchmarks.audit.stats.bootstrap` resamples whole clusters instead.

Undefined rates (n = 0) give an :class:`Interval` with ``method="undefined"`` and None bounds:
never NaN, never an exception.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import stats

from benchmarks.metrics.outcomes import Outcomes

#: Interval methods for rates: the names accepted by :func:`rate_interval`.
RATE_METHODS: tuple[str, ...] = ("clopper-pearson", "wilson", "jeffreys")

#: Every value of :attr:`Interval.method`.
INTERVAL_METHODS: tuple[str, ...] = (*RATE_METHODS, "bca", "percentile", "undefined")

# scipy's names for the two methods it computes.
_SCIPY_METHOD = {"clopper-pearson": "exact", "wilson": "wilson"}


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval and how it was computed.

    Attributes:
        estimate: the point estimate on the full data; None when the metric is undefined.
        low: lower end of the interval; None when undefined.
        high: upper end of the interval; None when undefined.
        level: two-sided confidence level, e.g. 0.95.
        method: ``"clopper-pearson"``, ``"wilson"``, ``"jeffreys"``, ``"bca"``,
            ``"percentile"`` or ``"undefined"``; the method actually used (a BCa interval
            that fell back to the percentile method says ``"percentile"``).
        n: the denominator (rates) or the number of clusters (bootstrap).
        note: anything a reader must know: a fallback, resamples dropped, an approximation.
        p_value: only for paired comparisons, the two-sided bootstrap p-value for "the
            difference is 0" (see :func:`benchmarks.audit.stats.bootstrap.paired_bootstrap`).
        p_bound: the p-value is the smallest the resampling can give (no resample crossed 0):
            the true p-value is below it, and it is printed as ``< p``.

    Examples:
        >>> Interval(0.5, 0.2, 0.8, 0.95, "wilson", n=10).to_dict()["high"]
        0.8
    """

    estimate: float | None
    low: float | None
    high: float | None
    level: float
    method: str
    n: int | None = None
    note: str = ""
    p_value: float | None = None
    p_bound: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict (None stays None; no NaN anywhere).

        ``p_bound`` appears only when true (a p-value at the resampling floor).
        """
        data = dataclasses.asdict(self)
        if not self.p_bound:
            del data["p_bound"]
        return data


def rate_interval(
    k: int, n: int, *, level: float = 0.95, method: str = "clopper-pearson"
) -> Interval:
    """Return a two-sided interval for the binomial proportion k / n.

    Args:
        k: successes, 0 <= k <= n.
        n: trials.
        level: two-sided confidence level in (0, 1).
        method: ``"clopper-pearson"`` (exact; for decisions), ``"wilson"`` or
            ``"jeffreys"`` (for display). Jeffreys uses the Beta(k + ½, n − k + ½)
            quantiles with the lower end set to 0 at k = 0 and the upper end to 1 at k = n
            (Brown, Cai & DasGupta 2001), which keeps its coverage at the boundaries.

    Returns:
        The interval; with n = 0, an ``"undefined"`` interval with None bounds.

    Raises:
        ValueError: for k outside [0, n], a level outside (0, 1) or an unknown method.

    Examples:
        >>> ci = rate_interval(0, 2995)  # no false positive among 2,995 negatives
        >>> ci.estimate, ci.low, round(ci.high, 6)  # two-sided 95%: 1 − 0.025^(1/2995)
        (0.0, 0.0, 0.001231)
        >>> ci = rate_interval(3, 10, method="wilson")
        >>> round(ci.low, 4), round(ci.high, 4)
        (0.1078, 0.6032)
        >>> rate_interval(0, 0).method
        'undefined'
    """
    _check_counts(k, n)
    _check_level(level)
    _check_method(method)
    if n == 0:
        return _undefined(level)
    alpha = 1.0 - level
    if method == "jeffreys":
        low = _jeffreys_quantile(k, n, alpha / 2)
        high = _jeffreys_quantile(k, n, 1.0 - alpha / 2)
    else:
        ci = stats.binomtest(k, n).proportion_ci(
            confidence_level=level, method=_SCIPY_METHOD[method]
        )
        low, high = _clip(ci.low), _clip(ci.high)
    return Interval(k / n, low, high, level, method, n=n)


def one_sided_bound(
    k: int,
    n: int,
    *,
    level: float = 0.95,
    side: str = "lower",
    method: str = "clopper-pearson",
) -> float | None:
    """Return a one-sided confidence bound for k / n: all of 1 − ``level`` spent on one side.

    A one-sided 95% lower bound is the value L with P(true rate >= L) >= 95%; it equals the
    lower end of a *two-sided 90%* interval, not of the two-sided 95% one. Named by the side
    of the bound (``"lower"``/``"upper"``), unlike statsmodels' ``alternative="larger"``,
    which returns the *upper* bound.

    Args:
        k: successes, 0 <= k <= n.
        n: trials.
        level: one-sided confidence level in (0, 1).
        side: ``"lower"`` (to show a rate is at least something, e.g. recall) or
            ``"upper"`` (to show it is at most something, e.g. FPR).
        method: ``"clopper-pearson"``, ``"wilson"`` or ``"jeffreys"``.

    Returns:
        The bound; None when n = 0.

    Raises:
        ValueError: for k outside [0, n], a level outside (0, 1), an unknown side or method.

    Examples:
        >>> round(one_sided_bound(0, 2995, side="upper"), 6)  # the "3/n" rule: 1 − 0.05^(1/n)
        0.001
        >>> one_sided_bound(0, 2995, side="lower")
        0.0
        >>> round(one_sided_bound(95, 100, side="lower"), 4)  # 95/100 cannot show recall >= 0.9
        0.8977
        >>> one_sided_bound(0, 0) is None
        True
    """
    _check_counts(k, n)
    _check_level(level)
    _check_method(method)
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
    if n == 0:
        return None
    alpha = 1.0 - level
    if method == "jeffreys":
        return _jeffreys_quantile(k, n, alpha if side == "lower" else 1.0 - alpha)
    # scipy names the alternative hypothesis: a lower bound comes with "greater".
    alternative = "greater" if side == "lower" else "less"
    ci = stats.binomtest(k, n, alternative=alternative).proportion_ci(
        confidence_level=level, method=_SCIPY_METHOD[method]
    )
    return _clip(ci.low) if side == "lower" else _clip(ci.high)


@dataclass(frozen=True)
class RateMetric:
    """A metric that is a plain binomial rate k / n (times ``scale``) of confusion counts.

    Attributes:
        numerator: what k counts.
        denominator: what n counts.
        scale: the reported value is ``scale · k / n`` (1000 for false alerts per 1,000).
    """

    numerator: str
    denominator: str
    scale: float = 1.0


#: The result keys that are plain rates, with their k and n (see :func:`rate_counts`).
RATE_METRICS: Mapping[str, RateMetric] = MappingProxyType(
    {
        "recall": RateMetric("TP", "TP + FN (positives)"),
        "fpr": RateMetric("FP", "FP + TN (negatives)"),
        "specificity": RateMetric("TN", "FP + TN (negatives)"),
        "precision": RateMetric(
            "TP", "TP + FP (alerts; the interval is conditional on the number of alerts)"
        ),
        "false_alerts_per_1k": RateMetric("FP", "FP + TN (negatives)", scale=1000.0),
        "detected_before_escalation": RateMetric(
            "positives with a known escalation alerted strictly before it",
            "positives with a known escalation",
        ),
    }
)


def rate_counts(outcomes: Outcomes) -> dict[str, tuple[int, int]]:
    """Return (k, n) for every metric in :data:`RATE_METRICS`.

    Examples:
        >>> o = Outcomes.from_columns(
        ...     labels=[1, 1, 0, 0, 0], alerts=[3, 0, 2, 0, 0],
        ...     max_scores=[0.9, 0.3, 0.6, 0.1, 0.2], n_messages=[5, 5, 4, 4, 4],
        ...     escalations=[4, 2, 0, 0, 0],
        ... )
        >>> c = rate_counts(o)
        >>> c["recall"], c["fpr"], c["precision"], c["detected_before_escalation"]
        ((1, 2), (1, 3), (1, 2), (1, 2))
    """
    labels, alerts = outcomes.labels, outcomes.alerts
    alerted = alerts > 0
    positive = labels == 1
    tp = int(np.sum(positive & alerted))
    fp = int(np.sum(~positive & alerted))
    fn = int(np.sum(positive & ~alerted))
    tn = len(labels) - tp - fp - fn
    eligible = positive & (outcomes.escalations > 0)
    before = eligible & alerted & (alerts < outcomes.escalations)
    counters: dict[str, Callable[[], tuple[int, int]]] = {
        "recall": lambda: (tp, tp + fn),
        "fpr": lambda: (fp, fp + tn),
        "specificity": lambda: (tn, fp + tn),
        "precision": lambda: (tp, tp + fp),
        "false_alerts_per_1k": lambda: (fp, fp + tn),
        "detected_before_escalation": lambda: (int(before.sum()), int(eligible.sum())),
    }
    return {name: counters[name]() for name in RATE_METRICS}


def rate_intervals(
    outcomes: Outcomes, *, level: float = 0.95, method: str = "clopper-pearson"
) -> dict[str, Interval]:
    """Return an interval for every metric in :data:`RATE_METRICS`.

    The estimates equal :func:`benchmarks.metrics.compute_metrics`'s values. When
    ``outcomes.groups`` repeats (author clusters), each interval's note says that the binomial
    model assumes independent conversations: prefer the cluster bootstrap there.

    Args:
        outcomes: one row per scored conversation.
        level: two-sided confidence level.
        method: ``"clopper-pearson"``, ``"wilson"`` or ``"jeffreys"``.

    Returns:
        Metric name → interval (``"undefined"`` when the denominator is 0).

    Examples:
        >>> o = Outcomes.from_columns(
        ...     labels=[1, 1, 0, 0], alerts=[3, 0, 0, 0],
        ...     max_scores=[0.9, 0.3, 0.6, 0.1], n_messages=[5, 5, 4, 4],
        ... )
        >>> cis = rate_intervals(o)
        >>> cis["recall"].estimate, round(cis["recall"].low, 4), round(cis["recall"].high, 4)
        (0.5, 0.0126, 0.9874)
        >>> cis["false_alerts_per_1k"].estimate, round(cis["false_alerts_per_1k"].high, 1)
        (0.0, 841.9)
        >>> cis["detected_before_escalation"].method
        'undefined'
    """
    clustered = len(np.unique(outcomes.groups)) < len(outcomes)
    note = (
        "conversations share clusters (groups repeat); this binomial interval assumes "
        "independent conversations and is too narrow: use the cluster bootstrap"
        if clustered
        else ""
    )
    intervals: dict[str, Interval] = {}
    for name, (k, n) in rate_counts(outcomes).items():
        scale = RATE_METRICS[name].scale
        ci = rate_interval(k, n, level=level, method=method)
        if ci.estimate is not None and ci.low is not None and ci.high is not None:
            ci = dataclasses.replace(
                ci,
                estimate=scale * k / n,
                low=scale * ci.low,
                high=scale * ci.high,
                note=note,
            )
        intervals[name] = ci
    return intervals


def _jeffreys_quantile(k: int, n: int, q: float) -> float:
    """Quantile q of Beta(k + ½, n − k + ½), pinned to 0 (k = 0) or 1 (k = n) at the ends."""
    if k == 0 and q < 0.5:
        return 0.0
    if k == n and q > 0.5:
        return 1.0
    return float(stats.beta.ppf(q, k + 0.5, n - k + 0.5))


def _clip(value: float) -> float:
    """Plain float in [0, 1] (scipy returns numpy scalars, Wilson may round past the ends)."""
    return min(1.0, max(0.0, float(value)))


def _undefined(level: float) -> Interval:
    return Interval(
        None, None, None, level, "undefined", n=0, note="no trials (n = 0): the rate is undefined"
    )


def _check_counts(k: int, n: int) -> None:
    if not (isinstance(k, int | np.integer) and isinstance(n, int | np.integer)):
        raise ValueError(f"k and n must be integers, got {k!r} and {n!r}")
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def _check_level(level: float) -> None:
    if not (math.isfinite(level) and 0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level}")


def _check_method(method: str) -> None:
    if method not in RATE_METHODS:
        raise ValueError(f"method must be one of {RATE_METHODS}, got {method!r}")
