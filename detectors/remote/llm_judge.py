"""An LLM as a grooming judge, through any OpenAI-compatible chat-completions server.

vLLM, Ollama, llama.cpp's server and hosted APIs all speak ``POST {base_url}/chat/completions``.
For each input the base class renders (by default a window of the last 20 messages, speaker
turns kept), the judge is sent a system prompt and a user prompt with the transcript filled in,
and asked for one JSON object: ``{"risk": <0..1>, "stages": [<stage names>]}``.

Models do not always answer in the format asked. :func:`parse_answer` reads the strict format
first, then, in order, a fenced ```` ```json ```` block, the first JSON object with a ``risk``
in prose, and a ``risk: 0.7`` number; each lenient read is counted (``usage()``:
``fallbacks`` and ``fallback_<kind>``, defined in :data:`detectors.usage.USAGE_DEFINITIONS`).
An answer with no readable risk, or a risk outside [0, 1], raises :class:`JudgeFormatError`:
the conversation is an error, never a negative, and it is not retried (at temperature 0 the
model would repeat it).

The prompts, the model and every sampling setting are in the detector's identity: a changed
prompt never reuses a cached score. The API key, read from an environment variable at each
request, goes nowhere else. See docs/llm_judge.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.base import Message, PrefixSession, Session
from detectors.remote.base import RemoteDetector, unit_messages
from detectors.remote.calls import PermanentError, RetryPolicy
from detectors.remote.transport import send, where
from detectors.stages import STAGES

logger = logging.getLogger(__name__)

PLACEHOLDER = "{transcript}"

DEFAULT_SYSTEM_PROMPT = (
    "You are a content-safety classifier for a child-safety research benchmark. You read an "
    "excerpt of an online chat and estimate the risk that one participant is grooming a child: "
    "an adult building a relationship with a minor in order to exploit them. You answer with "
    "one JSON object and nothing else."
)

DEFAULT_PROMPT = """\
Read the chat excerpt below. Each line is one message, written "author: text"; authors are \
opaque ids.

Grooming stages to look for (a conversation may show several, in any order):
- rapport: building trust and friendship
- personal_info: probing age, location or school
- risk_check: asking whether parents or others are around, or who reads the messages
- compliments: flattery, such as being mature for one's age
- exclusivity: claiming a special relationship, "you can tell me anything"
- secrecy: asking to keep the conversation or the relationship secret
- isolation: turning the other person away from family or friends
- gifts: offering gifts, money or game currency
- platform_move: moving to another app or a private channel
- image_request: asking for photos
- approach: proposing to meet in person
- sexual: sexual or sexualised remarks

Ordinary chat between friends, relatives, coaches or adults can share some of these cues: \
judge the excerpt as a whole.

Answer ONLY with a JSON object of this form, with no other text:
{"risk": <a number from 0 to 1>, "stages": [<zero or more stage names from the list above>]}
Do not repeat or quote the chat text.

Chat excerpt:
<<<
{transcript}
>>>"""

_FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\r?\n?(.*?)```", re.DOTALL | re.IGNORECASE)
# The brief's `risk\W{0,3}(0(?:\.\d+)?|1(?:\.0+)?)`, widened to any number and checked after:
# "risk: 1.5" or "risk: 70%" is an out-of-range answer, not a 1 or a 0.7. The separator may
# not hold a minus sign, so that "risk: -0.3" is read as -0.3 (and refused), not as 0.3.
_RISK_NUMBER = re.compile(r"\brisk[^\w-]{0,3}(-?(?:\d+(?:\.\d*)?|\.\d+))", re.IGNORECASE)
_STAGES_KEPT = 4096  # explain() memory: the stages of the most recent answers only


class JudgeFormatError(PermanentError):
    """The judge's answer holds no readable risk in [0, 1]; retrying would repeat it."""


@dataclass(frozen=True)
class Judgement:
    """One answer of the judge, read.

    Attributes:
        risk: the risk score in [0, 1].
        stages: the known stage names the judge named, in its order, without repeats.
        how: how it was read: ``strict``, ``fenced``, ``embedded_json``, ``risk_number`` or
            ``no_stages`` (every kind but ``strict`` is a fallback).
        unknown: stage names dropped because they are not project stages.
    """

    risk: float
    stages: tuple[str, ...] = ()
    how: str = "strict"
    unknown: int = 0


def parse_answer(
    content: str, known: Collection[str] = STAGES, *, risk_number: bool = True
) -> Judgement:
    """Read the judge's answer: the strict JSON format first, then the fallbacks in order.

    Args:
        content: the assistant message's text.
        known: the stage names to keep.
        risk_number: whether the last fallback (a ``risk: <number>`` text) may be used. Off for
            an answer cut at ``max_tokens``: ``{"risk": 0.`` would read as 0.

    Returns:
        The risk, the stages, and how the answer was read.

    Raises:
        JudgeFormatError: no risk could be read, or the risk is not a number in [0, 1]. The
            message never quotes the answer (a model may repeat the chat text).

    Examples:
        >>> parse_answer('{"risk": 0.8, "stages": ["secrecy", "gifts"]}')
        Judgement(risk=0.8, stages=('secrecy', 'gifts'), how='strict', unknown=0)
        >>> parse_answer('```json\\n{"risk": 0.2, "stages": []}\\n```').how
        'fenced'
        >>> parse_answer('My answer: {"risk": 1, "stages": ["approach"]}. Hope it helps.')
        Judgement(risk=1.0, stages=('approach',), how='embedded_json', unknown=0)
        >>> parse_answer("risk: 0.7")
        Judgement(risk=0.7, stages=(), how='risk_number', unknown=0)
        >>> parse_answer('{"risk": 0.', risk_number=False)
        Traceback (most recent call last):
        ...
        detectors.remote.llm_judge.JudgeFormatError: no risk in the judge's answer (11 characters)
        >>> parse_answer('{"risk": 0.1, "stages": ["secrecy", "vibes"]}').unknown
        1
        >>> parse_answer('{"risk": 0.3}').how
        'no_stages'
        >>> parse_answer("I cannot tell.")
        Traceback (most recent call last):
        ...
        detectors.remote.llm_judge.JudgeFormatError: no risk in the judge's answer (14 characters)
        >>> parse_answer('{"risk": 7, "stages": []}')
        Traceback (most recent call last):
        ...
        detectors.remote.llm_judge.JudgeFormatError: the judge's risk 7 is not a number in [0, 1]
    """
    text = content.strip()
    try:
        whole: Any = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and "risk" in whole:
        stages = whole.get("stages")
        how = "strict" if isinstance(stages, list) else "no_stages"
        return _judgement(whole, how, known)
    for block in _FENCE.findall(text):
        try:
            fenced: Any = json.loads(block.strip())
        except ValueError:
            continue
        if isinstance(fenced, dict) and "risk" in fenced:
            return _judgement(fenced, "fenced", known)
    for found in _objects(text):
        if "risk" in found:
            return _judgement(found, "embedded_json", known)
    match = _RISK_NUMBER.search(text) if risk_number else None
    if match is None:
        raise JudgeFormatError(f"no risk in the judge's answer ({len(content)} characters)")
    number = match.group(1)
    return Judgement(_risk(float(number), number), (), "risk_number", 0)


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """Yield every JSON object that starts at a ``{`` of ``text``, outer ones first."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            yield value
        start = text.find("{", start + 1)


def _judgement(answer: Mapping[str, Any], how: str, known: Collection[str]) -> Judgement:
    """Read a located JSON object: its risk decides (no later fallback second-guesses it)."""
    value = answer["risk"]
    # bool is an int in Python; true/false is not a risk.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JudgeFormatError(f"the judge's risk is a {type(value).__name__}, not a number")
    raw = answer.get("stages")
    names = raw if isinstance(raw, list) else []
    stages: list[str] = []
    unknown = 0
    for name in names:
        label = name.strip().lower() if isinstance(name, str) else ""
        if label not in known:
            unknown += 1
        elif label not in stages:
            stages.append(label)
    return Judgement(_risk(value, str(value)), tuple(stages), how, unknown)


def _risk(value: float, shown: str) -> float:
    # Compared before float(): a JSON int too large for a float would raise OverflowError.
    # NaN and infinities fail the comparison too.
    if not 0 <= value <= 1:
        raise JudgeFormatError(f"the judge's risk {shown} is not a number in [0, 1]")
    return float(value)


def _content(answer: Any) -> str:
    """Return a chat-completions answer's text; raise when it has none."""
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or not choices:
        raise JudgeFormatError("the server's answer has no choices")
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str) or not content.strip():
        refused = isinstance(message, dict) and message.get("refusal")
        raise JudgeFormatError(
            "the model refused to answer" if refused else "the server's answer has no content"
        )
    return content


class LLMJudgeDetector(RemoteDetector):
    """A chat-completions LLM asked for a grooming risk and the stages it sees.

    Args:
        base_url: the server's OpenAI-compatible root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name the server serves.
        api_key_env: the name of an environment variable holding a key, sent as
            ``Authorization: Bearer ...`` (None: no key; local servers need none).
        system_prompt: the system message.
        prompt: the user message; ``{transcript}`` is replaced by the rendered input (the only
            placeholder: the rest is sent as written, JSON braces included).
        temperature: 0 for reproducible scores; anything else logs a warning.
        max_tokens: the longest answer; the JSON answer needs about 50 tokens.
        seed: sent as ``seed`` when set (not every server supports it).
        response_format: sent as ``response_format: {"type": ...}`` when set, e.g.
            ``json_object`` (not every server supports it).
        timeout: seconds to wait for one answer.
        name, version, unit, window, concurrency, requests_per_second, retries,
            price_per_call, cache: as for :class:`detectors.remote.base.RemoteDetector`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        prompt: str = DEFAULT_PROMPT,
        temperature: float = 0.0,
        max_tokens: int = 128,
        seed: int | None = None,
        response_format: str | None = None,
        timeout: float = 120.0,
        name: str = "llm_judge",
        version: str = "1",
        unit: str = "window",
        window: int = 20,
        concurrency: int = 4,
        requests_per_second: float | None = None,
        retries: Mapping[str, Any] | RetryPolicy | None = None,
        price_per_call: float = 0.0,
        cache: str | Path | None = None,
    ) -> None:
        if PLACEHOLDER not in prompt:
            raise ValueError(f"prompt must contain {PLACEHOLDER} (where the chat goes)")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        if api_key_env is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,63}", api_key_env):
            # Never echoed: what was typed here may be the key itself.
            raise ValueError(
                "api_key_env must name an environment variable (e.g. LLM_API_KEY), not hold "
                "the key: export LLM_API_KEY=<your key> and set detector.api_key_env=LLM_API_KEY"
            )
        if api_key_env is not None and not os.environ.get(api_key_env):
            # The variable's name only: its value is the secret.
            # Not echoed: a key typed in capitals looks like a variable's name.
            raise ValueError(
                "the environment variable named by detector.api_key_env is not set: export it "
                "(or check its spelling)"
            )
        if temperature != 0:
            logger.warning(
                "llm_judge: temperature %g > 0, so scores are not reproducible: two runs (and the "
                "prediction cache) may disagree",
                temperature,
            )
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.system_prompt = system_prompt
        self.prompt = prompt
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.seed = seed
        self.response_format = response_format
        self.timeout = float(timeout)
        super().__init__(
            name=name,
            version=version,
            description=f"LLM judge ({model}) over an OpenAI-compatible chat-completions API",
            reference="https://platform.openai.com/docs/api-reference/chat",
            unit=unit,
            window=window,
            batch_size=1,  # chat completions take one conversation per request
            concurrency=concurrency,
            requests_per_second=requests_per_second,
            retries=dict(retries) if isinstance(retries, Mapping) else retries,
            price_per_call=price_per_call,
            cache=cache,
            # Everything that can change an answer; never the key (its variable's name neither:
            # renaming it changes no score).
            settings={
                "base_url": self.base_url,
                "model": model,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "system_prompt": system_prompt,
                "prompt": prompt,
                "seed": seed,
                "response_format": response_format,
            },
        )
        self._stages_lock = threading.Lock()
        self._stages: dict[str, tuple[str, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model!r}, base_url={where(self.base_url)!r}, "
            f"unit={self.unit!r}, window={self.window})"
        )

    def body(self, payload: str) -> dict[str, Any]:
        """Return the request body for one rendered input."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": self.system_prompt},
                # replace, not str.format: the prompt holds JSON braces.
                {"role": "user", "content": self.prompt.replace(PLACEHOLDER, payload)},
            ],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if self.response_format is not None:
            body["response_format"] = {"type": self.response_format}
        return body

    def request(self, payloads: Sequence[str]) -> list[float]:
        return [self._judge(payload) for payload in payloads]

    def _judge(self, payload: str) -> float:
        headers = {}
        if self.api_key_env is not None:
            # Read at each request, so that the key is never stored on the detector.
            key = os.environ.get(self.api_key_env, "")
            if not key:
                raise PermanentError("the environment variable named by api_key_env is not set")
            headers["Authorization"] = f"Bearer {key}"
        answer = send(
            "POST", self.url, headers=headers, json_body=self.body(payload), timeout=self.timeout
        )
        self._count_tokens(answer)
        cut = finish_reason(answer) == "length"
        try:
            judgement = parse_answer(_content(answer), risk_number=not cut)
        except JudgeFormatError as error:
            self._count("format_errors")
            if cut:
                raise JudgeFormatError(
                    f"{error}; the answer was cut at max_tokens={self.max_tokens}"
                ) from None
            raise
        if judgement.how != "strict":
            self._usage.add("fallbacks")
            self._count(f"fallback_{judgement.how}")
        if judgement.unknown:
            self._count("unknown_stages", judgement.unknown)
        self._remember(payload, judgement.stages)
        return judgement.risk

    def _count(self, name: str, n: int = 1) -> None:
        self._usage.add(name, n)

    def _count_tokens(self, answer: Any) -> None:
        spent = answer.get("usage") if isinstance(answer, dict) else None
        if not isinstance(spent, dict):
            return
        for name in ("prompt_tokens", "completion_tokens"):
            value = spent.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                self._count(name, value)

    def _remember(self, payload: str, stages: tuple[str, ...]) -> None:
        key = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
        with self._stages_lock:
            self._stages.pop(key, None)
            self._stages[key] = stages
            if len(self._stages) > _STAGES_KEPT:
                del self._stages[next(iter(self._stages))]  # the oldest: dicts keep order

    def stages(self, messages: Sequence[Message]) -> tuple[str, ...] | None:
        """Return the stages the judge named for this prefix's input, when this process asked.

        None when the score came from the prediction cache (it keeps scores only) or is old.
        """
        if not messages:
            return None
        payload = self.render(unit_messages(messages, len(messages), self.unit, self.window))
        key = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
        with self._stages_lock:
            return self._stages.get(key)

    def session(self) -> Session:
        return _JudgeSession(self)


def finish_reason(answer: Any) -> str | None:
    """Return the first choice's ``finish_reason`` when the answer has one.

    Examples:
        >>> finish_reason({"choices": [{"finish_reason": "length"}]})
        'length'
        >>> finish_reason({"choices": []}) is None
        True
    """
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        finish = choices[0].get("finish_reason")
        return finish if isinstance(finish, str) else None
    return None


class _JudgeSession(PrefixSession):
    """The prefix session, plus :meth:`explain`: the stages the judge named for the prefix."""

    def __init__(self, detector: LLMJudgeDetector) -> None:
        super().__init__(detector)
        self._judge = detector

    def explain(self) -> Mapping[str, object]:
        stages = self._judge.stages(self._messages)
        return {} if stages is None else {"stages": list(stages)}
