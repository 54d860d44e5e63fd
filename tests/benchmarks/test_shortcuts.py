"""The shortcut audit and the length-controlled metrics, on corpora built to have shortcuts."""

from __future__ import annotations

import json
import random
from pathlib import Path

from benchmarks import evaluate_detector
from benchmarks.corpora.jsonl import load_jsonl
from benchmarks.shortcuts import shortcut_audit
from detectors.classical.controls import LengthDetector, RandomDetector
from tests.helpers import cli, neutral_conversation, record


def long_positives(path: Path, n: int = 200, seed: int = 0) -> Path:
    """Positives twice as long as negatives, and one line every training positive repeats."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            label = i % 2
            messages = neutral_conversation(rng, rng.randint(8, 16) if label else rng.randint(2, 9))
            split = "train" if i % 4 < 2 else "test"
            if label:
                first = messages[0]
                messages[0] = type(first)(first.author, "see you at the usual place", first.time, 1)
            handle.write(json.dumps(record(f"c{i}", messages, label, split)) + "\n")
    return path


def test_the_audit_finds_length_author_and_memorised_lines(tmp_path: Path) -> None:
    corpus = load_jsonl(str(long_positives(tmp_path / "c.jsonl")), cache_dir=str(tmp_path / "k"))
    audit = shortcut_audit(corpus, "test", "train")
    assert audit["length"]["roc_auc"] > 0.8
    assert audit["top_author_messages"]["roc_auc"] > 0.7
    assert audit["memorizer"]["roc_auc"] > 0.9 and audit["memorizer"]["trained_on"] == "train"
    assert "length" in audit["warning"] and "roc_auc_length_matched" in audit["warning"]
    assert "memorizer" not in shortcut_audit(corpus, "test", None)
    assert "memorizer" not in shortcut_audit(corpus, "test", "test")  # never on itself
    # Kept beside the corpus cache: a second call reads it (the same, bytes and all).
    (cached,) = Path(corpus.dataset.cache_files[0]["filename"]).parent.glob("*-test-train.json")
    cached.write_text(json.dumps(audit | {"marker": 1}))
    assert shortcut_audit(corpus, "test", "train")["marker"] == 1


def test_a_length_only_score_is_worth_one_half_once_length_is_controlled(tmp_path: Path) -> None:
    corpus = load_jsonl(str(long_positives(tmp_path / "c.jsonl")))
    length = evaluate_detector(LengthDetector(), corpus, split="test").result
    assert length.metrics["roc_auc"] > 0.8
    assert length.metrics["roc_auc_length_matched"] == 0.5
    assert length.metrics["n_length_matched_pairs"] > 0
    for k in (5, 10, 20):
        assert length.metrics[f"roc_auc_first_{k}"] in (0.5, None)  # ties at a fixed prefix
        assert f"roc_auc_first_{k}" in length.definitions
    assert length.corpus["shortcuts"]["length"]["roc_auc"] == length.metrics["roc_auc"]
    # The pairs behind it are exactly the positive-negative pairs of equal length.
    test = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    test = [r for r in test if r["split"] == "test"]
    pairs = sum(
        1
        for p in test
        for q in test
        if p["label"] == 1 and q["label"] == 0 and len(p["messages"]) == len(q["messages"])
    )
    chance = evaluate_detector(RandomDetector(), corpus, split="test").result
    assert chance.metrics["n_length_matched_pairs"] == pairs > 0


def test_prepare_and_the_report_card_show_the_audit(tmp_path: Path) -> None:
    path = long_positives(tmp_path / "c.jsonl")
    out = cli(tmp_path, "corpus=jsonl", f"corpus.path={path}", script="groombench-prepare")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "shortcuts  test: ROC-AUC length" in out.stdout and "memorizer" in out.stdout
    run = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "detector=length",
        "audit.n_resamples=100",
        "tracking=none",
        "runner.progress=false",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (card,) = (tmp_path / "runs" / "outputs").glob("*/*/report/report.json")
    data = json.loads(card.read_text())["data"]
    assert data["shortcut ROC-AUC (0.5 = worthless)"]["length"] > 0.8
    assert "roc_auc_length_matched" in data["shortcut warning"]
    metrics = json.loads(card.read_text())["metrics"]
    assert (
        metrics["roc_auc_length_matched"]["estimate"] == 0.5
    )  # the length control, length taken out
