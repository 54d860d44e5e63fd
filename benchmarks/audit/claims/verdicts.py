"""Verdicts on a claim's endpoints: the evidence, the decision rule and its combination.

A claim (:mod:`benchmarks.audit.claims.claim`) is judged after the run against evidence per
endpoint: exact counts for a rate (:class:`RateCounts`) or a bootstrap interval
(:class:`BootstrapEvidence`).

Decision rule (AUDIT.md, "Turning a claim into tests"), per endpoint:

- **refuted**: the two-sided (1−α) interval excludes the claimed value on the unfavourable side;
- **supported**: the one-sided (1−α) bound clears claim − margin (claim + margin when lower is
  better);
- **inconclusive**: neither; the verdict then carries the sample size that would settle it if
  the observed value were the truth.

Refuted takes precedence: a large sample can show a recall both below the claimed 0.95 and
within a 0.05 margin of it; the claim as stated is then false, and the reason says it is
non-inferior. Endpoints that must all hold form an intersection–union test, which needs no
α adjustment: the claim is refuted if any endpoint is, supported only if all are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from benchmarks.audit.claims import power as _power
from benchmarks.audit.claims.claim import METRICS, Claim, Endpoint
from benchmarks.audit.stats.intervals import Interval, one_sided_bound, rate_counts, rate_interval
from benchmarks.metrics.outcomes import Outcomes

Outcome = Literal["supported", "refuted", "inconclusive"]


@dataclass(frozen=True)
class RateCounts:
    """Evidence for a rate: k events out of n (e.g. TP out of positives for recall)."""

    k: int
    n: int


@dataclass(frozen=True)
class BootstrapEvidence:
    """Evidence for any metric from the bootstrap.

    Attributes:
        interval: the two-sided (1−α) interval.
        bound: the one-sided (1−α) bound on the favourable side (the lower end of a two-sided
            (1−2α) interval for a higher-is-better metric); None to use the interval's own end,
            a (1−α/2) bound, which is conservative.
    """

    interval: Interval
    bound: float | None = None


Evidence = RateCounts | BootstrapEvidence


@dataclass(frozen=True)
class Verdict:
    """The verdict on one endpoint; numbers are in the metric's units, None when undefined."""

    metric: str
    claimed: float
    margin: float
    alpha: float
    estimate: float | None
    low: float | None
    high: float | None
    bound: float | None
    outcome: Outcome
    reason: str
    needed_n: int | None
    method: str
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as plain data, with the claim's direction (for the report card)."""
        direction = ">=" if METRICS[self.metric].higher_is_better else "<="
        return asdict(self) | {"direction": direction}


@dataclass(frozen=True)
class ClaimVerdict:
    """The verdict on a whole claim: every endpoint must hold (intersection–union)."""

    claim: str
    outcome: Outcome
    verdicts: tuple[Verdict, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as plain data (for JSON and the report card)."""
        return asdict(self) | {"verdicts": [v.to_dict() for v in self.verdicts]}


def rate_evidence(outcomes: Outcomes) -> dict[str, RateCounts]:
    """Return the counts of every rate metric in a run's outcomes, as verdict evidence.

    Examples:
        >>> o = Outcomes.from_columns(labels=[1, 1, 1, 0, 0], alerts=[2, 0, 3, 1, 0],
        ...                           max_scores=[0.9, 0.1, 0.8, 0.7, 0.2], n_messages=[5] * 5)
        >>> rate_evidence(o)["recall"], rate_evidence(o)["fpr"]
        (RateCounts(k=2, n=3), RateCounts(k=1, n=2))
    """
    return {name: RateCounts(k, n) for name, (k, n) in rate_counts(outcomes).items()}


def endpoint_verdict(
    endpoint: Endpoint, evidence: Evidence, *, alpha: float = 0.05, power: float = 0.8
) -> Verdict:
    """Decide one endpoint: refuted, supported (non-inferior) or inconclusive.

    Rates given as :class:`RateCounts` use exact Clopper–Pearson intervals and bounds; an
    inconclusive rate carries the sample size (in the rate's denominator units) that would
    settle it with ``power`` if the observed rate were the truth.

    Examples:
        >>> recall = Endpoint("recall", 0.95, margin=0.05)
        >>> [endpoint_verdict(recall, RateCounts(k, n)).outcome
        ...  for k, n in [(190, 200), (170, 200), (19, 20)]]
        ['supported', 'refuted', 'inconclusive']
        >>> endpoint_verdict(recall, RateCounts(19, 20)).needed_n
        203
        >>> endpoint_verdict(recall, RateCounts(0, 0)).reason
        'undefined: no positives'
    """
    spec = endpoint.spec
    level = 1 - alpha
    n: int | None
    if isinstance(evidence, RateCounts):
        if spec.denominator is None:
            raise ValueError(f"{endpoint.metric} is not a rate; pass BootstrapEvidence for it")
        interval = rate_interval(evidence.k, evidence.n, level=level, method="clopper-pearson")
        side = "lower" if spec.higher_is_better else "upper"
        raw = one_sided_bound(evidence.k, evidence.n, level=level, side=side)
        bound = None if raw is None else raw * spec.scale
        low, high = (None if v is None else v * spec.scale for v in (interval.low, interval.high))
        estimate = None if interval.estimate is None else interval.estimate * spec.scale
        method, n = "clopper-pearson (exact)", evidence.n
        undefined = f"undefined: no {spec.denominator}" if evidence.n == 0 else ""
    else:
        interval = evidence.interval
        if not math.isclose(interval.level, level):
            raise ValueError(f"the interval's level is {interval.level}; the claim needs {level}")
        estimate, low, high = interval.estimate, interval.low, interval.high
        own_end = low if spec.higher_is_better else high
        bound = evidence.bound if evidence.bound is not None else own_end
        method, n = interval.method, interval.n
        if evidence.bound is None:
            method += "; one-sided bound = the two-sided interval's end (conservative)"
        note = (interval.note or "not defined on these data").removeprefix("undefined: ")
        undefined = "" if None not in (low, high, bound) else f"undefined: {note}"

    outcome: Outcome
    needed_n: int | None = None
    if undefined:
        outcome, reason = "inconclusive", undefined
    else:
        assert low is not None and high is not None and bound is not None
        outcome, reason, needed_n = _decide(endpoint, evidence, alpha, power, low, high, bound)
    return Verdict(
        endpoint.metric, endpoint.claimed, endpoint.margin, alpha, estimate, low, high, bound,
        outcome, reason, needed_n, method, n,
    )  # fmt: skip


def judge(claim: Claim, evidence: Mapping[str, Evidence], *, power: float = 0.8) -> ClaimVerdict:
    """Decide every endpoint of ``claim`` and combine them (intersection–union).

    All endpoints must hold for the claim to hold, so each is tested at the claim's α with no
    adjustment (the intersection–union test's size is at most α). The claim is refuted if any
    endpoint is refuted, supported if all are supported, and inconclusive otherwise.

    Args:
        claim: the validated claim.
        evidence: per claimed metric, :class:`RateCounts` or :class:`BootstrapEvidence`.
        power: the power the sample sizes of inconclusive endpoints aim for.

    Raises:
        ValueError: when a claimed metric has no evidence.

    Examples:
        >>> from benchmarks.audit.claims.claim import load_claim
        >>> claim = load_claim({"name": "v", "unit": "conversation", "population": "all",
        ...                     "threshold": 0.5, "metrics": {"recall": 0.95, "fpr": 0.001},
        ...                     "margin": {"recall": 0.05, "fpr": 0.001}})
        >>> result = judge(claim, {"recall": RateCounts(190, 200), "fpr": RateCounts(2, 5000)})
        >>> result.outcome, [v.outcome for v in result.verdicts]
        ('supported', ['supported', 'supported'])
    """
    missing = [e.metric for e in claim.endpoints if e.metric not in evidence]
    if missing:
        raise ValueError(f"no evidence for claimed metric(s) {missing}")
    verdicts = tuple(
        endpoint_verdict(e, evidence[e.metric], alpha=claim.alpha, power=power)
        for e in claim.endpoints
    )
    outcome, reason = combine(verdicts)
    return ClaimVerdict(claim=claim.name, outcome=outcome, verdicts=verdicts, reason=reason)


def combine(verdicts: Sequence[Verdict]) -> tuple[Outcome, str]:
    """Return the overall outcome and its reason for endpoints that must all hold.

    Examples:
        >>> def v(outcome):
        ...     none = (None,) * 4
        ...     return Verdict("recall", 0.9, 0, 0.05, *none, outcome, "", None, "")
        >>> combine([v("supported"), v("inconclusive")])[0]
        'inconclusive'
        >>> combine([v("supported"), v("refuted")])[0]
        'refuted'
    """
    rule = "every endpoint must hold (intersection–union test, each at α, no adjustment)"
    by_outcome = {
        outcome: [v.metric for v in verdicts if v.outcome == outcome]
        for outcome in ("refuted", "inconclusive")
    }
    if by_outcome["refuted"]:
        return "refuted", f"refuted by {', '.join(by_outcome['refuted'])}; {rule}"
    if by_outcome["inconclusive"]:
        return "inconclusive", f"not settled: {', '.join(by_outcome['inconclusive'])}; {rule}"
    return "supported", f"every endpoint is supported; {rule}"


def _decide(
    endpoint: Endpoint,
    evidence: Evidence,
    alpha: float,
    power: float,
    low: float,
    high: float,
    bound: float,
) -> tuple[Outcome, str, int | None]:
    """Apply the decision rule to a defined interval and bound: outcome, reason, needed n."""
    higher = endpoint.spec.higher_is_better
    claimed, margin = endpoint.claimed, endpoint.margin
    target = claimed - margin if higher else claimed + margin
    refuted = high < claimed if higher else low > claimed
    supported = bound > target if higher else bound < target
    pct = f"{100 * (1 - alpha):g}%"
    interval = f"the {pct} interval [{low:.4g}, {high:.4g}]"
    one_sided = f"the one-sided {pct} {'lower' if higher else 'upper'} bound {bound:.4g}"
    against = f"the claim {'minus' if higher else 'plus'} the margin, {target:.4g}"
    if refuted:
        reason = f"{interval} lies {'below' if higher else 'above'} the claimed {claimed:.4g}"
        if supported:
            reason += (
                f"; {one_sided} still clears {against}: non-inferior within the margin, "
                "but the claim as stated is contradicted"
            )
        return "refuted", reason, None
    if supported:
        return "supported", f"{one_sided} {'exceeds' if higher else 'is below'} {against}", None
    reason = (
        f"{interval} does not exclude the claimed {claimed:.4g} and {one_sided} does not "
        f"clear {against}"
    )
    if isinstance(evidence, RateCounts):
        needed, sentence = _needed(endpoint, evidence, alpha, power)
        return "inconclusive", f"{reason}; {sentence}", needed
    sentence = "a bootstrap metric has no closed-form sample size (its interval narrows as 1/√n)"
    return "inconclusive", f"{reason}; {sentence}", None


def _needed(
    endpoint: Endpoint, counts: RateCounts, alpha: float, power: float
) -> tuple[int | None, str]:
    """Return the sample size that settles the endpoint if the observed rate is the truth."""
    spec = endpoint.spec
    observed = counts.k / counts.n
    needed, action = _power.settling_size(
        observed,
        endpoint.claimed / spec.scale,
        endpoint.margin / spec.scale,
        higher_is_better=spec.higher_is_better,
        alpha=alpha,
        power=power,
    )
    shown = f"the observed {endpoint.metric} ({observed * spec.scale:.4g})"
    if needed is None:
        return None, (
            f"if {shown} were the truth, no sample size up to {_power.DEFAULT_MAX_N:,} would "
            "settle it (it sits on the claim or on the claim ∓ margin; a margin > 0 may help)"
        )
    return needed, (
        f"if {shown} were the truth, about {needed:,} {spec.denominator} (now "
        f"{counts.n:,}) would {action} the claim with {power:.0%} power"
    )
