"""Speed and memory benchmark for issue 'The spine' (figures go in the README).

Measures, on this machine, side by side in one run:
  1. generating the PAN12-scale synthetic corpus (155,128 conversations): the generator alone,
     and the generator plus building the `datasets.Dataset`;
  2. on a 2,000-conversation sample, for lexicon and tfidf_lr: scoring each complete
     conversation once, streaming at every message (the runner's path), and naive prefix
     re-scoring (one `score` call per prefix, what the SDK's default PrefixSession does), plus
     a stricter naive variant that scores all prefixes in one batched call;
  3. the peak resident memory of the whole default evaluation at PAN12 scale (generate, train
     tfidf_lr and the memorizer, evaluate the default sweep's five detectors with the audit),
     run as a child process.

    python scripts/bench_speed.py [--size 155128] [--sample 2000] [--skip-full]

Timings are wall-clock, best of --repeats runs; the machine's core count is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.corpora.synthetic import generate_records
from benchmarks.corpora.synthetic.corpus import load_synthetic
from benchmarks.runner import to_messages
from detectors import Detector, PrefixSession
from detectors.classical.lexicon import LexiconDetector
from detectors.classical.tfidf_lr import TfidfLRDetector


def best_of(repeats: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def naive_per_prefix(detector: Detector, conversations: list[Any]) -> None:
    for conversation in conversations:
        session = PrefixSession(detector)
        for message in conversation:
            session.update(message)


def naive_batched(detector: Detector, conversations: list[Any]) -> None:
    prefixes = [c[:k] for c in conversations for k in range(1, len(c) + 1)]
    for start in range(0, len(prefixes), 4096):
        detector.score(prefixes[start : start + 4096])


def generation(size: int) -> dict[str, float]:
    started = time.perf_counter()
    n_messages = sum(len(r["messages"]) for r in generate_records(size, seed=0, version=VERSION[0]))
    generator_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        load_synthetic(version=VERSION[0], n_conversations=size, seed=0, cache_dir=cache)
        dataset_s = time.perf_counter() - started
    return {
        "conversations": size,
        "messages": n_messages,
        "generator_s": round(generator_s, 1),
        "generator_plus_dataset_s": round(dataset_s, 1),
    }


def streaming(sample: int, repeats: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as cache:
        corpus = load_synthetic(version=VERSION[0], n_conversations=20_000, seed=1, cache_dir=cache)
        train = corpus.split("train")
        tfidf = TfidfLRDetector()
        tfidf.fit([to_messages(m) for m in train["messages"]], list(train["label"]), "bench")
        test = corpus.split("test")
        picks = random.Random(0).sample(range(len(test)), min(sample, len(test)))
        conversations = [to_messages(test[i]["messages"]) for i in picks]
        lengths = [len(m) for m in test["messages"]]
        longest = sorted(range(len(test)), key=lengths.__getitem__)[-200:]
        long_conversations = [to_messages(test[i]["messages"]) for i in longest]
    out = {
        "random_sample": compare(conversations, tfidf, repeats),
        "longest_200": compare(long_conversations, tfidf, repeats),
    }
    return out


def compare(conversations: list[Any], tfidf: Detector, repeats: int) -> dict[str, dict[str, float]]:
    """Time the three ways of scoring every prefix on ``conversations``."""
    n_msgs = sum(len(c) for c in conversations)
    # Messages a naive re-scorer reads per message a streaming one reads: sum(n(n+1)/2)/sum(n).
    quadratic = sum(len(c) * (len(c) + 1) / 2 for c in conversations) / n_msgs
    out: dict[str, dict[str, float]] = {"prefix_work_ratio": {"value": round(quadratic, 1)}}
    for name, detector in (("lexicon", LexiconDetector()), ("tfidf_lr", tfidf)):
        full = best_of(
            repeats,
            lambda d=detector: [
                d.score(conversations[i : i + 64]) for i in range(0, len(conversations), 64)
            ],
        )
        stream = best_of(
            repeats,
            lambda d=detector: [
                d.score_prefixes(conversations[i : i + 64])
                for i in range(0, len(conversations), 64)
            ],
        )
        naive = best_of(1, lambda d=detector: naive_per_prefix(d, conversations))
        batched = best_of(1, lambda d=detector: naive_batched(d, conversations))
        out[name] = {
            "conversations": len(conversations),
            "messages": n_msgs,
            "score_complete_once_s": round(full, 3),
            "stream_every_message_s": round(stream, 3),
            "naive_per_prefix_s": round(naive, 2),
            "naive_batched_prefixes_s": round(batched, 2),
            "stream_over_complete": round(stream / full, 2),
            "naive_per_prefix_over_stream": round(naive / stream, 1),
            "naive_batched_over_stream": round(batched / stream, 1),
        }
    return out


#: The synthetic corpus version measured (set from --version).
VERSION = [2]


def full_run(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        exe = Path(sys.executable).parent / "groombench"
        env = os.environ | {"GROOMBENCH_HOME": home, "HF_HUB_OFFLINE": "1"}
        started = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                f"corpus.n_conversations={size}",
                "runner.progress=false",
                f"tracking.uri=sqlite:///{home}/mlflow.db",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"conversations": size, "wall_s": round(wall, 1), "peak_rss_mib": round(peak_kib / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=155_128)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="skip the full-scale run")
    parser.add_argument(
        "--version", type=int, default=2, help="synthetic corpus version (the full run: 2)"
    )
    args = parser.parse_args()
    VERSION[0] = args.version
    report: dict[str, Any] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    report["generation"] = generation(args.size)
    print(json.dumps(report, indent=2), flush=True)
    report["streaming"] = streaming(args.sample, args.repeats)  # type: ignore[assignment]
    print(json.dumps(report["streaming"], indent=2), flush=True)
    if not args.skip_full:
        report["full_default_run"] = full_run(args.size)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
