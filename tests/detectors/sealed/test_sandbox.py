"""The sealed-program sandbox, attacked by a hostile program: every escape fails, scoring works.

Network attacks go only to a listener this test starts on 127.0.0.1. Needs bubblewrap (the
project's CI installs it); without it these tests are skipped locally and fail under CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from detectors import Message
from detectors.sealed import sandbox as sandbox_module
from detectors.sealed.detector import ExecCrashed, SealedExecutableDetector
from detectors.sealed.sandbox import SandboxUnavailable

HOSTILE = Path(__file__).with_name("hostile_program.py")
CUES = {"secret": 0.35, "snap": 0.25, "meet": 0.3}

if shutil.which("bwrap") is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install bubblewrap (.ci/run does): the sandbox is untested")
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)


def open_folder(prefix: str) -> Path:
    """A folder anyone may read (as a vendor's /opt/vendor would be)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


class Listener:
    """A loopback server that records whatever reaches it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(100))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What a hostile program would want from the host: secrets, the answer key, a server."""
    monkeypatch.setenv("OTHER_VENDOR_API_KEY", "SECRET-OTHER-VENDOR")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////secret/mlflow.db")
    vendor = open_folder("vendor-")
    shutil.copy(HOSTILE, vendor / "hostile_program.py")
    (vendor / "hostile_program.py").chmod(0o644)
    root = open_folder("run-root-")
    root.chmod(0o777)  # even a folder anyone may write to stays out of reach
    (root / "cache").mkdir(mode=0o755)
    corpus = root / "cache" / "corpus.arrow"
    corpus.write_text("ANSWER KEY: conversation c7 is grooming")
    corpus.chmod(0o644)
    cache = root / "cache" / "predictions.sqlite"
    cache.write_text("")
    cache.chmod(0o666)
    listener = Listener()
    marker = f"groombench-orphan-{uuid.uuid4().hex}"
    targets = {
        "corpus": str(corpus),
        "cache": str(cache),
        "run_root": str(root),
        "port": listener.port,
        "listen_port": free_port(),
        "marker": marker,
    }
    yield {"vendor": vendor, "root": root, "listener": listener, "targets": targets}
    listener.close()
    shutil.rmtree(vendor, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)


def hostile(host: dict[str, Any], **settings: Any) -> SealedExecutableDetector:
    command = [
        "/usr/bin/python3",
        "-I",
        "-S",
        "/opt/vendor/hostile_program.py",
        json.dumps(host["targets"]),
    ]
    settings = {
        "mounts": [f"{host['vendor']}:/opt/vendor"],
        "cache": None,
        "timeout": 10.0,
        "start_timeout": 60.0,
        "max_processes": 16,
        "file_size_mb": 1,
    } | settings
    return SealedExecutableDetector(command, **settings)


def chat(*texts: str) -> list[Message]:
    return [Message(f"user{i % 2}", t, 1.7e9 + 60 * i, i + 1) for i, t in enumerate(texts)]


def expected(conversation: list[Message]) -> list[float]:
    seen: set[str] = set()
    out = []
    for message in conversation:
        seen |= {c for c in CUES if c in message.text}
        miss = 1.0
        for cue in sorted(seen):
            miss *= 1.0 - CUES[cue]
        out.append(1.0 - miss)
    return out


def processes_with(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                pass
    return found


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="needs the system's Python")
def test_every_escape_of_a_hostile_program_fails_and_honest_scoring_still_works(
    host: dict[str, Any],
) -> None:
    conversations = [chat("hi", "keep it our secret", "add me on snap"), chat("wanna meet")]
    with hostile(host) as detector:
        scores = detector.score_prefixes(conversations)
        assert detector.isolation == "sandboxed"
        assert detector.program_info is not None
        seen = json.loads(detector.program_info.name)
    # Honest scoring is untouched by the sandbox.
    assert scores == [pytest.approx(expected(c)) for c in conversations]
    # Its own user, its own environment: nothing of the harness's.
    assert seen["uid"] == 65534
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_CTYPE", "PWD"}
    assert "SECRET-OTHER-VENDOR" not in seen["other_processes_env"]
    assert "mlflow" not in seen["other_processes_env"]
    # Nothing of the host but the system and its own files, read-only.
    for probe in ("shadow", "bashrc", "corpus", "cache_write", "run_root_write", "home"):
        assert seen[probe].startswith("refused"), (probe, seen[probe])
    assert not (host["root"] / "planted.txt").exists()
    assert (host["root"] / "cache" / "predictions.sqlite").read_text() == ""
    assert set(seen["root"]) <= {
        "usr",
        "bin",
        "sbin",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "etc",
        "proc",
        "dev",
        "tmp",
        "opt",
    }
    # No network: the loopback listener on the host heard nothing, and a port the program
    # listened on is not the host's.
    assert seen["connect"].startswith("refused")
    assert host["listener"].received == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", host["targets"]["listen_port"]), timeout=1)
    # Limits: processes and file size.
    assert seen["fork_bomb"].startswith("stopped after"), seen["fork_bomb"]
    assert int(seen["fork_bomb"].split()[2].rstrip(":")) < 16
    assert seen["big_file"].startswith("refused"), seen["big_file"]
    if os.path.exists("/usr/bin/unshare") and sandbox_module._supports("--disable-userns"):
        assert seen["nested_userns"].startswith("refused"), seen["nested_userns"]
    # Its copy of the chat stayed in its private /tmp, gone with it; its orphan (started: the
    # sandbox lets it run processes) died with it.
    assert seen["orphan"] == "ok" and seen["listen"] == "ok"
    assert not list(Path(tempfile.gettempdir()).glob(f"stolen-{host['targets']['marker']}"))
    deadline = time.monotonic() + 5
    while processes_with(host["targets"]["marker"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(host["targets"]["marker"]) == []


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="needs the system's Python")
def test_cpu_time_is_limited(host: dict[str, Any]) -> None:
    spin = host["vendor"] / "spin.py"
    spin.write_text(
        "import json, sys\n"
        "sys.stdin.readline()\n"
        "print(json.dumps({'ok': True, 'protocol': 1}), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(json.dumps({'ok': True}), flush=True)\n"
        "while True:\n    pass\n"
    )
    spin.chmod(0o644)
    command = ["/usr/bin/python3", "-I", "-S", "/opt/vendor/spin.py"]
    mounts = [f"{host['vendor']}:/opt/vendor"]
    with SealedExecutableDetector(
        command, mounts=mounts, cache=None, cpu_seconds=1, timeout=20.0
    ) as detector:
        started = time.monotonic()
        result = detector.try_score_prefixes([chat("hi")])[0]
    assert isinstance(result, ExecCrashed) and "SIGXCPU" in str(result)
    assert time.monotonic() - started < 15


def test_the_default_example_runs_sandboxed_and_scores_like_the_plain_one() -> None:
    conversations = [chat("hi", "keep it our secret", "add me on snap"), chat("meet me")]
    with SealedExecutableDetector(cache=None) as confined:
        sandboxed = confined.score_prefixes(conversations)
        assert confined.isolation == "sandboxed" and confined.sandbox is not None
    with SealedExecutableDetector(cache=None, sandbox=False) as plain:
        assert plain.isolation == "UNSANDBOXED" and plain.sandbox is None
        assert plain.score_prefixes(conversations) == sandboxed


def test_the_program_never_sees_corpus_ids(tmp_path: Path) -> None:
    # A plain subprocess that writes what it receives: what the protocol sends, sandbox or not.
    log = tmp_path / "received.jsonl"
    script = (
        "import json, sys\n"
        f"out = open({str(log)!r}, 'a')\n"
        "for line in sys.stdin:\n"
        "    r = json.loads(line); out.write(line); out.flush()\n"
        "    reply = {'ok': True, 'protocol': 1} if r['op'] == 'hello' else {'ok': True}\n"
        "    if r['op'] == 'push': reply['score'] = 0.1\n"
        "    print(json.dumps(reply), flush=True)\n"
    )
    conversation = [
        Message("groomer-77", "hi", None, 1),
        Message("child-12", "hey", None, 2),
        Message("groomer-77", "how old r u", None, 3),
    ]
    with SealedExecutableDetector([sys.executable, "-c", script], sandbox=False) as detector:
        detector.try_score_prefixes([conversation], ids=["corpus-conv-9"])
    sent = [json.loads(line) for line in log.read_text().splitlines()]
    pushed = [r["message"]["author"] for r in sent if r["op"] == "push"]
    assert pushed == ["A", "B", "A"]
    blob = log.read_text()
    assert "groomer-77" not in blob and "child-12" not in blob and "corpus-conv-9" not in blob


def test_a_missing_sandbox_is_a_one_line_error_that_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match=r"apt-get install bubblewrap.*sandbox=false"):
        SealedExecutableDetector(cache=None)
    # Running without it is an explicit choice, and says so.
    assert SealedExecutableDetector(cache=None, sandbox=False).isolation == "UNSANDBOXED"


@pytest.mark.skipif(os.geteuid() != 0, reason="the check applies when dropping from root")
def test_a_mount_the_unprivileged_user_cannot_read_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ValueError, match="not readable by the unprivileged user"):
        SealedExecutableDetector(["/opt/v/bin"], mounts=[f"{private}:/opt/v"], cache=None)
    # As the current user, the same mount is allowed.
    SealedExecutableDetector(
        ["/opt/v/bin"], mounts=[f"{private}:/opt/v"], cache=None, sandbox_user="current"
    )


def test_an_unsandboxed_run_says_so_in_the_result_the_leaderboard_and_the_card(
    tmp_path: Path,
) -> None:
    from benchmarks.audit.card.model import ReportCard
    from benchmarks.audit.card.report import to_markdown
    from benchmarks.corpora.jsonl import load_jsonl
    from benchmarks.evaluation import evaluate_detector
    from benchmarks.leaderboard import result_row
    from tests.helpers import write_jsonl

    corpus = load_jsonl(str(write_jsonl(tmp_path / "c.jsonl", n=12)), cache_dir=str(tmp_path / "c"))
    with SealedExecutableDetector(cache=None, sandbox=False) as detector:
        result = evaluate_detector(detector, corpus, split="all").result
    assert result.guarantees["isolation"] == "UNSANDBOXED"
    assert result.guarantees["causality"]["mode"] == "strict"  # untrusted: by construction
    assert "UNSANDBOXED" in result.flags
    assert "(UNSANDBOXED)" in result_row(result)["detector"]
    card = ReportCard(title="t", detector={"name": "exec", "guarantees": result.guarantees})
    text = to_markdown(card)
    assert "UNSANDBOXED: the vendor's sealed program ran without its sandbox" in text
    assert "causality mode" in text and "strict" in text
    with SealedExecutableDetector(cache=None) as confined:
        boxed = evaluate_detector(confined, corpus, split="all").result
    assert boxed.guarantees["isolation"] == "sandboxed" and boxed.flags == ()


def test_faults_are_handled_the_same_way_inside_the_sandbox() -> None:
    from detectors.sealed.sandbox import EXAMPLE_INSIDE, sandbox_python

    python, _ = sandbox_python()
    command = [python, "-I", "-S", EXAMPLE_INSIDE, "--allocate-on", "HOG", "--crash-on", "BOOM"]
    # The example's own file is mounted for the default command only: mount it here, from
    # where the unprivileged user can read it (as a vendor places a program), wherever the
    # checkout lies.
    from detectors.sealed.sandbox import example_source

    example = example_source("nobody")
    mounts = [f"{example}:{EXAMPLE_INSIDE}"]
    with SealedExecutableDetector(
        command, mounts=mounts, cache=None, memory_mb=256, timeout=20.0
    ) as detector:
        results = detector.try_score_prefixes([chat("HOG"), chat("BOOM"), chat("meet up")])
    assert isinstance(results[0], ExecCrashed) and "memory limit 256 MiB" in str(results[0])
    assert isinstance(results[1], ExecCrashed) and "status 3" in str(results[1])
    assert results[2] == pytest.approx([0.3])  # restarted, and still scoring


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="needs the system's Python")
def test_only_the_environment_variables_named_reach_the_program(
    host: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VENDOR_LICENCE", "licence-123")
    with hostile(host, sandbox_env=["VENDOR_LICENCE", "NOT_SET_ANYWHERE"]) as detector:
        detector.score_prefixes([chat("hi")])
        assert detector.program_info is not None
        seen = json.loads(detector.program_info.name)
    assert "VENDOR_LICENCE" in seen["env"] and "NOT_SET_ANYWHERE" not in seen["env"]
    assert "OTHER_VENDOR_API_KEY" not in seen["env"]
