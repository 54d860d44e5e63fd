"""Fixed operating points: thresholds set on calibration negatives, TPR at FPR, DET and PR curves.

"TPR at FPR = 10⁻³" is only honest when the threshold is fixed *before* the test set is seen
(AUDIT.md, "Fixed operating points"; the face-recognition vendor tests' "FNMR at FMR"): the
threshold is set on a separate calibration split's negatives, then TPR and FPR are measured on
the test split with exact intervals, next to the number of test negatives above the threshold
(a low-FPR threshold rests on a handful of negatives and is itself noisy).

Everything here reads per-conversation maximum scores (``Outcomes.max_scores``). Under the
threshold policy (:class:`benchmarks.policies.ThresholdPolicy`: alert at the first checkpoint
whose score is >= the threshold) a conversation alerts at some message **iff its maximum score
is >= the threshold**, so thresholding the maxima reproduces the policy's decisions without
replaying traces. (The vote policy has no such equivalence, and a conversation with no scored
checkpoint, whose maximum is recorded as 0.0, never alerts: keep thresholds above 0.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.audit.stats.intervals import Interval, rate_interval
from benchmarks.errors import ConfigError
from benchmarks.metrics._validation import as_floats, as_labels, check_lengths

#: The FPR targets of :func:`tpr_at_fpr` by default.
DEFAULT_TARGETS: tuple[float, ...] = (1e-2, 1e-3, 1e-4)


class Scored(Protocol):
    """Per-conversation labels and maximum scores; :class:`Outcomes` is one."""

    @property
    def labels(self) -> NDArray[np.int64]:
        """1 for a positive conversation, else 0."""
        ...

    @property
    def max_scores(self) -> NDArray[np.float64]:
        """The conversation's maximum score."""
        ...


@dataclass(frozen=True, eq=False)
class Scores:
    """A plain :class:`Scored` value built from arrays (validated, read-only)."""

    labels: NDArray[np.int64]
    max_scores: NDArray[np.float64]

    def __post_init__(self) -> None:
        labels = as_labels(self.labels, "labels")
        scores = as_floats(self.max_scores, "max_scores", finite=True)
        check_lengths(labels=labels, max_scores=scores)
        for name, array in (("labels", labels), ("max_scores", scores)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)


@dataclass(frozen=True)
class Threshold:
    """A threshold set on calibration negatives (alert when score >= value).

    Attributes:
        value: the threshold.
        achieved_fpr: the share of calibration negatives at or above it (<= the target).
        n_negatives: calibration negatives used.
        n_above: calibration negatives at or above the threshold.
        target_fpr: the FPR asked for.
        note: a warning when the negatives cannot resolve the target, else "".
    """

    value: float
    achieved_fpr: float
    n_negatives: int
    n_above: int
    target_fpr: float
    note: str = ""


def threshold_at_fpr(negative_scores: ArrayLike, target_fpr: float) -> Threshold:
    """Return the smallest threshold whose FPR on these negatives is at most ``target_fpr``.

    With m = ⌊target·n⌋ negatives allowed above it, every threshold above the (m+1)-th highest
    score s gives the same calibration FPR; the smallest such float, ``nextafter(s, +inf)``,
    is returned, which keeps as many true positives as the target allows. Ties are handled: a
    threshold never splits a run of equal scores (``>=`` alerts on all of them).

    Raises:
        ConfigError: when there is no negative to calibrate on.
        ValueError: when the target is not in (0, 1).

    Examples:
        >>> t = threshold_at_fpr([0.1, 0.2, 0.3, 0.4, 0.9], 0.2)  # one negative may alert
        >>> t.value > 0.4, t.value < 0.4 + 1e-12, t.n_above, t.achieved_fpr
        (True, True, 1, 0.2)
        >>> threshold_at_fpr([0.1, 0.5, 0.5, 0.9], 0.5).n_above  # 0.5 twice: cannot take one
        1
        >>> threshold_at_fpr([0.1, 0.2], 1e-3).note.startswith("only 2 negatives")
        True
    """
    if not 0 < target_fpr < 1:
        raise ValueError(f"target_fpr must lie in (0, 1), got {target_fpr}")
    scores = np.sort(as_floats(negative_scores, "negative_scores", finite=True))[::-1]
    n = len(scores)
    if n == 0:
        raise ConfigError(
            "no negative conversations to calibrate a threshold on; choose a calibration split "
            "that contains negatives"
        )
    allowed = math.floor(target_fpr * n)
    # Guard the float product: allowed is the largest m with m / n <= target.
    while (allowed + 1) / n <= target_fpr:
        allowed += 1
    while allowed > 0 and allowed / n > target_fpr:
        allowed -= 1
    value = float(np.nextafter(scores[allowed], np.inf))
    n_above = int(np.sum(scores >= value))
    note = ""
    if n < 1 / target_fpr:
        note = (
            f"only {n:,} negatives: they cannot resolve an FPR of {target_fpr:g} (that needs at "
            f"least {math.ceil(1 / target_fpr):,}); the threshold sits just above the highest "
            f"negative score, and with 0 of {n:,} the true FPR is only bounded by about 3/n = "
            f"{3 / n:.2g}"
        )
    return Threshold(value, n_above / n, n, n_above, target_fpr, note)


@dataclass(frozen=True)
class OperatingPoint:
    """TPR and FPR on the test split at a threshold fixed on the calibration split.

    Attributes:
        target_fpr: the FPR the threshold was set for.
        threshold: the calibrated threshold.
        tpr: test TPR with its two-sided exact interval.
        fpr: test FPR with its two-sided exact interval.
        n_negatives_above: test negatives at or above the threshold (the false positives).
        n_positives_above: test positives at or above the threshold (the true positives).
    """

    target_fpr: float
    threshold: Threshold
    tpr: Interval
    fpr: Interval
    n_negatives_above: int
    n_positives_above: int


def tpr_at_fpr(
    calibration: Scored,
    test: Scored,
    targets: Sequence[float] = DEFAULT_TARGETS,
    *,
    level: float = 0.95,
) -> list[OperatingPoint]:
    """Return TPR and FPR on ``test`` at thresholds set on ``calibration``'s negatives.

    Only the calibration split's negatives are used (its positives play no part), and the
    test split never influences the threshold. Intervals are exact Clopper–Pearson; an
    undefined rate (no test positives or negatives) is an "undefined" interval.

    Examples:
        >>> calibration = Scores(labels=[0] * 10, max_scores=[i / 10 for i in range(10)])
        >>> test = Scores(labels=[1, 1, 0, 0], max_scores=[0.95, 0.5, 0.99, 0.1])
        >>> [p] = tpr_at_fpr(calibration, test, [0.1])  # threshold just above 0.8
        >>> p.tpr.estimate, p.fpr.estimate, p.n_negatives_above
        (0.5, 0.5, 1)
    """
    negatives = calibration.max_scores[calibration.labels == 0]
    positive = test.labels == 1
    points = []
    for target in targets:
        threshold = threshold_at_fpr(negatives, target)
        alerted = test.max_scores >= threshold.value
        tp, fp = int(np.sum(alerted & positive)), int(np.sum(alerted & ~positive))
        n_pos = int(np.sum(positive))
        points.append(
            OperatingPoint(
                target_fpr=target,
                threshold=threshold,
                tpr=rate_interval(tp, n_pos, level=level),
                fpr=rate_interval(fp, len(positive) - n_pos, level=level),
                n_negatives_above=fp,
                n_positives_above=tp,
            )
        )
    return points


@dataclass(frozen=True, eq=False)
class DetCurve:
    """Detection error trade-off: FPR and FNR (miss rate) per threshold, for plotting."""

    fpr: NDArray[np.float64]
    fnr: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    note: str = ""


@dataclass(frozen=True, eq=False)
class PrCurve:
    """Precision and recall per threshold (``precision[i]`` at ``thresholds[i]``).

    As in scikit-learn, the last point (precision 1, recall 0) has no threshold. With a
    ``prevalence``, precision is the PPV at that prevalence.
    """

    precision: NDArray[np.float64]
    recall: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    prevalence: float | None = None
    note: str = ""


def det_curve_points(y: ArrayLike, scores: ArrayLike) -> DetCurve:
    """Return the DET curve (``sklearn.metrics.det_curve``); empty with a note if undefined.

    Examples:
        >>> c = det_curve_points([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.8])
        >>> c.fpr.tolist(), c.fnr.tolist()
        ([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
        >>> det_curve_points([1, 1], [0.2, 0.3]).note
        'undefined: no negatives'
    """
    from sklearn.metrics import det_curve

    labels, values = _labels_scores(y, scores)
    missing = _missing_class(labels)
    if missing:
        empty = np.zeros(0)
        return DetCurve(empty, empty, empty, note=missing)
    fpr, fnr, thresholds = det_curve(labels, values)
    return DetCurve(_frozen(fpr), _frozen(fnr), _frozen(thresholds))


def pr_curve_points(y: ArrayLike, scores: ArrayLike, *, prevalence: float | None = None) -> PrCurve:
    """Return the precision–recall curve, re-weighted to a deployment ``prevalence`` if given.

    The test set's precision reflects its own prevalence. Weighting each positive by π / p and
    each negative by (1 − π) / (1 − p), with p the test set's share of positives, gives a
    weighted precision of TPR·π / (TPR·π + FPR·(1 − π)): the PPV a platform with prevalence π
    would see (``sample_weight`` of ``sklearn.metrics.precision_recall_curve``). Recall is
    unchanged.

    Examples:
        >>> y, s = [1, 1, 0, 0, 0, 0], [0.9, 0.4, 0.8, 0.3, 0.2, 0.1]
        >>> pr_curve_points(y, s).precision.round(3).tolist()  # thresholds 0.1, 0.2, ..., 0.9
        [0.333, 0.4, 0.5, 0.667, 0.5, 1.0, 1.0]
        >>> c = pr_curve_points(y, s, prevalence=0.01)  # at 0.8: TPR 1/2, FPR 1/4
        >>> round(float(c.precision[4]), 4), round(0.5 * 0.01 / (0.5 * 0.01 + 0.25 * 0.99), 4)
        (0.0198, 0.0198)
    """
    from sklearn.metrics import precision_recall_curve

    if prevalence is not None and not 0 < prevalence < 1:
        raise ValueError(f"prevalence must lie in (0, 1), got {prevalence}")
    labels, values = _labels_scores(y, scores)
    # Without negatives the curve is still defined (precision 1), but it cannot be re-weighted.
    missing = _missing_class(labels)
    if missing == "undefined: no negatives" and prevalence is None:
        missing = ""
    if missing:
        empty = np.zeros(0)
        return PrCurve(empty, empty, empty, prevalence, note=missing)
    weights = None
    if prevalence is not None:
        share = float(np.mean(labels))
        weights = np.where(labels == 1, prevalence / share, (1 - prevalence) / (1 - share))
    precision, recall, thresholds = precision_recall_curve(labels, values, sample_weight=weights)
    return PrCurve(_frozen(precision), _frozen(recall), _frozen(thresholds), prevalence)


def _labels_scores(
    y: ArrayLike, scores: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    labels = as_labels(y, "y")
    values = as_floats(scores, "scores", finite=True)
    check_lengths(y=labels, scores=values)
    return labels, values


def _missing_class(labels: NDArray[np.int64]) -> str:
    """Return "undefined: no positives/negatives" when a class is absent, else ""."""
    if not np.any(labels == 1):
        return "undefined: no positives"
    if not np.any(labels == 0):
        return "undefined: no negatives"
    return ""


def _frozen(values: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    array.setflags(write=False)
    return array
