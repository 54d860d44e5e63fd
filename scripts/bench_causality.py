"""What strict causality costs: fast (one pass + re-check) vs strict (lockstep) scoring.

    python scripts/bench_causality.py                       # 2,000 synthetic conversations
    python scripts/bench_causality.py --n 20000 --detectors lexicon

Scores the synthetic test split with each in-process detector in both modes, interleaved, and
prints the wall time of each, their ratio and the largest score difference between the modes
(float summation order: tfidf_lr's running sums vs a prefix's sums, about 1e-13). tfidf_lr is
trained on the split's training part first (not timed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any


def build(name: str, corpus: Any) -> Any:
    from benchmarks.training import train_detector
    from detectors.classical.lexicon import LexiconDetector
    from detectors.classical.tfidf_lr import TfidfLRDetector

    if name == "lexicon":
        return LexiconDetector()
    detector = TfidfLRDetector()
    with tempfile.TemporaryDirectory() as folder:
        from pathlib import Path

        train_detector(detector, corpus, "train", Path(folder) / "m")
    return detector


def main() -> None:
    from benchmarks.corpora.synthetic.corpus import load_synthetic
    from benchmarks.runner import RunnerConfig, run

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="conversations generated")
    parser.add_argument("--detectors", nargs="+", default=["lexicon", "tfidf_lr"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        corpus = load_synthetic(version=1, n_conversations=args.n, seed=0, cache_dir=cache)
        data = corpus.split("test")
        messages = sum(len(m) for m in data["messages"])
        print(f"{len(data)} test conversations, {messages} messages")
        for name in args.detectors:
            detector = build(name, corpus)
            best: dict[str, float] = {}
            scores: dict[str, Any] = {}
            for _ in range(args.rounds):
                for mode in ("fast", "strict"):
                    config = RunnerConfig(causality=mode, progress=False)
                    started = time.perf_counter()
                    traces = run(detector, data, config)
                    spent = time.perf_counter() - started
                    best[mode] = min(best.get(mode, spent), spent)
                    scores[mode] = traces.column("scores")
            gap = max(
                (
                    abs(x - y)
                    for u, v in zip(scores["fast"], scores["strict"], strict=True)
                    for x, y in zip(u, v, strict=True)
                ),
                default=0.0,
            )
            print(
                f"{name:10s} fast {best['fast']:6.2f} s   strict {best['strict']:6.2f} s   "
                f"strict/fast {best['strict'] / best['fast']:5.2f}x   largest difference {gap:.1e}"
            )


if __name__ == "__main__":
    main()
