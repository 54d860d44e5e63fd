"""Speed benchmark for issue "Black-box detectors" (figures go in the README).

Against a real HTTP service on loopback (tests/loopback.py) answering after a fixed latency:
  1. throughput of the `http` adapter at concurrency 1 and 10 on the same conversations, side
     by side (goal: concurrency 10 at least 8x concurrency 1 at 50 ms per call);
  2. the same run with 20% of calls failing transiently (429, 500, malformed JSON, connection
     reset): the metrics must equal the fault-free run's, and the cost in calls is reported;
  3. a cached re-run of 10,000 conversations (goal: under 10 s): the cache is filled by a first
     run against a batching endpoint, then the evaluation is run again and timed.

    python scripts/bench_blackbox.py [--latency 0.05] [--conversations 120] [--cached 10000]

Wall-clock times; the machine's core count is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.loopback, run from a checkout

from benchmarks.corpora.synthetic.corpus import load_synthetic
from benchmarks.runner import RunnerConfig
from detectors.remote.http import HttpDetector
from tests.fake_services import text_score
from tests.loopback import Faults, Loopback, Recorded

COMPARED = ("precision", "recall", "f1", "roc_auc", "n_scored", "n_errors", "tp", "fp")


def answer(request: Recorded) -> Any:
    body = request.body
    if "texts" in body:
        return {"scores": [text_score(t) for t in body["texts"]]}
    return {"score": text_score(body["text"])}


def detector(url: str, *, concurrency: int, cache: str | None, batch: int = 1) -> HttpDetector:
    return HttpDetector(
        name="http",
        version="bench",
        description="benchmark service",
        url=url,
        body={"texts": "{texts}"} if batch > 1 else {"text": "{text}"},
        score_path="scores" if batch > 1 else "score",
        batch_size=batch,
        concurrency=concurrency,
        retries={"attempts": 8, "backoff": 0.05, "max_backoff": 1.0},
        price_per_call=0.001,
        cache=cache,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--conversations", type=int, default=120)
    parser.add_argument("--cached", type=int, default=10_000)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; service latency {args.latency * 1000:.0f} ms per call\n")
    work = Path(tempfile.mkdtemp(prefix="bench-blackbox-"))
    small = load_synthetic(
        version=1,
        n_conversations=max(20, int(args.conversations / 0.3)),
        seed=1,
        cache_dir=str(work / "corpora"),
    )
    sample = small.split("test").select(range(min(args.conversations, len(small.split("test")))))
    messages = sum(len(m) for m in sample["messages"])

    rows = []
    metrics_by: dict[str, dict[str, Any]] = {}
    with Loopback(answer, latency=args.latency) as server:
        for concurrency in (1, 10):
            det = detector(f"{server.url}/score", concurrency=concurrency, cache=None)
            seconds, metrics, usage = evaluate_on(det, sample)
            metrics_by[f"c{concurrency}"] = metrics
            rows.append((f"concurrency {concurrency}", seconds, messages / seconds, usage))
    with Loopback(answer, latency=args.latency, faults=Faults(rate=0.2, seed=7)) as server:
        det = detector(f"{server.url}/score", concurrency=10, cache=None)
        seconds, metrics, usage = evaluate_on(det, sample)
        metrics_by["faults"] = metrics
        rows.append(("concurrency 10, 20% transient faults", seconds, messages / seconds, usage))

    print(f"{len(sample)} conversations, {messages} messages (one call per message)\n")
    print("| run | seconds | messages/s | requests | calls | retries | cost |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds, rate, usage in rows:
        print(
            f"| {name} | {seconds:.1f} | {rate:.1f} | {usage.get('requests', 0):.0f} | "
            f"{usage.get('calls', 0):.0f} | {usage.get('retries', 0):.0f} | "
            f"{usage.get('cost', 0):.3f} |"
        )
    speedup = rows[0][1] / rows[1][1]
    same = all(metrics_by["faults"][k] == metrics_by["c10"][k] for k in COMPARED)
    same_c = all(metrics_by["c1"][k] == metrics_by["c10"][k] for k in COMPARED)
    print(f"\nconcurrency 10 / concurrency 1 throughput: {speedup:.1f}x (goal >= 8x)")
    print(
        f"metrics equal across concurrency: {same_c}; with 20% faults equal to fault-free: {same}"
    )

    # 3. The cached re-run.
    big = load_synthetic(
        version=1,
        n_conversations=int(args.cached / 0.3) + 1,
        seed=2,
        cache_dir=str(work / "corpora"),
    )
    test = big.split("test").select(range(args.cached))
    cache = str(work / "predictions.sqlite")
    with Loopback(answer) as server:
        fill = detector(f"{server.url}/score", concurrency=8, cache=cache, batch=64)
        fill_seconds, _, fill_usage = evaluate_on(fill, test)
        rerun = detector(f"{server.url}/score", concurrency=8, cache=cache, batch=64)
        before = server.count()
        seconds, _, usage = evaluate_on(rerun, test)
        assert server.count() == before, "the cached re-run made calls"
    n_msgs = sum(len(m) for m in test["messages"])
    print(
        f"\ncached re-run of {len(test)} conversations ({n_msgs} messages): {seconds:.1f} s "
        f"(goal < 10 s), {usage.get('cache_hits', 0):.0f} cache hits, 0 requests; "
        f"the first run took {fill_seconds:.1f} s for {fill_usage.get('requests', 0):.0f} "
        "batched requests"
    )


def evaluate_on(det: HttpDetector, data: Any) -> tuple[float, dict[str, Any], Any]:
    """Stream a split through the detector and score it: the runner's path, timed."""
    from benchmarks.policies import ThresholdPolicy
    from benchmarks.results import score_traces
    from benchmarks.runner import run

    runner = RunnerConfig(batch_size=64, causality_sample=0.0, progress=False)
    started = time.perf_counter()
    traces = run(det, data, runner)
    metrics, _ = score_traces(traces, ThresholdPolicy())
    return time.perf_counter() - started, metrics, det.usage()


if __name__ == "__main__":
    main()
