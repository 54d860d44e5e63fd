"""Running a sealed program: one subprocess per instance, and lines to and from it on a deadline.

:class:`Program` is one running instance of a vendor's executable for
:mod:`detectors.sealed.detector`: it starts the program in its own session with an
address-space limit (``RLIMIT_AS``) and its stderr sent to a file or discarded, checks its
``hello``, writes each request line and reads the reply line with ``poll`` before a deadline,
and kills the whole process group when the program hangs, crashes or breaks the protocol, so
that the next request starts it afresh. The errors it raises (:class:`ExecError` and its kinds)
are re-exported by :mod:`detectors.sealed.detector`.

With a :class:`~detectors.sealed.sandbox.Sandbox` (the default of the ``exec`` detector) the
program runs inside bubblewrap, confined as :mod:`detectors.sealed.sandbox` describes; sandboxed
programs are started from one long-lived thread, since bubblewrap ties the sandbox's life to the
thread that started it (``--die-with-parent``).

Linux and macOS only: replies are awaited with ``poll`` and the memory limit is an rlimit (the
sandbox needs Linux).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import queue
import resource
import select
import shlex
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from detectors.sealed.sandbox import Sandbox, SandboxUnavailable, enter
from detectors.usage import Usage

#: The protocol version groombench speaks (docs/sealed.md), checked in the hello reply.
PROTOCOL = 1
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


def _limit_memory(limit: int) -> None:
    # Runs in the child between fork and exec (preexec_fn): one C call, nothing that could
    # wait on a lock another thread of the parent held at fork time.
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class _Spawner:
    """One daemon thread that starts every sandboxed program.

    bubblewrap's ``--die-with-parent`` kills the sandbox when the *thread* that started it
    exits; programs started from a worker pool's threads would die with each pool. This thread
    lives as long as the harness, so a sandbox dies with the harness and not before.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, job: Callable[[], Any]) -> Any:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="groombench-sandbox-spawner", daemon=True
                )
                self._thread.start()
        done: Future[Any] = Future()
        self._jobs.put((job, done))
        return done.result()

    def _serve(self) -> None:
        while True:
            job, done = self._jobs.get()
            try:
                done.set_result(job())
            except BaseException as error:  # handed back to the caller
                done.set_exception(error)


_SPAWNER = _Spawner()


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


def _exit_status(process: subprocess.Popen[bytes], sandboxed: bool = False) -> str:
    try:
        code = process.wait(timeout=0.5)  # EOF usually means it is exiting: give it a moment
    except subprocess.TimeoutExpired:
        return "closed its stdout"
    if sandboxed and code > 128:
        code = -(code - 128)  # bubblewrap exits 128 + N when the program died of signal N
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class Program:
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
        sandbox: Sandbox | None = None,
    ) -> None:
        self.command = command
        self.sandbox = sandbox
        self.shown = shown
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.memory_mb = memory_mb
        self.stderr_log = stderr_log
        self.usage = usage
        self.info: ProgramInfo | None = None
        #: Bumped each time a new process starts: a conversation opened in an earlier one is
        #: gone (its state died with it).
        self.generation = 0
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
        self.generation += 1
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
        argv = list(self.command)
        preexec: Callable[[], None] | None = None
        if self.sandbox is not None:
            try:
                argv = self.sandbox.wrap(self.command)
            except SandboxUnavailable as error:
                raise ExecStartError(str(error)) from None
            preexec = functools.partial(enter, self.sandbox.limits(), self.sandbox.drops_privileges)
        elif self.memory_mb is not None:
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
            start = functools.partial(
                subprocess.Popen,
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # A file or nothing, never a pipe: a chatty program cannot fill a pipe nobody
                # reads and deadlock.
                stderr=stderr_handle if stderr_handle is not None else subprocess.DEVNULL,
                bufsize=0,
                start_new_session=True,
                preexec_fn=preexec,
                # bubblewrap itself gets no secret either: the sandbox's own pid 1 is readable
                # from inside it. The program's environment is the sandbox's --setenv list.
                env=None if self.sandbox is None else {"PATH": os.defpath},
            )
            process = start() if self.sandbox is None else _SPAWNER.call(start)
            return cast("subprocess.Popen[bytes]", process)
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
        if self.sandbox is not None and self.sandbox.cpu_seconds is not None:
            limit += f", CPU limit {self.sandbox.cpu_seconds} s"
        log = (
            f"; its stderr is in {self.stderr_log}"
            if self.stderr_log is not None
            else "; set stderr_log to keep its stderr"
        )
        return ExecCrashed(
            f"sealed program {self.shown} {_exit_status(process, self.sandbox is not None)} "
            f"during '{op}'{limit}{log}"
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
