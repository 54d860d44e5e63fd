"""Console entry points. Heavy imports happen inside the task functions, so --help is fast."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, NoReturn

# No network at run time: the Hugging Face libraries read these once, when first imported, so
# they are set before anything imports them. A user may still set them to 0 on purpose.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from benchmarks.errors import ConfigError

if TYPE_CHECKING:
    from benchmarks.jobplan import JobPlan

log = logging.getLogger("groombench")

#: Names one launch of a command (and the processes it starts): see :func:`launch_id`.
LAUNCH_ENV = "GROOMBENCH_LAUNCH_ID"


def launch_id() -> str:
    """The output folder's name for this launch: its start time and a random suffix.

    Two commands started in the same second get two folders (and two sweep parents); the
    processes one command starts (joblib workers) inherit the name through the environment,
    so they write into their launcher's folder.
    """
    if LAUNCH_ENV not in os.environ:
        import secrets
        import time

        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        os.environ[LAUNCH_ENV] = f"{stamp}_{secrets.token_hex(3)}"
    return os.environ[LAUNCH_ENV]


#: What a job started on another machine's process (a Ray cluster's worker) needs from this
#: shell to write where this launch writes (the sweep's parent run is added): never a secret.
FORWARDED_ENV = ("MLFLOW_TRACKING_URI", "HF_HUB_OFFLINE")


def job_env(root: str) -> dict[str, str]:
    """The environment a sweep's jobs get on a cluster (``hydra/launcher=ray``'s runtime env).

    The run root made absolute here, this launch's id (so every job writes into this sweep's
    folder), the sweep's parent run and :data:`FORWARDED_ENV` where set. A tracking URI that
    carries credentials is not forwarded (Ray keeps a job's runtime env in its metadata): set
    it on the nodes.
    """
    from pathlib import Path
    from urllib.parse import urlsplit

    from benchmarks.tracking import PARENT_RUN_ENV

    env = {"GROOMBENCH_HOME": str(Path(root).absolute()), LAUNCH_ENV: launch_id()}
    for name in (*FORWARDED_ENV, PARENT_RUN_ENV):
        value = os.environ.get(name)
        if not value:
            continue
        if name == "MLFLOW_TRACKING_URI" and "@" in urlsplit(value).netloc:
            log.warning("MLFLOW_TRACKING_URI carries credentials: set it on the Ray nodes")
            continue
        env[name] = value
    return env


if not OmegaConf.has_resolver("gb.launch"):
    OmegaConf.register_new_resolver("gb.launch", launch_id)
if not OmegaConf.has_resolver("gb.job_env"):
    OmegaConf.register_new_resolver("gb.job_env", job_env)


def _output_dir() -> str:
    return str(HydraConfig.get().runtime.output_dir)


def _plan(cfg: DictConfig) -> JobPlan:
    """Read the composed config once (with what Hydra knows of the command line)."""
    from benchmarks.jobplan import build_plan

    try:
        hydra_cfg = HydraConfig.get()
        choice: str | None = str(hydra_cfg.runtime.choices["detector"])
        task: list[str] = list(hydra_cfg.overrides.task)
    except (ValueError, KeyError):
        choice, task = None, []
    plan = build_plan(cfg, detector_choice=choice, task_overrides=task)
    from benchmarks.staging import clean_stale

    # What a killed run left half-written (a corpus cache file, a model folder) goes now.
    clean_stale(plan.paths.cache, plan.paths.models)
    return plan


def _fail(error: Exception, code: int = 2) -> NoReturn:
    # Something to change in the command or the data: one clear line, no traceback.
    from benchmarks.errors import bounded

    message = bounded(str(error))
    log.error("%s", message)
    print(f"groombench: error: {message}", file=sys.stderr)
    raise SystemExit(code) from None


def _private() -> None:
    """Everything this process creates is private to its user (0700 folders, 0600 files).

    Run folders hold what may quote chat text or name secrets: error details, logs, the
    prediction cache, the MLflow store, Hydra's record of the command line.
    """
    os.umask(0o077)


def entry() -> None:
    """``groombench``: ``--version`` prints groombench's version, ``--list`` what can be chosen
    (detectors, corpora, policies, protocols; one line each, with the extra each needs);
    anything else is Hydra's."""
    if "--version" in sys.argv[1:]:
        from importlib.metadata import version

        print(f"groombench {version('groombench')}")
        return
    if "--list" in sys.argv[1:]:
        from benchmarks.catalog import listing

        print(listing())
        return
    _fresh_launch()
    _private()
    main()


def _fresh_launch() -> None:
    """A command typed (or spawned) is a launch of its own: forget an inherited launch.

    The launch id and the sweep's parent run travel to a launch's own workers (joblib,
    submitit) through the environment. A ``groombench`` started from a process that holds them
    (a script, a notebook, another groombench, a test) must not write into that launch's
    folder or log under its parent: eight such commands once shared one folder and overwrote
    each other's results.
    """
    from benchmarks.tracking import PARENT_RUN_ENV

    os.environ.pop(LAUNCH_ENV, None)
    os.environ.pop(PARENT_RUN_ENV, None)


def train_entry() -> None:
    """``groombench-train``."""
    _fresh_launch()
    _private()
    train()


def prepare_entry() -> None:
    """``groombench-prepare``."""
    _fresh_launch()
    _private()
    prepare()


@hydra.main(version_base="1.3", config_path="pkg://configs", config_name="groombench")
def main(cfg: DictConfig) -> float | None:
    """Evaluate one detector on one corpus split (one job of a sweep)."""
    _private()  # also in joblib's worker processes
    from benchmarks.app import run_job
    from benchmarks.evaluation import AllConversationsFailed
    from benchmarks.leaderboard import summary_line

    try:
        plan = _plan(cfg)
        if plan.audit.plan_only:
            from benchmarks.app import plan_job

            print(plan_job(plan))
            return None
        from pathlib import Path

        from benchmarks.progress import set_job

        set_job(Path(_output_dir()).name)  # "0_lexicon": whose lines these are
        evaluation = run_job(plan, _output_dir())
    except ConfigError as error:
        _fail(error)
    except AllConversationsFailed as error:
        _fail(error, code=1)  # the run happened; its traces and error details are saved
    log.info(summary_line(evaluation.result))
    value = evaluation.result.metrics.get("f1")
    return None if value is None else float(value)  # for sweepers that optimise


@hydra.main(version_base="1.3", config_path="pkg://configs", config_name="prepare")
def prepare(cfg: DictConfig) -> None:
    """Check a corpus copy, build its cache, print its statistics."""
    from benchmarks.prepare import emit
    from benchmarks.prepare import prepare as run_prepare

    try:
        print(emit(run_prepare(_plan(cfg)), str(cfg.format)))
    except ConfigError as error:
        _fail(error)


@hydra.main(version_base="1.3", config_path="pkg://configs", config_name="train")
def train(cfg: DictConfig) -> None:
    """Fit the configured trainable detector on ``train_split``, save, log and register it."""
    from benchmarks.training import train_job

    try:
        lines = train_job(_plan(cfg))
    except ConfigError as error:
        _fail(error)
    print("\n".join(lines))
