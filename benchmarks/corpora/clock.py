"""Chat clocks without dates: turn a conversation's clock times into non-decreasing times."""

from __future__ import annotations

from collections.abc import Iterable

DAY = 86_400.0


def roll_over_midnight(times: Iterable[float | None]) -> tuple[list[float | None], int]:
    """Move each time that goes back on by whole days; return (times, number of roll-overs).

    Corpora that keep only the clock (``HH:MM``) run backwards when a chat passes midnight;
    each step back is read as the start of the next day. ``None`` (no time) is kept.

    Examples:
        >>> roll_over_midnight([82800.0, None, 60.0, 120.0])
        ([82800.0, None, 86460.0, 86520.0], 1)
    """
    out: list[float | None] = []
    offset = 0.0
    previous: float | None = None
    rollovers = 0
    for time in times:
        if time is None:
            out.append(None)
            continue
        moved = time + offset
        if previous is not None and moved < previous:
            days = -((moved - previous) // DAY)
            offset += days * DAY
            moved += days * DAY
            rollovers += 1
        out.append(moved)
        previous = moved
    return out, rollovers
