"""Deployment prevalence: PPV, false flags per million and detection cost at declared base rates.

A test set's precision reflects the test set's prevalence, which is a design choice (AUDIT.md,
"Base rate"). What a platform will see is PPV(π) = TPR·π / (TPR·π + FPR·(1−π)) and
FPR·(1−π)·10⁶ false flags per million conversations, at the prevalence π it actually has.

:func:`projection` carries the uncertainty of TPR and FPR through to those numbers with exact
Clopper–Pearson bounds combined conservatively (see its docstring for why), and a prevalence
declared as a range ``{low, high}`` is carried through as a range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.audit.stats.intervals import Interval, rate_interval


@dataclass(frozen=True)
class Prevalence:
    """A declared deployment prevalence: a point (``low == high``) or a range.

    Examples:
        >>> Prevalence.of(1e-4).is_point, Prevalence.of({"low": 1e-5, "high": 1e-3}).is_point
        (True, False)
        >>> Prevalence.of(0)
        Traceback (most recent call last):
        ...
        ValueError: a prevalence must lie strictly between 0 and 1, got 0
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        for value in (self.low, self.high):
            if not (isinstance(value, int | float) and 0 < value < 1):
                raise ValueError(f"a prevalence must lie strictly between 0 and 1, got {value}")
        if self.low > self.high:
            raise ValueError(f"a prevalence range needs low <= high, got {self.low} > {self.high}")

    @classmethod
    def of(cls, value: float | Prevalence | Mapping[str, float]) -> Prevalence:
        """Build from a number, a ``{low, high}`` mapping, or a Prevalence."""
        if isinstance(value, Prevalence):
            return value
        if isinstance(value, Mapping):
            return cls(low=value["low"], high=value["high"])
        return cls(low=value, high=value)

    @property
    def is_point(self) -> bool:
        """True when one value was declared rather than a range."""
        return self.low == self.high

    def label(self) -> str:
        """Return a short text form: ``1e-04`` or ``1e-05 to 1e-03``."""
        return f"{self.low:.0e}" if self.is_point else f"{self.low:.0e} to {self.high:.0e}"


@dataclass(frozen=True)
class Projection:
    """What a detector's measured TPR and FPR imply at one declared prevalence.

    Attributes:
        prevalence: the declared prevalence (a point or a range).
        tpr: the measured TPR with its interval (level ``1 − (1 − level)/2``, see
            :func:`projection`).
        fpr: the measured FPR with its interval at the same level.
        ppv: PPV at the prevalence, interval at ``level`` or wider (conservative).
        false_flags_per_million: FPR·(1−π)·10⁶, interval from the FPR's interval at ``level``.
        cost: NIST detection cost when costs were given, else None.
    """

    prevalence: Prevalence
    tpr: Interval
    fpr: Interval
    ppv: Interval
    false_flags_per_million: Interval
    cost: Interval | None = None

    def to_row(self) -> dict[str, float | str | None]:
        """Return one flat row for the report card's prevalence table and plot.

        ``prevalence`` is the number for a point prevalence and its label for a range (which
        the plot then skips: it has no single x).

        Examples:
            >>> [p] = projection(95, 5, 1, 999, [0.01])
            >>> row = p.to_row()
            >>> row["prevalence"], round(row["ppv"], 3), row["ff_low"] < row["ff_high"]
            (0.01, 0.906, True)
        """
        return {
            "prevalence": self.prevalence.low
            if self.prevalence.is_point
            else self.prevalence.label(),
            "prevalence_low": self.prevalence.low,
            "prevalence_high": self.prevalence.high,
            "ppv": self.ppv.estimate,
            "ppv_low": self.ppv.low,
            "ppv_high": self.ppv.high,
            "false_flags_per_million": self.false_flags_per_million.estimate,
            "ff_low": self.false_flags_per_million.low,
            "ff_high": self.false_flags_per_million.high,
            "note": self.ppv.note or self.false_flags_per_million.note,
        }


def ppv(tpr: float, fpr: float, prevalence: float) -> float | None:
    """Return PPV = TPR·π / (TPR·π + FPR·(1−π)); None when nothing would be flagged.

    Examples:
        >>> round(ppv(0.95, 0.001, 1e-4), 4)  # AUDIT.md: about 8.7% at 1 in 10,000
        0.0868
        >>> ppv(0.0, 0.0, 0.01) is None  # no alerts at all: PPV is undefined
        True
    """
    flagged = tpr * prevalence + fpr * (1 - prevalence)
    return None if flagged == 0 else tpr * prevalence / flagged


def false_flags_per_million(fpr: float, prevalence: float) -> float:
    """Return the expected false alerts per million conversations, FPR·(1−π)·10⁶.

    Examples:
        >>> round(false_flags_per_million(0.001, 1e-4))  # AUDIT.md: about 1,000 per million
        1000
    """
    return 1e6 * fpr * (1 - prevalence)


def detection_cost(
    p_miss: float, p_fa: float, prevalence: float, c_miss: float, c_fa: float
) -> float:
    """Return the NIST detection cost C = C_miss·P_miss·π + C_fa·P_fa·(1−π).

    Examples:
        >>> round(detection_cost(0.05, 0.001, 1e-4, 10.0, 1.0), 6)  # 10·0.05·1e-4 + 0.001·0.9999
        0.00105
    """
    return c_miss * p_miss * prevalence + c_fa * p_fa * (1 - prevalence)


def normalized_detection_cost(
    p_miss: float, p_fa: float, prevalence: float, c_miss: float, c_fa: float
) -> float:
    """Return C divided by the cost of the better trivial system, min(C_miss·π, C_fa·(1−π)).

    A value of 1 means the detector is no better than always (or never) alerting, whichever
    is cheaper; 0 is perfect (NIST SRE's normalised DCF).

    Examples:
        >>> round(normalized_detection_cost(0.05, 0.001, 1e-4, 10.0, 1.0), 3)  # 0.00105 / 0.001
        1.05
        >>> normalized_detection_cost(0.0, 0.0, 0.5, 1.0, 1.0)
        0.0
    """
    if min(c_miss, c_fa) <= 0:
        raise ValueError(f"costs must be positive, got miss={c_miss}, false_alarm={c_fa}")
    trivial = min(c_miss * prevalence, c_fa * (1 - prevalence))
    return detection_cost(p_miss, p_fa, prevalence, c_miss, c_fa) / trivial


def projection(
    tp: int,
    fn: int,
    fp: int,
    tn: int,
    prevalences: Sequence[float | Prevalence | Mapping[str, float]],
    *,
    level: float = 0.95,
    costs: tuple[float, float] | None = None,
) -> list[Projection]:
    """Project the measured TPR and FPR to each declared prevalence, intervals carried through.

    Method (deterministic, conservative): TPR and FPR come from independent samples
    (positives, negatives), so each gets an exact Clopper–Pearson interval at level
    ``1 − (1−level)/2``; by Bonferroni both hold together with probability at least
    ``level``. PPV rises with TPR and falls with FPR, so on that joint event PPV lies between
    ppv(TPR_low, FPR_high) and ppv(TPR_high, FPR_low): a PPV interval with coverage ≥ level
    that needs no simulation, no seed and no prior. (Independent Beta posteriors would give a
    narrower interval closer to the nominal level, but no coverage guarantee and a Monte Carlo
    error; an audit decision wants the guarantee.) False flags per million depend on FPR alone,
    so they use the FPR's interval at ``level`` itself; the detection cost, rising in both
    error rates, uses the Bonferroni pair like PPV.

    A prevalence range ``{low, high}`` is a range of plausible values, not a distribution, so
    it is propagated as one: PPV rises with π and false flags fall with π, so the interval is
    the union over the range (PPV's low end at ``low``, its high end at ``high``). The point
    estimate is then not one number: it is None and the note gives both ends.

    Args:
        tp, fn, fp, tn: the confusion counts at the operating point.
        prevalences: numbers in (0, 1), ``{"low": a, "high": b}`` ranges, or Prevalence values.
        level: joint confidence level.
        costs: ``(c_miss, c_fa)`` to add the NIST detection cost, or None.

    Returns:
        One Projection per prevalence, in the order given. With no positives (or no negatives)
        TPR (or FPR) is undefined and every derived number is None with the reason in its note.

    Examples:
        >>> [p] = projection(190, 10, 10, 9990, [1e-4])
        >>> round(p.ppv.estimate, 4), round(p.false_flags_per_million.estimate)
        (0.0868, 1000)
        >>> p.ppv.low < p.ppv.estimate < p.ppv.high
        True
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    each = 1 - (1 - level) / 2
    tpr = rate_interval(tp, tp + fn, level=each, method="clopper-pearson")
    fpr_joint = rate_interval(fp, fp + tn, level=each, method="clopper-pearson")
    fpr_alone = rate_interval(fp, fp + tn, level=level, method="clopper-pearson")
    results = []
    for value in prevalences:
        prevalence = Prevalence.of(value)
        results.append(
            Projection(
                prevalence=prevalence,
                tpr=tpr,
                fpr=fpr_joint,
                ppv=_ppv_interval(tpr, fpr_joint, prevalence, level),
                false_flags_per_million=_flags_interval(fpr_alone, prevalence, level),
                cost=None
                if costs is None
                else _cost_interval(tpr, fpr_joint, prevalence, costs, level),
            )
        )
    return results


_JOINT = "clopper-pearson, Bonferroni-combined (conservative)"


def _ppv_interval(tpr: Interval, fpr: Interval, prevalence: Prevalence, level: float) -> Interval:
    """PPV rises with TPR and π and falls with FPR: its ends are two corners of the box."""
    undefined = _undefined(tpr, fpr, level)
    if undefined is not None:
        return undefined
    assert tpr.low is not None and tpr.high is not None and tpr.estimate is not None
    assert fpr.low is not None and fpr.high is not None and fpr.estimate is not None
    low = ppv(tpr.low, fpr.high, prevalence.low)
    high = ppv(tpr.high, fpr.low, prevalence.high)
    points = [ppv(tpr.estimate, fpr.estimate, pi) for pi in (prevalence.low, prevalence.high)]
    return _with_point(points, low, high, prevalence, level, _JOINT)


def _flags_interval(fpr: Interval, prevalence: Prevalence, level: float) -> Interval:
    """False flags rise with FPR and fall with π; TPR plays no part."""
    if fpr.estimate is None or fpr.low is None or fpr.high is None:
        return Interval(None, None, None, level, "undefined", note="undefined: no negatives")
    low = false_flags_per_million(fpr.low, prevalence.high)
    high = false_flags_per_million(fpr.high, prevalence.low)
    points = [false_flags_per_million(fpr.estimate, pi) for pi in (prevalence.low, prevalence.high)]
    return _with_point(points, low, high, prevalence, level, "clopper-pearson")


def _cost_interval(
    tpr: Interval,
    fpr: Interval,
    prevalence: Prevalence,
    costs: tuple[float, float],
    level: float,
) -> Interval:
    """The cost falls with TPR and rises with FPR; it is linear in π, so try both ends."""
    undefined = _undefined(tpr, fpr, level)
    if undefined is not None:
        return undefined
    assert tpr.low is not None and tpr.high is not None and tpr.estimate is not None
    assert fpr.low is not None and fpr.high is not None and fpr.estimate is not None
    c_miss, c_fa = costs
    ends = (prevalence.low, prevalence.high)
    low = min(detection_cost(1 - tpr.high, fpr.low, pi, c_miss, c_fa) for pi in ends)
    high = max(detection_cost(1 - tpr.low, fpr.high, pi, c_miss, c_fa) for pi in ends)
    points = [detection_cost(1 - tpr.estimate, fpr.estimate, pi, c_miss, c_fa) for pi in ends]
    return _with_point(points, low, high, prevalence, level, _JOINT)


def _undefined(tpr: Interval, fpr: Interval, level: float) -> Interval | None:
    """Return an undefined Interval saying which class is missing, or None when both exist."""
    missing = [name for name, i in (("positives", tpr), ("negatives", fpr)) if i.estimate is None]
    if not missing:
        return None
    note = f"undefined: no {' and no '.join(missing)}"
    return Interval(None, None, None, level, "undefined", note=note)


def _with_point(
    points: Sequence[float | None],
    low: float | None,
    high: float | None,
    prevalence: Prevalence,
    level: float,
    method: str,
) -> Interval:
    """Attach the point estimate: a number at a point prevalence, None (with a note) for a range."""
    if prevalence.is_point:
        estimate = points[0]
        note = (
            "" if estimate is not None else "undefined: TPR and FPR are both 0, nothing is flagged"
        )
        return Interval(estimate, low, high, level, method, note=note)
    shown = " to ".join("undefined" if p is None else f"{p:.4g}" for p in points)
    note = (
        f"prevalence is a range: the point value runs from {shown} "
        f"as π runs from {prevalence.low:g} to {prevalence.high:g}"
    )
    return Interval(None, low, high, level, method, note=note)
