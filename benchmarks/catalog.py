"""What can be chosen: every detector, corpus, policy and protocol, with a line about each.

Read from the config files themselves (their opening comment and ``_target_``), so the list
can never drift from what ``groombench`` accepts, and without importing any adapter (fast).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

GROUPS: tuple[str, ...] = ("detector", "corpus", "policy", "protocol", "perturb", "claim")
#: What a component's module needs beyond the base install, by module prefix.
NEEDS_OF_MODULE: dict[str, str] = {
    "detectors.learned": "pip install -e '.[learned]'",
    "detectors.sealed": "bubblewrap (apt install bubblewrap)",
}
_TARGET = re.compile(r"^_target_:\s*([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One choice: its config name, a one-line description, what it needs ("" if nothing)."""

    group: str
    name: str
    description: str
    needs: str


def summary(text: str, limit: int = 110) -> str:
    """The first sentence of a config file's opening comment, cut to ``limit`` characters.

    Examples:
        >>> summary("# Control: chance level. More\\n# here.\\nname: x\\n")
        'Control: chance level.'
        >>> summary("# eSPD (Vogt et al. 2021): alert once\\n# enough votes.\\n")
        'eSPD (Vogt et al. 2021): alert once enough votes.'
        >>> summary("name: x\\n")
        ''
    """
    lines: list[str] = []
    for line in text.splitlines():
        body = line.lstrip("#").strip()
        if not line.startswith("#") or not body:
            break
        lines.append(body)
    joined = " ".join(lines)
    match = re.search(r"(?<!\bal)\.(\s|$)", joined)
    first = joined[: match.start() + 1] if match else joined
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def entries(groups: tuple[str, ...] = GROUPS) -> list[Entry]:
    """Every config of ``groups``, sorted by group then name."""
    root = resources.files("configs")
    found = []
    for group in groups:
        for item in sorted(root.joinpath(group).iterdir(), key=lambda p: p.name):
            if not item.name.endswith(".yaml"):
                continue
            text = item.read_text(encoding="utf-8")
            target = _TARGET.search(text)
            module = target.group(1) if target else ""
            needs = next((x for p, x in NEEDS_OF_MODULE.items() if module.startswith(p)), "")
            found.append(Entry(group, item.name.removesuffix(".yaml"), summary(text), needs))
    return found


def listing(groups: tuple[str, ...] = GROUPS) -> str:
    """The catalogue as text: one block per group, one line per choice."""
    out: list[str] = []
    items = entries(groups)
    width = max(len(e.name) for e in items)
    for group in groups:
        out.append(f"{group} (choose with {group}=<name>):")
        for entry in (e for e in items if e.group == group):
            out.append(f"  {entry.name.ljust(width)}  {entry.description}")
            if entry.needs:
                out.append(f"  {''.ljust(width)}  needs: {entry.needs}")
        out.append("")
    return "\n".join(out).rstrip()
