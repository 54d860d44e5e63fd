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
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from benchmarks.components import build, plain
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.evaluation import Evaluation, evaluate_detector
from benchmarks.model_registry import is_registry_uri
from benchmarks.runner import RunnerConfig
from benchmarks.secrets import env_references, register_env_names, scrub, secret_values
from benchmarks.training import (
    TRAINING_IDS_FILE,
    log_models_setting,
    track_training,
    train_detector,
)
from detectors import Detector, TrainableDetector

if TYPE_CHECKING:
    from benchmarks.model_registry import ResolvedModel

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
    ignore = getattr(detector, "inference_settings", ())
    digest = detector_settings_digest(cfg, detector.metadata.version, ignore)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", reference)
    return Path(str(cfg.paths.models)) / detector.metadata.name / f"{safe}-{digest}"


def detector_settings_digest(cfg: DictConfig, version: str, ignore: Sequence[str] = ()) -> str:
    """A short hash of the detector's class, code version and training settings.

    Its name, model path and ``ignore`` (the detector's ``inference_settings``: device, batch
    size...) are left out: they do not change what a model learns.
    """
    settings = plain(cfg.detector, drop=("_target_", "model_path", "name", *ignore))
    payload = [str(cfg.detector._target_), version, settings]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _detector_choice(cfg: DictConfig) -> str:
    """The detector's config name as the user chose it (for commands in error messages)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return str(HydraConfig.get().runtime.choices["detector"])
    except (ImportError, ValueError, KeyError):
        return str(cfg.detector.get("name") or "<detector>")


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
    explicit = cfg.detector.get("model_path")
    if explicit and not registered and not Path(str(explicit)).expanduser().exists():
        # Never train or score something else than the model the user named.
        raise ConfigError(
            f"detector.model_path {explicit} does not exist; train a model into it with "
            f"`groombench-train detector={_detector_choice(cfg)} "
            f"detector.model_path={explicit}`, fix the path, or drop detector.model_path to "
            "use (and train when missing) the default model for this corpus"
        )
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
