"""The metric suite: every result key, how it is computed, and one function that computes all.

The keys are the names used in ``results.json``, MLflow and the leaderboard.
"""

from __future__ import annotations

import numpy as np

from benchmarks.metrics import classification as clf
from benchmarks.metrics import early
from benchmarks.metrics.outcomes import Outcomes

_MEDIAN = "median with numpy's linear interpolation"

#: Result key → one sentence saying exactly how the number is computed.
METRIC_DEFINITIONS: dict[str, str] = {
    "precision": "TP / (TP + FP) over conversations, an alert at any message counting as a "
    "positive prediction; None when no conversation was alerted.",
    "recall": "TP / (TP + FN) over conversations; None when there is no positive.",
    "f1": "F1 = 2·TP / (2·TP + FN + FP); None when there is neither a positive nor an alert.",
    "f0_5": "F0.5 = 1.25·TP / (1.25·TP + 0.25·FN + FP), weighting precision; None when there "
    "is neither a positive nor an alert.",
    "f3": "F3 = 10·TP / (10·TP + 9·FN + FP), weighting recall; None when there is neither a "
    "positive nor an alert.",
    "fpr": "False-positive rate FP / (FP + TN) over conversations; None when there is no negative.",
    "specificity": "TN / (TN + FP) = 1 − FPR; None when there is no negative.",
    "mcc": "Matthews correlation (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)); None "
    "when any of the four margins is zero.",
    "roc_auc": "Area under the ROC curve of each conversation's maximum score (probability a "
    "positive outscores a negative, ties counting one half); None unless both classes occur.",
    "average_precision": "Step-wise average precision Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct "
    "thresholds of the conversations' maximum scores; None when there is no positive.",
    "ttd_median": f"Time to detection: {_MEDIAN} of the first-alert message index k (1-based) "
    "over true positives; None without a true positive.",
    "ttd_p90": "Time to detection: 90th percentile (numpy linear interpolation) of the "
    "first-alert message index k over true positives; None without a true positive.",
    "ttd_median_minutes": f"{_MEDIAN.capitalize()} of the chat minutes from the first message "
    "to the alert message over true positives with a usable clock; None if there are none.",
    "ttd_after_onset_median": f"{_MEDIAN.capitalize()} of k − onset (signed, in messages) over "
    "true positives whose grooming onset is known; None if there are none.",
    "detected_before_escalation": "Share of positives with a known escalation whose first "
    "alert came strictly before the escalation message (unalerted count as missed); None if "
    "no positive has an escalation.",
    "latency_f1": "Latency-weighted F1 = F1 · latency_speed (Sadeque et al. 2018); 0 when "
    "F1 is 0; None when F1 or latency_p is undefined.",
    "latency_speed": f"1 − {_MEDIAN} over true positives of penalty(k) = −1 + 2/(1 + "
    "exp(−p·(k − 1))) with p = latency_p; None without a true positive or without p.",
    "latency_p": "Slope p of the latency penalty: the value given, else the median rule "
    "p = ln 3 / (m − 1) with m = latency_median_length (None when m is None or m ≤ 1).",
    "latency_median_length": f"m, the {_MEDIAN} of the lengths in messages of the positive "
    "conversations; None when there is no positive.",
    "erde_5": "ERDE with o = 5: mean over conversations of the cost c_fp for an FP (default "
    "the share of positives), 1 for an FN, 1 − 1/(1 + exp(k − 5)) for a TP, 0 for a TN; "
    "lower is better.",
    "erde_50": "ERDE with o = 50: mean over conversations of the cost c_fp for an FP (default "
    "the share of positives), 1 for an FN, 1 − 1/(1 + exp(k − 50)) for a TP, 0 for a TN; "
    "lower is better.",
    "false_alerts_per_1k": "1000 · FP / number of negative conversations; None when there is "
    "no negative.",
    "n_scored": "Number of conversations scored (errored conversations excluded).",
    "n_positive": "Number of scored conversations labelled as grooming.",
    "n_negative": "Number of scored conversations labelled benign.",
    "tp": "True positives: positive conversations with an alert.",
    "fp": "False positives: negative conversations with an alert.",
    "fn": "False negatives: positive conversations without an alert.",
    "tn": "True negatives: negative conversations without an alert.",
    "n_errors": "Number of conversations whose scoring failed; they are excluded from every "
    "other metric.",
}

#: The keys :func:`compute_metrics` returns, in order (``n_errors`` is added by the caller).
RESULT_KEYS: tuple[str, ...] = tuple(k for k in METRIC_DEFINITIONS if k != "n_errors")


def compute_metrics(
    outcomes: Outcomes,
    *,
    latency_p: float | None = None,
    erde_c_fp: float | None = None,
) -> dict[str, float | None]:
    """Compute every result key in :data:`RESULT_KEYS` from a run's outcomes.

    Args:
        outcomes: one row per scored conversation.
        latency_p: penalty slope for the latency-weighted F1; default the median rule.
        erde_c_fp: false-positive cost of ERDE; default the share of positives.

    Returns:
        Key → value; undefined values are None (see :data:`METRIC_DEFINITIONS`).

    Examples:
        >>> o = Outcomes.from_columns(
        ...     labels=[1, 1, 0, 0], alerts=[3, 0, 2, 0],
        ...     max_scores=[0.9, 0.3, 0.6, 0.1], n_messages=[5, 5, 4, 4],
        ... )
        >>> m = compute_metrics(o)
        >>> m["precision"], m["recall"], m["roc_auc"], m["false_alerts_per_1k"], m["ttd_median"]
        (0.5, 0.5, 0.75, 500.0, 3.0)
        >>> import math
        >>> m["latency_median_length"], m["latency_p"] == math.log(3) / 4
        (5.0, True)
    """
    labels, alerts = outcomes.labels, outcomes.alerts
    decisions = (alerts > 0).astype(np.int64)
    counts = clf.confusion_counts(labels, decisions)
    n_negative = counts.fp + counts.tn
    median_length = early.median_positive_length(labels, outcomes.n_messages)
    p = early.median_rule_p(median_length) if latency_p is None else latency_p
    speed = None if p is None else early.latency_speed(labels, alerts, p=p)
    metrics: dict[str, float | None] = {
        "precision": clf.precision(labels, decisions),
        "recall": clf.recall(labels, decisions),
        "f1": clf.f_beta(labels, decisions, beta=1.0),
        "f0_5": clf.f_beta(labels, decisions, beta=0.5),
        "f3": clf.f_beta(labels, decisions, beta=3.0),
        "fpr": clf.fpr(labels, decisions),
        "specificity": clf.specificity(labels, decisions),
        "mcc": clf.mcc(labels, decisions),
        "roc_auc": clf.roc_auc(labels, outcomes.max_scores),
        "average_precision": clf.average_precision(labels, outcomes.max_scores),
        "ttd_median": early.ttd_median(labels, alerts),
        "ttd_p90": early.ttd_percentile(labels, alerts, q=90),
        "ttd_median_minutes": early.ttd_median_minutes(labels, alerts, outcomes.alert_minutes),
        "ttd_after_onset_median": early.ttd_after_onset_median(labels, alerts, outcomes.onsets),
        "detected_before_escalation": early.detected_before_escalation(
            labels, alerts, outcomes.escalations
        ),
        "latency_f1": early.latency_f1(labels, alerts, outcomes.n_messages, p=latency_p),
        "latency_speed": speed,
        "latency_p": p,
        "latency_median_length": median_length,
        "erde_5": early.erde(labels, alerts, o=5, c_fp=erde_c_fp),
        "erde_50": early.erde(labels, alerts, o=50, c_fp=erde_c_fp),
        "false_alerts_per_1k": None if n_negative == 0 else 1000 * counts.fp / n_negative,
        "n_scored": len(outcomes),
        "n_positive": counts.tp + counts.fn,
        "n_negative": n_negative,
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "tn": counts.tn,
    }
    assert tuple(metrics) == RESULT_KEYS
    return metrics
