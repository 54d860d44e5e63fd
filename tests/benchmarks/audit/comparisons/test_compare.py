"""Paired comparisons: McNemar and multiplicity against statsmodels, and the plain-words
readings (DeLong's test is in test_delong.py)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from benchmarks.audit.comparisons import compare as cmp
from benchmarks.metrics import classification as clf

Adjust = Callable[[Sequence[float | None]], list[float | None]]

# --------------------------------------------------------------------------------------------
# Exact McNemar
# --------------------------------------------------------------------------------------------


def paired_decisions(
    rng: np.random.Generator, n: int, b01: int, b10: int, n11: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Shuffled decisions of A and B with the given cells; the rest agree on 0."""
    a = np.r_[np.zeros(b01), np.ones(b10), np.ones(n11), np.zeros(n - b01 - b10 - n11)]
    b = np.r_[np.ones(b01), np.zeros(b10), np.ones(n11), np.zeros(n - b01 - b10 - n11)]
    order = rng.permutation(n)
    return a[order].astype(np.int64), b[order].astype(np.int64)


@pytest.mark.parametrize(
    ("b01", "b10"),
    [(1, 5), (5, 1), (3, 3), (0, 7), (7, 0), (1, 0), (12, 30), (450, 500), (0, 25), (40, 41)],
)
def test_mcnemar_matches_statsmodels_exact(b01: int, b10: int) -> None:
    rng = np.random.default_rng(b01 * 1000 + b10)
    n11 = 17
    n = b01 + b10 + n11 + 40
    a, b = paired_decisions(rng, n, b01, b10, n11)
    result = cmp.mcnemar_exact(a, b)
    table = np.array([[40, b01], [b10, n11]])  # rows: A = 0/1, columns: B = 0/1
    expected = mcnemar(table, exact=True)
    assert (result.b01, result.b10, result.n) == (b01, b10, n)
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)
    assert result.difference == pytest.approx((b10 - b01) / n)
    assert result.method == "exact binomial"
    assert result.note is None


def test_mcnemar_matches_statsmodels_on_random_decisions() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(5, 300))
        a = rng.integers(0, 2, n)
        # B copies A most of the time: few discordant pairs, as with two similar detectors.
        b = np.where(rng.random(n) < rng.uniform(0.5, 0.98), a, rng.integers(0, 2, n))
        table = np.array(
            [[np.sum((a == i) & (b == j)) for j in (0, 1)] for i in (0, 1)], dtype=float
        )
        result = cmp.mcnemar_exact(a, b)
        if result.b01 + result.b10 == 0:
            assert result.p_value == 1.0
            continue
        assert result.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)


def test_mcnemar_mask_compares_recall_and_fpr() -> None:
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 400)
    a = np.where(y_true == 1, rng.random(400) < 0.8, rng.random(400) < 0.1).astype(int)
    b = np.where(y_true == 1, rng.random(400) < 0.7, rng.random(400) < 0.05).astype(int)
    positives = cmp.mcnemar_exact(a, b, mask=y_true == 1)
    negatives = cmp.mcnemar_exact(a, b, mask=(y_true == 0).astype(int))
    recall_a, recall_b = clf.recall(y_true, a), clf.recall(y_true, b)
    fpr_a, fpr_b = clf.fpr(y_true, a), clf.fpr(y_true, b)
    assert recall_a is not None and recall_b is not None and fpr_a is not None
    assert fpr_b is not None
    assert positives.n == int(y_true.sum())
    assert positives.difference == pytest.approx(recall_a - recall_b, rel=1e-12)
    assert negatives.difference == pytest.approx(fpr_a - fpr_b, rel=1e-12)
    # Only the masked rows count: the positives' test ignores every negative.
    only_pos = cmp.mcnemar_exact(a[y_true == 1], b[y_true == 1])
    assert only_pos == positives


def test_mcnemar_without_discordant_pairs_or_rows() -> None:
    same = cmp.mcnemar_exact([1, 0, 1, 1], [1, 0, 1, 1])
    assert (same.b01, same.b10, same.statistic, same.p_value) == (0, 0, 0, 1.0)
    assert same.difference == 0.0
    assert same.note is not None and "no discordant pairs" in same.note
    empty = cmp.mcnemar_exact([1, 0], [0, 1], mask=[False, False])
    assert empty.n == 0 and empty.difference is None and empty.p_value == 1.0
    assert empty.note == "no rows to compare"


@pytest.mark.parametrize(
    ("a", "b", "mask", "message"),
    [
        ([1, 0, 1], [1, 0], None, "differ in length"),
        ([1, 2], [1, 0], None, "y_pred_a must hold only 0 and 1"),
        ([1, 0], [0.5, 1], None, "whole numbers"),
        ([1, 0], [1, 0], [True], "differ in length"),
        ([1, 0], [1, 0], [2, 0], "mask must hold only 0 and 1"),
        ([[1, 0]], [[1, 0]], None, "must be 1-D"),
    ],
)
def test_mcnemar_rejects_bad_input(a: object, b: object, mask: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cmp.mcnemar_exact(a, b, mask=mask)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Multiplicity
# --------------------------------------------------------------------------------------------


def random_p_values(rng: np.random.Generator, m: int) -> list[float]:
    """Uniform p-values with ties, exact 1.0s, some tiny ones and exact zeros."""
    p = rng.random(m)
    p[rng.random(m) < 0.2] = 1.0
    p[rng.random(m) < 0.1] = 0.0
    p[rng.random(m) < 0.2] *= 1e-4
    p = np.round(p, int(rng.integers(2, 6)))  # rounding makes ties
    return [float(v) for v in p]


@pytest.mark.parametrize(
    ("ours", "theirs"), [(cmp.holm, "holm"), (cmp.benjamini_hochberg, "fdr_bh")]
)
def test_adjusted_p_values_match_statsmodels(ours: Adjust, theirs: str) -> None:
    rng = np.random.default_rng(17)
    # 25 families only: statsmodels' Holm branch calls gc.collect(), ~70 ms a call here.
    for _ in range(25):
        m = int(rng.integers(1, 60))
        p = random_p_values(rng, m)
        adjusted = ours(p)
        assert None not in adjusted
        reference_reject, reference, _, _ = multipletests(p, alpha=0.05, method=theirs)
        np.testing.assert_allclose(np.asarray(adjusted, dtype=float), reference, rtol=1e-12, atol=0)
        assert cmp.reject(adjusted, 0.05) == list(reference_reject)


@pytest.mark.parametrize("adjust", [cmp.holm, cmp.benjamini_hochberg])
def test_adjusted_p_values_are_monotone_capped_and_pass_none_through(adjust: Adjust) -> None:
    rng = np.random.default_rng(23)
    p = random_p_values(rng, 25)
    with_none: list[float | None] = [*p[:10], None, *p[10:], None]
    adjusted = adjust(with_none)
    assert adjusted[10] is None and adjusted[-1] is None
    defined = [a for a in adjusted if a is not None]
    assert defined == adjust(p)  # None is not in the family
    pairs = sorted(zip(p, defined, strict=True))
    assert all(a2 >= a1 for (_, a1), (_, a2) in itertools.pairwise(pairs))
    assert all(raw <= adj <= 1.0 for raw, adj in pairs)
    assert adjust([]) == []
    assert adjust([None, None]) == [None, None]


@pytest.mark.parametrize(
    ("p", "message"),
    [
        ([0.1, math.nan], "NaN: use None"),
        ([1.2], r"in \[0, 1\]"),
        ([-0.1], r"in \[0, 1\]"),
        (["a"], "not a number"),
    ],
)
def test_multiplicity_rejects_bad_p_values(p: list[object], message: str) -> None:
    for adjust in (cmp.holm, cmp.benjamini_hochberg):
        with pytest.raises(ValueError, match=message):
            adjust(p)  # type: ignore[arg-type]


def test_reject() -> None:
    assert cmp.reject([0.05, 0.0500001, None, 0.0], 0.05) == [True, False, None, True]
    with pytest.raises(ValueError, match="alpha"):
        cmp.reject([0.01], 0.0)


# --------------------------------------------------------------------------------------------
# Comparison rows and readings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeInterval:
    """Stands in for benchmarks.audit.stats.intervals.Interval (same fields)."""

    estimate: float | None
    low: float | None
    high: float | None
    level: float
    method: str
    n: int
    note: str | None = None


def test_reading_says_plainly_when_a_gap_is_not_significant() -> None:
    reading = cmp.describe_difference(
        "keyword-v2", "llm-judge", "F1", 0.05, low=-0.03, high=0.13, level=0.95, p_value=0.21
    )
    assert "not significant at α=0.05" in reading
    assert "the data cannot tell keyword-v2 and llm-judge apart on F1" in reading
    assert "+0.05" in reading and "95% interval -0.03 to +0.13" in reading


def test_reading_of_a_significant_gap_names_the_direction() -> None:
    up = cmp.describe_difference("A", "B", "recall", 0.08, p_value=0.0004)
    assert (
        up
        == "recall: A − B = +0.08, p < 0.001: significant at α=0.05; A is higher than B on recall."
    )
    down = cmp.describe_difference("A", "B", "FPR", -0.002, p_value=0.01, alpha=0.01)
    assert "significant at α=0.01; A is lower than B on FPR" in down


def test_reading_prefers_the_adjusted_p_value() -> None:
    reading = cmp.describe_difference(
        "A", "B", "recall", 0.05, p_value=0.02, adjusted_p_value=0.08, adjustment="Holm"
    )
    assert "Holm-adjusted p = 0.08: not significant" in reading
    with pytest.raises(ValueError, match="adjustment's name"):
        cmp.describe_difference("A", "B", "recall", 0.05, adjusted_p_value=0.08)


def test_reading_from_an_interval_alone_and_disagreements() -> None:
    inside = cmp.describe_difference("A", "B", "F1", 0.02, low=-0.01, high=0.05, level=0.9)
    assert "the interval includes 0: not significant" in inside
    clash = cmp.describe_difference(
        "A", "B", "F1", 0.02, low=0.001, high=0.05, level=0.95, p_value=0.08
    )
    assert "not significant" in clash and "read with care" in clash
    clash = cmp.describe_difference(
        "A", "B", "F1", 0.02, low=-0.01, high=0.05, level=0.95, p_value=0.01
    )
    assert "significant at" in clash and "read with care" in clash
    nothing = cmp.describe_difference("A", "B", "F1", 0.02)
    assert "no test and no interval" in nothing


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": 0.1, "high": 0.0, "level": 0.95}, "low must not exceed high"),
        ({"low": 0.1}, "both ends"),
        ({"low": 0.0, "high": 0.1}, "confidence level"),
        ({"low": 0.0, "high": 0.1, "level": 95.0}, "level must be strictly between"),
        ({"p_value": 1.5}, r"p_value must lie in \[0, 1\]"),
        ({"alpha": 0.0}, "alpha must be strictly between"),
    ],
)
def test_describe_difference_rejects_inconsistent_input(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cmp.describe_difference("A", "B", "F1", 0.05, **kwargs)  # type: ignore[arg-type]


def test_comparison_from_a_bootstrap_interval_and_mcnemar() -> None:
    interval = FakeInterval(
        estimate=np.float64(0.04),
        low=0.01,
        high=0.07,
        level=0.95,
        method="paired bootstrap (percentile)",
        n=2000,
    )
    test = cmp.mcnemar_exact([1] * 12 + [0] * 3 + [1] * 50, [0] * 12 + [1] * 3 + [1] * 50)
    row = cmp.Comparison.from_interval(
        interval,
        run_a="A",
        run_b="B",
        metric="recall",
        p_value=test.p_value,
        test="exact McNemar",
    )
    assert type(row.estimate) is float  # numpy scalars become plain floats for JSON
    assert row.method == "paired bootstrap (percentile); exact McNemar"
    assert row.p_value is not None and row.p_value < 0.05
    assert row.p_value == pytest.approx(test.p_value)
    assert row.reading.endswith("significant at α=0.05; A is higher than B on recall.")
    assert json.loads(json.dumps(dataclasses.asdict(row)))["reading"] == row.reading


def test_comparison_refuses_nan_and_keeps_its_reading_in_step() -> None:
    with pytest.raises(ValueError, match="estimate is NaN: use None"):
        cmp.Comparison(run_a="A", run_b="B", metric="F1", estimate=math.nan, method="x")
    row = cmp.Comparison(
        run_a="A", run_b="B", metric="F1", estimate=0.05, p_value=0.2, method="paired bootstrap"
    )
    assert "not significant" in row.reading
    moved = dataclasses.replace(row, p_value=0.001)
    assert "not significant" not in moved.reading and "significant" in moved.reading


def test_comparison_from_delong() -> None:
    # A clearly better and a near-chance scorer on the same items: a significant difference.
    rng = np.random.default_rng(11)
    labels = [1] * 60 + [0] * 140
    good = [float(v) for v in np.r_[rng.normal(2.0, 1, 60), rng.normal(0, 1, 140)]]
    weak = [float(v) for v in np.r_[rng.normal(0.2, 1, 60), rng.normal(0, 1, 140)]]
    result = cmp.delong_test(labels, good, weak)
    row = cmp.Comparison.from_delong(result, run_a="good", run_b="weak")
    assert row.metric == "ROC-AUC" and row.level == 0.95
    assert row.estimate == pytest.approx(result.difference)
    assert row.reading.startswith("ROC-AUC: good − weak = +")
    assert result.p_value is not None and result.p_value < 0.001
    assert ": significant at α=0.05" in row.reading
    undefined = cmp.Comparison.from_delong(
        cmp.delong_test([1, 1], [0.1, 0.2], [0.2, 0.1]), run_a="A", run_b="B"
    )
    assert undefined.estimate is None and undefined.level is None
    assert undefined.reading == (
        "ROC-AUC: undefined for A or B (ROC-AUC needs both classes: got 2 positives and "
        "0 negatives); no comparison is possible."
    )


@pytest.mark.parametrize(
    ("method", "adjust", "name"),
    [("holm", cmp.holm, "Holm"), ("bh", cmp.benjamini_hochberg, "Benjamini-Hochberg")],
)
def test_adjust_comparisons(method: str, adjust: Adjust, name: str) -> None:
    p_values = [0.01, None, 0.04, 0.03, 0.2]
    rows = [
        cmp.Comparison(
            run_a="A",
            run_b="B",
            metric=f"recall[{i}]",
            estimate=0.05,
            p_value=p,
            method="exact McNemar",
        )
        for i, p in enumerate(p_values)
    ]
    adjusted = cmp.adjust_comparisons(rows, method=method)  # type: ignore[arg-type]
    assert [r.adjusted_p_value for r in adjusted] == adjust(p_values)
    assert [r.adjustment for r in adjusted] == [name, None, name, name, name]
    assert [r.p_value for r in adjusted] == p_values
    assert f"{name}-adjusted p" in adjusted[0].reading
    with pytest.raises(ValueError, match="method must be one of"):
        cmp.adjust_comparisons(rows, method="bonferroni")  # type: ignore[arg-type]


def test_comparison_from_mcnemar_and_from_a_degenerate_delong() -> None:
    rng = np.random.default_rng(9)
    y_true = rng.integers(0, 2, 300)
    a = (rng.random(300) < np.where(y_true == 1, 0.9, 0.1)).astype(int)
    b = np.where(rng.random(300) < 0.9, a, 1 - a)
    test = cmp.mcnemar_exact(a, b, mask=y_true == 1)
    row = cmp.Comparison.from_mcnemar(test, run_a="A", run_b="B", metric="recall")
    assert row.estimate == test.difference and row.p_value == test.p_value
    assert row.method == "exact McNemar (exact binomial)" and row.low is None
    gap = cmp.delong_test([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], [0.5] * 4)
    row = cmp.Comparison.from_delong(gap, run_a="A", run_b="B")
    assert row.estimate == 0.5 and row.p_value is None
    assert "no test and no interval (zero variance with a non-zero difference" in row.reading
