"""Synthetic corpus version 2: matched shapes, held-out phrasing, dialogue (docs/synthetic.md)."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from benchmarks.corpora.synthetic import (
    find_blocklisted,
    fingerprint,
    generate_records,
)
from benchmarks.corpora.synthetic.scenarios import HARD, ORDINARY, POSITIVE, REPLY_BANKS
from benchmarks.corpora.synthetic.templates import GROOMER_BANKS

Record = dict[str, Any]


def _meta(record: Record) -> dict[str, Any]:
    return json.loads(record["meta"])


# --- version 2: matched shapes, held-out phrasing ----------------------------------------


def test_version_1_is_unchanged_and_version_2_is_another_corpus() -> None:
    # The fingerprint every v1 cache, model and result was recorded under.
    v1 = "099cbc93f8533ea6bbdc41c4a98e57258a5daf3c5a10255fde588deca05c5ba9"
    assert fingerprint(20000, version=1) == v1
    assert fingerprint(20000) == fingerprint(20000, version=2) != v1  # 2 is the default
    v2 = list(generate_records(50, seed=2, version=2))
    assert v2 == list(generate_records(50, seed=2, version=2))
    assert {_meta(r)["generator_version"] for r in v2} == {"2.1.0"}
    with pytest.raises(ValueError, match="version must be one of"):
        generate_records(5, version=3)


def test_version_2_no_test_template_is_seen_in_training() -> None:
    from benchmarks.corpora.synthetic import chatter
    from benchmarks.corpora.synthetic.plans_v2 import in_training_half, phrasing_half

    banks = [*GROOMER_BANKS.values(), *REPLY_BANKS.values(), chatter.FILLER]
    for scenario in (*POSITIVE, *ORDINARY, *HARD):
        banks += [*scenario.talk, *scenario.lines, *(scenario.cues or ())]
    shared = []
    for bank in (b for b in banks if b):
        train, test = phrasing_half(bank, "train"), phrasing_half(bank, "test")
        if train is bank:
            shared.append(bank)  # every template on one side: used whole by both splits
            continue
        assert all(in_training_half(t) for t in train)
        assert not any(in_training_half(t) for t in test)
    assert len(shared) <= 2, [[t.text for t in b] for b in shared]
    # End to end: no grooming-stage line of a test conversation occurs in training.
    records = list(generate_records(3000, seed=5, version=2))

    def staged(split: str) -> set[str]:
        return {
            m["text"]
            for r in records
            if r["split"] == split
            for m in r["messages"]
            if set(m["stages"]) - {"rapport"}
        }

    assert staged("test") and not staged("test") & staged("train")


def test_version_2_meets_its_shortcut_targets(tmp_path: Path) -> None:
    from benchmarks import evaluate_detector
    from benchmarks.corpora.synthetic.corpus import load_synthetic
    from benchmarks.shortcuts import shortcut_audit
    from detectors.classical.controls import RandomDetector

    corpus = load_synthetic(10_000, seed=0, version=2, cache_dir=str(tmp_path))
    audit = shortcut_audit(corpus, "test", "train")
    for name in ("length", "top_author_messages", "duration", "mean_message_length"):
        assert 0.45 <= audit[name]["roc_auc"] <= 0.55, (name, audit[name])
    assert audit["memorizer"]["roc_auc"] <= 0.60
    chance = evaluate_detector(RandomDetector(), corpus, split="test").result.metrics
    assert 0.47 <= chance["roc_auc"] <= 0.53


def test_version_2_text_is_clean_and_its_banks_too() -> None:
    from benchmarks.corpora.synthetic.plans_v2 import all_banks

    for bank in all_banks():
        for template in bank:
            assert find_blocklisted(template.text) == [], template.text
            assert "sexual" not in template.stages
    records = list(generate_records(3000, seed=8, version=2))
    hits = [m["text"] for r in records for m in r["messages"] if find_blocklisted(m["text"])]
    assert hits == []
    assert not any("sexual" in m["stages"] for r in records for m in r["messages"])
    scenarios = Counter(r["scenario"] for r in records)
    assert scenarios["hn_tutor_video"] > 0  # version 2's added hard negative


def test_version_2_questions_get_answers_that_fit() -> None:
    from benchmarks.corpora.synthetic.dialogue import ANSWERS, CALLBACKS, QUESTIONS

    records = list(generate_records(2000, seed=6, version=2))
    asked = answered = 0
    answer_stems = {key: [t.text.split("{")[0][:8] for t in bank] for key, bank in ANSWERS.items()}
    for record in records:
        messages = record["messages"]
        for ask, reply in pairwise(messages):
            key = next((k for q, k in QUESTIONS.items() if ask["text"] == q), None)
            if key is None or ask["author"] == reply["author"]:
                continue
            asked += 1
            answered += any(reply["text"].startswith(s) for s in answer_stems[key] if s)
    assert asked > 200 and answered / asked > 0.6  # style noise changes some answers' start
    callbacks = {t.text.split("{")[0] for t in CALLBACKS}
    assert any(
        m["text"].startswith(tuple(callbacks)) and m["index"] >= 7
        for r in records
        for m in r["messages"]
    )


def test_version_2_topics_run_over_several_turns() -> None:
    from benchmarks.corpora.synthetic.dialogue import ANSWERS, FOLLOW_UPS, QUESTIONS

    follow_ups = {t.text: key for key, bank in FOLLOW_UPS.items() for t in bank}
    stems = {key: [t.text.split("{")[0][:8] for t in bank] for key, bank in ANSWERS.items()}
    records = list(generate_records(3000, seed=4, version=2))
    threads = 0
    for record in records:
        messages = record["messages"]
        for first, answer, follow, reply in zip(
            messages, messages[1:], messages[2:], messages[3:], strict=False
        ):
            key = QUESTIONS.get(first["text"])
            if key is None or follow["text"] not in follow_ups or follow_ups[follow["text"]] != key:
                continue
            # question, answer, a follow-up by the asker on the same topic, and its answer
            assert first["author"] == follow["author"] != answer["author"]
            threads += reply["author"] == answer["author"] and any(
                reply["text"].startswith(s) for s in stems[QUESTIONS[follow["text"]]] if s
            )
    assert threads >= 20
    # Both classes have threads.
    labels = {r["label"] for r in records if any(m["text"] in follow_ups for m in r["messages"])}
    assert labels == {0, 1}
