"""Real HTTP servers on loopback for the black-box adapters' tests, with injected faults.

A :class:`Loopback` server runs in a daemon thread, answers each request with a function of
the decoded request (the service's response shape), and records every request. A
:class:`Faults` plan makes chosen requests slow, rate-limited (429 with ``Retry-After``),
failing (500), malformed (not JSON), or reset (the connection closed without an answer); an
outage fails every request while it lasts.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULTS = ("slow", "429", "500", "malformed", "reset")


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # decoded JSON, a dict of form fields, or the raw text
    at: float


@dataclass
class Faults:
    """Which requests fail, and how.

    Attributes:
        rate: share of requests that fail transiently (seeded), with a fault drawn from
            ``kinds``.
        kinds: the faults drawn for ``rate``.
        script: faults for the first requests, in order (``None`` = answer normally).
        outage: while True, every request gets a 503.
        slow_seconds: how long a ``slow`` answer takes (past the client's timeout).
        retry_after: the ``Retry-After`` seconds sent with a 429.
        seed: seeds ``rate``.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "malformed", "reset")
    script: list[str | None] = field(default_factory=list)
    outage: bool = False
    slow_seconds: float = 2.0
    retry_after: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._n = 0

    def next(self) -> str | None:
        """The fault for the next request, or None to answer it."""
        with self._lock:
            n = self._n
            self._n += 1
            if self.outage:
                return "outage"
            if n < len(self.script):
                return self.script[n]
            if self.rate and self._rng.random() < self.rate:
                return self._rng.choice(self.kinds)
        return None


Responder = Callable[[Recorded], Any]


class Loopback:
    """A threaded HTTP server on 127.0.0.1 answering with ``respond(request)`` as JSON.

    Args:
        respond: returns the JSON body for a request, or ``(status, body)``.
        faults: the fault plan (default: none).
        latency: seconds every answer takes (a service's own latency).
    """

    def __init__(
        self, respond: Responder, faults: Faults | None = None, latency: float = 0.0
    ) -> None:
        self.respond = respond
        self.faults = faults or Faults()
        self.latency = latency
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the second waits for
            # the client's delayed ACK (~40 ms a request).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                del format, args  # quiet: tests read self.requests instead

            def do_POST(self) -> None:
                owner._handle(self)

            def do_GET(self) -> None:
                owner._handle(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client killed or timed out mid-request resets its connection: expected
                # here, and not worth a traceback on stderr.
                import sys

                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        data = handler.rfile.read(length) if length else b""
        if len(data) < length:
            # The client died mid-request (a killed run): it sent nothing complete, so there is
            # nothing to record or answer.
            handler.close_connection = True
            return
        raw = data.decode("utf-8")
        kind = handler.headers.get("Content-Type", "")
        body: Any = raw
        if "json" in kind and raw:
            body = json.loads(raw)
        elif "form" in kind:
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        parts = urlsplit(handler.path)
        request = Recorded(
            handler.command,
            parts.path,
            parse_qs(parts.query),
            dict(handler.headers.items()),
            body,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
        fault = self.faults.next()
        if self.latency:
            time.sleep(self.latency)
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        if fault == "reset":
            # SO_LINGER 0: close() sends a TCP RST, as a crashed proxy would.
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()
            return
        if fault == "429":
            self._send(
                handler,
                429,
                b'{"error": "rate limited"}',
                {"Retry-After": f"{self.faults.retry_after:g}"},
            )
            return
        if fault in ("500", "outage"):
            self._send(handler, 503 if fault == "outage" else 500, b'{"error": "unavailable"}')
            return
        if fault == "malformed":
            self._send(handler, 200, b'{"results": [{"category_scores": ')
            return
        answer = self.respond(request)
        status, payload = answer if isinstance(answer, tuple) else (200, answer)
        self._send(handler, status, json.dumps(payload).encode())

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer

    def count(self) -> int:
        """Requests received so far."""
        with self._lock:
            return len(self.requests)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
