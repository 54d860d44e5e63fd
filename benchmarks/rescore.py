"""The reliability check's second process: re-score a run's sample at another batch size.

``python -m benchmarks.rescore --run-dir DIR --batch-size K`` reads ``DIR/config.yaml`` (the
run's resolved config, secrets removed) and ``DIR/reliability-ids.txt``, rebuilds the corpus and
the detector as the run did (a trained model is loaded, never trained: ``train=never``), scores
those conversations with ``runner.batch_size=K`` and writes ``DIR/reliability-rescore.json``:
ids, checkpoints, scores and error types, no text. :mod:`benchmarks.reliability` starts it and
compares.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks.reliability import RESCORE_FILE


def main(argv: list[str] | None = None) -> int:
    """Re-score the sample; 0 on success, 2 with one line on stderr otherwise."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rescore", description=__doc__)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--batch-size", required=True, type=int)
    args = parser.parse_args(argv)
    os.umask(0o077)
    logging.basicConfig(level=logging.WARNING)
    try:
        write(args.run_dir, args.batch_size)
    except Exception as error:  # the parent records the reason; the run goes on
        print(f"rescore: {type(error).__name__}: {str(error)[:300]}", file=sys.stderr)
        return 2
    return 0


def write(folder: Path, batch_size: int) -> Path:
    """Score the run's sample in this process and write :data:`RESCORE_FILE`."""
    from omegaconf import DictConfig, OmegaConf

    from benchmarks.app import prepare_detector, resolve_registry_model, training_source
    from benchmarks.components import load_corpus
    from benchmarks.jobplan import build_plan
    from benchmarks.runner import run

    cfg = OmegaConf.load(folder / "config.yaml")
    if not isinstance(cfg, DictConfig):
        raise ValueError(f"{folder / 'config.yaml'} is not a mapping")
    cfg.train = "never"
    plan = build_plan(cfg, argv=["rescore"])
    wanted = set((folder / "reliability-ids.txt").read_text(encoding="utf-8").split())
    corpus = load_corpus(plan.corpus)
    source = training_source(plan, corpus)
    registered = resolve_registry_model(plan)
    detector = prepare_detector(plan, source, registered)
    data = corpus.split(plan.split)
    rows = [i for i, cid in enumerate(data["conversation_id"]) if cid in wanted]
    runner = replace(plan.runner, batch_size=batch_size, progress=False)
    traces = run(detector, data.select(rows), runner)
    target = folder / RESCORE_FILE
    payload = {
        "ids": traces.column("conversation_id"),
        "checkpoints": traces.column("checkpoints"),
        "scores": traces.column("scores"),
        "errors": traces.column("error"),
        "batch_size": batch_size,
    }
    staging = target.with_suffix(".partial")
    staging.write_text(json.dumps(payload), encoding="utf-8")
    staging.replace(target)
    return target


if __name__ == "__main__":
    raise SystemExit(main())
