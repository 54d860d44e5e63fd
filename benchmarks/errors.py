"""Errors that mean "change your command or your data", shown to users without a traceback."""

from __future__ import annotations


class ConfigError(ValueError):
    """The configuration or the input data cannot work; the message says what to change."""
