"""The generic HTTP adapter: any scoring service that takes JSON (or a form) and answers JSON.

A config describes the request and where the score is in the answer; no code is needed for a new
service. :class:`HttpDetector` fills the request's templates (the ``url``, the ``headers``, the
``body``) with the rendered input and the secrets read from the environment, sends it with
:func:`detectors.remote.transport.send` and reads the score with a JMESPath expression
(``score_path``).
Everything else (causal inputs, the prediction cache, batching, concurrency, the rate limit,
retries, usage) comes from :class:`detectors.remote.base.RemoteDetector`.

Templates know three kinds of placeholder, replaced in one pass (so that a chat message that
happens to contain ``{api_key}`` is sent as written, never with the key in it):

- ``{text}``: the rendered input, in a string of the body (only with ``batch_size: 1``);
- ``{texts}``: a body string that is exactly ``"{texts}"`` becomes the JSON list of the inputs of
  one request (for services that score several inputs per request);
- ``{<secret>}``: the value of the environment variable that ``secrets.<secret>`` names, anywhere
  (url, headers, body). Secret values are never kept in the detector's identity, its repr or an
  error message.

Any other ``{name}`` is refused when the detector is built, so that a typo fails before the first
(paid) request. Braces that do not enclose a plain name (JSON text, ``{}``) are left alone.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jmespath

from detectors.remote.base import RemoteDetector
from detectors.remote.calls import PermanentError, RetryPolicy, TransientError
from detectors.remote.transport import send, where

TEXT = "text"
TEXTS = "texts"
BODY_FORMATS = ("json", "form")
METHODS = ("GET", "POST", "PUT", "PATCH")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Only a conventional (upper-case) name is echoed in an error: a value that is not one may be the
# key itself, pasted where its variable's name belongs.
_SHOWN_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_REDACTED = "***"


class AnswerError(PermanentError):
    """The service answered, but ``score_path`` does not find usable scores in the answer.

    Not retried: the same request would get an answer of the same shape. The message names the
    expression and what it found (a type, a count or a number), never the answer's text, which
    may quote chat text.
    """


def placeholders(template: str) -> list[str]:
    """Return the placeholder names in ``template``, in order.

    Examples:
        >>> placeholders('Bearer {api_key}')
        ['api_key']
        >>> placeholders('{"json": {}} stays, {text} and {texts} are found')
        ['text', 'texts']
    """
    return _PLACEHOLDER.findall(template)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{name}`` of ``template`` whose name is in ``values``, in a single pass.

    Filled values are not scanned again, so a value that contains a placeholder stays as it is.
    Placeholders without a value, and braces around anything but a name, are left alone.

    Examples:
        >>> fill("Bearer {api_key}", {"api_key": "k-123"})
        'Bearer k-123'
        >>> fill("Say: {text}", {"text": "my {api_key} is", "api_key": "k-123"})
        'Say: my {api_key} is'
        >>> fill('{"raw": "json"} {unknown}', {"text": "x"})
        '{"raw": "json"} {unknown}'
    """
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def fill_body(body: Any, values: Mapping[str, str], texts: Sequence[str]) -> Any:
    """Return a copy of a body template with its strings filled.

    A string exactly equal to ``"{texts}"`` becomes the list ``texts``; other strings are filled
    with :func:`fill`; keys, numbers, booleans and nulls are sent as written.

    Examples:
        >>> fill_body({"input": "{texts}", "model": "m", "n": 1}, {}, ["a", "b"])
        {'input': ['a', 'b'], 'model': 'm', 'n': 1}
        >>> fill_body({"comment": {"text": "{text}"}, "langs": ["en"]}, {"text": "hi"}, ["hi"])
        {'comment': {'text': 'hi'}, 'langs': ['en']}
    """
    if isinstance(body, dict):
        return {key: fill_body(value, values, texts) for key, value in body.items()}
    if isinstance(body, list):
        return [fill_body(value, values, texts) for value in body]
    if isinstance(body, str):
        return list(texts) if body == "{" + TEXTS + "}" else fill(body, values)
    return body


def _plain(value: Any, key: str) -> Any:
    """Return a config value (OmegaConf containers included) as plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)) in (TEXT, TEXTS) and _none(value):
            # YAML reads an unquoted {texts} as a mapping {texts: null}: say how to write it.
            name = next(iter(value))
            raise ValueError(f'{key}: write "{{{name}}}" in quotes (YAML reads it as a map)')
        return {str(k): _plain(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v, f"{key}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"{key}: {type(value).__name__} is not a JSON value")


def _none(mapping: Mapping[Any, Any]) -> bool:
    return all(v is None for v in mapping.values())


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """Yield ``(config key, string)`` for every string leaf of a plain body."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{key}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{key}[{i}]")
    elif isinstance(value, str):
        yield key, value


def _kind(value: Any) -> str:
    """Describe what ``score_path`` found without quoting it (an answer may quote chat text)."""
    if value is None:
        return "nothing (the path is not in the answer)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class HttpDetector(RemoteDetector):
    """Scores inputs with any HTTP service that answers JSON, described entirely by its config.

    Args:
        name: the detector's name (its config file's name).
        version: bump when the service changes in a way that changes scores (the cache keys on it).
        description: one line for results.
        url: the endpoint; may hold secret placeholders (``?key={api_key}``), filled URL-encoded.
        reference: the service's documentation.
        method: ``POST`` (default), ``PUT``, ``PATCH`` or ``GET``.
        headers: header name -> template (``Authorization: "Bearer {api_key}"``).
        body: the request body: a nested structure whose strings are templates. It must send the
            input: ``{text}`` somewhere (``batch_size: 1``) or a value ``"{texts}"``.
        body_format: ``json`` (default), or ``form`` (a flat mapping of string templates, sent
            URL-encoded).
        score_path: a JMESPath expression that finds the score in the answer: one number per
            request, or with ``"{texts}"`` a list of numbers, one per input, in order.
        score_scale: the scores found are divided by this (e.g. 3 for a 0-3 severity level,
            100 for a percentage), so that they land in [0, 1].
        blank_score: when set, inputs that are empty or whitespace get this score without a
            request (a service that refuses an empty text with a 400 would make the whole
            conversation an error); None sends them like any other input.
        secrets: placeholder -> name of the environment variable that holds its value, read once
            here. The values are never stored in the identity, the repr or an error message.
        unit, window, line_format, batch_size, concurrency, requests_per_second, retries,
        price_per_call, cache: see :class:`detectors.remote.base.RemoteDetector`.
        timeout: seconds to wait for one answer before the request counts as failed (retried).

    Raises:
        ValueError: the config cannot work (an unknown placeholder, ``{text}`` with
            ``batch_size`` above 1, a body that never sends the input, an invalid
            ``score_path``, an unset environment variable...); the message says what to change.
    """

    def __init__(
        self,
        *,
        name: str,
        version: str,
        description: str,
        url: str,
        reference: str = "",
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        body_format: str = "json",
        score_path: str = "score",
        score_scale: float = 1.0,
        blank_score: float | None = None,
        secrets: Mapping[str, str] | None = None,
        unit: str = "message",
        window: int = 10,
        line_format: str = "{author}: {text}",
        batch_size: int = 1,
        concurrency: int = 4,
        requests_per_second: float | None = None,
        timeout: float = 30.0,
        retries: Mapping[str, Any] | RetryPolicy | None = None,
        price_per_call: float = 0.0,
        cache: str | Path | None = None,
    ) -> None:
        method = str(method).upper()
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        if body_format not in BODY_FORMATS:
            raise ValueError(f"body_format must be json or form; got {body_format!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if not (math.isfinite(score_scale) and score_scale > 0):
            raise ValueError(f"score_scale must be a number > 0, got {score_scale}")
        if blank_score is not None and not 0.0 <= blank_score <= 1.0:
            raise ValueError(f"blank_score must be in [0, 1] or null, got {blank_score}")
        plain_headers = _plain(headers, "headers") or {}
        if not isinstance(plain_headers, dict):
            raise ValueError("headers must be a mapping of header name -> template")
        for key, value in plain_headers.items():
            if not isinstance(value, str):
                # YAML reads an unquoted `{api_key}` as a map, not a string.
                raise ValueError(f"headers.{key} must be a string (quote templates in YAML)")
        plain_body = _plain(body, "body")
        names = _plain(secrets, "secrets") or {}
        if not isinstance(names, dict):
            raise ValueError("secrets must be a mapping of placeholder -> environment variable")
        self._check_secret_names(names)
        self._batched = self._check_templates(
            url, plain_headers, plain_body, body_format, batch_size, set(names)
        )
        try:
            self._expression = jmespath.compile(score_path)
        except jmespath.exceptions.JMESPathError as error:
            raise ValueError(
                f"score_path {score_path!r} is not a JMESPath expression: {error}"
            ) from None
        super().__init__(
            name=name,
            version=version,
            description=description,
            reference=reference,
            unit=unit,
            window=window,
            line_format=line_format,
            batch_size=batch_size,
            concurrency=concurrency,
            requests_per_second=requests_per_second,
            retries=retries,
            price_per_call=price_per_call,
            cache=cache,
            # Everything that can change a score, as templates: `{api_key}`, never its value.
            # Secrets' variable names stay out too: another key gets the same scores.
            settings={
                "url": url,
                "method": method,
                "headers": plain_headers,
                "body": plain_body,
                "body_format": body_format,
                "score_path": score_path,
                "score_scale": float(score_scale),
            },
        )
        self.url = url
        self.method = method
        self.headers = plain_headers
        self.body = plain_body
        self.body_format = body_format
        self.score_path = score_path
        self.score_scale = float(score_scale)
        self.blank_score = blank_score
        self.timeout = float(timeout)
        self.secret_names = {str(k): str(v) for k, v in names.items()}
        # Last, so that a config mistake is reported before a missing key is.
        self._secrets = self._read_secrets(name)
        self._url = fill(url, {k: quote(v, safe="") for k, v in self._secrets.items()})
        self._headers = {k: fill(v, self._secrets) for k, v in plain_headers.items()}
        self._shown = f"{method} {where(url)}"  # the template's path: never a secret's value

    @staticmethod
    def _check_secret_names(names: Mapping[str, Any]) -> None:
        for placeholder, variable in names.items():
            if not _ENV_NAME.match(str(placeholder)) or placeholder in (TEXT, TEXTS):
                raise ValueError(
                    f"secrets: {placeholder!r} cannot be a placeholder name (use letters, digits "
                    f"and _, and neither {TEXT!r} nor {TEXTS!r})"
                )
            if not isinstance(variable, str) or not _ENV_NAME.match(variable):
                # Never echo the value: it may be the key itself, pasted in the wrong place.
                raise ValueError(
                    f"secrets.{placeholder} must be the NAME of an environment variable (letters, "
                    "digits and _) that holds the value, never the value itself"
                )

    def _check_templates(
        self,
        url: str,
        headers: Mapping[str, str],
        body: Any,
        body_format: str,
        batch_size: int,
        secrets: set[str],
    ) -> bool:
        """Refuse templates that cannot work; return True when the body sends ``{texts}``."""
        known = {TEXT, TEXTS} | secrets
        shown = ", ".join("{" + n + "}" for n in sorted(known))
        used: set[str] = set()
        body_strings = list(_strings(body, "body"))
        everywhere = [("url", url), *((f"headers.{k}", v) for k, v in headers.items())]
        for key, template in [*everywhere, *body_strings]:
            for name in placeholders(template):
                if name not in known:
                    raise ValueError(
                        f"{key}: unknown placeholder {{{name}}}; the known ones are {shown} "
                        "(declare a secret under `secrets:`)"
                    )
                used.add(name)
        for key, template in everywhere:
            if {TEXT, TEXTS} & set(placeholders(template)):
                raise ValueError(f"{key}: {{text}} and {{texts}} belong in the body")
        texts = [key for key, s in body_strings if s == "{" + TEXTS + "}"]
        for key, template in body_strings:
            if TEXTS in placeholders(template) and template != "{" + TEXTS + "}":
                raise ValueError(
                    f'{key}: "{{texts}}" must be a whole value (it becomes the JSON list of '
                    "inputs), not part of a string"
                )
        has_text = any(TEXT in placeholders(s) for _, s in body_strings)
        if batch_size > 1 and has_text:
            raise ValueError(
                f"body: {{text}} holds one input, but batch_size is {batch_size}; send the "
                'inputs as a list with a value "{texts}", or set batch_size: 1'
            )
        if not texts and not has_text:
            raise ValueError(
                'body never sends the input: put {text} in one of its strings, or a value "{texts}"'
            )
        if body_format == "form":
            if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
                raise ValueError("body_format form: body must be a flat mapping of strings")
            if texts:
                raise ValueError('body_format form cannot send a list: use {text}, not "{texts}"')
        unused = secrets - used
        if unused:
            raise ValueError(
                f"secrets {', '.join(sorted(unused))} are not used in the url, headers or body"
            )
        return bool(texts)

    def _read_secrets(self, name: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for placeholder, variable in self.secret_names.items():
            value = os.environ.get(variable, "")
            if not value:
                said = variable if _SHOWN_ENV_NAME.match(variable) else "the variable it names"
                raise ValueError(
                    f"detector '{name}' needs the environment variable {said} (named by "
                    f"secrets.{placeholder} in its config): set it to the service's key, e.g. "
                    f"`export {said}=...`, or point secrets.{placeholder} at another variable"
                )
            values[placeholder] = value
        return values

    def __repr__(self) -> str:
        # Templates and variable names only: the values never appear.
        return (
            f"{type(self).__name__}(name={self.metadata.name!r}, method={self.method!r}, "
            f"url={self.url!r}, secrets={self.secret_names!r}, batch_size={self.batch_size})"
        )

    def _redact(self, text: str) -> str:
        for value in sorted(self._secrets.values(), key=len, reverse=True):
            text = text.replace(value, _REDACTED).replace(quote(value, safe=""), _REDACTED)
        return text

    def _fetch(
        self, missing: list[str], payload_of: Mapping[str, str], scores: dict[str, float]
    ) -> dict[str, Exception]:
        if self.blank_score is not None:
            # Blank inputs are settled here: no request, no cost, no cache entry.
            blank = {k for k in missing if not payload_of[k].strip()}
            scores.update(dict.fromkeys(blank, self.blank_score))
            missing = [k for k in missing if k not in blank]
        return super()._fetch(missing, payload_of, scores)

    def request(self, payloads: Sequence[str]) -> list[float]:
        texts = list(payloads)
        values = dict(self._secrets)
        if not self._batched:
            if len(texts) != 1:
                raise ValueError(f"{self._shown}: {{text}} takes one input, got {len(texts)}")
            values[TEXT] = texts[0]
        body = fill_body(self.body, values, texts)
        try:
            answer = send(
                self.method,
                self._url,
                headers=self._headers,
                json_body=body if self.body_format == "json" else None,
                form=body if self.body_format == "form" else None,
                timeout=self.timeout,
            )
        except Exception as error:
            # send() keeps queries out of its messages; a secret in the URL's path or an
            # unexpected exception's text is masked here, as a last guard.
            message = str(error)
            safe = self._redact(message)
            if safe == message:
                raise
            if isinstance(error, TransientError):
                raise TransientError(safe, error.retry_after, error.status) from None
            if isinstance(error, PermanentError):
                raise PermanentError(safe, error.status) from None
            raise PermanentError(f"{type(error).__name__}: {safe}") from None
        return self._scores(answer, len(texts))

    def _scores(self, answer: Any, n: int) -> list[float]:
        """Find the scores in ``answer`` with ``score_path``; check their type, count and range."""
        said = f"{self._shown}: score_path {self.score_path!r}"
        try:
            found = self._expression.search(answer)
        except jmespath.exceptions.JMESPathError as error:
            # The error's text can quote the answer: its class only.
            raise AnswerError(
                f"{said} failed on the answer ({type(error).__name__}); check it against the "
                "service's answer format"
            ) from None
        if self._batched:
            if not isinstance(found, list):
                raise AnswerError(f"{said} gave {_kind(found)}, not a list of {n} scores")
            if len(found) != n:
                raise AnswerError(f"{said} gave {len(found)} scores for {n} inputs")
            values = found
        else:
            # One input: a one-element list (a batch-shaped answer) is as good as a number.
            values = found if isinstance(found, list) and len(found) == 1 else [found]
        return [self._number(v, said) for v in values]

    def _number(self, value: Any, said: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AnswerError(f"{said} gave {_kind(value)}, not a number")
        score = value / self.score_scale
        if not (math.isfinite(score) and 0.0 <= score <= 1.0):
            raise AnswerError(
                f"{said} gave {value!r}, outside [0, {self.score_scale:g}] (score_scale)"
            )
        return float(score)
