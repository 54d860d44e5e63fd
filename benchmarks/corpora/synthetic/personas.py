"""Personas (who writes) and the cast that creates them with unique ids and fixed splits.

Splits are author-disjoint by construction: every persona is created inside one split and only
ever reused within it. A groomer persona is created with a number of victims (1-4) and all of
its conversations share its split; each victim is a fresh child persona.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import vocab
from .noise import Style, draw_style

#: Real age range per role (a groomer posing as a teen also gets a claimed age).
ROLE_AGES: dict[str, tuple[int, int]] = {
    "groomer": (19, 58),
    "child": (10, 15),
    "teen": (12, 16),
    "parent": (30, 55),
    "teacher": (24, 62),
    "coach": (20, 55),
    "relative": (25, 75),
    "adult": (19, 65),
}
YOUNG_ROLES: frozenset[str] = frozenset({"child", "teen"})
#: Claimed age range of a groomer who poses as a teen.
POSED_AGES: tuple[int, int] = (13, 16)
#: Probability weights of a groomer's number of victims, 1..4.
VICTIM_WEIGHTS: tuple[float, ...] = (0.45, 0.30, 0.15, 0.10)


@dataclass(frozen=True, slots=True)
class Persona:
    """One author: id, role, ages, home facts used in slot filling, split and writing style."""

    author_id: str
    role: str
    name: str
    age: int
    claimed_age: int
    poses_as_teen: bool
    town: str
    school: str
    split: str
    style: Style
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class _Groomer:
    persona: Persona
    scenario: str
    remaining: int
    victims: int = 0


class Cast:
    """Create personas with unique ids, assign splits, and reuse some within their split.

    Args:
        rng: the generator's random source (shared, so output depends only on the seed).
        test_fraction: probability that a new groomer, or a new benign conversation, is "test".
    """

    def __init__(self, rng: random.Random, test_fraction: float) -> None:
        self._rng = rng
        self._test_fraction = test_fraction
        self._ids: set[str] = set()
        self._pools: dict[tuple[str, str, tuple[int, int] | None], list[Persona]] = {}
        self._groomers: list[_Groomer] = []

    def draw_split(self) -> str:
        """Return "test" with probability ``test_fraction``, else "train"."""
        return "test" if self._rng.random() < self._test_fraction else "train"

    def _new_id(self) -> str:
        while True:
            author_id = f"{self._rng.getrandbits(128):032x}"
            if author_id not in self._ids:
                self._ids.add(author_id)
                return author_id

    def new(
        self,
        role: str,
        split: str,
        *,
        ages: tuple[int, int] | None = None,
        poses_as_teen: bool = False,
    ) -> Persona:
        """Create a fresh persona of ``role`` in ``split``."""
        rng = self._rng
        low, high = ages or ROLE_AGES[role]
        age = rng.randint(low, high)
        claimed = rng.randint(*POSED_AGES) if poses_as_teen else age
        town = vocab.pick_town(rng)
        young = role in YOUNG_ROLES or poses_as_teen or (role == "groomer" and rng.random() < 0.3)
        author_id = self._new_id()
        meta: dict[str, Any] = {"id": author_id, "role": role, "age": age}
        if role == "groomer":
            meta["claimed_age"] = claimed
            meta["poses_as_teen"] = poses_as_teen
        return Persona(
            author_id=author_id,
            role=role,
            name=vocab.pick_name(rng),
            age=age,
            claimed_age=claimed,
            poses_as_teen=poses_as_teen,
            town=town,
            school=vocab.school_name(rng, town),
            split=split,
            style=draw_style(rng, young=young),
            meta=meta,
        )

    def pick(
        self, role: str, split: str, *, reuse: float = 0.0, ages: tuple[int, int] | None = None
    ) -> Persona:
        """Return a persona of ``role`` in ``split``: with probability ``reuse`` a recent one."""
        pool = self._pools.setdefault((role, split, ages), [])
        if pool and reuse and self._rng.random() < reuse:
            return pool[int(self._rng.random() * len(pool))]
        persona = self.new(role, split, ages=ages)
        if reuse:
            pool.append(persona)
            if len(pool) > 64:
                pool.pop(0)
        return persona

    def groomer(
        self, draw_scenario: Callable[[float], str], teen_share: Mapping[str, float]
    ) -> tuple[Persona, str, int]:
        """Return a groomer, the scenario they use, and which victim (1-based) this one is.

        Half the time an active groomer with victims left is reused; otherwise a new groomer is
        created with 1-4 planned victims, a split, and a scenario (``draw_scenario`` maps a
        uniform number to a scenario name; ``teen_share`` gives, per scenario, the probability
        that the groomer poses as a teen).
        """
        rng = self._rng
        active = self._groomers
        if active and rng.random() < 0.5:
            slot = int(rng.random() * len(active))
            entry = active[slot]
        else:
            scenario = draw_scenario(rng.random())
            victims = rng.choices(range(1, len(VICTIM_WEIGHTS) + 1), VICTIM_WEIGHTS)[0]
            poses = rng.random() < teen_share[scenario]
            persona = self.new("groomer", self.draw_split(), poses_as_teen=poses)
            entry = _Groomer(persona, scenario, victims)
            active.append(entry)
            slot = len(active) - 1
        entry.remaining -= 1
        entry.victims += 1
        if entry.remaining <= 0:
            active[slot] = active[-1]
            active.pop()
        return entry.persona, entry.scenario, entry.victims
