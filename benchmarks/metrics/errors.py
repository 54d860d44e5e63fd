"""What errored conversations could have done to the metrics: best and worst cases.

Errored conversations (the detector or the service failed on them after every retry) are
excluded from the metrics, never counted as negatives. Excluding them is itself a bet that they
look like the rest; these bounds show how far recall and precision could move had every errored
conversation gone the detector's way (best) or against it (worst). With no error, both bounds
equal the metric.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR_BOUND_DEFINITIONS = {
    "n_errors_positive": "errored conversations labelled grooming",
    "n_errors_negative": "errored conversations labelled benign",
    "recall_worst": "recall had every errored grooming conversation been missed: "
    "TP / (P + errored positives)",
    "recall_best": "recall had every errored grooming conversation been caught: "
    "(TP + errored positives) / (P + errored positives)",
    "precision_worst": "precision had every errored benign conversation been flagged and every "
    "errored grooming one missed: TP / (TP + FP + errored negatives)",
    "precision_best": "precision had every errored grooming conversation been caught and every "
    "errored benign one left alone: (TP + errored positives) / (TP + FP + errored positives)",
}


@dataclass(frozen=True)
class ErrorBounds:
    """Recall and precision bounds over the ways errored conversations could have gone."""

    recall_worst: float | None
    recall_best: float | None
    precision_worst: float | None
    precision_best: float | None


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def error_bounds(tp: int, fp: int, fn: int, errored_pos: int, errored_neg: int) -> ErrorBounds:
    """Return best- and worst-case recall and precision given the errored conversations.

    Args:
        tp: true positives among scored conversations.
        fp: false positives among scored conversations.
        fn: false negatives among scored conversations.
        errored_pos: errored conversations labelled grooming.
        errored_neg: errored conversations labelled benign.

    Returns:
        The four bounds; a bound is None when its denominator is 0 (as the metric would be).

    Examples:
        >>> b = error_bounds(tp=8, fp=2, fn=2, errored_pos=2, errored_neg=3)
        >>> b.recall_worst, b.recall_best
        (0.6666666666666666, 0.8333333333333334)
        >>> b.precision_worst, b.precision_best
        (0.6153846153846154, 0.8333333333333334)
        >>> error_bounds(tp=8, fp=2, fn=2, errored_pos=0, errored_neg=0).recall_worst
        0.8
    """
    for name, value in (
        ("tp", tp),
        ("fp", fp),
        ("fn", fn),
        ("errored_pos", errored_pos),
        ("errored_neg", errored_neg),
    ):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    positives = tp + fn + errored_pos
    return ErrorBounds(
        recall_worst=_ratio(tp, positives),
        recall_best=_ratio(tp + errored_pos, positives),
        precision_worst=_ratio(tp, tp + fp + errored_neg),
        precision_best=_ratio(tp + errored_pos, tp + fp + errored_pos),
    )
