"""What a detector config needs in the tests beyond its defaults: a loopback server, a program.

Black-box detectors talk to a service; the tests start a real one on loopback (once per test
process) and point the config at it. Register every detector config that needs more than
``paths.root`` here, as for corpora in :mod:`tests.corpus_fixtures`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# name -> function(tmp_path) returning Hydra overrides (it may start a shared server).
FIXTURES: dict[str, Callable[[Path], list[str]]] = {}


def detector_overrides(name: str, tmp_path: Path) -> list[str]:
    """Return the overrides that make detector config ``name`` work in a test."""
    fixture = FIXTURES.get(name)
    return fixture(tmp_path) if fixture else []
