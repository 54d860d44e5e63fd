"""Alert policies: turn a detector's score history into the message at which it first alerts.

Detectors score; policies decide. A policy sees the scores at a conversation's checkpoints in
order and returns the 1-based index of the message at which the first alert fires, or None.
An alert is final (a platform cannot un-warn a child), so only the first one matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Policy(Protocol):
    """What the harness needs of an alert policy."""

    @property
    def name(self) -> str:
        """The policy's name; equal to its config file's name."""
        ...

    def first_alert(self, scores: Sequence[float], indices: Sequence[int]) -> int | None:
        """Return the message index of the first alert, or None when none fires."""
        ...

    def describe(self) -> str:
        """Return one sentence saying how the policy decides."""
        ...


def _check_inputs(scores: Sequence[float], indices: Sequence[int]) -> None:
    if len(scores) != len(indices):
        raise ValueError(f"{len(scores)} scores for {len(indices)} checkpoint indices")


@dataclass(frozen=True)
class ThresholdPolicy:
    """Alert at the first checkpoint whose score reaches ``threshold``.

    Examples:
        >>> ThresholdPolicy(threshold=0.5).first_alert([0.1, 0.7, 0.9], [1, 2, 3])
        2
        >>> ThresholdPolicy(threshold=0.95).first_alert([0.1, 0.7, 0.9], [1, 2, 3]) is None
        True
    """

    threshold: float = 0.5
    name: str = "threshold"

    def first_alert(self, scores: Sequence[float], indices: Sequence[int]) -> int | None:
        _check_inputs(scores, indices)
        hits = np.flatnonzero(np.asarray(scores, dtype=np.float64) >= self.threshold)
        return int(indices[hits[0]]) if len(hits) else None

    def describe(self) -> str:
        return f"alert at the first scored message whose score is >= {self.threshold}"


@dataclass(frozen=True)
class VotePolicy:
    """Alert once ``min_positive`` of the last ``window`` decisions are positive (eSPD).

    A decision is positive when the score is at least ``threshold``. Vogt et al. (2021) call
    ``min_positive`` the skepticism *s*; their headline setting is s = 5 of the last 10.
    Decisions are taken at every scored checkpoint, empty messages included (eSPD counts only
    non-empty messages, and classifies a window of the last 50; here the detector decides what
    context it uses), so on corpora with many empty lines the two can differ slightly.

    Examples:
        >>> policy = VotePolicy(threshold=0.5, window=3, min_positive=2)
        >>> policy.first_alert([0.9, 0.1, 0.2, 0.8, 0.9], [1, 2, 3, 4, 5])
        5
        >>> policy.first_alert([0.9, 0.1, 0.9], [2, 4, 6])
        6
        >>> policy.first_alert([0.9, 0.1, 0.1, 0.9], [1, 2, 3, 4]) is None
        True
    """

    threshold: float = 0.5
    window: int = 10
    min_positive: int = 5
    name: str = "vote"

    def __post_init__(self) -> None:
        if not 1 <= self.min_positive <= self.window:
            raise ValueError(
                f"vote policy needs 1 <= min_positive <= window, got min_positive="
                f"{self.min_positive}, window={self.window}"
            )

    def first_alert(self, scores: Sequence[float], indices: Sequence[int]) -> int | None:
        _check_inputs(scores, indices)
        positive = (np.asarray(scores, dtype=np.float64) >= self.threshold).astype(np.int64)
        running = np.cumsum(positive)
        in_window = running.copy()
        in_window[self.window :] -= running[: -self.window]
        hits = np.flatnonzero(in_window >= self.min_positive)
        return int(indices[hits[0]]) if len(hits) else None

    def describe(self) -> str:
        return (
            f"alert once {self.min_positive} of the last {self.window} scored messages have "
            f"score >= {self.threshold}"
        )
