"""The [CLS]-only shortcut is guarded: when a transformers release changes what it relies on,
hf_classifier warns once and scores with the model's public forward pass, with the same scores."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from detectors.learned import hf_fast
from tests.detectors.learned.test_hf_classifier import trained_on_tiny
from tests.helpers import neutral_conversation
from tests.learned_fixtures import build_tiny_bert


def conversations(n: int = 10, seed: int = 3) -> list:
    rng = random.Random(seed)
    return [neutral_conversation(rng, rng.randint(1, 8)) for _ in range(n)]


def fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "shortcut does not work" in r.getMessage()]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    # A model of this test's own, so a verdict cached for the shared model cannot leak in.
    return build_tiny_bert(tmp_path / "bert", num_labels=2)


def test_the_shortcut_is_checked_once_and_kept_when_it_agrees(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    convs = conversations()
    fast = trained_on_tiny(model_path=str(folder), positive_label=1, batch_size=3)
    full = trained_on_tiny(model_path=str(folder), positive_label=1, cls_shortcut=False)
    with caplog.at_level(logging.WARNING):
        scores = fast.score_prefixes(convs)
    assert fallbacks(caplog) == []
    assert hf_fast.shortcut_fallback(fast._model) is None
    assert hf_fast._verdicts.get(fast._model) == ""  # checked, and kept
    expected = full.score_prefixes(convs)
    for got, want in zip(scores, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-6)


def test_a_changed_private_signature_falls_back_to_the_public_forward_with_one_warning(
    folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # What transformers 5.25 did to the helper the shortcut once called.
    def changed(*_args: object, **_kwargs: object) -> None:
        raise TypeError(
            "BertModel._create_attention_masks() missing 1 required positional argument: "
            "'position_ids'"
        )

    monkeypatch.setattr(hf_fast, "_last_layer_inputs", changed)
    convs = conversations()
    fast = trained_on_tiny(model_path=str(folder), positive_label=1, batch_size=3)
    full = trained_on_tiny(
        model_path=str(folder), positive_label=1, batch_size=3, cls_shortcut=False
    )
    with caplog.at_level(logging.WARNING):
        scores = fast.score_prefixes(convs)  # many batches: one warning
    assert scores == full.score_prefixes(convs)  # the public path: identical scores
    (warning,) = fallbacks(caplog)
    assert "position_ids" in warning and "full forward pass" in warning
    assert "position_ids" in (hf_fast.shortcut_fallback(fast._model) or "")


def test_a_shortcut_that_disagrees_is_dropped(
    folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = hf_fast.cls_logits
    monkeypatch.setattr(hf_fast, "cls_logits", lambda *a: real(*a) + 0.5)
    convs = conversations()
    fast = trained_on_tiny(model_path=str(folder), positive_label=1, batch_size=4)
    full = trained_on_tiny(
        model_path=str(folder), positive_label=1, batch_size=4, cls_shortcut=False
    )
    with caplog.at_level(logging.WARNING):
        assert fast.score_prefixes(convs) == full.score_prefixes(convs)
    (warning,) = fallbacks(caplog)
    assert "differs from the full pass by 0.5" in warning


def test_a_renamed_module_is_a_reason_not_a_crash(folder: Path) -> None:
    detector = trained_on_tiny(model_path=str(folder), positive_label=1)
    model = detector._model
    assert hf_fast.shortcut_problem(model) == ""
    attention = model.bert.encoder.layer[-1].attention.self
    heads = attention.num_attention_heads
    attention.num_attention_heads = None  # as if a release renamed it (forward never reads it)
    try:
        assert hf_fast.shortcut_problem(model) == (
            "the last encoder layer has no 'attention.self.num_attention_heads'"
        )
        assert not hf_fast.supports_cls_shortcut(model)
        full = trained_on_tiny(model_path=str(folder), positive_label=1, cls_shortcut=False)
        convs = conversations(4)
        assert detector.score(convs) == full.score(convs)
    finally:
        attention.num_attention_heads = heads


def test_a_shortcut_that_fails_on_a_later_batch_falls_back_there(
    folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    convs = conversations(12)
    fast = trained_on_tiny(model_path=str(folder), positive_label=1, batch_size=2)
    full = trained_on_tiny(model_path=str(folder), positive_label=1, cls_shortcut=False)
    real, calls = hf_fast.cls_logits, {"n": 0}

    def flaky(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("shape mismatch")
        return real(*args)

    monkeypatch.setattr(hf_fast, "cls_logits", flaky)
    with caplog.at_level(logging.WARNING):
        scores = fast.score_prefixes(convs)
    for got, want in zip(scores, full.score_prefixes(convs), strict=True):
        assert got == pytest.approx(want, abs=1e-6)
    (warning,) = fallbacks(caplog)
    assert "shape mismatch" in warning
