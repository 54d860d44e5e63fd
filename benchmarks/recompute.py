"""``groombench-recompute``: metrics under another alert policy, from saved traces alone.

    groombench-recompute RUN_DIR policy=vote policy.min_positive=5

The detector is not run again. The new result is written to
``RUN_DIR/recomputed/<policy>-<hash>/results.json`` and printed beside the original.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.results import TRACES_FILE, RunResult
from benchmarks.traces import Traces


def compose_policy(overrides: Sequence[str]) -> tuple[object, dict[str, object]]:
    """Compose the ``policy`` group from Hydra overrides; return (policy, its parameters)."""
    from hydra import compose, initialize_config_module

    from benchmarks.components import build, plain

    bad = [o for o in overrides if not o.lstrip("+~").startswith("policy")]
    if bad:
        raise SystemExit(f"only policy overrides apply to saved traces, not: {' '.join(bad)}")
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose("groombench", overrides=list(overrides))
    return build(cfg.policy), plain(cfg.policy)


def recompute(run_dir: str | Path, overrides: Sequence[str]) -> tuple[RunResult, RunResult, Path]:
    """Return (original, recomputed, where it was saved)."""
    folder = Path(run_dir)
    if not (folder / TRACES_FILE).exists():
        raise SystemExit(f"{folder} holds no {TRACES_FILE}; pass a groombench run folder")
    original = RunResult.load(folder)
    policy, params = compose_policy(overrides)
    new = original.with_policy(Traces.load(folder / TRACES_FILE), policy, params)  # type: ignore[arg-type]
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]
    target = folder / "recomputed" / f"{new.policy['name']}-{tag}"
    new.save(target)
    return original, new, target


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point."""
    from benchmarks.leaderboard import COLUMNS, format_table, result_row

    parser = argparse.ArgumentParser(
        prog="groombench-recompute",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", help="a run folder holding results.json and traces.parquet")
    parser.add_argument(
        "overrides", nargs="*", help="policy overrides, e.g. policy=vote policy.min_positive=5"
    )
    args = parser.parse_args(argv)
    original, new, target = recompute(args.run_dir, args.overrides)
    rows = [
        result_row(original) | {"policy": original.policy["rule"]},
        result_row(new) | {"policy": new.policy["rule"]},
    ]
    print(format_table(rows, ("policy", *COLUMNS)))
    print(f"\nsaved {target / 'results.json'}")
