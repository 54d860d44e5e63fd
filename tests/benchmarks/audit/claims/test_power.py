"""Exact power, sample sizes and the pre-run plan, checked against brute force and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from benchmarks.audit.claims.claim import load_claim
from benchmarks.audit.claims.plan import CorpusCounts, plan
from benchmarks.audit.claims.power import (
    SAWTOOTH_PERCENT,
    attainable_width,
    n_for_bound,
    power_curve,
    power_one_sided_exact,
    sample_size,
    settling_size,
)


def brute_force_power(p_true: float, p_claim: float, n: int, alpha: float, side: str) -> float:
    """Sum the binomial pmf over every count whose CP bound (statsmodels) clears p_claim."""
    total = 0.0
    for k in range(n + 1):
        # statsmodels' two-sided (1 − 2α) "beta" interval ends are the one-sided (1 − α) bounds.
        low, high = proportion_confint(k, n, alpha=2 * alpha, method="beta")
        low = 0.0 if k == 0 else low  # statsmodels returns NaN-free 0 here, made explicit
        high = 1.0 if k == n else high
        if (side == "lower" and low > p_claim) or (side == "upper" and high < p_claim):
            total += stats.binom.pmf(k, n, p_true)
    return total


@pytest.mark.parametrize("side", ["lower", "upper"])
@pytest.mark.parametrize(
    ("p_true", "p_claim"), [(0.95, 0.9), (0.9, 0.95), (0.3, 0.2), (0.02, 0.05), (0.5, 0.5)]
)
def test_power_equals_brute_force_over_the_rejection_region(
    p_true: float, p_claim: float, side: str
) -> None:
    for n in (1, 2, 5, 17, 40, 73):
        expected = brute_force_power(p_true, p_claim, n, 0.05, side)
        got = power_one_sided_exact(p_true, p_claim, n, alpha=0.05, side=side)  # type: ignore[arg-type]
        assert got == pytest.approx(expected, abs=1e-12), (n, got, expected)


def test_power_at_the_null_never_exceeds_alpha() -> None:
    sizes = np.arange(1, 600)
    assert power_curve(0.9, 0.9, sizes, side="lower").max() <= 0.05
    assert power_curve(0.001, 0.001, np.arange(1, 20_000, 37), side="upper").max() <= 0.05


def test_power_has_a_saw_tooth_which_the_sample_size_rule_absorbs() -> None:
    # More positives can mean less power for an exact test: 195 reaches 0.8, 200 does not.
    assert power_one_sided_exact(0.95, 0.9, 195, side="lower") > 0.8
    assert power_one_sided_exact(0.95, 0.9, 200, side="lower") < 0.8
    n = sample_size(0.95, 0.9, side="lower")
    assert n is not None
    window = np.arange(n, n + (n * SAWTOOTH_PERCENT + 99) // 100 + 1)  # to ⌈1.1·n⌉
    assert power_curve(0.95, 0.9, window, side="lower").min() >= 0.8
    # Every smaller n fails the rule: it misses the target itself or somewhere in its window.
    for m in range(n - 40, n):
        tail = np.arange(m, m + (m * SAWTOOTH_PERCENT + 99) // 100 + 1)
        assert power_curve(0.95, 0.9, tail, side="lower").min() < 0.8


def test_audit_figure_recall_090_with_truth_095_needs_about_200_positives() -> None:
    # AUDIT.md: "to show recall > 0.90 when the truth is 0.95 takes about 200 positives".
    # Tolerance 10%: the exact test's first crossing is 179, the saw-tooth-stable answer 203.
    n = sample_size(0.95, 0.90, alpha=0.05, power=0.8, side="lower")
    assert n is not None and abs(n - 200) <= 20
    assert n == 203


def test_audit_figure_fpr_below_01pct_with_truth_005pct_needs_about_20000_negatives() -> None:
    # AUDIT.md: "about 20,000 negatives". Tolerance 10%; the normal approximation gives 20,073.
    n = sample_size(0.0005, 0.001, alpha=0.05, power=0.8, side="upper")
    assert n is not None and abs(n - 20_000) <= 2_000
    z_a, z_b = stats.norm.ppf(0.95), stats.norm.ppf(0.8)
    approx = (z_a * math.sqrt(0.001 * 0.999) + z_b * math.sqrt(0.0005 * 0.9995)) ** 2 / 0.0005**2
    assert abs(n - approx) / approx < 0.10


def test_audit_figures_for_bounding_fpr_below_01pct() -> None:
    # AUDIT.md: 2,995 negatives with no FP (exact), about 4,760 with one, 10,600 with five
    # (tolerance 1%: the exact CP answers are 4,742 and 10,511), and the ≈3/n rule.
    assert n_for_bound(0, 0.001) == 2995
    assert abs(n_for_bound(1, 0.001) - 4760) / 4760 < 0.01
    assert abs(n_for_bound(5, 0.001) - 10_600) / 10_600 < 0.01
    assert abs(n_for_bound(0, 0.001) - 3 / 0.001) / 3000 < 0.01
    # The same from the power side: zero false positives are certain when the truth is 0.
    assert sample_size(0.0, 0.001, side="upper") == 2995


@pytest.mark.parametrize("events", [0, 1, 5])
def test_n_for_bound_is_the_first_n_whose_cp_upper_bound_reaches_the_target(events: int) -> None:
    n = n_for_bound(events, 0.01)
    upper = proportion_confint(events, n, alpha=0.10, method="beta")[1]
    before = proportion_confint(events, n - 1, alpha=0.10, method="beta")[1]
    assert upper <= 0.01 < before


def test_sample_size_is_none_when_the_truth_does_not_favour_the_claim() -> None:
    assert sample_size(0.9, 0.9, side="lower") is None
    assert sample_size(0.85, 0.9, side="lower") is None
    assert sample_size(0.002, 0.001, side="upper") is None
    assert sample_size(0.95, 0.949, side="lower", max_n=1000) is None


def test_settling_size_picks_the_cheaper_of_support_and_refute() -> None:
    n, action = settling_size(0.95, 0.95, 0.05, higher_is_better=True)
    assert (n, action) == (203, "support")
    n, action = settling_size(0.80, 0.95, 0.05, higher_is_better=True)
    assert action == "refute" and n == sample_size(0.80, 0.95, alpha=0.025, side="upper")
    assert settling_size(0.002, 0.001, 0.0, higher_is_better=False)[1] == "refute"
    assert settling_size(0.9, 0.95, 0.05, higher_is_better=True)[1] == "refute"


@pytest.mark.parametrize(("n", "p"), [(10, 0.5), (200, 0.95), (3000, 0.001), (142, 0.9)])
def test_attainable_width_matches_statsmodels(n: int, p: float) -> None:
    low, high = proportion_confint(round(n * p), n, alpha=0.05, method="beta")
    assert attainable_width(n, p) == pytest.approx(high - low, abs=1e-9)


def test_width_shrinks_with_n() -> None:
    widths = [attainable_width(n, 0.9) for n in (50, 200, 800)]
    assert widths[0] > widths[1] > widths[2]  # type: ignore[operator]


CLAIM = {
    "name": "vendor-x",
    "unit": "author",
    "population": "PAN12 predators vs. all other authors",
    "threshold": 0.5,
    "metrics": {"recall": 0.95, "fpr": 0.001, "f1": 0.9, "precision": 0.9},
    "margin": {"recall": 0.05, "fpr": 0.0005},
}


def test_plan_says_pan12_cannot_verify_95_percent_recall_at_author_level() -> None:
    claim = load_claim(CLAIM)
    assert claim is not None
    result = plan(claim, CorpusCounts(n_positive=142, n_negative=2000))
    recall, fpr, f1, precision = result.entries
    assert recall.settles == "cannot" and recall.n == 142 and recall.needed_n == 203
    assert recall.power_if_true is not None and recall.power_if_true < 0.8
    assert recall.power_if_better is not None and recall.power_if_better > 0.99
    assert fpr.settles == "cannot" and fpr.needed_n is not None and fpr.needed_n > 2000
    assert f1.settles == "unknown" and "bootstrap" in f1.note
    assert precision.settles == "unknown" and "alerts" in precision.note
    text = " ".join(result.render().split())  # undo the wrapping
    assert "before any detector runs" in text and "CANNOT" in text and "203" in text


def test_plan_says_a_large_corpus_can_settle_it() -> None:
    claim = load_claim(CLAIM | {"metrics": {"recall": 0.95, "fpr": 0.001}})
    # The margins of CLAIM: recall 0.05, fpr 0.0005.
    assert claim is not None
    result = plan(claim, CorpusCounts(n_positive=1000, n_negative=100_000))
    assert [e.settles for e in result.entries] == ["can", "can"]
    assert "can settle every planned endpoint" in " ".join(result.render().split())


def test_plan_uses_clusters_as_the_effective_n_and_says_so() -> None:
    claim = load_claim(
        CLAIM | {"unit": "conversation", "metrics": {"recall": 0.95}, "margin": 0.05}
    )
    assert claim is not None
    result = plan(claim, CorpusCounts(300, 5000, n_positive_clusters=142))
    [entry] = result.entries
    assert entry.n == 142 and entry.clustered
    assert entry.power_if_true == power_one_sided_exact(0.95, 0.90, 142, side="lower")
    assert "clusters" in result.render() and "conservative" in result.render()


def test_plan_warns_that_a_zero_margin_cannot_support_a_true_claim() -> None:
    claim = load_claim(CLAIM | {"metrics": {"recall": 0.95}, "margin": 0.0})
    assert claim is not None
    [entry] = plan(claim, CorpusCounts(10_000, 10_000)).entries
    assert entry.settles == "cannot" and entry.needed_n is None and "margin 0" in entry.note


def test_plan_to_dict_is_plain_data() -> None:
    import json

    claim = load_claim(CLAIM)
    assert claim is not None
    json.dumps(plan(claim, CorpusCounts(142, 2000)).to_dict())


def test_corpus_counts_validate() -> None:
    with pytest.raises(ValueError, match="clusters"):
        CorpusCounts(10, 10, n_positive_clusters=11)
    assert CorpusCounts(10, 10, 4, None).effective("negatives") == (10, False)
    assert CorpusCounts(10, 10, 4, None).effective("positives") == (4, True)


def naive_sample_size(p_true: float, p_claim: float, side: str, limit: int) -> int:
    """The saw-tooth rule by brute force: scan every n from 1."""
    sizes = np.arange(1, limit + 1)
    ok = power_curve(p_true, p_claim, sizes, side=side) >= 0.8  # type: ignore[arg-type]
    for n in sizes:
        end = math.ceil(round(n * 1.1, 9))
        if end <= limit and ok[n - 1 : end].all():
            return int(n)
    raise AssertionError("limit too small")


@pytest.mark.parametrize(
    ("p_true", "p_claim", "side", "limit"),
    [
        (0.95, 0.90, "lower", 400),
        (0.0005, 0.001, "upper", 26_000),
        (0.3, 0.2, "lower", 400),
        (0.02, 0.05, "upper", 900),
        (0.0, 0.01, "upper", 400),
        (1.0, 0.9, "lower", 100),
    ],
)
def test_sample_size_equals_a_full_scan_from_one(
    p_true: float, p_claim: float, side: str, limit: int
) -> None:
    # The fast search starts near the normal approximation; it must find the same n.
    expected = naive_sample_size(p_true, p_claim, side, limit)
    assert sample_size(p_true, p_claim, side=side) == expected  # type: ignore[arg-type]
