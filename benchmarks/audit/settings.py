"""How to audit a run: the ``audit`` config node as a frozen value (light: no statistics load)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.audit.stats.bootstrap import BootstrapSettings

DEFAULT_PREVALENCES: tuple[float, ...] = (1e-4, 1e-3, 1e-2)


@dataclass(frozen=True)
class AuditSettings:
    """How to audit a run (the ``audit`` config node).

    Attributes:
        enabled: compute intervals and the report card for every run.
        n_resamples: bootstrap resamples.
        level: two-sided confidence level of every interval.
        method: ``bca`` (percentile fallback, recorded) or ``percentile``.
        seed: bootstrap seed.
        cluster_by: ``auto``, ``author`` or ``conversation`` (see
            :func:`benchmarks.audit.stats.clusters.conversation_clusters`).
        calibration_split: a split (never the scored one, nor one the detector learned from)
            on which thresholds at fixed FPR are set; None skips the fixed operating points.
        target_fprs: the FPRs of the fixed operating points.
        prevalences: deployment prevalences for PPV and false flags per million when no claim
            declares its own.
        report: write the report card (HTML, JSON, Markdown, CSV).
        reliability_sample: conversations (a seeded sample) re-scored in a second process at
            another batch size, whose scores must equal this run's; 0 skips the check.
        plan_only: print the claim's power plan and stop before any detector runs.
    """

    enabled: bool = True
    n_resamples: int = 10_000
    level: float = 0.95
    method: str = "bca"
    seed: int = 0
    cluster_by: str = "auto"
    calibration_split: str | None = None
    target_fprs: tuple[float, ...] = (1e-2, 1e-3, 1e-4)
    prevalences: tuple[Any, ...] = DEFAULT_PREVALENCES
    report: bool = True
    plan_only: bool = False
    reliability_sample: int = 50

    @classmethod
    def from_config(cls, node: Mapping[str, Any] | None, seed: int = 0) -> AuditSettings:
        """Build from the ``audit`` config node (plain data); unknown keys are refused."""
        data = dict(node or {})
        data.setdefault("seed", seed)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"audit: unknown key(s) {unknown}; the keys are {sorted(known)}")
        for key in ("target_fprs", "prevalences"):
            if key in data and data[key] is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    def bootstrap(self) -> BootstrapSettings:
        """The bootstrap settings these audit settings imply."""
        from benchmarks.audit.stats.bootstrap import BootstrapSettings

        return BootstrapSettings(
            n_resamples=self.n_resamples, level=self.level, seed=self.seed, method=self.method
        )
