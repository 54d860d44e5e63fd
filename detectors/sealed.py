"""The ``exec`` detector: a vendor's sealed executable, run through a JSON-lines protocol.

Auditors often get a detector as a program they may run but not read. This adapter starts such
a program as a subprocess and talks to it on stdin/stdout, one JSON object per line each way
(the protocol is specified in ``docs/sealed.md``; ``detectors.sealed_example`` implements it).
For each conversation it opens a conversation in the program, pushes the messages in order,
reads the score after each one and closes it, so the program only ever sees the past.

A misbehaving program costs only the conversation it was scoring: a reply that does not come
within ``timeout`` seconds, a crash, a line that is not the protocol, a score outside [0, 1] or
an exhausted memory limit make that conversation an error; the program is killed and started
again for the next one. Scores go to the shared prediction cache, keyed on the chain of
messages pushed so far, so a second run (or the runner's causality re-check of a truncated
conversation) does not run the program again.

Linux and macOS only: replies are awaited with ``poll`` and the memory limit is an rlimit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import math
import os
import queue
import resource
import select
import shlex
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from detectors.base import (
    Conversation,
    Detector,
    DetectorMetadata,
    Message,
    check_score,
    checkpoints,
)
from detectors.cache import PredictionCache, identity_digest, input_key
from detectors.usage import Usage

PROTOCOL = 1
EXAMPLE_MODULE = "detectors.sealed_example"
# The identity of the default command: the example program under whichever Python runs
# groombench, so that its cache entries survive a new virtual environment.
_EXAMPLE_IDENTITY = ("<python>", "-m", EXAMPLE_MODULE)
_MAX_LINE = 1 << 20  # a reply is a few dozen bytes; a megabyte without a newline is not one
_READ_CHUNK = 1 << 16
_GRACE_S = 2.0  # how long a program may take to exit once its stdin is closed


class ExecError(RuntimeError):
    """A sealed program failed; the conversation it was scoring is recorded as an error."""


class ExecStartError(ExecError):
    """The program could not be started: missing, not executable, or no proper hello."""


class ExecTimeout(ExecError):
    """The program did not reply within the timeout; it was killed."""


class ExecCrashed(ExecError):
    """The program exited (or closed its stdout) before replying; a memory limit may be why."""


class ExecProtocolError(ExecError):
    """The program replied, but not with the protocol: not JSON, wrong shape, bad score."""


class ExecReplyError(ExecError):
    """The program answered ``{"ok": false, "error": ...}``; it is kept running."""


@dataclass(frozen=True)
class ProgramInfo:
    """What a program said about itself in its hello reply.

    Attributes:
        name: the name it reported ("" when none).
        version: the version it reported ("" when none).
        protocol: the protocol version it speaks.
    """

    name: str
    version: str
    protocol: int


def message_json(message: Message) -> str:
    """Return the ``message`` object of a push request, as sent (and as hashed for the cache).

    Non-ASCII characters are escaped, so the line is valid UTF-8 whatever the text holds; a
    time that is not a finite number is sent as null.

    Examples:
        >>> message_json(Message("u1", "hé", 1.5, 2))
        '{"author": "u1", "text": "h\\\\u00e9", "time": 1.5, "index": 2}'
        >>> message_json(Message("u1", "hi"))
        '{"author": "u1", "text": "hi", "time": null, "index": 0}'
    """
    when = message.time
    sent_time = float(when) if when is not None and math.isfinite(when) else None
    return json.dumps(
        {
            "author": str(message.author),
            "text": str(message.text),
            "time": sent_time,
            "index": int(message.index),
        }
    )


def chain_digests(encoded: Sequence[str]) -> list[str]:
    """Return, for each k, a hash of messages 1..k (their :func:`message_json` lines).

    Each digest hashes the previous one and the next message, so all prefixes of a
    conversation cost one pass, and two conversations share a digest exactly as long as they
    share a prefix.

    Examples:
        >>> a = chain_digests(['{"m": 1}', '{"m": 2}'])
        >>> b = chain_digests(['{"m": 1}', '{"m": 3}'])
        >>> a[0] == b[0], a[1] == b[1], len(a[0])
        (True, False, 64)
    """
    out: list[str] = []
    previous = b""
    for line in encoded:
        # The previous digest has a fixed length (32 bytes, or none for the first message) and
        # the JSON that follows starts with "{": the concatenation is never ambiguous.
        previous = hashlib.sha256(previous + line.encode("utf-8")).digest()
        out.append(previous.hex())
    return out


def _limit_memory(limit: int) -> None:
    # Runs in the child between fork and exec (preexec_fn): one C call, nothing that could
    # wait on a lock another thread of the parent held at fork time.
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The program leads its own session: killing the group also ends any helper processes it
    # started, which would otherwise keep our pipes open.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """Close the program's stdin (the protocol's "exit now"), wait ``grace`` s, then kill."""
    for pipe in (process.stdin, process.stdout):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:
            pass
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.wait()
    _kill_group(process)  # helpers it left behind


def _exit_status(process: subprocess.Popen[bytes]) -> str:
    try:
        code = process.wait(timeout=0.5)  # EOF usually means it is exiting: give it a moment
    except subprocess.TimeoutExpired:
        return "closed its stdout"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class _Program:
    """One running instance of the sealed program, restarted after any failure."""

    def __init__(
        self,
        command: tuple[str, ...],
        shown: str,
        timeout: float,
        start_timeout: float,
        memory_mb: int | None,
        stderr_log: Path | None,
        usage: Usage,
    ) -> None:
        self.command = command
        self.shown = shown
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.memory_mb = memory_mb
        self.stderr_log = stderr_log
        self.usage = usage
        self.info: ProgramInfo | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopper: weakref.finalize[Any, Any] | None = None
        self._buffer = bytearray()
        self._failed = False

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the program and check its hello, unless it is running already.

        Raises:
            ExecStartError: the program is missing, not executable, or did not say hello in
                protocol 1.
        """
        if self._process is not None:
            if self._process.poll() is None:
                return
            # It exited between conversations: start it again rather than lose the next
            # conversation to a broken pipe.
            self.fail()
        if self._failed:
            self.usage.add("restarts")
            self._failed = False
        process = self._spawn()
        self._process = process
        self._buffer.clear()
        assert process.stdin is not None
        # Writes never block: a program that stops reading cannot hang the harness.
        os.set_blocking(process.stdin.fileno(), False)
        # Stops the program when this object is collected or the interpreter exits.
        self._stopper = weakref.finalize(self, _stop_process, process, _GRACE_S)
        try:
            hello = json.dumps({"op": "hello", "protocol": PROTOCOL})
            reply = self.request("hello", hello, self.start_timeout)
        except ExecError as error:
            self._give_up()
            raise ExecStartError(
                f"sealed program {self.shown} did not answer hello properly: {error} "
                f"(command: {shlex.join(self.command)})"
            ) from error
        protocol = reply.get("protocol")
        if type(protocol) is not int or protocol != PROTOCOL:
            self._give_up()
            raise ExecStartError(
                f"sealed program {self.shown} speaks protocol {protocol!r}; groombench speaks "
                f"protocol {PROTOCOL} (docs/sealed.md) (command: {shlex.join(self.command)})"
            )
        self.info = ProgramInfo(
            name=str(reply.get("name", "")),
            version=str(reply.get("version", "")),
            protocol=PROTOCOL,
        )

    def _give_up(self) -> None:
        # A program that never said hello is not "restarted" by the next attempt to start it.
        self.stop(kill=True)
        self._failed = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        where = f"(command: {shlex.join(self.command)})"
        preexec = None
        if self.memory_mb is not None:
            limit = self.memory_mb * 1024 * 1024
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)  # an unprivileged process can only lower it
            preexec = functools.partial(_limit_memory, limit)
        stderr_handle = None
        try:
            if self.stderr_log is not None:
                self.stderr_log.parent.mkdir(parents=True, exist_ok=True)
                stderr_handle = self.stderr_log.open("ab")
            return subprocess.Popen(
                list(self.command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # A file or nothing, never a pipe: a chatty program cannot fill a pipe nobody
                # reads and deadlock.
                stderr=stderr_handle if stderr_handle is not None else subprocess.DEVNULL,
                bufsize=0,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except FileNotFoundError as error:
            raise ExecStartError(
                f"cannot start sealed program {self.command[0]!r}: no such file {where}"
            ) from error
        except PermissionError as error:
            raise ExecStartError(
                f"cannot start sealed program {self.command[0]!r}: not executable {where}"
            ) from error
        except (OSError, subprocess.SubprocessError) as error:
            raise ExecStartError(
                f"cannot start sealed program {self.command[0]!r}: {error} {where}"
            ) from error
        finally:
            if stderr_handle is not None:
                stderr_handle.close()  # the child has its own copy

    def stop(self, kill: bool = False) -> None:
        """Stop the program: close its stdin and let it exit, or kill it (``kill=True``)."""
        process, stopper = self._process, self._stopper
        self._process, self._stopper = None, None
        if process is None or stopper is None:
            return
        if kill:
            _kill_group(process)
        stopper()  # closes the pipes and reaps it; a finalizer runs at most once

    def fail(self) -> None:
        """Kill the program after a failure; the next :meth:`start` counts a restart."""
        self.stop(kill=True)
        self._failed = True

    # -- requests ----------------------------------------------------------------------------

    def request(self, op: str, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Send one request line and return the reply object (``ok`` true).

        Args:
            op: the request's operation, for error messages.
            text: the request as one line of JSON (no newline).
            timeout: seconds to wait for the reply (default: the per-call timeout).

        Raises:
            ExecReplyError: the program answered ``ok: false`` (it keeps running).
            ExecTimeout, ExecCrashed, ExecProtocolError: the program was killed.
        """
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        answered = False
        try:
            self._write((text + "\n").encode("utf-8"), deadline, op, wait)
            line = self._read_line(deadline, op, wait)
            answered = True
        finally:
            if not answered:
                # Whatever stopped us (a timeout, a crash, even KeyboardInterrupt), a reply may
                # still be on its way: a program left running would answer the next request
                # with it, so it is killed.
                self.fail()
        try:
            reply = json.loads(line)
        except ValueError:
            self.fail()
            # The line is not quoted: a program may echo chat text, and errors travel further.
            raise ExecProtocolError(
                f"sealed program {self.shown} answered '{op}' with a line that is not JSON "
                f"({len(line)} bytes)"
            ) from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self.fail()
            raise ExecProtocolError(
                f"sealed program {self.shown} answered '{op}' without a JSON object holding a "
                "boolean 'ok'"
            )
        if not reply["ok"]:
            raise ExecReplyError(
                f"sealed program {self.shown} refused '{op}': {str(reply.get('error', ''))[:300]}"
            )
        return reply

    def _process_or_fail(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise ExecCrashed(f"sealed program {self.shown} is not running")
        return self._process

    def _crashed(self, process: subprocess.Popen[bytes], op: str) -> ExecCrashed:
        limit = "" if self.memory_mb is None else f"; memory limit {self.memory_mb} MiB in force"
        log = (
            f"; its stderr is in {self.stderr_log}"
            if self.stderr_log is not None
            else "; set stderr_log to keep its stderr"
        )
        return ExecCrashed(
            f"sealed program {self.shown} {_exit_status(process)} during '{op}'{limit}{log}"
        )

    def _timed_out(self, op: str, wait: float) -> ExecTimeout:
        return ExecTimeout(f"sealed program {self.shown} did not answer '{op}' in {wait:g} s")

    def _write(self, data: bytes, deadline: float, op: str, wait: float) -> None:
        process = self._process_or_fail()
        assert process.stdin is not None
        fd = process.stdin.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view) :]
                continue
            except BlockingIOError:
                pass  # the pipe is full: wait below until the program reads
            except BrokenPipeError:
                raise self._crashed(process, op) from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timed_out(op, wait)
            poller.poll(math.ceil(remaining * 1000))

    def _read_line(self, deadline: float, op: str, wait: float) -> bytes:
        process = self._process_or_fail()
        assert process.stdout is not None
        fd = process.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > _MAX_LINE:
                raise ExecProtocolError(
                    f"sealed program {self.shown} wrote over {_MAX_LINE} bytes without a "
                    f"newline in answer to '{op}'"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timed_out(op, wait)
            if not poller.poll(math.ceil(remaining * 1000)):
                continue  # woke up early or timed out: the loop re-checks the deadline
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                raise self._crashed(process, op)
            self._buffer += chunk


@dataclass(frozen=True)
class _Job:
    """One conversation to replay: its pushed messages, checkpoints and cache keys."""

    encoded: tuple[str, ...]
    points: tuple[int, ...]
    keys: tuple[str, ...] | None  # one per message; None when the cache is off


class SealedExecutableDetector(Detector):
    """Scores conversations with a sealed program speaking the protocol of ``docs/sealed.md``.

    The program is started on first use (``processes`` instances at most), told ``hello``,
    then sent ``open``, one ``push`` per message and ``close`` for each conversation. Corpus
    conversation ids are never sent: each conversation gets an opaque id, so that a program
    cannot recognise a conversation it has seen.

    Args:
        command: the program and its arguments (a list, or one string split like a shell
            would); None runs the example program (``python -m detectors.sealed_example``)
            with the Python running groombench.
        name: the detector's name (the config file's name).
        version: the version recorded with results and in the cache key; bump it when the
            program changes (a new build at the same path), since the cache cannot see
            inside the program.
        timeout: seconds to wait for each reply; a program that takes longer is killed and
            the conversation is an error.
        start_timeout: seconds to wait for the hello reply (loading a model may be slow).
        memory_mb: address-space limit of the program (``RLIMIT_AS``) in MiB; None: none.
        processes: program instances run in parallel, each scoring whole conversations.
        stderr_log: file the program's stderr is appended to; None discards it. It may hold
            whatever the program prints, chat text included: keep it local.
        cache: SQLite file of the shared prediction cache; None disables caching.

    Examples:
        >>> from detectors.base import Message
        >>> detector = SealedExecutableDetector(cache=None)
        >>> chat = [Message("a", "hi there", None, 1), Message("b", "dont tell anyone", None, 2)]
        >>> detector.score_prefixes([chat])
        [[0.0, 0.35]]
        >>> detector.usage()["calls"], detector.program_info.name
        (2.0, 'sealed_example')
        >>> detector.close()
    """

    def __init__(
        self,
        command: Sequence[str] | str | None = None,
        *,
        name: str = "exec",
        version: str = "1",
        timeout: float = 10.0,
        start_timeout: float = 60.0,
        memory_mb: int | None = 2048,
        processes: int = 1,
        stderr_log: str | None = None,
        cache: str | None = None,
    ) -> None:
        if command is None:
            self.command: tuple[str, ...] = (sys.executable, "-m", EXAMPLE_MODULE)
            identity_command: tuple[str, ...] = _EXAMPLE_IDENTITY
            shown = repr(EXAMPLE_MODULE)
        else:
            parts = shlex.split(command) if isinstance(command, str) else command
            self.command = tuple(str(part) for part in parts)
            if not self.command or not self.command[0]:
                raise ValueError("command must name a program, e.g. ['./vendor-bin', '--flag']")
            identity_command = self.command
            shown = repr(Path(self.command[0]).name)
        if not timeout > 0 or not start_timeout > 0:
            raise ValueError(f"timeouts must be > 0, got {timeout} and {start_timeout}")
        if memory_mb is not None and memory_mb < 1:
            raise ValueError(f"memory_mb must be >= 1 or null, got {memory_mb}")
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes}")
        self.version = str(version)
        self.timeout = float(timeout)
        self.start_timeout = float(start_timeout)
        self.memory_mb = memory_mb
        self.processes = int(processes)
        self.metadata = DetectorMetadata(
            name=name,
            version=self.version,
            description=(
                f"Sealed executable {shown} run over groombench's JSON-lines protocol "
                "(docs/sealed.md)."
            ),
            # The example ships with groombench; a vendor's program is under the vendor's terms.
            licence="Apache-2.0" if command is None else "the vendor's",
            stateful=True,
        )
        # Only what can change a score: timeouts, memory and the cache's place cannot.
        self.namespace = identity_digest(
            {
                "name": name,
                "version": self.version,
                "settings": {"command": list(identity_command), "protocol": PROTOCOL},
            }
        )
        self._cache = None if cache is None else PredictionCache(cache, self.namespace)
        self._usage = Usage()
        self._ids = itertools.count(1)
        self._programs = [
            _Program(
                self.command,
                shown,
                self.timeout,
                self.start_timeout,
                memory_mb,
                None if stderr_log is None else Path(stderr_log),
                self._usage,
            )
            for _ in range(self.processes)
        ]
        self._idle: queue.SimpleQueue[_Program] = queue.SimpleQueue()
        for program in self._programs:
            self._idle.put(program)

    # -- the Detector API --------------------------------------------------------------------

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        """Return each conversation's score after its last message.

        Raises:
            ValueError: a conversation is empty (the program scores what it was pushed, and
                nothing was; ``score_prefixes`` gives an empty conversation no checkpoint).
            ExecError: the first conversation the program failed on.
        """
        for position, conversation in enumerate(conversations):
            if not len(conversation):
                raise ValueError(
                    f"conversation {position} is empty: a sealed program has no score before "
                    "its first message"
                )
        results = self._try(conversations, [[len(c)] for c in conversations], None)
        return [scores[-1] for scores in _raise_first(results)]

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        """Return the checkpoint scores of each conversation; raise the first failure."""
        return _raise_first(self.try_score_prefixes(conversations, every))

    def try_score_prefixes(
        self,
        conversations: Sequence[Conversation],
        every: int = 1,
        ids: Sequence[str] | None = None,
    ) -> list[list[float] | Exception]:
        """Return each conversation's checkpoint scores, or the error that stopped it.

        Conversations whose every checkpoint is cached are not sent to the program at all;
        the others are replayed from their first message (the program's state must be
        rebuilt) and all their scores cached once the conversation is closed.

        Args:
            conversations: the conversations to score.
            every: score every ``every``-th message and the last one.
            ids: the conversations' corpus ids, for the cache key only (never sent).
        """
        return self._try(conversations, [checkpoints(len(c), every) for c in conversations], ids)

    def usage(self) -> dict[str, float]:
        """Return the push requests, successful pushes, cache hits, restarts and failures."""
        return self._usage.snapshot()

    @property
    def program_info(self) -> ProgramInfo | None:
        """What the program said in its hello (None until it has been started)."""
        return next((p.info for p in self._programs if p.info is not None), None)

    def close(self) -> None:
        """Stop every running instance of the program (it is started again when needed)."""
        for program in self._programs:
            program.stop()

    def __enter__(self) -> SealedExecutableDetector:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _try(
        self,
        conversations: Sequence[Conversation],
        points: Sequence[Sequence[int]],
        ids: Sequence[str] | None,
    ) -> list[list[float] | Exception]:
        if ids is not None and len(ids) != len(conversations):
            raise ValueError(f"{len(ids)} ids for {len(conversations)} conversations")
        results: list[list[float] | Exception | None] = [None] * len(conversations)
        jobs: dict[int, _Job] = {}
        for i, conversation in enumerate(conversations):
            if not points[i]:
                results[i] = []  # an empty conversation has no checkpoint: nothing to run
                continue
            try:
                encoded = tuple(message_json(m) for m in conversation)
            except (TypeError, ValueError) as error:  # a message the protocol cannot carry
                results[i] = error
                continue
            keys = None
            if self._cache is not None:
                cid = "" if ids is None else str(ids[i])
                keys = tuple(input_key(self.namespace, cid, d) for d in chain_digests(encoded))
            jobs[i] = _Job(encoded, tuple(points[i]), keys)
        if self._cache is not None and jobs:
            found = self._cache.get_many(
                job.keys[k - 1] for job in jobs.values() if job.keys for k in job.points
            )
            for i, job in list(jobs.items()):
                assert job.keys is not None
                wanted = [job.keys[k - 1] for k in job.points]
                if all(key in found for key in wanted):
                    results[i] = [found[key] for key in wanted]
                    self._usage.add("cache_hits", len(wanted))
                    del jobs[i]
        # A program that cannot start fails the rest of this call without a start per
        # conversation (each attempt may wait start_timeout).
        broken: list[ExecStartError] = []
        pending = list(jobs)
        if self.processes == 1 or len(pending) <= 1:
            for i in pending:
                results[i] = self._run(jobs[i], broken)
        else:
            with ThreadPoolExecutor(max_workers=min(self.processes, len(pending))) as pool:
                done = pool.map(lambda i: self._run(jobs[i], broken), pending)
                for i, result in zip(pending, done, strict=True):
                    results[i] = result
        return [r if r is not None else RuntimeError("not scored") for r in results]

    def _run(self, job: _Job, broken: list[ExecStartError]) -> list[float] | Exception:
        """Score one conversation on an idle program; return its scores or its error."""
        program = self._idle.get()  # one per worker thread: there is always one free
        try:
            if broken:
                self._usage.add("failed_inputs")
                return broken[0]
            try:
                program.start()
            except ExecStartError as error:
                broken.append(error)
                self._usage.add("failed_inputs")
                return error
            try:
                return self._replay(program, job)
            except Exception as error:
                if not isinstance(error, ExecError):
                    program.fail()  # where the protocol stands is unknown: start afresh
                self._usage.add("failed_inputs")
                return error
        finally:
            self._idle.put(program)

    def _replay(self, program: _Program, job: _Job) -> list[float]:
        conversation = json.dumps(str(next(self._ids)))
        program.request("open", f'{{"op": "open", "conversation": {conversation}}}')
        wanted = set(job.points)
        scores: list[float] = []
        fresh: dict[str, float] = {}
        try:
            for position, message in enumerate(job.encoded[: job.points[-1]], start=1):
                self._usage.add("requests")
                reply = program.request(
                    "push",
                    f'{{"op": "push", "conversation": {conversation}, "message": {message}}}',
                )
                score = self._score_of(program, reply)
                self._usage.add("calls")
                if job.keys is not None:
                    fresh[job.keys[position - 1]] = score
                if position in wanted:
                    scores.append(score)
        except ExecReplyError:
            # The program refused a push but is still in step: free its state for the
            # conversation before moving on.
            with contextlib.suppress(ExecError):
                program.request("close", f'{{"op": "close", "conversation": {conversation}}}')
            raise
        program.request("close", f'{{"op": "close", "conversation": {conversation}}}')
        # Stored only once the conversation is closed cleanly, so a conversation that ended in
        # an error is asked again next run rather than half-answered from the cache.
        if self._cache is not None and fresh:
            self._cache.put_many(fresh)
        return scores

    @staticmethod
    def _score_of(program: _Program, reply: dict[str, Any]) -> float:
        value = reply.get("score")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            program.fail()
            raise ExecProtocolError(
                f"sealed program {program.shown} answered 'push' without a numeric 'score'"
            )
        try:
            return check_score(value)
        except ValueError as error:
            program.fail()
            raise ExecProtocolError(f"sealed program {program.shown}: {error}") from None


def _raise_first(results: Sequence[list[float] | Exception]) -> list[list[float]]:
    out: list[list[float]] = []
    for result in results:
        if isinstance(result, Exception):
            raise result
        out.append(result)
    return out
