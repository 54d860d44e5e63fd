"""Comparing two detectors run on the same items: paired tests, multiplicity, plain readings.

Two detectors scored on the same conversations give *paired* results, and a paired test is
far more sensitive than comparing two separate intervals. This module holds the tests that
../shared/docs/AUDIT.md asks for ("Comparing two detectors on the same items"):

- :func:`mcnemar_exact`: the exact McNemar test on paired 0/1 decisions (alerts), optionally
  restricted by a mask, e.g. to the positives to compare recall, or to the negatives to
  compare false-positive rates; it lives in :mod:`benchmarks.audit.comparisons.mcnemar` (with
  :class:`McNemarResult`) and is re-exported here.
- :func:`delong_test`: DeLong, DeLong & Clarke-Pearson (1988) for two correlated ROC-AUCs,
  computed with the O(n log n) midrank algorithm of Sun & Xu (2014); it lives in
  :mod:`benchmarks.audit.comparisons.delong` (with :func:`delong_auc_variance` and
  :class:`DeLongResult`) and is re-exported here.
- :func:`holm` and :func:`benjamini_hochberg`: adjusted p-values for a family of comparisons
  (many subgroups, many detector pairs), and :func:`reject` to read them against α; they
  live in :mod:`benchmarks.audit.comparisons.multiplicity` and are re-exported here.
- :class:`Comparison`: one row of the report (two runs, a metric, the difference with its
  interval, raw and adjusted p-values, the method) with a plain-words ``reading`` written by
  :func:`describe_difference`, which says so plainly when a gap is not significant.

As in :mod:`benchmarks.metrics.classification`, data arguments are positional and options
keyword-only, and undefined values are None, never NaN.

References:
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
from typing import Literal, Protocol

from benchmarks.audit.comparisons.delong import DELONG_METHOD as DELONG_METHOD
from benchmarks.audit.comparisons.delong import (
    DeLongResult,
    _check_level,
    delong_auc_variance,
    delong_test,
)
from benchmarks.audit.comparisons.delong import _midranks as _midranks
from benchmarks.audit.comparisons.mcnemar import McNemarResult, mcnemar_exact
from benchmarks.audit.comparisons.multiplicity import _check_alpha, benjamini_hochberg, holm, reject

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
        p_bound: the p-value is the resampling's floor (no resample crossed 0): the true
            p-value is smaller, and the reading prints ``p < …`` (adjusted ones too).
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
    p_bound: bool = False
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
                p_bound=self.p_bound,
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
                and ``note``, such as :class:`benchmarks.audit.stats.intervals.Interval`.
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
            # The interval's own (bootstrap) p-value may be at its floor; another test's is exact.
            p_bound=bool(getattr(interval, "p_bound", False))
            and p_value == getattr(interval, "p_value", None),
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
    p_bound: bool = False,
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
        p_bound: the p-values are at the resampling floor: printed as ``p < …``.

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
        basis = f"{adjustment}-adjusted p {format_p(adjusted_p_value, p_bound)}"
    elif p_value is not None:
        significant = p_value <= alpha
        basis = f"p {format_p(p_value, p_bound)}"
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


def format_p(p: float, bound: bool = False) -> str:
    """``= 0.12``; ``< 0.001``; a bound at the resampling floor rounded *up*: ``< 0.0067``.

    A bound is never printed smaller than it is (2/301 = 0.006645 prints ``< 0.0067``), and
    one that reached 1 after adjustment says nothing: ``= 1``.

    Examples:
        >>> format_p(0.1234), format_p(0.0002), format_p(2 / 301, bound=True)
        ('= 0.123', '< 0.001', '< 0.0067')
        >>> format_p(0.0332, bound=True), format_p(1.0, bound=True)
        ('< 0.034', '= 1')
    """
    if p < 0.001:
        return "< 0.001"
    if bound and p >= 1:
        return "= 1"
    if bound:
        unit = 10 ** (math.floor(math.log10(p)) - 1)  # two significant digits
        return f"< {math.ceil(round(p / unit, 9)) * unit:.2g}"
    return f"= {p:.3g}"
