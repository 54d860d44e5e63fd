"""The exec detector with real subprocesses: the example program, injected faults, the cache."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.jobplan import Component
from detectors import Message, checkpoints
from detectors.sealed.detector import (
    EXAMPLE_INSIDE,
    EXAMPLE_MODULE,
    ExecCrashed,
    ExecProtocolError,
    ExecReplyError,
    ExecStartError,
    ExecTimeout,
    SealedExecutableDetector,
)
from tests.helpers import neutral_conversation

EXAMPLE = (sys.executable, "-m", EXAMPLE_MODULE)


def example(*flags: str, **settings: Any) -> SealedExecutableDetector:
    """The example program with fault switches; no cache and a 1 s timeout unless told.

    These tests are about the protocol (what is pushed, faults, the cache), so the program runs
    as a plain subprocess (and may write its --log on the host); the sandbox has its own tests
    (test_sandbox.py), which run the same faults confined.
    """
    settings = {"cache": None, "timeout": 1.0, "start_timeout": 20.0, "sandbox": False} | settings
    return SealedExecutableDetector([*EXAMPLE, *flags], **settings)


def msgs(*texts: str) -> list[Message]:
    return [Message(f"a{i % 2}", t, 1.7e9 + 60.0 * i, i + 1) for i, t in enumerate(texts)]


def neutral(n: int, seed: int = 5) -> list[list[Message]]:
    rng = random.Random(seed)
    return [neutral_conversation(rng) for _ in range(n)]


def log_lines(log: Path) -> list[tuple[str, str, int]]:
    """(op, conversation id, pid) per request the example program received."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        op, conversation, pid = line.split(" ")
        out.append((op, conversation, int(pid)))
    return out


def pushes(log: Path) -> int:
    return sum(op == "push" for op, _, _ in log_lines(log))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- scoring through the protocol ------------------------------------------------------------


def test_example_scores_are_causal_batch_invariant_and_stream_like_prefixes() -> None:
    convs = [*neutral(12), []]
    with example() as detector:
        together = detector.score_prefixes(convs)
        alone = [detector.score_prefixes([c])[0] for c in convs]
        assert together == alone
        for conversation, scores in zip(convs, together, strict=True):
            assert len(scores) == len(conversation)
            assert all(0.0 <= s <= 1.0 for s in scores)
        assert together[-1] == []
        sparse = detector.score_prefixes(convs, every=3)
        for conversation, full, picked in zip(convs, together, sparse, strict=True):
            assert picked == [full[k - 1] for k in checkpoints(len(conversation), 3)]

        shared = msgs("hi", "how old are you", "lol")
        a = [*shared, *msgs("x", "x", "x", "dont tell")[3:]]
        b = [*shared, Message("zz", "meet up later", None, 4)]
        sa, sb = detector.score_prefixes([a, b])
        assert sa[:3] == sb[:3] and sa[3] != sb[3]

        session = detector.session()
        assert [session.update(m) for m in convs[0]] == together[0]
        assert detector.score(convs[:-1]) == [s[-1] for s in together[:-1]]


def test_example_is_a_noisy_or_over_distinct_cues() -> None:
    with example() as detector:
        scores = detector.score_prefixes(
            [msgs("hi", "How old are you?", "how old are you", "ok, DON'T tell")]
        )[0]
        assert scores[:3] == pytest.approx([0.0, 0.15, 0.15])
        assert scores[3] == pytest.approx(1 - 0.85 * 0.65)
        assert detector.program_info is not None
        assert detector.program_info.name == "sealed_example"
        assert detector.usage()["requests"] == 4 and detector.usage()["calls"] == 4


def test_empty_conversations_never_start_the_program(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with example("--log", str(log)) as detector:
        assert detector.score_prefixes([[]]) == [[]]
        assert detector.try_score_prefixes([[], []], every=2) == [[], []]
        assert detector.score_messages([[]]) == [[]]
        assert detector.score_authors([[]]) == [{}]
        with pytest.raises(ValueError, match="conversation 1 is empty"):
            detector.score([msgs("hi"), []])
        assert detector.program_info is None and not log.exists()


def test_corpus_ids_never_reach_the_program(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with example("--log", str(log)) as detector:
        detector.try_score_prefixes([msgs("a"), msgs("b")], ids=["corpus-id-1", "corpus-id-2"])
    opened = [c for op, c, _ in log_lines(log) if op == "open"]
    assert len(set(opened)) == 2 and not any("corpus" in c for c in opened)


def test_instances_run_in_parallel_and_agree(tmp_path: Path) -> None:
    log = tmp_path / "log"
    convs = neutral(16, seed=9)
    with example() as one:
        expected = one.score_prefixes(convs)
    with example("--log", str(log), "--crash-on", "BOOM", processes=2) as two:
        faulty = [*convs, msgs("hi", "BOOM")]
        results = two.try_score_prefixes(faulty)
    assert results[:-1] == expected
    assert isinstance(results[-1], ExecCrashed)
    assert len({pid for op, _, pid in log_lines(log) if op == "push"}) >= 2


def test_close_stops_the_program_and_it_starts_again_when_needed(tmp_path: Path) -> None:
    log, err = tmp_path / "log", tmp_path / "logs" / "stderr.log"
    detector = example("--log", str(log), stderr_log=str(err))
    detector.score_prefixes([msgs("hi")])
    first = log_lines(log)[0][2]
    detector.close()
    assert not alive(first)
    detector.score_prefixes([msgs("hi")])
    assert log_lines(log)[-1][2] != first
    assert "restarts" not in detector.usage()  # a restart counts only after a failure
    detector.close()
    assert err.read_text(encoding="utf-8").count("sealed_example 1 ready") == 2


# -- faults: each costs its conversation only ------------------------------------------------


def test_a_hang_times_out_that_conversation_and_the_run_goes_on() -> None:
    convs = [msgs("hi", "dont tell"), msgs("hi", "FREEZE now", "never sent"), msgs("meet up")]
    with example("--hang-on", "FREEZE", timeout=1.0) as detector:
        started = time.monotonic()
        results = detector.try_score_prefixes(convs)
        assert time.monotonic() - started < 5.0
        assert results[0] == pytest.approx([0.0, 0.35]) and results[2] == pytest.approx([0.3])
        assert isinstance(results[1], ExecTimeout)
        assert "did not answer 'push' in 1 s" in str(results[1])
        usage = detector.usage()
        assert usage["restarts"] == 1 and usage["failed_inputs"] == 1
        assert usage["requests"] == 5 and usage["calls"] == 4
        assert detector.score_prefixes([msgs("our secret")])[0] == pytest.approx([0.35])
        with pytest.raises(ExecTimeout):
            detector.score_prefixes([convs[1]])


@pytest.mark.parametrize(
    ("flag", "settings", "error", "says"),
    [
        ("--crash-on", {}, ExecCrashed, "exited with status 3 during 'push'"),
        ("--garbage-on", {}, ExecProtocolError, "not JSON"),
        ("--bad-score-on", {}, ExecProtocolError, "score must be a finite number in [0, 1]"),
        ("--allocate-on", {"memory_mb": 256}, ExecCrashed, "memory limit 256 MiB"),
    ],
)
def test_a_fault_costs_only_its_conversation_and_restarts_the_program(
    flag: str, settings: dict[str, Any], error: type[Exception], says: str
) -> None:
    convs = [msgs("hi", "dont tell"), msgs("hi", "FAULT here", "after"), msgs("meet up")]
    with example(flag, "FAULT", **settings) as detector:
        results = detector.try_score_prefixes(convs)
        assert results[0] == pytest.approx([0.0, 0.35]) and results[2] == pytest.approx([0.3])
        assert isinstance(results[1], error) and says in str(results[1])
        assert "FAULT" not in str(results[1])  # chat text stays out of error messages
        assert detector.usage()["restarts"] == 1
        assert detector.usage()["failed_inputs"] == 1


def test_a_refusal_is_an_error_but_keeps_the_program(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with example("--log", str(log), "--error-on", "NOPE") as detector:
        results = detector.try_score_prefixes([msgs("NOPE"), msgs("meet up")])
        assert isinstance(results[0], ExecReplyError) and "refused 'push'" in str(results[0])
        assert results[1] == pytest.approx([0.3])
        assert "restarts" not in detector.usage()
    assert len({pid for _, _, pid in log_lines(log)}) == 1
    assert [op for op, _, _ in log_lines(log)].count("close") == 2


def test_a_program_that_stops_reading_cannot_block_the_harness() -> None:
    # Says hello, then never reads again: a 4 MB message fills the pipe and the write waits.
    script = (
        "import json, sys, time; sys.stdin.readline(); "
        "print(json.dumps({'ok': True, 'protocol': 1}), flush=True); time.sleep(60)"
    )
    with SealedExecutableDetector(
        [sys.executable, "-c", script], sandbox=False, timeout=1.0
    ) as detector:
        started = time.monotonic()
        result = detector.try_score_prefixes([msgs("x" * (4 << 20))])[0]
        assert isinstance(result, ExecTimeout) and time.monotonic() - started < 5.0


# -- starting ---------------------------------------------------------------------------------


def test_a_missing_or_non_executable_program_is_a_clear_error(tmp_path: Path) -> None:
    missing = SealedExecutableDetector([str(tmp_path / "vendor-bin"), "--flag"], sandbox=False)
    results = missing.try_score_prefixes([msgs("hi"), msgs("hello")])
    assert all(isinstance(r, ExecStartError) for r in results)
    assert "vendor-bin" in str(results[0]) and "no such file" in str(results[0])
    with pytest.raises(ExecStartError, match="vendor-bin"):
        missing.score([msgs("hi")])

    plain = tmp_path / "plain-file"
    plain.write_text("not a program\n")
    with pytest.raises(ExecStartError, match=r"plain-file.*not executable"):
        SealedExecutableDetector([str(plain)], sandbox=False).score_prefixes([msgs("hi")])

    with pytest.raises(ValueError, match="command must name a program"):
        SealedExecutableDetector([], sandbox=False)


def test_a_program_that_does_not_say_hello_in_protocol_1_is_a_clear_error() -> None:
    with pytest.raises(ExecStartError, match="speaks protocol 2; groombench speaks protocol 1"):
        example("--protocol", "2").score_prefixes([msgs("hi")])
    chatty = SealedExecutableDetector([sys.executable, "-c", "print('hello there')"], sandbox=False)
    with pytest.raises(ExecStartError, match=r"did not answer hello properly.*not JSON"):
        chatty.score_prefixes([msgs("hi")])
    silent = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(ExecStartError, match=r"did not answer 'hello' in 0\.5 s"):
        SealedExecutableDetector(silent, sandbox=False, start_timeout=0.5).score_prefixes(
            [msgs("hi")]
        )


# -- the prediction cache ---------------------------------------------------------------------


def test_a_second_run_is_answered_from_the_cache_without_the_program(tmp_path: Path) -> None:
    log, db = tmp_path / "log", str(tmp_path / "cache.sqlite")
    convs = [*neutral(8), []]
    ids = [f"c{i}" for i in range(len(convs))]
    n_messages = sum(len(c) for c in convs)
    with example("--log", str(log), cache=db) as first:
        scored = first.try_score_prefixes(convs, ids=ids)
        assert first.usage()["requests"] == n_messages
    assert pushes(log) == n_messages

    before = log_lines(log)
    with example("--log", str(log), cache=db) as second:
        assert second.try_score_prefixes(convs, ids=ids) == scored
        # The runner's causality re-check: a truncated conversation under the same id.
        again = second.try_score_prefixes([convs[0][:2]], every=1, ids=[ids[0]])
        assert again == [scored[0][:2]]
        assert second.try_score_prefixes(convs, every=3, ids=ids)[0] == [
            scored[0][k - 1] for k in checkpoints(len(convs[0]), 3)
        ]
        usage = second.usage()
        assert "requests" not in usage and usage["cache_hits"] > n_messages
        assert second.program_info is None
    assert log_lines(log) == before  # not even a hello

    # Another conversation id is another input: replayed from its first message.
    with example("--log", str(log), cache=db) as third:
        assert third.try_score_prefixes([convs[0]], ids=["other"]) == [scored[0]]
        assert third.usage()["requests"] == len(convs[0])


def test_the_cache_never_crosses_command_or_version(tmp_path: Path) -> None:
    db = str(tmp_path / "cache.sqlite")
    convs = neutral(4)
    n_messages = sum(len(c) for c in convs)
    with example("--log", str(tmp_path / "a"), cache=db) as first:
        first.score_prefixes(convs)
    with example("--log", str(tmp_path / "a"), cache=db, version="2") as other_version:
        other_version.score_prefixes(convs)
        assert other_version.usage()["requests"] == n_messages
    with example("--log", str(tmp_path / "b"), cache=db) as other_command:
        other_command.score_prefixes(convs)
        assert other_command.usage()["requests"] == n_messages
    # Timeouts, memory and where the cache lives change no score, so not the namespace either.
    assert (
        example(timeout=3.0, memory_mb=None).namespace
        == example(cache=db, timeout=9.0, memory_mb=512, processes=2).namespace
    )
    assert SealedExecutableDetector().namespace != example().namespace


def test_a_cache_shared_by_two_live_instances(tmp_path: Path) -> None:
    log, db = tmp_path / "log", str(tmp_path / "cache.sqlite")
    convs = neutral(8, seed=11)
    with example("--log", str(log), cache=db) as a, example("--log", str(log), cache=db) as b:
        first_half = a.score_prefixes(convs[:4])
        everything = b.score_prefixes(convs)
        assert everything[:4] == first_half
        assert b.usage()["requests"] == sum(len(c) for c in convs[4:])
        assert b.usage()["cache_hits"] == sum(len(c) for c in convs[:4])
        # A longer conversation whose prefix is cached is replayed from its first message.
        longer = [*convs[0], *msgs("x", "dont tell")[1:]]
        longer[-1] = Message("a0", "dont tell", None, len(longer))
        assert a.score_prefixes([longer])[0][: len(convs[0])] == everything[0]
        assert a.usage()["requests"] == sum(len(c) for c in convs[:4]) + len(longer)
    with example() as uncached:
        assert uncached.score_prefixes(convs) == everything


def test_a_program_that_died_while_idle_is_restarted_for_the_next_conversation(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with example("--log", str(log)) as detector:
        detector.score_prefixes([msgs("hi")])
        os.kill(log_lines(log)[0][2], signal.SIGKILL)
        time.sleep(0.2)
        assert detector.score_prefixes([msgs("meet up")])[0] == pytest.approx([0.3])
        assert detector.usage()["restarts"] == 1 and "failed_inputs" not in detector.usage()


def compose_exec(tmp_path: Path, *overrides: str) -> Any:
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench", overrides=["detector=exec", f"paths.root={tmp_path}", *overrides]
        )
    return build(Component.of(cfg.detector))


def test_the_exec_config_runs_the_example_program(tmp_path: Path) -> None:
    detector = compose_exec(tmp_path)
    assert isinstance(detector, SealedExecutableDetector)
    assert detector.metadata.name == "exec" and detector.metadata.stateful
    assert EXAMPLE_MODULE in detector.metadata.description
    # Sandboxed by default: the example file is shown read-only inside, run by plain Python.
    assert detector.isolation == "sandboxed" and detector.command[-1] == EXAMPLE_INSIDE
    with detector:
        assert detector.score([msgs("hi", "add me on snap")]) == pytest.approx([0.25])
    assert (tmp_path / "cache" / "predictions.sqlite").exists()


def test_the_command_is_set_from_the_command_line(tmp_path: Path) -> None:
    log = tmp_path / "log"
    command = ",".join([*EXAMPLE, "--log", str(log)])
    overrides = (f"detector.command=[{command}]", "detector.version=2", "detector.sandbox=false")
    with compose_exec(tmp_path, *overrides) as detector:
        assert detector.command == (*EXAMPLE, "--log", str(log))
        assert detector.metadata.version == "2"
        assert "python" in detector.metadata.description
        detector.score([msgs("hi")])
    assert pushes(log) == 1


def test_strict_lockstep_pushes_each_message_once_and_scores_like_a_plain_pass(
    tmp_path: Path,
) -> None:
    from benchmarks.causality import lockstep

    log = tmp_path / "log"
    convs = [tuple(c) for c in neutral(10, seed=3) if c]
    ids = [f"c{i}" for i in range(len(convs))]
    with example("--log", str(log), cache=str(tmp_path / "cache.sqlite")) as detector:
        stepped = lockstep(detector, convs, 1, ids)
        # Message k of every conversation before any message k+1, yet no replay: each
        # conversation stays open in the program between steps. (Message 1 goes twice: a
        # request for message 1 alone looks like a one-message conversation, closed at once.)
        assert pushes(log) == sum(len(c) for c in convs) + sum(len(c) > 1 for c in convs)
    with example(cache=None) as plain:
        assert stepped == plain.score_prefixes(convs)
