"""The eSPD window: a detector that sees only the last w messages of each prefix."""

from __future__ import annotations

import random

import pytest

from benchmarks.runner import RunnerConfig
from detectors import Message
from detectors.classical.lexicon import LexiconDetector
from detectors.window import WindowedDetector
from tests.helpers import assert_nested_close, neutral_conversation


def test_window_scores_only_the_last_messages() -> None:
    inner = LexiconDetector()
    conv = [Message("a", "dont tell", None, 1)] + [Message("a", "ok", None, i) for i in range(2, 6)]
    windowed = WindowedDetector(inner, window=3)
    scores = windowed.score_prefixes([conv])[0]
    assert scores[:3] == [inner.combine({"secrecy"})] * 3
    assert scores[3:] == [0.0, 0.0]  # "dont tell" has left the window of 3


def test_window_streaming_equals_batch_and_prefixes() -> None:
    rng = random.Random(4)
    windowed = WindowedDetector(LexiconDetector(), window=4)
    convs = [neutral_conversation(rng, rng.randint(1, 12)) for _ in range(20)]
    for conv in convs:
        session = windowed.session()
        streamed = [session.update(m) for m in conv]
        assert streamed == windowed.score_prefixes([conv])[0]
        assert streamed == [windowed.score([conv[:k]])[0] for k in range(1, len(conv) + 1)]
    assert_nested_close(
        windowed.score_prefixes(convs, every=3),
        [windowed.score_prefixes([c], every=3)[0] for c in convs],
    )


def test_runner_window_option_is_validated() -> None:
    with pytest.raises(ValueError, match=r"runner\.window"):
        RunnerConfig(window=0)
