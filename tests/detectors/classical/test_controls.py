"""The shortcut controls: length alone, and remembered exact lines (hashed, never text)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.metrics.classification import roc_auc
from benchmarks.metrics.length_control import length_matched_auc
from detectors import Message
from detectors.classical.controls import LengthDetector, MemorizerDetector


def chat(*texts: str) -> list[Message]:
    return [Message(author="ab"[i % 2], text=t, index=i + 1) for i, t in enumerate(texts)]


def test_length_scores_rise_with_each_message_and_are_worth_nothing_at_equal_length() -> None:
    detector = LengthDetector(half=10)
    prefixes = detector.score_prefixes([chat(*["x"] * 6)])[0]
    assert prefixes == sorted(prefixes) and len(set(prefixes)) == 6
    lengths = [4, 4, 9, 9, 9, 15, 15]
    labels = [1, 0, 1, 0, 0, 1, 1]
    scores = detector.score([chat(*["x"] * n) for n in lengths])
    assert roc_auc(labels, scores) > 0.7  # length wins where positives are longer...
    auc, pairs = length_matched_auc(labels, scores, lengths)
    assert auc == 0.5 and pairs == 1 + 2  # ...and is worth exactly nothing at equal length


def test_memorizer_remembers_lines_only_of_positives_and_keeps_no_text(tmp_path: Path) -> None:
    detector = MemorizerDetector()
    positives = [chat("hello", "zebra crossing sentinel", "bye")]
    negatives = [chat("hello", "what a nice day", "bye")]
    detector.fit(positives + negatives, [1, 0], trained_on="fixture@0:train")
    seen, unseen = detector.score(
        [chat("Zebra  CROSSING sentinel", "hello"), chat("hello", "bye", "something new")]
    )
    assert seen == 0.5 and unseen == 0.0  # case and spacing do not matter
    detector.save(str(tmp_path / "m"))
    for file in (tmp_path / "m").iterdir():
        assert b"zebra" not in file.read_bytes().lower()
    loaded = MemorizerDetector(model_path=str(tmp_path / "m"))
    assert loaded.is_fitted and loaded.metadata.trained_on == ("fixture@0:train",)
    assert loaded.score([chat("zebra crossing sentinel", "zebra crossing sentinel")]) == [0.75]
