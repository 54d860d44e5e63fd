"""Detectors for the Ray backend's tests: they log what they scored, and can die on cue.

Ray workers import this module by name (the driver's ``sys.path`` travels to them), so it holds
only importable classes. Nothing here keeps chat text: a conversation is logged as a digest.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from detectors import Conversation, checkpoints
from detectors.classical.controls import LengthDetector


def digest(texts: Sequence[str]) -> str:
    """A conversation's content digest (what the logging detector writes, never the text)."""
    return hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]


class LoggingDetector(LengthDetector):
    """The length control, which appends the digest of every whole conversation it scores to
    ``log`` (one line each, from every process) and exits its process at once (as a killed
    worker would) when it meets the conversation whose digest is in the file ``die_on``."""

    def __init__(
        self, log: str, die_on: str | None = None, half: int = 20, name: str = "logging_length"
    ) -> None:
        super().__init__(half=half, name=name)
        self.log = Path(log)
        self.die_on = Path(die_on) if die_on else None

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        target = self.die_on.read_text().strip() if self.die_on and self.die_on.exists() else None
        lines = []
        for conversation in conversations:
            key = digest([m.text for m in conversation])
            if key == target:
                os._exit(17)  # no cleanup, no exception: the worker process is gone
            lines.append(f"{key} {len(conversation)}\n")
        with self.log.open("a") as handle:
            handle.write("".join(lines))
        return [[self._value(k) for k in checkpoints(len(c), every)] for c in conversations]
