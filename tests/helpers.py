"""Neutral fixtures written by the tests themselves (never real corpus text)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from detectors import Message

WORDS = [
    "hi",
    "hello",
    "how",
    "old",
    "are",
    "you",
    "what",
    "school",
    "do",
    "you",
    "go",
    "to",
    "dont",
    "tell",
    "anyone",
    "our",
    "secret",
    "add",
    "me",
    "on",
    "snap",
    "discord",
    "meet",
    "up",
    "after",
    "practice",
    "homework",
    "game",
    "play",
    "later",
    "mom",
    "home",
    "alone",
    "pizza",
    "movie",
    "weekend",
    "lol",
    "idk",
    "brb",
    "gift",
    "card",
    "robux",
    "you",
    "are",
    "so",
    "mature",
    "send",
    "a",
    "pic",
    "football",
    "music",
]


def neutral_conversation(
    rng: random.Random, n: int | None = None, t0: float = 1.7e9
) -> list[Message]:
    """A conversation of random neutral words between two authors."""
    n = n if n is not None else rng.randint(1, 15)
    t = t0
    out = []
    for i in range(n):
        t += rng.choice([5.0, 30.0, 300.0, 7200.0])
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8)))
        out.append(Message(author=f"a{i % 2}", text=text, time=t, index=i + 1))
    return out


def record(
    cid: str, messages: list[Message], label: int, split: str = "test", **extra: Any
) -> dict[str, Any]:
    """A schema record (JSONL line) from messages."""
    return {
        "conversation_id": cid,
        "label": label,
        "split": split,
        "messages": [{"author": m.author, "text": m.text, "time": m.time} for m in messages],
        **extra,
    }


def write_jsonl(
    path: Path, n: int = 60, seed: int = 0, splits: tuple[str, ...] = ("train", "test")
) -> Path:
    """Write a small neutral JSONL corpus with both labels in every split."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            label = i % 2
            messages = neutral_conversation(rng, rng.randint(2, 12))
            if label:
                messages[-1] = Message(
                    messages[-1].author,
                    "dont tell your mom, add me on snap",
                    messages[-1].time,
                    messages[-1].index,
                )
            split = splits[0] if i % 4 < 2 else splits[-1]
            handle.write(json.dumps(record(f"c{i}", messages, label, split)) + "\n")
    return path


def assert_nested_close(a: list[list[float]], b: list[list[float]], tol: float = 1e-9) -> None:
    """Assert two lists of score lists have the same shape and values within ``tol``."""
    assert [len(x) for x in a] == [len(y) for y in b]
    for x, y in zip(a, b, strict=True):
        assert all(abs(u - v) <= tol for u, v in zip(x, y, strict=True)), (x, y)


def cli(tmp_path: Path, *args: str, script: str = "groombench") -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "GROOMBENCH_HOME": str(tmp_path / "runs"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'store.db'}",
        "HF_HUB_OFFLINE": "1",
        # Secrets come from environment variables named in configs, never from the command line.
        "GB_TEST_API_KEY": "SECRETVALUE42",
    }
    exe = Path(sys.executable).parent / script
    return subprocess.run(
        [str(exe), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def one_parent_sweep(store: Path, detectors: list[str]) -> str:
    """Check a sweep logged to ``store`` as one parent run and one FINISHED child per detector
    under it; return the parent's run id."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("groombench")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    children = [r for r in runs if "groombench.detector" in r.data.tags]
    parents = [r for r in runs if "groombench.detector" not in r.data.tags]
    assert len(parents) == 1 and len(children) == len(detectors)
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert all(r.info.status == "FINISHED" for r in runs)
    assert sorted(r.data.tags["groombench.detector"] for r in children) == sorted(detectors)
    return str(parents[0].info.run_id)
