"""Run a detector over a split's perturbed and extended copies; say what failed.

Two parts, both after the clean run, on the same detector and runner (so the same causality
mode and the same policy):

- **robustness** (``perturb=spelling|all``, any corpus): each family's copy is scored; the
  decisions are paired with the clean ones: flip rates on positives and negatives (Wilson
  intervals), exact McNemar tests of clean vs perturbed decisions, and the change in recall,
  FPR and median time to detection with paired cluster-bootstrap intervals.
- **GroomCheck** (``corpus=groomcheck``): the failure rate of every functional test (MFT), the
  invariance tests (INV: the perturbation families; every family unless ``perturb`` names
  some), and the directional tests (DIR: an appended off-platform request or age disclosure
  must not lower the risk score by more than :data:`DIR_TOLERANCE`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset

from benchmarks.audit.stats.bootstrap import BootstrapSettings, paired_bootstrap
from benchmarks.audit.stats.clusters import conversation_clusters
from benchmarks.metrics.outcomes import Outcomes
from benchmarks.perturbations import FAMILIES
from benchmarks.policies import Policy
from benchmarks.progress import step
from benchmarks.robustness.scores import (
    DEFINITIONS,
    directional,
    flips,
    functional_test,
    mcnemar,
)
from benchmarks.robustness.settings import PerturbSettings
from benchmarks.robustness.variants import DIR_MESSAGES, extended_split, meta_of, perturbed_split
from benchmarks.runner import RunnerConfig, run
from benchmarks.traces import Traces
from detectors import Detector

#: A DIR case fails when its score falls by more than this after the appended message.
DIR_TOLERANCE = 0.05
#: The source field of GroomCheck's cases.
GROOMCHECK_SOURCE = "groomcheck"
_DELTAS = ("recall", "fpr", "ttd_median")


@dataclass(frozen=True)
class Robustness:
    """What the robustness and GroomCheck runs found.

    Attributes:
        summary: the ``robustness`` section of ``results.json`` (settings, every family's and
            every test's counts, intervals and tests).
        metrics: flat numbers for MLflow and the leaderboard (``robustness.*``,
            ``groomcheck.*``).
    """

    summary: dict[str, Any]
    metrics: dict[str, float | None]


def is_groomcheck(data: Dataset) -> bool:
    """True when every conversation of the split is a GroomCheck case."""
    if not len(data):
        return False
    # Through Arrow: Dataset.unique flattens a split's index mapping first, copying every
    # message (21 s for PAN12's test split).
    column = data.select_columns(["source"]).with_format("arrow")[:].column("source")
    return set(pc.unique(column).to_pylist()) == {GROOMCHECK_SOURCE}


def decisions(traces: Traces, policy: Policy) -> list[int | None]:
    """Per conversation: 1 when the policy alerts at any point, 0 when not, None on error."""
    out: list[int | None] = []
    for error, points, scores in zip(
        traces.column("error"), traces.column("checkpoints"), traces.column("scores"), strict=True
    ):
        if error is not None:
            out.append(None)
        else:
            out.append(int(bool(points and policy.first_alert(scores, points))))
    return out


def last_scores(traces: Traces) -> list[float | None]:
    """Per conversation: the score after its last message (None on error)."""
    return [
        None if error is not None or not scores else float(scores[-1])
        for error, scores in zip(traces.column("error"), traces.column("scores"), strict=True)
    ]


def measure(
    detector: Detector,
    data: Dataset,
    clean: Traces,
    policy: Policy,
    runner: RunnerConfig,
    settings: PerturbSettings,
    *,
    fresh: Callable[[], Detector] | None = None,
    cluster_by: str = "auto",
) -> Robustness | None:
    """Score the split's copies and compare them with the clean traces; None when nothing to do.

    Args:
        detector: the detector of the clean run.
        data: the scored split, in the clean run's order.
        clean: the clean run's traces.
        policy: the run's alert policy (decisions are alerts under it).
        runner: the clean run's runner settings (same causality mode, batch size, window).
        settings: the ``perturb`` section.
        fresh: builds a second detector instance for fast-mode causality re-checks.
        cluster_by: how conversations form clusters for the paired bootstrap.
    """
    groomcheck = is_groomcheck(data)
    families = settings.families or (tuple(FAMILIES) if groomcheck else ())
    if not families and not groomcheck:
        return None
    _check_order(data, clean)
    labels = [int(x) for x in data["label"]]
    base = decisions(clean, policy)
    clusters = conversation_clusters(data, cluster_by).ids
    summary: dict[str, Any] = {
        "settings": dataclasses.asdict(settings) | {"families": list(families)},
        "policy": policy.describe(),
        "families": {},
    }
    metrics: dict[str, float | None] = {}
    family_flips: dict[str, dict[str, Any]] = {}
    for family in families:
        with step(f"robustness: {family}"):
            copy, changed = perturbed_split(
                data, family, mode=settings.authors, rate=settings.rate, seed=settings.seed
            )
            traces = rescore_changed(detector, copy, changed, clean, runner, fresh)
        other = decisions(traces, policy)
        entry = _family(base, other, labels, changed, clean, traces, policy, clusters, settings)
        summary["families"][family] = entry
        family_flips[family] = flips(base, other, changed, settings.level)
        metrics |= {
            f"robustness.{family}.flip_rate_pos": entry["positives"]["failure_rate"],
            f"robustness.{family}.flip_rate_neg": entry["negatives"]["failure_rate"],
            f"robustness.{family}.mcnemar_p_pos": entry["mcnemar_positives"]["p_value"],
            f"robustness.{family}.mcnemar_p_neg": entry["mcnemar_negatives"]["p_value"],
        } | {
            f"robustness.{family}.delta_{name}": entry["deltas"][name]["estimate"]
            for name in _DELTAS
        }
    rates = [f["failure_rate"] for f in family_flips.values() if f["failure_rate"] is not None]
    metrics["robustness.mean_flip_rate"] = float(np.mean(rates)) if rates else None
    if groomcheck:
        report = _groomcheck(detector, data, clean, base, family_flips, runner, fresh, settings)
        summary["groomcheck"] = report
        metrics |= _groomcheck_metrics(report)
    return Robustness(summary=summary, metrics=metrics)


#: The public name (``from benchmarks import measure_robustness``).
measure_robustness = measure


def definitions() -> dict[str, str]:
    """How every robustness and GroomCheck number is computed."""
    return dict(DEFINITIONS)


def rescore_changed(
    detector: Detector,
    copy: Dataset,
    changed: list[bool],
    clean: Traces,
    runner: RunnerConfig,
    fresh: Callable[[], Detector] | None,
) -> Traces:
    """The perturbed split's traces: only the conversations the family changed are scored.

    A conversation whose text did not change is the clean one: its clean trace stands (it is
    counted as filtered, never as a pass), and scoring it again would only cost time (or, for a
    paid detector, money).
    """
    positions = [i for i, c in enumerate(changed) if c]
    if not positions:
        return Traces(clean.table, clean.error_details, {})
    scored = run(detector, copy.select(positions), runner, fresh=fresh)
    index = list(range(len(clean)))
    for k, i in enumerate(positions):
        index[i] = len(clean) + k
    table = pa.concat_tables([clean.table, scored.table]).take(pa.array(index, type=pa.int64()))
    redone = {str(i) for i in scored.column("conversation_id")}
    order = {cid: n for n, cid in enumerate(clean.column("conversation_id"))}
    details = sorted(
        [d for d in clean.error_details if d[0] not in redone] + list(scored.error_details),
        key=lambda d: order.get(d[0], -1),
    )
    return Traces(table.combine_chunks(), tuple(details), scored.causality)


def _check_order(data: Dataset, traces: Traces) -> None:
    if list(data["conversation_id"]) != traces.column("conversation_id"):
        raise ValueError("the clean traces are not in the split's order; cannot pair them")


def _family(
    base: list[int | None],
    other: list[int | None],
    labels: list[int],
    changed: list[bool],
    clean: Traces,
    traces: Traces,
    policy: Policy,
    clusters: tuple[str, ...],
    settings: PerturbSettings,
) -> dict[str, Any]:
    positive = [bool(y) for y in labels]
    negative = [not p for p in positive]

    def subset(keep: list[bool]) -> dict[str, Any]:
        pick = [i for i, k in enumerate(keep) if k]
        return flips(
            [base[i] for i in pick],
            [other[i] for i in pick],
            [changed[i] for i in pick],
            settings.level,
        )

    return {
        "n_changed": sum(changed),
        "n_unchanged": len(changed) - sum(changed),
        "positives": subset(positive),
        "negatives": subset(negative),
        "mcnemar_positives": mcnemar(base, other, positive),
        "mcnemar_negatives": mcnemar(base, other, negative),
        "deltas": _deltas(clean, traces, policy, clusters, settings),
    }


def _deltas(
    clean: Traces,
    perturbed: Traces,
    policy: Policy,
    clusters: tuple[str, ...],
    settings: PerturbSettings,
) -> dict[str, dict[str, Any]]:
    """Perturbed minus clean recall, FPR and median time to detection, paired by cluster."""
    ok_clean = [e is None for e in clean.column("error")]
    ok_other = [e is None for e in perturbed.column("error")]
    both = [a and b for a, b in zip(ok_clean, ok_other, strict=True)]
    a = _rows(perturbed.outcomes(policy), ok_other, both)
    b = _rows(clean.outcomes(policy), ok_clean, both)
    groups = np.asarray([c for c, keep in zip(clusters, both, strict=True) if keep], dtype=str)
    a, b = dataclasses.replace(a, groups=groups), dataclasses.replace(b, groups=groups)
    boot = BootstrapSettings(
        n_resamples=settings.n_resamples, level=settings.level, seed=settings.seed
    )
    intervals = paired_bootstrap(a, b, metrics=_DELTAS, settings=boot)
    return {
        name: {
            "estimate": ci.estimate,
            "low": ci.low,
            "high": ci.high,
            "method": f"paired cluster bootstrap ({ci.method})",
            "n_conversations": int(sum(both)),
        }
        for name, ci in intervals.items()
    }


def _rows(outcomes: Outcomes, ok: list[bool], both: list[bool]) -> Outcomes:
    """The rows of ``outcomes`` (one per ``ok`` conversation) that are ok in both runs."""
    kept = [keep for keep, fine in zip(both, ok, strict=True) if fine]
    return outcomes.take([i for i, keep in enumerate(kept) if keep])


def _groomcheck(
    detector: Detector,
    data: Dataset,
    clean: Traces,
    base: list[int | None],
    family_flips: Mapping[str, dict[str, Any]],
    runner: RunnerConfig,
    fresh: Callable[[], Detector] | None,
    settings: PerturbSettings,
) -> dict[str, Any]:
    metas = [meta_of({"meta": m}) for m in data["meta"]]
    tests: dict[str, dict[str, Any]] = {}
    for name in sorted({str(m.get("test")) for m in metas}):
        rows = [i for i, m in enumerate(metas) if m.get("test") == name]
        expected = int(metas[rows[0]].get("expected", 0))
        entry = functional_test([base[i] for i in rows], expected, settings.level)
        tests[name] = entry | {"capability": metas[rows[0]].get("capability", "")}
    before = last_scores(clean)
    dir_tests: dict[str, dict[str, Any]] = {}
    for name in DIR_MESSAGES:
        with step(f"GroomCheck: {name}"):
            traces = run(detector, extended_split(data, name), runner, fresh=fresh)
        dir_tests[name] = directional(before, last_scores(traces), DIR_TOLERANCE, settings.level)
    rated = {k: v["failure_rate"] for k, v in tests.items() if v["failure_rate"] is not None}
    return {
        "version": str(metas[0].get("groomcheck", "")) if metas else "",
        "worst_test": max(sorted(rated), key=lambda k: rated[k]) if rated else None,
        "dir_tolerance": DIR_TOLERANCE,
        "n_cases": len(data),
        "functional": tests,
        "invariance": dict(family_flips),
        "directional": dir_tests,
    }


def _groomcheck_metrics(report: Mapping[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {"groomcheck.n_cases": float(report["n_cases"])}
    rates: list[float] = []
    for name, entry in report["functional"].items():
        out[f"groomcheck.{name}.failure_rate"] = entry["failure_rate"]
        if entry["failure_rate"] is not None:
            rates.append(entry["failure_rate"])
    out["groomcheck.worst_failure_rate"] = max(rates) if rates else None
    out["groomcheck.mean_failure_rate"] = float(np.mean(rates)) if rates else None
    for family, entry in report["invariance"].items():
        out[f"groomcheck.inv.{family}.failure_rate"] = entry["failure_rate"]
    for name, entry in report["directional"].items():
        out[f"groomcheck.dir.{name}.failure_rate"] = entry["failure_rate"]
    return out
