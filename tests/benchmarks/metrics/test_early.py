"""Early-detection metrics against hand-computed values and their defining formulas."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.metrics import Outcomes, early

# Five positives, three negatives. Positive alerts 3, 7, 0 (missed), 12, 1; negative alerts 0, 4, 0.
LABELS = [1, 1, 1, 1, 1, 0, 0, 0]
ALERTS = [3, 7, 0, 12, 1, 0, 4, 0]
N_MESSAGES = [10, 20, 30, 40, 50, 5, 6, 7]


def test_percentile_is_numpy_linear() -> None:
    values = [7, 1, 3, 12]
    assert early.percentile(values, q=50) == 5.0  # (3 + 7) / 2
    assert early.percentile(values, q=90) == pytest.approx(7 + 0.7 * (12 - 7))  # rank 2.7
    assert early.percentile(values, q=90) == np.percentile(values, 90, method="linear")
    assert early.percentile([], q=50) is None
    with pytest.raises(ValueError, match="q must be"):
        early.percentile([1], q=101)


def test_time_to_detection_by_hand() -> None:
    # TP alert indices: 3, 7, 12, 1 → sorted 1, 3, 7, 12.
    assert early.ttd_median(LABELS, ALERTS) == 5.0
    assert early.ttd_percentile(LABELS, ALERTS, q=90) == pytest.approx(7 + 0.7 * 5)
    assert early.ttd_median([1, 0], [0, 3]) is None


def test_ttd_minutes_uses_true_positives_with_a_clock() -> None:
    minutes = [4.0, np.nan, np.nan, 60.0, 1.0, np.nan, 9.0, np.nan]
    assert early.ttd_median_minutes(LABELS, ALERTS, minutes) == 4.0  # of 4, 60, 1
    assert early.ttd_median_minutes([1], [2], [np.nan]) is None


def test_ttd_after_onset_is_signed_and_skips_unknown_onsets() -> None:
    onsets = [5, 2, 3, 0, 1, 0, 2, 0]  # TPs: 3−5 = −2, 7−2 = 5, (12: unknown), 1−1 = 0
    assert early.ttd_after_onset_median(LABELS, ALERTS, onsets) == 0.0
    assert early.ttd_after_onset_median([1, 1], [3, 4], [0, 0]) is None


def test_detection_curve_by_hand() -> None:
    curve = early.detection_curve(LABELS, ALERTS)
    assert len(curve) == 12
    by_n = {1: 1 / 5, 2: 1 / 5, 3: 2 / 5, 6: 2 / 5, 7: 3 / 5, 11: 3 / 5, 12: 4 / 5}
    for n, share in by_n.items():
        assert curve[n - 1] == pytest.approx(share)
    assert early.detection_curve(LABELS, ALERTS, n_max=3).tolist() == pytest.approx([0.2, 0.2, 0.4])
    assert early.detection_curve(LABELS, ALERTS, n_max=20)[-1] == pytest.approx(0.8)
    assert early.detection_curve([0, 0], [1, 0]).size == 0
    assert early.detection_curve([1, 1], [0, 0]).tolist() == [0.0]


def test_detection_curve_is_monotone_and_ends_at_recall(
    make_outcomes: Callable[..., Outcomes],
) -> None:
    o = make_outcomes(3)
    curve = early.detection_curve(o.labels, o.alerts)
    assert np.all(np.diff(curve) >= 0)
    positives = o.labels == 1
    assert curve[-1] == pytest.approx(np.mean(o.alerts[positives] > 0))


def test_detected_before_escalation_by_hand() -> None:
    escalations = [4, 7, 9, 0, 1, 2, 5, 0]
    # Positives with an escalation: 3 < 4 yes; 7 < 7 no (strictly); missed: no; 1 < 1 no.
    assert early.detected_before_escalation(LABELS, ALERTS, escalations) == 0.25
    assert early.detected_before_escalation([1, 0], [1, 1], [0, 5]) is None


def test_latency_penalty_formula() -> None:
    p = 0.05
    k = np.arange(1, 200)
    penalty = early.latency_penalty(k, p=p)
    assert penalty == pytest.approx(-1 + 2 / (1 + np.exp(-p * (k - 1))), rel=1e-15)
    assert penalty == pytest.approx(np.tanh(p * (k - 1) / 2), abs=1e-15)
    assert penalty[0] == 0.0
    assert np.all(np.diff(penalty) > 0) and np.all(penalty < 1)
    assert early.latency_penalty(1, p=p).tolist() == [0.0]
    with pytest.raises(ValueError, match="p must be"):
        early.latency_penalty(k, p=-1.0)


@pytest.mark.parametrize(
    ("lengths", "m"),
    [([10, 20, 30, 40, 50], 30.0), ([4, 6, 10, 20], 8.0), ([2], 2.0)],
)
def test_median_rule_puts_penalty_one_half_at_m(lengths: list[int], m: float) -> None:
    labels = [1] * len(lengths) + [0]
    assert early.median_positive_length(labels, [*lengths, 999]) == m
    p = early.median_rule_p(m)
    assert p is not None
    assert p == pytest.approx(math.log(3) / (m - 1), rel=1e-15)
    assert early.latency_penalty(m, p=p)[0] == pytest.approx(0.5, rel=1e-12)


def test_median_rule_is_undefined_for_m_at_most_one() -> None:
    assert early.median_rule_p(1.0) is None
    assert early.median_rule_p(0.5) is None
    assert early.median_rule_p(None) is None
    assert early.median_positive_length([0, 0], [5, 5]) is None
    assert early.latency_f1([1, 1, 0], [1, 1, 0], [1, 1, 9]) is None  # m = 1
    assert early.latency_f1([1, 1, 0], [1, 1, 0], [1, 1, 9], p=0.1) == 1.0


def test_latency_speed_and_f1_by_hand() -> None:
    # m = median(10, 20, 30, 40, 50) = 30, p = ln 3 / 29.
    p = math.log(3) / 29
    penalties = [-1 + 2 / (1 + math.exp(-p * (k - 1))) for k in (1, 3, 7, 12)]
    speed = 1 - (penalties[1] + penalties[2]) / 2
    assert early.latency_speed(LABELS, ALERTS, p=p) == pytest.approx(speed, rel=1e-14)
    f1 = 2 * 4 / (2 * 4 + 1 + 1)  # TP 4, FN 1, FP 1
    got = early.latency_f1(LABELS, ALERTS, N_MESSAGES)
    assert got == pytest.approx(f1 * speed, rel=1e-14)
    assert early.latency_f1(LABELS, ALERTS, N_MESSAGES, p=0.0) == pytest.approx(f1)
    assert early.latency_f1(LABELS, ALERTS, N_MESSAGES, p=0.0078) == pytest.approx(
        f1 * (1 - np.median([-1 + 2 / (1 + math.exp(-0.0078 * (k - 1))) for k in (1, 3, 7, 12)]))
    )


def test_latency_without_true_positive() -> None:
    assert early.latency_speed([1, 0], [0, 2], p=0.1) is None
    assert early.latency_f1([1, 0], [0, 2], [5, 5]) == 0.0  # F1 = 0: the product is 0
    assert early.latency_f1([0, 0], [0, 0], [5, 5], p=0.1) is None  # F1 undefined


def test_latency_f1_checks_alerts_within_conversation() -> None:
    with pytest.raises(ValueError, match="alerts must not exceed n_messages"):
        early.latency_f1([1], [6], [5])


def test_erde_by_hand() -> None:
    labels, alerts = [1, 1, 1, 0, 0], [5, 50, 0, 3, 0]
    c_fp = 3 / 5
    costs_5 = [0.5, 1 - 1 / (1 + math.exp(45)), 1.0, c_fp, 0.0]
    costs_50 = [1 - 1 / (1 + math.exp(-45)), 0.5, 1.0, c_fp, 0.0]
    assert early.erde(labels, alerts, o=5) == pytest.approx(np.mean(costs_5), rel=1e-15)
    assert early.erde(labels, alerts, o=50) == pytest.approx(np.mean(costs_50), rel=1e-15)
    assert early.erde(labels, alerts, o=5) == pytest.approx(0.62)
    assert early.erde(labels, alerts, o=50) == pytest.approx(0.42)
    assert early.erde(labels, alerts, o=5, c_fp=0.0) == pytest.approx(0.5)
    assert early.erde([], [], o=5) is None
    with pytest.raises(ValueError, match="c_fp"):
        early.erde(labels, alerts, o=5, c_fp=-1.0)


def test_erde_tp_cost_is_a_sigmoid_in_k_minus_o() -> None:
    ks = np.arange(1, 2000)
    costs = np.array([early.erde([1], [k], o=50) for k in ks], dtype=float)
    assert costs[49] == 0.5
    assert np.all(np.diff(costs) >= 0)
    assert costs[-1] == 1.0  # exp overflow handled: the limit, no warning
    assert early.erde([1], [1], o=5) == pytest.approx(1 - 1 / (1 + math.exp(-4)))
