"""What the metrics see of a run: one row per scored conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmarks.metrics._validation import (
    as_1d,
    as_floats,
    as_ints,
    as_labels,
    check_lengths,
    check_within,
)


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per-conversation outcomes of a run, errored conversations already removed.

    Every field is a read-only 1-D numpy array with one row per scored conversation. The
    constructor accepts array-likes, converts them and validates them; use
    :meth:`from_columns` to fill the optional columns with their "unknown" values.

    Attributes:
        labels: 1 when the conversation contains grooming, else 0.
        alerts: 1-based index of the message at which the first alert fired; 0 = no alert.
        max_scores: the conversation's maximum risk score (finite), for ROC-AUC and AP.
        n_messages: number of messages in the conversation (0 for an empty one, which
            cannot be alerted).
        onsets: 1-based index of the first grooming-stage message; 0 = unknown or none.
        escalations: 1-based index of the first escalation message; 0 = none or unknown.
        alert_minutes: chat minutes from the first message to the alert message; NaN when
            there is no alert or no usable clock.
        groups: cluster id (conversation or author id) for cluster bootstrap.

    Raises:
        ValueError: on a shape, length or value that breaks the rules above.

    Examples:
        >>> o = Outcomes.from_columns(
        ...     labels=[1, 0], alerts=[3, 0], max_scores=[0.9, 0.2], n_messages=[10, 8]
        ... )
        >>> len(o), o.alerts.tolist(), o.onsets.tolist(), o.groups.tolist()
        (2, [3, 0], [0, 0], ['0', '1'])
        >>> Outcomes.from_columns(labels=[1], alerts=[12], max_scores=[0.9], n_messages=[10])
        Traceback (most recent call last):
        ...
        ValueError: alerts must not exceed n_messages: row 0 has alerts=12 but n_messages=10
    """

    labels: NDArray[np.int64]
    alerts: NDArray[np.int64]
    max_scores: NDArray[np.float64]
    n_messages: NDArray[np.int64]
    onsets: NDArray[np.int64]
    escalations: NDArray[np.int64]
    alert_minutes: NDArray[np.float64]
    groups: NDArray[np.str_]

    def __post_init__(self) -> None:
        alerts = as_ints(self.alerts, "alerts")
        n_messages = as_ints(self.n_messages, "n_messages")
        onsets = as_ints(self.onsets, "onsets")
        escalations = as_ints(self.escalations, "escalations")
        alert_minutes = as_floats(self.alert_minutes, "alert_minutes")
        columns: dict[str, NDArray[np.generic]] = {
            "labels": as_labels(self.labels, "labels"),
            "alerts": alerts,
            "max_scores": as_floats(self.max_scores, "max_scores", finite=True),
            "n_messages": n_messages,
            "onsets": onsets,
            "escalations": escalations,
            "alert_minutes": alert_minutes,
            "groups": as_1d(self.groups, "groups").astype(np.str_),
        }
        check_lengths(**columns)
        check_within(alerts, n_messages, "alerts", "n_messages")
        check_within(onsets, n_messages, "onsets", "n_messages")
        check_within(escalations, n_messages, "escalations", "n_messages")
        _check_minutes(alerts, alert_minutes)
        for name, array in columns.items():
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def from_columns(
        cls,
        *,
        labels: ArrayLike,
        alerts: Sequence[int | None] | ArrayLike,
        max_scores: ArrayLike,
        n_messages: ArrayLike,
        onsets: Sequence[int | None] | ArrayLike | None = None,
        escalations: Sequence[int | None] | ArrayLike | None = None,
        alert_minutes: Sequence[float | None] | ArrayLike | None = None,
        groups: Sequence[str] | ArrayLike | None = None,
    ) -> Outcomes:
        """Build outcomes from columns, mapping None entries and missing columns to "unknown".

        None in ``alerts``, ``onsets`` or ``escalations`` becomes 0 and None in
        ``alert_minutes`` becomes NaN (the record schema uses None for "unknown"). Missing
        ``groups`` become the row numbers as strings, so each conversation is its own cluster.

        Examples:
            >>> o = Outcomes.from_columns(
            ...     labels=[1, 1], alerts=[None, 2], max_scores=[0.1, 0.8], n_messages=[5, 5],
            ...     onsets=[None, 1], alert_minutes=[None, 4.5],
            ... )
            >>> o.alerts.tolist(), o.onsets.tolist(), o.alert_minutes.tolist()
            ([0, 2], [0, 1], [nan, 4.5])
        """
        n = len(as_1d(labels, "labels"))
        return cls(
            labels=as_labels(labels, "labels"),
            alerts=as_ints(_fill(alerts, 0, n), "alerts"),
            max_scores=as_floats(max_scores, "max_scores"),
            n_messages=as_ints(n_messages, "n_messages"),
            onsets=as_ints(_fill(onsets, 0, n), "onsets"),
            escalations=as_ints(_fill(escalations, 0, n), "escalations"),
            alert_minutes=as_floats(_fill(alert_minutes, np.nan, n), "alert_minutes"),
            groups=np.asarray([str(i) for i in range(n)] if groups is None else groups, dtype=str),
        )

    def take(self, indices: ArrayLike) -> Outcomes:
        """Return the rows at ``indices`` (repeats allowed), e.g. for a bootstrap resample.

        Examples:
            >>> o = Outcomes.from_columns(
            ...     labels=[1, 0], alerts=[3, 0], max_scores=[0.9, 0.2], n_messages=[10, 8]
            ... )
            >>> o.take([1, 1]).labels.tolist()
            [0, 0]
        """
        rows = np.asarray(indices, dtype=np.int64)
        return Outcomes(
            labels=self.labels[rows],
            alerts=self.alerts[rows],
            max_scores=self.max_scores[rows],
            n_messages=self.n_messages[rows],
            onsets=self.onsets[rows],
            escalations=self.escalations[rows],
            alert_minutes=self.alert_minutes[rows],
            groups=self.groups[rows],
        )


def _fill(
    values: Sequence[int | None] | Sequence[float | None] | ArrayLike | None,
    fill: float,
    n: int,
) -> NDArray[np.generic]:
    """Replace None (or a missing column) by ``fill``."""
    if values is None:
        return np.full(n, fill)
    if isinstance(values, np.ndarray):
        return values
    items = list(values)  # type: ignore[arg-type]
    return np.asarray([fill if v is None else v for v in items])


def _check_minutes(alerts: NDArray[np.int64], minutes: NDArray[np.float64]) -> None:
    """Alert times exist only for alerts, and chat time never runs backwards."""
    known = ~np.isnan(minutes)
    if np.any(known & (alerts == 0)):
        i = int(np.flatnonzero(known & (alerts == 0))[0])
        raise ValueError(f"alert_minutes must be NaN where alerts is 0: row {i} has {minutes[i]}")
    if np.any(known & ~np.isfinite(minutes)) or np.any(minutes[known] < 0):
        raise ValueError("alert_minutes must be NaN or a finite number >= 0")
