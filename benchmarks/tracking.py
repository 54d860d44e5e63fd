"""MLflow tracking: one run per (detector, corpus split, policy) evaluation.

The store is an absolute URI: ``tracking.uri`` from the config when set, else the
``MLFLOW_TRACKING_URI`` environment variable, else an embedded SQLite file under the run root
(``<paths.root>/mlflow.db``). Params are the flattened resolved config with secrets removed;
metrics use the same names as ``results.json``; the corpus is logged as a dataset input with its
fingerprint as digest; raw chat text is never logged.

mlflow is imported inside the functions: it costs over a second, and ``groombench --help``
should not pay it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from benchmarks.audit.headline import headline_columns
from benchmarks.evaluation import Evaluation
from benchmarks.results import RESULTS_FILE, TRACES_FILE
from benchmarks.secrets import REDACTED, SECRET_KEY
from benchmarks.staging import host_id

log = logging.getLogger(__name__)

PARENT_RUN_FILE = "mlflow_parent_run_id"
PARENT_RUN_ENV = "GROOMBENCH_MLFLOW_PARENT_RUN_ID"
_MAX_PARAM = 6000  # MLflow's limit on one param value


def resolve_uri(configured: str | None, root: str | Path) -> str:
    """Return the absolute tracking URI: config, then MLFLOW_TRACKING_URI, then SQLite."""
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri:
        return f"sqlite:///{(Path(root).expanduser().resolve() / 'mlflow.db').as_posix()}"
    if "://" not in uri:  # a bare path: make it absolute so the store never depends on cwd
        return Path(uri).expanduser().resolve().as_uri()
    return uri


def causality_metrics(guarantees: Mapping[str, Any]) -> dict[str, float]:
    """``causality_checked``, ``_failed``, ``_unchecked`` as MLflow metrics.

    Examples:
        >>> causality_metrics({"causality": {"mode": "fast", "checked": 24, "unchecked": 1}})
        {'causality_checked': 24.0, 'causality_failed': 0.0, 'causality_unchecked': 1.0}
    """
    record = guarantees.get("causality") or {}
    if not record:
        return {}
    return {f"causality_{k}": float(record.get(k, 0)) for k in ("checked", "failed", "unchecked")}


def flatten(config: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``dotted.key, value`` pairs of a nested mapping, secret-named values masked.

    Examples:
        >>> dict(flatten({"detector": {"name": "x", "api_key": "s3cr3t"}, "seed": 1}))
        {'detector.name': 'x', 'detector.api_key': '***', 'seed': '1'}
    """
    for key, value in config.items():
        name = f"{prefix}{key}"
        if SECRET_KEY.search(str(key)):
            yield name, REDACTED
        elif isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        else:
            yield name, str(value)[:_MAX_PARAM]


def public_uri(uri: str) -> str:
    """The tracking URI with any password masked (for logs and printed commands).

    Examples:
        >>> public_uri("http://alice:s3cret@mlflow.internal:5000")
        'http://alice:***@mlflow.internal:5000'
        >>> public_uri("sqlite:////runs/mlflow.db")
        'sqlite:////runs/mlflow.db'
    """
    from benchmarks.secrets import mask_userinfo

    return mask_userinfo(uri)


def ui_hint(uri: str) -> str:
    """How to look at the runs of ``uri``: the UI command for a file store, the address for a
    server."""
    shown = public_uri(uri)
    if uri.startswith(("http://", "https://")):
        return f"MLflow: open {shown} in a browser (the tracking server's own UI)"
    return (
        "MLflow: MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false mlflow ui --workers 1 "
        f"--backend-store-uri {shown}"
    )


def ensure_store(uri: str) -> None:
    """Create the store once, safely under concurrency.

    MLflow creates a SQLite store's schema on first use, and two processes doing it at once
    race (``table latest_metrics already exists``). For a SQLite store, the first use happens
    under an exclusive lock on ``<db>.lock``, so the second process finds the schema made.
    """
    import fcntl

    import mlflow

    if not uri.startswith("sqlite:///"):
        try:
            mlflow.MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
        except Exception as error:  # MLflow wraps connection, TLS and auth failures alike
            from benchmarks.errors import ConfigError, bounded
            from benchmarks.secrets import mask_userinfo

            reason = bounded(mask_userinfo(str(error)), 300)
            raise ConfigError(
                f"cannot use the MLflow tracking store {public_uri(uri)} ({reason}); check "
                "tracking.uri or MLFLOW_TRACKING_URI (and the server), or run with tracking=none"
            ) from None
        return
    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{database}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            mlflow.MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def artifact_root(uri: str) -> str | None:
    """Return where artifacts go for an embedded SQLite store: beside the database file.

    MLflow's own default is a folder relative to the current directory, which scatters
    artifacts wherever groombench happens to be started. A server decides for itself (None).
    """
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").as_uri()


def ensure_experiment(uri: str, experiment: str) -> str:
    """Return the experiment's id, creating it (with its artifact root) when missing."""
    import mlflow

    ensure_store(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(client.create_experiment(experiment, artifact_location=artifact_root(uri)))
    except mlflow.exceptions.MlflowException:  # created meanwhile by a parallel job
        again = client.get_experiment_by_name(experiment)
        if again is None:
            raise
        return str(again.experiment_id)


def start_parent_run(uri: str, experiment: str, name: str) -> str:
    """Create the parent run of a sweep; return its id."""

    import mlflow

    ensure_store(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment_id = ensure_experiment(uri, experiment)
    close_stale_parents(uri, experiment_id)
    tags = {
        "groombench.sweep": "parent",
        # Who runs it: a later start on this host closes it as KILLED if that process is gone.
        "groombench.host": host_id(),
        "groombench.pid": str(os.getpid()),
    }
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    return str(run.info.run_id)


def close_stale_parents(uri: str, experiment_id: str) -> list[str]:
    """Mark KILLED the RUNNING sweep parents whose launching process on this host is gone.

    A sweep killed with SIGKILL cannot close its own parent run; the next start does.
    """

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    host = host_id()
    closed = []
    running = client.search_runs(
        [experiment_id],
        filter_string="tags.`groombench.sweep` = 'parent' and attributes.status = 'RUNNING'",
    )
    for run in running:
        tags = run.data.tags
        if tags.get("groombench.host") != host or not tags.get("groombench.pid", "").isdigit():
            continue  # another machine's sweep, or one from before pids were recorded
        try:
            os.kill(int(tags["groombench.pid"]), 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        client.set_terminated(run.info.run_id, status="KILLED")
        closed.append(run.info.run_id)
    if closed:
        log.info("closed %d sweep parent run(s) left RUNNING by killed runs", len(closed))
    return closed


def end_parent_run(uri: str, run_id: str, status: str = "FINISHED") -> None:
    """Mark a sweep's parent run ended with ``status`` (FINISHED or FAILED)."""
    import mlflow

    mlflow.MlflowClient(tracking_uri=uri).set_terminated(run_id, status=status)


def _log_input_once(dataset: Any, context: str, attempts: int = 5) -> None:
    """Log a dataset input, surviving parallel jobs that register the same dataset at once.

    MLflow checks whether a dataset (experiment, name, digest) exists, then inserts it; two
    joblib workers logging the same corpus can both miss it and one insert then fails on the
    unique constraint. By the next attempt the row exists and MLflow reuses it.
    """
    import mlflow

    for attempt in range(attempts):
        try:
            mlflow.log_input(dataset, context=context)
            return
        except mlflow.exceptions.MlflowException as error:
            if "UNIQUE constraint" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def log_evaluation(
    evaluation: Evaluation,
    *,
    uri: str,
    experiment: str,
    config: Mapping[str, Any],
    run_dir: str | Path,
    parent_run_id: str | None = None,
) -> str:
    """Log one evaluation as an MLflow run; return the run id.

    ``run_dir`` must already hold ``results.json`` and ``traces.parquet`` (and may hold
    ``config.yaml``); they are logged as artifacts.
    """
    import mlflow
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    result = evaluation.result
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=ensure_experiment(uri, experiment))
    name = f"{result.detector['name']}@{result.corpus['name']}:{result.corpus['split']}"
    tags = {
        "groombench.detector": result.detector["name"],
        "groombench.detector_version": result.detector["version"],
        "groombench.corpus": result.corpus["name"],
        "groombench.corpus_sha256": result.corpus["fingerprint"],
        "groombench.split": result.corpus["split"],
        "groombench.policy": result.policy["name"],
        "groombench.policy_rule": result.policy["rule"],
        "groombench.policy_label": result.policy.get("label", result.policy["name"]),
        "groombench.every": str(result.runner.get("every", 1)),
        "groombench.leakage": str(result.leakage).lower(),
        "groombench.corpus_version": str(result.corpus.get("version", "")),
        "groombench.corpus_limitations": " | ".join(result.corpus.get("limitations", []))[:4000],
        "groombench.result_schema": result.schema_version,
        # Which guarantees held: the leaderboard and any reader of the run repeat the flags.
        "groombench.isolation": str(result.guarantees.get("isolation", "")),
        "groombench.causality_mode": str(result.guarantees.get("causality", {}).get("mode", "")),
        "groombench.flags": " ".join(result.flags),
    } | {f"version.{k}": v for k, v in result.software.items()}
    with mlflow.start_run(run_name=name, parent_run_id=parent_run_id, tags=tags) as run:
        params = dict(flatten(config))
        for start in range(0, len(params), 100):  # MLflow caps a batch at 100 params
            mlflow.log_params(dict(list(params.items())[start : start + 100]))
        mlflow.log_metrics(
            {
                k: float(v)
                for k, v in result.metrics.items()
                if v is not None and math.isfinite(float(v))
            }
            | {f"usage.{k}": float(v) for k, v in result.usage.items()}
            | causality_metrics(result.guarantees)
            | headline_columns(result.audit.get("intervals", {}))
        )
        # A code source: the corpus is made by a groombench loader from the user's files (or
        # generated); its file names and checksums travel as tags, its text never does.
        source = CodeDatasetSource(
            tags={
                "groombench.corpus": result.corpus["name"],
                "groombench.corpus_version": result.corpus["version"],
                "groombench.checksums": json.dumps(result.corpus.get("checksums", {})),
            }
        )
        dataset = MetaDataset(  # type: ignore[abstract]  # profile is optional at runtime
            source=source,
            name=f"{result.corpus['name']}:{result.corpus['split']}",
            digest=result.corpus["fingerprint"][:36],
        )
        _log_input_once(dataset, result.corpus["split"])
        folder = Path(run_dir)
        # Protocol exports (PAN12 predictions) hold ids only, never text.
        exports = sorted(p.name for p in folder.glob("pan12-*.txt"))
        for file in (RESULTS_FILE, TRACES_FILE, "config.yaml", "clusters.parquet", *exports):
            if (folder / file).exists():
                mlflow.log_artifact(str(folder / file))
        # The report card (HTML, JSON, Markdown, transparency CSV): ids and numbers, no text.
        if (folder / "report").is_dir():
            mlflow.log_artifacts(str(folder / "report"), artifact_path="report")
        worst = (result.robustness.get("groomcheck") or {}).get("worst_test")
        if worst:
            mlflow.set_tag("groombench.groomcheck_worst_test", worst)
        verdict = (result.audit.get("verdict") or {}).get("outcome")
        if verdict:
            mlflow.set_tag("groombench.claim_verdict", verdict)
        return str(run.info.run_id)
