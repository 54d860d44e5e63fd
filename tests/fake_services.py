"""Fake scoring services for the HTTP adapter's tests: each vendor's answer shape, on loopback.

Each ``*_answer`` function is a :class:`tests.loopback.Loopback` responder: it checks the request
the way the vendor would (its key, its body) and answers with the vendor's JSON shape. Scores are
a hash of the input text, so they are deterministic and depend on the text alone (the contract
tests' causality and determinism checks mean something), and differ between inputs.

Importing this module registers the ``http``, ``openai_moderation``, ``perspective`` and ``hive``
configs in :data:`tests.detector_fixtures.FIXTURES`: each starts one shared server per test
process (lazily) and points the config at it, with a fake key in a test-only variable.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.detector_fixtures import FIXTURES
from tests.loopback import Faults, Loopback, Recorded

# Fake keys, and the test-only variables that hold them for the shared servers (a developer's
# real OPENAI_API_KEY is never read, nor sent anywhere, by the contract tests).
KEYS = {
    "openai_moderation": "sk-fake-openai-0123456789",
    "perspective": "AIza-fake-perspective-0123456789",
    "hive": "fake-hive-token-0123456789",
}
TEST_VARIABLES = {
    "openai_moderation": "GROOMBENCH_TEST_OPENAI_API_KEY",
    "perspective": "GROOMBENCH_TEST_PERSPECTIVE_API_KEY",
    "hive": "GROOMBENCH_TEST_HIVE_API_KEY",
}
OPENAI_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
HIVE_MULTILEVEL = ("sexual", "hate", "violence", "bullying", "drugs")
HIVE_BINARY = ("child_exploitation", "spam", "promotions", "gibberish", "phone_numbers")


def text_score(text: str, salt: str = "") -> float:
    """A deterministic score in [0, 1) for ``text`` (a different one for each ``salt``).

    Examples:
        >>> text_score("hi") == text_score("hi"), text_score("hi") == text_score("hi", "x")
        (True, False)
        >>> 0.0 <= text_score("hello") < 1.0
        True
    """
    digest = hashlib.sha256(f"{salt}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hive_level(text: str, cls: str) -> int:
    """Hive's severity for one class: 0-3, or 0/3 for a binary head."""
    level = int(text_score(text, cls) * 4)
    return (3 if level >= 2 else 0) if cls in HIVE_BINARY else level


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message}}


def openai_moderation_answer(request: Recorded) -> Any:
    """POST /v1/moderations: ``input`` is a string or a list; one result per input, in order."""
    if request.headers.get("Authorization") != f"Bearer {KEYS['openai_moderation']}":
        return _error(401, "Incorrect API key provided")
    body = request.body if isinstance(request.body, dict) else {}
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return _error(400, "input must be a string or an array of strings")
    results = []
    for text in texts:
        scores = {c: text_score(text, c) for c in OPENAI_CATEGORIES}
        results.append(
            {
                "flagged": any(s > 0.9 for s in scores.values()),
                "categories": {c: s > 0.5 for c, s in scores.items()},
                "category_scores": scores,
                "category_applied_input_types": {c: ["text"] for c in OPENAI_CATEGORIES},
            }
        )
    return {"id": "modr-fake", "model": body.get("model", ""), "results": results}


def perspective_answer(request: Recorded) -> Any:
    """POST /v1alpha1/comments:analyze?key=...: one comment, the requested attributes' scores."""
    if request.query.get("key") != [KEYS["perspective"]]:
        return _error(400, "API key not valid. Please pass a valid API key.")
    body = request.body if isinstance(request.body, dict) else {}
    text = (body.get("comment") or {}).get("text")
    attributes = body.get("requestedAttributes") or {}
    if not isinstance(text, str) or not text:
        return _error(400, "Comment must be non-empty.")
    if not attributes:
        return _error(400, "No requested attributes")
    scores = {}
    for attribute in attributes:
        value = text_score(text, attribute)
        summary = {"value": value, "type": "PROBABILITY"}
        span = {"begin": 0, "end": len(text), "score": summary}
        scores[attribute] = {"spanScores": [span], "summaryScore": summary}
    return {"attributeScores": scores, "languages": ["en"], "detectedLanguages": ["en"]}


def hive_answer(request: Recorded) -> Any:
    """POST /api/v2/task/sync (form ``text_data``): severity levels per class, per text chunk."""
    if request.headers.get("Authorization") != f"Token {KEYS['hive']}":
        return _error(403, "Forbidden")
    body = request.body if isinstance(request.body, dict) else {}
    text = body.get("text_data")
    if not isinstance(text, str) or not text:
        return _error(400, "text_data is required")
    classes = [{"class": c, "score": hive_level(text, c)} for c in HIVE_MULTILEVEL + HIVE_BINARY]
    output = {"time": 0, "start_char_index": 0, "end_char_index": len(text), "classes": classes}
    return {
        "id": "task-fake",
        "code": 200,
        "status": [
            {
                "status": {"code": "0", "message": "SUCCESS"},
                "response": {
                    "input": {"id": "task-fake", "model_type": "TEXT_CLASSIFICATION"},
                    "output": [output],
                    "language": "EN",
                    "moderated_classes": list(HIVE_MULTILEVEL + HIVE_BINARY),
                    "text_filters": [],
                    "pii_entities": [],
                    "urls": [],
                },
            }
        ],
    }


def hive_expected(text: str) -> float:
    """What the hive preset should score ``text`` on :func:`hive_answer`."""
    return max(hive_level(text, "child_exploitation"), hive_level(text, "sexual")) / 3


def generic_answer(request: Recorded) -> Any:
    """A home-made service: ``{"text": ...}`` -> ``{"score": ...}``, or ``{"texts": [...]}`` ->
    ``{"scores": [...]}``."""
    body = request.body if isinstance(request.body, dict) else {}
    if isinstance(body.get("texts"), list):
        return {"scores": [text_score(t) for t in body["texts"]]}
    if isinstance(body.get("text"), str):
        return {"score": text_score(body["text"])}
    return _error(422, "send text or texts")


# --- servers ------------------------------------------------------------------------------------

_servers: dict[str, Loopback] = {}
_lock = threading.Lock()


def serve(
    respond: Callable[[Recorded], Any], faults: Faults | None = None, latency: float = 0.0
) -> Loopback:
    """A :class:`Loopback` server answering with ``respond``."""
    return Loopback(respond, faults, latency)


def shared_server(name: str, respond: Callable[[Recorded], Any]) -> Loopback:
    """The one server of ``name`` in this test process, started on first use (never closed:
    its thread is a daemon)."""
    with _lock:
        if name not in _servers:
            _servers[name] = serve(respond)
        return _servers[name]


def quoted(value: str) -> str:
    """``value`` as a quoted Hydra override value."""
    # Hydra's override grammar reads {..} as a dict and : ? = specially: quote the whole value.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fast(tmp_path: Path) -> list[str]:
    """Overrides shared by every HTTP config in tests: no rate limit, quick retries."""
    del tmp_path
    return [
        "detector.requests_per_second=null",
        "detector.concurrency=8",
        "detector.retries.backoff=0.01",
    ]


def _with_key(vendor: str) -> list[str]:
    os.environ[TEST_VARIABLES[vendor]] = KEYS[vendor]
    return [f"detector.secrets.api_key={TEST_VARIABLES[vendor]}"]


def http_overrides(tmp_path: Path) -> list[str]:
    """Point the generic ``http`` config at a loopback service of the default shape."""
    server = shared_server("http", generic_answer)
    return [f"detector.url={quoted(server.url + '/score')}", *_fast(tmp_path)]


def openai_moderation_overrides(tmp_path: Path) -> list[str]:
    """Point ``openai_moderation`` at a loopback moderation endpoint, with a fake key."""
    server = shared_server("openai_moderation", openai_moderation_answer)
    url = server.url + "/v1/moderations"
    return [f"detector.url={quoted(url)}", *_with_key("openai_moderation"), *_fast(tmp_path)]


def perspective_overrides(tmp_path: Path) -> list[str]:
    """Point ``perspective`` at a loopback Comment Analyzer (the key stays in the query)."""
    server = shared_server("perspective", perspective_answer)
    url = server.url + "/v1alpha1/comments:analyze?key={api_key}"
    return [f"detector.url={quoted(url)}", *_with_key("perspective"), *_fast(tmp_path)]


def hive_overrides(tmp_path: Path) -> list[str]:
    """Point ``hive`` at a loopback sync task endpoint, with a fake key."""
    server = shared_server("hive", hive_answer)
    url = server.url + "/api/v2/task/sync"
    return [f"detector.url={quoted(url)}", *_with_key("hive"), *_fast(tmp_path)]


FIXTURES.update(
    {
        "http": http_overrides,
        "openai_moderation": openai_moderation_overrides,
        "perspective": perspective_overrides,
        "hive": hive_overrides,
    }
)
