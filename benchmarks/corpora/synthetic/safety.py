"""The explicit-terms blocklist and the scanner that keeps the synthetic corpus free of it.

The corpus must never contain sexual content or describe a child sexually (DOMAIN §3.5). The
terms live in ``blocklist.txt`` beside this module (read with :mod:`importlib.resources`, so it
works from an installed wheel). :func:`find_blocklisted` matches them on word boundaries,
case-insensitively, on the text as written and after undoing leetspeak. It is meant for tests
and audits, not for the generator's hot loop.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_DIGITS = {"4": "a", "@": "a", "3": "e", "0": "o", "5": "s", "$": "s", "7": "t"}
#: Leetspeak undone before matching; "1" is read both as "i" and as "l".
_UNLEET: tuple[dict[int, str], ...] = (
    str.maketrans({**_DIGITS, "1": "i", "!": "i"}),
    str.maketrans({**_DIGITS, "1": "l", "|": "l"}),
)


@cache
def load_blocklist() -> frozenset[str]:
    """Return the blocklisted terms (lower case; a trailing ``*`` marks a prefix).

    Examples:
        >>> "nude*" in load_blocklist()
        True
    """
    text = resources.files(__package__).joinpath("blocklist.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


@cache
def blocklist_pattern() -> re.Pattern[str]:
    """Return one compiled, case-insensitive, word-bounded pattern for the whole blocklist."""
    parts = []
    for term in sorted(load_blocklist()):
        prefix = term.endswith("*")
        body = r"\s+".join(re.escape(word) for word in term.rstrip("*").split())
        parts.append(body + (r"\w*" if prefix else ""))
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def find_blocklisted(text: str) -> list[str]:
    """Return the blocklisted words found in ``text`` (lower case, sorted, unique).

    Matches the text as written and after undoing leetspeak.

    Examples:
        >>> find_blocklisted("what game do you play?")
        []
        >>> find_blocklisted("NAKED")
        ['naked']
        >>> find_blocklisted("n4K3d")
        ['naked']
        >>> find_blocklisted("snakedance")
        []
    """
    pattern = blocklist_pattern()
    found = {hit.lower() for hit in pattern.findall(text)}
    for table in _UNLEET:
        undone = text.translate(table)
        if undone != text:
            found.update(hit.lower() for hit in pattern.findall(undone))
    return sorted(found)
