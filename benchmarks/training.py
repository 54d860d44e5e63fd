"""Training a detector: fit on a split, save atomically, log the run to MLflow, register it.

``groombench-train`` (:func:`train_job`) and ``groombench`` training a missing model on the way
(:func:`benchmarks.app.prepare_detector`) both go through :func:`train_detector`, so a model is
always saved with the ids of the conversations it learned from, and logged the same way.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.runner import to_messages
from benchmarks.schema import ONSET_STAGES
from benchmarks.secrets import env_references, register_env_names
from detectors import TrainableDetector

if TYPE_CHECKING:
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
    out: list[list[bool] | None] = []
    for conversation, label in zip(conversations, labels, strict=True):
        if label and not any(m.get("stages") for m in conversation):
            out.append(None)
        else:
            out.append(
                [
                    bool(label) and bool(ONSET_STAGES.intersection(m.get("stages") or ()))
                    for m in conversation
                ]
            )
    return out


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
    raw = list(data["messages"])
    conversations = [to_messages(messages) for messages in raw]
    flags = message_labels(raw, labels)
    started = time.perf_counter()
    detector.fit(conversations, labels, trained_on=corpus.reference(split), message_labels=flags)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a parallel job never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
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


def track_training(
    cfg: DictConfig,
    detector: TrainableDetector,
    corpus: Corpus,
    target: Path,
    outcome: TrainingOutcome,
    *,
    log_model: bool,
) -> TrainingRecord:
    """Log a training to MLflow; with ``log_model``, log and register the saved model too.

    ``log_model`` comes from :func:`benchmarks.model_registry.logs_model` (``tracking.log_models``),
    checked before training so that a typo costs no training.
    """
    from benchmarks import tracking
    from benchmarks.app import public_config
    from benchmarks.model_registry import DEFAULT_REGISTER_AS, log_training, registered_name
    from benchmarks.provenance import software_versions

    split = str(cfg.train_split)
    config = public_config(cfg)
    params = {
        "detector": config.detector,
        "corpus": config.corpus,
        "train_split": split,
        "seed": config.get("seed"),
    }
    experiment = str(cfg.tracking.get("train_experiment") or f"{cfg.tracking.experiment}-train")
    template = cfg.tracking.get("register_as", DEFAULT_REGISTER_AS)
    return log_training(
        uri=tracking.resolve_uri(cfg.tracking.uri, cfg.paths.root),
        experiment=experiment,
        register_as=registered_name(template, detector.metadata.name),
        params=OmegaConf.to_container(OmegaConf.create(params), resolve=True),  # type: ignore[arg-type]
        detector=detector,
        corpus_tags={
            "groombench.corpus": corpus.info.name,
            "groombench.corpus_sha256": corpus.fingerprint,
            "groombench.split": split,
            "groombench.model_path": str(target),
        },
        model_dir=target,
        seconds=outcome.seconds,
        software=software_versions(),
        log_model=log_model,
    )


def log_models_setting(cfg: DictConfig, detector: TrainableDetector) -> bool:
    """Whether this training's model goes to MLflow (``tracking.log_models``).

    :func:`benchmarks.model_registry.logs_model` decides, from the setting and whether the
    detector's saved folder holds corpus text.
    """
    from benchmarks.model_registry import logs_model

    holds_text = bool(getattr(detector, "model_holds_corpus_text", True))
    return logs_model(cfg.tracking.get("log_models", "auto"), holds_text=holds_text)


def kept_local_note(detector: TrainableDetector) -> str:
    """Why a trained model was not uploaded, and how to upload it."""
    return (
        f"{detector.metadata.name}'s model folder holds corpus text, so it stays local and is "
        "not registered; add tracking.log_models=always to upload and register it"
    )


def train_job(cfg: DictConfig) -> list[str]:
    """``groombench-train``: fit, save, log and register the configured detector.

    Returns:
        Lines for the user: where the model went, and its MLflow run and registered version.
    """
    # app imports this module; its helpers are imported here, when the command runs.
    from benchmarks.app import absolute_paths, default_model_path, load_corpus
    from benchmarks.components import build
    from benchmarks.model_registry import is_registry_uri

    absolute_paths(cfg)
    register_env_names(env_references(OmegaConf.to_container(cfg, resolve=False)))
    explicit = cfg.detector.get("model_path")
    if is_registry_uri(explicit):
        raise ConfigError(
            f"detector.model_path={explicit} names a registered model; groombench-train trains "
            "a new one and registers it as the next version (tracking.register_as): drop "
            "detector.model_path, or set it to a local folder"
        )
    corpus = load_corpus(cfg)
    detector = build(cfg.detector)
    if not isinstance(detector, TrainableDetector):
        raise ConfigError(
            f"detector '{detector.metadata.name}' is not trainable; choose a detector that "
            "subclasses TrainableDetector (e.g. detector=tfidf_lr)"
        )
    target = Path(str(explicit)) if explicit else default_model_path(cfg, detector, corpus)
    if (target / "metadata.json").exists():
        raise ConfigError(f"{target} already holds a model; remove it or set detector.model_path")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"detector.model_path {target} exists and is not empty; give a new folder to "
            "train into (an existing model folder is never overwritten)"
        )
    upload = log_models_setting(cfg, detector)
    outcome = train_detector(detector, corpus, str(cfg.train_split), target)
    verb = "saved" if outcome.saved else "kept the equivalent model a parallel job saved;"
    lines = [
        f"{verb} {detector.metadata.name} trained on {corpus.reference(str(cfg.train_split))}"
        f" to {target} ({outcome.seconds:.1f} s)"
    ]
    if cfg.tracking.enabled and outcome.saved:
        record = track_training(cfg, detector, corpus, target, outcome, log_model=upload)
        lines.append(f"logged MLflow run {record.run_id} (experiment '{record.experiment}')")
        if record.model_uri:
            lines.append(f"registered {record.model_uri}")
        elif not upload and str(cfg.tracking.get("log_models", "auto")) == "auto":
            lines.append(kept_local_note(detector))
    return lines
