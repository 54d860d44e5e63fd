"""Calibration within groups (age band, language): does a score mean the same risk for each?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from benchmarks.metrics import Outcomes

#: The attributes whose groups get their own calibration (the issue's age band and language).
CALIBRATION_GROUPS = ("age_band", "language")


def expected_calibration_error(scores: Any, labels: Any, bins: int = 10) -> float | None:
    """The expected calibration error: the count-weighted gap of mean score and observed rate.

    Examples:
        >>> expected_calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 0]))
        0.1
        >>> expected_calibration_error(np.array([]), np.array([])) is None
        True
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float)
    if len(scores) == 0:
        return None
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.sum() * abs(scores[inside].mean() - labels[inside].mean())
    return round(float(gap / len(scores)), 12)


def calibration_by_group(
    outcomes: Outcomes, attributes: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Calibration of the conversation's maximum score within each group of each attribute."""
    rows = []
    for name, values in attributes.items():
        column = np.asarray(values, dtype=object)
        for value in sorted(set(values)):
            inside = column == value
            scores, labels = outcomes.max_scores[inside], outcomes.labels[inside]
            rows.append(
                {
                    "attribute": name,
                    "value": value,
                    "n": int(inside.sum()),
                    "n_positive": int(labels.sum()),
                    "mean_score": float(scores.mean()),
                    "observed_rate": float(labels.mean()),
                    "ece": expected_calibration_error(scores, labels),
                }
            )
    return rows
