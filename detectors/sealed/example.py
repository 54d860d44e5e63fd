"""An example sealed detector program: the JSON-lines protocol of ``docs/sealed.md``, stdlib only.

Run it as ``python -m detectors.sealed.example``; ``groombench detector=exec`` runs it by
default. It stands in for a vendor's executable: it reads one JSON request per line on stdin,
writes one JSON reply per line on stdout, keeps one state per open conversation and exits when
stdin closes. It imports nothing from groombench, so it can be copied out as a template.

Its score is a noisy-OR over the distinct cue phrases seen so far in the conversation,
``1 - prod(1 - weight[cue])``: a second cue raises the score, a repeated one adds nothing.

Hidden command-line switches inject faults so that tests can drive a real misbehaving process
(each fires when a pushed message's text contains the given string): ``--crash-on`` exits at
once, ``--hang-on`` sleeps forever, ``--allocate-on`` allocates memory until it fails (run it
under a memory limit), ``--garbage-on`` writes a line that is not JSON, ``--error-on`` answers
``{"ok": false}``, ``--bad-score-on`` answers a score outside [0, 1]. ``--protocol`` announces
another protocol version at hello, ``--log FILE`` appends one line per request naming the
operation, the conversation id and the process id (never message text).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

PROTOCOL = 1
NAME = "sealed_example"
VERSION = "1"

# Neutral phrases, matched on lower-cased text with apostrophes dropped and every other
# non-alphanumeric run turned into one space ("Don't tell!" -> "dont tell").
CUES: dict[str, float] = {
    "how old are you": 0.15,
    "what school": 0.1,
    "are you home alone": 0.3,
    "you are so mature": 0.2,
    "dont tell": 0.35,
    "our secret": 0.35,
    "delete the chat": 0.3,
    "add me on": 0.25,
    "gift card": 0.15,
    "send a pic": 0.4,
    "meet up": 0.3,
}


def normalise(text: str) -> str:
    """Return ``text`` lower-cased, apostrophes dropped, other punctuation as single spaces.

    Examples:
        >>> normalise("Don't TELL, ok?")
        ' dont tell ok '
    """
    words = re.sub(r"[^0-9a-z]+", " ", text.lower().replace("'", "").replace("’", ""))
    # Padded so that a cue matches whole words only: " meet up " never inside " meet upstairs ".
    return f" {words.strip()} "


def cues_in(text: str) -> set[str]:
    """Return the cue phrases that occur in ``text`` as whole words.

    Examples:
        >>> sorted(cues_in("ok but dont tell anyone, add me on snap"))
        ['add me on', 'dont tell']
        >>> cues_in("a meet upstairs")
        set()
    """
    padded = normalise(text)
    return {cue for cue in CUES if f" {cue} " in padded}


def noisy_or(cues: set[str]) -> float:
    """Return ``1 - prod(1 - weight)`` over distinct cues.

    Examples:
        >>> noisy_or(set())
        0.0
        >>> round(noisy_or({"dont tell", "meet up"}), 4)
        0.545
    """
    miss = 1.0
    for cue in sorted(cues):  # a fixed order: the same float whatever the set's order
        miss *= 1.0 - CUES[cue]
    return 1.0 - miss


@dataclass
class _Conversation:
    seen: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Faults:
    crash_on: str | None
    hang_on: str | None
    allocate_on: str | None
    garbage_on: str | None
    error_on: str | None
    bad_score_on: str | None


class _BadRequest(Exception):
    """A request the program cannot serve: answered ``{"ok": false}``, the program goes on."""


class Program:
    """The protocol loop: requests in, replies out, one state per open conversation."""

    def __init__(self, faults: _Faults, protocol: int = PROTOCOL, log: str | None = None) -> None:
        self.faults = faults
        self.protocol = protocol
        self.log = log
        self.open: dict[str, _Conversation] = {}

    def _note(self, op: str, conversation: object) -> None:
        if self.log is None:
            return
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(f"{op} {conversation} {os.getpid()}\n")

    def handle(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Return the reply to one request (None: a fault switch wrote its own line)."""
        op = request.get("op")
        conversation = request.get("conversation")
        self._note(str(op), conversation)
        if op == "hello":
            return {"ok": True, "name": NAME, "version": VERSION, "protocol": self.protocol}
        if not isinstance(conversation, str):
            raise _BadRequest("'conversation' must be a string")
        if op == "open":
            self.open[conversation] = _Conversation()
            return {"ok": True}
        if op == "close":
            self.open.pop(conversation, None)
            return {"ok": True}
        if op == "push":
            state = self.open.get(conversation)
            if state is None:
                raise _BadRequest("push to a conversation that is not open")
            message = request.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("text"), str):
                raise _BadRequest("'message.text' must be a string")
            text: str = message["text"]
            if self._inject_fault(text):
                return None
            if self.faults.error_on is not None and self.faults.error_on in text:
                raise _BadRequest("refused by --error-on")
            if self.faults.bad_score_on is not None and self.faults.bad_score_on in text:
                return {"ok": True, "score": 1.5}
            state.seen |= cues_in(text)
            return {"ok": True, "score": noisy_or(state.seen)}
        raise _BadRequest(f"unknown op {op!r}")

    def _inject_fault(self, text: str) -> bool:
        # True when a fault wrote its own line instead of the reply; the others never return.
        faults = self.faults
        if faults.crash_on is not None and faults.crash_on in text:
            os._exit(3)  # abrupt: no reply, no clean-up, as a segfaulting binary would
        if faults.hang_on is not None and faults.hang_on in text:
            while True:
                time.sleep(3600)
        if faults.allocate_on is not None and faults.allocate_on in text:
            hog = []
            while True:
                # Touched bytes, as a real leak would: resident memory, not just address space.
                hog.append(b"\x01" * (32 << 20))
        if faults.garbage_on is not None and faults.garbage_on in text:
            sys.stdout.write("this line is not JSON\n")
            sys.stdout.flush()
            return True
        return False

    def run(self, stdin: TextIO, stdout: TextIO) -> int:
        """Serve requests until stdin closes; return the exit status."""
        while True:
            line = stdin.readline()
            if not line:
                return 0  # stdin closed: the harness is done with us
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise _BadRequest("a request must be a JSON object")
                reply = self.handle(request)
            except (_BadRequest, json.JSONDecodeError) as error:
                reply = {"ok": False, "error": str(error)}
            if reply is None:
                continue
            stdout.write(json.dumps(reply) + "\n")
            stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve the protocol on stdin/stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m detectors.sealed.example",
        description="Example sealed detector speaking groombench's JSON-lines protocol.",
    )
    hidden = argparse.SUPPRESS
    for flag in ("crash-on", "hang-on", "allocate-on", "garbage-on", "error-on", "bad-score-on"):
        parser.add_argument(f"--{flag}", metavar="TEXT", default=None, help=hidden)
    parser.add_argument("--protocol", type=int, default=PROTOCOL, help=hidden)
    parser.add_argument("--log", default=None, help=hidden)
    args = parser.parse_args(argv)
    faults = _Faults(
        crash_on=args.crash_on,
        hang_on=args.hang_on,
        allocate_on=args.allocate_on,
        garbage_on=args.garbage_on,
        error_on=args.error_on,
        bad_score_on=args.bad_score_on,
    )
    # stderr is the program's log (the harness appends it to a file or discards it); stdout
    # carries the protocol only.
    print(f"{NAME} {VERSION} ready (pid {os.getpid()})", file=sys.stderr, flush=True)
    with open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False) as stdin:
        return Program(faults, protocol=args.protocol, log=args.log).run(stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
