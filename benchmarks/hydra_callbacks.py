"""Hydra callbacks: one MLflow parent run per sweep, and the leaderboard when the sweep ends."""

from __future__ import annotations

import atexit
import logging
import os
import signal
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepCallback(Callback):
    """Create the sweep's parent run once, in the launching process, before any job starts.

    Children attach to it by id (read from the sweep folder, or the environment). Creating the
    SQLite store here, once, also avoids the race of several jobs creating it at the same time.
    Hydra skips ``on_multirun_end`` when a job raises, so the parent run is also closed (FAILED,
    or KILLED on SIGINT/SIGTERM) and the finished jobs' table printed at exit.
    """

    def __init__(self) -> None:
        self._uri: str | None = None
        self._parent: str | None = None
        self._done = False
        self._status = "FAILED"

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from benchmarks import tracking

        if config.get("audit") is not None and config.audit.get("plan_only"):
            self._plan_only(config)
        sweep_dir = Path(str(config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self._finish, sweep_dir)
        self._catch_signals()
        from benchmarks.errors import ConfigError
        from benchmarks.jobplan import paths_of, tracking_of

        try:
            settings = tracking_of(config, paths_of(config))
        except ConfigError as error:
            import sys

            print(f"groombench: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        if not settings.enabled or settings.uri is None:
            return
        try:
            self._parent = tracking.start_parent_run(
                settings.uri, settings.experiment, f"sweep {sweep_dir.name}"
            )
        except ConfigError as error:  # the store cannot be reached: say so once, run nothing
            import shutil
            import sys

            print(f"groombench: error: {error}", file=sys.stderr)
            self._done = True
            shutil.rmtree(sweep_dir, ignore_errors=True)
            raise SystemExit(2) from None
        self._uri = settings.uri
        (sweep_dir / tracking.PARENT_RUN_FILE).write_text(self._parent)
        os.environ[tracking.PARENT_RUN_ENV] = self._parent

    @staticmethod
    def _plan_only(config: DictConfig) -> None:
        """Plan-only mode: print the claim's plan once, for the whole sweep, and run nothing."""
        import sys

        from benchmarks.app import plan_job
        from benchmarks.errors import ConfigError

        try:
            from benchmarks.jobplan import build_plan

            print(plan_job(build_plan(config)))
        except ConfigError as error:
            print(f"groombench: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        raise SystemExit(0)

    def _catch_signals(self) -> None:
        def stop(signum: int, frame: Any) -> None:
            del frame
            self._status = "KILLED"
            # Turn the signal into a normal exit so that atexit closes the parent run.
            raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                signal.signal(sig, stop)
            except ValueError:  # not the main thread: leave the handlers alone
                return

    def _finish(self, sweep_dir: Path, status: str | None = None) -> None:
        from benchmarks import tracking
        from benchmarks.leaderboard import print_sweep

        if self._done:
            return
        self._done = True
        status = status or self._status
        if self._uri and self._parent:
            tracking.end_parent_run(self._uri, self._parent, status)
            os.environ.pop(tracking.PARENT_RUN_ENV, None)
        _scrub_multirun(sweep_dir / "multirun.yaml")
        finished = list(sweep_dir.glob("*/results.json"))
        if status != "FINISHED" and not finished:
            # Every job failed, and each said why in one line: no block, no empty folder.
            import shutil

            shutil.rmtree(sweep_dir, ignore_errors=True)
            return
        if status != "FINISHED":
            jobs = [d for d in sweep_dir.iterdir() if d.is_dir() and d.name[:1].isdigit()]
            if len(jobs) <= 1:
                # One job, and it said why in one line; its folder keeps what it saved (the
                # error details of a detector that failed on every conversation).
                print(f"groombench: the job's files: {jobs[0] if jobs else sweep_dir}")
                return
            print(f"\nsweep {status}: results of the jobs that finished:")
        print_sweep(sweep_dir, self._uri)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._finish(Path(str(config.hydra.sweep.dir)), "FINISHED")


def _scrub_multirun(path: Path) -> None:
    """Rewrite Hydra's ``multirun.yaml`` (the sweep's config and command line) without secrets.

    Hydra writes it before any job runs, with the overrides as typed; groombench keeps the
    file (it records the sweep) but masks what may be secret, as everywhere else.
    """
    if not path.is_file():
        return
    import yaml

    from benchmarks.jobplan import public_arg
    from benchmarks.secrets import scrub, secret_values

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        path.unlink(missing_ok=True)  # unreadable: safer gone than kept unmasked
        return
    values = secret_values()
    overrides = (data.get("hydra") or {}).get("overrides") or {} if isinstance(data, dict) else {}
    for key in ("task", "hydra"):
        if isinstance(overrides.get(key), list):
            overrides[key] = [public_arg(str(arg), values) for arg in overrides[key]]
    path.write_text(yaml.safe_dump(scrub(data, values), sort_keys=False), encoding="utf-8")
