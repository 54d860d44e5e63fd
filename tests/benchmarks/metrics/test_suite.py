"""compute_metrics: the result keys, a hand-computed run, undefined values, and invariances."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from benchmarks.metrics import METRIC_DEFINITIONS, RESULT_KEYS, Outcomes, compute_metrics

MakeOutcomes = Callable[..., Outcomes]

EXPECTED_KEYS = [
    "precision",
    "recall",
    "f1",
    "f0_5",
    "f3",
    "fpr",
    "specificity",
    "mcc",
    "roc_auc",
    "average_precision",
    "ttd_median",
    "ttd_p90",
    "ttd_median_minutes",
    "ttd_after_onset_median",
    "detected_before_escalation",
    "latency_f1",
    "latency_speed",
    "latency_p",
    "latency_median_length",
    "erde_5",
    "erde_50",
    "false_alerts_per_1k",
    "n_scored",
    "n_positive",
    "n_negative",
    "tp",
    "fp",
    "fn",
    "tn",
]


def test_keys_are_exactly_the_documented_result_keys(make_outcomes: MakeOutcomes) -> None:
    assert list(compute_metrics(make_outcomes(0))) == EXPECTED_KEYS
    assert list(RESULT_KEYS) == EXPECTED_KEYS
    assert set(METRIC_DEFINITIONS) == {*EXPECTED_KEYS, "n_errors"}


@pytest.mark.parametrize("key", sorted(METRIC_DEFINITIONS))
def test_each_definition_is_one_sentence(key: str) -> None:
    text = METRIC_DEFINITIONS[key]
    assert text.endswith(".") and not text.startswith(" ")
    assert ". " not in text.replace("et al. ", "")


def _hand_outcomes() -> Outcomes:
    # Positives alerted at 2 and 10, one missed; negatives: one false alert, two quiet.
    return Outcomes.from_columns(
        labels=[1, 1, 1, 0, 0, 0],
        alerts=[2, 10, 0, 1, 0, 0],
        max_scores=[0.9, 0.7, 0.2, 0.8, 0.3, 0.1],
        n_messages=[10, 12, 14, 5, 6, 7],
        onsets=[1, 4, 0, 0, 0, 0],
        escalations=[3, 8, 5, 0, 0, 0],
        alert_minutes=[0.5, 90.0, None, 2.0, None, None],
    )


def test_hand_computed_run() -> None:
    m = compute_metrics(_hand_outcomes())
    p = math.log(3) / (12 - 1)
    penalty = [-1 + 2 / (1 + math.exp(-p * (k - 1))) for k in (2, 10)]
    c_fp = 3 / 6
    tp_cost = {o: [1 - 1 / (1 + math.exp(k - o)) for k in (2, 10)] for o in (5, 50)}
    expected = {
        "precision": 2 / 3,
        "recall": 2 / 3,
        "f1": 2 / 3,
        "f0_5": 2 / 3,
        "f3": 2 / 3,
        "fpr": 1 / 3,
        "specificity": 2 / 3,
        "mcc": (2 * 2 - 1 * 1) / math.sqrt(3 * 3 * 3 * 3),
        "roc_auc": 6 / 9,  # 0.7 loses to 0.8, 0.2 to 0.8 and 0.3; 6 of 9 pairs ordered
        "average_precision": 1 / 3 * 1 + 1 / 3 * 2 / 3 + 1 / 3 * 3 / 5,
        "ttd_median": 6.0,
        "ttd_p90": 2 + 0.9 * 8,
        "ttd_median_minutes": 45.25,
        "ttd_after_onset_median": (1 + 6) / 2,
        "detected_before_escalation": 1 / 3,  # 2 < 3 yes; 10 < 8 no; missed
        "latency_f1": 2 / 3 * (1 - sum(penalty) / 2),
        "latency_speed": 1 - sum(penalty) / 2,
        "latency_p": p,
        "latency_median_length": 12.0,
        "erde_5": (sum(tp_cost[5]) + 1 + c_fp) / 6,
        "erde_50": (sum(tp_cost[50]) + 1 + c_fp) / 6,
        "false_alerts_per_1k": 1000 / 3,
        "n_scored": 6,
        "n_positive": 3,
        "n_negative": 3,
        "tp": 2,
        "fp": 1,
        "fn": 1,
        "tn": 2,
    }
    assert m == pytest.approx(expected, rel=1e-14)
    assert all(type(m[k]) is int for k in ("n_scored", "n_positive", "n_negative", "tp"))


def test_options_are_passed_through() -> None:
    m = compute_metrics(_hand_outcomes(), latency_p=0.0, erde_c_fp=0.0)
    assert m["latency_p"] == 0.0 and m["latency_speed"] == 1.0
    assert m["latency_f1"] == pytest.approx(2 / 3)
    assert m["latency_median_length"] == 12.0  # still reported
    assert m["erde_5"] == pytest.approx(
        (1 - 1 / (1 + math.exp(-3)) + 1 - 1 / (1 + math.exp(5)) + 1) / 6
    )


def test_empty_run_is_all_undefined() -> None:
    m = compute_metrics(Outcomes.from_columns(labels=[], alerts=[], max_scores=[], n_messages=[]))
    counts = {"n_scored", "n_positive", "n_negative", "tp", "fp", "fn", "tn"}
    assert all(m[k] == 0 for k in counts)
    assert all(m[k] is None for k in m if k not in counts)


def test_negatives_only() -> None:
    o = Outcomes.from_columns(
        labels=[0, 0, 0, 0],
        alerts=[0, 2, 0, 0],
        max_scores=[0.1, 0.9, 0.2, 0.3],
        n_messages=[3, 3, 3, 3],
    )
    m = compute_metrics(o)
    defined = {
        "f1": 0.0,
        "f0_5": 0.0,
        "f3": 0.0,
        "fpr": 0.25,
        "specificity": 0.75,
        "erde_5": 0.0,
        "erde_50": 0.0,
        "false_alerts_per_1k": 250.0,
        "precision": 0.0,
    }
    assert {k: m[k] for k in defined} == defined
    for key in (
        "recall",
        "mcc",
        "roc_auc",
        "average_precision",
        "ttd_median",
        "latency_f1",
        "latency_p",
        "latency_median_length",
        "detected_before_escalation",
    ):
        assert m[key] is None, key


def test_positives_only() -> None:
    o = Outcomes.from_columns(
        labels=[1, 1], alerts=[1, 0], max_scores=[0.9, 0.1], n_messages=[1, 1]
    )
    m = compute_metrics(o)
    assert m["recall"] == 0.5 and m["precision"] == 1.0
    for key in (
        "fpr",
        "specificity",
        "mcc",
        "roc_auc",
        "false_alerts_per_1k",
        "latency_p",
        "latency_f1",
    ):
        assert m[key] is None, key  # latency_p: m = 1, the median rule is undefined
    assert m["average_precision"] == 1.0
    assert m["latency_speed"] is None


# Invariances, in the manner of scikit-learn's common metric tests.

SEEDS = range(6)


def _assert_same(a: dict[str, float | None], b: dict[str, float | None], keys: list[str]) -> None:
    for key in keys:
        if a[key] is None or b[key] is None:
            assert a[key] is b[key], key
        else:
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-15), key


@pytest.mark.parametrize("seed", SEEDS)
def test_conversation_order_does_not_matter(make_outcomes: MakeOutcomes, seed: int) -> None:
    o = make_outcomes(seed)
    order = np.random.default_rng(seed + 100).permutation(len(o))
    _assert_same(compute_metrics(o), compute_metrics(o.take(order)), EXPECTED_KEYS)


@pytest.mark.parametrize("seed", SEEDS)
def test_group_ids_do_not_matter(make_outcomes: MakeOutcomes, seed: int) -> None:
    o = make_outcomes(seed)
    renamed = Outcomes(**{**o.__dict__, "groups": np.full(len(o), "one-cluster")})
    _assert_same(compute_metrics(o), compute_metrics(renamed), EXPECTED_KEYS)


@pytest.mark.parametrize("seed", SEEDS)
def test_duplicating_the_collection_keeps_rates(make_outcomes: MakeOutcomes, seed: int) -> None:
    o = make_outcomes(seed)
    twice = compute_metrics(o.take(np.r_[np.arange(len(o)), np.arange(len(o))]))
    once = compute_metrics(o)
    counts = ["n_scored", "n_positive", "n_negative", "tp", "fp", "fn", "tn"]
    # Every rate, median and mean is unchanged; p90 interpolates between different ranks.
    _assert_same(once, twice, [k for k in EXPECTED_KEYS if k not in {*counts, "ttd_p90"}])
    assert all(twice[k] == 2 * once[k] for k in counts)  # type: ignore[operator]


@pytest.mark.parametrize("seed", SEEDS)
def test_monotone_score_transform_keeps_ranking_metrics(
    make_outcomes: MakeOutcomes, seed: int
) -> None:
    o = make_outcomes(seed)
    squashed = Outcomes(**{**o.__dict__, "max_scores": np.exp(3 * o.max_scores) - 7})
    _assert_same(compute_metrics(o), compute_metrics(squashed), EXPECTED_KEYS)


@pytest.mark.parametrize("seed", SEEDS)
def test_swapping_classes(make_outcomes: MakeOutcomes, seed: int) -> None:
    from benchmarks.metrics import classification as clf

    o = make_outcomes(seed)
    y, pred, s = o.labels, (o.alerts > 0).astype(int), o.max_scores
    assert clf.mcc(1 - y, 1 - pred) == pytest.approx(clf.mcc(y, pred))
    assert clf.roc_auc(1 - y, -s) == pytest.approx(clf.roc_auc(y, s))
    assert clf.roc_auc(y, -s) == pytest.approx(1 - clf.roc_auc(y, s))  # type: ignore[operator]
    assert clf.specificity(1 - y, 1 - pred) == pytest.approx(clf.recall(y, pred))


@pytest.mark.parametrize("seed", SEEDS)
def test_values_are_in_range(make_outcomes: MakeOutcomes, seed: int) -> None:
    m = compute_metrics(make_outcomes(seed, positive_share=0.1 + 0.15 * seed))
    unit = [
        k
        for k in EXPECTED_KEYS
        if k
        not in {
            "mcc",
            "ttd_median",
            "ttd_p90",
            "ttd_median_minutes",
            "ttd_after_onset_median",
            "latency_p",
            "latency_median_length",
            "false_alerts_per_1k",
            "n_scored",
            "n_positive",
            "n_negative",
            "tp",
            "fp",
            "fn",
            "tn",
        }
    ]
    for key in unit:
        assert m[key] is not None and 0 <= m[key] <= 1, key  # type: ignore[operator]
    assert m["latency_f1"] <= m["f1"]  # type: ignore[operator]
    assert m["specificity"] == pytest.approx(1 - m["fpr"])  # type: ignore[operator]
    assert m["false_alerts_per_1k"] == pytest.approx(1000 * m["fpr"])  # type: ignore[operator]
    assert m["ttd_median"] <= m["ttd_p90"]  # type: ignore[operator]


def test_importing_metrics_does_not_import_evaluate() -> None:
    code = "import sys, benchmarks.metrics, benchmarks.metrics.hf; print('evaluate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_key_is_documented() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"
    table_rows = {
        line.split("`")[1] for line in docs.read_text().splitlines() if line.startswith("| `")
    }
    assert set(METRIC_DEFINITIONS) <= table_rows


def test_an_empty_conversation_is_a_miss() -> None:
    o = Outcomes.from_columns(
        labels=[1, 1], alerts=[0, 2], max_scores=[0.0, 0.9], n_messages=[0, 4]
    )
    m = compute_metrics(o)
    assert (m["tp"], m["fn"], m["latency_median_length"]) == (1, 1, 2.0)
