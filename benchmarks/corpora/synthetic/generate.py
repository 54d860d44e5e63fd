"""The generator: casts personas, plans each conversation, renders noisy timed text.

One ``random.Random(seed)`` drives everything, so the same arguments give the same records on
every machine and under any ``PYTHONHASHSEED`` (no ``hash()`` of strings, no global random
state). The hot loops use ``rng.random()`` and list indexing only (no regular expressions, no
copies of templates) to keep two million messages within seconds.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from typing import Any

from benchmarks.schema import (
    ESCALATION_STAGES,
    ONSET_STAGES,
    SCHEMA_VERSION,
    content_fingerprint,
    first_index_with,
)

from . import plans_v2, vocab
from .noise import apply_style
from .personas import Cast, Persona
from .plans import Plan, Table, draw_length, plan_negative, plan_positive
from .scenarios import HARD, HARD_V2, ORDINARY, POSITIVE, Scenario

#: Bump whenever the output for given arguments changes; part of the corpus fingerprint.
GENERATOR_VERSION = "1.0.0"
#: The version-2 generator (matched shapes, held-out phrasing): its own fingerprint. 2.1.0 adds
#: topic threads (follow-up questions); its fingerprint also covers every phrase bank's text.
GENERATOR_VERSION_2 = "2.1.0"
#: Corpus versions: ``version`` argument → generator version.
VERSIONS: dict[int, str] = {1: GENERATOR_VERSION, 2: GENERATOR_VERSION_2}
#: Conversations start uniformly within this many seconds after ``start_time``.
SPAN_SECONDS = 180 * 86_400.0
#: Gap model between consecutive messages: cumulative probabilities of a multi-day break,
#: a break of hours, and a pause of minutes; otherwise a within-burst gap of seconds.
GAP_DAY, GAP_HOURS, GAP_MINUTES = 0.004, 0.019, 0.07


def _slots(me: Persona, other: Persona, shared: dict[str, str]) -> dict[str, str]:
    slots = dict(shared)
    slots.update(
        name=other.name,
        me=me.name,
        age=str(me.claimed_age),
        yage=str(other.age),
        grade=vocab.grade_of(me.age),
        school=me.school,
        town=me.town,
        ytown=other.town,
    )
    return slots


def _render(
    rng: random.Random, personas: tuple[Persona, Persona], plan: Plan, start: float
) -> list[dict[str, Any]]:
    """Fill slots, apply each author's style noise and chat-time gaps; return the messages."""
    speakers, templates, labels = plan
    shared = vocab.conversation_slots(rng)
    slots = (_slots(personas[0], personas[1], shared), _slots(personas[1], personas[0], shared))
    ids = (personas[0].author_id, personas[1].author_id)
    styles = (personas[0].style, personas[1].style)
    r, gauss, exp = rng.random, rng.gauss, math.exp
    messages: list[dict[str, Any]] = []
    t = start
    previous = -1
    for i, template in enumerate(templates):
        s = speakers[i]
        text = template.text.format_map(slots[s]) if template.has_slots else template.text
        text = apply_style(text, styles[s], rng)
        if i:
            u = r()
            if u < GAP_DAY:
                gap = 86_400.0 * (1.0 + 3.0 * r())
            elif u < GAP_HOURS:
                gap = 3_600.0 * exp(2.4849 * r())  # 1-12 hours
            elif u < GAP_MINUTES:
                gap = 180.0 * exp(2.9957 * r())  # 3-60 minutes
            else:  # reading and answering (shorter within one author's burst) plus typing
                pause = 5.0 if s == previous else 12.0
                gap = pause * exp(0.8 * gauss(0.0, 1.0)) + 0.15 * len(text)
            t = round(t + gap, 3)
        previous = s
        messages.append(
            {"author": ids[s], "text": text, "time": t, "index": i + 1, "stages": list(labels[i])}
        )
    return messages


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


def generate_records(
    n_conversations: int,
    *,
    seed: int = 0,
    positive_fraction: float = 0.3,
    hard_negative_fraction: float = 0.5,
    test_fraction: float = 0.3,
    start_time: float = 1_700_000_000.0,
    version: int = 2,
) -> Iterator[dict[str, Any]]:
    """Yield ``n_conversations`` synthetic schema records, reproducibly.

    Args:
        n_conversations: how many conversations to yield.
        seed: the only source of randomness; equal arguments give equal records.
        positive_fraction: share of grooming conversations (rounded to a count).
        hard_negative_fraction: share of the benign conversations that are hard negatives.
        test_fraction: probability that a groomer (with all their conversations), or a benign
            conversation's new authors, land in "test"; splits are author-disjoint.
        start_time: epoch seconds; conversations start within 180 days after it.
        version: 2 (default): one length and turn-taking model for both classes, held-out
            phrasing (every phrase on one side, train conversations using one side, the
            others the other) and answers that fit their questions (docs/synthetic.md); 1:
            the original generator, its output unchanged.

    Returns:
        An iterator of dicts with exactly the keys of :data:`benchmarks.schema.FEATURES`.

    Raises:
        ValueError: on a negative count or a fraction outside [0, 1] (raised at the call).

    Examples:
        >>> records = list(generate_records(3, seed=1))
        >>> len(records), records[0]["source"], records[0]["messages"][0]["index"]
        (3, 'synthetic', 1)
    """
    if n_conversations < 0:
        raise ValueError(f"n_conversations must be >= 0, got {n_conversations}")
    _check_fraction("positive_fraction", positive_fraction)
    _check_fraction("hard_negative_fraction", hard_negative_fraction)
    _check_fraction("test_fraction", test_fraction)
    _check_version(version)
    return _generate(
        n_conversations,
        seed,
        positive_fraction,
        hard_negative_fraction,
        test_fraction,
        start_time,
        version,
    )


def _check_version(version: int) -> None:
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {sorted(VERSIONS)}, got {version!r}")


def _generate(
    n: int,
    seed: int,
    positive: float,
    hard: float,
    test: float,
    start_time: float,
    version: int = 1,
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    r = rng.random
    n_positive = round(n * positive)
    n_hard = round((n - n_positive) * hard)
    kinds = [1] * n_positive + [2] * n_hard + [0] * (n - n_positive - n_hard)
    rng.shuffle(kinds)
    cast = Cast(rng, test)
    hard_scenarios = HARD if version == 1 else HARD + HARD_V2
    tables = {
        0: Table({s.name: s.weight for s in ORDINARY}),
        2: Table({s.name: s.weight for s in hard_scenarios}),
    }
    by_name = {s.name: s for s in POSITIVE + ORDINARY + hard_scenarios}
    positive_table = Table({s.name: s.weight for s in POSITIVE})
    teen_share = {s.name: s.teen_share for s in POSITIVE}
    for number, kind in enumerate(kinds):
        extra: dict[str, Any] = {}
        if kind == 1:
            groomer, name, victim = cast.groomer(positive_table.draw, teen_share)
            scenario = by_name[name]
            personas = (groomer, cast.new("child", groomer.split))
            if version == 1:
                plan = plan_positive(rng, scenario, draw_length(rng, positive=True))
            else:
                length = plans_v2.draw_shared_length(rng)
                plan = plans_v2.plan_positive(rng, scenario, length, groomer.split)
            extra = {"victim_number": victim, "poses_as_teen": groomer.poses_as_teen}
        else:
            scenario = by_name[tables[kind].draw(r())]
            personas = _benign_pair(cast, scenario)
            if version == 1:
                plan = plan_negative(rng, scenario, draw_length(rng, positive=False))
            else:
                length = plans_v2.draw_shared_length(rng)
                plan = plans_v2.plan_negative(rng, scenario, length, personas[0].split)
        start = round(start_time + r() * SPAN_SECONDS, 3)
        platform = scenario.platforms[int(r() * len(scenario.platforms))]
        messages = _render(rng, personas, plan, start)
        yield _record(seed, number, scenario, personas, messages, platform, extra, version)


def _benign_pair(cast: Cast, scenario: Scenario) -> tuple[Persona, Persona]:
    split = cast.draw_split()
    roles, ages, reuse = scenario.roles, scenario.ages, scenario.reuse
    first = cast.pick(roles[0], split, reuse=reuse[0], ages=ages[0])
    second = cast.pick(roles[1], split, reuse=reuse[1], ages=ages[1])
    if second is first:
        second = cast.new(roles[1], split, ages=ages[1])
    return first, second


def _record(
    seed: int,
    number: int,
    scenario: Scenario,
    personas: tuple[Persona, Persona],
    messages: list[dict[str, Any]],
    platform: str,
    extra: dict[str, Any],
    version: int = 1,
) -> dict[str, Any]:
    positive = scenario.label == 1
    meta = {
        "generator_version": VERSIONS[version],
        "relationship": scenario.relationship,
        "platform": platform,
        "hard_negative": scenario.hard,
        "personas": [personas[0].meta, personas[1].meta],
        **extra,
    }
    return {
        "conversation_id": f"synthetic-{seed}-{number:06d}",
        "messages": messages,
        "label": scenario.label,
        "groomer_ids": [personas[0].author_id] if positive else [],
        "onset": first_index_with(messages, ONSET_STAGES) if positive else None,
        "escalation": first_index_with(messages, ESCALATION_STAGES) if positive else None,
        "source": "synthetic",
        "language": "en",
        "split": personas[0].split,
        "scenario": scenario.name,
        "meta": json.dumps(meta, sort_keys=True),
    }


def fingerprint(
    n_conversations: int,
    *,
    seed: int = 0,
    positive_fraction: float = 0.3,
    hard_negative_fraction: float = 0.5,
    test_fraction: float = 0.3,
    start_time: float = 1_700_000_000.0,
    version: int = 2,
) -> str:
    """Return the sha256 that identifies the corpus these arguments generate.

    It covers the schema version, :data:`GENERATOR_VERSION` and every argument, so a
    ``datasets`` cache keyed on it is invalidated whenever the output could change.

    Examples:
        >>> fingerprint(10) == fingerprint(10, seed=0)
        True
        >>> fingerprint(10) != fingerprint(10, seed=1)
        True
        >>> fingerprint(10, version=1) != fingerprint(10)
        True
    """
    _check_version(version)
    arguments = {
        "n_conversations": n_conversations,
        "seed": seed,
        "positive_fraction": positive_fraction,
        "hard_negative_fraction": hard_negative_fraction,
        "test_fraction": test_fraction,
        "start_time": start_time,
    }
    # Version 1's fingerprint is what it always was: its version string, these arguments.
    parts = ["synthetic", SCHEMA_VERSION, VERSIONS[version], json.dumps(arguments, sort_keys=True)]
    if version >= 2:
        # Every phrase of every bank: an edited phrase is another corpus even if nobody bumps
        # the version string (a stale cache would otherwise be served under the old key).
        parts.append(_banks_digest())
    return content_fingerprint(*parts)


def _banks_digest() -> str:
    from .plans_v2 import all_banks

    texts = [[(t.text, t.stages, t.reply) for t in bank] for bank in all_banks()]
    return content_fingerprint(json.dumps(texts, default=list))
