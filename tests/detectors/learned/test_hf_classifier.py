"""hf_classifier on a tiny random BERT written to a temporary folder (nothing downloaded)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from detectors import Message
from detectors.learned.hf_classifier import HFClassifierDetector
from detectors.learned.hf_runtime import speaker_tags, turn_text
from tests.helpers import assert_nested_close, neutral_conversation
from tests.learned_fixtures import build_tiny_bert, shared_tiny_bert

CUE = "dont tell anyone our secret"
SMALL: dict[str, object] = {"epochs": 1, "max_length": 64, "progress": False}


def trained_on_tiny(**overrides: object) -> HFClassifierDetector:
    """A tiny classifier loaded as a ready model (random weights, no fine-tuning)."""
    settings: dict[str, object] = {
        "model_path": str(shared_tiny_bert()),
        "max_length": 128,
        "progress": False,
        **overrides,
    }
    return HFClassifierDetector(**settings)  # type: ignore[arg-type]


def window_text(conversation: list[Message], end: int, window: int) -> str:
    """The window as plain text, as a user of a transformers pipeline would write it."""
    tags = speaker_tags([m.author for m in conversation])
    turns = [turn_text(t, m.text) for t, m in zip(tags, conversation, strict=True)]
    return " [SEP] ".join(turns[max(0, end - window) : end])


def corpus(seed: int, n: int) -> tuple[list[list[Message]], list[int]]:
    """Neutral conversations; the positive ones carry a cue phrase somewhere."""
    rng = random.Random(seed)
    convs, labels = [], []
    for i in range(n):
        conv = neutral_conversation(rng, rng.randint(3, 10))
        if i % 2:
            k = rng.randrange(len(conv))
            conv[k] = Message(conv[k].author, CUE, conv[k].time, conv[k].index)
        convs.append(conv)
        labels.append(i % 2)
    return convs, labels


def test_windows_match_the_tokenizer_on_the_joined_text_cut_from_the_left() -> None:
    from transformers import AutoTokenizer

    detector = trained_on_tiny(window=4, max_length=24)
    tokenizer = AutoTokenizer.from_pretrained(str(shared_tiny_bert()))
    tokenizer.truncation_side = "left"
    rng = random.Random(5)
    for _ in range(20):
        conv = neutral_conversation(rng, 9)
        for end in (1, 3, 9):
            ours = detector._windows(conv, [end])[0]
            theirs = tokenizer(window_text(conv, end, 4), truncation=True, max_length=24)
            assert ours == theirs["input_ids"]


def test_scores_equal_a_plain_transformers_pipeline_over_the_same_windows() -> None:
    from transformers import pipeline

    detector = trained_on_tiny(window=5, max_length=64, batch_size=7)
    pipe = pipeline("text-classification", model=str(shared_tiny_bert()), device="cpu", top_k=None)
    pipe.tokenizer.truncation_side = "left"
    rng = random.Random(2)
    convs = [neutral_conversation(rng, rng.randint(1, 12)) for _ in range(8)]
    ours = detector.score_prefixes(convs)
    for conv, scores in zip(convs, ours, strict=True):
        for end, score in enumerate(scores, start=1):
            out = pipe(window_text(conv, end, 5), truncation=True, max_length=64)
            rows = out[0] if isinstance(out[0], list) else out
            theirs = next(r["score"] for r in rows if r["label"] == "grooming")
            assert score == pytest.approx(theirs, abs=1e-5)


def test_speaker_tags_not_author_ids_reach_the_model() -> None:
    detector = trained_on_tiny()
    conv = neutral_conversation(random.Random(1), 6)
    renamed = [Message("x" + m.author, m.text, m.time, m.index) for m in conv]
    assert detector.score_prefixes([conv]) == detector.score_prefixes([renamed])
    # ...but who said what does matter.
    swapped = [Message(conv[0].author, m.text, m.time, m.index) for m in conv]
    assert detector.score([conv]) != detector.score([swapped])


def test_long_windows_are_cut_from_the_oldest_message_and_counted() -> None:
    detector = trained_on_tiny(max_length=16)
    old = Message("a", "hello " * 30, 1.0, 1)
    new = Message("b", "pizza later", 2.0, 2)
    assert detector.usage() == {}
    with_old = detector.score([[old, new]])[0]
    assert detector.usage()["truncated_inputs"] == 1
    # Only the newest 14 tokens survive: a change at the oldest message's start is invisible,
    # a change near its end is not.
    start_changed = Message("a", "pizza " + "hello " * 29, 1.0, 1)
    end_changed = Message("a", "hello " * 29 + "pizza", 1.0, 1)
    assert detector.score([[start_changed, new]])[0] == with_old
    assert detector.score([[end_changed, new]])[0] != with_old
    ids = detector._windows([old, new], [2])[0]
    assert len(ids) == 16 and ids[0] == 2 and ids[-1] == 3  # [CLS] ... [SEP] kept


def test_score_every_holds_the_last_score_between_windows() -> None:
    every = trained_on_tiny(score_every=3)
    each = trained_on_tiny()
    conv = neutral_conversation(random.Random(4), 8)
    thinned = every.score_prefixes([conv])[0]
    full = each.score_prefixes([conv])[0]
    anchors = [1, 1, 3, 3, 3, 6, 6, 6]
    assert thinned == pytest.approx([full[a - 1] for a in anchors], abs=1e-6)
    # A prefix scores as it does inside the longer conversation: still causal.
    assert every.score([conv[:5]])[0] == pytest.approx(thinned[4], abs=1e-6)


def test_fine_tuning_learns_a_cue_and_survives_a_round_trip(tmp_path: Path) -> None:
    train, train_labels = corpus(0, 120)
    test, test_labels = corpus(1, 40)
    detector = HFClassifierDetector(
        base_model=str(shared_tiny_bert()),
        epochs=4,
        learning_rate=3e-3,
        max_train_windows=600,
        eval_every=20,
        patience=3,
        window=10,
        max_length=96,
        progress=False,
    )
    flags = [[m.text == CUE for m in c] for c in train]
    detector.fit(train, train_labels, trained_on="fixture@abc:train", message_labels=flags)
    scores = np.array(detector.score(test))
    y = np.array(test_labels)
    assert scores[y == 1].mean() > scores[y == 0].mean() + 0.2
    curves = detector.training_curves()
    assert curves and {"step", "train_loss", "val_loss"} <= set(curves[0])
    assert [r["step"] for r in curves] == sorted(r["step"] for r in curves)

    detector.save(str(tmp_path / "model"))
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert meta["trained_on"] == ["fixture@abc:train"] and meta["seed"] == 0
    assert meta["base_model"] == str(shared_tiny_bert())
    assert meta["training"]["stage_labels"] is True
    loaded = HFClassifierDetector(model_path=str(tmp_path / "model"), progress=False)
    assert loaded.metadata.trained_on == ("fixture@abc:train",)
    assert loaded.score(test) == pytest.approx(detector.score(test), abs=1e-6)


def test_early_stopping_keeps_the_best_validation_weights() -> None:
    train, labels = corpus(3, 60)
    detector = HFClassifierDetector(
        base_model=str(shared_tiny_bert()),
        epochs=6,
        learning_rate=0.05,  # far too high: validation loss soon gets worse
        max_train_windows=200,
        eval_every=3,
        patience=1,
        max_length=128,
        progress=False,
    )
    detector.fit(train, labels, trained_on="fixture@abc:train")
    training = detector._training
    assert training["stopped_early"] is True
    assert training["steps"] < 6 * 13
    best = min(r["val_loss"] for r in detector.training_curves())
    assert training["best_val_loss"] == pytest.approx(best)
    assert detector.training_curves()[-1]["val_loss"] > best  # it got worse, then stopped


def test_fine_tune_returns_with_the_best_weights_restored() -> None:
    from transformers import AutoModelForSequenceClassification

    from detectors.learned.hf_training import TrainSettings, evaluate, fine_tune

    model = AutoModelForSequenceClassification.from_pretrained(str(shared_tiny_bert()))
    rng = random.Random(0)
    inputs = [[2, *(rng.randrange(5, 60) for _ in range(rng.randint(1, 12))), 3] for _ in range(90)]
    labels = [int(6 in x or 7 in x) for x in inputs]
    settings = TrainSettings(
        epochs=5, learning_rate=0.05, eval_every=2, patience=2, train_batch_size=8, progress=False
    )
    validation = (inputs[60:], labels[60:])
    outcome = fine_tune(
        model, (inputs[:60], labels[:60]), validation, pad_id=0, device="cpu", settings=settings
    )
    assert outcome.best_val_loss < outcome.curves[-1]["val_loss"]  # the last state was worse
    loss, _ = evaluate(model, validation, pad_id=0, device="cpu")
    assert loss == pytest.approx(outcome.best_val_loss, abs=1e-6)


def test_a_new_head_is_seeded_so_training_repeats_exactly(tmp_path: Path) -> None:
    encoder = build_tiny_bert(tmp_path / "encoder", head=False)  # fit must draw a new head
    train, labels = corpus(0, 30)
    test, _ = corpus(1, 6)

    def trained(seed: int) -> list[float]:
        detector = HFClassifierDetector(
            base_model=str(encoder), max_train_windows=60, eval_every=4, seed=seed, **SMALL
        )
        detector.fit(train, labels, trained_on="x@0:train")
        return detector.score(test)

    assert trained(0) == trained(0)
    assert trained(0) != trained(1)


def test_a_failed_fit_leaves_the_detector_as_it_was(tmp_path: Path) -> None:
    convs, _ = corpus(0, 10)
    detector = trained_on_tiny()
    before = detector.score(convs)
    # A head-less base: fit draws a new, random head, so a half-done fit would show.
    detector.base_model = str(build_tiny_bert(tmp_path / "encoder", head=False))
    with pytest.raises(ValueError, match="one class"):
        detector.fit(convs, [1] * 10, trained_on="x@0:train")
    assert detector.score(convs) == before and detector.metadata.trained_on == ()
    # So does a base model that cannot take the configured input length.
    detector.max_length = 512
    with pytest.raises(ValueError, match="max_length 512"):
        detector.fit(convs, [i % 2 for i in range(10)], trained_on="x@0:train")
    detector.max_length = 128
    assert detector.score(convs) == before


def test_the_token_cache_stays_bounded_and_right() -> None:
    from transformers import AutoTokenizer

    from detectors.learned.hf_runtime import TokenCache

    tokenizer = AutoTokenizer.from_pretrained(str(shared_tiny_bert()))
    cache = TokenCache(tokenizer, max_entries=3)
    first = cache.ids(["hi", "hello you", "pizza"])
    # Two known texts and two new ones overflow the cache: the answer must still be whole.
    mixed = cache.ids(["hi", "pizza", "movie later", "hi", "game"])
    expected = tokenizer(["hi", "pizza", "movie later", "hi", "game"], add_special_tokens=False)
    assert mixed == [tuple(x) for x in expected["input_ids"]]
    assert first[0] == mixed[0] and len(cache._ids) <= 3


def test_three_labels_and_a_single_logit(tmp_path: Path) -> None:
    three = build_tiny_bert(tmp_path / "three", num_labels=3, id2label={0: "a", 1: "b", 2: "c"})
    conv = neutral_conversation(random.Random(8), 4)
    by_name = HFClassifierDetector(
        model_path=str(three), positive_label="c", max_length=64, progress=False
    )
    by_index = HFClassifierDetector(
        model_path=str(three), positive_label=2, max_length=64, progress=False
    )
    assert by_name.score([conv]) == by_index.score([conv])
    single = build_tiny_bert(tmp_path / "one", num_labels=1, id2label={0: "risk"})
    score = HFClassifierDetector(model_path=str(single), max_length=64, progress=False).score(
        [conv]
    )[0]
    assert 0.0 < score < 1.0


def test_bad_model_paths_and_settings_say_what_to_change(tmp_path: Path) -> None:
    missing = HFClassifierDetector(model_path=str(tmp_path / "nope"), progress=False)
    assert not missing.is_fitted
    with pytest.raises(RuntimeError, match="groombench-train detector=hf_classifier"):
        missing.score([[]])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        HFClassifierDetector(model_path=str(tmp_path / "empty"))
    encoder = build_tiny_bert(tmp_path / "encoder", head=False)
    with pytest.raises(ValueError, match="not a sequence classifier"):
        HFClassifierDetector(model_path=str(encoder))
    with pytest.raises(ValueError, match=r"positive_label 'toxic'.*0=benign, 1=grooming"):
        HFClassifierDetector(
            model_path=str(shared_tiny_bert()), positive_label="toxic", max_length=64
        )
    with pytest.raises(ValueError, match=r"set detector.max_length to 128 or less"):
        HFClassifierDetector(model_path=str(shared_tiny_bert()), max_length=512)
    with pytest.raises(ValueError, match="window must be >= 1"):
        HFClassifierDetector(window=0)
    with pytest.raises(ValueError, match="models:/NAME/VERSION"):
        HFClassifierDetector(model_path="models:/groombench-hf_classifier/1")
    with pytest.raises(FileNotFoundError, match=r"detector\.base_model"):
        HFClassifierDetector(base_model=str(tmp_path / "nope")).fit(*corpus(0, 4), "x@0:train")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device=cpu"):
            HFClassifierDetector(device="cuda")


def test_one_class_training_data_is_refused() -> None:
    convs, _ = corpus(0, 10)
    detector = HFClassifierDetector(base_model=str(shared_tiny_bert()), max_length=64)
    with pytest.raises(ValueError, match="one class"):
        detector.fit(convs, [1] * 10, trained_on="x@0:train")


def test_bfloat16_scores_near_float32_and_saves_float32(tmp_path: Path) -> None:
    convs, _ = corpus(6, 6)
    exact = trained_on_tiny()
    half = trained_on_tiny(dtype="bfloat16")
    assert half.score(convs) == pytest.approx(exact.score(convs), abs=2e-2)
    assert half.score(convs) != exact.score(convs)  # it really ran in bfloat16
    half.save(str(tmp_path / "m"))
    reloaded = trained_on_tiny(model_path=str(tmp_path / "m"))
    assert reloaded.score(convs) == exact.score(convs)
    with pytest.raises(ValueError, match="float16 needs device=cuda"):
        trained_on_tiny(dtype="float16")


def test_the_cls_shortcut_gives_the_full_forward_pass_scores(tmp_path: Path) -> None:
    from detectors.learned.hf_fast import supports_cls_shortcut

    rng = random.Random(9)
    convs = [neutral_conversation(rng, rng.randint(1, 9)) for _ in range(12)]
    for folder in (shared_tiny_bert(), build_tiny_bert(tmp_path / "three", num_labels=3)):
        fast = trained_on_tiny(model_path=str(folder), positive_label=1, batch_size=5)
        full = trained_on_tiny(model_path=str(folder), positive_label=1, cls_shortcut=False)
        assert supports_cls_shortcut(fast._model)
        assert_nested_close(fast.score_prefixes(convs), full.score_prefixes(convs), tol=1e-6)
    encoder = build_tiny_bert(tmp_path / "encoder", head=False)
    from transformers import AutoModel

    assert not supports_cls_shortcut(AutoModel.from_pretrained(str(encoder)))
