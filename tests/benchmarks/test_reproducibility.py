"""Same command, same bytes: two processes with different hash seeds give identical results.

Python salts ``hash`` of strings per process, so a set's iteration order (and any float
product or sum taken in that order) can change between two runs of one command. The lexicon
once multiplied stage probabilities in set order: a few scores moved in the last bit, the
bootstrap regrouped its classes, and the precision interval moved between identical runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import permutations
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from detectors.classical.lexicon import LexiconDetector

#: What may differ between two runs of one command: when it ran, how fast this machine was,
#: and where the run root is. Everything else in results.json must be equal.
MAY_DIFFER = ("created_at",)
TIMING = ("messages_per_second", "ms_per_message_p50", "ms_per_message_p99")


def test_the_lexicon_score_does_not_depend_on_the_order_stages_arrive_in() -> None:
    lexicon = LexiconDetector()
    # Four stages whose noisy-OR, multiplied in another order, differs in the last bit.
    stages = ("approach", "compliments", "exclusivity", "image_request")
    scores = {lexicon.combine(list(order)) for order in permutations(stages)}
    assert len(scores) == 1


def run(root: Path, hash_seed: str) -> Path:
    env = os.environ | {
        "GROOMBENCH_HOME": str(root),
        "PYTHONHASHSEED": hash_seed,
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    exe = Path(sys.executable).parent / "groombench"
    out = subprocess.run(
        [
            str(exe),
            "corpus.n_conversations=2500",
            "audit.n_resamples=400",
            "tracking=none",
            "runner.progress=false",
        ],
        env=env,
        cwd=root.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (root / "outputs").iterdir()
    return sweep


def comparable(results: Path, root: Path) -> dict[str, Any]:
    data = json.loads(results.read_text())
    for key in MAY_DIFFER:
        data.pop(key)
    for key in TIMING:
        data["metrics"].pop(key)
    # Paths under the run root are the only other difference allowed.
    return json.loads(json.dumps(data).replace(str(root), "<root>"))


@pytest.mark.slow
def test_two_processes_with_different_hash_seeds_give_identical_results(tmp_path: Path) -> None:
    first_root, second_root = tmp_path / "a" / "runs", tmp_path / "b" / "runs"
    first_root.parent.mkdir()
    second_root.parent.mkdir()
    first, second = run(first_root, "1"), run(second_root, "2")
    jobs = sorted(p.name for p in first.iterdir() if p.is_dir())
    assert jobs == sorted(p.name for p in second.iterdir() if p.is_dir()) and len(jobs) == 5
    for job in jobs:
        a = comparable(first / job / "results.json", first_root)
        b = comparable(second / job / "results.json", second_root)
        assert a["audit"]["intervals"], job  # intervals are there, and compared
        assert a == b, job
        # Every score at every message, bit for bit (compute time aside).
        ta, tb = (
            pq.read_table(s / job / "traces.parquet").drop(["seconds"]) for s in (first, second)
        )
        assert ta.equals(tb), job
        assert (first / job / "clusters.parquet").read_bytes() == (
            second / job / "clusters.parquet"
        ).read_bytes()
