"""Speed benchmark of hf_classifier (issue "Learned detectors"; figures go in the README).

Measures, on this machine, side by side in one run over the same windows of the default
synthetic test split (the first --sample conversations, every message scored):

  1. a plain `transformers` text-classification pipeline called once per window (the window
     rendered as text exactly as hf_classifier renders it, truncated from the left);
  2. hf_classifier's windowed streaming (`score_prefixes`: each message tokenised once,
     windows of all conversations batched by length, the last layer at [CLS] only);
  3. the same in bfloat16 (faster on CPUs with bf16 instructions; not exact).

The three run interleaved, --chunk conversations at a time, so that a shared machine's
changing speed weighs on all of them alike.

It reports windows (= messages) per second for both, their ratio, the largest score
difference, and the share of the streaming time spent outside the model's forward pass.

    python scripts/bench_hf.py --model-path PATH [--sample 300] [--threads 2]

PATH is a trained hf_classifier folder (`groombench-train detector=hf_classifier`); the
script prints the core count and torch's thread count. Timings are wall-clock, one run each
(minutes long); the machine may be shared, so compare the numbers of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def windows_as_text(conversations: list[Any], window: int) -> list[str]:
    from detectors.learned.hf_runtime import speaker_tags, turn_text

    texts: list[str] = []
    for conversation in conversations:
        tags = speaker_tags([m.author for m in conversation])
        turns = [turn_text(t, m.text) for t, m in zip(tags, conversation, strict=True)]
        for end in range(1, len(turns) + 1):
            texts.append(" [SEP] ".join(turns[max(0, end - window) : end]))
    return texts


def test_conversations(sample: int, root: Path) -> list[Any]:
    from hydra import compose, initialize_config_module

    from benchmarks.components import load_corpus
    from benchmarks.jobplan import build_plan
    from benchmarks.runner import to_messages

    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose("groombench", overrides=[f"paths.root={root}"])
    split = load_corpus(build_plan(cfg).corpus).split("test")
    picked = split.select(range(min(sample, len(split))))
    return [to_messages(raw) for raw in picked["messages"]]


def time_model(detector: Any) -> dict[str, float]:
    """Accumulate the wall time the detector spends inside its model (either forward path)."""
    import detectors.learned.hf_classifier as module

    spent = {"seconds": 0.0, "calls": 0.0}
    model = detector._model
    shortcut = module.guarded_logits

    def timed(call: Any, mine: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not mine(args):  # another detector's model (the bfloat16 copy)
                return call(*args, **kwargs)
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent["seconds"] += time.perf_counter() - started
                spent["calls"] += 1

        return wrapper

    module.guarded_logits = timed(shortcut, lambda args: args[0] is model)  # type: ignore[assignment]
    model.forward = timed(model.forward, lambda args: True)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument(
        "--chunk", type=int, default=64, help="conversations per round (the runner's batch)"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--root", default=os.environ.get("GROOMBENCH_HOME", "groombench-runs"))
    parser.add_argument("--out", default="", help="also write the figures to this JSON file")
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import pipeline

    from detectors.learned.hf_classifier import HFClassifierDetector
    from detectors.learned.hf_runtime import chunks

    if args.threads:
        torch.set_num_threads(args.threads)
    conversations = test_conversations(args.sample, Path(args.root).resolve())
    n_windows = sum(len(c) for c in conversations)
    detector = HFClassifierDetector(model_path=args.model_path, progress=False)
    texts = windows_as_text(conversations, detector.window)
    assert len(texts) == n_windows

    pipe = pipeline("text-classification", model=args.model_path, device="cpu", top_k=None)
    pipe.tokenizer.truncation_side = "left"
    label = detector._model.config.id2label[detector._positive]  # type: ignore[union-attr]

    def run_pipeline(windows: list[str]) -> list[float]:
        out = []
        for text in windows:
            rows = pipe(text, truncation=True, max_length=detector.max_length)
            rows = rows[0] if isinstance(rows[0], list) else rows
            out.append(next(r["score"] for r in rows if r["label"] == label))
        return out

    exact = HFClassifierDetector(model_path=args.model_path, progress=False)
    half = HFClassifierDetector(model_path=args.model_path, progress=False, dtype="bfloat16")
    # Warm-up (first calls allocate and pick kernels); then fresh token caches.
    run_pipeline(texts[:10])
    for warm in (exact, half):
        warm.score_prefixes(conversations[:3])
        warm._tokens = type(warm._tokens)(warm._tokens.tokenizer)  # type: ignore[union-attr]
    model_seconds = time_model(exact)
    spent = {"pipeline": 0.0, "streaming": 0.0, "bfloat16": 0.0}
    baseline: list[float] = []
    ours: list[float] = []
    halves: list[float] = []
    # Interleaved chunk by chunk, so that a shared machine's changing speed hits all three.
    start = 0
    for chunk in chunks(conversations, args.chunk):
        size = sum(len(c) for c in chunk)
        started = time.perf_counter()
        baseline += run_pipeline(texts[start : start + size])
        spent["pipeline"] += time.perf_counter() - started
        started = time.perf_counter()
        ours += [s for trace in exact.score_prefixes(chunk) for s in trace]
        spent["streaming"] += time.perf_counter() - started
        started = time.perf_counter()
        halves += [s for trace in half.score_prefixes(chunk) for s in trace]
        spent["bfloat16"] += time.perf_counter() - started
        start += size
    pipeline_s, streaming_s, half_s = spent["pipeline"], spent["streaming"], spent["bfloat16"]
    diff = np.abs(np.array(ours) - np.array(baseline))
    half_diff = np.abs(np.array(halves) - np.array(baseline))
    figures = {
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "conversations": len(conversations),
        "windows": n_windows,
        "window": detector.window,
        "max_length": detector.max_length,
        "pipeline_seconds": round(pipeline_s, 2),
        "pipeline_windows_per_s": round(n_windows / pipeline_s, 1),
        "streaming_seconds": round(streaming_s, 2),
        "streaming_windows_per_s": round(n_windows / streaming_s, 1),
        "speedup": round(pipeline_s / streaming_s, 2),
        "max_abs_score_difference": float(diff.max()),
        "share_outside_model": round(1 - model_seconds["seconds"] / streaming_s, 4),
        "bfloat16_windows_per_s": round(n_windows / half_s, 1),
        "bfloat16_speedup": round(pipeline_s / half_s, 2),
        "bfloat16_max_abs_score_difference": float(half_diff.max()),
        "model_calls": int(model_seconds["calls"]),
        "cls_shortcut": bool(exact.cls_shortcut),
        "truncated_windows": int(exact.usage().get("truncated_inputs", 0)),
    }
    figures["same_scores_within_1e-4"] = figures["max_abs_score_difference"] <= 1e-4
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    sys.exit(0 if figures["same_scores_within_1e-4"] else 1)


if __name__ == "__main__":
    main()
