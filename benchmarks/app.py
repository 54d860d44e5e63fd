"""What one `groombench` job does with its composed config: load, train if needed, evaluate, log.

The Hydra entry points in :mod:`benchmarks.cli` are thin; everything here takes a plain
`DictConfig`, so tests call it directly with a config composed by Hydra's compose API.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from benchmarks.components import build, plain
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.evaluation import Evaluation, evaluate_detector
from benchmarks.model_registry import is_registry_uri
from benchmarks.runner import RunnerConfig, to_messages
from benchmarks.schema import ONSET_STAGES
from benchmarks.secrets import env_references, register_env_names, scrub, secret_values
from detectors import Detector, TrainableDetector

if TYPE_CHECKING:
    from benchmarks.model_registry import ResolvedModel, TrainingRecord

log = logging.getLogger(__name__)


def absolute_paths(cfg: DictConfig) -> None:
    """Make ``paths.*`` absolute (relative to the current directory) before anything uses them."""
    for key in ("root", "models", "cache"):
        cfg.paths[key] = str(Path(str(cfg.paths[key])).expanduser().resolve())


def load_corpus(cfg: DictConfig) -> Corpus:
    """Instantiate the corpus named by the config."""
    corpus = build(cfg.corpus)
    if not isinstance(corpus, Corpus):
        raise TypeError(f"corpus config {cfg.corpus._target_} did not return a Corpus")
    return corpus


def default_model_path(cfg: DictConfig, detector: Detector, corpus: Corpus) -> Path:
    """Where a trainable detector's model lives when ``detector.model_path`` is null.

    The folder names the training data and a hash of the training settings, so a model trained
    with other hyperparameters (or on other data) is never silently reused.
    """
    reference = corpus.reference(str(cfg.train_split))
    digest = detector_settings_digest(cfg, detector.metadata.version)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", reference)
    return Path(str(cfg.paths.models)) / detector.metadata.name / f"{safe}-{digest}"


def detector_settings_digest(cfg: DictConfig, version: str) -> str:
    """A short hash of the detector's class, code version and settings (not its name/path)."""
    settings = plain(cfg.detector, drop=("_target_", "model_path", "name"))
    payload = [str(cfg.detector._target_), version, settings]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


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
    upload = log_models_setting(cfg, detector)
    outcome = train_detector(detector, corpus, str(cfg.train_split), target)
    lines = [
        f"saved {detector.metadata.name} trained on {corpus.reference(str(cfg.train_split))}"
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


def _training_overrides(name: str) -> list[str]:
    """The overrides that make `groombench-train` train the model this run looks for."""
    try:
        from hydra.core.hydra_config import HydraConfig

        task = list(HydraConfig.get().overrides.task)
    except (ImportError, ValueError):
        task = []
    keep = ("corpus", "paths", "seed", "train_split", "detector.")
    return [
        f"detector={name}",
        *(o for o in task if o.lstrip("+~").startswith(keep) and not o.startswith("detector=")),
    ]


TRAINING_IDS_FILE = "training_ids.txt"


def training_ids(cfg: DictConfig, detector: Detector, corpus: Corpus) -> set[str] | None:
    """Return the conversation ids a trainable detector's saved model learned from, if known."""
    if not isinstance(detector, TrainableDetector):
        return None
    explicit = cfg.detector.get("model_path")
    registered = resolve_registry_model(cfg, update=False)
    if registered is not None:
        folder = registered.folder
    elif explicit:
        folder = Path(str(explicit))
    else:
        folder = default_model_path(cfg, detector, corpus)
    file = folder / TRAINING_IDS_FILE
    if not file.exists():
        return None
    return set(file.read_text(encoding="utf-8").split())


def resolve_registry_model(cfg: DictConfig, *, update: bool = True) -> ResolvedModel | None:
    """Download the registered model ``detector.model_path`` names, when it is ``models:/``.

    Args:
        cfg: the job's config; ``tracking`` says which registry.
        update: replace ``detector.model_path`` in ``cfg`` by the local copy, so that every
            later step loads that folder (save the public config before: it keeps the URI).

    Returns:
        The resolved version and its local folder; None when the path is not a registry URI.
    """
    from benchmarks import tracking
    from benchmarks.model_registry import fetch_model, parse_model_uri

    explicit = cfg.detector.get("model_path")
    if not is_registry_uri(explicit):
        return None
    uri = tracking.resolve_uri(cfg.tracking.uri, cfg.paths.root) if cfg.tracking.enabled else None
    resolved = fetch_model(
        parse_model_uri(str(explicit)), models_dir=str(cfg.paths.models), tracking_uri=uri
    )
    if update:
        cfg.detector.model_path = str(resolved.folder)
    return resolved


def prepare_detector(cfg: DictConfig, corpus: Corpus) -> Detector:
    """Instantiate the detector; load or (per ``cfg.train``) train a trainable one.

    A ``models:/`` ``detector.model_path`` is downloaded first (see
    :func:`resolve_registry_model`) and the detector loads the local copy. A model trained
    here is logged to MLflow when tracking is on (its folder too, and registered, unless the
    folder holds corpus text; see :func:`log_models_setting`).
    """
    registered = resolve_registry_model(cfg, update=False)
    overrides = {"model_path": str(registered.folder)} if registered else {}
    built = build(cfg.detector, **overrides)
    if not isinstance(built, Detector):
        raise TypeError(f"detector config {cfg.detector._target_} did not return a Detector")
    detector: Detector = built
    folder = registered.folder if registered else cfg.detector.get("model_path")
    unfitted = isinstance(detector, TrainableDetector) and not detector.is_fitted
    if folder and unfitted and Path(str(folder)).is_dir():
        # A detector that does not load its model_path itself: load the given folder.
        assert isinstance(detector, TrainableDetector)
        detector.load(str(folder))
    if isinstance(detector, TrainableDetector) and not detector.is_fitted:
        if cfg.split == cfg.train_split:
            raise ConfigError(
                f"split and train_split are both '{cfg.split}': a detector must never be scored "
                "on the data it learned from; choose another split"
            )
        target = default_model_path(cfg, detector, corpus)
        if not (target / "metadata.json").exists():
            if cfg.train == "never":
                raise ConfigError(
                    f"no trained model at {target} and train=never; run `groombench-train "
                    f"{' '.join(_training_overrides(detector.metadata.name))}` or set "
                    "detector.model_path"
                )
            upload = log_models_setting(cfg, detector)
            outcome = train_detector(detector, corpus, str(cfg.train_split), target)
            if cfg.tracking.enabled and outcome.saved:
                record = track_training(cfg, detector, corpus, target, outcome, log_model=upload)
                log.info(
                    "logged training run %s%s",
                    record.run_id,
                    f"; registered {record.model_uri}" if record.model_uri else "",
                )
        detector.load(str(target))
    return detector


def run_job(cfg: DictConfig, output_dir: str | Path) -> Evaluation:
    """Evaluate the configured detector on the configured corpus split; log it; return it."""
    from benchmarks import tracking

    absolute_paths(cfg)
    # Everything written from here on (error details too) redacts what the config reads from
    # the environment.
    register_env_names(env_references(OmegaConf.to_container(cfg, resolve=False)))
    config = public_config(cfg)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    (Path(output_dir) / "config.yaml").write_text(OmegaConf.to_yaml(config), encoding="utf-8")
    corpus = load_corpus(cfg)
    # The claim and audit settings are checked before any detector runs: a bad claim file
    # must not cost a paid run.
    from benchmarks.audit.job import claim_of, settings_of

    audit_settings = settings_of(cfg)
    claim_of(cfg)
    # A models:/ path becomes the local copy from here on; `config` keeps the URI (provenance).
    registered = resolve_registry_model(cfg)
    detector = prepare_detector(cfg, corpus)
    policy = build(cfg.policy)
    runner = RunnerConfig(**plain(cfg.runner))
    ids = training_ids(cfg, detector, corpus)
    if audit_settings.enabled:
        from benchmarks.audit.job import check_calibration

        check_calibration(cfg, detector, corpus, ids)
    evaluation = evaluate_detector(
        detector,
        corpus,
        split=str(cfg.split),
        policy=policy,
        policy_params=plain(cfg.policy),
        runner=runner,
        latency_p=cfg.latency_p,
        output_dir=output_dir,
        allow_leakage=bool(cfg.allow_leakage),
        training_ids=ids,
        detector_settings=plain(config.detector),
    )
    if cfg.protocol.name != "none":
        evaluation = run_protocol(cfg, detector, corpus, evaluation, output_dir)
    if audit_settings.enabled:
        from benchmarks.audit.job import audit_job

        evaluation, _ = audit_job(
            cfg,
            detector=detector,
            corpus=corpus,
            evaluation=evaluation,
            policy=policy,
            runner=runner,
            output_dir=output_dir,
            config_text=OmegaConf.to_yaml(config),
        )
    if cfg.tracking.enabled:
        uri = tracking.resolve_uri(cfg.tracking.uri, cfg.paths.root)
        run_id = tracking.log_evaluation(
            evaluation,
            uri=uri,
            experiment=str(cfg.tracking.experiment),
            config=OmegaConf.to_container(config, resolve=True),  # type: ignore[arg-type]
            run_dir=output_dir,
            parent_run_id=os.environ.get(tracking.PARENT_RUN_ENV) or _parent_from(output_dir),
        )
        if registered is not None:
            from benchmarks.model_registry import tag_evaluation

            tag_evaluation(uri, run_id, registered)
        log.info("logged MLflow run %s to %s", run_id, uri)
    return evaluation


def plan_job(cfg: DictConfig) -> str:
    """Audit plan-only mode: what the scored split can settle about the claim; no detector runs."""
    from benchmarks.audit.job import plan_text

    absolute_paths(cfg)
    return plan_text(cfg, load_corpus(cfg))


def run_protocol(
    cfg: DictConfig,
    detector: Detector,
    corpus: Corpus,
    evaluation: Evaluation,
    output_dir: str | Path,
) -> Evaluation:
    """Run the corpus's official protocol and add its metrics to the result."""
    from benchmarks.protocols import pan12

    if cfg.protocol.name != "pan12":
        raise ConfigError(f"unknown protocol '{cfg.protocol.name}'; choose none or pan12")
    protocol = build(cfg.protocol)
    extra = pan12.evaluate(detector, corpus.split(str(cfg.split)), protocol, output_dir)
    result = replace(
        evaluation.result,
        metrics=evaluation.result.metrics | extra,
        definitions=evaluation.result.definitions | pan12.DEFINITIONS,
    )
    result.save(output_dir)
    return Evaluation(result=result, traces=evaluation.traces)


def public_config(cfg: DictConfig) -> DictConfig:
    """Return the resolved config without secrets, by key and by value (safe to save and log)."""
    names = env_references(OmegaConf.to_container(cfg, resolve=False))
    data: Any = OmegaConf.to_container(cfg, resolve=True)
    clean = OmegaConf.create(scrub(data, secret_values(names)))
    assert isinstance(clean, DictConfig)
    return clean


def _parent_from(output_dir: str | Path) -> str | None:
    from benchmarks.tracking import PARENT_RUN_FILE

    marker = Path(output_dir).parent / PARENT_RUN_FILE
    return marker.read_text().strip() if marker.exists() else None
