"""The power plan printed before a run: can this corpus settle the claim, and what would?

An auditor must learn *before* the detector runs whether the corpus can settle the claim
(AUDIT.md, "Sample size and power"). :func:`plan` applies the exact power and sample-size
calculations of :mod:`benchmarks.audit.claims.power` to each endpoint of a claim, given the corpus's
size in the claim's unit (:class:`CorpusCounts`), and :meth:`Plan.render` says the result in
plain language. These names are re-exported by :mod:`benchmarks.audit.claims.power`.
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from benchmarks.audit.claims.power import Side, attainable_width, power_one_sided_exact, sample_size

if TYPE_CHECKING:
    from benchmarks.audit.claims.claim import Claim, Endpoint


@dataclass(frozen=True)
class CorpusCounts:
    """The corpus's size in the claim's unit, by class, and its number of clusters per class.

    Clusters are the top-level resampling units (authors); None means every unit is its own
    cluster. A cluster count below the unit count makes the cluster count the effective
    sample size: conversations of one author are not independent, so this is conservative.
    """

    n_positive: int
    n_negative: int
    n_positive_clusters: int | None = None
    n_negative_clusters: int | None = None

    def __post_init__(self) -> None:
        for units, clusters in (
            (self.n_positive, self.n_positive_clusters),
            (self.n_negative, self.n_negative_clusters),
        ):
            if units < 0 or (clusters is not None and not 0 <= clusters <= units):
                raise ValueError(f"need 0 <= clusters <= units, got {clusters} and {units}")

    def effective(self, denominator: str) -> tuple[int, bool]:
        """Return the effective n for a rate over ``denominator`` and whether it is clustered."""
        if denominator.startswith("positives"):
            units, clusters = self.n_positive, self.n_positive_clusters
        else:
            units, clusters = self.n_negative, self.n_negative_clusters
        if clusters is not None and clusters < units:
            return clusters, True
        return units, False


@dataclass(frozen=True)
class PlanEntry:
    """What the corpus can say about one endpoint, before the run.

    Attributes:
        n: the effective sample size (None for metrics planned only after the run).
        denominator: what n counts ("positives", "negatives", ...).
        clustered: True when n counts clusters (authors) rather than units.
        power_if_true: power to support the endpoint if the truth is exactly the claim.
        power_if_better: the same if the truth is one margin better than the claim.
        power_to_refute_if_worse: power to refute it if the truth is one margin worse.
        width: the two-sided (1−α) interval width attainable at the claimed value.
        settles: "can" (power_if_true reaches the target), "cannot", or "unknown".
        needed_n: the effective n that would give the target power if the claim is true.
        note: caveats in words.
    """

    metric: str
    claimed: float
    margin: float
    n: int | None
    denominator: str | None
    clustered: bool
    power_if_true: float | None
    power_if_better: float | None
    power_to_refute_if_worse: float | None
    width: float | None
    settles: Literal["can", "cannot", "unknown"]
    needed_n: int | None
    note: str


@dataclass(frozen=True)
class Plan:
    """The power plan of a claim on a corpus; :meth:`render` is printed before any run."""

    claim: str
    unit: str
    alpha: float
    target_power: float
    counts: CorpusCounts
    entries: tuple[PlanEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as plain data (for JSON and the report card)."""
        return asdict(self)

    def render(self) -> str:
        """Return the plan in plain language, one paragraph per endpoint, wrapped at 100.

        Examples:
            >>> from benchmarks.audit.claims.claim import Endpoint
            >>> entry = _plan_entry(Endpoint("fpr", 0.001, 0.0005), CorpusCounts(0, 0), 0.05, 0.8)
            >>> text = Plan("v", "conversation", 0.05, 0.8, CorpusCounts(0, 0), (entry,)).render()
            >>> "CANNOT" in text and "about 34,707 negatives would give 80% power" in text
            True
        """
        c = self.counts
        paragraphs = [
            f"Power plan for claim {self.claim!r} ({self.unit} level, alpha {self.alpha:g}, "
            f"target power {self.target_power:.0%}), before any detector runs. Corpus: "
            f"{_units(c.n_positive, 'positives', c.n_positive_clusters)}, "
            f"{_units(c.n_negative, 'negatives', c.n_negative_clusters)}."
        ]
        if any(e.clustered for e in self.entries):
            paragraphs.append(
                "Where clusters (authors) are fewer than units, n is the number of clusters: "
                "one author's conversations are not independent, so this is conservative."
            )
        paragraphs += [_render_entry(e, self.alpha, self.target_power) for e in self.entries]
        cannot = [e.metric for e in self.entries if e.settles == "cannot"]
        later = [e.metric for e in self.entries if e.settles == "unknown"]
        summary = "Summary: " + (
            f"the corpus is too small to settle {', '.join(cannot)} if the claim is exactly "
            "true; expect 'inconclusive' there unless the detector is better than claimed."
            if cannot
            else "the corpus can settle every planned endpoint if the claim is true."
        )
        if later:
            summary += f" Not planned (judged after the run only): {', '.join(later)}."
        paragraphs.append(summary)
        return "\n".join(
            textwrap.fill(p, width=100, subsequent_indent="  ", break_on_hyphens=False)
            for p in paragraphs
        )


def plan(claim: Claim, counts: CorpusCounts, *, power: float = 0.8) -> Plan:
    """Say, per endpoint, whether the corpus can settle the claim, and what would.

    Rates are planned exactly at the claimed value (the verdict's own test); composite metrics
    (bootstrap intervals) and precision (whose denominator, the alerts, exists only after the
    run) are listed as "unknown".

    Examples:
        >>> from benchmarks.audit.claims.claim import load_claim
        >>> claim = load_claim({"name": "v", "unit": "author", "population": "PAN12 authors",
        ...                     "threshold": 0.5, "metrics": {"recall": 0.95}, "margin": 0.05})
        >>> entry = plan(claim, CorpusCounts(142, 2000)).entries[0]
        >>> entry.settles, entry.needed_n, round(entry.power_if_true, 2)
        ('cannot', 203, 0.72)
    """
    entries = tuple(_plan_entry(e, counts, claim.alpha, power) for e in claim.endpoints)
    return Plan(claim.name, claim.unit, claim.alpha, power, counts, entries)


def _plan_entry(endpoint: Endpoint, counts: CorpusCounts, alpha: float, power: float) -> PlanEntry:
    spec = endpoint.spec
    if spec.denominator is None or spec.denominator == "alerts":
        why = (
            "its denominator (the alerts) is known only after the run"
            if spec.denominator == "alerts"
            else "a bootstrap metric: no closed-form power; its interval narrows about as 1/√n"
        )
        return PlanEntry(
            metric=endpoint.metric,
            claimed=endpoint.claimed,
            margin=endpoint.margin,
            n=None,
            denominator=spec.denominator,
            clustered=False,
            power_if_true=None,
            power_if_better=None,
            power_to_refute_if_worse=None,
            width=None,
            settles="unknown",
            needed_n=None,
            note=why,
        )
    n, clustered = counts.effective(spec.denominator)
    higher = spec.higher_is_better
    p, m = endpoint.claimed / spec.scale, endpoint.margin / spec.scale
    side: Side = "lower" if higher else "upper"
    target = p - m if higher else p + m
    better, worse = (
        (min(p + m, 1.0), max(p - m, 0.0)) if higher else (max(p - m, 0.0), min(p + m, 1.0))
    )
    at_claim = power_one_sided_exact(p, target, n, alpha=alpha, side=side)
    notes = []
    if spec.denominator != "positives" and spec.denominator.startswith("positives"):
        notes.append(f"n counts all positives, an upper bound: only {spec.denominator} count")
    if m == 0:
        notes.append(
            "with margin 0 a true claim can never be supported (its bound cannot clear the "
            "claim itself): set a margin, or read the verdict as 'not refuted'"
        )
    width = attainable_width(n, p, level=1 - alpha)
    return PlanEntry(
        metric=endpoint.metric,
        claimed=endpoint.claimed,
        margin=endpoint.margin,
        n=n,
        denominator="positives" if spec.denominator.startswith("positives") else "negatives",
        clustered=clustered,
        power_if_true=at_claim,
        power_if_better=None
        if m == 0
        else power_one_sided_exact(better, target, n, alpha=alpha, side=side),
        power_to_refute_if_worse=None
        if m == 0
        else power_one_sided_exact(
            worse, p, n, alpha=alpha / 2, side="upper" if higher else "lower"
        ),
        width=None if width is None else width * spec.scale,
        settles="can" if at_claim >= power else "cannot",
        needed_n=sample_size(p, target, alpha=alpha, power=power, side=side) if m > 0 else None,
        note="; ".join(notes),
    )


def _units(units: int, name: str, clusters: int | None) -> str:
    return f"{units:,} {name}" + ("" if clusters is None else f" in {clusters:,} clusters")


def _render_entry(e: PlanEntry, alpha: float, target_power: float) -> str:
    head = f"- {e.metric} claimed {e.claimed:g}, margin {e.margin:g}"
    if e.settles == "unknown" or e.n is None or e.power_if_true is None:
        return f"{head}: not planned ({e.note})."
    verdict = "can be settled" if e.settles == "can" else "CANNOT reliably be settled"
    units = f"clusters of {e.denominator}" if e.clustered else e.denominator
    parts = [f"{head}: {verdict} with n = {e.n:,} {units}"]
    parts.append(f"power to support it if exactly true {e.power_if_true:.2f}")
    if e.power_if_better is not None and e.power_to_refute_if_worse is not None:
        parts.append(f"if one margin better {e.power_if_better:.2f}")
        parts.append(f"power to refute it if one margin worse {e.power_to_refute_if_worse:.2f}")
    if e.width is not None:
        parts.append(f"attainable {100 * (1 - alpha):g}% interval width about {e.width:.3g}")
    if e.needed_n is not None and e.settles == "cannot":
        parts.append(f"about {e.needed_n:,} {units} would give {target_power:.0%} power")
    if e.note:
        parts.append(e.note)
    return "; ".join(parts) + "."
