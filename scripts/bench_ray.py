"""Throughput of the Ray backend against the local one (issue "Scale out"; figures in README).

Side by side in one run, on this machine:

  1. Ray's fixed cost: ``ray.init`` on this machine's cores (seconds) and the resident memory
     of Ray's own processes right after it (MiB);
  2. ``tfidf_lr`` (trained on the synthetic corpus's train split) scoring a PAN12-scale split
     of neutral text (PAN12's format and size, written by scripts/bench_pan12.py's writer:
     155,128 conversations, about 2 million messages), every message: the local runner in this
     process, then ``runner.backend=ray`` with --workers actors;
  3. ``hf_classifier`` (a trained folder, --hf-model) on the first --hf-sample conversations of
     that split, the same two ways.

For each: scoring throughput (messages per second of scoring: the local runner's call, or on
Ray from the first shard's start to the last one's end), its ratio (goal >= 1.7 with 2
workers); end-to-end time beside it (local: building the detector and scoring; Ray: its start,
the workers building the detector, shipping the shards, scoring and merging) and its ratio;
peak memory of this process tree (Ray's processes included); the largest score difference
between the two (0 for a detector whose scores do not depend on its batch). One JSON object.

    python scripts/bench_ray.py [--conversations 155128] [--workers 2]
        [--hf-model PATH] [--hf-sample 300]

Wall-clock timings, one run each; the machine may be shared, so compare numbers of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_pan12 import write_split  # noqa: E402

from benchmarks.backend import RaySettings  # noqa: E402
from benchmarks.corpora.pan12 import load_pan12  # noqa: E402
from benchmarks.runner import RunnerConfig, run  # noqa: E402
from benchmarks.scaleout.ray_backend import LOOPBACK_ENV, score_on_ray  # noqa: E402
from benchmarks.scaleout.recipe import DetectorRecipe  # noqa: E402


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and every process below it (MiB), read from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total / 2**20


class PeakMemory:
    """Samples this process tree's resident memory every 0.2 s while in use."""

    def __enter__(self) -> PeakMemory:
        self.peak = tree_rss_mib(os.getpid())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss_mib(os.getpid()))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    with PeakMemory() as memory:
        started = time.perf_counter()
        out = call()
        seconds = time.perf_counter() - started
    return out, seconds, memory.peak


def compare(
    name: str, recipe: DetectorRecipe, data: Any, config: RunnerConfig, workers: int, init_s: float
) -> dict[str, Any]:
    messages = sum(len(m) for m in data["messages"])
    detector, build_s, _ = timed(recipe)
    local, local_s, local_peak = timed(partial(run, detector, data, config))
    del detector
    settings = RaySettings(workers=workers, resume=False)
    on_ray, ray_s, ray_peak = timed(
        lambda: score_on_ray(recipe, data, config, settings, store_root=None, identity={})
    )
    scoring_s = on_ray.scoring_seconds
    diff = max(
        (
            abs(a - b)
            for x, y in zip(local.column("scores"), on_ray.traces.column("scores"), strict=True)
            for a, b in zip(x, y, strict=True)
        ),
        default=0.0,
    )
    return {
        "detector": name,
        "conversations": len(data),
        "messages": messages,
        "local_scoring_s": round(local_s, 2),
        "ray_scoring_s": round(scoring_s, 2),
        "local_messages_per_s": round(messages / local_s, 1),
        "ray_messages_per_s": round(messages / scoring_s, 1),
        "throughput_ratio": round(local_s / scoring_s, 3),
        "end_to_end_local_s": round(build_s + local_s, 2),
        "end_to_end_ray_s": round(init_s + ray_s, 2),
        "end_to_end_ratio": round((build_s + local_s) / (init_s + ray_s), 3),
        "peak_tree_mib_local": round(local_peak),
        "peak_tree_mib_ray": round(ray_peak),
        "max_abs_score_diff": diff,
    }


def main() -> None:
    """Run the benchmark and print its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=155_128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hf-model", default=None)
    parser.add_argument("--hf-sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report: dict[str, Any] = {"cores": os.cpu_count(), "workers": args.workers}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report["split"] = write_split(folder, args.conversations, args.seed)
        data = load_pan12(str(folder), cache_dir=str(folder / "cache")).split("test")

        from benchmarks.corpora.synthetic.corpus import load_synthetic
        from benchmarks.training import train_detector
        from detectors.classical.tfidf_lr import TfidfLRDetector

        model = folder / "tfidf_lr"
        train_detector(TfidfLRDetector(), load_synthetic(), "train", model)
        config = RunnerConfig(progress=False)

        os.environ.setdefault(LOOPBACK_ENV, "0")
        import ray

        baseline = tree_rss_mib(os.getpid())
        started = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - started
        time.sleep(2.0)  # let Ray's own processes settle before reading their memory
        report["ray_init_s"] = round(init_s, 2)
        report["ray_fixed_mib"] = round(tree_rss_mib(os.getpid()) - baseline)
        tfidf = DetectorRecipe("detectors.classical.tfidf_lr.TfidfLRDetector", {}, str(model))
        report["tfidf_lr"] = compare("tfidf_lr", tfidf, data, config, args.workers, init_s)
        if args.hf_model:
            hf = DetectorRecipe(
                "detectors.learned.hf_classifier.HFClassifierDetector",
                {"model_path": args.hf_model, "progress": False},
            )
            sample = data.select(range(min(args.hf_sample, len(data))))
            report["hf_classifier"] = compare(
                "hf_classifier", hf, sample, config, args.workers, init_s
            )
        ray.shutdown()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
