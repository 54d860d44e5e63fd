"""Hydra callbacks: one MLflow parent run per sweep, and the leaderboard when the sweep ends."""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepCallback(Callback):
    """Create the sweep's parent run once, in the launching process, before any job starts.

    Children attach to it by id (read from the sweep folder, or the environment). Creating the
    SQLite store here, once, also avoids the race of several jobs creating it at the same time.
    """

    def __init__(self) -> None:
        self._uri: str | None = None
        self._parent: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from benchmarks import tracking

        sweep_dir = Path(str(config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if not config.tracking.enabled:
            return
        root = Path(str(config.paths.root)).expanduser().resolve()
        self._uri = tracking.resolve_uri(config.tracking.uri, root)
        self._parent = tracking.start_parent_run(
            self._uri, str(config.tracking.experiment), f"sweep {sweep_dir.name}"
        )
        (sweep_dir / tracking.PARENT_RUN_FILE).write_text(self._parent)
        os.environ[tracking.PARENT_RUN_ENV] = self._parent
        # Hydra skips on_multirun_end when a job raises: close the parent run (FAILED) and show
        # the jobs that did finish at exit instead, so nothing is left RUNNING or unreported.
        atexit.register(self._finish, sweep_dir, "FAILED")

    def _finish(self, sweep_dir: Path, status: str) -> None:
        from benchmarks import tracking
        from benchmarks.leaderboard import print_sweep

        if self._uri and self._parent:
            tracking.end_parent_run(self._uri, self._parent, status)
            os.environ.pop(tracking.PARENT_RUN_ENV, None)
            self._parent = None
            if status != "FINISHED":
                print(f"\nsweep {status}: results of the jobs that finished:")
            print_sweep(sweep_dir, self._uri)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from benchmarks.leaderboard import print_sweep

        sweep_dir = Path(str(config.hydra.sweep.dir))
        if self._parent:
            self._finish(sweep_dir, "FINISHED")
        else:
            print_sweep(sweep_dir, self._uri)
