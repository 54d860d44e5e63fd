"""Training a detector: fit on a split, save atomically, log the run to MLflow, register it.

``groombench-train`` (:func:`train_job`) and ``groombench`` training a missing model on the way
(:func:`benchmarks.app.prepare_detector`) both go through :func:`train_detector`, so a model is
always saved with the ids of the conversations it learned from, and logged the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.progress import step
from benchmarks.runner import to_messages
from benchmarks.schema import ONSET_STAGES
from benchmarks.staging import prefix as staging_prefix
from detectors import Detector, Message, TrainableDetector

if TYPE_CHECKING:
    from benchmarks.jobplan import Component, JobPlan
    from benchmarks.model_registry import TrainingRecord

log = logging.getLogger(__name__)

#: Written beside every trained model: the ids (never the text) of its training conversations.
TRAINING_IDS_FILE = "training_ids.txt"


@dataclass(frozen=True)
class TrainingOutcome:
    """What :func:`train_detector` did.

    Attributes:
        seconds: wall time of ``fit`` and ``save``.
        saved: False when a parallel job saved the same model first (this one was discarded).
    """

    seconds: float
    saved: bool


def message_labels(
    conversations: Sequence[Sequence[Mapping[str, Any]]], labels: Sequence[int]
) -> list[list[bool] | None] | None:
    """Per conversation, one flag per message: does it show a grooming stage? None: unknown.

    A message counts when its stages include any of :data:`ONSET_STAGES` (rapport alone does
    not). Non-grooming conversations get all False. A grooming conversation with no stage
    label on any message (not even rapport) was not annotated: None. A split without any
    stage label gives None for the whole split.

    Examples:
        >>> convs = [[{"stages": ["rapport"]}, {"stages": ["secrecy"]}], [{"stages": []}]]
        >>> message_labels(convs, [1, 0])
        [[False, True], [False]]
        >>> message_labels([[{"stages": []}], [{"stages": ["gifts"]}]], [1, 1])
        [None, [True]]
        >>> message_labels([[{"stages": []}]], [1]) is None
        True
    """
    if not any(m.get("stages") for c in conversations for m in c):
        return None
    return [
        _flags(conversation, label)
        for conversation, label in zip(conversations, labels, strict=True)
    ]


def _flags(conversation: Sequence[Mapping[str, Any]], label: int) -> list[bool] | None:
    """One conversation's flags (see :func:`message_labels`)."""
    if label and not any(m.get("stages") for m in conversation):
        return None
    return [
        bool(label) and bool(ONSET_STAGES.intersection(m.get("stages") or ())) for m in conversation
    ]


def train_detector(
    detector: TrainableDetector, corpus: Corpus, split: str, target: Path
) -> TrainingOutcome:
    """Fit ``detector`` on ``corpus[split]`` and save it to ``target`` atomically.

    Stage labels, where the split has them, reach ``fit`` as ``message_labels`` (see
    :func:`message_labels`); the messages the detector sees never carry them.
    """
    data = corpus.split(split)
    log.info(
        "training %s on %s (%d conversations)",
        detector.metadata.name,
        corpus.reference(split),
        len(data),
    )
    labels = [int(y) for y in data["label"]]
    if len(set(labels)) < 2:
        raise ConfigError(
            f"cannot train {detector.metadata.name}: split '{split}' of corpus "
            f"'{corpus.info.name}' holds only label {labels[0] if labels else '(none)'}; a "
            "training split needs grooming and non-grooming conversations (set train_split)"
        )
    # One batch of the split's rows at a time: the whole split as Python dicts (text, author,
    # time, index and stages of every message) would double the training's peak memory.
    conversations: list[tuple[Message, ...]] = []
    per_conversation: list[list[bool] | None] = []
    staged = False
    for batch in data.select_columns(["messages", "label"]).iter(batch_size=2048):
        for messages, label in zip(batch["messages"], batch["label"], strict=True):
            conversations.append(to_messages(messages))
            per_conversation.append(_flags(messages, int(label)))
            staged = staged or any(m.get("stages") for m in messages)
    # The same flags as message_labels() over the whole split: None when nothing is staged.
    flags = per_conversation if staged else None
    started = time.perf_counter()
    detector.fit(conversations, labels, trained_on=corpus.reference(split), message_labels=flags)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a parallel job never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(target.name), dir=target.parent))
    detector.save(str(staging))
    seconds = time.perf_counter() - started
    # Ids only (no text): lets any later evaluation detect overlap with the training data,
    # however the corpus is loaded (other splits option, segments or complete chats).
    ids = sorted(corpus.unit_ids(split))
    (staging / TRAINING_IDS_FILE).write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another job won the race; its model is equivalent (same data, same seed)
        log.info("model %s appeared meanwhile; keeping it", target)
        shutil.rmtree(staging, ignore_errors=True)
        return TrainingOutcome(seconds=seconds, saved=False)
    return TrainingOutcome(seconds=seconds, saved=True)


def detector_settings_digest(component: Component, version: str, ignore: Sequence[str] = ()) -> str:
    """A short hash of the detector's class, code version and training settings.

    Its name, model path and ``ignore`` (the detector's ``inference_settings``: device, batch
    size...) are left out: they do not change what a model learns.
    """
    settings = component.arguments(drop=("model_path", "name", *ignore))
    payload = [component.target, version, settings]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def default_model_path(plan: JobPlan, detector: Detector, corpus: Corpus) -> Path:
    """Where a trainable detector's model lives when ``detector.model_path`` is null.

    The folder names the training data and a hash of the training settings, so a model trained
    with other hyperparameters (or on other data) is never silently reused.
    """
    reference = corpus.reference(plan.train_split)
    ignore = getattr(detector, "inference_settings", ())
    digest = detector_settings_digest(plan.detector, detector.metadata.version, ignore)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", reference)
    return plan.paths.models / detector.metadata.name / f"{safe}-{digest}"


def track_training(
    plan: JobPlan,
    detector: TrainableDetector,
    corpus: Corpus,
    target: Path,
    outcome: TrainingOutcome,
    *,
    log_model: bool,
) -> TrainingRecord:
    """Log a training to MLflow; with ``log_model``, log and register the saved model too.

    ``log_model`` comes from :func:`log_models_setting` (``tracking.log_models``), checked
    before training so that a typo costs no training.
    """
    from benchmarks.model_registry import log_training, registered_name
    from benchmarks.provenance import software_versions

    assert plan.tracking.uri is not None, "track_training needs tracking enabled"
    public = plan.public_config()
    params = {
        "detector": public.get("detector"),
        "corpus": public.get("corpus"),
        "train_split": plan.train_split,
        "seed": public.get("seed"),
    }
    return log_training(
        uri=plan.tracking.uri,
        experiment=plan.tracking.train_experiment,
        register_as=registered_name(plan.tracking.register_as, detector.metadata.name),
        params=params,
        detector=detector,
        corpus_tags={
            "groombench.corpus": corpus.info.name,
            "groombench.corpus_sha256": corpus.fingerprint,
            "groombench.split": plan.train_split,
            "groombench.model_path": str(target),
        },
        model_dir=target,
        seconds=outcome.seconds,
        software=software_versions(),
        log_model=log_model,
    )


def log_models_setting(mode: str, detector: TrainableDetector) -> bool:
    """Whether this training's model goes to MLflow (``tracking.log_models``).

    :func:`benchmarks.model_registry.logs_model` decides, from the setting and whether the
    detector's saved folder holds corpus text.
    """
    from benchmarks.model_registry import logs_model

    holds_text = bool(getattr(detector, "model_holds_corpus_text", True))
    return logs_model(mode, holds_text=holds_text)


def kept_local_note(detector: TrainableDetector) -> str:
    """Why a trained model was not uploaded, and how to upload it."""
    return (
        f"{detector.metadata.name}'s model folder holds corpus text, so it stays local and is "
        "not registered; add tracking.log_models=always to upload and register it"
    )


def train_job(plan: JobPlan) -> list[str]:
    """``groombench-train``: fit, save, log and register the configured detector.

    Returns:
        Lines for the user: where the model went, and its MLflow run and registered version.
    """
    from benchmarks.components import build, load_corpus
    from benchmarks.model_registry import is_registry_uri

    explicit = plan.detector.get("model_path")
    if is_registry_uri(explicit):
        raise ConfigError(
            f"detector.model_path={explicit} names a registered model; groombench-train trains "
            "a new one and registers it as the next version (tracking.register_as): drop "
            "detector.model_path, or set it to a local folder"
        )
    # A test suite (GroomCheck) names the corpus its detectors learn from: train on that.
    source = plan.train_corpus or plan.corpus
    with step(f"loading corpus {source.get('name') or source.target}"):
        corpus = load_corpus(source)
    detector = build(plan.detector)
    if not isinstance(detector, TrainableDetector):
        raise ConfigError(
            f"detector '{detector.metadata.name}' is not trainable; choose a detector that "
            "subclasses TrainableDetector (e.g. detector=tfidf_lr)"
        )
    target = Path(str(explicit)) if explicit else default_model_path(plan, detector, corpus)
    if (target / "metadata.json").exists():
        raise ConfigError(f"{target} already holds a model; remove it or set detector.model_path")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"detector.model_path {target} exists and is not empty; give a new folder to "
            "train into (an existing model folder is never overwritten)"
        )
    upload = log_models_setting(plan.tracking.log_models, detector)
    with step(f"training {detector.metadata.name} on {corpus.reference(plan.train_split)}"):
        outcome = train_detector(detector, corpus, plan.train_split, target)
    verb = "saved" if outcome.saved else "kept the equivalent model a parallel job saved;"
    lines = [
        f"{verb} {detector.metadata.name} trained on {corpus.reference(plan.train_split)}"
        f" to {target} ({outcome.seconds:.1f} s)"
    ]
    if plan.tracking.enabled and outcome.saved:
        with step("logging the training run to MLflow"):
            record = track_training(plan, detector, corpus, target, outcome, log_model=upload)
        lines.append(f"logged MLflow run {record.run_id} (experiment '{record.experiment}')")
        if record.model_uri:
            lines.append(f"registered {record.model_uri}")
        elif not upload and plan.tracking.log_models == "auto":
            lines.append(kept_local_note(detector))
    return lines
