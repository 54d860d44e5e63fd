"""The Ray backend on a real local Ray (2 CPUs, 127.0.0.1): same bytes, resume, no double buying.

One Ray is started for the module, in this process, bound to loopback; every run joins it as
`runner.backend=ray` would join a cluster. The multi-node cluster is in test_ray_cluster.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hydra import compose, initialize_config_module

from benchmarks import app
from benchmarks.causality import CausalityError
from benchmarks.components import load_corpus
from benchmarks.errors import ConfigError
from benchmarks.jobplan import JobPlan, build_plan
from benchmarks.scaleout.ray_backend import LOOPBACK_ENV, ShardFailed
from benchmarks.scaleout.shards import shard_of
from tests.benchmarks.ray_detectors import digest
from tests.fake_services import generic_answer, http_overrides, shared_server

pytestmark = pytest.mark.slow

TIMING = ("messages_per_second", "ms_per_message_p50", "ms_per_message_p99")


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """A Ray for this module: two CPUs, every server on 127.0.0.1 (read when Ray is imported)."""
    os.environ.setdefault(LOOPBACK_ENV, "0")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    yield ray
    ray.shutdown()


def plan(root: Path, *overrides: str) -> JobPlan:
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"paths.root={root}",
                "tracking=none",
                "runner.progress=false",
                "corpus.n_conversations=300",
                "audit.n_resamples=200",
                "audit.reliability_sample=10",
                *overrides,
            ],
        )
    return build_plan(cfg)


def evaluate(root: Path, out: Path, *overrides: str) -> Path:
    app.run_job(plan(root, *overrides), out)
    return out


def comparable(out: Path) -> str:
    """results.json less what measures the machine (created_at, compute time), as bytes."""
    data = json.loads((out / "results.json").read_text())
    data.pop("created_at")
    for key in TIMING:
        data["metrics"].pop(key)
    return json.dumps(data, indent=2, sort_keys=True).replace(str(out), "<out>")


def traces_without_timing(out: Path) -> Any:
    return pq.read_table(out / "traces.parquet").drop(["seconds"])


def test_results_are_the_same_for_1_2_and_7_shards_and_for_the_local_backend(
    tmp_path: Path, ray_local: Any
) -> None:
    # tfidf_lr: a model trained once by the driver, loaded by every worker from its folder.
    local = evaluate(tmp_path, tmp_path / "local", "detector=tfidf_lr")
    expected, traces = comparable(local), traces_without_timing(local)
    for shards in (1, 2, 7):
        out = evaluate(
            tmp_path,
            tmp_path / f"ray{shards}",
            "detector=tfidf_lr",
            "runner.backend=ray",
            f"runner.ray.shards={shards}",
        )
        assert comparable(out) == expected, f"{shards} shard(s)"
        assert traces_without_timing(out).equals(traces)
        files = list((tmp_path / "cache" / "shards").glob(f"*/shard-*-of-{shards:05d}.parquet"))
        assert len(files) == shards and len({f.parent for f in files}) == 1
    causality = json.loads((local / "results.json").read_text())["guarantees"]["causality"]
    assert causality["mode"] == "fast" and causality["sampled"] == 25  # the same sample


def test_strict_mode_on_seven_shards_counts_every_conversation_once(
    tmp_path: Path, ray_local: Any
) -> None:
    args = ("detector=lexicon", "runner.causality=strict", "audit.reliability_sample=0")
    local = evaluate(tmp_path, tmp_path / "local", *args)
    out = evaluate(tmp_path, tmp_path / "ray", *args, "runner.backend=ray", "runner.ray.shards=7")
    assert comparable(out) == comparable(local)
    result = json.loads((out / "results.json").read_text())
    causality, n = result["guarantees"]["causality"], result["corpus"]["n_conversations"]
    assert causality == {**causality, "mode": "strict", "checked": n}


def logging_args(tmp_path: Path) -> list[str]:
    return [
        "detector=length",
        "detector._target_=tests.benchmarks.ray_detectors.LoggingDetector",
        f"+detector.log={tmp_path / 'scored.log'}",
        f"+detector.die_on={tmp_path / 'die_on'}",
        "runner.causality_sample=0",  # no re-checks: every logged line is a first scoring
        "audit.reliability_sample=0",
    ]


def scored(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_a_killed_run_resumes_from_its_finished_shards(tmp_path: Path, ray_local: Any) -> None:
    args = [*logging_args(tmp_path), "runner.backend=ray", "runner.ray.shards=7"]
    job = plan(tmp_path, *args)
    split = load_corpus(job.corpus).split("test")
    ids = [str(i) for i in split["conversation_id"]]
    digests = {
        str(c): digest([m["text"] or "" for m in msgs])
        for c, msgs in zip(split["conversation_id"], split["messages"], strict=True)
    }
    # The worker that meets this conversation (in the last shard handed out) dies at once.
    victim = next(i for i in ids if shard_of(i, 7) == 6)
    (tmp_path / "die_on").write_text(digests[victim])
    with pytest.raises(ShardFailed, match="run the same command again to resume"):
        app.run_job(job, tmp_path / "killed")
    (store,) = (tmp_path / "cache" / "shards").iterdir()
    finished = sorted(int(p.name[6:11]) for p in store.glob("shard-*.parquet"))
    assert finished and 6 not in finished
    assert not list(store.glob(".*tmp"))  # nothing half-written is left behind
    first = scored(tmp_path / "scored.log")

    (tmp_path / "die_on").unlink()
    app.run_job(plan(tmp_path, *args), tmp_path / "resumed")
    second = scored(tmp_path / "scored.log")[len(first) :]
    kept = {digests[i] for i in ids if shard_of(i, 7) in finished}
    assert kept and not kept & set(second)  # a finished shard is never scored again
    assert set(second) == {digests[i] for i in ids if shard_of(i, 7) not in finished}
    # The resumed result is the one a single process gives.
    local = evaluate(tmp_path / "local", tmp_path / "local-out", *logging_args(tmp_path))
    assert comparable(tmp_path / "resumed") == comparable(local)


def test_a_paid_detector_buys_each_input_once_across_shards_and_resumes(
    tmp_path: Path, ray_local: Any
) -> None:
    args = ["detector=http", *http_overrides(tmp_path), "audit.reliability_sample=0"]
    server = shared_server("http", generic_answer)  # the one http_overrides started
    before = len(server.requests)
    evaluate(tmp_path / "one", tmp_path / "one-out", *args)
    bought_locally = len(server.requests) - before
    assert bought_locally > 0
    ray_args = [*args, "runner.backend=ray", "runner.ray.shards=3"]
    before = len(server.requests)
    sharded = evaluate(tmp_path / "two", tmp_path / "two-out", *ray_args)
    assert len(server.requests) - before == bought_locally  # nothing bought twice
    before = len(server.requests)
    again = evaluate(tmp_path / "two", tmp_path / "two-again", *ray_args)
    assert len(server.requests) == before  # the resumed run buys nothing
    usage = json.loads((again / "results.json").read_text())["usage"]
    assert set(usage) == {"cost_total"}  # no request, no call: what its inputs cost when bought
    # The workers' counters add up to one process's: every call, none twice.
    assert comparable(sharded) == comparable(tmp_path / "one-out").replace(
        str(tmp_path / "one"), str(tmp_path / "two")
    )


def test_a_causality_cheat_is_caught_inside_a_worker(tmp_path: Path, ray_local: Any) -> None:
    job = plan(
        tmp_path,
        "detector=lexicon",
        "detector._target_=tests.benchmarks.test_causality_cheats.Peeker",
        "runner.causality=fast",
        "runner.backend=ray",
        "runner.ray.shards=2",
    )
    with pytest.raises(CausalityError, match="not causal"):
        app.run_job(job, tmp_path / "out")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("runner.backend=spark", "runner.backend must be one of local, ray"),
        ("runner.ray.workers=0", "runner.ray.workers must be >= 1"),
        ("+runner.ray.nodes=3", "unknown runner.ray setting"),
    ],
)
def test_backend_settings_are_checked_before_anything_runs(
    tmp_path: Path, override: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        plan(tmp_path, override)
