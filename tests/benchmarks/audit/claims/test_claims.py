"""Claims: validation with one-line reasons, verdicts that follow AUDIT.md's decision rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from benchmarks.audit.claims.claim import (
    METRICS,
    Claim,
    Endpoint,
    load_claim,
    validate_split,
    validate_unit,
)
from benchmarks.audit.claims.power import power_one_sided_exact
from benchmarks.audit.claims.verdicts import (
    BootstrapEvidence,
    RateCounts,
    Verdict,
    combine,
    endpoint_verdict,
    judge,
    rate_evidence,
)
from benchmarks.audit.stats.intervals import RATE_METRICS, Interval
from benchmarks.errors import ConfigError
from benchmarks.metrics import METRIC_DEFINITIONS, Outcomes, compute_metrics

BASE: dict[str, Any] = {
    "name": "vendor-x",
    "unit": "conversation",
    "population": "PAN12 test: predators' conversations vs. all others",
    "threshold": 0.5,
    "metrics": {"recall": 0.95},
    "margin": 0.05,
}
RECALL = Endpoint("recall", 0.95, margin=0.05)


def claim_of(**changes: Any) -> Claim:
    claim = load_claim({**BASE, **changes})
    assert claim is not None
    return claim


# --- the metric table ------------------------------------------------------------------------


def test_every_claimable_metric_is_a_result_key() -> None:
    assert set(METRICS) <= set(METRIC_DEFINITIONS)


def test_the_rate_metrics_agree_with_the_intervals_module() -> None:
    rates = {name for name, spec in METRICS.items() if spec.denominator is not None}
    assert rates == set(RATE_METRICS)
    for name in rates:
        assert METRICS[name].scale == RATE_METRICS[name].scale


def test_directions() -> None:
    higher = ["recall", "precision", "specificity", "f1", "roc_auc", "detected_before_escalation"]
    lower = ["fpr", "ttd_median", "false_alerts_per_1k"]
    assert all(METRICS[m].higher_is_better for m in higher)
    assert not any(METRICS[m].higher_is_better for m in lower)


# --- loading and validation ------------------------------------------------------------------


def test_no_claim_is_none() -> None:
    assert load_claim(None) is None and load_claim({}) is None


@pytest.mark.parametrize("name", ["none", "example"])
def test_claim_configs_compose_and_load(name: str, tmp_path: Path) -> None:
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose("groombench", overrides=[f"paths.root={tmp_path}", f"claim={name}"])
    claim = load_claim(cfg.claim)
    if name == "none":
        assert claim is None
        return
    assert claim is not None and claim.unit == "conversation" and claim.threshold is None
    assert claim.calibrate is not None and claim.calibrate.fpr == 0.001
    assert [(e.metric, e.claimed, e.margin) for e in claim.endpoints] == [
        ("recall", 0.95, 0.05),
        ("fpr", 0.001, 0.0005),
    ]
    assert not claim.prevalences[2].is_point and claim.costs is not None
    json.dumps(claim.to_dict())
    validate_split(claim, "test")  # the example calibrates on its own split


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"metrics": {"recal": 0.9}}, "unknown metric(s) ['recal']; supported: recall, "),
        ({"threshold": None}, "no operating point; add threshold"),
        ({"calibrate": {"split": "cal", "fpr": 0.01}}, "both threshold and calibrate"),
        ({"threshold": None, "calibrate": {"split": "cal"}}, "write calibrate: {split:"),
        ({"threshold": None, "calibrate": {"split": "cal", "fpr": 1.5}}, "calibrate.fpr is 1.5"),
        ({"threshold": "high"}, "threshold is 'high'; it must be a finite number"),
        ({"margin": 1.5}, "margin for recall is 1.5; it must lie in [0, 1]"),
        ({"margin": -0.1}, "margin for recall is -0.1"),
        ({"margin": {"fpr": 0.01}}, "margin names ['fpr'], which the claim does not claim"),
        ({"alpha": 0}, "alpha is 0.0; it must lie in (0, 0.5)"),
        ({"alpha": 0.5}, "alpha is 0.5; it must lie in (0, 0.5)"),
        ({"alpha": 0.6}, "alpha is 0.6"),
        ({"metrics": {"recall": 1.2}}, "claimed recall 1.2 is outside its range [0.0, 1.0]"),
        ({"metrics": {"mcc": -1.5}}, "claimed mcc -1.5 is outside its range [-1.0, 1.0]"),
        ({"metrics": {"ttd_median": 0}}, "claimed ttd_median 0.0 is outside its range"),
        ({"metrics": {"recall": True}}, "the claimed recall is True; it must be a finite number"),
        ({"metrics": {}}, "metrics is missing"),
        ({"prevalences": [0.0001, 0]}, "prevalence 0: a prevalence must lie strictly between"),
        ({"prevalences": [1]}, "prevalence 1: a prevalence must lie strictly between 0 and 1"),
        ({"prevalences": [{"low": 0.01, "high": 0.001}]}, "needs low <= high"),
        ({"prevalences": [{"low": 0.01}]}, "write a number or {low: <a>, high: <b>}"),
        ({"costs": {"miss": 1}}, "write costs: {miss: <number>, false_alarm: <number>}"),
        ({"costs": {"miss": 1, "false_alarm": 0}}, "costs must be positive"),
        ({"unit": "prefix"}, "unit is 'prefix'; say which unit the claim is about"),
        ({"population": " "}, "population is missing"),
        ({"treshold": 0.5}, "unknown key(s) ['treshold']"),
    ],
)
def test_invalid_claims_are_refused_in_one_line(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_claim({**BASE, **changes})
    message = str(error.value)
    assert fragment in message and "\n" not in message
    assert message.startswith("claim 'vendor-x': ")


def test_a_claim_without_a_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="name is missing"):
        load_claim({k: v for k, v in BASE.items() if k != "name"})


def test_a_single_margin_and_prevalence_apply_as_given() -> None:
    claim = claim_of(metrics={"recall": 0.9, "specificity": 0.99}, margin=0.02, prevalences=1e-3)
    assert [e.margin for e in claim.endpoints] == [0.02, 0.02]
    assert [(p.low, p.high) for p in claim.prevalences] == [(1e-3, 1e-3)]


def test_the_unit_must_be_one_the_corpus_provides() -> None:
    claim = claim_of(unit="author")
    validate_unit(claim, {"conversation", "author"})
    with pytest.raises(ConfigError, match="no author labels") as error:
        validate_unit(claim, {"conversation", "message"})
    assert "\n" not in str(error.value)


def test_calibrating_on_the_scored_split_is_refused() -> None:
    claim = claim_of(threshold=None, calibrate={"split": "test", "fpr": 0.001})
    validate_split(claim, "calibration")
    with pytest.raises(ConfigError, match="the split being scored"):
        validate_split(claim, "test")


# --- verdicts --------------------------------------------------------------------------------


def test_the_verdict_follows_the_data() -> None:
    # The same claim (recall 0.95, margin 0.05) on three data sets.
    supported = endpoint_verdict(RECALL, RateCounts(190, 200))
    assert supported.outcome == "supported"
    assert supported.bound is not None and supported.bound > 0.90
    assert "exceeds the claim minus the margin, 0.9" in supported.reason

    refuted = endpoint_verdict(RECALL, RateCounts(170, 200))
    assert refuted.outcome == "refuted"
    assert refuted.high is not None and refuted.high < 0.95
    assert "lies below the claimed 0.95" in refuted.reason

    unsure = endpoint_verdict(RECALL, RateCounts(19, 20))
    assert unsure.outcome == "inconclusive" and unsure.needed_n == 203
    assert "about 203 positives (now 20) would support the claim with 80% power" in unsure.reason
    assert power_one_sided_exact(0.95, 0.90, 203, side="lower") >= 0.8


def test_a_lower_is_better_claim() -> None:
    fpr = Endpoint("fpr", 0.001, margin=0.0005)
    assert endpoint_verdict(fpr, RateCounts(0, 3000)).outcome == "supported"
    assert endpoint_verdict(fpr, RateCounts(10, 3000)).outcome == "refuted"
    unsure = endpoint_verdict(fpr, RateCounts(1, 1000))
    assert unsure.outcome == "inconclusive" and unsure.needed_n is not None
    assert "negatives" in unsure.reason


def test_false_alerts_per_1k_is_judged_on_its_own_scale() -> None:
    endpoint = Endpoint("false_alerts_per_1k", 1.0, margin=0.5)
    verdict = endpoint_verdict(endpoint, RateCounts(0, 3000))
    assert verdict.outcome == "supported" and verdict.estimate == 0.0
    assert verdict.bound == pytest.approx(1000 * (1 - 0.05 ** (1 / 3000)))
    assert endpoint_verdict(endpoint, RateCounts(10, 3000)).outcome == "refuted"


def test_refuted_wins_over_non_inferior_and_says_so() -> None:
    # 9,200 of 10,000: surely below 0.95, surely above 0.90.
    verdict = endpoint_verdict(RECALL, RateCounts(9200, 10_000))
    assert verdict.outcome == "refuted" and "non-inferior within the margin" in verdict.reason


def test_a_zero_margin_true_claim_cannot_be_settled() -> None:
    verdict = endpoint_verdict(Endpoint("recall", 0.95), RateCounts(95, 100))
    assert verdict.outcome == "inconclusive" and verdict.needed_n is None
    assert "no sample size" in verdict.reason


@pytest.mark.parametrize(
    ("metric", "reason"),
    [
        ("recall", "undefined: no positives"),
        ("fpr", "undefined: no negatives"),
        ("precision", "undefined: no alerts"),
        ("detected_before_escalation", "undefined: no positives with an escalation"),
    ],
)
def test_an_undefined_rate_is_inconclusive_not_a_crash(metric: str, reason: str) -> None:
    verdict = endpoint_verdict(Endpoint(metric, 0.5, 0.1), RateCounts(0, 0))
    assert verdict.outcome == "inconclusive" and verdict.reason == reason
    assert verdict.estimate is None and verdict.bound is None and verdict.needed_n is None


@pytest.mark.parametrize(("k", "n"), [(0, 50), (3, 50), (48, 50), (50, 50), (190, 200)])
def test_verdict_bounds_agree_with_statsmodels(k: int, n: int) -> None:
    verdict = endpoint_verdict(Endpoint("recall", 0.9), RateCounts(k, n), alpha=0.05)
    low, high = proportion_confint(k, n, alpha=0.05, method="beta")
    one_sided = proportion_confint(k, n, alpha=0.10, method="beta")[0]
    assert verdict.low == pytest.approx(low if k else 0.0, abs=1e-9)
    assert verdict.high == pytest.approx(high if k < n else 1.0, abs=1e-9)
    assert verdict.bound == pytest.approx(one_sided if k else 0.0, abs=1e-9)


def test_the_decision_rule_has_the_stated_error_rates() -> None:
    # Exactly, over every possible count: a claim one margin too good is "supported" with
    # probability at most alpha; a true claim is "refuted" with probability at most alpha / 2.
    n = 120
    outcomes = [endpoint_verdict(RECALL, RateCounts(k, n)).outcome for k in range(n + 1)]
    pmf_at_margin = stats.binom.pmf(range(n + 1), n, 0.90)
    pmf_at_claim = stats.binom.pmf(range(n + 1), n, 0.95)
    assert sum(p for p, o in zip(pmf_at_margin, outcomes, strict=True) if o == "supported") <= 0.05
    assert sum(p for p, o in zip(pmf_at_claim, outcomes, strict=True) if o == "refuted") <= 0.025


def test_bootstrap_evidence_for_a_composite_metric() -> None:
    f1 = Interval(0.8, 0.74, 0.86, 0.95, "bca", n=300)
    conservative = endpoint_verdict(Endpoint("f1", 0.7, 0.0), BootstrapEvidence(f1))
    assert conservative.outcome == "supported" and conservative.bound == 0.74
    assert "conservative" in conservative.method
    assert endpoint_verdict(Endpoint("f1", 0.9, 0.0), BootstrapEvidence(f1)).outcome == "refuted"
    unsure = endpoint_verdict(Endpoint("f1", 0.8, 0.03), BootstrapEvidence(f1, bound=0.76))
    assert unsure.outcome == "inconclusive" and unsure.needed_n is None
    assert "bootstrap" in unsure.reason
    ttd = Interval(6.0, 4.0, 9.0, 0.95, "percentile", n=80)
    assert endpoint_verdict(Endpoint("ttd_median", 3.0), BootstrapEvidence(ttd)).outcome == (
        "refuted"
    )
    assert endpoint_verdict(Endpoint("ttd_median", 10.0), BootstrapEvidence(ttd)).outcome == (
        "supported"
    )


def test_undefined_bootstrap_evidence_is_inconclusive() -> None:
    empty = Interval(None, None, None, 0.95, "undefined", note="no true positive")
    verdict = endpoint_verdict(Endpoint("ttd_median", 5.0), BootstrapEvidence(empty))
    assert (verdict.outcome, verdict.reason) == ("inconclusive", "undefined: no true positive")


def test_evidence_must_fit_the_metric_and_the_level() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        endpoint_verdict(Endpoint("f1", 0.8), RateCounts(5, 10))
    with pytest.raises(ValueError, match="level"):
        endpoint_verdict(RECALL, BootstrapEvidence(Interval(0.9, 0.8, 0.95, 0.9, "bca")))


def test_judge_combines_endpoints_by_intersection_union() -> None:
    claim = claim_of(metrics={"recall": 0.95, "fpr": 0.001}, margin={"recall": 0.05, "fpr": 0.001})
    good_fpr, bad_fpr = RateCounts(2, 5000), RateCounts(60, 5000)
    result = judge(claim, {"recall": RateCounts(190, 200), "fpr": good_fpr})
    assert result.outcome == "supported" and "no adjustment" in result.reason
    result = judge(claim, {"recall": RateCounts(19, 20), "fpr": good_fpr})
    assert result.outcome == "inconclusive" and "recall" in result.reason
    result = judge(claim, {"recall": RateCounts(19, 20), "fpr": bad_fpr})
    assert result.outcome == "refuted" and "refuted by fpr" in result.reason
    assert all(v.alpha == 0.05 for v in result.verdicts)  # no adjustment
    rows = result.to_dict()["verdicts"]
    assert [row["direction"] for row in rows] == [">=", "<="]
    json.dumps(result.to_dict())
    with pytest.raises(ValueError, match="no evidence"):
        judge(claim, {"recall": RateCounts(19, 20)})


def test_combine_takes_the_worst_outcome() -> None:
    def v(outcome: str) -> Verdict:
        return Verdict("recall", 0.9, 0, 0.05, None, None, None, None, outcome, "", None, "")  # type: ignore[arg-type]

    assert combine([v("supported"), v("supported")])[0] == "supported"
    assert combine([v("inconclusive"), v("refuted")])[0] == "refuted"


def test_rate_evidence_matches_the_metric_suite() -> None:
    outcomes = Outcomes.from_columns(
        labels=[1, 1, 1, 0, 0, 0, 1],
        alerts=[2, 0, 4, 1, 0, 0, 3],
        max_scores=[0.9, 0.1, 0.8, 0.7, 0.2, 0.1, 0.6],
        n_messages=[5] * 7,
        escalations=[3, 2, 3, 0, 0, 0, 0],
    )
    metrics = compute_metrics(outcomes)
    for name, counts in rate_evidence(outcomes).items():
        value = endpoint_verdict(Endpoint(name, 0.5 * METRICS[name].scale), counts).estimate
        assert value == pytest.approx(metrics[name]), name
