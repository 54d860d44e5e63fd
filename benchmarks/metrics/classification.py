"""Conversation-level classification metrics: decisions (alert or not) and scores.

Data arguments are positional, options keyword-only, as in scikit-learn. ``y_true`` holds 0/1
labels, ``y_pred`` 0/1 decisions (1 = an alert fired), ``y_score`` one real score per row.

**Undefined values are None, never a silent 0**: precision with no predicted positive, recall
with no positive, FPR and specificity with no negative, MCC when any margin of the confusion
table is empty, ROC-AUC unless both classes are present, AP with no positive. F_β uses the
count form ``(1+β²)·TP / ((1+β²)·TP + β²·FN + FP)``, which equals ``(1+β²)PR/(β²P+R)``
whenever P and R are defined, is 0 when there are errors but no true positive, and is None
only when there is no positive and no predicted positive.

ROC-AUC and AP are computed here with numpy rather than by calling ``sklearn.metrics``: the
package then imports in milliseconds, the bootstrap can call them thousands of times without
scikit-learn's input-validation overhead, and undefined cases return None instead of a warning
and a number. The tests check them against scikit-learn on random inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validation import FloatArray, IntArray, as_floats, as_labels, check_lengths


@dataclass(frozen=True)
class ConfusionCounts:
    """The four cells of the binary confusion table."""

    tp: int
    fp: int
    fn: int
    tn: int


def confusion_counts(y_true: ArrayLike, y_pred: ArrayLike) -> ConfusionCounts:
    """Count true/false positives/negatives.

    Examples:
        >>> confusion_counts([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
        ConfusionCounts(tp=1, fp=1, fn=1, tn=2)
    """
    labels, decisions = _pair(y_true, y_pred)
    tp = int(np.sum((labels == 1) & (decisions == 1)))
    fp = int(np.sum((labels == 0) & (decisions == 1)))
    fn = int(np.sum((labels == 1) & (decisions == 0)))
    return ConfusionCounts(tp=tp, fp=fp, fn=fn, tn=len(labels) - tp - fp - fn)


def precision(y_true: ArrayLike, y_pred: ArrayLike) -> float | None:
    """Return TP / (TP + FP); None when nothing was predicted positive.

    Examples:
        >>> precision([1, 1, 0, 0], [1, 0, 1, 1])
        0.3333333333333333
        >>> precision([1, 0], [0, 0]) is None
        True
    """
    c = confusion_counts(y_true, y_pred)
    return _ratio(c.tp, c.tp + c.fp)


def recall(y_true: ArrayLike, y_pred: ArrayLike) -> float | None:
    """Return TP / (TP + FN); None when there is no positive.

    Examples:
        >>> recall([1, 1, 0, 0], [1, 0, 1, 1])
        0.5
        >>> recall([0, 0], [1, 0]) is None
        True
    """
    c = confusion_counts(y_true, y_pred)
    return _ratio(c.tp, c.tp + c.fn)


def f_beta(y_true: ArrayLike, y_pred: ArrayLike, *, beta: float) -> float | None:
    """Return F_β = (1+β²)·TP / ((1+β²)·TP + β²·FN + FP); None with no positive nor alert.

    β < 1 weights precision (PAN12 problem 1 uses F0.5), β > 1 recall (problem 2 uses F3).

    Examples:
        >>> f_beta([1, 1, 0, 0], [1, 0, 1, 1], beta=1)  # P = 1/3, R = 1/2: 2PR/(P+R) = 0.4
        0.4
        >>> f_beta([1, 1, 0, 0], [1, 0, 0, 0], beta=0.5)  # 1.25·1·(1/2) / (0.25·1 + 1/2)
        0.8333333333333334
        >>> f_beta([1, 1], [0, 0], beta=1)
        0.0
        >>> f_beta([0, 0], [0, 0], beta=1) is None
        True
    """
    if not (beta > 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be a positive finite number, got {beta}")
    c = confusion_counts(y_true, y_pred)
    b2 = beta * beta
    return _ratio((1 + b2) * c.tp, (1 + b2) * c.tp + b2 * c.fn + c.fp)


def fpr(y_true: ArrayLike, y_pred: ArrayLike) -> float | None:
    """Return the false-positive rate FP / (FP + TN); None when there is no negative.

    Examples:
        >>> fpr([1, 0, 0, 0], [1, 1, 0, 0])
        0.3333333333333333
        >>> fpr([1, 1], [1, 0]) is None
        True
    """
    c = confusion_counts(y_true, y_pred)
    return _ratio(c.fp, c.fp + c.tn)


def specificity(y_true: ArrayLike, y_pred: ArrayLike) -> float | None:
    """Return TN / (TN + FP) = 1 − FPR; None when there is no negative.

    Examples:
        >>> specificity([1, 0, 0, 0, 0], [1, 1, 0, 0, 0])
        0.75
    """
    c = confusion_counts(y_true, y_pred)
    return _ratio(c.tn, c.fp + c.tn)


def mcc(y_true: ArrayLike, y_pred: ArrayLike) -> float | None:
    """Return Matthews' correlation (TP·TN − FP·FN) / sqrt of the four margins' product.

    None when a margin is empty (no positive, no negative, no alert or no non-alert), where
    scikit-learn returns 0.

    Examples:
        >>> mcc([1, 1, 0, 0], [1, 0, 0, 0])  # (1·2 − 0·1) / sqrt(1·2·3·2)
        0.5773502691896258
        >>> mcc([1, 0], [1, 1]) is None
        True
    """
    c = confusion_counts(y_true, y_pred)
    margins = (c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn)
    if margins == 0:
        return None
    # Python ints: the product of four margins overflows int64 beyond ~55,000 rows.
    return (c.tp * c.tn - c.fp * c.fn) / math.sqrt(margins)


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float | None:
    """Return the area under the ROC curve; None unless both classes are present.

    Computed as the Mann–Whitney probability that a random positive outscores a random
    negative, ties counting one half: the same number as the trapezoidal area under the
    empirical ROC curve (scikit-learn's ``roc_auc_score``).

    Examples:
        >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])  # 3 of 4 pairs ordered
        0.75
        >>> roc_auc([0, 1], [0.5, 0.5])  # a tie counts one half
        0.5
        >>> roc_auc([1, 1], [0.2, 0.3]) is None
        True
    """
    labels, scores = _scored(y_true, y_score)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse = np.unique(scores, return_inverse=True)
    pos_at = np.bincount(inverse, weights=labels).astype(np.float64)
    neg_at = np.bincount(inverse, weights=1 - labels).astype(np.float64)
    neg_below = np.cumsum(neg_at) - neg_at
    wins = float(np.sum(pos_at * neg_below) + 0.5 * np.sum(pos_at * neg_at))
    return wins / (n_pos * n_neg)


def average_precision(y_true: ArrayLike, y_score: ArrayLike) -> float | None:
    """Return AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds, highest first.

    The step-wise (non-interpolated) definition of scikit-learn's
    ``average_precision_score``: tied scores form one threshold. None with no positive.

    Examples:
        >>> average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])  # 1/2·1 + 1/2·2/3
        0.8333333333333333
        >>> average_precision([0, 0], [0.9, 0.1]) is None
        True
    """
    labels, scores = _scored(y_true, y_score)
    n_pos = int(labels.sum())
    if n_pos == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    # The last row of each run of tied scores closes one threshold.
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tps = np.cumsum(sorted_labels)[last].astype(np.float64)
    predicted = (last + 1).astype(np.float64)
    recall_steps = np.diff(tps / n_pos, prepend=0.0)
    return float(np.sum(recall_steps * (tps / predicted)))


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[IntArray, IntArray]:
    labels = as_labels(y_true, "y_true")
    decisions = as_labels(y_pred, "y_pred")
    check_lengths(y_true=labels, y_pred=decisions)
    return labels, decisions


def _scored(y_true: ArrayLike, y_score: ArrayLike) -> tuple[IntArray, FloatArray]:
    labels = as_labels(y_true, "y_true")
    scores = as_floats(y_score, "y_score", finite=True)
    check_lengths(y_true=labels, y_score=scores)
    return labels, scores
