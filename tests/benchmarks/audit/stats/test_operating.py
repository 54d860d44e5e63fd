"""Fixed operating points: calibrated thresholds, TPR at FPR, DET and PR curves."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import det_curve, precision_recall_curve
from statsmodels.stats.proportion import proportion_confint

from benchmarks.audit.stats.operating import (
    DEFAULT_TARGETS,
    Scores,
    det_curve_points,
    pr_curve_points,
    threshold_at_fpr,
    tpr_at_fpr,
)
from benchmarks.audit.stats.prevalence import ppv
from benchmarks.errors import ConfigError
from benchmarks.metrics import Outcomes
from benchmarks.policies import ThresholdPolicy


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("target", [0.5, 0.1, 0.013, 1e-3])
def test_threshold_is_the_smallest_meeting_the_target(seed: int, target: float) -> None:
    rng = np.random.default_rng(seed)
    # Rounded scores: many ties, which a threshold can never split.
    scores = np.round(rng.beta(2, 5, size=int(rng.integers(20, 3000))), 2)
    t = threshold_at_fpr(scores, target)
    assert t.achieved_fpr == np.mean(scores >= t.value) <= target
    assert t.n_above == np.sum(scores >= t.value) and t.n_negatives == len(scores)
    # One float lower and the calibration FPR exceeds the target.
    assert np.mean(scores >= np.nextafter(t.value, -np.inf)) > target


def test_threshold_matches_the_threshold_policy_rule() -> None:
    # A conversation alerts at some message under ThresholdPolicy iff its max score >= value.
    rng = np.random.default_rng(1)
    t = threshold_at_fpr(rng.random(500), 0.05)
    policy = ThresholdPolicy(threshold=t.value)
    for _ in range(300):
        scores = list(rng.random(int(rng.integers(1, 20))))
        alerted = policy.first_alert(scores, list(range(1, len(scores) + 1))) is not None
        assert alerted == (max(scores) >= t.value)
    # The boundary: a score exactly at the threshold alerts, the score it was set above does not.
    exact = threshold_at_fpr([0.1, 0.2, 0.3], 0.34)
    assert ThresholdPolicy(threshold=exact.value).first_alert([0.2], [1]) is None
    assert ThresholdPolicy(threshold=exact.value).first_alert([exact.value], [1]) == 1


def test_too_few_negatives_are_reported_in_a_note() -> None:
    t = threshold_at_fpr(np.linspace(0, 1, 500), 1e-3)
    assert t.n_above == 0 and t.value > 1.0
    assert t.note.startswith("only 500 negatives") and "1,000" in t.note
    assert threshold_at_fpr(np.linspace(0, 1, 1000), 1e-3).note == ""


def test_threshold_inputs_are_checked() -> None:
    with pytest.raises(ConfigError, match="no negative"):
        threshold_at_fpr([], 0.01)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="target_fpr"):
            threshold_at_fpr([0.1, 0.2], bad)
    with pytest.raises(ValueError):
        threshold_at_fpr([0.1, float("nan")], 0.1)


def make_split(rng: np.random.Generator, n_pos: int, n_neg: int) -> Outcomes:
    labels = np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]
    scores = np.r_[rng.beta(5, 2, n_pos), rng.beta(2, 5, n_neg)]
    return Outcomes.from_columns(
        labels=labels, alerts=np.zeros(len(labels), dtype=int), max_scores=scores,
        n_messages=np.full(len(labels), 5),
    )  # fmt: skip


def test_tpr_at_fpr_uses_calibration_negatives_and_test_counts() -> None:
    rng = np.random.default_rng(2)
    calibration, test = make_split(rng, 50, 20_000), make_split(rng, 300, 5000)
    points = tpr_at_fpr(calibration, test)
    assert [p.target_fpr for p in points] == list(DEFAULT_TARGETS)
    for p in points:
        alerted = test.max_scores >= p.threshold.value
        tp = int(np.sum(alerted & (test.labels == 1)))
        fp = int(np.sum(alerted & (test.labels == 0)))
        assert (p.n_positives_above, p.n_negatives_above) == (tp, fp)
        assert p.tpr.estimate == tp / 300 and p.fpr.estimate == fp / 5000
        low, high = proportion_confint(tp, 300, alpha=0.05, method="beta")
        assert p.tpr.low == pytest.approx(low if tp else 0.0, abs=1e-9)
        assert p.tpr.high == pytest.approx(high if tp < 300 else 1.0, abs=1e-9)
        assert p.threshold.achieved_fpr <= p.target_fpr
    assert points[-1].threshold.note == ""  # 20,000 negatives resolve 1e-4
    # Lower FPR targets mean higher thresholds and fewer alerts.
    values = [p.threshold.value for p in points]
    assert values == sorted(values)


def test_calibration_positives_and_test_data_do_not_move_the_threshold() -> None:
    rng = np.random.default_rng(3)
    calibration, test = make_split(rng, 50, 2000), make_split(rng, 100, 1000)
    shifted = Scores(
        labels=calibration.labels,
        max_scores=np.where(calibration.labels == 1, 0.0, calibration.max_scores),
    )
    other_test = make_split(rng, 10, 10)
    first = tpr_at_fpr(calibration, test, [0.01])[0].threshold
    assert tpr_at_fpr(shifted, other_test, [0.01])[0].threshold == first


def test_tpr_at_fpr_with_a_test_split_missing_a_class_is_undefined_not_a_crash() -> None:
    calibration = Scores(labels=np.zeros(200, dtype=np.int64), max_scores=np.linspace(0, 1, 200))
    only_negatives = Scores(labels=np.zeros(3, dtype=np.int64), max_scores=np.array([0.1, 0.5, 1]))
    [p] = tpr_at_fpr(calibration, only_negatives, [0.01])
    assert p.tpr.estimate is None and p.tpr.method == "undefined"
    assert p.fpr.estimate == pytest.approx(1 / 3)


def test_det_curve_matches_sklearn() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.random(200), 2)
    curve = det_curve_points(y, s)
    fpr, fnr, thresholds = det_curve(y, s)
    np.testing.assert_array_equal(curve.fpr, fpr)
    np.testing.assert_array_equal(curve.fnr, fnr)
    np.testing.assert_array_equal(curve.thresholds, thresholds)
    assert not curve.fpr.flags.writeable
    assert det_curve_points([0, 0], [0.1, 0.2]).note == "undefined: no positives"


def test_pr_curve_matches_sklearn_and_reweights_to_a_prevalence() -> None:
    rng = np.random.default_rng(5)
    y = np.r_[np.ones(60, dtype=int), np.zeros(240, dtype=int)]
    s = np.r_[rng.beta(4, 2, 60), rng.beta(2, 4, 240)]
    plain = pr_curve_points(y, s)
    precision, recall, thresholds = precision_recall_curve(y, s)
    np.testing.assert_array_equal(plain.precision, precision)
    np.testing.assert_array_equal(plain.thresholds, thresholds)

    weighted = pr_curve_points(y, s, prevalence=1e-3)
    np.testing.assert_allclose(weighted.recall, recall)
    for i, t in enumerate(weighted.thresholds):
        tpr = np.mean(s[y == 1] >= t)
        fpr = np.mean(s[y == 0] >= t)
        assert weighted.precision[i] == pytest.approx(ppv(tpr, fpr, 1e-3))
    # Re-weighting to the test set's own prevalence changes nothing.
    same = pr_curve_points(y, s, prevalence=0.2)
    np.testing.assert_allclose(same.precision, precision)


def test_pr_curve_undefined_cases() -> None:
    assert pr_curve_points([0, 0], [0.1, 0.2]).note == "undefined: no positives"
    assert pr_curve_points([1, 1], [0.1, 0.2]).note == ""  # precision 1 everywhere
    assert pr_curve_points([1, 1], [0.1, 0.2], prevalence=0.01).note == "undefined: no negatives"
    with pytest.raises(ValueError, match="prevalence"):
        pr_curve_points([1, 0], [0.1, 0.2], prevalence=1.0)
