"""The LLM judge against a real loopback chat-completions server (tests.fake_llm), no mocks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.jobplan import Component
from benchmarks.schema import STAGES as SCHEMA_STAGES
from detectors import Message
from detectors.remote.base import InputFailed
from detectors.remote.llm_judge import (
    DEFAULT_PROMPT,
    DEFAULT_SYSTEM_PROMPT,
    STAGES,
    LLMJudgeDetector,
    parse_answer,
)
from detectors.speakers import pseudonymous
from tests.fake_llm import MODEL, PATH, FakeLLM, judge, serve, transcript_of
from tests.loopback import Faults, Loopback

FAST = {"attempts": 4, "backoff": 0.001, "jitter": False}


@pytest.fixture
def server() -> Iterator[Loopback]:
    with serve() as running:
        yield running


def judge_at(server: Loopback, **settings: Any) -> LLMJudgeDetector:
    options: dict[str, Any] = {"model": MODEL, "retries": FAST, "concurrency": 1}
    options.update(settings)
    return LLMJudgeDetector(base_url=f"{server.url}/v1", **options)


def conv(*texts: str, authors: str = "ab") -> list[Message]:
    return [Message(authors[i % len(authors)], t, None, i + 1) for i, t in enumerate(texts)]


def user_prompts(server: Loopback) -> list[str]:
    return [r.body["messages"][1]["content"] for r in server.requests]


def test_stage_names_are_the_schemas() -> None:
    assert STAGES == SCHEMA_STAGES


def test_config_holds_the_default_prompts_and_builds_without_a_server(tmp_path: Path) -> None:
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose("groombench", overrides=["detector=llm_judge", f"paths.root={tmp_path}"])
    # One prompt whichever way the detector is built, so one cache identity.
    assert cfg.detector.prompt == DEFAULT_PROMPT
    assert cfg.detector.system_prompt == DEFAULT_SYSTEM_PROMPT
    detector = build(Component.of(cfg.detector))
    assert isinstance(detector, LLMJudgeDetector)
    assert (detector.unit, detector.window, detector.temperature) == ("window", 20, 0.0)
    assert all(f"- {stage}:" in DEFAULT_PROMPT for stage in STAGES)


def test_strict_answers_are_scores_and_requests_have_the_chat_shape(server: Loopback) -> None:
    chat = conv("hi there", "how old are you", "dont tell your mom", "add me on snap")
    scores = judge_at(server, max_tokens=64).score_prefixes([chat])[0]
    sent = [transcript_of(p) for p in user_prompts(server)]
    assert scores == [judge(t)[0] for t in sent] and scores[-1] > scores[0]
    # One request per checkpoint, each with exactly the messages up to that checkpoint; the
    # authors renamed by first appearance (A, B), never the corpus's ids.
    expected = [
        "\n".join(f"{m.author}: {m.text}" for m in pseudonymous(chat[:k])) for k in range(1, 5)
    ]
    assert sorted(sent) == sorted(expected)
    for request in server.requests:
        assert (request.method, request.path) == ("POST", PATH)
        body = request.body
        assert body["model"] == MODEL and body["temperature"] == 0 and body["max_tokens"] == 64
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["messages"][0]["content"] == DEFAULT_SYSTEM_PROMPT
        assert "seed" not in body and "response_format" not in body
        assert "Authorization" not in request.headers


def test_window_holds_only_the_last_messages(server: Loopback) -> None:
    judge_at(server, window=2).score_prefixes([conv("m1", "m2", "m3", "m4")], every=4)
    assert [transcript_of(p) for p in user_prompts(server)] == ["A: m3\nB: m4"]


def test_optional_switches_are_sent_when_set(server: Loopback) -> None:
    judge_at(server, seed=7, response_format="json_object").score([conv("hi")])
    body = server.requests[0].body
    assert body["seed"] == 7 and body["response_format"] == {"type": "json_object"}


def test_prompt_braces_and_chat_braces_are_sent_as_written(server: Loopback) -> None:
    prompt = 'Say {"risk": 0.5}. Chat:\n{transcript}\n(end of {transcript})'
    judge_at(server, prompt=prompt, unit="message").score([conv("a {x} and {transcript}")])
    text = "a {x} and {transcript}"
    assert user_prompts(server) == [f'Say {{"risk": 0.5}}. Chat:\n{text}\n(end of {text})']


def test_shared_prefix_gives_the_same_scores(server: Loopback) -> None:
    shared = ["how old r u", "home alone?", "our secret"]
    a, b = judge_at(server).score_prefixes([conv(*shared, "see u"), conv(*shared, "meet me")])
    assert a[:3] == b[:3] and a[3] != b[3]


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("prose", "fallback_embedded_json"),
        ("fenced", "fallback_fenced"),
        ("risk_only", "fallback_risk_number"),
        ("no_stages", "fallback_no_stages"),
    ],
)
def test_each_fallback_is_read_and_counted(server: Loopback, mode: str, kind: str) -> None:
    detector = judge_at(server, unit="message")
    text = f"keep it our secret, add me on discord [[{mode}]]"
    assert detector.score([conv(text)]) == [judge(text)[0]]
    usage = detector.usage()
    assert usage["fallbacks"] == 1 and usage[kind] == 1 and usage["calls"] == 1
    assert not {k for k in usage if k.startswith("fallback_")} - {kind}


def test_strict_answers_count_no_fallback_and_unknown_stages_are_dropped(
    server: Loopback,
) -> None:
    detector = judge_at(server, unit="message")
    session = detector.session()
    session.update(Message("a", "how old are you, its our secret", None, 1))
    assert session.explain() == {"stages": ["personal_info", "secrecy"]}
    session.update(Message("b", "add me on snap [[unknown_stage]]", None, 2))
    assert session.explain() == {"stages": ["platform_move"]}  # "vibes" and 3 dropped
    usage = detector.usage()
    assert usage["unknown_stages"] == 2 and "fallbacks" not in usage
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


def test_unreadable_answers_are_errors_never_negatives(server: Loopback) -> None:
    detector = judge_at(server, unit="message")
    modes = ["no_number", "out_of_range", "empty_choices", "no_content", "truncated"]
    secret_text = "my street is elm road"
    chats = [conv("how old are you")] + [conv(f"{secret_text} [[{m}]]") for m in modes]
    results = detector.try_score_prefixes(chats, ids=[str(i) for i in range(len(chats))])
    assert results[0] == [judge("how old are you")[0]]
    errors = results[1:]
    assert all(isinstance(e, InputFailed) and "JudgeFormatError" in str(e) for e in errors)
    assert not any(secret_text in str(e) for e in errors)  # the answer quoted the chat
    assert "not a number in [0, 1]" in str(errors[1]) and "no choices" in str(errors[2])
    assert "max_tokens=128" in str(errors[4])
    # Not retried: at temperature 0 the judge would answer the same.
    assert server.count() == len(chats)
    usage = detector.usage()
    assert usage["format_errors"] == len(modes) and usage["failed_inputs"] == len(modes)
    assert "retries" not in usage


def test_transient_failures_are_retried() -> None:
    with serve(faults=Faults(script=["500", "429", "reset"])) as server:
        detector = judge_at(server)
        assert detector.score([conv("our secret")]) == [judge("A: our secret")[0]]
    usage = detector.usage()
    assert (usage["requests"], usage["retries"], usage["rate_limited"]) == (4, 3, 1)
    assert usage["calls"] == 1


def test_client_errors_are_not_retried() -> None:
    with serve(FakeLLM(models={MODEL})) as server:
        bad_request = judge_at(server).try_score_prefixes([conv("hi [[bad_request]]")])[0]
        unknown_model = judge_at(server, model="nope").try_score_prefixes([conv("hi")])[0]
        assert server.count() == 2
    assert isinstance(bad_request, InputFailed) and "HTTP 400" in str(bad_request)
    assert isinstance(unknown_model, InputFailed) and "HTTP 404" in str(unknown_model)


def test_cache_rerun_asks_nothing_and_a_changed_prompt_or_model_asks_again(
    server: Loopback, tmp_path: Path
) -> None:
    cache = tmp_path / "predictions.sqlite"
    chats = [conv("how old are you", "our secret"), conv("hi", "hello", "snap?")]
    first = judge_at(server, cache=cache).score_prefixes(chats)
    assert server.count() == 5
    again = judge_at(server, cache=cache)
    assert again.score_prefixes(chats) == first and server.count() == 5
    assert again.usage()["cache_hits"] == 5 and "requests" not in again.usage()
    judge_at(server, cache=cache, prompt="Rate:\n{transcript}").score_prefixes(chats)
    assert server.count() == 10
    judge_at(server, cache=cache, model="other-model").score_prefixes(chats)
    assert server.count() == 15


def test_api_key_is_sent_as_bearer_and_shown_nowhere(
    server: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-test-0123456789abcdef"
    monkeypatch.setenv("JUDGE_TEST_KEY", key)
    detector = judge_at(server, api_key_env="JUDGE_TEST_KEY", unit="message")
    results = detector.try_score_prefixes(
        [conv("hi"), conv("x [[no_number]]"), conv("y [[bad_request]]")]
    )
    assert all(r.headers["Authorization"] == f"Bearer {key}" for r in server.requests)
    assert isinstance(results[0], list)
    shown = [
        repr(detector),
        json.dumps(detector.identity),
        detector.namespace,
        str(detector.usage()),
        *(str(r) for r in results[1:]),
        *(str(r.__cause__) for r in results[1:] if isinstance(r, Exception)),
    ]
    assert not any(key in text for text in shown)
    monkeypatch.delenv("JUDGE_TEST_KEY")
    with pytest.raises(ValueError, match=r"named by detector\.api_key_env is not set") as error:
        judge_at(server, api_key_env="JUDGE_TEST_KEY")
    assert key not in str(error.value) and "JUDGE_TEST_KEY" not in str(error.value)


def test_temperature_above_zero_warns(server: Loopback, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="detectors.remote.llm_judge"):
        judge_at(server)
        assert not caplog.records
        judge_at(server, temperature=0.7)
    assert "not reproducible" in caplog.text


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="transcript"):
        LLMJudgeDetector(base_url="http://127.0.0.1:9/v1", model="m", prompt="no placeholder")
    with pytest.raises(ValueError, match="max_tokens"):
        LLMJudgeDetector(base_url="http://127.0.0.1:9/v1", model="m", max_tokens=0)


@pytest.mark.parametrize(
    ("answer", "risk", "how"),
    [
        ('  {"risk": 0, "stages": ["Secrecy", "secrecy"]}\n', 0.0, "strict"),
        ('```\n{"risk": 0.5, "stages": []}\n```', 0.5, "fenced"),
        ('{"answer": {"risk": 0.25, "stages": []}}', 0.25, "embedded_json"),
        ("{not json} then {'risk': 0.4}", 0.4, "risk_number"),
        ("Risk = 1.", 1.0, "risk_number"),
    ],
)
def test_parser_edge_cases(answer: str, risk: float, how: str) -> None:
    judgement = parse_answer(answer)
    assert (judgement.risk, judgement.how) == (risk, how)


@pytest.mark.parametrize(
    "answer",
    [
        "risk: 1.5",
        "risk: -0.3",
        "risk: 70%",
        '{"risk": true}',
        '{"risk": "0.7"}',
        '{"risk": NaN}',
        '{"risk": 1e400}',
        '{"risk": 1' + "0" * 400 + "}",
        "",
        "{}",
    ],
)
def test_parser_refuses_what_is_not_a_risk_in_range(answer: str) -> None:
    from detectors.remote.llm_judge import JudgeFormatError

    with pytest.raises(JudgeFormatError):
        parse_answer(answer)
