"""DeLong's test (Sun & Xu's fast algorithm) against brute-force structural components,
scikit-learn's AUC and a null simulation; undefined and degenerate cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from sklearn.metrics import roc_auc_score

from benchmarks.audit.comparisons import compare as cmp
from benchmarks.metrics import classification as clf

# --------------------------------------------------------------------------------------------
# DeLong: building blocks against independent computations
# --------------------------------------------------------------------------------------------


def random_scores(
    seed: int, n: int = 80, *, decimals: int | None = 1
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Labels and two correlated scores; rounding makes many ties within and across classes."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.35).astype(np.int64)
    labels[:2], labels[2:4] = 1, 0  # at least two of each class
    shared = rng.normal(size=n)
    a = 0.8 * labels + shared + rng.normal(size=n)
    b = 0.5 * labels + shared + rng.normal(size=n)
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    return labels, a, b


def brute_auc(labels: NDArray[np.int64], score: NDArray[np.float64]) -> float:
    """Count, over every positive-negative pair, a win as 1 and a tie as 1/2."""
    positives = [s for s, y in zip(score, labels, strict=True) if y == 1]
    negatives = [s for s, y in zip(score, labels, strict=True) if y == 0]
    wins = 0.0
    for p in positives:
        for q in negatives:
            wins += 1.0 if p > q else 0.5 if p == q else 0.0
    return wins / (len(positives) * len(negatives))


def brute_delong(
    labels: NDArray[np.int64], *scores: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """DeLong (1988) from its definition: the O(n_pos·n_neg) kernel matrix of each score.

    Returns the AUCs and the covariance matrix S = S10/m + S01/n of the AUC estimates, where
    S10 and S01 are the sample covariances (ddof 1) of the structural components V10 (one
    per positive: mean kernel over negatives) and V01 (one per negative: mean over positives).
    """
    v10, v01, aucs = [], [], []
    for score in scores:
        pos, neg = score[labels == 1], score[labels == 0]
        kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        v10.append(kernel.mean(axis=1))
        v01.append(kernel.mean(axis=0))
        aucs.append(kernel.mean())
    m, n = len(v10[0]), len(v01[0])
    s10 = np.atleast_2d(np.cov(np.vstack(v10), ddof=1))
    s01 = np.atleast_2d(np.cov(np.vstack(v01), ddof=1))
    return np.asarray(aucs), s10 / m + s01 / n


def test_midranks_match_scipy_average_ranks() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 50, 333):
        values = np.round(rng.normal(size=n), 1)  # ties
        np.testing.assert_array_equal(
            cmp._midranks(values), stats.rankdata(values, method="average")
        )
    np.testing.assert_array_equal(cmp._midranks(np.array([2.0, 2.0, 2.0])), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_auc_matches_sklearn_and_brute_force(seed: int, decimals: int | None) -> None:
    labels, a, _ = random_scores(seed, n=60, decimals=decimals)
    auc, _ = cmp.delong_auc_variance(labels, a)
    assert auc == pytest.approx(roc_auc_score(labels, a), rel=1e-12)
    assert auc == pytest.approx(brute_auc(labels, a), rel=1e-12)
    assert auc == pytest.approx(clf.roc_auc(labels, a), rel=1e-12)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_delong_matches_brute_force_structural_components(seed: int, decimals: int | None) -> None:
    labels, a, b = random_scores(seed, n=70, decimals=decimals)
    aucs, s = brute_delong(labels, a, b)
    auc_a, var_a = cmp.delong_auc_variance(labels, a)
    auc_b, var_b = cmp.delong_auc_variance(labels, b)
    assert (auc_a, auc_b) == pytest.approx(tuple(aucs), rel=1e-12)
    assert var_a == pytest.approx(s[0, 0], rel=1e-10)
    assert var_b == pytest.approx(s[1, 1], rel=1e-10)
    result = cmp.delong_test(labels, a, b)
    se = math.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])  # the covariance term carries the pairing
    assert result.se == pytest.approx(se, rel=1e-10)
    assert result.z == pytest.approx((aucs[0] - aucs[1]) / se, rel=1e-10)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(result.z or 0)), rel=1e-10)
    half = stats.norm.ppf(0.975) * se
    assert (result.low, result.high) == pytest.approx(
        (aucs[0] - aucs[1] - half, aucs[0] - aucs[1] + half), rel=1e-10
    )


def test_delong_is_antisymmetric_and_level_sets_the_width() -> None:
    labels, a, b = random_scores(11, n=200)
    ab = cmp.delong_test(labels, a, b)
    ba = cmp.delong_test(labels, b, a)
    assert ab.z is not None and ba.z is not None and ab.low is not None
    assert ba.z == pytest.approx(-ab.z, rel=1e-12)
    assert ba.p_value == pytest.approx(ab.p_value, rel=1e-12)
    assert (ba.low, ba.high) == pytest.approx((-(ab.high or 0), -ab.low), rel=1e-12)
    narrow = cmp.delong_test(labels, a, b, level=0.8)
    assert narrow.low is not None and narrow.high is not None and ab.high is not None
    assert ab.low < narrow.low < narrow.high < ab.high
    assert narrow.level == 0.8


# --------------------------------------------------------------------------------------------
# DeLong: undefined and degenerate cases
# --------------------------------------------------------------------------------------------


def no_nan(result: cmp.DeLongResult) -> bool:
    return not any(isinstance(v, float) and math.isnan(v) for v in dataclasses.astuple(result))


def test_delong_with_one_class_missing_is_undefined() -> None:
    result = cmp.delong_test([0, 0, 0], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])
    numbers = (result.auc_a, result.auc_b, result.difference, result.se, result.z)
    assert numbers == (None,) * 5
    assert (result.p_value, result.low, result.high) == (None, None, None)
    assert result.note == "ROC-AUC needs both classes: got 0 positives and 3 negatives"
    assert cmp.delong_auc_variance([1, 1], [0.2, 0.4]) == (None, None)


def test_delong_with_a_single_positive_gives_aucs_but_no_test() -> None:
    result = cmp.delong_test([1, 0, 0, 0], [0.9, 0.1, 0.5, 0.3], [0.4, 0.1, 0.5, 0.3])
    assert result.auc_a == 1.0 and result.auc_b == pytest.approx(2 / 3)
    assert result.difference == pytest.approx(1 / 3)
    assert (result.se, result.z, result.p_value, result.low, result.high) == (None,) * 5
    assert result.note is not None and "at least two positives" in result.note
    assert cmp.delong_auc_variance([1, 0, 0], [0.9, 0.1, 0.5]) == (1.0, None)


def test_delong_zero_variance_identical_scores_show_no_difference() -> None:
    labels, a, _ = random_scores(5)
    for b in (a, 3 * a + 1):  # the same ranking, on another scale
        result = cmp.delong_test(labels, a, b)
        assert (result.difference, result.se, result.z, result.p_value) == (0.0, 0.0, 0.0, 1.0)
        assert (result.low, result.high) == (0.0, 0.0)
        assert result.note is not None and result.note.startswith("zero variance")
    both_perfect = cmp.delong_test([0, 0, 1, 1], [0, 1, 2, 3], [0, 1, 5, 4])
    assert both_perfect.p_value == 1.0 and both_perfect.auc_a == both_perfect.auc_b == 1.0


def test_delong_zero_variance_with_a_gap_gives_no_test() -> None:
    # Perfect against constant: AUC 1 against 1/2, and every component constant.
    result = cmp.delong_test([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], [0.5, 0.5, 0.5, 0.5])
    assert (result.auc_a, result.auc_b, result.difference) == (1.0, 0.5, 0.5)
    assert (result.se, result.z, result.p_value, result.low, result.high) == (None,) * 5
    assert result.note is not None and "normal approximation does not apply" in result.note
    assert cmp.delong_auc_variance([0, 0, 1, 1], [0.5] * 4) == (0.5, 0.0)


def test_delong_results_never_hold_nan() -> None:
    cases: list[tuple[ArrayLike, ArrayLike, ArrayLike]] = [
        ([0, 0, 0], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]),
        ([1, 0, 0], [0.9, 0.1, 0.5], [0.4, 0.1, 0.5]),
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], [0.5] * 4),
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], [0.1, 0.2, 0.8, 0.9]),
        (*random_scores(2),),
    ]
    for labels, a, b in cases:
        assert no_nan(cmp.delong_test(labels, a, b))


@pytest.mark.parametrize(
    ("labels", "a", "b", "level", "message"),
    [
        ([0, 1], [0.1, 0.2], [0.1, 0.2, 0.3], 0.95, "differ in length"),
        ([0, 1, 1], [0.1, 0.2], [0.1, 0.2], 0.95, "differ in length"),
        ([0, 2], [0.1, 0.2], [0.1, 0.2], 0.95, "only 0 and 1"),
        ([0, 1], [0.1, math.nan], [0.1, 0.2], 0.95, "score_a must be finite"),
        ([0, 1], [0.1, 0.2], [math.inf, 0.2], 0.95, "score_b must be finite"),
        ([0, 1], [0.1, 0.2], [0.1, 0.2], 1.0, "level must be strictly between"),
        ([0, 1], [0.1, 0.2], [0.1, 0.2], 0.0, "level must be strictly between"),
    ],
)
def test_delong_rejects_bad_input(
    labels: list[int], a: list[float], b: list[float], level: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cmp.delong_test(labels, a, b, level=level)


def test_delong_auc_variance_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="score must be finite"):
        cmp.delong_auc_variance([0, 1], [0.1, math.nan])
    with pytest.raises(ValueError, match="differ in length"):
        cmp.delong_auc_variance([0, 1, 1], [0.1, 0.2])


@pytest.mark.slow
def test_delong_z_is_standard_normal_under_the_null() -> None:
    """Two exchangeable, correlated scores have equal AUCs: z should be about N(0, 1)."""
    rng = np.random.default_rng(20140601)
    n, repeats = 200, 2000
    zs = []
    for _ in range(repeats):
        labels = (rng.random(n) < 0.3).astype(np.int64)
        shared = rng.normal(size=n)
        a = labels + shared + rng.normal(size=n)
        b = labels + shared + rng.normal(size=n)
        z = cmp.delong_test(labels, np.round(a, 1), np.round(b, 1)).z
        assert z is not None
        zs.append(z)
    z_values = np.asarray(zs)
    assert abs(z_values.mean()) < 0.1
    assert 0.9 < z_values.std() < 1.1
    assert stats.kstest(z_values, "norm").pvalue > 0.01
    # Nominal 5% test: the rejection rate's binomial standard error here is about 0.5%.
    assert 0.03 < np.mean(np.abs(z_values) > stats.norm.ppf(0.975)) < 0.07


def test_delong_is_fast_on_a_large_corpus() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    labels = (rng.random(n) < 0.01).astype(np.int64)
    result = cmp.delong_test(labels, labels + rng.normal(size=n), rng.normal(size=n))
    assert result.p_value is not None and result.p_value < 1e-10
