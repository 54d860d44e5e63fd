"""Early-detection metrics: how soon the first alert comes, and what lateness costs.

``alerts`` holds, per conversation, the 1-based index k of the message at which the first alert
fired, 0 when none did. A true positive (TP) is a positive conversation with an alert.
Medians and percentiles use numpy's default linear interpolation (see :func:`percentile`).
A statistic over an empty set (no TP, no positive with a known onset, ...) is None.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validation import (
    FloatArray,
    IntArray,
    as_floats,
    as_ints,
    as_labels,
    check_lengths,
    check_within,
)
from benchmarks.metrics.classification import f_beta


def percentile(values: ArrayLike, *, q: float) -> float | None:
    """Return the q-th percentile (0..100) with numpy's default linear interpolation.

    Between two order statistics the value is interpolated linearly ("linear", type 7 of
    Hyndman & Fan), so a median of an even count is the mean of the middle two. None for no
    values.

    Examples:
        >>> percentile([1, 2, 3, 4], q=50)
        2.5
        >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], q=90)  # rank 0.9·10 = 9
        10.0
        >>> percentile([1, 10], q=90)  # 1 + 0.9·(10 − 1)
        9.1
        >>> percentile([], q=50) is None
        True
    """
    array = as_floats(values, "values", finite=True)
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in [0, 100], got {q}")
    return None if array.size == 0 else float(np.percentile(array, q))


def ttd_median(y_true: ArrayLike, alerts: ArrayLike) -> float | None:
    """Return the median alert index k over true positives (messages until detection).

    Examples:
        >>> ttd_median([1, 1, 1, 0], [3, 5, 0, 2])  # TPs alerted at 3 and 5
        4.0
        >>> ttd_median([1, 0], [0, 2]) is None
        True
    """
    return percentile(_tp_alerts(y_true, alerts), q=50)


def ttd_percentile(y_true: ArrayLike, alerts: ArrayLike, *, q: float) -> float | None:
    """Return the q-th percentile of the alert index k over true positives.

    Examples:
        >>> ttd_percentile([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], list(range(1, 12)), q=90)
        10.0
    """
    return percentile(_tp_alerts(y_true, alerts), q=q)


def ttd_median_minutes(
    y_true: ArrayLike, alerts: ArrayLike, alert_minutes: ArrayLike
) -> float | None:
    """Return the median chat time (minutes, first message to alert) over TPs with a clock.

    Examples:
        >>> ttd_median_minutes([1, 1, 1, 0], [3, 5, 4, 2], [2.0, 30.0, float("nan"), 1.0])
        16.0
    """
    labels, alert_at = _labels_alerts(y_true, alerts)
    minutes = as_floats(alert_minutes, "alert_minutes")
    check_lengths(y_true=labels, alert_minutes=minutes)
    keep = (labels == 1) & (alert_at > 0) & np.isfinite(minutes)
    return percentile(minutes[keep], q=50)


def ttd_after_onset_median(y_true: ArrayLike, alerts: ArrayLike, onsets: ArrayLike) -> float | None:
    """Return the median of k − onset over TPs with a known onset (0 = unknown).

    Signed: an alert before the first grooming-stage message counts negative.

    Examples:
        >>> ttd_after_onset_median([1, 1, 1], [6, 2, 9], [4, 3, 0])  # 6−4 = 2, 2−3 = −1
        0.5
    """
    labels, alert_at = _labels_alerts(y_true, alerts)
    onset = as_ints(onsets, "onsets")
    check_lengths(y_true=labels, onsets=onset)
    keep = (labels == 1) & (alert_at > 0) & (onset > 0)
    return percentile(alert_at[keep] - onset[keep], q=50)


def detection_curve(
    y_true: ArrayLike, alerts: ArrayLike, *, n_max: int | None = None
) -> FloatArray:
    """Return the fraction of positives alerted by message n, for n = 1..n_max.

    Args:
        y_true: 0/1 labels.
        alerts: first-alert indices, 0 = none.
        n_max: curve length; default the latest alert among positives (at least 1), so the
            last value equals recall. Use the longest positive conversation for plots.

    Returns:
        Array whose element n − 1 is ``#{positives with 0 < k <= n} / #positives``; empty
        when there is no positive.

    Examples:
        >>> detection_curve([1, 1, 1, 1, 0], [2, 4, 0, 2, 1]).tolist()
        [0.0, 0.5, 0.5, 0.75]
        >>> detection_curve([1, 1], [2, 0], n_max=3).tolist()
        [0.0, 0.5, 0.5]
    """
    labels, alert_at = _labels_alerts(y_true, alerts)
    positives = alert_at[labels == 1]
    if positives.size == 0:
        return np.zeros(0, dtype=np.float64)
    if n_max is None:
        n_max = max(1, int(positives.max()))
    if n_max < 1:
        raise ValueError(f"n_max must be >= 1, got {n_max}")
    alerted = positives[positives > 0]
    counts = np.bincount(np.minimum(alerted, n_max + 1), minlength=n_max + 2)[1 : n_max + 1]
    curve: FloatArray = np.cumsum(counts) / positives.size
    return curve


def detected_before_escalation(
    y_true: ArrayLike, alerts: ArrayLike, escalations: ArrayLike
) -> float | None:
    """Return the share of positives with an escalation alerted strictly before it.

    Only positives with a known escalation (index > 0) count; unalerted ones are misses.

    Examples:
        >>> detected_before_escalation([1, 1, 1, 1, 0], [3, 5, 0, 2, 1], [4, 5, 6, 0, 3])
        0.3333333333333333
        >>> detected_before_escalation([1], [2], [0]) is None
        True
    """
    labels, alert_at = _labels_alerts(y_true, alerts)
    escalation = as_ints(escalations, "escalations")
    check_lengths(y_true=labels, escalations=escalation)
    eligible = (labels == 1) & (escalation > 0)
    if not eligible.any():
        return None
    before = (alert_at > 0) & (alert_at < escalation)
    return float(np.sum(before & eligible) / np.sum(eligible))


def latency_penalty(k: ArrayLike, *, p: float) -> FloatArray:
    """Return penalty(k) = −1 + 2 / (1 + exp(−p·(k − 1))) (Sadeque et al. 2018).

    0 at k = 1, rising towards 1; equal to tanh(p·(k − 1)/2).

    Examples:
        >>> latency_penalty([1, 11], p=math.log(3) / 10).round(12).tolist()  # 0.5 at k = m
        [0.0, 0.5]
    """
    _check_p(p)
    ks = as_floats(np.atleast_1d(np.asarray(k, dtype=np.float64)), "k", finite=True)
    penalty: FloatArray = -1.0 + 2.0 / (1.0 + np.exp(-p * (ks - 1.0)))
    return penalty


def median_positive_length(y_true: ArrayLike, n_messages: ArrayLike) -> float | None:
    """Return m, the median length in messages of the positive conversations.

    Examples:
        >>> median_positive_length([1, 1, 0], [10, 20, 99])
        15.0
    """
    labels = as_labels(y_true)
    lengths = as_ints(n_messages, "n_messages")
    check_lengths(y_true=labels, n_messages=lengths)
    return percentile(lengths[labels == 1], q=50)


def median_rule_p(median_length: float | None) -> float | None:
    """Return p = ln 3 / (m − 1), which puts penalty(m) at 0.5 (Vogt et al. 2021).

    None when m is unknown or m <= 1 (the rule has no finite positive solution).

    Examples:
        >>> round(median_rule_p(11.0), 12) == round(math.log(3) / 10, 12)
        True
        >>> median_rule_p(1.0) is None
        True
    """
    if median_length is None or median_length <= 1:
        return None
    return math.log(3) / (median_length - 1)


def latency_speed(y_true: ArrayLike, alerts: ArrayLike, *, p: float) -> float | None:
    """Return speed = 1 − median over TPs of penalty(k); None when there is no TP.

    Examples:
        >>> latency_speed([1, 1, 1, 0], [1, 1, 11, 0], p=math.log(3) / 10)  # median pen. 0
        1.0
        >>> round(latency_speed([1, 1], [11, 11], p=math.log(3) / 10), 12)
        0.5
    """
    _check_p(p)
    k = _tp_alerts(y_true, alerts)
    if k.size == 0:
        return None
    median_penalty = percentile(latency_penalty(k, p=p), q=50)
    assert median_penalty is not None
    return 1.0 - median_penalty


def latency_f1(
    y_true: ArrayLike, alerts: ArrayLike, n_messages: ArrayLike, *, p: float | None = None
) -> float | None:
    """Return the latency-weighted F1 = F1 · speed (Sadeque et al. 2018).

    Args:
        y_true: 0/1 labels.
        alerts: first-alert indices, 0 = none.
        n_messages: conversation lengths (for the median rule and a range check).
        p: penalty slope; default the median rule p = ln 3 / (m − 1).

    Returns:
        F1 · speed; 0 when F1 is 0 (no TP, so speed is undefined but the product is 0
        whatever it is); None when F1 is undefined, or p is None and the median rule is
        undefined.

    Examples:
        >>> # m = 11, p = ln 3 / 10; TPs at 1 and 11: median penalty 0.25; F1 = 4/5
        >>> round(latency_f1([1, 1, 1, 0], [1, 11, 0, 0], [11, 11, 11, 5]), 12)
        0.6
        >>> latency_f1([1, 1, 1, 0], [1, 11, 0, 0], [11, 11, 11, 5], p=0.0)  # plain F1
        0.8
    """
    labels, alert_at = _labels_alerts(y_true, alerts)
    lengths = as_ints(n_messages, "n_messages")
    check_lengths(y_true=labels, n_messages=lengths)
    check_within(alert_at, lengths, "alerts", "n_messages")
    if p is not None:
        _check_p(p)
    else:
        p = median_rule_p(median_positive_length(labels, lengths))
        if p is None:
            return None
    f1 = f_beta(labels, (alert_at > 0).astype(np.int64), beta=1.0)
    if f1 is None or f1 == 0:
        return f1
    speed = latency_speed(labels, alert_at, p=p)
    assert speed is not None  # F1 > 0 implies a TP
    return f1 * speed


def erde(
    y_true: ArrayLike, alerts: ArrayLike, *, o: float, c_fp: float | None = None
) -> float | None:
    """Return ERDE_o, the mean early-risk-detection error (Losada & Crestani 2016).

    Per conversation: c_fp for a false positive, 1 for a false negative,
    1 − 1/(1 + exp(k − o)) for a TP alerted at k, 0 for a true negative. Lower is better.

    Args:
        y_true: 0/1 labels.
        alerts: first-alert indices, 0 = none.
        o: the deadline, in messages, at which a TP's cost reaches 0.5.
        c_fp: false-positive cost; default the share of positives in the collection.

    Returns:
        The mean cost; None for an empty collection.

    Examples:
        >>> # c_fp = 2/4; costs: TP at k = o → 0.5, FN → 1, FP → 0.5, TN → 0
        >>> erde([1, 1, 0, 0], [5, 0, 3, 0], o=5)
        0.5
        >>> erde([1, 0], [5, 2], o=5, c_fp=0.1)  # (0.5 + 0.1) / 2
        0.3
    """
    labels, alert_at = _labels_alerts(y_true, alerts)
    if labels.size == 0:
        return None
    if c_fp is None:
        c_fp = float(labels.mean())
    if not (math.isfinite(c_fp) and c_fp >= 0):
        raise ValueError(f"c_fp must be a finite number >= 0, got {c_fp}")
    alerted = alert_at > 0
    cost = np.zeros(labels.size, dtype=np.float64)
    cost[(labels == 0) & alerted] = c_fp
    cost[(labels == 1) & ~alerted] = 1.0
    tp = (labels == 1) & alerted
    with np.errstate(over="ignore"):  # exp overflows to inf for k ≫ o: the cost is then 1
        cost[tp] = 1.0 - 1.0 / (1.0 + np.exp(alert_at[tp] - float(o)))
    return float(cost.mean())


def _labels_alerts(y_true: ArrayLike, alerts: ArrayLike) -> tuple[IntArray, IntArray]:
    labels = as_labels(y_true)
    alert_at = as_ints(alerts, "alerts")
    check_lengths(y_true=labels, alerts=alert_at)
    return labels, alert_at


def _tp_alerts(y_true: ArrayLike, alerts: ArrayLike) -> IntArray:
    labels, alert_at = _labels_alerts(y_true, alerts)
    tp_alerts: IntArray = alert_at[(labels == 1) & (alert_at > 0)]
    return tp_alerts


def _check_p(p: float) -> None:
    if not (math.isfinite(p) and p >= 0):
        raise ValueError(f"p must be a finite number >= 0, got {p}")
