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


# Test doubles register themselves on import; at the end, because they import FIXTURES.
import tests.fake_llm  # noqa: E402  (registers llm_judge)
import tests.fake_services  # noqa: E402  (registers http and its presets)
import tests.learned_fixtures  # noqa: E402, F401  (registers hf_classifier, embedding_similarity)
