"""Adapter-specific behaviour: lexicon explanations, tfidf_lr persistence, the controls."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from detectors import Message
from detectors.classical.controls import ConstantDetector, RandomDetector
from detectors.classical.lexicon import LexiconDetector
from detectors.classical.tfidf_lr import TfidfLRDetector
from tests.helpers import assert_nested_close, neutral_conversation


def msgs(*texts: str) -> list[Message]:
    return [Message("a", t, None, i + 1) for i, t in enumerate(texts)]


def test_lexicon_says_which_stage_fired_and_when() -> None:
    session = LexiconDetector().session()
    for m in msgs("hey whats up", "r u home alone?", "ok", "dont tell ur mom", "add me on snap"):
        session.update(m)
    assert session.explain() == {
        "stages": {"rapport": 1, "risk_check": 2, "secrecy": 4, "platform_move": 5}
    }
    assert session.score() > LexiconDetector().score([msgs("r u home alone?")])[0]


def test_lexicon_repeated_stage_adds_nothing() -> None:
    d = LexiconDetector()
    once = d.score([msgs("dont tell")])[0]
    assert d.score([msgs("dont tell", "dont tell anyone", "do not tell")])[0] == once


def test_lexicon_extra_patterns(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"gifts": [r"\bpizza voucher\b"]}))
    assert LexiconDetector(extra_patterns=str(extra)).stages("a pizza voucher") == {"gifts"}
    extra.write_text(json.dumps({"nonsense": ["x"]}))
    with pytest.raises(ValueError, match="unknown stage 'nonsense'"):
        LexiconDetector(extra_patterns=str(extra))


def test_tfidf_save_load_roundtrip_keeps_scores_and_provenance(tmp_path: Path) -> None:
    rng = random.Random(0)
    convs = [neutral_conversation(rng) for _ in range(60)]
    d = TfidfLRDetector(min_df=1)
    d.fit(convs, [i % 2 for i in range(60)], trained_on="fixture@abc:train")
    d.save(str(tmp_path / "m"))
    loaded = TfidfLRDetector(model_path=str(tmp_path / "m"))
    assert loaded.metadata.trained_on == ("fixture@abc:train",)
    assert_nested_close(loaded.score_prefixes(convs), d.score_prefixes(convs))


def test_tfidf_unfitted_says_how_to_train() -> None:
    with pytest.raises(RuntimeError, match="groombench-train"):
        TfidfLRDetector().score([msgs("hi")])
    with pytest.raises(FileNotFoundError, match="groombench-train"):
        TfidfLRDetector().load("/nonexistent/model")


def test_tfidf_learns_the_signal() -> None:
    rng = random.Random(2)
    convs, labels = [], []
    for i in range(200):
        c = neutral_conversation(rng, 6)
        if i % 2:
            c[3] = Message("a", "keep this between us ok", None, 4)
        convs.append(c)
        labels.append(i % 2)
    d = TfidfLRDetector(min_df=1)
    d.fit(convs, labels, trained_on="x@0:train")
    scores = d.score(convs)
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    assert min(pos) > max(neg)


@pytest.mark.parametrize(("min_df", "max_features"), [(2, 200_000), (1, 40), (3, 25)])
def test_tfidf_fits_in_chunks_the_vocabulary_scikit_learn_fits_at_once(
    monkeypatch: pytest.MonkeyPatch, min_df: int, max_features: int
) -> None:
    """The chunked fit (bounded memory) keeps the very terms CountVectorizer would, in its
    order: pruning by document frequency, the max_features cut by count, and its ties."""
    from sklearn.feature_extraction.text import CountVectorizer

    import detectors.classical.tfidf_lr as tfidf

    monkeypatch.setattr(tfidf, "FIT_CHUNK", 7)  # many chunks, a term split across them
    rng = random.Random(3)
    conversations = [neutral_conversation(rng) for _ in range(60)]
    detector = TfidfLRDetector(min_df=min_df, max_features=max_features)
    reference = CountVectorizer(ngram_range=(1, 2), min_df=min_df, max_features=max_features)
    reference.fit([m.text for c in conversations for m in c])
    expected = {str(k): int(v) for k, v in reference.vocabulary_.items()}
    assert detector._fit_vocabulary(conversations) == expected
    # And the conversations' counts are the sums over their messages.
    vectorizer = detector._make_vectorizer(expected)
    counts = detector._conversation_counts(vectorizer, conversations).toarray()
    for row, conversation in zip(counts, conversations, strict=True):
        whole = vectorizer.transform([m.text for m in conversation]).toarray().sum(axis=0)
        assert (row == whole).all()


def test_controls() -> None:
    conv = msgs("a", "b", "c")
    assert ConstantDetector(0.3).score_prefixes([conv]) == [[0.3, 0.3, 0.3]]
    with pytest.raises(ValueError):
        ConstantDetector(1.5)
    r0, r1 = RandomDetector(seed=0), RandomDetector(seed=1)
    assert r0.score_prefixes([conv]) != r1.score_prefixes([conv])
    values = RandomDetector().score([[Message("a", str(i), None, 1)] for i in range(2000)])
    assert 0.45 < sum(values) / len(values) < 0.55


def test_default_session_path_uses_positions_not_message_indices() -> None:
    from detectors import Detector, DetectorMetadata

    class Length(Detector):
        metadata = DetectorMetadata(name="length", version="1", description="test double")

        def score(self, conversations):  # type: ignore[no-untyped-def]
            return [len(c) / 10 for c in conversations]

    no_index = [Message("a", "hi"), Message("b", "yo")]  # index left at its default
    assert Length().score_prefixes([no_index]) == [[0.1, 0.2]]
