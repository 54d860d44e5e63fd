"""Conversation plans: who speaks each message, which template it uses, and its stage labels.

Grooming conversations follow the stage models loosely (DOMAIN §2): a few rapport messages,
an onset probe, a middle where personal-information, risk-check, compliment, exclusivity,
gift, secrecy and isolation lines mix with small talk (weights drift from the first kinds to
the last), and, in most conversations, an escalation (platform move, image request or
approach) somewhere in the second half, after which late and middle stages mix. Benign plans
mix everyday lines, small talk and filler; hard negatives add cue lines.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable, Mapping
from itertools import accumulate

from . import chatter
from .scenarios import POSITIVE, REPLY_BANKS, Scenario
from .templates import GROOMER_BANKS, Template

#: Share of grooming conversations that reach an escalation message (the rest are cut before).
ESCALATION_SHARE = 0.7
#: Length models: (median, log-sd, minimum, maximum) of a log-normal, in messages.
POSITIVE_LENGTH = (14.0, 0.7, 6, 150)
NEGATIVE_LENGTH = (8.8, 0.55, 3, 150)
#: A few benign chats are long, like PAN12's long IRC sessions: (share, median, log-sd).
LONG_NEGATIVE = (0.02, 45.0, 0.5)
#: Probability that the next message comes from the other author.
SWITCH = 0.72
#: Rapport messages before the onset probe: values and weights.
RAPPORT = ((1, 2, 3, 4, 5, 6, 8), (0.08, 0.17, 0.22, 0.2, 0.15, 0.1, 0.08))

_MID_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "personal_info": (4.0, 2.5, 1.2, 0.6),
    "risk_check": (1.2, 2.0, 1.8, 1.2),
    "compliments": (2.5, 2.2, 1.8, 1.5),
    "exclusivity": (0.6, 1.4, 2.0, 2.2),
    "gifts": (1.0, 1.5, 1.5, 1.2),
    "secrecy": (0.3, 1.0, 1.8, 2.2),
    "isolation": (0.2, 0.7, 1.4, 1.8),
}
_LATE_WEIGHTS: dict[str, tuple[float, float]] = {
    "platform_move": (2.0, 0.8),
    "image_request": (1.0, 1.2),
    "approach": (0.8, 2.0),
    "secrecy": (1.2, 1.6),
    "exclusivity": (0.8, 0.8),
    "compliments": (0.8, 0.5),
    "risk_check": (0.6, 0.8),
    "gifts": (0.5, 0.4),
}
_ONSET_WEIGHTS = {"personal_info": 0.65, "compliments": 0.15, "gifts": 0.1, "risk_check": 0.1}
_ESCALATION_WEIGHTS = {"platform_move": 0.45, "image_request": 0.2, "approach": 0.35}


class Table:
    """A weighted choice over items, drawn with one uniform number."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.items: tuple[str, ...] = tuple(weights)
        self.cumulative: list[float] = list(accumulate(weights.values()))
        self.total: float = self.cumulative[-1]

    def draw(self, u: float) -> str:
        """Return the item whose cumulative-weight interval holds ``u`` (uniform in [0, 1))."""
        return self.items[min(bisect(self.cumulative, u * self.total), len(self.items) - 1)]


class _StagePlan:
    """A positive scenario's stage tables, with its ``stage_boost`` applied."""

    __slots__ = ("escalation", "late", "mid", "onset")

    def __init__(self, scenario: Scenario) -> None:
        boost = scenario.stage_boost

        def table(weights: dict[str, float]) -> Table:
            return Table({s: w * boost.get(s, 1.0) for s, w in weights.items()})

        self.mid = [table({s: w[b] for s, w in _MID_WEIGHTS.items()}) for b in range(4)]
        self.late = [table({s: w[b] for s, w in _LATE_WEIGHTS.items()}) for b in range(2)]
        self.onset = table(_ONSET_WEIGHTS)
        self.escalation = table(_ESCALATION_WEIGHTS)


_PLANS = {scenario.name: _StagePlan(scenario) for scenario in POSITIVE}
_RAPPORT_LABELS: tuple[str, ...] = ("rapport",)
_NONE: tuple[str, ...] = ()


def draw_length(rng: random.Random, *, positive: bool) -> int:
    """Draw a conversation length in messages from the class's log-normal model."""
    median, sigma, low, high = POSITIVE_LENGTH if positive else NEGATIVE_LENGTH
    if not positive and rng.random() < LONG_NEGATIVE[0]:
        median, sigma = LONG_NEGATIVE[1], LONG_NEGATIVE[2]
    return max(low, min(high, int(median * math.exp(sigma * rng.gauss(0.0, 1.0)) + 0.5)))


def _speakers(n: int, first: int, r: Callable[[], float]) -> list[int]:
    out = [0] * n
    speaker = first
    for i in range(n):
        out[i] = speaker
        if r() < SWITCH:
            speaker ^= 1
    return out


Plan = tuple[list[int], list[Template], list[tuple[str, ...]]]


def groomer_turns(rng: random.Random, speakers: list[int]) -> tuple[int, int, float]:
    """Draw a grooming plan's onset, escalation and stage intensity; speaker 0 gets both turns.

    The escalation is ``len(speakers)`` when the conversation is cut before one. Version 2's
    benign plans draw the same (:func:`.plans_v2.mirror_groomer_turns`).
    """
    r, n = rng.random, len(speakers)
    onset = min(rng.choices(*RAPPORT)[0] + int(n * 0.08 * r()), n // 3)
    speakers[onset] = 0
    escalation = n
    if r() < ESCALATION_SHARE:
        low = max(onset + 1, n // 2)
        escalation = low + int(r() * (n - low))
        speakers[escalation] = 0
    intensity = 0.2 + 0.45 * r()
    return onset, escalation, intensity


def plan_positive(rng: random.Random, scenario: Scenario, n: int) -> Plan:
    """Plan a grooming conversation: groomer is speaker 0, the child speaker 1."""
    r = rng.random
    plan = _PLANS[scenario.name]
    speakers = _speakers(n, 0 if r() < 0.7 else 1, r)
    onset, escalation, intensity = groomer_turns(rng, speakers)
    talk, lines, filler = scenario.talk, scenario.lines, chatter.FILLER
    templates: list[Template] = []
    labels: list[tuple[str, ...]] = []
    pending = ""
    for i in range(n):
        if speakers[i] == 0:
            stage = ""
            if i == onset:
                stage = plan.onset.draw(r())
            elif i == escalation:
                stage = plan.escalation.draw(r())
            elif onset < i < escalation and r() < intensity:
                stage = plan.mid[min(3, int(4 * (i - onset) / (escalation - onset)))].draw(r())
            elif i > escalation and r() < intensity:
                stage = plan.late[min(1, int(2 * (i - escalation) / (n - escalation)))].draw(r())
            if stage:
                bank = GROOMER_BANKS[stage]
                template = bank[int(r() * len(bank))]
                pending = template.reply
                templates.append(template)
                labels.append(template.stages)
                continue
            u = r()
            bank = talk[0] if u < 0.45 else lines[0] if u < 0.75 else filler
            templates.append(bank[int(r() * len(bank))])
            labels.append(_RAPPORT_LABELS if u < 0.75 else _NONE)
        else:
            if pending:
                bank = REPLY_BANKS[pending]
                pending = ""
                template = bank[int(r() * len(bank))]
                templates.append(template)
                labels.append(template.stages)
                continue
            u = r()
            bank = talk[1] if u < 0.45 else lines[1] if u < 0.75 else filler
            templates.append(bank[int(r() * len(bank))])
            labels.append(_NONE)
    return speakers, templates, labels


def plan_negative(rng: random.Random, scenario: Scenario, n: int) -> Plan:
    """Plan a benign conversation; hard negatives get 1-4 cue lines at random positions."""
    r = rng.random
    speakers = _speakers(n, 0 if r() < 0.6 else 1, r)
    cues = scenario.cues
    cue_at: set[int] = set()
    if scenario.hard:
        cue_at = {int(r() * n) for _ in range(1 + min(3, int(n * r() / 6)))}
    talk, lines, filler = scenario.talk, scenario.lines, chatter.FILLER
    templates: list[Template] = []
    pending, asker = "", -1
    for i in range(n):
        speaker = speakers[i]
        if i in cue_at:
            if not cues[speaker] or (cues[1 - speaker] and r() < 0.3):
                speaker = speakers[i] = 1 - speaker
            bank = cues[speaker]
        elif pending and speaker != asker and r() < 0.9:
            bank = REPLY_BANKS[pending]
            pending = ""
        else:
            u = r()
            bank = lines[speaker] if u < 0.45 else talk[speaker] if u < 0.8 else filler
        template = bank[int(r() * len(bank))]
        if template.reply:
            pending, asker = template.reply, speaker
        elif speaker != asker:
            pending = ""
        templates.append(template)
    return speakers, templates, [_NONE] * n
