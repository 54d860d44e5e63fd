"""Subgroup categories, breakdown rows and per-stage detection on hand-made neutral data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from datasets import Dataset

from benchmarks.audit.stats.intervals import rate_interval
from benchmarks.audit.stats.subgroups import (
    breakdown,
    conversation_profile,
    stage_detected_before,
    stage_first_indices,
    subgroup_attributes,
)
from benchmarks.metrics.outcomes import Outcomes
from benchmarks.schema import FEATURES, normalise_record


def _record(
    cid: str, label: int, stages: list[list[str]], *, meta: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    messages = [
        {"author": f"a{i % 2}", "text": "hello there", "time": None, "index": i + 1, "stages": s}
        for i, s in enumerate(stages)
    ]
    record = {"conversation_id": cid, "label": label, "messages": messages, "meta": meta}
    return normalise_record(record | extra)


def _dataset() -> Dataset:
    records = [
        _record(
            "c0",
            1,
            [["rapport"], ["personal_info"], ["platform_move"], [], ["approach"]],
            meta={"platform": "discord", "personas": [{"age": 40}, {"age": 12}]},
            source="synthetic",
            scenario="s1",
        ),
        _record(
            "c1",
            1,
            [[]] * 3 + [["image_request"]] + [[]] * 3 + [["sexual"]] + [[]] * 4,
            meta={"platform": "snap", "child_age": 14},
            source="synthetic",
            scenario="s2",
        ),
        _record("c2", 0, [[], [], []], meta={}, source="other"),
        _record(
            "c3",
            0,
            [["rapport"]] * 30,
            meta={"platform": "discord", "personas": [{"age": 30}, {"age": 35}]},
            source="other",
            scenario="s1",
        ),
    ]
    return Dataset.from_list(records, features=FEATURES)


def _outcomes(labels: list[int], alerts: list[int], n_messages: list[int]) -> Outcomes:
    return Outcomes.from_columns(
        labels=labels,
        alerts=alerts,
        max_scores=[0.5] * len(labels),
        n_messages=n_messages,
    )


def test_attributes_from_meta_stages_and_length() -> None:
    attributes = subgroup_attributes(_dataset())
    assert attributes == {
        "source": ["synthetic", "synthetic", "other", "other"],
        "language": ["en"] * 4,
        "scenario": ["s1", "s2", "none", "s1"],
        "platform": ["discord", "snap", "unknown", "discord"],
        "age_band": ["under 13", "13-15", "unknown", "18+"],
        "furthest_stage": ["approach", "sexual", "none", "rapport"],
        "length": ["1-10", "11-25", "1-10", "26-50"],
    }


def test_stage_first_indices() -> None:
    assert stage_first_indices(_dataset()) == {
        "platform_move": [3, 0, 0, 0],
        "image_request": [0, 4, 0, 0],
        "approach": [5, 0, 0, 0],
        "sexual": [0, 8, 0, 0],
    }


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_profile_follows_selection_order_across_batches(batch_size: int) -> None:
    dataset = _dataset().select([3, 0, 2, 1])  # an indices mapping, as after a shuffle
    profile = conversation_profile(dataset, batch_size=batch_size)
    assert profile.attributes["furthest_stage"] == ["rapport", "approach", "none", "sexual"]
    assert profile.stage_first["approach"] == [0, 5, 0, 0]
    assert len(profile) == 4


def test_stage_detected_before_shares() -> None:
    outcomes = _outcomes([1, 1, 0, 0], [2, 6, 0, 1], [5, 12, 3, 30])
    rows = stage_detected_before(outcomes, stage_first_indices(_dataset()))
    got = {r.stage: (r.n_reaching, r.n_before) for r in rows}
    # c0 alerted at 2: before platform_move (3) and approach (5); c1 alerted at 6: after
    # image_request (4), before sexual (8).
    assert got == {
        "platform_move": (1, 1),
        "image_request": (1, 0),
        "approach": (1, 1),
        "sexual": (1, 1),
    }
    assert [r.stage for r in rows] == ["platform_move", "image_request", "approach", "sexual"]
    assert all(r.too_small for r in rows)
    assert rows[1].share == rate_interval(0, 1)
    assert json.loads(json.dumps(rows[0].to_dict()))["share"]["n"] == 1


def test_stage_unalerted_positive_is_missed_and_alert_at_stage_is_late() -> None:
    outcomes = _outcomes([1, 1, 1], [0, 4, 3], [6, 6, 6])
    rows = stage_detected_before(outcomes, {"approach": [4, 4, 4]})
    assert (rows[0].n_reaching, rows[0].n_before) == (3, 1)


def test_breakdown_counts_and_intervals() -> None:
    outcomes = _outcomes([1, 1, 0, 0], [2, 0, 1, 0], [5, 12, 3, 30])
    rows = breakdown(outcomes, subgroup_attributes(_dataset()))
    assert {r.attribute for r in rows} >= {"source", "platform", "length", "furthest_stage"}
    assert "language" not in {r.attribute for r in rows}  # one value: nothing to compare
    synthetic = next(r for r in rows if (r.attribute, r.value) == ("source", "synthetic"))
    assert (synthetic.n, synthetic.n_positive, synthetic.n_negative, synthetic.tp) == (2, 2, 0, 1)
    assert synthetic.recall == rate_interval(1, 2)
    assert synthetic.fpr.method == "undefined" and synthetic.fpr.estimate is None
    other = next(r for r in rows if (r.attribute, r.value) == ("source", "other"))
    assert (other.fp, other.precision) == (1, rate_interval(0, 1))
    assert all(r.too_small for r in rows)
    assert "recall: 2 positives < 10" in synthetic.reason
    lengths = [r.value for r in rows if r.attribute == "length"]
    assert lengths == ["1-10", "11-25", "26-50"]  # bin order, not alphabetical


def test_breakdown_too_small_flags_follow_the_documented_rule() -> None:
    # 60 positives / 60 negatives in "big"; 3 / 2 in "small".
    labels = [1] * 60 + [0] * 60 + [1, 1, 1, 0, 0]
    alerts = [1] * 54 + [0] * 6 + [0] * 59 + [1] + [1, 0, 1, 0, 1]
    group = ["big"] * 120 + ["small"] * 5
    outcomes = _outcomes(labels, alerts, [3] * len(labels))
    rows = {r.value: r for r in breakdown(outcomes, {"group": group})}
    big, small = rows["big"], rows["small"]
    assert (big.recall_informative, big.fpr_informative, big.too_small) == (True, True, False)
    assert big.reason == ""
    assert (small.recall_informative, small.fpr_informative, small.too_small) == (
        False,
        False,
        True,
    )
    assert small.reason == "recall: 3 positives < 10; FPR: 2 negatives < 10"
    # Enough positives but a wide interval is still too small to compare.
    wide = breakdown(outcomes, {"group": group}, min_positives=1, min_negatives=1)
    assert "interval width" in next(r for r in wide if r.value == "small").reason


def test_breakdown_and_stages_check_alignment() -> None:
    outcomes = _outcomes([1, 0], [1, 0], [3, 3])
    with pytest.raises(ValueError, match="same conversations"):
        breakdown(outcomes, {"source": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="same conversations"):
        stage_detected_before(outcomes, {"approach": [1]})


def test_rows_are_json_ready() -> None:
    outcomes = _outcomes([1, 1, 0, 0], [2, 0, 1, 0], [5, 12, 3, 30])
    for row in breakdown(outcomes, subgroup_attributes(_dataset())):
        data = json.loads(json.dumps(row.to_dict()))
        assert set(data["recall"]) >= {"estimate", "low", "high", "level", "method", "n"}
