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
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from benchmarks.components import build, plain
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.evaluation import Evaluation, evaluate_detector
from benchmarks.runner import RunnerConfig, to_messages
from benchmarks.secrets import env_references, register_env_names, scrub, secret_values
from detectors import Detector, TrainableDetector

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


def train_detector(detector: TrainableDetector, corpus: Corpus, split: str, target: Path) -> None:
    """Fit ``detector`` on ``corpus[split]`` and save it to ``target`` atomically."""
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
    conversations = [to_messages(raw) for raw in data["messages"]]
    detector.fit(conversations, labels, trained_on=corpus.reference(split))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a parallel job never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    detector.save(str(staging))
    # Ids only (no text): lets any later evaluation detect overlap with the training data,
    # however the corpus is loaded (other splits option, segments or complete chats).
    ids = sorted(corpus.unit_ids(split))
    (staging / TRAINING_IDS_FILE).write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another job won the race; its model is equivalent (same data, same seed)
        log.info("model %s appeared meanwhile; keeping it", target)


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
    folder = Path(str(explicit)) if explicit else default_model_path(cfg, detector, corpus)
    file = folder / TRAINING_IDS_FILE
    if not file.exists():
        return None
    return set(file.read_text(encoding="utf-8").split())


def prepare_detector(cfg: DictConfig, corpus: Corpus) -> Detector:
    """Instantiate the detector; load or (per ``cfg.train``) train a trainable one."""
    built = build(cfg.detector)
    if not isinstance(built, Detector):
        raise TypeError(f"detector config {cfg.detector._target_} did not return a Detector")
    detector: Detector = built
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
            train_detector(detector, corpus, str(cfg.train_split), target)
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
