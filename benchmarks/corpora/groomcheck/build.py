"""Build GroomCheck's cases from its templates: seeded, deterministic, pairs sharing a surface.

Case ``k`` of a grooming test and case ``k`` of its contrast test draw the same slot values,
the same small talk around the template, the same gaps between messages and the same template
number, so that they differ only where the test says they should. Every case is one short
conversation (detectors score conversations), in the record schema of
:mod:`benchmarks.schema`, in the ``test`` split.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.corpora.groomcheck.slots import SLOTS
from benchmarks.corpora.groomcheck.tests import TESTS, FunctionalTest
from benchmarks.schema import content_fingerprint, normalise_record

VERSION = "1"
SOURCE = "groomcheck"
#: Cases per functional test (30 tests x 40 = 1,200 cases).
CASES_PER_TEST = 40
#: 2024-03-01 00:00 UTC: every case starts within a year after it.
_EPOCH = 1_709_251_200.0
_DAY = 86_400.0

#: Small talk that opens and closes cases, and fills long ones; neutral in any context.
FILLER: tuple[tuple[str, str], ...] = (
    ("hey", "hi"),
    ("hows it going", "good, you?"),
    ("what you up to", "not much tbh"),
    ("did you watch {show}", "yeah it was so good"),
    ("im so tired today", "same"),
    ("its raining again", "ugh i know"),
    ("whats for dinner at yours", "pasta i think"),
    ("hows your {pet}", "being silly as usual"),
    ("did you see the match", "no what happened"),
    ("brb", "ok"),
    ("back", "wb"),
    ("played {game} earlier", "any good?"),
    ("what music are you into", "all sorts"),
    ("its so cold", "i know right"),
    ("weekend plans?", "nothing much"),
    ("thats funny", "ikr"),
    ("long day", "tell me about it"),
    ("lol", "haha"),
    ("the wifi is so slow", "same here"),
    ("have you tried the new {game} update", "not yet"),
    ("my {pet} just knocked a cup over", "lol classic"),
    ("so hungry", "me too"),
    ("cant wait for the holidays", "same, two more weeks"),
    ("did you finish that", "almost"),
)


@dataclass(frozen=True)
class Line:
    """One template line: who writes it, the text with slots, its stage labels.

    A gap line (``~``) has ``role`` ``"~"``.
    """

    role: str
    text: str
    stages: tuple[str, ...] = ()


def parse_template(template: str) -> list[Line]:
    """Read a template's lines (see :mod:`benchmarks.corpora.groomcheck.tests`).

    Examples:
        >>> parse_template("a: hi {name} | rapport\\n~\\nb: hey")
        [Line(role='a', text='hi {name}', stages=('rapport',)), Line(role='~', text='', stages=()), Line(role='b', text='hey', stages=())]
    """  # noqa: E501
    lines = []
    for raw in template.splitlines():
        if raw.strip() == "~":
            lines.append(Line("~", ""))
            continue
        role, _, rest = raw.partition(":")
        text, _, stages = rest.partition("|")
        if role.strip() not in ("a", "b"):
            raise ValueError(f"template line must start with 'a:', 'b:' or be '~': {raw!r}")
        labels = tuple(s.strip() for s in stages.split(",") if s.strip())
        lines.append(Line(role.strip(), text.strip(), labels))
    return lines


def case_rng(seed: int, test_id: str, index: int) -> random.Random:
    """The generator of case ``index`` of a test pair (keyed by the grooming test's id)."""
    digest = hashlib.blake2b(f"{seed}\x1f{test_id}\x1f{index}".encode(), digest_size=8)
    return random.Random(int.from_bytes(digest.digest(), "little"))


@dataclass(frozen=True)
class Draw:
    """What both cases of a pair share: slots, small talk, gaps, where long chats hide lines."""

    slots: dict[str, str]
    opening: tuple[int, ...]
    closing: tuple[int, ...]
    long_filler: tuple[int, ...]
    positions: tuple[int, ...]
    gaps: tuple[int, ...]
    day_gaps: tuple[int, ...]
    start: float


def draw(rng: random.Random) -> Draw:
    """Draw one case pair's shared choices (the same calls in the same order, always)."""
    slots = {name: rng.choice(values) for name, values in sorted(SLOTS.items())}
    order = rng.sample(range(len(FILLER)), len(FILLER))
    n_open = rng.randint(1, 2)
    n_close = rng.randint(0, 1)
    n_long = rng.randint(12, 16)  # pairs: 24 to 32 messages of small talk
    positions = tuple(sorted(rng.sample(range(1, n_long), 3)))
    return Draw(
        slots=slots,
        opening=tuple(order[:n_open]),
        closing=tuple(order[n_open : n_open + n_close]),
        long_filler=tuple(order[:n_long]),
        positions=positions,
        gaps=tuple(rng.randint(15, 150) for _ in range(64)),
        day_gaps=tuple(rng.randint(1, 3) for _ in range(8)),
        start=_EPOCH + rng.randint(0, 364) * _DAY + rng.randint(8, 20) * 3600.0,
    )


def case_id(test_id: str, index: int) -> str:
    """A case's conversation id: ``gc-<test>-<index>``.

    Examples:
        >>> case_id("secrecy", 7)
        'gc-secrecy-007'
    """
    return f"gc-{test_id}-{index:03d}"


def _lines(test: FunctionalTest, template: str, shared: Draw) -> list[Line]:
    body = parse_template(template)
    if test.filler == "long":
        small_talk = [shared.long_filler[i] for i in range(len(shared.long_filler))]
        out: list[Line] = []
        hidden = iter(body)
        for position, index in enumerate(small_talk):
            if position in shared.positions:
                out.append(next(hidden))
            a, b = FILLER[index]
            out += [Line("a", a), Line("b", b)]
        return out
    opening = [Line(r, t) for i in shared.opening for r, t in zip("ab", FILLER[i], strict=True)]
    closing = [Line(r, t) for i in shared.closing for r, t in zip("ab", FILLER[i], strict=True)]
    return opening + body + closing


def build_case(
    test: FunctionalTest, index: int, shared: Draw, *, contrast_of: str | None, contrast: str | None
) -> dict[str, Any]:
    """One case: a schema record with the test, its type and its pair link in ``meta``."""
    number = index % len(test.templates)
    cid = case_id(test.id, index)
    authors = {"a": f"{cid}:a", "b": f"{cid}:b"}
    messages: list[dict[str, Any]] = []
    clock = shared.start
    gaps, days = iter(shared.gaps), iter(shared.day_gaps)
    for line in _lines(test, test.templates[number], shared):
        if line.role == "~":
            clock += next(days) * _DAY
            continue
        clock += next(gaps)
        messages.append(
            {
                "author": authors[line.role],
                "text": line.text.format(**shared.slots),
                "time": clock,
                "index": len(messages) + 1,
                "stages": list(line.stages) if test.label else [],
            }
        )
    meta = {
        "groomcheck": VERSION,
        "test": test.id,
        "capability": test.capability,
        "type": "MFT",
        "expected": test.label,
        "template": number,
        "contrast_of": contrast_of,
        "contrast": contrast,
        # Whose messages a perturbation changes: the person the test is about.
        "focus_author": authors["a"],
    }
    return normalise_record(
        {
            "conversation_id": cid,
            "messages": messages,
            "label": test.label,
            "groomer_ids": [authors["a"]] if test.label else [],
            "source": SOURCE,
            "language": "en",
            "split": "test",
            "scenario": test.id,
            "meta": json.dumps(meta, sort_keys=True),
        }
    )


def generate_cases(seed: int = 0, cases_per_test: int = CASES_PER_TEST) -> Iterator[dict[str, Any]]:
    """Every case of every test, grooming test then its contrast, case by case."""
    tests = list(TESTS)
    for test in tests:
        if not test.label:
            continue
        assert test.contrast is not None
        partner = next(t for t in tests if t.id == test.contrast)
        shared = [draw(case_rng(seed, test.id, i)) for i in range(cases_per_test)]
        for i, choice in enumerate(shared):
            yield build_case(test, i, choice, contrast_of=None, contrast=case_id(partner.id, i))
        for i, choice in enumerate(shared):
            yield build_case(partner, i, choice, contrast_of=case_id(test.id, i), contrast=None)


def fingerprint(seed: int, cases_per_test: int) -> str:
    """The suite's fingerprint: its version, settings, tests, slots and small talk."""
    definition = json.dumps(
        {
            "tests": [vars(t) for t in TESTS],
            "slots": SLOTS,
            "filler": FILLER,
        },
        sort_keys=True,
    )
    return content_fingerprint(SOURCE, VERSION, str(seed), str(cases_per_test), definition)
