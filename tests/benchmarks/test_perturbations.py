"""Perturbation families (groundwork for GroomCheck): seeded, targeted, content-preserving."""

from __future__ import annotations

import random

import pytest

from benchmarks.corpora.synthetic import find_blocklisted, generate_records
from benchmarks.perturbations import _HOMOGLYPHS, FAMILIES, conversation_rng, perturb_messages

TEXT = "add me on snapchat im @jo_99, its our secret and ill send you a gift for your phone"


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_changes_at_rate_one_and_nothing_at_rate_zero(family: str) -> None:
    change = FAMILIES[family]
    assert change(TEXT, random.Random(5), 0.0) == TEXT
    assert change(TEXT, random.Random(5), 1.0) != TEXT
    assert change(TEXT, random.Random(5), 0.5) == change(TEXT, random.Random(5), 0.5)


def test_invisible_and_look_alike_changes_read_the_same() -> None:
    hidden = FAMILIES["zero_width"](TEXT, random.Random(1), 1.0)
    assert hidden.replace("\u200b", "") == TEXT
    mapped = FAMILIES["homoglyph"](TEXT, random.Random(1), 1.0)
    back = {v: k for k, v in _HOMOGLYPHS.items()}
    assert "".join(back.get(c, c) for c in mapped) == TEXT


def test_only_the_chosen_authors_messages_change_whatever_the_order() -> None:
    chat = [
        {"author": "g", "text": "add me on snapchat", "index": 1},
        {"author": "c", "text": "why", "index": 2},
        {"author": "g", "text": "its our secret", "index": 3},
    ]
    out = perturb_messages(chat, "leetspeak", authors=["g"], rate=1.0, seed=3, conversation_id="c9")
    assert out[1] == chat[1] and out[0]["text"] != chat[0]["text"]
    assert [m["index"] for m in out] == [1, 2, 3] and chat[0]["text"] == "add me on snapchat"
    # The generator is keyed by seed, family and conversation id, not by call order.
    conversation_rng(3, "other", "leetspeak").random()
    again = perturb_messages(
        chat, "leetspeak", authors=["g"], rate=0.5, seed=3, conversation_id="c9"
    )
    assert again == perturb_messages(
        chat, "leetspeak", authors=["g"], rate=0.5, seed=3, conversation_id="c9"
    )
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb_messages(chat, "rot13", authors=["g"], rate=1.0, seed=0, conversation_id="c")
    with pytest.raises(ValueError, match="rate must be in"):
        perturb_messages(chat, "emoji", authors=["g"], rate=2.0, seed=0, conversation_id="c")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_perturbations_add_no_content(family: str) -> None:
    # The synthetic corpus is clean; a perturbed copy must be too (the scanner reads leetspeak).
    for record in generate_records(150, seed=4):
        groomers = record["groomer_ids"] or [record["messages"][0]["author"]]
        for message in perturb_messages(
            record["messages"],
            family,
            authors=groomers,
            rate=0.5,
            seed=0,
            conversation_id=record["conversation_id"],
        ):
            assert find_blocklisted(message["text"]) == [], message["text"]
