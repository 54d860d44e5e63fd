"""A GroomCheck functional test, and the helpers its templates are written with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionalTest:
    """One GroomCheck functional test.

    Attributes:
        id: the test's name, as results and MLflow show it (``groomcheck.<id>.*``).
        label: 1 when every case is grooming, 0 when none is.
        capability: the group it belongs to (a stage, a combination, a weak spot).
        checks: what the test checks, one sentence.
        why: why it matters, one sentence.
        templates: the conversations' templates (see the module docstring).
        contrast: for a grooming test, the id of its benign contrast test.
        filler: small-talk pairs around the template: ``short`` (one to three) or ``long``
            (the template's lines scattered through 24 to 32 messages of small talk).
    """

    id: str
    label: int
    capability: str
    checks: str
    why: str
    templates: tuple[str, ...]
    contrast: str | None = None
    filler: str = "short"


def lines(*texts: str) -> str:
    """A template: its lines, one message each."""
    return "\n".join(texts)


def pair(
    grooming: str,
    benign: str,
    capability: str,
    checks: tuple[str, str],
    why: tuple[str, str],
    templates: tuple[tuple[str, ...], tuple[str, ...]],
    filler: str = "short",
) -> tuple[FunctionalTest, FunctionalTest]:
    """A grooming test and its benign contrast, sharing capability and filler."""
    return (
        FunctionalTest(grooming, 1, capability, checks[0], why[0], templates[0], benign, filler),
        FunctionalTest(benign, 0, capability, checks[1], why[1], templates[1], None, filler),
    )
