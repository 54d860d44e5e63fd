"""Trained detectors in MLflow: log each training as a run, register it, fetch it back.

Training (``groombench-train``, or ``groombench`` training a missing model with
``train=auto``) logs one run to the experiment ``tracking.train_experiment`` (default
``<tracking.experiment>-train``, apart from evaluations so that leaderboards never mistake a
training for a result): the detector's public settings, the corpus and split as params; the
detector, its training data and fingerprint, base model and wall time as tags; its training
curves as step metrics; the saved model folder (``metadata.json``, ``training_ids.txt``, the
weights) as the artifact ``model``, registered as a new version of the model
``tracking.register_as`` (default ``groombench-<detector>``). A model whose folder holds
corpus text (``TrainableDetector.model_holds_corpus_text``: a TF-IDF vocabulary is corpus
words) is logged without its folder and not registered, unless ``tracking.log_models=always``.

``detector.model_path=models:/NAME/VERSION`` (or ``models:/NAME@ALIAS``,
``models:/NAME/latest``) names a registered version: it is downloaded once, atomically, into
``<paths.models>/registry/<NAME>/<VERSION>`` and the detector loads that folder exactly as a
local one, so its ``training_ids.txt`` and ``trained_on`` drive the leakage check as usual.

mlflow is imported inside the functions, as in :mod:`benchmarks.tracking`.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.errors import ConfigError
from benchmarks.secrets import redact, secret_values
from benchmarks.staging import prefix as staging_prefix
from benchmarks.tracking import ensure_experiment, ensure_store, flatten
from detectors import TrainableDetector

log = logging.getLogger(__name__)

SCHEME = "models:/"
#: ``{detector}`` is replaced by the detector's name.
DEFAULT_REGISTER_AS = "groombench-{detector}"
#: Written into each downloaded folder: which registered version it is (no tracking URI).
REGISTRY_FILE = "registry.json"
#: Values of ``tracking.log_models``: when a trained model's folder is logged and registered.
LOG_MODELS = ("auto", "always", "never")
MODEL_ARTIFACT = "model"
_METRICS_PER_BATCH = 1000  # MLflow's limit on metrics in one log_batch call


@dataclass(frozen=True)
class ModelReference:
    """A registered model named by a ``models:/`` URI.

    Attributes:
        uri: the URI as the user wrote it.
        name: the registered model's name.
        version: a version number, ``latest``, or None when an alias names it.
        alias: the alias after ``@``, or None.
    """

    uri: str
    name: str
    version: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class ResolvedModel:
    """A registered model version, downloaded.

    Attributes:
        reference: what the user asked for.
        version: the version number it resolved to.
        folder: the local copy, ready for the detector's ``load``.
        run_id: the MLflow run that logged it ("" when unknown, e.g. offline reuse).
    """

    reference: ModelReference
    version: str
    folder: Path
    run_id: str = ""


@dataclass(frozen=True)
class TrainingRecord:
    """Where a training was logged.

    Attributes:
        run_id: the MLflow run.
        experiment: its experiment's name.
        model_uri: ``models:/NAME/VERSION`` of the registered version, or None (not registered).
    """

    run_id: str
    experiment: str
    model_uri: str | None = None


def is_registry_uri(value: object) -> bool:
    """Return True when ``value`` is a ``models:/`` URI.

    Examples:
        >>> is_registry_uri("models:/groombench-tfidf_lr/3"), is_registry_uri("/tmp/m")
        (True, False)
    """
    return isinstance(value, str) and value.startswith(SCHEME)


def parse_model_uri(uri: str) -> ModelReference:
    """Split ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS`` into its parts.

    Examples:
        >>> parse_model_uri("models:/groombench-tfidf_lr/3")
        ModelReference(uri='models:/groombench-tfidf_lr/3', name='groombench-tfidf_lr', version='3', alias=None)
        >>> parse_model_uri("models:/m@champion").alias
        'champion'
        >>> parse_model_uri("models:/m")
        Traceback (most recent call last):
        ...
        benchmarks.errors.ConfigError: detector.model_path 'models:/m' names no version: write models:/NAME/VERSION (a number or latest) or models:/NAME@ALIAS
    """  # noqa: E501
    body = uri.removeprefix(SCHEME)
    if "@" in body and "/" not in body.split("@", 1)[1]:
        name, alias = body.split("@", 1)
        if name and alias:
            return ModelReference(uri=uri, name=name, alias=alias)
    name, _, version = body.rpartition("/")
    if name and (version.isdigit() or version == "latest"):
        return ModelReference(uri=uri, name=name, version=version)
    raise ConfigError(
        f"detector.model_path '{uri}' names no version: write models:/NAME/VERSION (a number "
        "or latest) or models:/NAME@ALIAS"
    )


def registered_name(template: str | None, detector_name: str) -> str | None:
    """Return the registered model name for ``detector_name``; None when registering is off.

    Examples:
        >>> registered_name("groombench-{detector}", "tfidf_lr")
        'groombench-tfidf_lr'
        >>> registered_name("", "tfidf_lr") is None
        True
    """
    if not template:
        return None
    return str(template).replace("{detector}", detector_name)


def logs_model(mode: object, *, holds_text: bool) -> bool:
    """Whether a training's model folder goes to MLflow (``tracking.log_models``).

    ``auto`` (the default): every model whose folder holds no corpus text (a fine-tuned
    classifier's weights) is uploaded and registered; one that does (a TF-IDF vocabulary is
    corpus words; exemplar embeddings can be partly inverted) stays local, as the README
    promises that no chat text reaches MLflow unless asked. ``always``: every model, the
    user's explicit request. ``never``: none (nothing registered).

    Examples:
        >>> logs_model("auto", holds_text=False), logs_model("auto", holds_text=True)
        (True, False)
        >>> logs_model("always", holds_text=True)
        True
        >>> logs_model("sometimes", holds_text=False)
        Traceback (most recent call last):
        ...
        benchmarks.errors.ConfigError: tracking.log_models must be auto, always or never, got 'sometimes'
    """  # noqa: E501
    if mode not in LOG_MODELS:
        raise ConfigError(
            f"tracking.log_models must be {', '.join(LOG_MODELS[:-1])} or {LOG_MODELS[-1]}, "
            f"got {mode!r}"
        )
    return mode == "always" or (mode == "auto" and not holds_text)


def cache_folder(models_dir: str | Path, name: str, version: str) -> Path:
    """Return where version ``version`` of registered model ``name`` is kept locally."""
    safe = re.sub(r"[^A-Za-z0-9_.@-]+", "-", name)
    return Path(models_dir) / "registry" / safe / version


def _client(uri: str) -> Any:
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _versions(client: Any, name: str) -> list[Any]:
    quoted = name.replace("'", "\\'")
    found = client.search_model_versions(f"name='{quoted}'")
    return sorted(found, key=lambda v: int(v.version))


def _describe_available(client: Any, name: str) -> str:
    """Say which versions (or, with none, which registered models) exist."""
    versions = [str(v.version) for v in _versions(client, name)]
    if versions:
        return f"registered versions of '{name}': {', '.join(versions)}"
    names = sorted(m.name for m in client.search_registered_models(max_results=50))
    listed = ", ".join(names) if names else "(none)"
    return f"no registered model '{name}'; registered models: {listed}"


def _model_version(client: Any, reference: ModelReference) -> Any:
    """Look the reference up in the registry; ConfigError naming what exists when it is not."""
    from mlflow.exceptions import MlflowException

    try:
        if reference.alias is not None:
            return client.get_model_version_by_alias(reference.name, reference.alias)
        if reference.version == "latest":
            versions = _versions(client, reference.name)
            if versions:
                return versions[-1]
            raise MlflowException(f"no versions of {reference.name}")
        return client.get_model_version(reference.name, reference.version)
    except MlflowException:
        raise ConfigError(
            f"detector.model_path '{reference.uri}' is not in the model registry "
            f"({_describe_available(client, reference.name)}); choose one of those, or train "
            "and register one with `groombench-train`"
        ) from None


def fetch_model(
    reference: ModelReference, *, models_dir: str | Path, tracking_uri: str | None
) -> ResolvedModel:
    """Return a local copy of a registered model version, downloading it when needed.

    The copy lives in ``<models_dir>/registry/<NAME>/<VERSION>``; a download goes to a temporary
    folder beside it and is renamed into place, so a parallel job never sees half a model. A
    copy already there is reused when it is the registry's version (same logging run).

    Args:
        reference: the parsed ``models:/`` URI.
        models_dir: ``paths.models``.
        tracking_uri: the tracking (and registry) URI; None when tracking is disabled, in which
            case only a copy downloaded earlier (of a numbered version) can be used.

    Raises:
        ConfigError: tracking is disabled and no copy exists, or the registry has no such
            version.
    """
    if tracking_uri is None:
        if reference.version and reference.version.isdigit():
            folder = cache_folder(models_dir, reference.name, reference.version)
            if (folder / REGISTRY_FILE).exists():
                log.info("using %s downloaded earlier to %s (tracking off)", reference.uri, folder)
                return ResolvedModel(reference, reference.version, folder)
        raise ConfigError(
            f"detector.model_path '{reference.uri}' needs the MLflow model registry, but "
            "tracking is disabled; use tracking=mlflow (with tracking.uri or "
            "MLFLOW_TRACKING_URI naming the store that holds it) or a local model folder"
        )
    client = _client(tracking_uri)
    found = _model_version(client, reference)
    version, run_id = str(found.version), str(found.run_id or "")
    folder = cache_folder(models_dir, reference.name, version)
    if _same_copy(folder, run_id):
        return ResolvedModel(reference, version, folder, run_id)
    _download(reference.name, version, run_id, folder, tracking_uri)
    log.info("downloaded %s%s/%s to %s", SCHEME, reference.name, version, folder)
    return ResolvedModel(reference, version, folder, run_id)


def _same_copy(folder: Path, run_id: str) -> bool:
    marker = folder / REGISTRY_FILE
    if not marker.exists():
        return False
    try:
        return str(json.loads(marker.read_text(encoding="utf-8")).get("run_id", "")) == run_id
    except (OSError, ValueError):
        return False


def _download(name: str, version: str, run_id: str, folder: Path, uri: str) -> None:
    """Download a version beside ``folder``, then rename it into place (replacing a stale copy)."""
    import mlflow

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(version), dir=folder.parent))
    stale: Path | None = None
    try:
        got = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"{SCHEME}{name}/{version}",
                dst_path=str(staging / "dl"),
                tracking_uri=uri,
                registry_uri=uri,
            )
        )
        marker = {"uri": f"{SCHEME}{name}/{version}", "name": name, "version": version}
        (got / REGISTRY_FILE).write_text(
            json.dumps(marker | {"run_id": run_id}, indent=2), encoding="utf-8"
        )
        if _same_copy(folder, run_id):  # a parallel job downloaded the same version meanwhile
            return
        if folder.exists():  # a copy of another store's version: set it aside, then swap
            stale = Path(
                tempfile.mkdtemp(prefix=staging_prefix(f"{version}-stale"), dir=folder.parent)
            )
            folder.rename(stale / "old")
        try:
            got.rename(folder)
        except OSError:  # another job put the same version there meanwhile
            log.info("%s appeared meanwhile; keeping it", folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)


def _base_model(model_dir: Path) -> str:
    """The base model the saved metadata names (``base_model``), or ""."""
    try:
        meta = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(meta, dict):
        return ""
    params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
    return str(meta.get("base_model") or (params or {}).get("base_model") or "")


def curve_metrics(rows: Sequence[Mapping[str, float]]) -> list[tuple[str, float, int]]:
    """Turn training-curve rows into ``(key, value, step)`` metrics (non-finite values dropped).

    Examples:
        >>> curve_metrics([{"step": 5, "train_loss": 0.7, "val_auc": float("nan")}])
        [('train_loss', 0.7, 5)]
    """
    out: list[tuple[str, float, int]] = []
    for position, row in enumerate(rows):
        step = int(row.get("step", position))
        for key, value in row.items():
            if key != "step" and value is not None and math.isfinite(float(value)):
                out.append((str(key), float(value), step))
    return out


def log_training(
    *,
    uri: str,
    experiment: str,
    register_as: str | None,
    params: Mapping[str, Any],
    detector: TrainableDetector,
    corpus_tags: Mapping[str, str],
    model_dir: Path,
    seconds: float,
    software: Mapping[str, str] | None = None,
    log_model: bool = True,
) -> TrainingRecord:
    """Log one training as an MLflow run and register its model folder; return where.

    Args:
        uri: the tracking (and registry) URI.
        experiment: the experiment for training runs.
        register_as: the registered model's name; None or "" logs without registering.
        params: the public (secret-free) settings to log, nested; flattened to dotted keys.
        detector: the fitted detector (its metadata and ``training_curves()`` are logged).
        corpus_tags: ``groombench.corpus``, ``groombench.corpus_sha256``, ``groombench.split``.
        model_dir: the saved model folder, logged whole as the artifact ``model``.
        seconds: the training's wall time.
        software: package versions, logged as ``version.*`` tags.
        log_model: False logs the run without the model folder (and so registers nothing):
            a model may hold corpus text (a TF-IDF vocabulary is made of corpus words).
    """
    from mlflow.entities import Metric, Param

    ensure_store(uri)
    client = _client(uri)
    experiment_id = ensure_experiment(uri, experiment)
    meta = detector.metadata
    tags = {
        "groombench.kind": "training",
        "groombench.detector": meta.name,
        "groombench.detector_version": meta.version,
        "groombench.trained_on": ", ".join(meta.trained_on),
        "groombench.training_seconds": f"{seconds:.3f}",
        "groombench.model_logged": str(log_model).lower(),
        **corpus_tags,
    } | {f"version.{k}": v for k, v in (software or {}).items()}
    base = _base_model(model_dir)
    if base:
        tags["groombench.base_model"] = base
    secrets = secret_values()  # e.g. a base model given as a URL with a token in it
    tags = {k: redact(v, secrets) for k, v in tags.items()}
    split = corpus_tags.get("groombench.split", "")
    name = f"train {meta.name}@{corpus_tags.get('groombench.corpus', '')}:{split}"
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    run_id = str(run.info.run_id)
    try:
        flat = [Param(k, v) for k, v in flatten(params)]
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, s) for k, v, s in curve_metrics(detector.training_curves())]
        metrics.append(Metric("training_seconds", float(seconds), now, 0))
        for start in range(0, len(flat), 100):  # MLflow caps a batch at 100 params
            client.log_batch(run_id, params=flat[start : start + 100])
        for start in range(0, len(metrics), _METRICS_PER_BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + _METRICS_PER_BATCH])
        model_uri = None
        if log_model:
            client.log_artifacts(run_id, str(model_dir), artifact_path=MODEL_ARTIFACT)
        if log_model and register_as:
            version = register(client, register_as, run, tags)
            model_uri = f"{SCHEME}{register_as}/{version}"
            client.set_tag(run_id, "groombench.registered_model", model_uri)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return TrainingRecord(run_id=run_id, experiment=experiment, model_uri=model_uri)


def register(client: Any, name: str, run: Any, tags: Mapping[str, str]) -> str:
    """Register the run's ``model`` artifact folder as a new version of ``name``; return it.

    The folder is not an MLflow-format model: the version's source is the run's artifact URI,
    which ``models:/NAME/VERSION`` downloads back as it was logged.
    """
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(
            name, description="groombench detector models, one version per training"
        )
    except MlflowException as error:
        if getattr(error, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
    keep = ("groombench.detector", "groombench.trained_on", "groombench.corpus_sha256")
    version = client.create_model_version(
        name,
        source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT}",
        run_id=run.info.run_id,
        tags={k: v for k, v in tags.items() if k in keep},
        description=f"trained on {tags.get('groombench.trained_on', '')}",
    )
    return str(version.version)


def tag_evaluation(uri: str, run_id: str, model: ResolvedModel) -> None:
    """Record on an evaluation run which registered model version it scored."""
    client = _client(uri)
    for key, value in {
        "groombench.model_uri": model.reference.uri,
        "groombench.model_name": model.reference.name,
        "groombench.model_version": model.version,
        "groombench.model_run_id": model.run_id,
    }.items():
        if value:
            client.set_tag(run_id, key, value)
