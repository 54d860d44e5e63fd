"""Audit mode inside a `groombench` job: the claim's checks and plan before the run, the audit
after it (intervals, verdict, projections, breakdowns, report card), written beside the result.

Called by :func:`benchmarks.app.run_job` with values from the job's plan; nothing here reads a
config.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.audit.assemble import Audit, audit_evaluation, claim_plan
from benchmarks.audit.claims.claim import Claim
from benchmarks.audit.settings import AuditSettings
from benchmarks.audit.stats.clusters import CLUSTERS_FILE as CLUSTERS_FILE
from benchmarks.audit.stats.clusters import conversation_clusters, write_clusters
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.evaluation import Evaluation, leakage
from benchmarks.policies import Policy
from benchmarks.provenance import git_sha, software_versions
from benchmarks.runner import RunnerConfig, run
from benchmarks.traces import Traces
from detectors import Detector

log = logging.getLogger(__name__)

REPORT_FOLDER = "report"


@dataclass(frozen=True)
class AuditInputs:
    """What the audit of one job needs besides the evaluation (from the job's plan).

    Attributes:
        settings: the audit settings.
        claim: the claim declared before the run, or None.
        split: the scored split.
        seed: the job's seed (recorded for reproduction).
        command: the command line as typed, secrets masked.
        config_text: the resolved config without secrets, as YAML.
    """

    settings: AuditSettings
    claim: Claim | None
    split: str
    seed: int
    command: str
    config_text: str


def plan_text(claim: Claim | None, settings: AuditSettings, split: str, corpus: Corpus) -> str:
    """What the scored split can and cannot settle about the claim (plan-only mode)."""
    if claim is None:
        raise ConfigError("audit.plan_only needs a claim: add claim=<name> (see docs/audit.md)")
    data = corpus.split(split)
    clusters = conversation_clusters(data, settings.cluster_by)
    labels = [int(y) for y in data["label"]]
    head = (
        f"corpus {corpus.reference(split)}: {sum(labels)} positive and "
        f"{len(labels) - sum(labels)} negative conversations in {clusters.n_clusters} "
        f"{clusters.by} clusters"
    )
    return f"{head}\n{claim_plan(claim, labels, clusters).render()}"


def _calibration_split(claim: Claim | None, settings: AuditSettings) -> str | None:
    if claim is not None and claim.calibrate is not None:
        return claim.calibrate.split
    return settings.calibration_split


def check_calibration(
    scored: str,
    settings: AuditSettings,
    claim: Claim | None,
    detector: Detector,
    corpus: Corpus,
    training_ids: set[str] | None,
) -> None:
    """Refuse a calibration split that would tune thresholds on reported or learned data.

    Run before the detector scores anything, so a bad choice never costs a (paid) run.
    """
    split = _calibration_split(claim, settings)
    if split is None:
        return
    if "all" in (split, scored) or split == scored:
        raise ConfigError(
            f"the calibration split is '{split}' and the scored split '{scored}': they must be "
            "two different, named splits (a threshold tuned on reported data overstates "
            "performance); calibrate on another split"
        )
    if corpus.unit_ids(split) & corpus.unit_ids(scored):
        raise ConfigError(
            f"splits '{split}' and '{scored}' share conversations: a threshold calibrated on "
            "one would be tuned on the other; calibrate on a disjoint split"
        )
    if leakage(detector, corpus, split, training_ids):
        raise ConfigError(
            f"detector '{detector.metadata.name}' was trained on {split}: a threshold calibrated "
            "on its own training data is too optimistic; choose another calibration split"
        )
    labels = corpus.split(split)["label"]
    if not any(int(y) == 0 for y in labels):
        raise ConfigError(
            f"calibration split '{split}' has no benign conversation: thresholds at a fixed FPR "
            "are set on negatives; choose a split that has them"
        )


def _calibration_traces(
    detector: Detector, corpus: Corpus, split: str, runner: RunnerConfig
) -> Traces:
    log.info("scoring calibration split %s", corpus.reference(split))
    return run(detector, corpus.split(split), runner)


def audit_job(
    inputs: AuditInputs,
    *,
    detector: Detector,
    corpus: Corpus,
    evaluation: Evaluation,
    policy: Policy,
    runner: RunnerConfig,
    output_dir: str | Path,
) -> tuple[Evaluation, Audit]:
    """Audit a finished evaluation; write the report card; return the result with its audit."""
    from benchmarks.audit.card.report import write_report
    from benchmarks.audit.stats.operating import threshold_at_fpr
    from benchmarks.audit.stats.subgroups import conversation_profile

    settings, claim = inputs.settings, inputs.claim
    data = corpus.split(inputs.split)
    clusters = conversation_clusters(data, settings.cluster_by)
    calibration_split = _calibration_split(claim, settings)
    calibration = (
        None
        if calibration_split is None
        else _calibration_traces(detector, corpus, calibration_split, runner)
    )
    threshold = None
    calibrated: dict[str, Any] = {}
    if claim is not None:
        if claim.calibrate is not None:
            assert calibration is not None
            negatives = calibration.outcomes(policy)
            scores = negatives.max_scores[negatives.labels == 0]
            found = threshold_at_fpr(scores, claim.calibrate.fpr)
            threshold = found.value
            # How the operating point was set travels with the verdict and the card.
            calibrated = asdict(found) | {
                "split": claim.calibrate.split,
                "n_errors": calibration.n_errors,
            }
        else:
            threshold = claim.threshold
    audit = audit_evaluation(
        result=evaluation.result,
        traces=evaluation.traces,
        clusters=clusters,
        profile=conversation_profile(data),
        policy=policy,
        settings=settings,
        claim=claim,
        claim_threshold=threshold,
        calibration=calibration,
        reproduction={
            "command": inputs.command,
            "config": inputs.config_text,
            "seeds": {"seed": inputs.seed, "bootstrap": settings.seed},
            "versions": software_versions(),
            "git_sha": git_sha(),
        },
    )
    folder = Path(output_dir)
    write_clusters(folder / CLUSTERS_FILE, evaluation.traces.column("conversation_id"), clusters)
    summary = audit.summary()
    if calibrated:
        summary["calibration"] = calibrated
        audit = replace(
            audit,
            card=replace(audit.card, detector=audit.card.detector | {"calibration": calibrated}),
        )
    if settings.report:
        write_report(audit.card, folder / REPORT_FOLDER)
    result = replace(evaluation.result, audit=summary)
    result.save(folder)
    if audit.verdict is not None:
        log.info(
            "claim %s: %s (%s)",
            claim.name if claim else "",
            audit.verdict.outcome,
            audit.verdict.reason,
        )
    return Evaluation(result=result, traces=evaluation.traces), audit


def audit_run(
    evaluation: Evaluation,
    corpus: Corpus,
    policy: Policy,
    output_dir: str | Path,
    *,
    settings: AuditSettings | None = None,
    claim: Claim | None = None,
    detector: Detector | None = None,
    runner: RunnerConfig | None = None,
) -> tuple[Evaluation, Audit]:
    """Audit an evaluation from Python (a notebook): intervals, verdict and report card.

    The same audit as ``groombench audit.enabled=true``: clustered bootstrap and exact
    intervals for every headline metric, breakdowns, projections at deployment prevalences,
    a verdict when a ``claim`` is given, and the report card written to
    ``<output_dir>/report/`` (with ``settings.report``).

    Args:
        evaluation: what :func:`benchmarks.evaluate_detector` returned.
        corpus: the corpus it scored (the split is read from the result).
        policy: the policy it used.
        output_dir: where the result, clusters and report card are written.
        settings: the audit's settings (defaults: 10,000 resamples, 95%, BCa).
        claim: a claim to judge, declared before the run.
        detector: needed only for a calibration split (a claim's ``calibrate``, or
            ``settings.calibration_split``), which it scores.
        runner: how a calibration split is scored (default settings).

    Returns:
        The evaluation with its audit summary, and the :class:`Audit` (``intervals`` by
        metric, ``verdict``, ``card``).
    """
    settings = settings or AuditSettings()
    needs_detector = _calibration_split(claim, settings) is not None
    if needs_detector and detector is None:
        raise ConfigError("a calibration split is scored: pass detector= to audit_run")
    inputs = AuditInputs(
        settings=settings,
        claim=claim,
        split=str(evaluation.result.corpus["split"]),
        seed=int(settings.seed),
        command="(Python API: benchmarks.audit_run)",
        config_text="",
    )
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    return audit_job(
        inputs,
        detector=detector,  # type: ignore[arg-type]  # only used when needs_detector
        corpus=corpus,
        evaluation=evaluation,
        policy=policy,
        runner=runner or RunnerConfig(),
        output_dir=output_dir,
    )
