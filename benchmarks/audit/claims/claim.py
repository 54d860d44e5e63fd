"""Claims an auditor tests: the claim model, loading and validation.

A claim is declared before the run (``configs/claim/``, the Hydra node ``claim``): the unit, the
population, one operating point (a declared threshold, or one calibrated on a separate split's
negatives), the claimed metrics, the non-inferiority margin, α and the deployment prevalences.

The verdict on each endpoint (the evidence, the decision rule and the intersection–union
combination) is in :mod:`benchmarks.audit.claims.verdicts`, which builds on this model (this
module imports nothing from it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.audit.claims.criteria import Criterion, load_criteria
from benchmarks.audit.stats.prevalence import Prevalence
from benchmarks.errors import ConfigError

UNITS = ("conversation", "author", "message")
_Fail = Callable[[str], ConfigError]


@dataclass(frozen=True)
class MetricSpec:
    """What a claimable metric is: its direction, its range and, for rates, its denominator.

    ``denominator`` names the units a rate counts over ("positives", "negatives", ...); None
    marks a composite metric whose interval comes from the bootstrap. ``scale`` converts the
    rate to the metric's units (1000 for false alerts per 1,000 negatives).
    """

    name: str
    higher_is_better: bool
    low: float = 0.0
    high: float = 1.0
    denominator: str | None = None
    scale: float = 1.0


#: Every metric a claim may name; the names are the result keys of benchmarks.metrics.
METRICS: dict[str, MetricSpec] = {
    s.name: s
    for s in (
        MetricSpec("recall", True, denominator="positives"),
        MetricSpec("precision", True, denominator="alerts"),
        MetricSpec("specificity", True, denominator="negatives"),
        MetricSpec("fpr", False, denominator="negatives"),
        MetricSpec(
            "false_alerts_per_1k", False, high=1000.0, denominator="negatives", scale=1000.0
        ),
        MetricSpec("detected_before_escalation", True, denominator="positives with an escalation"),
        MetricSpec("f1", True),
        MetricSpec("f0_5", True),
        MetricSpec("f3", True),
        MetricSpec("mcc", True, low=-1.0),
        MetricSpec("roc_auc", True),
        MetricSpec("average_precision", True),
        MetricSpec("latency_f1", True),
        MetricSpec("erde_5", False),
        MetricSpec("erde_50", False),
        MetricSpec("ttd_median", False, low=1.0, high=math.inf),
        MetricSpec("ttd_p90", False, low=1.0, high=math.inf),
    )
}


@dataclass(frozen=True)
class Endpoint:
    """One claimed metric value with its non-inferiority margin (in the metric's units)."""

    metric: str
    claimed: float
    margin: float = 0.0

    @property
    def spec(self) -> MetricSpec:
        """The metric's direction, range and denominator."""
        return METRICS[self.metric]


@dataclass(frozen=True)
class Calibration:
    """Set the threshold on ``split``'s negatives so that their FPR is at most ``fpr``."""

    split: str
    fpr: float


@dataclass(frozen=True)
class Costs:
    """Costs of a miss and of a false alarm, for the NIST detection cost."""

    miss: float
    false_alarm: float


@dataclass(frozen=True)
class Claim:
    """A validated claim; build it with :func:`load_claim`."""

    name: str
    unit: str
    population: str
    endpoints: tuple[Endpoint, ...]
    threshold: float | None = None
    calibrate: Calibration | None = None
    alpha: float = 0.05
    prevalences: tuple[Prevalence, ...] = ()
    costs: Costs | None = None
    notes: str = ""
    criteria: tuple[Criterion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the claim as declared, as plain data (for the report card and JSON)."""
        return asdict(self)


#: The keys a claim may have, in the order the docs list them.
_KEYS: tuple[str, ...] = ("name", "unit", "population", "threshold", "calibrate", "metrics")
_KEYS += ("margin", "alpha", "prevalences", "costs", "criteria", "notes")


def load_claim(node: Mapping[str, Any] | None) -> Claim | None:
    """Validate the ``claim`` config node; None (or an empty mapping) means no claim.

    Raises:
        ConfigError: one line naming the problem and what to change.

    Examples:
        >>> claim = load_claim({"name": "v", "unit": "conversation", "population": "all",
        ...                     "threshold": 0.5, "metrics": {"recall": 0.95}, "margin": 0.05})
        >>> claim.endpoints, claim.alpha
        ((Endpoint(metric='recall', claimed=0.95, margin=0.05),), 0.05)
        >>> load_claim({}) is None
        True
        >>> load_claim({"name": "v", "unit": "conversation", "population": "all",
        ...             "metrics": {"recall": 0.95}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        benchmarks.errors.ConfigError: claim 'v': no operating point; add threshold: <score> ...
    """
    if node is None or len(node) == 0:
        return None
    name = node.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("claim: name is missing; give the claim a name: name: <text>")

    def fail(reason: str) -> ConfigError:
        return ConfigError(f"claim {name!r}: {reason}")

    unknown = sorted(str(k) for k in node if k not in _KEYS)
    if unknown:
        raise fail(f"unknown key(s) {unknown}; the keys are {list(_KEYS)}")
    unit = node.get("unit")
    if unit not in UNITS:
        raise fail(f"unit is {unit!r}; say which unit the claim is about: {' | '.join(UNITS)}")
    population = node.get("population")
    if not isinstance(population, str) or not population.strip():
        raise fail("population is missing; say which positives and which negatives it covers")
    threshold, calibrate = _operating_point(node, fail)
    alpha = _number(node.get("alpha", 0.05), "alpha", fail)
    if not 0 < alpha < 0.5:  # the one-sided bound is an end of the (1 - 2 alpha) interval
        raise fail(f"alpha is {alpha}; it must lie in (0, 0.5), usually 0.05")
    return Claim(
        name=name,
        unit=unit,
        population=population.strip(),
        endpoints=_endpoints(node.get("metrics"), node.get("margin", 0.0), fail),
        threshold=threshold,
        calibrate=calibrate,
        alpha=alpha,
        prevalences=_prevalences(node.get("prevalences"), fail),
        costs=_costs(node.get("costs"), fail),
        notes=str(node.get("notes") or ""),
        criteria=load_criteria(node.get("criteria"), name),
    )


def validate_unit(claim: Claim, capabilities: Collection[str]) -> None:
    """Refuse a claim whose unit the corpus cannot provide (e.g. authors without author ids).

    Examples:
        >>> claim = load_claim({"name": "v", "unit": "author", "population": "all",
        ...                     "threshold": 0.5, "metrics": {"recall": 0.9}})
        >>> validate_unit(claim, {"conversation", "message"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        benchmarks.errors.ConfigError: claim 'v': the claim is at author level but this corpus \
has no author labels (it can provide conversation, message); ...
    """
    if claim.unit not in capabilities:
        offered = ", ".join(u for u in UNITS if u in capabilities) or "nothing"
        raise ConfigError(
            f"claim {claim.name!r}: the claim is at {claim.unit} level but this corpus has no "
            f"{claim.unit} labels (it can provide {offered}); use a corpus with {claim.unit} "
            "ids or restate the claim at one of those units"
        )


def validate_split(claim: Claim, scored_split: str) -> None:
    """Refuse calibrating the threshold on the split that is scored and reported.

    Examples:
        >>> claim = load_claim({"name": "v", "unit": "conversation", "population": "all",
        ...                     "calibrate": {"split": "test", "fpr": 0.001},
        ...                     "metrics": {"recall": 0.9}})
        >>> validate_split(claim, "test")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        benchmarks.errors.ConfigError: claim 'v': calibrate.split is 'test', the split being ...
    """
    if claim.calibrate is not None and claim.calibrate.split == scored_split:
        raise ConfigError(
            f"claim {claim.name!r}: calibrate.split is {scored_split!r}, the split being "
            "scored; a threshold tuned on the test data overstates performance: calibrate on "
            "a separate split (e.g. calibrate.split=calibration) or score another split"
        )


def _number(value: Any, what: str, fail: _Fail) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(f"{what} is {value!r}; it must be a finite number")
    return float(value)


def _operating_point(
    node: Mapping[str, Any], fail: _Fail
) -> tuple[float | None, Calibration | None]:
    threshold, calibrate = node.get("threshold"), node.get("calibrate")
    if threshold is None and calibrate is None:
        raise fail(
            "no operating point; add threshold: <score> (declared by the vendor) or "
            "calibrate: {split: <name>, fpr: <target>} (set on a separate split)"
        )
    if threshold is not None and calibrate is not None:
        raise fail("both threshold and calibrate are given; keep one operating point")
    if threshold is not None:
        return _number(threshold, "threshold", fail), None
    if not isinstance(calibrate, Mapping) or set(calibrate) != {"split", "fpr"}:
        raise fail(f"calibrate is {calibrate!r}; write calibrate: {{split: <name>, fpr: <target>}}")
    split, target = calibrate["split"], _number(calibrate["fpr"], "calibrate.fpr", fail)
    if not isinstance(split, str) or not split:
        raise fail("calibrate.split must name a split of the corpus")
    if not 0 < target < 1:
        raise fail(f"calibrate.fpr is {target}; it must lie in (0, 1), e.g. 0.001")
    return None, Calibration(split=split, fpr=target)


def _endpoints(metrics: Any, margin: Any, fail: _Fail) -> tuple[Endpoint, ...]:
    if not isinstance(metrics, Mapping) or not metrics:
        raise fail("metrics is missing; write metrics: {<metric>: <claimed value>, ...}")
    unknown = sorted(str(m) for m in metrics if m not in METRICS)
    if unknown:
        raise fail(f"unknown metric(s) {unknown}; supported: {', '.join(METRICS)}")
    margins = margin if isinstance(margin, Mapping) else dict.fromkeys(metrics, margin)
    stray = sorted(str(m) for m in margins if m not in metrics)
    if stray:
        raise fail(
            f"margin names {stray}, which the claim does not claim; claimed: {list(metrics)}"
        )
    endpoints = []
    for metric, value in metrics.items():
        spec = METRICS[metric]
        claimed = _number(value, f"the claimed {metric}", fail)
        if not spec.low <= claimed <= spec.high:
            raise fail(f"claimed {metric} {claimed} is outside its range [{spec.low}, {spec.high}]")
        m = _number(margins.get(metric, 0.0), f"margin for {metric}", fail)
        if not 0 <= m <= 1:
            raise fail(f"margin for {metric} is {m}; it must lie in [0, 1] (metric units)")
        endpoints.append(Endpoint(metric=str(metric), claimed=claimed, margin=m))
    return tuple(endpoints)


def _prevalences(value: Any, fail: _Fail) -> tuple[Prevalence, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    result = []
    for item in items:
        if isinstance(item, Mapping) and set(item) != {"low", "high"}:
            raise fail(f"prevalence {dict(item)!r}; write a number or {{low: <a>, high: <b>}}")
        try:
            result.append(Prevalence.of(dict(item) if isinstance(item, Mapping) else item))
        except (TypeError, ValueError) as error:
            raise fail(f"prevalence {item!r}: {error}; e.g. 0.0001 for 1 in 10,000") from None
    return tuple(result)


def _costs(value: Any, fail: _Fail) -> Costs | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"miss", "false_alarm"}:
        raise fail(f"costs is {value!r}; write costs: {{miss: <number>, false_alarm: <number>}}")
    miss = _number(value["miss"], "costs.miss", fail)
    false_alarm = _number(value["false_alarm"], "costs.false_alarm", fail)
    if miss <= 0 or false_alarm <= 0:
        raise fail("costs must be positive numbers")
    return Costs(miss=miss, false_alarm=false_alarm)
