"""PPV and false flags at deployment prevalences, with the uncertainty carried through."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.audit.stats.prevalence import (
    Prevalence,
    detection_cost,
    false_flags_per_million,
    normalized_detection_cost,
    ppv,
    projection,
)


def test_audit_example_at_one_in_ten_thousand() -> None:
    # AUDIT.md: 95% recall, 0.1% FPR, prevalence 1e-4 → PPV ≈ 8.7%, ≈ 1,000 false flags/million.
    assert ppv(0.95, 0.001, 1e-4) == pytest.approx(0.087, abs=0.0005)
    assert false_flags_per_million(0.001, 1e-4) == pytest.approx(1000, rel=1e-3)


def test_ppv_is_bayes_rule() -> None:
    tpr, fpr, pi = 0.8, 0.05, 0.02
    assert ppv(tpr, fpr, pi) == pytest.approx(tpr * pi / (tpr * pi + fpr * (1 - pi)))
    assert ppv(0.0, 0.0, 0.5) is None
    assert ppv(0.9, 0.0, 0.01) == 1.0


def test_detection_cost() -> None:
    assert detection_cost(0.1, 0.01, 0.5, 2.0, 1.0) == pytest.approx(2 * 0.1 * 0.5 + 0.01 * 0.5)
    # The trivial systems score exactly 1: never alerting (all misses) when misses are cheaper.
    assert normalized_detection_cost(1.0, 0.0, 0.01, 1.0, 1.0) == pytest.approx(1.0)
    assert normalized_detection_cost(0.0, 1.0, 0.9, 1.0, 1.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        normalized_detection_cost(0.1, 0.1, 0.1, 0.0, 1.0)


def test_projection_intervals_contain_the_point_value() -> None:
    for tp, fn, fp, tn in [(190, 10, 10, 9990), (5, 0, 0, 300), (0, 20, 3, 97), (7, 3, 40, 60)]:
        for p in projection(tp, fn, fp, tn, [1e-4, 0.01, 0.3], costs=(10.0, 1.0)):
            for interval in (p.ppv, p.false_flags_per_million, p.cost):
                assert interval is not None
                assert interval.low is not None and interval.high is not None
                if interval.estimate is not None:
                    assert interval.low <= interval.estimate <= interval.high


def test_projection_intervals_shrink_as_counts_grow() -> None:
    widths = []
    for scale in (1, 10, 100):
        [p] = projection(19 * scale, 1 * scale, 2 * scale, 998 * scale, [1e-3])
        assert p.ppv.low is not None and p.ppv.high is not None
        assert p.false_flags_per_million.low is not None
        assert p.false_flags_per_million.high is not None
        widths.append(
            (p.ppv.high - p.ppv.low, p.false_flags_per_million.high - p.false_flags_per_million.low)
        )
    assert widths[0][0] > widths[1][0] > widths[2][0]
    assert widths[0][1] > widths[1][1] > widths[2][1]


def test_a_prevalence_range_is_the_union_over_the_range() -> None:
    counts = (90, 10, 5, 995)
    [low] = projection(*counts, [1e-4])
    [high] = projection(*counts, [1e-2])
    [both] = projection(*counts, [{"low": 1e-4, "high": 1e-2}])
    assert both.ppv.estimate is None and "range" in both.ppv.note
    assert both.ppv.low == low.ppv.low and both.ppv.high == high.ppv.high
    assert both.false_flags_per_million.low == high.false_flags_per_million.low
    assert both.false_flags_per_million.high == low.false_flags_per_million.high
    for point in (low, high):
        assert point.ppv.estimate is not None
        assert both.ppv.low <= point.ppv.estimate <= both.ppv.high  # type: ignore[operator]


def test_ppv_interval_covers_the_truth_at_least_at_the_nominal_level() -> None:
    # Bonferroni-combined exact bounds: coverage >= 95% by construction; check by simulation.
    rng = np.random.default_rng(0)
    tpr, fpr, pi, n_pos, n_neg = 0.9, 0.01, 1e-3, 100, 2000
    truth = ppv(tpr, fpr, pi)
    assert truth is not None
    covered = 0
    draws = 200
    for tp, fp in zip(
        rng.binomial(n_pos, tpr, draws), rng.binomial(n_neg, fpr, draws), strict=True
    ):
        [p] = projection(int(tp), n_pos - int(tp), int(fp), n_neg - int(fp), [pi])
        covered += p.ppv.low <= truth <= p.ppv.high  # type: ignore[operator]
    assert covered / draws >= 0.95


def test_undefined_rates_give_none_with_a_reason() -> None:
    [p] = projection(0, 0, 3, 97, [0.01])
    assert p.ppv.estimate is None and p.ppv.low is None and p.ppv.note == "undefined: no positives"
    assert p.false_flags_per_million.estimate == pytest.approx(1e6 * 0.03 * 0.99)
    [p] = projection(5, 5, 0, 0, [0.01], costs=(1.0, 1.0))
    assert p.false_flags_per_million.note == "undefined: no negatives"
    assert p.cost is not None and p.cost.estimate is None
    [p] = projection(0, 10, 0, 100, [0.01])
    assert p.ppv.estimate is None and "nothing is flagged" in p.ppv.note
    assert p.ppv.low == 0.0 and p.ppv.high is not None  # the bounds still exist


def test_zero_false_positives_still_give_an_honest_upper_bound_on_false_flags() -> None:
    [p] = projection(95, 5, 0, 2995, [1e-4])
    assert p.false_flags_per_million.estimate == 0.0
    # The exact two-sided 95% upper bound of 0/2995 is 1 − 0.025^(1/2995) ≈ 0.00123.
    assert p.false_flags_per_million.high == pytest.approx(1e6 * 0.0012309 * (1 - 1e-4), rel=1e-3)


def test_prevalence_validation() -> None:
    assert Prevalence.of(0.5).is_point and Prevalence.of(0.5).label() == "5e-01"
    for bad in (0, 1, -0.1, float("nan")):
        with pytest.raises(ValueError, match="strictly between"):
            Prevalence.of(bad)
    with pytest.raises(ValueError, match="low <= high"):
        Prevalence(0.2, 0.1)
    with pytest.raises(ValueError, match="level"):
        projection(1, 1, 1, 1, [0.1], level=1.0)


def test_rows_for_the_report_card() -> None:
    point, spread = projection(90, 10, 5, 995, [1e-3, {"low": 1e-4, "high": 1e-2}])
    row = point.to_row()
    assert row["prevalence"] == 1e-3 and row["ppv"] == point.ppv.estimate
    assert (row["ff_low"], row["ff_high"]) == (
        point.false_flags_per_million.low,
        point.false_flags_per_million.high,
    )
    row = spread.to_row()
    assert row["prevalence"] == "1e-04 to 1e-02" and row["ppv"] is None
    assert (row["prevalence_low"], row["prevalence_high"]) == (1e-4, 1e-2)
    assert "range" in str(row["note"])
