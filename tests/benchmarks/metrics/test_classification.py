"""Classification metrics: hand-computed cases, undefined cases, and scikit-learn agreement."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from benchmarks.metrics import classification as clf

Y_TRUE = [1, 1, 1, 0, 0, 0, 0, 0]
Y_PRED = [1, 1, 0, 1, 0, 0, 0, 0]  # TP 2, FN 1, FP 1, TN 4


def test_confusion_counts_by_hand() -> None:
    assert clf.confusion_counts(Y_TRUE, Y_PRED) == clf.ConfusionCounts(tp=2, fp=1, fn=1, tn=4)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (clf.precision, 2 / 3),
        (clf.recall, 2 / 3),
        (clf.fpr, 1 / 5),
        (clf.specificity, 4 / 5),
        (clf.mcc, (2 * 4 - 1 * 1) / math.sqrt(3 * 3 * 5 * 5)),
    ],
)
def test_decision_metrics_by_hand(
    metric: Callable[[ArrayLike, ArrayLike], float | None], expected: float
) -> None:
    assert metric(Y_TRUE, Y_PRED) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_f_beta_by_hand_matches_pr_formula(beta: float) -> None:
    p, r = 2 / 3, 2 / 3
    expected = (1 + beta**2) * p * r / (beta**2 * p + r)
    assert clf.f_beta(Y_TRUE, Y_PRED, beta=beta) == pytest.approx(expected, rel=1e-15)
    # Unequal P and R so that β matters: P = 1, R = 1/3.
    p, r = 1.0, 1 / 3
    expected = (1 + beta**2) * p * r / (beta**2 * p + r)
    got = clf.f_beta([1, 1, 1, 0], [1, 0, 0, 0], beta=beta)
    assert got == pytest.approx(expected, rel=1e-15)


def test_f_beta_rejects_bad_beta() -> None:
    with pytest.raises(ValueError, match="beta"):
        clf.f_beta([1], [1], beta=0)


def test_scores_by_hand() -> None:
    # Pairs (pos, neg): 0.8 beats 0.4 and 0.1; 0.4 ties 0.4 (1/2) and beats 0.1 → 3.5 of 4.
    y, s = [1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]
    assert clf.roc_auc(y, s) == 0.875
    # Thresholds 0.8: P 1, R 1/2; 0.4: P 2/3, R 1; 0.1: R unchanged → 1/2 + 1/2 · 2/3.
    assert clf.average_precision(y, s) == pytest.approx(0.5 + 1 / 3, rel=1e-15)
    assert clf.roc_auc([1, 0], [0.2, 0.9]) == 0.0
    assert clf.average_precision([1, 0, 0], [0.5, 0.5, 0.5]) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("metric", "y_true", "y_other"),
    [
        (clf.precision, [1, 0], [0, 0]),
        (clf.recall, [0, 0], [1, 0]),
        (clf.fpr, [1, 1], [1, 0]),
        (clf.specificity, [1, 1], [0, 0]),
        (clf.mcc, [1, 1, 0], [1, 1, 1]),
        (clf.mcc, [1, 0, 1], [0, 0, 0]),
        (clf.roc_auc, [1, 1], [0.3, 0.9]),
        (clf.roc_auc, [0, 0], [0.3, 0.9]),
        (clf.roc_auc, [], []),
        (clf.average_precision, [0, 0], [0.3, 0.9]),
        (clf.precision, [], []),
    ],
)
def test_undefined_is_none(
    metric: Callable[[ArrayLike, ArrayLike], float | None], y_true: list[int], y_other: list[float]
) -> None:
    assert metric(y_true, y_other) is None


def test_f_beta_undefined_only_without_positives_and_alerts() -> None:
    assert clf.f_beta([0, 0], [0, 0], beta=1.0) is None
    assert clf.f_beta([1, 1], [0, 0], beta=1.0) == 0.0
    assert clf.f_beta([0, 0], [1, 0], beta=1.0) == 0.0


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        clf.precision([1, 0], [1])
    with pytest.raises(ValueError, match="y_pred must hold only 0 and 1"):
        clf.precision([1, 0], [2, 0])
    with pytest.raises(ValueError, match="y_score must be finite"):
        clf.roc_auc([1, 0], [np.inf, 0.0])


def _random(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    score = np.round(rng.normal(y * rng.uniform(0, 1.5), 1.0), rng.integers(0, 3))
    pred = (score > rng.normal(0.5, 0.5)).astype(int)
    return y, pred, score


SEEDS = range(25)
SIZES = [3, 8, 40, 500]


def _same(ours: float | None, theirs: float) -> None:
    """Ours is None exactly where scikit-learn (zero_division=nan) gives NaN."""
    if math.isnan(theirs):
        assert ours is None
    else:
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_agrees_with_sklearn(seed: int, n: int) -> None:
    y, pred, score = _random(seed, n)
    nan = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(clf.precision(y, pred), skm.precision_score(y, pred, zero_division=nan))
        _same(clf.recall(y, pred), skm.recall_score(y, pred, zero_division=nan))
        for beta in (0.5, 1.0, 3.0):
            theirs = skm.fbeta_score(y, pred, beta=beta, zero_division=nan)
            _same(clf.f_beta(y, pred, beta=beta), theirs)
        tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        assert clf.confusion_counts(y, pred) == clf.ConfusionCounts(tp=tp, fp=fp, fn=fn, tn=tn)
        _same(clf.fpr(y, pred), fp / (fp + tn) if fp + tn else nan)
        _same(clf.specificity(y, pred), tn / (fp + tn) if fp + tn else nan)
        ours_mcc = clf.mcc(y, pred)
        if ours_mcc is not None:
            assert ours_mcc == pytest.approx(skm.matthews_corrcoef(y, pred), rel=1e-12, abs=1e-15)
        if 0 < y.sum() < n:
            assert clf.roc_auc(y, score) == pytest.approx(skm.roc_auc_score(y, score), rel=1e-12)
        else:
            assert clf.roc_auc(y, score) is None
        if y.sum() > 0:
            theirs = skm.average_precision_score(y, score)
            assert clf.average_precision(y, score) == pytest.approx(theirs, rel=1e-12)
        else:
            assert clf.average_precision(y, score) is None


def test_mcc_large_counts_do_not_overflow() -> None:
    y = np.r_[np.ones(60_000, int), np.zeros(60_000, int)]
    pred = np.r_[
        np.ones(50_000, int), np.zeros(10_000, int), np.ones(5_000, int), np.zeros(55_000, int)
    ]
    assert clf.mcc(y, pred) == pytest.approx(skm.matthews_corrcoef(y, pred), rel=1e-12)
