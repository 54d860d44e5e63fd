"""Staging leftovers of killed processes are removed by the next start; live ones are kept."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from benchmarks import staging
from tests.helpers import cli


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_dead_processes_leftovers_on_this_host_are_removed(tmp_path: Path) -> None:
    host = staging.prefix("x").split("@")[1]
    folder = tmp_path / "cache" / "groombench-corpora" / "abc"
    folder.mkdir(parents=True)
    dead = folder / f".corpus@{host}@{_dead_pid()}@k1.arrow"
    dead.write_bytes(b"half")
    live = folder / f"{staging.prefix('corpus')}k2.arrow"
    live.write_bytes(b"mine")
    other_host = folder / f".corpus@elsewhere.example@{_dead_pid()}@k3.arrow"
    other_host.write_bytes(b"theirs")
    model = tmp_path / "models" / f".synthetic-abc@{host}@{_dead_pid()}@xyz"
    model.mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"0")
    user_file = folder / ".keep"
    user_file.write_text("")
    removed = staging.clean_stale(tmp_path / "cache", tmp_path / "models")
    assert sorted(removed) == sorted([dead, model])
    assert live.exists() and other_host.exists() and user_file.exists()


def test_a_killed_corpus_build_is_cleaned_by_the_next_start(tmp_path: Path) -> None:
    # A real process killed while it writes the corpus cache, then a real next start.
    cache = tmp_path / "runs" / "cache"
    script = (
        "import os, signal, sys\n"
        "import benchmarks.corpora.base as base\n"
        "def records():\n"
        "    yield from ()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "base.build_dataset(lambda: records(), 'f' * 64, sys.argv[1])\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(cache)], check=False)
    assert killed.returncode == -signal.SIGKILL
    left = list(cache.rglob(".corpus@*"))
    assert len(left) == 1
    out = cli(tmp_path, "corpus.n_conversations=20", "tracking=none", "runner.progress=false")
    assert out.returncode == 0, out.stderr[-2000:]
    assert not left[0].exists()
