"""Two runs started at once on one run root never mix their results, parents or stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.tracking import PARENT_RUN_FILE
from tests.helpers import cli, one_parent_sweep


@pytest.mark.slow
def test_two_runs_started_together_keep_their_own_folders_parents_and_traces(
    tmp_path: Path,
) -> None:
    root, store = tmp_path / "runs", tmp_path / "store.db"  # a fresh store: created by the race
    env = os.environ | {
        "GROOMBENCH_HOME": str(root),
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("GROOMBENCH_LAUNCH_ID", None)
    exe = Path(sys.executable).parent / "groombench"
    sizes = (600, 900)
    runs = [
        subprocess.Popen(
            [
                str(exe),
                "detector=lexicon,random",
                f"corpus.n_conversations={n}",
                "audit.n_resamples=200",
                "runner.progress=false",
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in sizes
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err[-3000:]
    sweeps = sorted((root / "outputs").iterdir())
    assert len(sweeps) == 2  # one folder each, even when started in the same second
    by_size: dict[int, Path] = {}
    for sweep in sweeps:
        results = [json.loads(p.read_text()) for p in sorted(sweep.glob("*/results.json"))]
        assert len(results) == 2
        sizes_here = {r["corpus"]["n_conversations"] for r in results}
        assert len(sizes_here) == 1  # never a job of the other run in this folder
        for job in sweep.glob("*/results.json"):
            scored = pq.read_table(job.parent / "traces.parquet").num_rows
            assert scored == json.loads(job.read_text())["corpus"]["n_conversations"]
        by_size[sizes_here.pop()] = sweep
    assert len(by_size) == 2
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("groombench")
    all_runs = client.search_runs([experiment.experiment_id])
    parents = {r.info.run_id for r in all_runs if r.data.tags.get("groombench.sweep") == "parent"}
    children = [r for r in all_runs if "groombench.detector" in r.data.tags]
    assert len(parents) == 2 and len(children) == 4
    for sweep in by_size.values():
        parent = (sweep / PARENT_RUN_FILE).read_text().strip()
        assert parent in parents
    for child in children:
        # Each child's traces artifact belongs to the parent of its own run.
        n = int(child.data.metrics["n_scored"] + child.data.metrics["n_errors"])
        folder = by_size.get(n)
        assert folder is not None, n
        parent = (folder / PARENT_RUN_FILE).read_text().strip()
        assert child.data.tags["mlflow.parentRunId"] == parent


@pytest.mark.slow
def test_a_sweep_through_the_submitit_launcher_logs_one_parent_and_every_job(
    tmp_path: Path,
) -> None:
    """Hydra's submitit launcher (local executor: each job a separate process, as on SLURM)."""
    done = cli(
        tmp_path,
        "detector=lexicon,random,length",
        "corpus.n_conversations=300",
        "audit.n_resamples=200",
        "audit.reliability_sample=0",
        "runner.progress=false",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    one_parent_sweep(tmp_path / "store.db", ["length", "lexicon", "random"])


@pytest.mark.slow
def test_commands_started_from_a_launch_get_their_own_folders(tmp_path: Path) -> None:
    """A groombench spawned by a process that holds a launch id (a script, another groombench,
    a test) is a launch of its own: it never writes into the holder's folder."""
    from benchmarks.cli import LAUNCH_ENV
    from benchmarks.tracking import PARENT_RUN_ENV

    env = os.environ | {
        "GROOMBENCH_HOME": str(tmp_path / "runs"),
        LAUNCH_ENV: "2026-01-01_00-00-00_inherited",
        PARENT_RUN_ENV: "0" * 32,
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    exe = Path(sys.executable).parent / "groombench"
    args = ["detector=lexicon", "corpus.n_conversations=200", "audit.enabled=false"]
    jobs = [
        subprocess.Popen([str(exe), *args], env=env, cwd=tmp_path, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for job in jobs:
        assert job.wait(timeout=300) == 0, job.stderr.read().decode()[-2000:] if job.stderr else ""
    folders = sorted(p.name for p in (tmp_path / "runs" / "outputs").iterdir())
    assert len(folders) == 2 and "inherited" not in " ".join(folders)
