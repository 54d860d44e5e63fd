"""What the sealed-program sandbox costs: the example program sandboxed vs a plain subprocess.

    python scripts/bench_sandbox.py                 # 300 synthetic conversations, 3 rounds
    python scripts/bench_sandbox.py --sample 1000 --rounds 5

Both run the same example program over the same conversations (every message pushed, no
cache), interleaved round by round so that a busy machine slows both alike; it prints the time
to start the program (hello answered) and the time per pushed message, for each, and their
ratio. Needs bubblewrap.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any


def conversations(sample: int) -> list[Any]:
    from benchmarks.corpora.synthetic.corpus import load_synthetic
    from benchmarks.runner import to_messages

    with tempfile.TemporaryDirectory() as cache:
        corpus = load_synthetic(version=1, n_conversations=2000, seed=0, cache_dir=cache)
        split = corpus.split("test")
        picked = split.select(range(min(sample, len(split))))
        return [to_messages(raw) for raw in picked["messages"]]


def timed(sandbox: bool, convs: list[Any]) -> tuple[float, float]:
    from detectors.sealed.detector import SealedExecutableDetector

    detector = SealedExecutableDetector(cache=None, sandbox=sandbox)
    started = time.perf_counter()
    detector.score_prefixes([convs[0][:1]])  # starts the program: hello, one push
    start = time.perf_counter() - started
    started = time.perf_counter()
    detector.score_prefixes(convs)
    per_message = (time.perf_counter() - started) / sum(len(c) for c in convs)
    detector.close()
    return start, per_message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    convs = conversations(args.sample)
    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for _ in range(args.rounds):
        for sandbox in (False, True):
            results[sandbox].append(timed(sandbox, convs))
    n = sum(len(c) for c in convs)
    print(f"{len(convs)} conversations, {n} messages pushed per run, {args.rounds} rounds")
    for sandbox, label in ((False, "plain subprocess"), (True, "bubblewrap sandbox")):
        start = statistics.median(r[0] for r in results[sandbox])
        per = statistics.median(r[1] for r in results[sandbox])
        print(f"{label:20s} start {1000 * start:7.1f} ms   per message {1000 * per:7.3f} ms")
    plain = statistics.median(r[1] for r in results[False])
    boxed = statistics.median(r[1] for r in results[True])
    print(f"per-message overhead: {1000 * (boxed - plain):+.3f} ms ({boxed / plain:.2f}x)")


if __name__ == "__main__":
    main()
