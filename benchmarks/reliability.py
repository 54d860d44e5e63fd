"""Reliability: the same scores from a second process at another batch size; content hashes.

A regulator asks whether a tool is reliable: whether the same input gives the same output. The
check here re-scores a seeded sample of the run's conversations in a **second process** (a fresh
interpreter that rebuilds the detector from the run's saved ``config.yaml``) at **another batch
size**, and compares every score with the run's, within the detector's declared
``score_tolerance``. It starts as soon as the run's traces are saved and runs beside the
robustness runs and the audit. The hashes (corpus, predictions, config) let anyone check that a
report's numbers come from the data and scores it names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.secrets import redact, secret_values
from benchmarks.traces import Traces

log = logging.getLogger(__name__)

#: What the second process writes: the sample's ids, checkpoints, scores and errors (no text).
RESCORE_FILE = "reliability-rescore.json"
#: The second process: ``python -m benchmarks.rescore``.
RESCORE_MODULE = "benchmarks.rescore"


def sample_ids(ids: Sequence[str], n: int, seed: int) -> list[str]:
    """A seeded sample of ``n`` ids: the same whatever order the ids come in.

    Examples:
        >>> sample_ids(["c3", "c1", "c2"], 2, 0) == sample_ids(["c1", "c2", "c3"], 2, 0)
        True
        >>> len(sample_ids(["a", "b"], 5, 0))
        2
    """

    def key(cid: str) -> bytes:
        return hashlib.blake2b(f"{seed}\x1f{cid}".encode(), digest_size=8).digest()

    return sorted(sorted(set(ids), key=key)[:n])


def other_batch_size(batch_size: int) -> int:
    """A batch size that differs from the run's (1 unless the run used 1; then 7).

    Examples:
        >>> other_batch_size(64), other_batch_size(1)
        (1, 7)
    """
    return 7 if batch_size == 1 else 1


def predictions_sha256(traces: Traces) -> str:
    """sha256 of every conversation's id, checkpoints, scores and error, in order.

    Timings are left out (they differ run to run); the scores are written as Python's shortest
    round-tripping decimal, so equal scores give equal bytes.
    """
    digest = hashlib.sha256()
    for row in zip(
        traces.column("conversation_id"),
        traces.column("checkpoints"),
        traces.column("scores"),
        traces.column("error"),
        strict=True,
    ):
        digest.update(json.dumps(row, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    """sha256 of ``text`` as UTF-8.

    Examples:
        >>> text_sha256("")[:12]
        'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Recheck:
    """A second process re-scoring a sample (see :func:`start`)."""

    process: subprocess.Popen[bytes] | None
    ids: list[str]
    batch_size: int
    output: Path
    started: float


def start(
    output_dir: str | Path, ids: Sequence[str], *, n: int, seed: int, batch_size: int
) -> Recheck:
    """Start re-scoring a seeded sample of ``ids`` in a second process; return at once.

    The second process reads ``<output_dir>/config.yaml`` (the run's config, secrets removed:
    keys still come from the environment variables it names) and writes :data:`RESCORE_FILE`.
    """
    folder = Path(output_dir)
    chosen = sample_ids(ids, n, seed)
    size = other_batch_size(batch_size)
    target = folder / RESCORE_FILE
    (folder / "reliability-ids.txt").write_text("\n".join(chosen) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        RESCORE_MODULE,
        "--run-dir",
        str(folder),
        "--batch-size",
        str(size),
    ]
    sink = (folder / "reliability-rescore.log").open("wb")
    try:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=os.environ | {"HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")},
        )
    finally:
        sink.close()
    return Recheck(process, chosen, size, target, time.perf_counter())


def finish(
    recheck: Recheck, traces: Traces, *, tolerance: float, timeout: float = 600.0
) -> dict[str, Any]:
    """Wait for the second process; compare its scores with the run's; say what held."""
    record: dict[str, Any] = {
        "sample": len(recheck.ids),
        "batch_size_recheck": recheck.batch_size,
        "tolerance": tolerance,
        "process": f"python -m {RESCORE_MODULE} (a fresh interpreter)",
    }
    assert recheck.process is not None
    try:
        code = recheck.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        recheck.process.kill()
        recheck.process.wait()
        return record | {"checked": False, "reason": f"the second process ran over {timeout:.0f} s"}
    # Timing goes to the log, not the record: the same command gives the same results.json.
    log.info("reliability re-score took %.1f s", time.perf_counter() - recheck.started)
    if code != 0 or not recheck.output.exists():
        text = (recheck.output.parent / "reliability-rescore.log").read_text(
            encoding="utf-8", errors="replace"
        )
        last = text.strip().splitlines()[-1:] or [""]
        # The line may quote a config value: what the config reads from the environment is
        # masked before it goes anywhere.
        reason = redact(
            f"the second process failed (exit {code}): {last[0][:300]}", secret_values()
        )
        return record | {"checked": False, "reason": reason}
    again = json.loads(recheck.output.read_text(encoding="utf-8"))
    return record | compare(traces, again, tolerance)


def compare(traces: Traces, again: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """Compare the run's traces with the second process's scores of the sample.

    Examples:
        >>> import pyarrow as pa
        >>> t = Traces(pa.table({"conversation_id": ["a", "b"], "checkpoints": [[1, 2], [1]],
        ...     "scores": [[0.1, 0.2], [0.5]], "error": [None, None]}))
        >>> compare(t, {"ids": ["a"], "checkpoints": [[1, 2]], "scores": [[0.1, 0.25]],
        ...     "errors": [None]}, 1e-9)["same"]
        False
    """
    index = {cid: i for i, cid in enumerate(traces.column("conversation_id"))}
    points, scores, errors = (
        traces.column("checkpoints"),
        traces.column("scores"),
        traces.column("error"),
    )
    worst = 0.0
    mismatched: list[str] = []
    for cid, cps, values, error in zip(
        again["ids"], again["checkpoints"], again["scores"], again["errors"], strict=True
    ):
        i = index[cid]
        if (error is None) != (errors[i] is None) or cps != points[i]:
            mismatched.append(cid)
            continue
        if values:
            diff = max(abs(a - b) for a, b in zip(values, scores[i], strict=True))
            worst = max(worst, diff)
            if diff > tolerance:
                mismatched.append(cid)
    return {
        "checked": True,
        "same": not mismatched,
        "max_abs_diff": worst,
        "n_mismatched": len(mismatched),
        "mismatched_ids": mismatched[:20],
    }
