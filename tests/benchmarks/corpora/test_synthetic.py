"""Tests of the synthetic corpus v1 generator (DOMAIN §3.5; docs/synthetic.md)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from itertools import pairwise
from string import Formatter
from typing import Any

import numpy as np
import pytest

from benchmarks.corpora.synthetic import (
    GENERATOR_VERSION,
    describe,
    find_blocklisted,
    fingerprint,
    generate_records,
    load_blocklist,
    vocab,
)
from benchmarks.corpora.synthetic.noise import Style, apply_style
from benchmarks.corpora.synthetic.scenarios import HARD, ORDINARY, POSITIVE, REPLY_BANKS
from benchmarks.corpora.synthetic.templates import GROOMER_BANKS
from benchmarks.schema import (
    ESCALATION_STAGES,
    FEATURES,
    ONSET_STAGES,
    STAGES,
    first_index_with,
    validate_record,
)

SEEDS = (0, 1, 2)
PER_SEED = 1000
START = 1_700_000_000.0

Record = dict[str, Any]


@pytest.fixture(scope="module")
def corpus() -> list[Record]:
    """3,000 version-1 conversations over three seeds, shared by the tests of this module
    (version 1's measured distributions; version 2 has tests of its own below)."""
    return [r for seed in SEEDS for r in generate_records(PER_SEED, seed=seed, version=1)]


def _meta(record: Record) -> dict[str, Any]:
    meta = json.loads(record["meta"])
    assert isinstance(meta, dict)
    return meta


def _digest(records: list[Record]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()


# --- schema -------------------------------------------------------------------------------


def test_yields_exactly_n_schema_records(corpus: list[Record]) -> None:
    assert len(corpus) == len(SEEDS) * PER_SEED
    assert list(generate_records(0)) == []
    ids = [r["conversation_id"] for r in corpus]
    assert len(set(ids)) == len(ids)
    for record in corpus:
        validate_record(record)
        assert set(record) == set(FEATURES)
        assert record["source"] == "synthetic"
        assert record["language"] == "en"
        assert record["split"] in ("train", "test")
        assert record["scenario"]
        assert _meta(record)["generator_version"] == GENERATOR_VERSION
        for message in record["messages"]:
            assert isinstance(message["time"], float)
            assert message["text"].strip()


def test_records_fit_the_datasets_features() -> None:
    from datasets import Dataset

    records = list(generate_records(60, seed=5))
    dataset = Dataset.from_list(records, features=FEATURES)
    assert dataset[7]["messages"][0]["text"] == records[7]["messages"][0]["text"]
    assert dataset[7]["onset"] == records[7]["onset"]


def test_arguments_are_checked_at_the_call() -> None:
    for bad in ({"positive_fraction": 1.5}, {"hard_negative_fraction": -0.1}, {"test_fraction": 2}):
        with pytest.raises(ValueError, match="must be in"):
            generate_records(10, **bad)
    with pytest.raises(ValueError, match="n_conversations"):
        generate_records(-1)


# --- rule 1: never sexual content ---------------------------------------------------------


def test_blocklist_scanner_matches_words_case_and_leetspeak() -> None:
    terms = load_blocklist()
    assert len(terms) > 40
    assert find_blocklisted("N4K3D") == ["naked"]
    assert find_blocklisted("she said NUDES") == ["nudes"]
    assert find_blocklisted("snakedance, sextant and essex") == []
    assert find_blocklisted("what game do you play?") == []


def test_no_blocklisted_term_anywhere(corpus: list[Record]) -> None:
    hits = [
        (record["conversation_id"], message["text"], found)
        for record in corpus
        for message in record["messages"]
        if (found := find_blocklisted(message["text"]))
    ]
    assert hits == []


def test_no_template_contains_a_blocklisted_term() -> None:
    banks = [bank for bank in GROOMER_BANKS.values()] + list(REPLY_BANKS.values())
    for scenario in POSITIVE + ORDINARY + HARD:
        banks.extend(scenario.lines + scenario.talk + scenario.cues)
    texts = {template.text for bank in banks for template in bank}
    assert len(texts) > 550
    assert [(text, find_blocklisted(text)) for text in texts if find_blocklisted(text)] == []
    values = [v for name in dir(vocab) if name.isupper() for v in getattr(vocab, name)]
    assert len(values) > 200
    assert [v for v in values if find_blocklisted(v)] == []
    # Every slot a template uses is one the generator fills.
    known = set(vocab.conversation_slots(random.Random(0)))
    known |= {"name", "me", "age", "yage", "grade", "school", "town", "ytown"}
    used = {field for text in texts for _, field, _, _ in Formatter().parse(text) if field}
    assert used <= known, used - known


def test_sexual_stage_is_never_generated(corpus: list[Record]) -> None:
    stages = Counter(s for r in corpus for m in r["messages"] for s in m["stages"])
    assert "sexual" not in stages
    assert set(stages) == set(STAGES) - {"sexual"}


# --- rules 2-4: personas, hard negatives, stage labels -------------------------------------


def test_personas_and_relationships_vary(corpus: list[Record]) -> None:
    relationships = {_meta(r)["relationship"] for r in corpus}
    assert {
        "groomer-child", "peers", "parent_child", "teacher_student", "coach_student",
        "relative_child", "adults",
    } <= relationships  # fmt: skip
    positives = [_meta(r) for r in corpus if r["label"] == 1]
    assert {m["poses_as_teen"] for m in positives} == {True, False}
    child_ages = {p["age"] for m in positives for p in m["personas"] if p["role"] == "child"}
    assert child_ages == set(range(10, 16))
    for meta in positives:
        groomer = meta["personas"][0]
        assert groomer["role"] == "groomer" and groomer["age"] >= 18
        if groomer["poses_as_teen"]:
            assert 13 <= groomer["claimed_age"] <= 16
    roles = {p["role"] for r in corpus for p in _meta(r)["personas"]}
    assert roles == {"groomer", "child", "teen", "parent", "teacher", "coach", "relative", "adult"}


def test_positive_labels_onset_and_escalation(corpus: list[Record]) -> None:
    positives = [r for r in corpus if r["label"] == 1]
    for record in positives:
        messages = record["messages"]
        assert record["onset"] == first_index_with(messages, ONSET_STAGES) is not None
        assert record["escalation"] == first_index_with(messages, ESCALATION_STAGES)
        (groomer,) = record["groomer_ids"]
        assert groomer == _meta(record)["personas"][0]["id"]
        assert messages[record["onset"] - 1]["author"] == groomer
        if record["escalation"] is not None:
            assert record["escalation"] > record["onset"]
            assert record["escalation"] > len(messages) / 2
            assert messages[record["escalation"] - 1]["author"] == groomer
        for message in messages:
            if message["author"] != groomer:  # the child's side: rarely, and only disclosures
                assert set(message["stages"]) <= {"personal_info"}
    with_escalation = sum(r["escalation"] is not None for r in positives) / len(positives)
    assert 0.55 < with_escalation < 0.85
    child_labelled = [
        bool(m["stages"])
        for r in positives
        for m in r["messages"]
        if m["author"] not in r["groomer_ids"]
    ]
    assert 0.0 < np.mean(child_labelled) < 0.2


def test_negatives_carry_no_labels(corpus: list[Record]) -> None:
    for record in corpus:
        if record["label"] == 0:
            assert record["groomer_ids"] == []
            assert record["onset"] is None and record["escalation"] is None
            assert all(m["stages"] == [] for m in record["messages"])


def test_stages_roughly_follow_the_models(corpus: list[Record]) -> None:
    positions: dict[str, list[float]] = defaultdict(list)  # of each stage's first message
    for record in corpus:
        if record["label"] == 1:
            n = len(record["messages"])
            for stage in STAGES:
                first = first_index_with(record["messages"], frozenset({stage}))
                if first is not None:
                    positions[stage].append(first / n)
    median = {stage: float(np.median(values)) for stage, values in positions.items()}
    assert median["rapport"] < median["personal_info"] < median["secrecy"]
    assert median["personal_info"] < median["isolation"] < median["platform_move"]
    assert median["compliments"] < median["approach"]
    for late in ("platform_move", "image_request", "approach"):
        assert median[late] > 0.6
    multi = sum(len(m["stages"]) > 1 for r in corpus for m in r["messages"])
    assert multi > 0


def test_hard_negatives_share_surface_cues(corpus: list[Record]) -> None:
    negatives = [r for r in corpus if r["label"] == 0]
    hard = [r for r in negatives if _meta(r)["hard_negative"]]
    assert abs(len(hard) / len(negatives) - 0.5) < 0.01
    assert {r["scenario"] for r in hard} == {s.name for s in HARD}
    text = "\n".join(m["text"].lower() for r in hard for m in r["messages"])
    for cue in ("how old", "secret", "discord", "meet", "gift card", "mature", "tell"):
        assert cue in text, cue
    ordinary = {r["scenario"] for r in negatives if not _meta(r)["hard_negative"]}
    assert ordinary == {s.name for s in ORDINARY}


def test_fractions_are_respected() -> None:
    records = list(generate_records(400, seed=3, positive_fraction=0.25))
    assert sum(r["label"] for r in records) == 100
    assert all(r["label"] == 1 for r in generate_records(30, positive_fraction=1.0))
    none = list(generate_records(30, positive_fraction=0.0, hard_negative_fraction=0.0))
    assert all(r["label"] == 0 and not _meta(r)["hard_negative"] for r in none)


# --- rules 5-6: noise, gaps, lengths ---------------------------------------------------------


def test_style_noise_on_both_classes(corpus: list[Record]) -> None:
    for label in (0, 1):
        texts = [m["text"] for r in corpus if r["label"] == label for m in r["messages"]]
        words = Counter(w for t in texts for w in t.split())
        for token in ("u", "ur", "lol", "idk", "brb"):
            assert words[token] > 0, (label, token)
        assert any(any(ord(c) > 0x2000 for c in t) for t in texts)  # emoji
        assert any(t.isupper() and len(t) > 8 for t in texts)  # shouting
        assert any(any(c.isupper() for c in t) and any(c.islower() for c in t) for t in texts)
        assert any("3" in w and w.replace("3", "e").isalpha() for t in texts for w in t.split())


def test_apply_style_is_seeded() -> None:
    noisy = Style(0.9, 0.9, 0.9, 0.9, True, 0.1, 0.5, 0.9)
    text = "Are you going to the park tomorrow? I don't know"
    first = [apply_style(text, noisy, random.Random(seed)) for seed in range(20)]
    again = [apply_style(text, noisy, random.Random(seed)) for seed in range(20)]
    assert first == again and len(set(first)) > 10


def test_times_and_gaps(corpus: list[Record]) -> None:
    gaps: list[float] = []
    for record in corpus:
        times = [m["time"] for m in record["messages"]]
        assert START <= times[0] <= START + 181 * 86_400
        assert all(a <= b for a, b in pairwise(times))
        gaps.extend(b - a for a, b in pairwise(times))
    array = np.asarray(gaps)
    assert 5 < np.median(array) < 60  # seconds within a burst
    assert 0.005 < (array > 3_600).mean() < 0.05  # sometimes hours
    assert 0.001 < (array > 86_400).mean() < 0.02  # occasionally days


def test_lengths_resemble_pan12(corpus: list[Record]) -> None:
    stats = describe(corpus)
    assert 11.5 < stats["messages"] / stats["conversations"] < 15.5  # PAN12 test: 13.27
    assert stats["share_length_6_to_60"] > 0.75
    assert stats["length"]["all"]["max"] <= 150 and stats["length"]["all"]["p99"] > 50
    assert stats["length"]["positive"]["p50"] > stats["length"]["negative"]["p50"]
    assert 2 <= stats["onset_index"]["p50"] <= 8
    assert stats["escalation_relative_position"]["p5"] > 0.5
    assert stats["authors_in_several_splits"] == 0
    assert stats["positive_share"] == pytest.approx(0.3, abs=0.001)


# --- rules 7-8: determinism and author-disjoint splits ---------------------------------------


def test_deterministic_and_seed_dependent() -> None:
    first = list(generate_records(150, seed=11))
    assert first == list(generate_records(150, seed=11))
    assert _digest(first) != _digest(list(generate_records(150, seed=12)))
    other_start = list(generate_records(150, seed=11, start_time=START + 10))
    assert other_start[0]["messages"][0]["time"] == first[0]["messages"][0]["time"] + 10


@pytest.mark.parametrize("version", [1, 2])
def test_independent_of_pythonhashseed(version: int) -> None:
    code = (
        "import hashlib, json\n"
        "from benchmarks.corpora.synthetic import generate_records\n"
        f"records = list(generate_records(80, seed=4, version={version}))\n"
        "print(hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == _digest(list(generate_records(80, seed=4, version=version)))


def test_splits_are_author_disjoint(corpus: list[Record]) -> None:
    for seed in SEEDS:
        records = [r for r in corpus if r["conversation_id"].startswith(f"synthetic-{seed}-")]
        authors: dict[str, set[str]] = {"train": set(), "test": set()}
        for record in records:
            authors[record["split"]].update(m["author"] for m in record["messages"])
        assert not authors["train"] & authors["test"]
        test_share = sum(r["split"] == "test" for r in records) / len(records)
        assert 0.2 < test_share < 0.4
        per_groomer: dict[str, set[str]] = defaultdict(set)
        victims: Counter[str] = Counter()
        for record in records:
            for groomer in record["groomer_ids"]:
                per_groomer[groomer].add(record["split"])
                victims[groomer] += 1
        assert all(len(splits) == 1 for splits in per_groomer.values())
        assert max(victims.values()) >= 3 and min(victims.values()) == 1
        assert max(victims.values()) <= 4


def test_fingerprint_covers_arguments_and_version() -> None:
    base = fingerprint(100)
    assert base == fingerprint(100, seed=0)
    changed = {fingerprint(101), fingerprint(100, seed=1), fingerprint(100, test_fraction=0.4)}
    assert base not in changed and len(changed) == 3


# --- rules 9-10: speed and difficulty ------------------------------------------------------


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    n_messages = sum(len(r["messages"]) for r in generate_records(3000, seed=9, version=1))
    elapsed = time.perf_counter() - started
    # 155,128 conversations must take well under 45 s; this is the same rate, with slack for
    # a loaded CI machine (about 0.25 s here).
    assert elapsed < 3000 / 155_128 * 45 * 3, elapsed
    assert n_messages > 30_000


def test_hard_but_learnable(corpus: list[Record]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    def text(record: Record) -> str:
        return "\n".join(m["text"] for m in record["messages"])

    train = [r for r in corpus if r["split"] == "train"]
    test = [r for r in corpus if r["split"] == "test"]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(max_iter=1000).fit(
        vectorizer.fit_transform([text(r) for r in train]), [r["label"] for r in train]
    )
    labels = np.array([r["label"] for r in test])
    scores = model.predict_proba(vectorizer.transform([text(r) for r in test]))[:, 1]
    auc = roc_auc_score(labels, scores)
    assert 0.85 < auc < 0.9999  # clearly beats chance, not trivially perfect
    predicted = scores >= 0.5
    assert predicted[labels == 1].mean() < 0.99  # some positives are missed
    # A keyword lexicon is fooled by hard negatives: they trip it far more than ordinary chats.
    lexicon = ("how old", "secret", "don't tell", "dont tell", "meet", "gift card", "mature", "pic")
    hard = np.array([_meta(r)["hard_negative"] for r in test])
    flagged = np.array([any(k in text(r).lower() for k in lexicon) for r in test])
    assert flagged[hard].mean() > 0.3
    assert flagged[hard].mean() > 3 * flagged[(labels == 0) & ~hard].mean()
