"""``groombench-recompute``: metrics under another alert policy, from saved traces alone.

    groombench-recompute RUN_DIR policy=vote policy.min_positive=5

The detector is not run again. The new result is written to
``RUN_DIR/recomputed/<policy>-<hash>/results.json`` and printed beside the original.

The audit block is recomputed too, never copied: every interval comes from the saved traces and
clusters (``clusters.parquet``) under the new policy, with the original run's bootstrap settings
(seed, resamples, level, method), so it equals what a fresh evaluation under that policy gives.
A claim's verdict is kept: it is judged at the claim's own operating point, which no policy
changes. The report card is not rewritten (its subgroups need the corpus): run ``groombench``
with the policy for one. Where the clusters file is missing, the audit is left out, and the
result's notes say so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.results import TRACES_FILE, RunResult
from benchmarks.traces import Traces


def compose_policy(overrides: Sequence[str]) -> tuple[object, dict[str, object]]:
    """Compose the ``policy`` group from Hydra overrides; return (policy, its parameters)."""
    from hydra import compose, initialize_config_module

    from benchmarks.components import build
    from benchmarks.jobplan import Component

    bad = [o for o in overrides if not o.lstrip("+~").startswith("policy")]
    if bad:
        raise SystemExit(f"only policy overrides apply to saved traces, not: {' '.join(bad)}")
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose("groombench", overrides=list(overrides))
    policy = Component.of(cfg.policy)
    return build(policy), policy.arguments()


def recompute(run_dir: str | Path, overrides: Sequence[str]) -> tuple[RunResult, RunResult, Path]:
    """Return (original, recomputed, where it was saved)."""
    folder = Path(run_dir)
    if not (folder / TRACES_FILE).exists():
        raise SystemExit(f"{folder} holds no {TRACES_FILE}; pass a groombench run folder")
    original = RunResult.load(folder)
    policy, params = compose_policy(overrides)
    traces = Traces.load(folder / TRACES_FILE)
    new = original.with_policy(traces, policy, params)  # type: ignore[arg-type]
    new = recompute_audit(original, new, traces, policy, folder)
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


def recompute_audit(
    original: RunResult, new: RunResult, traces: Traces, policy: Any, folder: Path
) -> RunResult:
    """Return ``new`` with its audit recomputed from the traces and clusters, or left out."""
    from dataclasses import replace

    from benchmarks.audit.assemble import metric_intervals, with_clusters
    from benchmarks.audit.settings import AuditSettings
    from benchmarks.audit.stats.clusters import CLUSTERS_FILE, Clusters, read_clusters

    old = original.audit
    if not old:
        return replace(new, audit={})
    saved = read_clusters(folder / CLUSTERS_FILE)
    ids = [str(i) for i in traces.column("conversation_id")]
    if saved is None or any(i not in saved[0] for i in ids):
        return replace(
            new,
            audit={},
            notes=(
                *new.notes,
                f"audit left out: {CLUSTERS_FILE} is missing or incomplete, so intervals "
                "cannot be recomputed under the new policy",
            ),
        )
    cluster_of, by = saved
    info = old.get("clusters", {})
    clusters = Clusters(
        ids=tuple(cluster_of[i] for i in ids),
        by=by,
        n_clusters=int(info.get("n_clusters", len(set(cluster_of.values())))),
        largest=int(info.get("largest", 1)),
        note=str(info.get("note", "")),
    )
    recorded = dict(old.get("bootstrap", {}).get("settings", {}))
    settings = AuditSettings(
        n_resamples=int(recorded.get("n_resamples", 10_000)),
        level=float(recorded.get("level", 0.95)),
        seed=int(recorded.get("seed", 0)),
        method=str(recorded.get("method", "bca")),
    )
    outcomes = with_clusters(traces.outcomes(policy), dict(zip(ids, clusters.ids, strict=True)))
    intervals, boot = metric_intervals(
        outcomes, clusters, settings, new.metrics_config.get("latency_p")
    )
    audit: dict[str, Any] = {
        "intervals": {k: v.to_dict() for k, v in intervals.items()},
        "bootstrap": boot.to_dict() | {"intervals": None},
        "clusters": info,
        "verdict": old.get("verdict"),
    }
    if "calibration" in old:
        audit["calibration"] = old["calibration"]
    note = (
        "audit intervals recomputed from saved traces and clusters under the new policy, with "
        "the original bootstrap settings; a claim's verdict is kept (judged at the claim's own "
        "operating point); the report card was not rewritten"
    )
    return replace(new, audit=audit, notes=(*new.notes, note))
