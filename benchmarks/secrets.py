"""Keep secrets out of everything groombench writes: saved configs, MLflow, results, logs.

Secrets (API keys) reach a config through environment variables (``${oc.env:NAME}``). They are
removed twice: by key name (``api_key``, ``token``, ``...key``) and by value (any string that
contains the value of an environment variable the config reads, or of one whose name looks
secret), because a key name cannot be trusted to say what a value holds
(``endpoint: https://api.example/score?key=...``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

# Whole name parts only: `hf_token`, `api_key`, `VENDOR_API_KEY`, `basic_auth`, `password` are
# secret-looking; `max_tokens`, `tokenizer`, `author`, `sort_key`, `SSH_AUTH_SOCK` are not.
SECRET_KEY = re.compile(
    r"(^|[_.-])(api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|token|"
    r"access[_-]?token|secret|client[_-]?secret|password|passwd|credentials?|bearer|cookie|"
    r"authorization|auth|subscription[_-]?key|signature|sig)$|^key$",
    re.IGNORECASE,
)
# A query parameter with a secret-looking name (`?key=...`, `&api_key=...`, `&sig=...`).
_QUERY_SECRET = re.compile(r"([?&;])([A-Za-z0-9_.\-]+)=([^&#;\s]+)")
_ENV_REFERENCE = re.compile(r"\$\{oc\.env:([A-Za-z_][A-Za-z0-9_]*)")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MIN_SECRET = 6  # shorter values ("1", "true") would redact ordinary text
REDACTED = "***"
# Names of environment variables the running config reads (set by the CLI before evaluating),
# so that everything written later (error details too) redacts their values.
_REGISTERED: set[str] = set()


def register_env_names(names: Iterable[str]) -> None:
    """Treat the values of these environment variables as secrets from now on."""
    _REGISTERED.update(names)


def env_references(data: Any) -> set[str]:
    """Return the names of environment variables an unresolved config reads.

    Three ways to name one: an ``${oc.env:NAME}`` interpolation; a ``secrets`` mapping of
    placeholder to variable name (the black-box adapters read the value themselves, so that it
    never enters the config); a key ending in ``_env`` whose value is a variable name.

    Examples:
        >>> sorted(env_references({"a": "${oc.env:VENDOR_KEY}", "b": ["${oc.env:X,1}"]}))
        ['VENDOR_KEY', 'X']
        >>> sorted(env_references({"secrets": {"api_key": "HIVE_KEY"}, "api_key_env": "LLM_K"}))
        ['HIVE_KEY', 'LLM_K']
    """
    if isinstance(data, dict):
        found: set[str] = set()
        for key, value in data.items():
            if key == "secrets" and isinstance(value, dict):
                found |= {v for v in value.values() if isinstance(v, str) and _ENV_NAME.match(v)}
            elif str(key).endswith("_env") and isinstance(value, str) and _ENV_NAME.match(value):
                found.add(value)
            found |= env_references(value)
        return found
    if isinstance(data, list):
        return set().union(*(env_references(v) for v in data))
    return set(_ENV_REFERENCE.findall(data)) if isinstance(data, str) else set()


def secret_values(names: Iterable[str] = ()) -> set[str]:
    """Return values of the named environment variables and of any secret-looking one."""
    wanted = set(names) | _REGISTERED
    return {
        value
        for name, value in os.environ.items()
        if (name in wanted or SECRET_KEY.search(name)) and len(value) >= _MIN_SECRET
    }


def redact(text: str, values: Iterable[str]) -> str:
    """Replace every occurrence of each secret value in ``text``.

    Examples:
        >>> redact("https://x/score?key=sk-123456", {"sk-123456"})
        'https://x/score?key=***'
    """
    # Longest first, ties by value: a set's order varies with the process's hash seed.
    for value in sorted(values, key=lambda v: (-len(v), v)):
        text = text.replace(value, REDACTED)
    return mask_query(mask_inline(mask_userinfo(text)))


# Greedy to the last "@" of the token: a password may hold "@" or "/" itself.
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^\s]*@")


def mask_userinfo(text: str) -> str:
    """Mask the password of every ``scheme://user:password@host`` in ``text``.

    Examples:
        >>> mask_userinfo("API request to http://alice:s3cret@h:5000/api failed")
        'API request to http://alice:***@h:5000/api failed'
        >>> mask_userinfo("http://alice:p@ss@h/x"), mask_userinfo("http://alice:pa/ss@h")
        ('http://alice:***@h/x', 'http://alice:***@h')
    """
    return _USERINFO.sub(rf"\1:{REDACTED}@", text) if "@" in text else text


# `key: value` inside an inline mapping typed on the command line ({Authorization: Bearer x}).
_INLINE_PAIR = re.compile(r"([{,]\s*)([A-Za-z0-9_.\-]+)(\s*:\s*)('[^']*'|\"[^\"]*\"|[^,}\]]+)")


def mask_inline(text: str) -> str:
    """Mask the values of secret-named keys in an inline mapping (``{k: v, ...}``).

    Examples:
        >>> mask_inline("+detector.headers={Authorization: Bearer sk-1, Accept: json}")
        '+detector.headers={Authorization: ***, Accept: json}'
    """
    if "{" not in text:
        return text

    def hide(match: re.Match[str]) -> str:
        lead, name, colon, _ = match.groups()
        if not SECRET_KEY.search(name):
            return match.group(0)
        _warn_literal(name)
        return f"{lead}{name}{colon}{REDACTED}"

    return _INLINE_PAIR.sub(hide, text)


def mask_query(text: str) -> str:
    """Mask the values of secret-named query parameters in a URL-like string.

    Examples:
        >>> mask_query("https://api.example/score?lang=en&key=sk-live-1&sig=abc")
        'https://api.example/score?lang=en&key=***&sig=***'
    """

    def hide(match: re.Match[str]) -> str:
        sep, name, value = match.groups()
        if value == REDACTED or not SECRET_KEY.search(name):
            return match.group(0)
        _warn_literal(name)
        return f"{sep}{name}={REDACTED}"

    return _QUERY_SECRET.sub(hide, text) if "=" in text else text


_WARNED: set[str] = set()
_VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")


def looks_like_variable(name: str) -> bool:
    """True when ``name`` looks like an environment variable's name, not like a key.

    Examples:
        >>> looks_like_variable("OPENAI_API_KEY"), looks_like_variable("sk-live-0123abcd")
        (True, False)
    """
    return bool(_VARIABLE.match(name))


def _key_in_name_field(key: str, value: Any) -> bool:
    """A ``..._env`` setting should hold a variable's name; a key typed there is masked."""
    if not key.endswith("_env") or not isinstance(value, str) or looks_like_variable(value):
        return False
    if value and value != REDACTED:
        _warn_literal(key)
    return bool(value)


def _warn_literal(name: str) -> None:
    """Say once that a key typed into the config belongs in an environment variable."""
    if name in _WARNED:
        return
    _WARNED.add(name)
    import logging

    logging.getLogger(__name__).warning(
        "a secret-looking value ('%s') was typed into the config; it is masked wherever the "
        "config is written, but keys belong in environment variables (${oc.env:NAME}, or the "
        "adapters' secrets / api_key_env settings)",
        name,
    )


def scrub(data: Any, values: Iterable[str]) -> Any:
    """Return ``data`` with secret-named keys' values and secret values replaced by ``***``.

    Secret-named query parameters of URLs (``?key=...``) are masked too, and secret-named
    headers (``Ocp-Apim-Subscription-Key``, ``X-API-Key``, ``Authorization``) by their names.

    Examples:
        >>> scrub({"api_key": "x", "max_tokens": 5, "url": "u?k=abcdef1"}, {"abcdef1"})
        {'api_key': '***', 'max_tokens': 5, 'url': 'u?k=***'}
        >>> typed = {"url": "https://v/s?key=typed", "headers": {"Ocp-Apim-Subscription-Key": "k"}}
        >>> scrub(typed, ())
        {'url': 'https://v/s?key=***', 'headers': {'Ocp-Apim-Subscription-Key': '***'}}
    """
    found = set(values)
    if isinstance(data, dict):
        return {
            k: REDACTED
            if SECRET_KEY.search(str(k)) or _key_in_name_field(str(k), v)
            else scrub(v, found)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [scrub(v, found) for v in data]
    if isinstance(data, str):
        return redact(data, found)
    return data
