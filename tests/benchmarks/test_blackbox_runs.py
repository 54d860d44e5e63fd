"""End-to-end runs of a black-box detector through the CLI, against a real loopback service.

A run killed with SIGKILL resumes without losing or re-buying a completed prediction; a finished
run re-run makes no call; failed conversations are errors with bounds, never negatives; and no
secret value reaches anything groombench writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fake_services import text_score
from tests.helpers import write_jsonl
from tests.loopback import Faults, Loopback, Recorded

SECRET = "SECRETVALUE42"  # what tests.helpers.cli and run() put in GB_TEST_API_KEY
CONCURRENCY = 4


def score_answer(request: Recorded) -> Any:
    """A generic scoring service: {"text": ...} in, {"score": ...} out; 404 for 'missing'."""
    text = request.body["text"]
    if "missing" in text:
        return 404, {"error": "not found"}
    return {"score": text_score(text)}


def write_corpus(tmp_path: Path) -> Path:
    path = write_jsonl(tmp_path / "c.jsonl", n=80, seed=3)
    return path


def command(tmp_path: Path, server: Loopback, *extra: str) -> list[str]:
    exe = Path(sys.executable).parent / "groombench"
    return [
        str(exe),
        "corpus=jsonl",
        f"corpus.path={tmp_path / 'c.jsonl'}",
        "detector=http",
        f"detector.url='{server.url}/score?key={{api_key}}'",
        "+detector.secrets.api_key=GB_TEST_API_KEY",
        "+detector.headers.Authorization='Bearer {api_key}'",
        f"detector.cache={tmp_path / 'predictions.sqlite'}",
        f"detector.concurrency={CONCURRENCY}",
        "detector.retries.backoff=0.01",
        "runner.batch_size=4",
        "runner.progress=false",
        *extra,
    ]


def environment(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "GROOMBENCH_HOME": str(tmp_path / "runs"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'store.db'}",
        "HF_HUB_OFFLINE": "1",
        "GB_TEST_API_KEY": SECRET,
    }


def run(tmp_path: Path, server: Loopback, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(tmp_path, server, *extra),
        env=environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def results(tmp_path: Path) -> list[dict[str, Any]]:
    files = sorted((tmp_path / "runs" / "outputs").rglob("results.json"))
    return [json.loads(f.read_text()) for f in files]


def inputs(server: Loopback) -> Counter[str]:
    return Counter(r.body["text"] for r in server.requests)


@pytest.mark.slow
def test_a_killed_run_resumes_without_losing_or_rebuying_predictions(tmp_path: Path) -> None:
    # A clean run first (own folder, own cache, own server): what one run asks for, per text.
    # One text can be asked several times, once per conversation holding it: the cache key
    # includes the conversation id.
    clean = tmp_path / "clean"
    clean.mkdir()
    write_corpus(clean)
    with Loopback(score_answer) as server:
        assert run(clean, server, "tracking=none").returncode == 0
        baseline = inputs(server)
    write_corpus(tmp_path)
    with Loopback(score_answer, latency=0.02) as server:
        child = subprocess.Popen(
            command(tmp_path, server, "tracking=none"),
            env=environment(tmp_path),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the kill reaches every worker
        )
        deadline = time.monotonic() + 120
        while server.count() < 60 and time.monotonic() < deadline:
            assert child.poll() is None, "the run ended before it could be killed"
            time.sleep(0.01)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        killed_at = server.count()
        assert child.returncode == -signal.SIGKILL
        assert 60 <= killed_at < sum(baseline.values())

        resumed = run(tmp_path, server, "tracking=none")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        after = inputs(server)
        # Nothing was lost (every input asked at least as often as a clean run asks), and only
        # the requests in flight at the kill were bought twice.
        assert all(after[text] >= n for text, n in baseline.items())
        extra = sum(after.values()) - sum(baseline.values())
        assert 0 <= extra <= CONCURRENCY, extra
        resumed_metrics = results(tmp_path)[-1]["metrics"]
        clean_metrics = results(clean)[-1]["metrics"]
        for key in ("precision", "recall", "roc_auc", "n_scored", "n_errors", "tp", "fp"):
            assert resumed_metrics[key] == clean_metrics[key], key

        # A finished evaluation re-run makes no call at all.
        count = server.count()
        again = run(tmp_path, server, "tracking=none")
        assert again.returncode == 0, again.stderr[-3000:]
        assert server.count() == count
        usage = results(tmp_path)[-1]["usage"]
        assert usage.get("requests", 0) == 0 and usage["cache_hits"] > 0


@pytest.mark.slow
def test_failed_conversations_are_errors_with_bounds_and_no_secret_is_written(
    tmp_path: Path,
) -> None:
    path = write_corpus(tmp_path)
    # Some conversations hold a message the service refuses (404): those are errors.
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records[::7]:
        record["messages"][0]["text"] = "missing page"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with Loopback(score_answer, faults=Faults(rate=0.1, seed=5)) as server:
        done = run(tmp_path, server, "tracking=mlflow", "detector.price_per_call=0.01")
        assert done.returncode == 0, done.stderr[-3000:]
        # The service did receive the key (so a leak would have had something to leak).
        assert any(SECRET in r.headers.get("Authorization", "") for r in server.requests)
        assert any(SECRET in "".join(r.query.get("key", [])) for r in server.requests)

    result = results(tmp_path)[-1]
    metrics = result["metrics"]
    n_test = sum(1 for r in records if r["split"] == "test")
    failed = [
        r for r in records if r["split"] == "test" and r["messages"][0]["text"] == "missing page"
    ]
    assert metrics["n_errors"] == len(failed) > 0
    assert metrics["n_scored"] == n_test - len(failed)
    assert metrics["n_errors_positive"] == sum(r["label"] for r in failed)
    assert metrics["recall_worst"] <= metrics["recall"] <= metrics["recall_best"]
    assert metrics["precision_worst"] <= metrics["precision_best"]
    usage = result["usage"]
    assert usage["calls"] > 0 and usage["retries"] > 0
    assert usage["cost"] == pytest.approx(usage["calls"] * 0.01)
    assert usage["failed_inputs"] >= len(failed)

    # Nothing groombench wrote or printed holds the key: outputs, Hydra's saved configs, error
    # details, MLflow's store and artifacts, the prediction cache.
    assert SECRET not in done.stdout + done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "c.jsonl"]
    assert any(p.name == "errors.local.jsonl" for p in written)
    assert any(p.suffix == ".db" for p in written) and any(p.name == "config.yaml" for p in written)
    for file in written:
        assert SECRET.encode() not in file.read_bytes(), file


def test_a_detector_failing_on_every_conversation_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    write_corpus(tmp_path)

    def refuse(request: Recorded) -> Any:
        del request
        return 401, {"error": "unauthorized"}

    with Loopback(refuse) as server:
        done = run(tmp_path, server, "tracking=none")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("groombench: error:")]
    assert len(errors) == 1 and "failed on all" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "sweep FAILED" not in done.stdout
    # The evidence stays: the job's folder keeps its error details.
    assert list((tmp_path / "runs").rglob("errors.local.jsonl"))
