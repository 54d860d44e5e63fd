"""Length-controlled ranking metrics: what a detector scores once conversation length is fixed.

On many corpora the positives are longer than the negatives, and every detector whose
conversation score is a maximum over prefixes gains from length alone (the maximum of more
draws is higher): on the v1 synthetic corpus the conversation length alone reaches a ROC-AUC
of 0.705. The plain ROC-AUC mixes that in. These metrics take it out:

- ``roc_auc_length_matched``: the ROC-AUC over positive–negative pairs *of equal length* only.
  A score that depends on length alone ties on every such pair: exactly 0.5.
- ``average_precision_length_matched``: the average precision within each length that has
  both classes, weighted by its positives. A length-only score ties within a length, so it
  gets the positives' share there (the chance level of AP), not more.
- ``roc_auc_first_<k>`` (k = 5, 10, 20): the ROC-AUC of each conversation's maximum score over
  its first k messages, among conversations with at least k messages, so every score sees the
  same amount of chat and the length beyond k cannot show.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.metrics import classification as clf

PREFIXES: tuple[int, ...] = (5, 10, 20)
#: The ranking metrics (not their counts), as the report card lists them.
LENGTH_CONTROLLED: tuple[str, ...] = (
    "roc_auc_length_matched",
    "average_precision_length_matched",
    *(f"roc_auc_first_{k}" for k in PREFIXES),
)

LENGTH_CONTROL_DEFINITIONS: dict[str, str] = {
    "roc_auc_length_matched": "ROC-AUC of the conversations' maximum scores over positive-"
    "negative pairs of equal length in messages only (ties one half); a score that tracks only "
    "length gets 0.5; None when no such pair exists.",
    "average_precision_length_matched": "Average precision (step-wise) within each conversation "
    "length that has both classes, averaged with the lengths' positive counts as weights; a "
    "length-only score gets the positives' share; None when no length has both classes.",
    "n_length_matched_pairs": "Number of positive-negative pairs of equal length behind "
    "roc_auc_length_matched.",
    **{
        f"roc_auc_first_{k}": f"ROC-AUC of each conversation's maximum score over its first {k} "
        f"messages (checkpoints at or before message {k}), among conversations with at least "
        f"{k} messages and such a checkpoint; None unless both classes occur."
        for k in PREFIXES
    },
    **{f"n_first_{k}": f"Number of conversations behind roc_auc_first_{k}." for k in PREFIXES},
}


def _by_length(
    labels: ArrayLike, scores: ArrayLike, lengths: ArrayLike
) -> list[tuple[NDArray[np.int64], NDArray[np.float64], int, int]]:
    """Per length with both classes: its labels, scores and positive and negative counts."""
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    n = np.asarray(lengths, dtype=np.int64)
    groups = []
    for length in np.unique(n):
        group = n == length
        n_pos = int(y[group].sum())
        n_neg = int(group.sum()) - n_pos
        if n_pos and n_neg:
            groups.append((y[group], s[group], n_pos, n_neg))
    return groups


def length_matched_auc(
    labels: ArrayLike, scores: ArrayLike, lengths: ArrayLike
) -> tuple[float | None, int]:
    """ROC-AUC over positive–negative pairs of equal length; (value, number of pairs).

    Examples:
        >>> length_matched_auc([1, 0, 1, 0], [0.9, 0.1, 0.2, 0.8], [5, 5, 9, 9])
        (0.5, 2)
        >>> length_matched_auc([1, 0, 1, 0], [5, 5, 9, 9], [5, 5, 9, 9])  # length only
        (0.5, 2)
        >>> length_matched_auc([1, 0], [0.9, 0.1], [5, 6])
        (None, 0)
    """
    wins = 0.0
    pairs = 0
    for y, s, n_pos, n_neg in _by_length(labels, scores, lengths):
        auc = clf.roc_auc(y, s)
        assert auc is not None
        wins += auc * n_pos * n_neg
        pairs += n_pos * n_neg
    return (wins / pairs if pairs else None), pairs


def length_matched_ap(labels: ArrayLike, scores: ArrayLike, lengths: ArrayLike) -> float | None:
    """Average precision within each length with both classes, weighted by its positives.

    Examples:
        >>> length_matched_ap([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2], [5, 5, 9, 9])
        1.0
        >>> length_matched_ap([1, 0, 0, 0], [5, 5, 5, 5], [5, 5, 5, 5])  # ties: the base rate
        0.25
    """
    total = 0.0
    weight = 0
    for y, s, n_pos, _ in _by_length(labels, scores, lengths):
        ap = clf.average_precision(y, s)
        assert ap is not None
        total += ap * n_pos
        weight += n_pos
    return total / weight if weight else None


def prefix_auc(
    labels: Sequence[int],
    lengths: Sequence[int],
    checkpoints: Sequence[Sequence[int]],
    scores: Sequence[Sequence[float]],
    k: int,
) -> tuple[float | None, int]:
    """ROC-AUC of the maximum score over the first ``k`` messages; (value, conversations).

    Only conversations with at least ``k`` messages and a checkpoint at or before ``k`` count.

    Examples:
        >>> prefix_auc([1, 0, 1], [6, 8, 3], [[2, 6], [2, 8], [3]], [[0.7, 0.9], [0.2, 0.95],
        ...            [0.99]], k=5)
        (1.0, 2)
    """
    y: list[int] = []
    best: list[float] = []
    for label, length, points, values in zip(labels, lengths, checkpoints, scores, strict=True):
        if length < k:
            continue
        early = [v for p, v in zip(points, values, strict=True) if p <= k]
        if early:
            y.append(int(label))
            best.append(max(early))
    return clf.roc_auc(y, best), len(y)


def length_controlled(
    labels: Sequence[int],
    lengths: Sequence[int],
    checkpoints: Sequence[Sequence[int]],
    scores: Sequence[Sequence[float]],
) -> dict[str, float | None]:
    """Every key of :data:`LENGTH_CONTROL_DEFINITIONS` for scored conversations."""
    maxima = [max(values) if values else 0.0 for values in scores]
    auc, pairs = length_matched_auc(labels, maxima, lengths)
    out: dict[str, float | None] = {
        "roc_auc_length_matched": auc,
        "average_precision_length_matched": length_matched_ap(labels, maxima, lengths),
        "n_length_matched_pairs": pairs,
    }
    for k in PREFIXES:
        value, count = prefix_auc(labels, lengths, checkpoints, scores, k)
        out[f"roc_auc_first_{k}"] = value
        out[f"n_first_{k}"] = count
    return out
