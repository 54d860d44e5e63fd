"""Evaluate one detector on one corpus split: the function notebooks and the CLI both call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from datasets import Dataset

from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.policies import Policy, ThresholdPolicy
from benchmarks.provenance import software_versions
from benchmarks.results import TRACES_FILE, RunResult, describe_policy, score_traces
from benchmarks.runner import RunnerConfig, run
from benchmarks.shortcuts import shortcut_audit
from benchmarks.traces import ERRORS_FILE, Traces
from detectors import Detector
from detectors.usage import USAGE_DEFINITIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """A result and the traces it was computed from."""

    result: RunResult
    traces: Traces

    def save(self, folder: str | Path) -> Path:
        """Write ``results.json``, ``traces.parquet`` (and local error details) to ``folder``."""
        target = Path(folder)
        self.traces.save(target / TRACES_FILE)
        self.traces.save_error_details(target / ERRORS_FILE)
        self.result.save(target)
        return target


class ScoredElsewhere(Protocol):
    """What a scorer that ran elsewhere returns: the traces and what scoring them spent."""

    @property
    def traces(self) -> Traces: ...

    @property
    def usage(self) -> Mapping[str, float]: ...


class AllConversationsFailed(RuntimeError):
    """The detector failed on every conversation: no metric means anything."""


def leakage(
    detector: Detector, corpus: Corpus, split: str, training_ids: Collection[str] | None = None
) -> bool:
    """Return True when the detector was trained on data overlapping the scored split.

    Two checks: the training reference in the detector's metadata names this corpus and split;
    or, when the ids the model learned from are known, any of them is scored again.
    """
    if training_ids and corpus.unit_ids(split) & set(training_ids):
        return True
    scored = corpus.reference(split)
    prefix = scored.rsplit(":", 1)[0]
    for trained in detector.metadata.trained_on:
        same_corpus = trained.rsplit(":", 1)[0] == prefix
        trained_split = trained.rsplit(":", 1)[-1]
        if same_corpus and (trained_split == split or "all" in (trained_split, split)):
            return True
    return False


def evaluate_detector(
    detector: Detector,
    corpus: Corpus,
    *,
    split: str = "test",
    policy: Policy | None = None,
    policy_params: dict[str, Any] | None = None,
    runner: RunnerConfig | None = None,
    latency_p: float | None = None,
    output_dir: str | Path | None = None,
    allow_leakage: bool = False,
    detector_settings: dict[str, Any] | None = None,
    training_ids: Collection[str] | None = None,
    fresh: Callable[[], Detector] | None = None,
    train_split: str | None = "train",
    scorer: Callable[[Dataset], ScoredElsewhere] | None = None,
) -> Evaluation:
    """Stream ``corpus[split]`` through ``detector`` and compute every metric.

    Args:
        detector: any :class:`detectors.Detector`.
        corpus: a loaded corpus (e.g. ``benchmarks.corpora.synthetic.load_synthetic(...)``).
        split: the split to score; never the one the detector or its threshold was tuned on.
        policy: the alert policy (default: alert when the score reaches 0.5).
        policy_params: the policy's parameters, recorded with the result.
        runner: batching, checkpoint interval, causality sampling, progress bar.
        latency_p: the latency-weighted F1's p; None uses the median rule (DOMAIN §4).
        output_dir: when given, ``results.json`` and ``traces.parquet`` are written there
            (the traces as soon as scoring ends, so a later failure loses no detector work).
        allow_leakage: score a split the detector was trained on anyway (flagged LEAKAGE).
        detector_settings: the detector's configured arguments (secrets removed), recorded
            with the result so that two settings of one detector can be told apart.
        training_ids: conversation ids the detector learned from, when known; any overlap
            with the scored split counts as leakage.
        fresh: builds a second instance of the detector for the causality re-check (fast
            mode), so that nothing the first remembered can be replayed.
        train_split: the split the shortcut audit's memorizer learns from (see
            :mod:`benchmarks.shortcuts`); None skips that baseline.
        scorer: scores the split elsewhere and returns its traces in corpus order with what
            its workers spent (the Ray backend, :mod:`benchmarks.scaleout`); None streams it
            through ``detector`` here.

    Returns:
        The result and its traces.

    Raises:
        ValueError: the detector was trained on ``split`` and ``allow_leakage`` is False.
        AllConversationsFailed: the detector failed on every conversation (after saving).
    """
    policy = policy or ThresholdPolicy()
    runner = runner or RunnerConfig()
    leaked = leakage(detector, corpus, split, training_ids)
    if leaked and not allow_leakage:
        raise ConfigError(
            f"detector '{detector.metadata.name}' was trained on "
            f"{', '.join(detector.metadata.trained_on)}: scoring {corpus.reference(split)} "
            "would not be a fair test; choose another split (or allow_leakage=true to score it "
            "anyway, flagged LEAKAGE)"
        )
    data = corpus.split(split)
    if scorer is None:
        traces = run(detector, data, runner, fresh=fresh)
        usage = dict(detector.usage())
    else:
        elsewhere = scorer(data)
        traces, usage = elsewhere.traces, dict(elsewhere.usage)
    if output_dir is not None:
        traces.save(Path(output_dir) / TRACES_FILE)
    metrics, definitions = score_traces(traces, policy, latency_p)
    definitions |= {f"usage.{k}": v for k, v in USAGE_DEFINITIONS.items()}
    notes = list(corpus.info.limitations)
    if leaked:
        log.warning(
            "detector '%s' was trained on %s: its scores on %s are not a fair test",
            detector.metadata.name,
            ", ".join(detector.metadata.trained_on),
            corpus.reference(split),
        )
        notes.append("LEAKAGE: the detector was trained on the split it is scored on")
    result = RunResult(
        detector=asdict(detector.metadata) | {"settings": dict(detector_settings or {})},
        corpus={
            **asdict(corpus.info),
            "fingerprint": corpus.fingerprint,
            "split": split,
            "n_conversations": len(data),
            "shortcuts": shortcut_audit(corpus, split, train_split),
        },
        policy=describe_policy(policy, policy_params or _dataclass_params(policy)),
        runner=asdict(runner),
        metrics=metrics,
        definitions=definitions,
        metrics_config={"latency_p": latency_p},
        leakage=leaked,
        usage=usage,
        guarantees=guarantees_of(detector, traces),
        notes=tuple(notes),
        software=software_versions(),
    )
    evaluation = Evaluation(result=result, traces=traces)
    if output_dir is not None:
        evaluation.save(output_dir)
    if len(traces) and traces.n_errors == len(traces):
        where = Path(output_dir) / ERRORS_FILE if output_dir else "Traces.error_details"
        raise AllConversationsFailed(
            f"detector '{detector.metadata.name}' failed on all {len(traces)} conversations "
            f"({traces.column('error')[0]} first); no metric is meaningful. Messages: {where}"
        )
    return evaluation


def guarantees_of(detector: Detector, traces: Traces) -> dict[str, Any]:
    """Which guarantees held in this run (see :class:`benchmarks.results.RunResult`)."""
    isolation = str(getattr(detector, "isolation", "in-process"))
    causality = dict(traces.causality)
    flags = []
    if isolation == "UNSANDBOXED":
        flags.append("UNSANDBOXED")
    if causality and not causality.get("verified", True):
        flags.append("UNVERIFIED")
    return {
        "isolation": isolation,
        "trusted": bool(getattr(detector, "trusted", True)),
        "causality": causality,
        "flags": flags,
    }


def _dataclass_params(policy: Policy) -> dict[str, Any]:
    try:
        params = asdict(policy)  # type: ignore[call-overload]
    except TypeError:
        return {}
    params.pop("name", None)
    return dict(params)
