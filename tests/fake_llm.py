"""A fake OpenAI-compatible chat-completions server for the ``llm_judge`` tests.

:class:`FakeLLM` is a responder for :class:`tests.loopback.Loopback`: it answers
``POST /v1/chat/completions`` the way vLLM or Ollama would, and its risk is deterministic in the
prompt (neutral cue words counted in the transcript). It can misbehave on purpose, for every
request (:attr:`FakeLLM.mode`) or for the inputs whose transcript holds a ``[[mode]]`` token:
prose around the JSON, a ```` ```json ```` fence, only ``risk: 0.7``, no number at all,
an out-of-range risk, unknown stage names, no stages, empty choices, no content, an answer cut
at ``max_tokens``, a 400.

Importing this module registers the ``llm_judge`` entry of
:data:`tests.detector_fixtures.FIXTURES`: one shared server per test process, started lazily.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from tests.detector_fixtures import FIXTURES
from tests.loopback import Faults, Loopback, Recorded

PATH = "/v1/chat/completions"
MODEL = "fake-judge"
MODES = (
    "strict",
    "prose",
    "fenced",
    "risk_only",
    "no_number",
    "out_of_range",
    "unknown_stage",
    "no_stages",
    "empty_choices",
    "no_content",
    "truncated",
    "bad_request",
)
# Neutral words of tests.helpers.WORDS, each standing for the stage it hints at.
CUES = {
    "old": "personal_info",
    "school": "personal_info",
    "alone": "risk_check",
    "mom": "risk_check",
    "mature": "compliments",
    "secret": "secrecy",
    "tell": "secrecy",
    "gift": "gifts",
    "robux": "gifts",
    "snap": "platform_move",
    "discord": "platform_move",
    "pic": "image_request",
    "meet": "approach",
}
_TOKEN = re.compile(r"\[\[(\w+)\]\]")


def transcript_of(prompt: str) -> str:
    """The chat in a user prompt: between the default prompt's ``<<<`` and ``>>>``, else all."""
    start = prompt.rfind("<<<\n")
    if start == -1:
        return prompt
    end = prompt.find("\n>>>", start)
    return prompt[start + 4 : end if end != -1 else len(prompt)]


def judge(transcript: str) -> tuple[float, list[str]]:
    """The fake's verdict: more cue words, more risk; the stages they hint at, in order."""
    words = re.findall(r"[a-z]+", transcript.lower())
    hits = [w for w in words if w in CUES]
    stages = list(dict.fromkeys(CUES[w] for w in hits))
    return round(len(hits) / (len(hits) + 4), 4), stages


class FakeLLM:
    """A chat-completions responder.

    Args:
        mode: the misbehaviour of every answer (one of :data:`MODES`); a ``[[mode]]`` token in
            an input's transcript overrides it for that input.
        models: the served model names; another one gets a 404 as from vLLM (None: any).
    """

    def __init__(self, mode: str = "strict", models: set[str] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.models = models
        self._lock = threading.Lock()
        self._n = 0

    def __call__(self, request: Recorded) -> Any:
        if request.method != "POST" or request.path != PATH:
            return 404, {"error": {"message": "not found", "type": "not_found"}}
        body = request.body
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages
        ):
            return 400, {"error": {"message": "messages must be a list", "type": "invalid"}}
        model = str(body.get("model", ""))
        if self.models is not None and model not in self.models:
            return 404, {"error": {"message": f"model {model} does not exist", "type": "nf"}}
        prompt = next((m["content"] for m in messages if m.get("role") == "user"), "")
        transcript = transcript_of(prompt)
        tokens = _TOKEN.findall(transcript)
        mode = next((t for t in tokens if t in MODES), self.mode)
        if mode == "bad_request":
            return 400, {"error": {"message": "bad request", "type": "invalid_request_error"}}
        risk, stages = judge(transcript)
        return self._answer(mode, model, risk, stages, transcript, prompt)

    def _answer(
        self, mode: str, model: str, risk: float, stages: list[str], transcript: str, prompt: str
    ) -> dict[str, Any]:
        strict = json.dumps({"risk": risk, "stages": stages})
        content: str | None = {
            "strict": strict,
            "prose": f"Here is my assessment: {strict} I hope this helps.",
            "fenced": f"```json\n{strict}\n```",
            "risk_only": f"risk: {risk}",
            # Quotes the chat, as a misbehaving model would: errors must not repeat it.
            "no_number": f"I cannot rate this. The chat said: {transcript}",
            "out_of_range": json.dumps({"risk": 7, "stages": stages}),
            "unknown_stage": json.dumps({"risk": risk, "stages": [*stages, "vibes", 3]}),
            "no_stages": json.dumps({"risk": risk}),
            "no_content": None,
            "truncated": '{"risk": 0.',
            "empty_choices": None,
        }[mode]
        with self._lock:
            self._n += 1
            n = self._n
        choices = (
            []
            if mode == "empty_choices"
            else [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "length" if mode == "truncated" else "stop",
                }
            ]
        )
        used = len(prompt.split())
        answered = len((content or "").split())
        return {
            "id": f"chatcmpl-fake-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": choices,
            "usage": {
                "prompt_tokens": used,
                "completion_tokens": answered,
                "total_tokens": used + answered,
            },
        }


def serve(responder: FakeLLM | None = None, faults: Faults | None = None) -> Loopback:
    """Start a loopback server answering with ``responder`` (a well-behaved fake by default)."""
    return Loopback(responder or FakeLLM(), faults)


_shared: Loopback | None = None
_shared_lock = threading.Lock()


def shared_server() -> Loopback:
    """The one well-behaved fake server of this test process (started on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = serve()
        return _shared


def llm_judge_overrides(tmp_path: Path) -> list[str]:
    """Hydra overrides pointing ``detector=llm_judge`` at the shared fake server."""
    del tmp_path  # the cache goes under paths.root, which the caller sets
    return [f"detector.base_url={shared_server().url}/v1", f"detector.model={MODEL}"]


FIXTURES["llm_judge"] = llm_judge_overrides
