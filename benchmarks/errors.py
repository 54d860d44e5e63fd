"""Errors that mean "change your command or your data", shown to users without a traceback."""

from __future__ import annotations

from typing import Any

#: The longest error line shown to a user: a 10 MB value must not make a 10 MB message.
MAX_MESSAGE = 2000


class ConfigError(ValueError):
    """The configuration or the input data cannot work; the message says what to change."""


def shown(value: Any, limit: int = 40) -> str:
    """A value's repr for an error message, cut to ``limit`` characters.

    Error messages name a field and say what is wrong with it; they quote a value only as
    a short hint (chat text is never passed here: callers name its type instead).

    Examples:
        >>> shown(5)
        '5'
        >>> shown("x" * 100, limit=12)
        "'xxxxxxxxx… (102 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 2]}… ({len(text)} characters)"


def bounded(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` cut to ``limit`` characters, saying how much was left out.

    Examples:
        >>> bounded("abc")
        'abc'
        >>> bounded("a" * 50, limit=10)
        'aaaaaaaaaa… (40 more characters)'
    """
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… ({len(message) - limit} more characters)"


def type_name(value: Any) -> str:
    """How an error names a value it must not quote (it may be chat text).

    Examples:
        >>> type_name(5), type_name("hi"), type_name(None), type_name({"a": 1})
        ('a number', 'text', 'null', 'an object')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    return type(value).__name__
