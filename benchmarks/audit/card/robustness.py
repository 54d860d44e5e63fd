"""The report card's robustness and reliability sections, and the declared criteria's verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.audit.card.blocks import Block, _columns, _kv, _text, fmt
from benchmarks.audit.card.model import ReportCard

_ROBUSTNESS_INTRO = (
    "Invariance: each perturbation family is applied alone to the chosen authors' messages and "
    "the run is scored again; a flip is a conversation whose decision (any alert under the "
    "run's policy) changed. Conversations the perturbation did not change cannot fail and are "
    "counted apart (filtered), never as passes; conversations the detector failed on are "
    "counted apart as errors. Flip rates carry Wilson 95% intervals; the exact McNemar test "
    "compares clean and perturbed decisions; the changes in recall, FPR and median messages "
    "to detection carry paired cluster-bootstrap intervals."
)
_GROOMCHECK_INTRO = (
    "GroomCheck functional tests (docs/groomcheck.md): each test is a set of short "
    "conversations with one right answer; grooming tests are paired case by case with benign "
    "contrast tests that share their surface. Failure rate = share of a test's cases decided "
    "wrongly, with its Wilson 95% interval. A failure shows a specific weakness; a pass shows "
    "only that these templates were handled."
)


def _ends(entry: Mapping[str, Any]) -> tuple[Any, Any]:
    ends = [*(entry.get("interval") or ()), None, None]
    return ends[0], ends[1]


def _rate(entry: Mapping[str, Any]) -> dict[str, Any]:
    low, high = _ends(entry)
    return dict(entry) | {"low": low, "high": high}


def _robustness(card: ReportCard, plots: bool) -> list[Block]:
    found = card.robustness
    if not found:
        return [
            _text(
                "No robustness run: add perturb=spelling (or perturb=all) to re-score this "
                "split with spelling perturbations, and score corpus=groomcheck for the "
                "functional tests."
            )
        ]
    blocks = [_text(_ROBUSTNESS_INTRO), _kv(found.get("settings"))]
    rows = []
    for family, entry in (found.get("families") or {}).items():
        deltas = entry.get("deltas") or {}
        rows.append(
            {
                "family": family,
                "changed": entry.get("n_changed"),
                "pos": _rate_flat(entry.get("positives") or {}),
                "neg": _rate_flat(entry.get("negatives") or {}),
                "p_pos": (entry.get("mcnemar_positives") or {}).get("p_value"),
                "p_neg": (entry.get("mcnemar_negatives") or {}).get("p_value"),
                **{name: deltas.get(name) or {} for name in ("recall", "fpr", "ttd_median")},
            }
        )
    if rows:
        spec = "family|changed|flip rate, positives=pos.rate|interval=pos.low..pos.high|"
        spec += "flip rate, negatives=neg.rate|interval=neg.low..neg.high|"
        spec += "McNemar p, positives=p_pos|McNemar p, negatives=p_neg|"
        spec += "Δ recall=recall.estimate|interval=recall.low..recall.high|"
        spec += "Δ FPR=fpr.estimate|interval=fpr.low..fpr.high|"
        spec += "Δ median messages to detection=ttd_median.estimate|"
        spec += "interval=ttd_median.low..ttd_median.high"
        blocks += [_text("Perturbation families", "subhead"), _columns(rows, spec)]
    report = found.get("groomcheck")
    if report:
        functional = [_rate(v) | {"test": k} for k, v in (report.get("functional") or {}).items()]
        spec = "test|capability|expected label=expected|cases=n|errors=n_errors|failures|"
        spec += "failure rate=failure_rate|interval=low..high"
        inv = [_rate(v) | {"test": k} for k, v in (report.get("invariance") or {}).items()]
        dirs = [_rate(v) | {"test": k} for k, v in (report.get("directional") or {}).items()]
        spec_inv = "test|cases=n|filtered=n_filtered|errors=n_errors|failures|"
        spec_inv += "failure rate=failure_rate|interval=low..high"
        blocks += [
            _text(f"GroomCheck v{report.get('version', '')}", "subhead"),
            _text(_GROOMCHECK_INTRO),
            _kv(
                {
                    "cases": report.get("n_cases"),
                    "worst functional test": report.get("worst_test"),
                    "DIR tolerance": report.get("dir_tolerance"),
                }
            ),
            _columns(functional, spec),
            _text("Invariance (INV): the decision must not change under a perturbation"),
            _columns(inv, spec_inv),
            _text(
                "Directional (DIR): appending an off-platform request by the person the case is "
                "about, or an age disclosure by the other person, must not lower the final "
                "score by more than the tolerance"
            ),
            _columns(dirs, spec_inv.replace("filtered=n_filtered|", "")),
        ]
    return [*blocks, *_criteria(card, "robustness")]


def _rate_flat(entry: Mapping[str, Any]) -> dict[str, Any]:
    low, high = _ends(entry)
    return {"rate": entry.get("failure_rate"), "low": low, "high": high}


def _reliability(card: ReportCard, plots: bool) -> list[Block]:
    found = card.reliability
    if not found:
        return [_text("No reliability check ran (audit.reliability_sample=0).")]
    if found.get("checked"):
        same = "the same" if found.get("same") else "DIFFERENT"
        head = (
            f"{fmt(found.get('sample'))} conversations (a seeded sample) were scored again in a "
            f"second process at batch size {fmt(found.get('batch_size_recheck'))} (this run: "
            f"{fmt(found.get('batch_size_run'))}): scores {same} within "
            f"{fmt(found.get('tolerance'))} (largest difference {fmt(found.get('max_abs_diff'))})."
        )
    else:
        head = f"The second-process re-score did not run: {found.get('reason')}."
    blocks = [
        _text(head, "text" if found.get("same") else "warn"),
        _kv(found, skip=("seeds", "hashes", "mismatched_ids")),
        _text("Seeds", "subhead"),
        _kv(found.get("seeds")),
        _text("Content hashes", "subhead"),
        _kv(found.get("hashes")),
        _text(
            "The corpus fingerprint hashes the corpus's inputs and loader version; the "
            "predictions hash covers every conversation's id, checkpoints, scores and error "
            "(not timings); the config hash covers the settings, the run root written as "
            "<root>; the report files' own sha256 sums are in report/SHA256SUMS "
            "(`sha256sum -c SHA256SUMS`)."
        ),
    ]
    return [*blocks, *_criteria(card, "reliability")]


def _criteria(card: ReportCard, kind: str) -> list[Block]:
    """Pass/fail of the claim's declared criteria of one kind (only what the user declared)."""
    rows = [c for c in card.criteria if c.get("kind") == kind]
    if not rows:
        return [_text(f"No {kind} criterion was declared in the claim: evidence only, no verdict.")]
    spec = "criterion=metric|rule|threshold|measured=value|evidence|verdict=outcome"
    return [_text(f"Declared {kind} criteria", "subhead"), _columns(rows, spec)]
