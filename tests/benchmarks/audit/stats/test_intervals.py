"""Rate intervals: agreement with statsmodels and scipy, one-sided bounds, undefined rates."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from benchmarks.audit.stats.intervals import (
    RATE_METRICS,
    Interval,
    one_sided_bound,
    rate_counts,
    rate_interval,
    rate_intervals,
)
from benchmarks.metrics import Outcomes, compute_metrics

CASES = [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (1, 2), (0, 2995), (1, 4760), (5, 10_600)]
CASES += [(950, 1000), (142, 142), (7, 300), (299, 300)]


def random_outcomes(seed: int, n: int = 300, *, authors: int | None = None) -> Outcomes:
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(int)
    n_messages = rng.integers(1, 60, size=n)
    alerted = rng.random(n) < np.where(labels == 1, 0.7, 0.1)
    alerts = np.where(alerted, rng.integers(1, n_messages + 1), 0)
    escalations = np.where(rng.random(n) < 0.5, rng.integers(1, n_messages + 1), 0)
    groups = (
        [f"c{i}" for i in range(n)]
        if authors is None
        else [f"a{i}" for i in rng.integers(0, authors, n)]
    )
    return Outcomes.from_columns(
        labels=labels,
        alerts=alerts,
        max_scores=rng.random(n),
        n_messages=n_messages,
        escalations=escalations,
        groups=groups,
    )


@pytest.mark.parametrize(("k", "n"), CASES)
@pytest.mark.parametrize("level", [0.90, 0.95, 0.99])
def test_clopper_pearson_matches_statsmodels_beta(k: int, n: int, level: float) -> None:
    ci = rate_interval(k, n, level=level)
    low, high = proportion_confint(k, n, alpha=1 - level, method="beta")
    assert ci.method == "clopper-pearson"
    assert ci.estimate == k / n and ci.n == n and ci.level == level
    assert ci.low == pytest.approx(low, abs=1e-10)
    assert ci.high == pytest.approx(high, abs=1e-10)


@pytest.mark.parametrize(("k", "n"), CASES)
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    ci = rate_interval(k, n, method="wilson")
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert ci.low == pytest.approx(low, abs=1e-10)
    assert ci.high == pytest.approx(high, abs=1e-10)


@pytest.mark.parametrize(("k", "n"), [(3, 10), (1, 2), (950, 1000), (7, 300), (1, 4760)])
def test_jeffreys_matches_statsmodels_inside(k: int, n: int) -> None:
    ci = rate_interval(k, n, method="jeffreys")
    low, high = proportion_confint(k, n, alpha=0.05, method="jeffreys")
    assert ci.low == pytest.approx(low, abs=1e-10)
    assert ci.high == pytest.approx(high, abs=1e-10)


def test_jeffreys_pins_the_boundaries() -> None:
    """Brown, Cai & DasGupta: lower end 0 at k = 0, upper end 1 at k = n."""
    zero, full = rate_interval(0, 20, method="jeffreys"), rate_interval(20, 20, method="jeffreys")
    assert zero.low == 0.0 and zero.high == pytest.approx(stats.beta.ppf(0.975, 0.5, 20.5))
    assert full.high == 1.0 and full.low == pytest.approx(stats.beta.ppf(0.025, 20.5, 0.5))


def test_never_wald_at_zero() -> None:
    """Wald gives [0, 0] for 0/2995 (statsmodels' default); every offered method does not."""
    assert proportion_confint(0, 2995) == (0.0, 0.0)
    for method in ("clopper-pearson", "wilson", "jeffreys"):
        ci = rate_interval(0, 2995, method=method)
        assert ci.low == 0.0 and ci.high is not None and ci.high > 0.0008


@pytest.mark.parametrize(("k", "n"), CASES)
@pytest.mark.parametrize("level", [0.90, 0.95])
def test_one_sided_clopper_pearson_against_scipy(k: int, n: int, level: float) -> None:
    lower = one_sided_bound(k, n, level=level, side="lower")
    upper = one_sided_bound(k, n, level=level, side="upper")
    alpha = 1 - level
    # Scipy directly: the lower bound tests "greater", and the beta quantiles in closed form.
    assert lower == pytest.approx(
        stats.binomtest(k, n, alternative="greater").proportion_ci(level).low, abs=1e-12
    )
    assert lower == pytest.approx(0.0 if k == 0 else stats.beta.ppf(alpha, k, n - k + 1))
    assert upper == pytest.approx(1.0 if k == n else stats.beta.ppf(1 - alpha, k + 1, n - k))
    # A one-sided (1 − α) bound is an end of the two-sided (1 − 2α) interval.
    two_sided = rate_interval(k, n, level=1 - 2 * alpha)
    assert (lower, upper) == pytest.approx((two_sided.low, two_sided.high), abs=1e-10)


def test_statsmodels_alternative_larger_is_the_upper_bound_trap() -> None:
    """AUDIT.md: statsmodels' alternative="larger" returns the *upper* bound; ours says which."""
    low, high = proportion_confint(95, 100, alpha=0.05, method="beta", alternative="larger")
    assert low == 0.0
    assert high == pytest.approx(one_sided_bound(95, 100, side="upper"), abs=1e-10)
    _, trap_high = proportion_confint(95, 100, alpha=0.05, method="beta", alternative="smaller")
    assert trap_high == 1.0
    assert one_sided_bound(95, 100, side="lower") == pytest.approx(0.89775, abs=1e-5)


def test_rule_of_three() -> None:
    """Zero false positives among n negatives bounds FPR at about 3/n (one-sided 95%)."""
    for n in (2995, 10_000, 100_000):
        bound = one_sided_bound(0, n, side="upper")
        assert bound == pytest.approx(1 - 0.05 ** (1 / n))
        assert bound == pytest.approx(3 / n, rel=0.002)
    assert one_sided_bound(0, 2995, side="upper") <= 0.001  # type: ignore[operator]
    # AUDIT.md: about 4,760 negatives with one FP, 10,600 with five, to bound FPR at 0.1%.
    assert one_sided_bound(1, 4760, side="upper") == pytest.approx(0.001, rel=0.01)
    assert one_sided_bound(5, 10_600, side="upper") == pytest.approx(0.001, rel=0.01)


@pytest.mark.parametrize("method", ["wilson", "jeffreys"])
def test_one_sided_other_methods(method: str) -> None:
    lower = one_sided_bound(30, 100, side="lower", method=method)
    upper = one_sided_bound(30, 100, side="upper", method=method)
    two_sided = rate_interval(30, 100, level=0.90, method=method)
    assert (lower, upper) == pytest.approx((two_sided.low, two_sided.high), abs=1e-10)


def test_undefined_rate_is_none_not_nan() -> None:
    ci = rate_interval(0, 0, method="wilson")
    assert ci == Interval(
        None, None, None, 0.95, "undefined", n=0, note="no trials (n = 0): the rate is undefined"
    )
    assert one_sided_bound(0, 0, side="upper") is None
    json.dumps(ci.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rate_interval(3, 2), "0 <= k <= n"),
        (lambda: rate_interval(-1, 2), "0 <= k <= n"),
        (lambda: rate_interval(1, 2, level=1.0), "level"),
        (lambda: rate_interval(1, 2, level=math.nan), "level"),
        (lambda: rate_interval(1, 2, method="wald"), "method"),
        (lambda: rate_interval(1.5, 2), "integers"),  # type: ignore[arg-type]
        (lambda: one_sided_bound(1, 2, side="larger"), "side"),
    ],
)
def test_bad_arguments_raise(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("method", ["clopper-pearson", "wilson", "jeffreys"])
def test_rate_intervals_estimates_equal_compute_metrics(seed: int, method: str) -> None:
    outcomes = random_outcomes(seed)
    metrics = compute_metrics(outcomes)
    intervals = rate_intervals(outcomes, method=method)
    assert set(intervals) == set(RATE_METRICS)
    for name, ci in intervals.items():
        assert ci.estimate == metrics[name], name
        assert ci.method == method and ci.note == ""
        assert ci.estimate is not None and ci.low is not None and ci.high is not None
        assert ci.low <= ci.estimate <= ci.high


def test_rate_intervals_scale_and_counts() -> None:
    outcomes = random_outcomes(1)
    counts = rate_counts(outcomes)
    metrics = compute_metrics(outcomes)
    assert counts["recall"] == (metrics["tp"], metrics["n_positive"])
    assert counts["fpr"] == (metrics["fp"], metrics["n_negative"])
    assert counts["precision"] == (metrics["tp"], metrics["tp"] + metrics["fp"])  # type: ignore[operator]
    per_1k, fpr = rate_intervals(outcomes)["false_alerts_per_1k"], rate_intervals(outcomes)["fpr"]
    assert (per_1k.low, per_1k.high) == pytest.approx((1000 * fpr.low, 1000 * fpr.high))  # type: ignore[operator]


def test_rate_intervals_undefined_and_clustered() -> None:
    no_negative = Outcomes.from_columns(
        labels=[1, 1, 1], alerts=[1, 0, 2], max_scores=[0.5, 0.2, 0.9], n_messages=[3, 3, 3]
    )
    intervals = rate_intervals(no_negative)
    for name in ("fpr", "specificity", "false_alerts_per_1k", "detected_before_escalation"):
        assert intervals[name].method == "undefined" and intervals[name].estimate is None
    assert intervals["recall"].estimate == pytest.approx(2 / 3)
    json.dumps({k: v.to_dict() for k, v in intervals.items()}, allow_nan=False)
    clustered = rate_intervals(random_outcomes(2, authors=40))
    assert "independent conversations" in clustered["recall"].note


@pytest.mark.slow
def test_clopper_pearson_and_wilson_coverage() -> None:
    """Coverage of a known truth: exact (enumerated) and simulated, 95% nominal."""
    n, truth = 400, 0.8
    k = np.arange(n + 1)
    weights = stats.binom.pmf(k, n, truth)
    for method, low_bound, high_bound in (("clopper-pearson", 0.95, 0.97), ("wilson", 0.93, 0.97)):
        covered = np.array(
            [
                (ci := rate_interval(int(j), n, method=method)).low <= truth <= ci.high  # type: ignore[operator]
                for j in k
            ]
        )
        exact = float(np.sum(weights[covered]))
        assert low_bound <= exact <= high_bound, (method, exact)
        # The same by simulation, as an auditor would check a method whose coverage is unknown.
        rng = np.random.default_rng(2026)
        draws = rng.binomial(n, truth, size=1000)
        simulated = float(np.mean(covered[draws]))
        assert 0.93 <= simulated <= 0.97, (method, simulated)
