"""The ``perturb`` section: which perturbation families a run re-scores, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from benchmarks.perturbations import FAMILIES

AUTHOR_MODES = ("groomer", "all")


@dataclass(frozen=True)
class PerturbSettings:
    """How a run's robustness is measured (``perturb=none|spelling|all``, docs/groomcheck.md).

    Attributes:
        families: perturbation families (keys of :data:`benchmarks.perturbations.FAMILIES`)
            applied, one at a time, to the scored split; empty = no robustness run.
        rate: the share of eligible words or characters each family changes, in (0, 1].
        authors: ``groomer``: on positives the groomers' messages, on negatives the messages
            of the person the case is about (GroomCheck's ``focus_author``) or, where the corpus
            does not say, every author's; ``all``: every message.
        seed: seeds every perturbation (per conversation, so order does not matter).
        n_resamples: the paired cluster bootstrap's resamples for the change in recall, FPR
            and time to detection.
        level: the intervals' two-sided confidence level.

    Examples:
        >>> PerturbSettings.from_config({"families": ["leetspeak"], "rate": 0.5}, seed=3)
        PerturbSettings(families=('leetspeak',), rate=0.5, authors='groomer', seed=3, n_resamples=2000, level=0.95)
        >>> PerturbSettings.from_config({"families": ["rot13"]}, seed=0)
        Traceback (most recent call last):
        ...
        ValueError: unknown perturbation family 'rot13'; one of char_swap, char_delete, space_delete, space_add, leetspeak, homoglyph, zero_width, emoji, platform_names
    """  # noqa: E501

    families: tuple[str, ...] = ()
    rate: float = 0.3
    authors: str = "groomer"
    seed: int = 0
    n_resamples: int = 2000
    level: float = 0.95

    def __post_init__(self) -> None:
        for family in self.families:
            if family not in FAMILIES:
                raise ValueError(
                    f"unknown perturbation family {family!r}; one of {', '.join(FAMILIES)}"
                )
        if len(set(self.families)) != len(self.families):
            raise ValueError("perturb.families lists a family twice")
        if not 0.0 < self.rate <= 1.0:
            raise ValueError(f"perturb.rate must be in (0, 1], got {self.rate!r}")
        if self.authors not in AUTHOR_MODES:
            raise ValueError(
                f"perturb.authors must be one of {', '.join(AUTHOR_MODES)}, got {self.authors!r}"
            )
        if self.n_resamples < 100:
            raise ValueError(f"perturb.n_resamples must be >= 100, got {self.n_resamples}")
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"perturb.level must be in (0, 1), got {self.level!r}")

    @classmethod
    def from_config(cls, data: Mapping[str, Any] | None, *, seed: int) -> PerturbSettings:
        """Read the config section (absent = no robustness run); unknown keys are refused."""
        values = dict(data or {})
        values.pop("name", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown perturb setting(s) {unknown}; known: {sorted(known)}")
        values["families"] = tuple(values.get("families") or ())
        values.setdefault("seed", seed)
        return cls(**values)

    def with_families(self, families: tuple[str, ...]) -> PerturbSettings:
        """The same settings for other families (GroomCheck runs every family by default)."""
        return PerturbSettings(
            families, self.rate, self.authors, self.seed, self.n_resamples, self.level
        )
