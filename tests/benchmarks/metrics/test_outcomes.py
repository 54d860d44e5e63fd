"""Outcomes: conversion, defaults and validation."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from benchmarks.metrics import Outcomes


def _columns(**overrides: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "labels": [1, 0, 1],
        "alerts": [2, 0, 0],
        "max_scores": [0.9, 0.1, 0.4],
        "n_messages": [5, 3, 4],
    }
    columns.update(overrides)
    return columns


def test_from_columns_fills_unknowns() -> None:
    o = Outcomes.from_columns(**_columns())
    assert o.labels.dtype == np.int64 and o.alerts.dtype == np.int64
    assert o.onsets.tolist() == [0, 0, 0] and o.escalations.tolist() == [0, 0, 0]
    assert np.isnan(o.alert_minutes).all()
    assert o.groups.tolist() == ["0", "1", "2"]
    assert len(o) == 3


def test_none_entries_mean_unknown() -> None:
    o = Outcomes.from_columns(
        **_columns(alerts=[2, None, None], onsets=[None, 0, 3], alert_minutes=[1.5, None, None])
    )
    assert o.alerts.tolist() == [2, 0, 0]
    assert o.onsets.tolist() == [0, 0, 3]
    assert o.alert_minutes[0] == 1.5 and np.isnan(o.alert_minutes[1:]).all()


def test_arrays_are_read_only_and_copied() -> None:
    labels = np.array([1, 0, 1])
    o = Outcomes.from_columns(**_columns(labels=labels))
    with pytest.raises(ValueError, match="read-only"):
        o.labels[0] = 0
    labels[0] = 0
    assert o.labels[0] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.labels = labels  # type: ignore[misc]


def test_take_resamples_rows() -> None:
    o = Outcomes.from_columns(**_columns(groups=["a", "b", "c"]))
    t = o.take([2, 2, 0])
    assert t.groups.tolist() == ["c", "c", "a"]
    assert t.n_messages.tolist() == [4, 4, 5]


def test_empty_outcomes_are_allowed() -> None:
    o = Outcomes.from_columns(labels=[], alerts=[], max_scores=[], n_messages=[])
    assert len(o) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"labels": [1, 2, 0]}, "labels must hold only 0 and 1"),
        ({"labels": [[1, 0, 1]]}, "labels must be 1-D"),
        ({"alerts": [2, -1, 0]}, "alerts must be >= 0"),
        ({"alerts": [6, 0, 0]}, "alerts must not exceed n_messages: row 0"),
        ({"alerts": [1.5, 0, 0]}, "alerts must hold whole numbers"),
        ({"n_messages": [5, -1, 4]}, "n_messages must be >= 0"),
        ({"max_scores": [0.9, np.nan, 0.4]}, "max_scores must be finite"),
        ({"max_scores": [0.9, 0.1]}, "inputs differ in length"),
        ({"onsets": [0, 4, 0]}, "onsets must not exceed n_messages: row 1"),
        ({"escalations": [0, 0, 9]}, "escalations must not exceed n_messages: row 2"),
        ({"alert_minutes": [1.0, 2.0, np.nan]}, "alert_minutes must be NaN where alerts is 0"),
        ({"alert_minutes": [-1.0, np.nan, np.nan]}, "alert_minutes must be NaN or a finite"),
        ({"labels": ["a", "b", "c"]}, "labels must be numeric"),
    ],
)
def test_invalid_columns_raise(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Outcomes.from_columns(**_columns(**overrides))


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ValueError, match="labels must hold only 0 and 1"):
        Outcomes(
            labels=np.array([3]),
            alerts=np.array([0]),
            max_scores=np.array([0.5]),
            n_messages=np.array([1]),
            onsets=np.array([0]),
            escalations=np.array([0]),
            alert_minutes=np.array([np.nan]),
            groups=np.array(["a"]),
        )
