"""Secrets: matched by whole name parts, redacted by value, also in local error details."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import secrets
from benchmarks.traces import TraceRow, Traces


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "API_KEY",
        "VENDOR_API_KEY",
        "hf_token",
        "password",
        "client_secret",
        "basic_auth",
        "key",
        "private_key",
        "Authorization",
    ],
)
def test_secret_looking_names(name: str) -> None:
    assert secrets.SECRET_KEY.search(name)


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens",
        "tokenizer",
        "token_pattern",
        "author",
        "author_ids",
        "sort_key",
        "cache_key",
        "keep_private",
        "GIT_AUTHOR_NAME",
        "SSH_AUTH_SOCK",
        "XAUTHORITY",
        "TOKENIZERS_PARALLELISM",
        "model_path",
    ],
)
def test_ordinary_names_are_kept(name: str) -> None:
    assert not secrets.SECRET_KEY.search(name)


def test_values_read_by_the_config_are_redacted_in_error_details(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("URL_PART", "abcdef123456")
    monkeypatch.setattr(secrets, "_REGISTERED", set())
    row = TraceRow("c1", 1, 2, None, None, [], [], [], "RuntimeError", 0.0)
    traces = Traces.from_rows([row], [("c1", "RuntimeError: 500 from https://x/?k=abcdef123456")])
    secrets.register_env_names(secrets.env_references({"endpoint": "${oc.env:URL_PART}"}))
    path = traces.save_error_details(tmp_path / "errors.jsonl")
    assert path is not None
    text = path.read_text()
    assert "abcdef123456" not in text and "k=***" in text
