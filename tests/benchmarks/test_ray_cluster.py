"""A real two-node Ray cluster on this machine: the same bytes as one process, loopback only.

The head and a worker node are started with Ray's own cluster utilities in a helper process
(``ray start`` refuses a second node when Ray is confined to loopback), each node with one CPU
and every server bound to 127.0.0.1; `groombench` joins it from its own process with
``runner.ray.address``, as a user joins a cluster started with ``ray start --head``. Every
listening socket opened while the cluster and the commands run is checked to be on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.scaleout.ray_backend import LOOPBACK_ENV
from benchmarks.tracking import PARENT_RUN_FILE
from tests.helpers import one_parent_sweep

pytestmark = pytest.mark.slow

TIMING = ("messages_per_second", "ms_per_message_p50", "ms_per_message_p99")

NODES = """
import sys
from ray.cluster_utils import Cluster

cluster = Cluster(
    initialize_head=True,
    head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False},
)
cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
cluster.wait_for_nodes()
print(cluster.address, flush=True)
sys.stdin.read()  # until the test closes our stdin
cluster.shutdown()
"""


def listeners() -> set[tuple[str, int]]:
    """Every listening TCP socket on this machine: (address as /proc writes it, port)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                address, port = fields[1].split(":")
                found.add((address, int(port, 16)))
    return found


# 127.0.0.1, ::1 and ::ffff:127.0.0.1 (gRPC's IPv4-mapped form), as /proc/net writes them.
LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}


def not_on_loopback(before: set[tuple[str, int]], seen: set[tuple[str, int]]) -> list[str]:
    return sorted(f"{a}:{p}" for a, p in seen - before if a not in LOOPBACK)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, set[tuple[str, int]]]]:
    before = listeners()
    env = os.environ | {LOOPBACK_ENV: "0"}
    nodes = subprocess.Popen(
        [sys.executable, "-c", NODES],
        env=env,
        cwd=tmp_path_factory.mktemp("cluster"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert nodes.stdout is not None and nodes.stdin is not None
    address = nodes.stdout.readline().strip()
    assert address.startswith("127.0.0.1:"), address
    assert not not_on_loopback(before, listeners())
    yield address, before
    nodes.stdin.close()
    nodes.wait(timeout=60)


def groombench(tmp_path: Path, *args: str, watch: set[tuple[str, int]]) -> Path:
    """Run `groombench` (loopback Ray), noting every listener it opens; return its job folder."""
    env = os.environ | {
        "GROOMBENCH_HOME": str(tmp_path / "runs"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'store.db'}",
        "HF_HUB_OFFLINE": "1",
        LOOPBACK_ENV: "0",
    }
    exe = Path(sys.executable).parent / "groombench"
    tmp_path.mkdir(parents=True, exist_ok=True)
    job = subprocess.Popen(
        [str(exe), *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    while job.poll() is None:
        watch |= listeners()
        time.sleep(0.2)
    _, err = job.communicate()
    assert job.returncode == 0, err.decode()[-3000:]
    (sweep,) = (tmp_path / "runs" / "outputs").iterdir()
    return sweep


def comparable(results: Path) -> str:
    data = json.loads(results.read_text())
    data.pop("created_at")
    for key in TIMING:
        data["metrics"].pop(key)
    return json.dumps(data, indent=2, sort_keys=True)


ARGS = (
    "detector=tfidf_lr",
    "corpus.n_conversations=300",
    "audit.n_resamples=200",
    "audit.reliability_sample=10",
    "runner.progress=false",
    "tracking=none",
)


def test_a_sharded_run_on_a_two_node_cluster_gives_the_bytes_of_one_process(
    tmp_path: Path, cluster: tuple[str, set[tuple[str, int]]]
) -> None:
    address, before = cluster
    seen: set[tuple[str, int]] = set()
    local = groombench(tmp_path / "local", *ARGS, watch=seen)
    on_cluster = groombench(
        tmp_path / "cluster",
        *ARGS,
        "runner.backend=ray",
        f"runner.ray.address={address}",
        "runner.ray.shards=4",
        watch=seen,
    )
    (expected,) = local.glob("*/results.json")
    (got,) = on_cluster.glob("*/results.json")
    assert comparable(got).replace(str(tmp_path / "cluster"), "<root>") == comparable(
        expected
    ).replace(str(tmp_path / "local"), "<root>")
    # Both nodes scored shards (one CPU each, two workers).
    shards = list((tmp_path / "cluster" / "runs" / "cache" / "shards").glob("*/shard-*.parquet"))
    nodes = {json.loads(pq.read_schema(s).metadata[b"groombench_shard"])["node"] for s in shards}
    assert len(shards) == 4 and len(nodes) == 2
    assert not not_on_loopback(before, seen), "a server listened beyond 127.0.0.1"


def test_a_sweep_through_the_ray_launcher_on_the_cluster_logs_one_parent_and_every_job(
    tmp_path: Path, cluster: tuple[str, set[tuple[str, int]]]
) -> None:
    address, before = cluster
    seen: set[tuple[str, int]] = set()
    sweep = groombench(
        tmp_path,
        "-m",
        "hydra/launcher=ray",
        f"hydra.launcher.ray.init.address={address}",
        "detector=lexicon,random,length",
        "corpus.n_conversations=300",
        "audit.n_resamples=200",
        "audit.reliability_sample=0",
        "runner.progress=false",
        watch=seen,
    )
    assert len(list(sweep.glob("*/results.json"))) == 3
    parent = one_parent_sweep(tmp_path / "store.db", ["length", "lexicon", "random"])
    assert (sweep / PARENT_RUN_FILE).read_text().strip() == parent
    assert not not_on_loopback(before, seen), "a server listened beyond 127.0.0.1"
