"""The sections of a report card, shared by its HTML and Markdown renderings.

:func:`sections` turns a :class:`~benchmarks.audit.card.model.ReportCard` into titled
:class:`Section` objects, each a list of :class:`Block` pieces (text, warnings, subheads,
tables, lists, preformatted text, plots); :mod:`benchmarks.audit.card.report` renders them, so the
HTML page and the Markdown file always carry the same numbers in the same order. One builder
per section, in :data:`SECTION_TITLES` order; :func:`fmt` writes every number ("undefined",
never 0, for a missing one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from benchmarks.audit.card.blocks import (
    Block,
    Section,
    _columns,
    _image,
    _interval,
    _kv,
    _table,
    _text,
    fmt,
)
from benchmarks.audit.card.model import ReportCard
from benchmarks.audit.card.robustness import _reliability, _robustness

#: Section titles in page order; "Comparisons" appears only on comparison cards.
SECTION_TITLES: tuple[str, ...] = (
    "Data",
    "Detector",
    "Accuracy: metrics with intervals",
    "Comparisons",
    "Accuracy: operating points",
    "Robustness: GroomCheck and perturbations",
    "Reliability: the same scores again, seeds and content hashes",
    "Fairness: subgroups",
    "Fairness: calibration",
    "Timeliness: latency and detection curve",
    "Timeliness: detected before escalation, per stage",
    "Deployment projection: prevalence and detection cost",
    "Declared criteria and verdicts",
    "Power and sample-size plan",
    "Limitations of the data",
    "Reproduction recipe",
)
_OUTCOMES = (
    "Verdicts: supported = the one-sided bound clears the claimed value minus the margin; "
    "refuted = the interval excludes the claimed value in the unfavourable direction; "
    "inconclusive = neither (the sample size that would settle it is given)."
)
_METRICS_INTRO = (
    "Each number with its interval, confidence level and the method that produced it. Plain "
    "rates use exact Clopper-Pearson intervals when conversations are independent, and the "
    "seeded cluster bootstrap (whole authors resampled) when authors link them; composite "
    "metrics always the cluster bootstrap. "
    "'undefined' means the metric has no value on this data (e.g. recall without a positive)."
)
_PREVALENCE_INTRO = (
    "PPV(π) = TPR·π / (TPR·π + FPR·(1−π)) and false flags per million = FPR·(1−π)·10⁶ at each "
    "declared deployment prevalence π, the uncertainty of TPR and FPR carried through. Test-set "
    "precision reflects the test set's prevalence, a design choice; these are what a platform "
    "would see."
)
_OPERATING_INTRO = (
    "TPR at fixed false-positive rates, the threshold set on negatives separate from the test "
    "set; the count of negatives above the threshold shows how noisy a low-FPR threshold is."
)
_LATENCY_INTRO = (
    "Time to detection over true positives: median and 90th percentile with numpy's linear "
    "interpolation; minutes only where the corpus has a usable clock."
)


def _verdict_sentence(v: Mapping[str, Any]) -> str:
    claimed = f"{v.get('direction') or ''} {fmt(v.get('claimed'))}".strip()
    text = f"{v.get('metric', 'endpoint')}: claimed {claimed}"
    if v.get("margin") is not None:
        text += f" (margin {fmt(v['margin'])})"
    text += (
        f"; measured {fmt(v.get('estimate'))}, interval {_interval(v.get('low'), v.get('high'))}"
    )
    if v.get("bound") is not None:
        text += f", one-sided bound {fmt(v['bound'])}"
    if v.get("method"):
        text += f" ({v['method']})"
    text += f". Verdict: {v.get('outcome') or 'undefined'}"
    text += f" ({v['reason']})." if v.get("reason") else "."
    if v.get("needed_n") is not None:
        text += f" About {fmt(v['needed_n'])} would be needed to settle it."
    return text


def _verdict(card: ReportCard, plots: bool) -> list[Block]:
    if card.claim:
        blocks = [_text("The claim as declared before the run:"), _kv(card.claim)]
    else:
        blocks = [_text("No claim was declared before this run: estimates only, no verdict.")]
    if card.overall_verdict:
        blocks.append(_text(f"Overall verdict: {card.overall_verdict}."))
    if card.verdicts:
        sentences = tuple(_verdict_sentence(v) for v in card.verdicts)
        spec = "endpoint=metric|claimed|margin|α=alpha|estimate|interval=low..high|bound|"
        spec += "verdict=outcome|method"
        blocks += [Block("list", items=sentences), _text(_OUTCOMES), _columns(card.verdicts, spec)]
    if card.criteria:
        spec = "criterion=metric|section=kind|rule|threshold|measured=value|evidence|"
        spec += "verdict=outcome"
        blocks += [
            _text("Declared robustness and reliability criteria", "subhead"),
            _columns(card.criteria, spec),
        ]
    return blocks


def _data(card: ReportCard, plots: bool) -> list[Block]:
    blocks = [_kv(card.data, skip=("limitations", "counts"))]
    if card.data.get("counts"):
        blocks += [_text("Counts", "subhead"), _kv(card.data["counts"])]
    return [*blocks, _text("Known limitations are listed under 'Limitations of the data'.")]


_FLAG_WARNINGS = {
    "UNSANDBOXED": "UNSANDBOXED: the vendor's sealed program ran without its sandbox; it could "
    "read the host's files (the answer key included) and reach the network. These numbers are "
    "no evidence of performance unless the program was trusted.",
    "UNVERIFIED": "UNVERIFIED: too many causality re-checks could not run; nothing shows the "
    "detector did not use later messages. Re-run with runner.causality=strict.",
}


def _detector(card: ReportCard, plots: bool) -> list[Block]:
    leak = "Leakage: the detector was trained on data overlapping the test split; its numbers "
    leak += "here are optimistic and are no evidence of performance."
    guarantees = dict(card.detector.get("guarantees") or {})
    warnings = [_text(leak, "warn")] * bool(card.detector.get("leakage"))
    warnings += [_text(_FLAG_WARNINGS[f], "warn") for f in guarantees.get("flags", ())]
    blocks = [*warnings, _kv(card.detector, skip=("guarantees",))]
    if guarantees:
        causality = dict(guarantees.get("causality") or {})
        blocks += [
            _text("Guarantees", "subhead"),
            _kv(
                {
                    "isolation": guarantees.get("isolation"),
                    "trusted (in-process code)": guarantees.get("trusted"),
                    "causality mode": causality.get("mode"),
                    "causality checked": causality.get("checked"),
                    "causality failed": causality.get("failed"),
                    "causality unchecked": causality.get("unchecked"),
                    "flags": " ".join(guarantees.get("flags", ())) or "none",
                }
            ),
            _text(
                "Strict mode feeds the detector message by message, every conversation in "
                "lockstep: causal by construction. Fast mode re-checks a seeded sample on a "
                "fresh instance, truncated and whole, shuffled (docs/trust.md)."
            ),
        ]
    return blocks


def _metrics(card: ReportCard, plots: bool) -> list[Block]:
    rows = []
    for name, value in card.metrics.items():
        m = dict(value) if isinstance(value, Mapping) else {"estimate": value}
        # A count (tp, n_positive, ...) has no interval: say so rather than "undefined".
        has_interval = "low" in m or "high" in m
        interval = _interval(m.get("low"), m.get("high")) if has_interval else "not applicable"
        level = f"{100 * m['level']:g}%" if isinstance(m.get("level"), int | float) else ""
        rows.append(
            [
                name,
                m.get("estimate"),
                interval,
                level,
                m.get("method") or "",
                m.get("n", ""),
                m.get("note") or "",
            ]
        )
    heads = ("metric", "estimate", "interval", "level", "method", "n", "note")
    blocks = [_text(_METRICS_INTRO), _table(heads, rows)]
    if card.definitions:
        blocks += [
            _text("How each number is computed", "subhead"),
            _table(("metric", "definition"), list(card.definitions.items())),
        ]
    no_boot = _text("No bootstrap was run: every interval above is exact or analytic.")
    return [
        *blocks,
        _text("Bootstrap", "subhead"),
        _kv(card.bootstrap) if card.bootstrap else no_boot,
    ]


def _comparisons(card: ReportCard, plots: bool) -> list[Block]:
    keys: list[str] = []
    for row in card.comparisons:
        keys += [k for k in row if k not in keys]
    return [_columns(card.comparisons, "|".join(keys))]


def _plan(card: ReportCard, plots: bool) -> list[Block]:
    no_plan = _text("No power calculation was recorded before the run.")
    blocks = [Block("pre", text=card.plan) if card.plan else no_plan]
    if any(v.get("needed_n") is not None for v in card.verdicts):
        spec = "endpoint=metric|verdict=outcome|sample size that would settle it=needed_n"
        blocks.append(_columns(card.verdicts, spec))
    return blocks


def _prevalence(card: ReportCard, plots: bool) -> list[Block]:
    from benchmarks.audit.card import plots as p

    blocks = [_text(_PREVALENCE_INTRO)]
    if card.prevalence:
        spec = "prevalence|PPV=ppv|PPV interval=ppv_low..ppv_high|false flags per million="
        spec += "false_flags_per_million|interval=ff_low..ff_high"
        blocks += [
            _columns(card.prevalence, spec),
            _image(p.prevalence_plot, (card.prevalence,), "PPV and false flags", plots),
        ]
    else:
        blocks.append(_text("No deployment prevalence was declared."))
    cost = _kv(card.detection_cost) if card.detection_cost else _text("Not computed for this run.")
    return [*blocks, _text("Detection cost", "subhead"), cost]


def _operating(card: ReportCard, plots: bool) -> list[Block]:
    from benchmarks.audit.card import plots as p

    det, pr = card.curves.get("det") or {}, card.curves.get("pr") or {}
    spec = "target FPR=target_fpr|threshold|TPR=tpr|TPR interval=tpr_low..tpr_high|FPR=fpr|"
    spec += "negatives above threshold=n_negatives_above"
    return [
        _text(_OPERATING_INTRO),
        _columns(card.operating_points, spec),
        _image(p.det_curve, (det.get("fpr"), det.get("fnr")), "DET curve", plots),
        _image(p.pr_curve, (pr.get("precision"), pr.get("recall")), "Precision-recall", plots),
    ]


def _summary(unit: str, values: Any) -> list[Any]:
    import numpy as np

    xs = [float(v) for v in values or () if isinstance(v, int | float) and math.isfinite(v)]
    if not xs:
        return [unit, 0, None, None, None, None]
    a = np.asarray(xs)
    return [unit, len(xs), float(np.median(a)), float(np.percentile(a, 90)), a.min(), a.max()]


def _latency(card: ReportCard, plots: bool) -> list[Block]:
    from benchmarks.audit.card import plots as p

    lat = card.latency
    rows = [
        _summary("messages (first-alert index k)", lat.get("messages")),
        _summary("chat minutes to the alert", lat.get("minutes")),
    ]
    extra = {k: v for k, v in lat.items() if k not in ("messages", "minutes")}
    curve = [c for c in card.detection_curve if isinstance(c, list | tuple) and len(c) >= 2]
    marks = {1, 2, 3, 5, 10, 20, 50, 100, 150, 200, 500}
    shown = curve if len(curve) <= 12 else [c for c in curve if c[0] in marks] + curve[-1:]
    ttd = (lat.get("messages"), lat.get("minutes"))
    return [
        _text(_LATENCY_INTRO),
        _table(("unit", "n", "median", "p90", "min", "max"), rows),
        *([_kv(extra)] if extra else []),
        _image(p.latency_histogram, ttd, "Time to detection", plots),
        _text("Share of positives alerted by message k", "subhead"),
        _table(("k", "share detected"), [(c[0], c[1]) for c in shown]),
        _image(p.detection_curve, (card.detection_curve,), "Detection curve", plots),
    ]


def _stages(card: ReportCard, plots: bool) -> list[Block]:
    from benchmarks.audit.stats.subgroups import STAGE_DEFINITION

    rows = [
        s | {"flag": f"too small: {s.get('reason')}" * bool(s.get("too_small"))}
        for s in card.stage_detection
    ]
    spec = "stage|positives reaching it=n_reaching|alerted before=n_before|share=share.estimate|"
    spec += "interval=share.low..share.high|method=share.method|flag"
    return [_text(STAGE_DEFINITION), _columns(rows, spec)]


def _calibration(card: ReportCard, plots: bool) -> list[Block]:
    from benchmarks.audit.card import plots as p

    spec = "mean score=mean_score|observed positive rate=observed_rate|count"
    blocks = [
        _text("Per score bin: the mean maximum score and the observed share of positives."),
        _columns(card.calibration, spec),
        _image(p.calibration_plot, (card.calibration,), "Calibration", plots),
    ]
    if card.calibration_groups:
        spec = "attribute|group=value|n|positives=n_positive|mean score=mean_score|"
        spec += "observed positive rate=observed_rate|ECE=ece"
        blocks += [
            _text("Calibration by age band and language", "subhead"),
            _text(
                "Within each group: the mean maximum score, the observed share of positives, "
                "and the expected calibration error (ECE: the count-weighted gap between mean "
                "score and observed rate over ten score bins). A score that means more risk "
                "in one group than in another treats the groups unequally even at equal "
                "recall. Point estimates, no interval."
            ),
            _columns(card.calibration_groups, spec),
        ]
    return blocks


def _subgroups(card: ReportCard, plots: bool) -> list[Block]:
    from benchmarks.audit.card import plots as p
    from benchmarks.audit.stats.subgroups import MAX_WIDTH, MIN_NEGATIVES, MIN_POSITIVES

    intro = (
        "Exact Clopper-Pearson intervals per subgroup, unadjusted for multiplicity and treating "
        "conversations as independent (too narrow where one author has several): they "
        f"describe, they do not decide. A rate is informative with at least {MIN_POSITIVES} "
        f"positives (recall) or {MIN_NEGATIVES} negatives (FPR) and an interval at most "
        f"{MAX_WIDTH:g} wide; a row is 'too small' when neither recall nor FPR is."
    )
    rows = [
        r | {"flag": "too small: " * bool(r.get("too_small")) + str(r.get("reason") or "")}
        for r in card.subgroups
    ]
    spec = "attribute|value|n|positives=n_positive|negatives=n_negative"
    for name in ("recall", "fpr", "precision"):
        spec += f"|{name}={name}.estimate|interval={name}.low..{name}.high"
    return [
        _text(intro),
        _columns(rows, spec + "|flag"),
        _image(p.forest_plot, (card.subgroups,), "Recall by subgroup", plots),
    ]


def _limitations(card: ReportCard, plots: bool) -> list[Block]:
    items = [str(x) for x in card.data.get("limitations") or ()]
    items.append("Intervals cover sampling variation only, not errors in the labels.")
    blocks = [Block("list", items=tuple(items))]
    if card.notes:
        blocks += [_text("Notes on this run", "subhead"), Block("list", items=tuple(card.notes))]
    return blocks


def _reproduction(card: ReportCard, plots: bool) -> list[Block]:
    blocks = []
    for key, title in (("command", "Command"), ("config", "Configuration")):
        if card.reproduction.get(key):
            blocks += [_text(title, "subhead"), Block("pre", text=fmt(card.reproduction[key]))]
    rest = _kv(card.reproduction, skip=("command", "config"))
    return [*blocks, _text("Seeds, versions and commit", "subhead"), rest]


_BUILDERS = (
    _data, _detector, _metrics, _comparisons, _operating, _robustness, _reliability,
    _subgroups, _calibration, _latency, _stages, _prevalence, _verdict, _plan, _limitations,
    _reproduction,
)  # fmt: skip


def sections(card: ReportCard, *, plots: bool) -> list[Section]:
    """Return the card's sections in page order; ``plots`` renders the PNGs (HTML only)."""
    return [
        Section(title, tuple(build(card, plots)))
        for title, build in zip(SECTION_TITLES, _BUILDERS, strict=True)
        if title != "Comparisons" or card.comparisons
    ]


def section_titles(card: ReportCard | None = None) -> tuple[str, ...]:
    """Return the section titles in page order ("Comparisons" only when the card has any)."""
    return tuple(t for t in SECTION_TITLES if t != "Comparisons" or (card and card.comparisons))
