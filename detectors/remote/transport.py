"""One HTTP request, its failures sorted into those worth retrying and those that are not.

Shared by the HTTP adapters (``http`` and its presets, ``llm_judge``). A timeout, a connection
error, a 429 (with its ``Retry-After``), a 5xx, or a body that is not JSON (a truncated answer)
raises :class:`detectors.remote.calls.TransientError`; any other 4xx raises
:class:`detectors.remote.calls.PermanentError`. Error messages carry the method, the status and the
URL's path only: never the query (which may hold a key) nor the answer (which may quote chat
text).
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from detectors.remote.calls import PermanentError, TransientError

_local = threading.local()


def _session() -> Any:
    # One connection pool per thread: requests' Session is not documented as thread-safe.
    import requests

    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header: seconds, or an HTTP date.

    Examples:
        >>> retry_after_seconds("3")
        3.0
        >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
        10.0
        >>> retry_after_seconds("soon") is None
        True
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def where(url: str) -> str:
    """The part of a URL safe to show: scheme, host and path, without query or credentials.

    Examples:
        >>> where("https://user:pw@api.example.com/v1/score?key=abc")
        'https://api.example.com/v1/score'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Any:
    """Send one request and return the decoded JSON answer.

    Raises:
        TransientError: timeout, connection error, 429, 5xx, or an answer that is not JSON.
        PermanentError: any other status of 400 or more.
    """
    import requests

    shown = f"{method.upper()} {where(url)}"
    try:
        response = _session().request(
            method.upper(),
            url,
            headers=dict(headers or {}),
            json=json_body if form is None else None,
            data=dict(form) if form is not None else None,
            timeout=timeout,
        )
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ):
        raise PermanentError(
            f"{shown}: not a valid http(s) URL; check the detector's url"
        ) from None
    except requests.Timeout:
        raise TransientError(f"{shown}: no answer within {timeout:g} s") from None
    except requests.ConnectionError as error:
        # The exception text names the full URL: keep only its class.
        raise TransientError(f"{shown}: connection failed ({type(error).__name__})") from None
    except requests.RequestException as error:  # e.g. a connection reset mid-answer
        raise TransientError(f"{shown}: {type(error).__name__}") from None
    status = response.status_code
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise TransientError(f"{shown}: HTTP 429 (rate limited)", retry_after=wait, status=429)
    if status >= 500:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise TransientError(f"{shown}: HTTP {status}", retry_after=wait, status=status)
    if status >= 400:
        raise PermanentError(f"{shown}: HTTP {status} {response.reason or ''}".rstrip(), status)
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"{shown}: the answer is not JSON") from None
