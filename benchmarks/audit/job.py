"""Audit mode inside a `groombench` job: the claim's checks and plan before the run, the audit
after it (intervals, verdict, projections, breakdowns, report card), written beside the result.

Called by :func:`benchmarks.app.run_job`; everything here takes the composed config.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from benchmarks.audit.assemble import Audit, AuditSettings, audit_evaluation, claim_plan
from benchmarks.audit.claims.claim import Claim, load_claim, validate_split, validate_unit
from benchmarks.audit.stats.clusters import Clusters, conversation_clusters
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.evaluation import Evaluation, leakage
from benchmarks.policies import Policy
from benchmarks.provenance import git_sha, software_versions
from benchmarks.runner import RunnerConfig, run
from benchmarks.secrets import REDACTED, SECRET_KEY, redact, secret_values
from benchmarks.traces import Traces
from detectors import Detector

log = logging.getLogger(__name__)

CLUSTERS_FILE = "clusters.parquet"
REPORT_FOLDER = "report"
#: Units a claim can be audited at today. Author- and message-level claims need per-author and
#: per-message decisions that the audit does not derive yet: they are refused with the reason.
AUDITABLE_UNITS = frozenset({"conversation"})


def settings_of(cfg: DictConfig) -> AuditSettings:
    """The audit settings of a composed config (defaults when it has no ``audit`` node)."""
    node = cfg.get("audit")
    data = OmegaConf.to_container(node, resolve=True) if node is not None else {}
    assert isinstance(data, dict)
    try:
        return AuditSettings.from_config({str(k): v for k, v in data.items()}, seed=int(cfg.seed))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"audit: {error}") from None


def claim_of(cfg: DictConfig) -> Claim | None:
    """The claim declared in the config (``claim=<name>``), validated, or None."""
    node = cfg.get("claim")
    if node is None:
        return None
    data = OmegaConf.to_container(node, resolve=True)
    assert data is None or isinstance(data, dict)
    claim = load_claim({str(k): v for k, v in (data or {}).items()})
    if claim is None:
        return None
    if claim.unit not in AUDITABLE_UNITS:
        validate_unit(claim, AUDITABLE_UNITS)
    validate_split(claim, str(cfg.split))
    return claim


def plan_text(cfg: DictConfig, corpus: Corpus) -> str:
    """What the scored split can and cannot settle about the claim (plan-only mode)."""
    claim = claim_of(cfg)
    if claim is None:
        raise ConfigError("audit.plan_only needs a claim: add claim=<name> (see docs/audit.md)")
    data = corpus.split(str(cfg.split))
    clusters = conversation_clusters(data, settings_of(cfg).cluster_by)
    labels = [int(y) for y in data["label"]]
    head = (
        f"corpus {corpus.reference(str(cfg.split))}: {sum(labels)} positive and "
        f"{len(labels) - sum(labels)} negative conversations in {clusters.n_clusters} "
        f"{clusters.by} clusters"
    )
    return f"{head}\n{claim_plan(claim, labels, clusters).render()}"


def _calibration_split(cfg: DictConfig, claim: Claim | None, settings: AuditSettings) -> str | None:
    if claim is not None and claim.calibrate is not None:
        return claim.calibrate.split
    return settings.calibration_split


def check_calibration(
    cfg: DictConfig, detector: Detector, corpus: Corpus, training_ids: set[str] | None
) -> None:
    """Refuse a calibration split that would tune thresholds on reported or learned data.

    Run before the detector scores anything, so a bad choice never costs a (paid) run.
    """
    split = _calibration_split(cfg, claim_of(cfg), settings_of(cfg))
    if split is None:
        return
    scored = str(cfg.split)
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


def public_command(argv: list[str]) -> str:
    """The command line as typed, with secret-named overrides and secret values masked.

    Examples:
        >>> public_command(["groombench", "detector=http", "+detector.api_key=sk-123456"])
        'groombench detector=http +detector.api_key=***'
    """
    values = secret_values()
    out = []
    for arg in argv:
        key, sep, _ = arg.partition("=")
        name = key.lstrip("+~").rsplit(".", 1)[-1]
        out.append(f"{key}={REDACTED}" if sep and SECRET_KEY.search(name) else redact(arg, values))
    return " ".join(out)


def audit_job(
    cfg: DictConfig,
    *,
    detector: Detector,
    corpus: Corpus,
    evaluation: Evaluation,
    policy: Policy,
    runner: RunnerConfig,
    output_dir: str | Path,
    config_text: str,
) -> tuple[Evaluation, Audit]:
    """Audit a finished evaluation; write the report card; return the result with its audit."""
    from benchmarks.audit.card.report import write_report
    from benchmarks.audit.stats.operating import threshold_at_fpr
    from benchmarks.audit.stats.subgroups import conversation_profile

    settings = settings_of(cfg)
    claim = claim_of(cfg)
    data = corpus.split(str(cfg.split))
    clusters = conversation_clusters(data, settings.cluster_by)
    calibration_split = _calibration_split(cfg, claim, settings)
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
            "command": public_command(["groombench", *sys.argv[1:]]),
            "config": config_text,
            "seeds": {"seed": int(cfg.seed), "bootstrap": settings.seed},
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


def write_clusters(path: Path, conversation_ids: list[Any], clusters: Clusters) -> None:
    """Write each conversation's cluster id (ids only, no text), for later comparisons."""
    table = pa.table(
        {"conversation_id": [str(i) for i in conversation_ids], "cluster": list(clusters.ids)},
        metadata={"cluster_by": clusters.by},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def read_clusters(path: Path) -> tuple[dict[str, str], str] | None:
    """Read :func:`write_clusters`' file: conversation id → cluster id, and what a cluster is."""
    if not path.exists():
        return None
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    by = meta.get(b"cluster_by", b"conversation").decode()
    ids = table.column("conversation_id").to_pylist()
    return dict(zip(ids, table.column("cluster").to_pylist(), strict=True)), by
