"""The ``exec`` detector: a vendor's sealed executable, run through a JSON-lines protocol.

Auditors often get a detector as a program they may run but not read. This adapter starts such
a program as a subprocess and talks to it on stdin/stdout, one JSON object per line each way
(the protocol is specified in ``docs/sealed.md``; ``detectors.sealed.example`` implements it).
For each conversation it opens a conversation in the program, pushes the messages in order,
reads the score after each one and closes it, so the program only ever sees the past.

A misbehaving program costs only the conversation it was scoring: a reply that does not come
within ``timeout`` seconds, a crash, a line that is not the protocol, a score outside [0, 1] or
an exhausted memory limit make that conversation an error; the program is killed and started
again for the next one. Scores go to the shared prediction cache, keyed on the chain of
messages pushed so far, so a second run (or the runner's causality re-check of a truncated
conversation) does not run the program again.

This module holds the detector and the conversation side of the protocol (what is pushed, the
cache keys, open/push/close and the scores); starting, feeding, timing and killing the program
itself is :mod:`detectors.sealed.process`, whose errors, :class:`ProgramInfo` and
:data:`PROTOCOL` are re-exported here. Linux and macOS only: replies are awaited with ``poll``
and the memory limit is an rlimit.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import queue
import shlex
import sys
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
from detectors.remote.cache import PredictionCache, identity_digest, input_key
from detectors.sealed.process import PROTOCOL as PROTOCOL
from detectors.sealed.process import ExecCrashed as ExecCrashed
from detectors.sealed.process import ExecError as ExecError
from detectors.sealed.process import ExecProtocolError as ExecProtocolError
from detectors.sealed.process import ExecReplyError as ExecReplyError
from detectors.sealed.process import ExecStartError as ExecStartError
from detectors.sealed.process import ExecTimeout as ExecTimeout
from detectors.sealed.process import Program
from detectors.sealed.process import ProgramInfo as ProgramInfo
from detectors.sealed.sandbox import EXAMPLE_INSIDE as EXAMPLE_INSIDE
from detectors.sealed.sandbox import Mount, Sandbox, example_source, sandbox_python
from detectors.speakers import pseudonymous
from detectors.usage import Usage

EXAMPLE_MODULE = "detectors.sealed.example"
# The identity of the default command: the example program under whichever Python runs
# groombench, so that its cache entries survive a new virtual environment.
_EXAMPLE_IDENTITY = ("<python>", "-m", EXAMPLE_MODULE)


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


@dataclass(frozen=True)
class _Job:
    """One conversation to replay: its pushed messages, checkpoints and cache keys."""

    encoded: tuple[str, ...]
    points: tuple[int, ...]
    keys: tuple[str, ...] | None  # one per message; None when the cache is off
    chain: tuple[str, ...]  # chain digest of messages 1..k, per k


@dataclass
class _Open:
    """A conversation left open in a program, to be continued by the next step (strict mode)."""

    program: Program
    generation: int
    opaque: str


class SealedExecutableDetector(Detector):
    """Scores conversations with a sealed program speaking the protocol of ``docs/sealed.md``.

    The program is started on first use (``processes`` instances at most), told ``hello``,
    then sent ``open``, one ``push`` per message and ``close`` for each conversation. Corpus
    conversation ids are never sent: each conversation gets an opaque id, so that a program
    cannot recognise a conversation it has seen.

    Args:
        command: the program and its arguments (a list, or one string split like a shell
            would); None runs the example program (``python -m detectors.sealed.example``)
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
        sandbox: run the program inside the bubblewrap sandbox (:mod:`detectors.sealed.sandbox`:
            no network, scrubbed environment, read-only system, nothing else of the host,
            private /tmp, own PID namespace, limits, an unprivileged user). False runs it as a
            plain subprocess, and every result says ``UNSANDBOXED``.
        mounts: the program's own files, shown read-only inside the sandbox
            (``/host/path`` or ``/host/path:/inside/path``).
        sandbox_env: names of environment variables passed into the sandbox (e.g. a licence
            key's); nothing else of the environment is.
        cpu_seconds: CPU-time limit of the program (sandboxed); None: none.
        file_size_mb: largest file the program may write in its private /tmp; None: none.
        max_processes: processes and threads the program may run at once; None: none.
        sandbox_user: ``nobody`` (enter the sandbox as uid 65534 when groombench runs as root)
            or ``current``.

    Examples:
        >>> from detectors.base import Message
        >>> detector = SealedExecutableDetector(cache=None, sandbox=False)
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
        sandbox: bool = True,
        mounts: Sequence[str] = (),
        sandbox_env: Sequence[str] = (),
        cpu_seconds: int | None = 3600,
        file_size_mb: int | None = 64,
        max_processes: int | None = 64,
        sandbox_user: str = "nobody",
    ) -> None:
        shown_mounts = tuple(Mount.parse(m) for m in mounts)
        if command is None:
            identity_command: tuple[str, ...] = _EXAMPLE_IDENTITY
            shown = repr(EXAMPLE_MODULE)
            if sandbox:
                python, runtime = sandbox_python()
                self.command: tuple[str, ...] = (python, "-I", "-S", EXAMPLE_INSIDE)
                example = Mount(str(example_source(sandbox_user)), EXAMPLE_INSIDE)
                shown_mounts = (*shown_mounts, *runtime, example)
            else:
                self.command = (sys.executable, "-m", EXAMPLE_MODULE)
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
        self.sandbox = (
            Sandbox(
                mounts=shown_mounts,
                env=tuple(str(name) for name in sandbox_env),
                cpu_seconds=cpu_seconds,
                file_size_mb=file_size_mb,
                max_processes=max_processes,
                memory_mb=memory_mb,
                user=str(sandbox_user),
            )
            if sandbox
            else None
        )
        if self.sandbox is not None:
            self.sandbox.check()  # bubblewrap installed, mounts readable: before any run
        # Which isolation held (results, MLflow, the report card, the leaderboard).
        self.trusted = False
        self.isolation = "sandboxed" if sandbox else "UNSANDBOXED"
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
            Program(
                self.command,
                shown,
                self.timeout,
                self.start_timeout,
                memory_mb,
                None if stderr_log is None else Path(stderr_log),
                self._usage,
                self.sandbox,
            )
            for _ in range(self.processes)
        ]
        self._open: dict[str, _Open] = {}  # chain digest of what was pushed -> where
        self._idle: queue.SimpleQueue[Program] = queue.SimpleQueue()
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
                # Authors renamed A, B, ... by first appearance: the program never sees the
                # corpus's ids (nor can it link an author across conversations).
                encoded = tuple(message_json(m) for m in pseudonymous(conversation))
            except (TypeError, ValueError) as error:  # a message the protocol cannot carry
                results[i] = error
                continue
            keys = None
            chain = tuple(chain_digests(encoded))
            if self._cache is not None:
                cid = "" if ids is None else str(ids[i])
                keys = tuple(input_key(self.namespace, cid, d) for d in chain)
            jobs[i] = _Job(encoded, tuple(points[i]), keys, chain)
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
        self._close_stale({job.chain[job.points[-1] - 1] for job in jobs.values()})
        return [r if r is not None else RuntimeError("not scored") for r in results]

    def _close_stale(self, continued: set[str]) -> None:
        """Close the open conversations this call did not continue (they are finished)."""
        for digest in list(self._open):
            if digest in continued:
                continue
            entry = self._open.pop(digest)
            if entry.program.generation == entry.generation:
                with contextlib.suppress(ExecError):
                    close = f'{{"op": "close", "conversation": {entry.opaque}}}'
                    entry.program.request("close", close)

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

    def _replay(self, program: Program, job: _Job) -> list[float]:
        """Push the job's messages (continuing an open conversation where one holds its
        beginning) and return the scores at its checkpoints; leave the conversation open.

        In strict mode the runner asks for message k of a conversation right after message
        k-1: the conversation the previous step left open in this program is continued with one
        push, instead of replaying messages 1..k. It is closed once a call no longer continues
        it. The program is still given each message only after it answered the one before.
        """
        last = job.points[-1]
        start, conversation = 0, ""
        # Resume after message m only if no wanted checkpoint is at or before m.
        for m in range(min(last, job.points[0]) - 1, 0, -1):
            entry = self._open.pop(job.chain[m - 1], None)
            if entry is not None:
                if entry.program is program and entry.generation == program.generation:
                    start, conversation = m, entry.opaque
                else:
                    self._open[job.chain[m - 1]] = entry  # another program's: left as it is
                break
        if not conversation:
            conversation = json.dumps(str(next(self._ids)))
            program.request("open", f'{{"op": "open", "conversation": {conversation}}}')
        wanted = set(job.points)
        scores: list[float] = []
        fresh: dict[str, float] = {}
        try:
            for position in range(start + 1, last + 1):
                message = job.encoded[position - 1]
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
        # Stored at once (each score is final: it depends on its prefix only), so that a
        # killed run keeps what it paid for.
        if self._cache is not None and fresh:
            self._cache.put_many(fresh)
        if len(job.points) == 1 and last > 1:
            # A lockstep step (one checkpoint, past the first message): the next step will
            # most likely continue it. Closed when a call does not.
            self._open[job.chain[last - 1]] = _Open(program, program.generation, conversation)
        else:
            program.request("close", f'{{"op": "close", "conversation": {conversation}}}')
        return scores

    @staticmethod
    def _score_of(program: Program, reply: dict[str, Any]) -> float:
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
