"""GroomCheck's cases: enough tests and cases, pairs that share a surface, no explicit content."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.corpora.groomcheck import TESTS, load_groomcheck
from benchmarks.corpora.groomcheck.build import FILLER, parse_template
from benchmarks.corpora.groomcheck.slots import SLOTS
from benchmarks.corpora.synthetic.safety import find_blocklisted
from benchmarks.schema import STAGES, validate_record


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return list(load_groomcheck().dataset)


def meta(record: dict) -> dict:
    return json.loads(record["meta"])


def test_at_least_25_functional_tests_and_1000_cases(cases: list[dict]) -> None:
    assert len(TESTS) >= 25
    assert len(cases) >= 1000
    per_test = Counter(meta(r)["test"] for r in cases)
    assert set(per_test) == {t.id for t in TESTS}
    assert min(per_test.values()) >= 30  # HateCheck's smallest test had 30 cases


def test_every_case_is_a_valid_short_conversation(cases: list[dict]) -> None:
    for record in cases:
        validate_record(record)
        assert record["split"] == "test" and record["source"] == "groomcheck"
        assert 5 <= len(record["messages"]) <= 40
        assert len({m["author"] for m in record["messages"]}) == 2
        assert record["label"] == meta(record)["expected"]
        if record["label"]:
            assert record["groomer_ids"] == [meta(record)["focus_author"]]
            assert record["onset"] is not None  # a grooming stage is labelled
        else:
            assert record["groomer_ids"] == [] and record["onset"] is None


def test_every_grooming_case_has_a_contrast_case_sharing_its_surface(cases: list[dict]) -> None:
    by_id = {r["conversation_id"]: r for r in cases}
    linked = 0
    for record in cases:
        info = meta(record)
        if record["label"] == 0:
            assert info["contrast_of"] in by_id  # every benign case is a contrast case
            continue
        partner = by_id[info["contrast"]]
        assert partner["label"] == 0 and meta(partner)["contrast_of"] == record["conversation_id"]
        # The same length, the same opening small talk, the same clock.
        assert len(partner["messages"]) == len(record["messages"])
        assert partner["messages"][0]["text"] == record["messages"][0]["text"]
        first, last = record["messages"], partner["messages"]
        assert first[-1]["time"] - first[0]["time"] == last[-1]["time"] - last[0]["time"]
        # ... and shared cue words: at least two content words of the grooming lines recur.
        words = {w for m in first for w in re.findall(r"[a-z]{4,}", m["text"])}
        other = {w for m in last for w in re.findall(r"[a-z]{4,}", m["text"])}
        assert len(words & other) >= 2
        linked += 1
    assert linked == sum(1 for r in cases if r["label"] == 1) > 0


def test_every_test_documents_what_it_checks_and_why() -> None:
    for test in TESTS:
        assert test.checks and test.why and test.capability
        assert (test.contrast is not None) == (test.label == 1)
        for template in test.templates:
            for line in parse_template(template):
                assert set(line.stages) <= set(STAGES)
                assert not line.stages or test.label == 1, f"{test.id}: benign line has stages"
                for slot in re.findall(r"{(\w+)}", line.text):
                    assert slot in SLOTS, f"{test.id}: unknown slot {slot}"


def test_capabilities_cover_the_stages_and_weak_spots() -> None:
    capabilities = {t.capability for t in TESTS}
    for needed in (
        "rapport and flattery",
        "age probing",
        "checking for parents",
        "secrecy",
        "isolation",
        "gifts and money",
        "moving to another app",
        "image requests",
        "meeting",
        "stage combinations",
        "indirect and coded language",
        "grooming hidden in long benign chats",
    ):
        assert needed in capabilities
    slow = next(t for t in TESTS if t.id == "combo_slow")
    assert any("~" in t for t in slow.templates)


def test_no_template_slot_or_case_holds_blocklisted_words(cases: list[dict]) -> None:
    texts = [line.text for t in TESTS for tpl in t.templates for line in parse_template(tpl)]
    texts += [value for values in SLOTS.values() for value in values]
    texts += [text for pair in FILLER for text in pair]
    texts += [m["text"] for r in cases for m in r["messages"]]
    flagged = [t for t in texts if find_blocklisted(t)]
    assert flagged == []


def test_the_same_seed_gives_the_same_cases_and_fingerprint(tmp_path: Path) -> None:
    a = load_groomcheck(cases_per_test=3, cache_dir=str(tmp_path / "a"))
    b = load_groomcheck(cases_per_test=3)
    assert a.fingerprint == b.fingerprint
    assert list(a.dataset) == list(b.dataset)
    other = load_groomcheck(cases_per_test=3, seed=1)
    assert other.fingerprint != a.fingerprint
    assert list(other.dataset["messages"]) != list(a.dataset["messages"])


def test_slow_cases_span_days_and_fast_ones_minutes(cases: list[dict]) -> None:
    def span(test: str) -> list[float]:
        return [
            r["messages"][-1]["time"] - r["messages"][0]["time"]
            for r in cases
            if meta(r)["test"] == test
        ]

    assert min(span("combo_slow")) >= 3 * 86_400
    assert max(span("combo_fast")) < 3_600
    assert min(len(r["messages"]) for r in cases if meta(r)["test"] == "hidden_in_long_chat") > 24
