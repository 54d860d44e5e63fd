"""Where scoring runs: ``runner.backend`` and ``runner.ray.*`` (docs/scale-out.md).

These settings say where the numbers were computed, never what they are: they are left out of
the result (``results.json`` is the same for every backend and shard count) and out of the
config hash the reliability section records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BACKENDS = ("local", "ray")

#: The config keys that say where a run scored, not what it computed.
EXECUTION_KEYS = ("backend", "ray")


@dataclass(frozen=True)
class RaySettings:
    """How the Ray backend runs (``runner.ray.*``).

    Attributes:
        address: a Ray cluster to join (``host:port`` of its head, or ``auto``); None starts
            a local Ray on this machine's cores, bound to 127.0.0.1, for this run only.
        workers: shard workers (Ray actors, each loading the detector once); None gives one
            per ``cpus_per_worker`` CPUs of the cluster.
        shards: how many shards the split is cut into; None gives one per worker. More shards
            than workers make smaller units of work to resume and balance.
        cpus_per_worker: CPUs each actor reserves.
        gpus_per_worker: GPUs each actor reserves (a fraction shares one GPU).
        resume: reuse the shards that an earlier run with the same settings finished.
    """

    address: str | None = None
    workers: int | None = None
    shards: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    resume: bool = True

    def __post_init__(self) -> None:
        for name in ("workers", "shards"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"runner.ray.{name} must be >= 1 or null, got {value}")
        if self.cpus_per_worker <= 0:
            raise ValueError(f"runner.ray.cpus_per_worker must be > 0, got {self.cpus_per_worker}")
        if self.gpus_per_worker < 0:
            raise ValueError(f"runner.ray.gpus_per_worker must be >= 0, got {self.gpus_per_worker}")


@dataclass(frozen=True)
class Backend:
    """``runner.backend`` (``local``: this process; ``ray``: shards on Ray) and its settings."""

    name: str = "local"
    ray: RaySettings = RaySettings()

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise ValueError(
                f"runner.backend must be one of {', '.join(BACKENDS)}, got {self.name!r}"
            )

    @classmethod
    def of(cls, runner: Mapping[str, Any]) -> Backend:
        """Read ``runner.backend`` and ``runner.ray`` from the runner's config section."""
        ray = dict(runner.get("ray") or {})
        known = set(RaySettings.__dataclass_fields__)
        unknown = sorted(set(ray) - known)
        if unknown:
            raise ValueError(
                f"unknown runner.ray setting(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known))}"
            )
        return cls(name=str(runner.get("backend", "local")), ray=RaySettings(**ray))
