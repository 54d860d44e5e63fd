"""The scenario catalogue: who talks to whom, on which platform, with which phrase banks.

Positive scenarios pair a groomer with a child; benign ones cover peers, parent-child,
teacher/coach-student, relatives and adult-adult chats; hard negatives (names starting
``hn_``) add cue lines that reuse grooming's surface words for ordinary reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.schema import ESCALATION_STAGES

from . import chatter
from .lookalikes import BORROWED, CUES, REPLIES
from .replies import CHILD_REPLIES
from .templates import GROOMER_BANKS, MID_STAGES, Template
from .vocab import split_values

Bank = tuple[Template, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A kind of conversation: its roles, phrase banks and, for positives, stage emphasis.

    ``lines``, ``talk`` and ``cues`` are per role (first role first). ``stage_boost``
    multiplies the default mid-conversation stage weights of a positive scenario.
    """

    name: str
    label: int
    relationship: str
    roles: tuple[str, str]
    lines: tuple[Bank, Bank]
    talk: tuple[Bank, Bank]
    platforms: tuple[str, ...]
    weight: float
    cues: tuple[Bank, Bank] = ((), ())
    ages: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None)
    reuse: tuple[float, float] = (0.0, 0.0)
    teen_share: float = 0.0
    stage_boost: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def hard(self) -> bool:
        """Whether this is a hard-negative scenario."""
        return self.label == 0 and bool(self.cues[0] or self.cues[1])


_G = chatter.GENERAL_TALK
_YOUNG = _G + chatter.YOUNG_TALK
_ADULT = _G + chatter.ADULT_TALK
_TEENS = ((12, 16), (12, 16))


_BY_TEXT: dict[str, Template] = {t.text: t for bank in GROOMER_BANKS.values() for t in bank}


def _borrow(texts: str) -> Bank:
    """Return the named groomer lines without their stage labels (benign uses)."""
    try:
        found = [_BY_TEXT[text] for text in split_values(texts)]
    except KeyError as error:
        raise ValueError(f"borrowed line is not in a groomer bank: {error}") from None
    return tuple(Template(t.text, (), t.reply, t.has_slots) for t in found)


def _cues(name: str) -> tuple[Bank, Bank]:
    own = CUES.get(name, ((), ()))
    borrowed = BORROWED.get(name, ("", ""))
    return own[0] + _borrow(borrowed[0]), own[1] + _borrow(borrowed[1])


def _talk(role: str, roles: tuple[str, str]) -> Bank:
    if role in ("child", "teen"):
        return _YOUNG
    return _ADULT if roles == ("adult", "adult") else _G


def _benign(
    name: str,
    relationship: str,
    roles: tuple[str, str],
    weight: float,
    platforms: tuple[str, ...],
    *,
    ages: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None),
    reuse: tuple[float, float] = (0.0, 0.0),
) -> Scenario:
    return Scenario(
        name=name,
        label=0,
        relationship=relationship,
        roles=roles,
        lines=chatter.ORDINARY[relationship],
        talk=(_talk(roles[0], roles), _talk(roles[1], roles)),
        platforms=platforms,
        weight=weight,
        cues=_cues(name),
        ages=ages,
        reuse=reuse,
    )


POSITIVE: tuple[Scenario, ...] = (
    Scenario(
        "grooming_gaming", 1, "groomer-child", ("groomer", "child"),
        (chatter.GAMING_LINES, chatter.GAMING_LINES), (_YOUNG, _YOUNG),
        ("roblox", "minecraft server", "fortnite", "discord server", "xbox live"), 0.45,
        teen_share=0.6, stage_boost={"gifts": 2.0, "platform_move": 1.3},
    ),
    Scenario(
        "grooming_social", 1, "groomer-child", ("groomer", "child"),
        (chatter.SOCIAL_LINES, chatter.SOCIAL_LINES), (_YOUNG, _YOUNG),
        ("instagram", "tiktok", "snapchat", "chat site"), 0.35,
        teen_share=0.65, stage_boost={"compliments": 1.6, "image_request": 1.4},
    ),
    Scenario(
        "grooming_mentor", 1, "groomer-child", ("groomer", "child"),
        (chatter.MENTOR_LINES, chatter.STUDENT_LINES + chatter.ATHLETE_LINES), (_YOUNG, _YOUNG),
        ("forum", "discord server", "messenger", "homework help site"), 0.20,
        stage_boost={"exclusivity": 1.6, "isolation": 1.6, "approach": 1.4},
    ),
)  # fmt: skip

ORDINARY: tuple[Scenario, ...] = (
    _benign(
        "peers_chat",
        "peers",
        ("teen", "teen"),
        0.25,
        ("snapchat", "instagram", "sms"),
        ages=_TEENS,
        reuse=(0.2, 0.2),
    ),
    _benign("parent_child", "parent_child", ("parent", "child"), 0.18, ("sms", "whatsapp")),
    _benign(
        "teacher_student",
        "teacher_student",
        ("teacher", "child"),
        0.08,
        ("school portal", "email"),
        reuse=(0.4, 0.0),
    ),
    _benign(
        "coach_student",
        "coach_student",
        ("coach", "child"),
        0.07,
        ("team app", "sms"),
        reuse=(0.4, 0.0),
    ),
    _benign(
        "relative_child",
        "relative_child",
        ("relative", "child"),
        0.10,
        ("sms", "whatsapp", "messenger"),
    ),
    _benign(
        "adults_chat",
        "adults",
        ("adult", "adult"),
        0.27,
        ("sms", "whatsapp", "slack"),
        reuse=(0.15, 0.15),
    ),
    _benign("siblings_chat", "siblings", ("teen", "teen"), 0.05, ("sms", "whatsapp"), ages=_TEENS),
)

HARD: tuple[Scenario, ...] = (
    _benign(
        "hn_peers_age_school",
        "peers",
        ("teen", "teen"),
        0.20,
        ("snapchat", "instagram", "chat app"),
        ages=_TEENS,
    ),
    _benign(
        "hn_gaming_voice",
        "peers",
        ("teen", "teen"),
        0.20,
        ("roblox", "fortnite", "minecraft server"),
        ages=((12, 19), (12, 19)),
        reuse=(0.2, 0.2),
    ),
    _benign("hn_surprise_party", "parent_child", ("parent", "child"), 0.10, ("sms", "whatsapp")),
    _benign(
        "hn_coach_meeting",
        "coach_student",
        ("coach", "child"),
        0.10,
        ("team app", "sms"),
        reuse=(0.4, 0.0),
    ),
    _benign("hn_adults_date", "adults", ("adult", "adult"), 0.15, ("dating app",)),
    _benign(
        "hn_relative_gift",
        "relative_child",
        ("relative", "child"),
        0.10,
        ("sms", "whatsapp", "messenger"),
    ),
    _benign(
        "hn_teacher_praise",
        "teacher_student",
        ("teacher", "child"),
        0.10,
        ("school portal", "email"),
        reuse=(0.4, 0.0),
    ),
    _benign(
        "hn_siblings_secret", "siblings", ("teen", "teen"), 0.05, ("sms", "whatsapp"), ages=_TEENS
    ),
)

#: Hard negatives added in version 2 (version 1's list, and so its output, is unchanged).
HARD_V2: tuple[Scenario, ...] = (
    _benign(
        "hn_tutor_video",
        "teacher_student",
        ("teacher", "child"),
        0.10,
        ("video call app", "email"),
        reuse=(0.4, 0.0),
    ),
)

#: Every reply key a line may invite, with the bank the other speaker answers from.
REPLY_BANKS: dict[str, Bank] = {**REPLIES, **CHILD_REPLIES}


def check_catalogue() -> None:
    """Raise ValueError when the catalogue breaks a generator invariant.

    Benign lines must carry no stage labels, every reply key must name a reply bank, no
    template may carry the ``sexual`` stage, and no pre-escalation (middle-stage) groomer line
    may carry an escalation stage, or escalation would come before the planned point.
    """
    for stage in MID_STAGES:
        for template in GROOMER_BANKS[stage]:
            if ESCALATION_STAGES.intersection(template.stages):
                raise ValueError(f"middle-stage line carries an escalation stage: {template}")
    banks: list[tuple[str, Bank, bool]] = []
    for scenario in POSITIVE + ORDINARY + HARD + HARD_V2:
        if scenario.name.startswith("hn_") != scenario.hard:
            raise ValueError(f"hard negatives, and only they, are named hn_*: {scenario.name}")
        cues = tuple(bank for bank in scenario.cues if bank)
        for bank in scenario.lines + scenario.talk + cues:
            banks.append((scenario.name, bank, False))
    banks.extend((stage, bank, True) for stage, bank in GROOMER_BANKS.items())
    banks.extend((key, bank, True) for key, bank in CHILD_REPLIES.items())
    banks.extend((key, bank, False) for key, bank in REPLIES.items())
    banks.append(("filler", chatter.FILLER, False))
    for where, bank, labelled in banks:
        if not bank:
            raise ValueError(f"empty bank in {where}")
        for template in bank:
            if template.stages and not labelled:
                raise ValueError(f"benign line carries stages in {where}: {template.text!r}")
            if "sexual" in template.stages:
                raise ValueError(f"'sexual' stage in {where}")
            if template.reply and template.reply not in REPLY_BANKS:
                raise ValueError(f"unknown reply bank {template.reply!r} in {where}")


check_catalogue()
