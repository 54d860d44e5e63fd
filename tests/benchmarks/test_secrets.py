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


def test_a_key_typed_into_a_url_or_a_header_is_masked_wherever_the_config_is_written(
    tmp_path: Path,
) -> None:
    from hydra import compose, initialize_config_module

    from benchmarks.jobplan import build_plan

    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"paths.root={tmp_path / 'runs'}",
                "detector=http",
                "detector.url='https://vendor.invalid/score?lang=en&key=TYPEDKEY123'",
                "+detector.headers.Ocp-Apim-Subscription-Key=TYPEDHEADER456",
            ],
        )
    plan = build_plan(cfg, argv=["groombench", "detector.url=https://v/s?key=TYPEDKEY123"])
    written = plan.config_text + str(plan.public_config()) + plan.command
    assert "TYPEDKEY123" not in written and "TYPEDHEADER456" not in written
    assert "lang=en" in plan.config_text  # only the secret-named parameter is masked
    # The detector itself still gets the real values.
    assert "TYPEDKEY123" in plan.detector.get("url")


def test_a_key_typed_as_api_key_env_is_never_echoed_or_written(tmp_path: Path) -> None:
    from hydra import compose, initialize_config_module

    from benchmarks.jobplan import build_plan
    from tests.helpers import cli

    typed = "sk-live-TYPED789xyz"
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"paths.root={tmp_path / 'runs'}",
                "detector=llm_judge",
                f"detector.api_key_env={typed}",
            ],
        )
    plan = build_plan(cfg, argv=["groombench", f"detector.api_key_env={typed}"])
    assert typed not in plan.config_text + str(plan.public_config()) + plan.command
    out = cli(
        tmp_path,
        "detector=llm_judge",
        f"detector.api_key_env={typed}",
        "corpus.n_conversations=20",
        "tracking=none",
    )
    assert out.returncode == 2
    error = [line for line in out.stderr.splitlines() if line.startswith("groombench: error:")]
    assert len(error) == 1 and "must name an environment variable" in error[0]
    assert typed not in error[0]
    written = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert not [p for p in written if typed.encode() in p.read_bytes()]


def test_inline_mappings_userinfo_and_capital_keys_are_never_shown() -> None:
    from benchmarks.jobplan import public_command

    command = public_command(
        [
            "groombench",
            "+detector.headers={Authorization: Bearer sk-live-abc123, Accept: json}",
            "tracking.uri=http://alice:p@ss/w0rd@mlflow.internal:5000",
            "detector.api_key_env=sk-live-TYPED",
        ]
    )
    assert "sk-live-abc123" not in command and "Accept: json" in command
    assert "p@ss/w0rd" not in command and "alice:***@mlflow.internal" in command
    assert "sk-live-TYPED" not in command


def test_an_unset_api_key_env_is_not_echoed_even_in_capitals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from detectors.remote.llm_judge import LLMJudgeDetector

    monkeypatch.delenv("AKIAIOSFODNN7EXAMPLE", raising=False)
    with pytest.raises(ValueError) as caught:
        LLMJudgeDetector(
            base_url="http://127.0.0.1:9", model="m", api_key_env="AKIAIOSFODNN7EXAMPLE"
        )
    assert "AKIAIOSFODNN7EXAMPLE" not in str(caught.value)
