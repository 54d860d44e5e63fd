"""The generic HTTP adapter and its presets, against real loopback servers with injected faults."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.jobplan import Component
from detectors import Message
from detectors.remote.http import HttpDetector
from tests.fake_services import (
    KEYS,
    generic_answer,
    hive_answer,
    hive_expected,
    openai_moderation_answer,
    perspective_answer,
    quoted,
    serve,
    text_score,
)
from tests.loopback import Faults, Recorded

FAST = {"attempts": 4, "backoff": 0.01}


def msgs(*texts: str) -> list[Message]:
    return [Message("a" if i % 2 else "b", t, None, i + 1) for i, t in enumerate(texts)]


def make(base: str, **options: Any) -> HttpDetector:
    """A generic detector on ``base``/score: ``{"text": ...}`` in, ``{"score": ...}`` out."""
    settings: dict[str, Any] = {
        "name": "http",
        "version": "1",
        "description": "test",
        "url": base + "/score",
        "body": {"text": "{text}"},
        "score_path": "score",
        "concurrency": 1,
        "retries": FAST,
    }
    return HttpDetector(**(settings | options))


def preset(name: str, tmp_path: Path, url: str, *extra: str) -> HttpDetector:
    """The shipped config ``name``, composed with Hydra, pointed at ``url``."""
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"detector={name}",
                f"paths.root={tmp_path}",
                f"detector.url={quoted(url)}",
                *extra,
            ],
        )
    detector = build(Component.of(cfg.detector))
    assert isinstance(detector, HttpDetector)
    return detector


# --- presets: the request each vendor expects, the score read from its answer --------------------


def test_openai_moderation_batches_inputs_in_order_with_bearer_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai_moderation"])
    texts = [f"message number {i}" for i in range(40)]
    convs = [msgs(*texts[:25]), msgs(*texts[25:]), msgs(texts[3], "")]
    with serve(openai_moderation_answer) as server:
        detector = preset("openai_moderation", tmp_path, server.url + "/v1/moderations")
        assert detector.batch_size == 32
        scores = detector.try_score_prefixes(convs)
    # Two batches in flight at once (concurrency 4): put them in input order.
    sent = sorted((r.body["input"] for r in server.requests), key=lambda b: texts.index(b[0]))
    assert [len(batch) for batch in sent] == [32, 8]  # deduplicated; the blank one never sent
    assert [t for batch in sent for t in batch] == texts
    for request in server.requests:
        assert (request.method, request.path) == ("POST", "/v1/moderations")
        assert request.headers["Authorization"] == f"Bearer {KEYS['openai_moderation']}"
        assert request.body["model"] == "omni-moderation-latest"
    expected = [text_score(t, "sexual/minors") for t in texts]
    assert scores[0] == expected[:25] and scores[1] == expected[25:]
    assert scores[2] == [expected[3], 0.0]


def test_perspective_sends_one_comment_with_the_key_in_the_query(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEYS["perspective"])
    url = "/v1alpha1/comments:analyze?key={api_key}"
    with serve(perspective_answer) as server:
        shipped = preset("perspective", tmp_path, server.url + url)
        assert shipped.limiter._interval == 1.0  # the default quota: 1 query per second
        detector = preset(
            "perspective", tmp_path, server.url + url, "detector.requests_per_second=null"
        )
        scores = detector.try_score_prefixes([msgs("hey you", "", "send a pic")])
    assert len(server.requests) == 2  # the blank message scores 0 without a request
    texts = ["hey you", "send a pic"]
    for request, text in zip(server.requests, texts, strict=True):
        assert (request.method, request.path) == ("POST", "/v1alpha1/comments:analyze")
        assert request.query == {"key": [KEYS["perspective"]]}
        assert request.body == {
            "comment": {"text": text},
            "languages": ["en"],
            "requestedAttributes": {"SEXUALLY_EXPLICIT": {}, "FLIRTATION": {}},
            "doNotStore": True,
        }
    best = [
        max(text_score(t, "SEXUALLY_EXPLICIT"), text_score(t, "FLIRTATION"))
        for t in ["hey you", "send a pic"]
    ]
    assert scores == [[best[0], 0.0, best[1]]]


def test_hive_sends_a_form_with_its_token_and_scales_severity(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HIVE_API_KEY", KEYS["hive"])
    texts = [f"hive text {i}" for i in range(12)]
    with serve(hive_answer) as server:
        detector = preset("hive", tmp_path, server.url + "/api/v2/task/sync")
        scores = detector.score_prefixes([msgs(*texts)])
    assert scores == [[hive_expected(t) for t in texts]]
    assert {s for s in scores[0]} <= {0.0, 1 / 3, 2 / 3, 1.0} and len(set(scores[0])) > 1
    assert sorted(r.body["text_data"] for r in server.requests) == sorted(texts)
    for request in server.requests:
        assert (request.method, request.path) == ("POST", "/api/v2/task/sync")
        assert request.headers["Authorization"] == f"Token {KEYS['hive']}"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_generic_batching_with_texts_and_score_scale() -> None:
    def percent(request: Recorded) -> Any:
        return {"scores": [100 * text_score(t) for t in request.body["texts"]]}

    with serve(percent) as server:
        detector = make(
            server.url,
            body={"texts": "{texts}", "lang": "en"},
            score_path="scores",
            score_scale=100,
            batch_size=3,
        )
        scores = detector.score_prefixes([msgs("a", "b", "c", "d")])
    assert [r.body for r in server.requests] == [
        {"texts": ["a", "b", "c"], "lang": "en"},
        {"texts": ["d"], "lang": "en"},
    ]
    assert scores[0] == pytest.approx([text_score(t) for t in "abcd"])


def test_chat_text_is_sent_as_written_never_filled_with_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GB_TEST_KEY", "k-0123456789")
    with serve(generic_answer) as server:
        detector = make(
            server.url,
            headers={"X-Key": "{api_key}"},
            body={"text": "Message: {text}"},
            secrets={"api_key": "GB_TEST_KEY"},
        )
        detector.score_prefixes([msgs('my {api_key} and {"json": {}} {texts}')])
    assert server.requests[0].body == {"text": 'Message: my {api_key} and {"json": {}} {texts}'}
    assert server.requests[0].headers["X-Key"] == "k-0123456789"


# --- faults --------------------------------------------------------------------------------------


def test_slow_answer_past_the_timeout_is_retried() -> None:
    with serve(generic_answer, Faults(script=["slow"], slow_seconds=1.0)) as server:
        detector = make(server.url, timeout=0.2)
        assert detector.score_prefixes([msgs("hi")]) == [[text_score("hi")]]
    assert server.count() == 2 and detector.usage()["retries"] == 1


def test_429_waits_at_least_retry_after() -> None:
    with serve(generic_answer, Faults(script=["429"], retry_after=0.3)) as server:
        detector = make(server.url)
        assert detector.score_prefixes([msgs("hi")]) == [[text_score("hi")]]
    first, second = server.requests
    assert second.at - first.at >= 0.29
    assert detector.usage()["rate_limited"] == 1


@pytest.mark.parametrize("fault", ["500", "malformed", "reset"])
def test_transient_faults_are_retried(fault: str) -> None:
    with serve(generic_answer, Faults(script=[fault])) as server:
        detector = make(server.url)
        assert detector.score_prefixes([msgs("hi")]) == [[text_score("hi")]]
    assert server.count() == 2


@pytest.mark.parametrize("status", [400, 404])
def test_other_4xx_is_not_retried_and_fails_only_its_conversation(status: int) -> None:
    def answer(request: Recorded) -> Any:
        text = request.body["text"]
        return (status, {"error": f"no: {text}"}) if "BAD" in text else generic_answer(request)

    with serve(answer) as server:
        detector = make(server.url)
        results = detector.try_score_prefixes(
            [msgs("ok"), msgs("fine", "BAD chat text"), msgs("x")]
        )
    assert results[0] == [text_score("ok")] and results[2] == [text_score("x")]
    assert isinstance(results[1], Exception)
    assert f"HTTP {status}" in str(results[1]) and "BAD chat text" not in str(results[1])
    assert sum("BAD" in r.body["text"] for r in server.requests) == 1


def test_outage_mid_run_recovers_or_errors_never_negatives() -> None:
    convs = [msgs(f"o{i}a", f"o{i}b") for i in range(15)]
    expected = [[text_score(m.text) for m in c] for c in convs]
    faults = Faults()
    with serve(generic_answer, faults, latency=0.02) as server:

        def outage() -> None:
            time.sleep(0.08)
            faults.outage = True
            time.sleep(0.25)
            faults.outage = False

        thread = threading.Thread(target=outage)
        thread.start()
        detector = make(server.url, concurrency=2, retries={"attempts": 3, "backoff": 0.1})
        results = detector.try_score_prefixes(convs)
        thread.join()
    assert server.count() > 30  # the outage did hit requests
    for result, want in zip(results, expected, strict=True):
        assert isinstance(result, Exception) or result == want


def test_random_transient_faults_do_not_change_scores() -> None:
    convs = [msgs(*(f"c{i} m{j}" for j in range(4))) for i in range(10)]
    with serve(generic_answer) as clean:
        want = make(clean.url).score_prefixes(convs)
    with serve(generic_answer, Faults(rate=0.2, seed=3)) as server:
        detector = make(server.url, concurrency=4, retries={"attempts": 12, "backoff": 0.005})
        got = detector.score_prefixes(convs)
    assert got == want
    assert detector.usage()["retries"] > 0 and server.count() > 40


# --- rate, concurrency ---------------------------------------------------------------------------


def test_requests_per_second_spaces_requests() -> None:
    with serve(generic_answer) as server:
        detector = make(server.url, concurrency=4, requests_per_second=50)
        start = time.monotonic()
        detector.score_prefixes([msgs(*(f"r{i}" for i in range(20)))])
        elapsed = time.monotonic() - start
    assert elapsed >= 0.35
    assert server.requests[-1].at - server.requests[0].at >= 0.35


def test_concurrency_overlaps_requests() -> None:
    # 1 s per answer: one at a time would take >= 10 s; overlapped, about 1 s. The wide margin
    # keeps this a test of overlap, not of the machine's speed.
    with serve(generic_answer, latency=1.0) as server:
        detector = make(server.url, concurrency=10)
        start = time.monotonic()
        detector.score_prefixes([msgs(*(f"p{i}" for i in range(10)))])
        elapsed = time.monotonic() - start
    assert server.count() == 10 and elapsed < 5.0


# --- cache, usage --------------------------------------------------------------------------------


def test_cache_serves_a_second_instance_and_keys_on_the_settings(tmp_path: Path) -> None:
    convs, ids = [msgs("a", "b"), msgs("c")], ["c1", "c2"]
    cache = tmp_path / "predictions.sqlite"
    with serve(generic_answer) as server:
        first = make(server.url, cache=cache)
        want = first.try_score_prefixes(convs, ids=ids)
        assert server.count() == 3
        again = make(server.url, cache=cache)
        assert again.try_score_prefixes(convs, ids=ids) == want
        assert server.count() == 3
        assert again.usage() == {"cache_hits": 3.0, "cost": 0.0, "cost_total": 0.0}
        changed: list[dict[str, Any]] = [
            {"url": server.url + "/other"},
            {"body": {"text": "{text}", "lang": "en"}},
            {"score_path": "max([score])"},
            {"version": "2"},
        ]
        for n, change in enumerate(changed, start=1):
            detector = make(server.url, cache=cache, **change)
            assert detector.try_score_prefixes(convs, ids=ids) == want
            assert server.count() == 3 + 3 * n, change


def test_usage_counts_a_scripted_run(tmp_path: Path) -> None:
    script: list[str | None] = ["500", "429", None, "malformed", None, None]
    with serve(generic_answer, Faults(script=script)) as server:
        detector = make(server.url, price_per_call=0.01, cache=tmp_path / "c.sqlite")
        convs = [msgs("u1", "u2", "u3")]
        detector.score_prefixes(convs)
        assert detector.usage() == {
            "requests": 6.0,
            "calls": 3.0,
            "retries": 3.0,
            "rate_limited": 1.0,
            "cost": 0.03,
            "cost_total": 0.03,
        }
        detector.score_prefixes(convs)  # all from the cache: nothing new is paid
    assert server.count() == 6
    assert detector.usage()["cache_hits"] == 3 and detector.usage()["cost"] == 0.03
    # A resumed run (a new instance on the same cache) pays nothing, and knows its inputs cost.
    resumed = make(server.url, price_per_call=0.01, cache=tmp_path / "c.sqlite")
    resumed.score_prefixes(convs)
    assert resumed.usage()["cost"] == 0.0 and resumed.usage()["cost_total"] == pytest.approx(0.03)


# --- secrets -------------------------------------------------------------------------------------


def test_no_secret_value_in_repr_identity_errors_or_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t/key+value=="  # URL-encoding changes it: both forms must stay hidden
    monkeypatch.setenv("GB_TEST_KEY", secret)
    options: dict[str, Any] = {
        "headers": {"Authorization": "Bearer {api_key}"},
        "secrets": {"api_key": "GB_TEST_KEY"},
    }
    url = "/v1/{api_key}/score?key={api_key}"
    with serve(lambda request: (404, {"error": "not found"})) as server:
        detector = make(server.url, **options, url=server.url + url)
        permanent = detector.try_score_prefixes([msgs("hi")])[0]
    with serve(generic_answer, Faults(outage=True)) as down:
        retries = {"attempts": 2, "backoff": 0.01}
        transient = make(down.url, **options, url=down.url + url, retries=retries)
        outage = transient.try_score_prefixes([msgs("hi")])[0]
    # The key was sent (header, path, query) ...
    assert server.requests[0].headers["Authorization"] == f"Bearer {secret}"
    assert server.requests[0].query == {"key": [secret]}
    assert quote(secret, safe="") in server.requests[0].path or secret in server.requests[0].path
    # ... and is shown nowhere.
    assert isinstance(permanent, Exception) and isinstance(outage, Exception)
    assert "HTTP 404" in str(permanent) and "HTTP 503" in str(outage)
    shown = [
        repr(detector),
        str(detector),
        json.dumps(detector.identity),
        json.dumps(transient.identity),
        str(permanent),
        repr(permanent),
        str(outage),
        str(detector.usage()),
        str(transient.usage()),
    ]
    for text in shown:
        assert secret not in text and quote(secret, safe="") not in text, text
    assert "{api_key}" in repr(detector)  # the template is shown instead


# --- answers that do not fit score_path -----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"other": 1}, "gave nothing"),
        ({"score": None}, "gave nothing"),
        ({"score": True}, "gave a boolean"),
        ({"score": "private chat text"}, "gave a string"),
        ({"score": {"v": "private chat text"}}, "gave an object"),
        ({"score": 1.5}, "gave 1.5, outside [0, 1]"),
        ({"score": -1}, "gave -1, outside [0, 1]"),
    ],
)
def test_unreadable_scores_are_errors_not_retried(answer: Any, said: str) -> None:
    with serve(lambda request: answer) as server:
        results = make(server.url).try_score_prefixes([msgs("hi")])
    assert isinstance(results[0], Exception) and said in str(results[0])
    assert "private chat text" not in str(results[0])
    assert server.count() == 1


def test_batched_answer_with_the_wrong_count_is_an_error() -> None:
    with serve(lambda request: {"scores": [0.5]}) as server:
        detector = make(server.url, body={"t": "{texts}"}, score_path="scores", batch_size=2)
        (result,) = detector.try_score_prefixes([msgs("a", "b")])
        assert "gave 1 scores for 2 inputs" in str(result)
        (single,) = detector.try_score_prefixes([msgs("c")])  # a list of one fits one input
    assert single == [0.5]


def test_jmespath_failure_is_an_error_without_the_answer() -> None:
    with serve(lambda request: {"a": "private chat text", "b": 0.2}) as server:
        detector = make(server.url, score_path="max([a, b])")
        (result,) = detector.try_score_prefixes([msgs("hi")])
    assert isinstance(result, Exception)
    assert "JMESPathTypeError" in str(result) and "private chat text" not in str(result)


def test_blank_inputs_are_sent_unless_blank_score_is_set() -> None:
    with serve(generic_answer) as server:
        assert make(server.url).score_prefixes([msgs(" ")]) == [[text_score(" ")]]
        assert make(server.url, blank_score=0.0).score_prefixes([msgs(" ", "x")]) == [
            [0.0, text_score("x")]
        ]
        assert server.count() == 2


# --- config validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"body": {"text": "{txt}"}}, r"body.text: unknown placeholder \{txt\}; the known ones"),
        ({"headers": {"Authorization": "Bearer {key}"}}, "headers.Authorization: unknown"),
        ({"url": "http://h/{apikey}"}, r"url: unknown placeholder \{apikey\}"),
        ({"batch_size": 4}, r"\{text\} holds one input, but batch_size is 4"),
        ({"body": {"model": "m"}}, "body never sends the input"),
        ({"body": {"q": "all: {texts}"}}, "must be a whole value"),
        ({"body": {"q": {"texts": None}}}, "in quotes"),
        ({"headers": {"Authorization": {"api_key": None}}}, "must be a string"),
        ({"body_format": "form", "body": {"q": "{texts}"}}, "form cannot send a list"),
        ({"body_format": "form", "body": {"q": {"t": "{text}"}}}, "flat mapping"),
        ({"url": "http://h/{text}"}, "belong in the body"),
        ({"secrets": {"api_key": "GB_UNUSED"}}, "api_key are not used"),
        ({"score_path": "max([a"}, "not a JMESPath expression"),
        ({"score_scale": 0}, "score_scale must be"),
        ({"method": "DELETE"}, "method must be one of"),
        ({"body_format": "xml"}, "body_format must be json or form"),
    ],
)
def test_config_mistakes_are_refused_with_a_clear_message(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make("http://127.0.0.1:9", **options)


def test_missing_environment_variable_names_it_and_its_config_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GB_MISSING_KEY", raising=False)
    options: dict[str, Any] = {
        "headers": {"Authorization": "Bearer {api_key}"},
        "secrets": {"api_key": "GB_MISSING_KEY"},
    }
    with pytest.raises(ValueError, match=r"GB_MISSING_KEY \(named by secrets.api_key"):
        make("http://127.0.0.1:9", **options)
    # A key pasted where the variable's name belongs is refused without being echoed.
    options["secrets"] = {"api_key": "sk-live-abc123"}
    with pytest.raises(ValueError, match="NAME of an environment variable") as caught:
        make("http://127.0.0.1:9", **options)
    assert "sk-live-abc123" not in str(caught.value)


def test_presets_say_what_they_measure() -> None:
    configs = Path(__file__).parents[3] / "configs" / "detector"
    for name in ("openai_moderation", "perspective", "hive"):
        text = (configs / f"{name}.yaml").read_text()
        prose = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
        assert "WHAT IT MEASURES" in prose and "does NOT model the grooming process" in prose
        assert f"name: {name}\n" in text and "_target_: detectors.remote.http.HttpDetector" in text


# --- two processes, one cache: an input is bought once -----------------------------------------

_BUYER = """
import json, sys
from detectors import Message
from detectors.remote.http import HttpDetector
url, cache, out = sys.argv[1:4]
texts = [f"message number {i}" for i in range(30)]
chunks = [texts[j:j + 5] for j in range(0, 30, 5)]
convs = [[Message("a", t, None, k + 1) for k, t in enumerate(chunk)] for chunk in chunks]
detector = HttpDetector(
    name="http", version="1", description="test", url=url + "/score", body={"text": "{text}"},
    score_path="score", concurrency=2, batch_size=1, price_per_call=0.01, cache=cache,
    unit="message", retries={"attempts": 2, "backoff": 0.01},
)
scores = detector.try_score_prefixes(convs, 1, ids=[f"c{j}" for j in range(len(convs))])
json.dump({"scores": scores, "usage": detector.usage()}, open(out, "w"))
"""


def test_two_processes_sharing_a_cache_buy_each_input_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    cache = tmp_path / "predictions.sqlite"
    script = tmp_path / "buyer.py"
    script.write_text(_BUYER)
    root = Path(__file__).resolve().parents[3]
    env = {**__import__("os").environ, "PYTHONPATH": str(root)}
    # 30 inputs at 0.3 s each, two at a time: the second process starts while the first buys.
    with serve(generic_answer, latency=0.3) as server:
        buyers = [
            subprocess.Popen(
                [sys.executable, str(script), server.url, str(cache), str(tmp_path / f"{n}.json")],
                env=env,
            )
            for n in range(2)
        ]
        assert [b.wait(timeout=120) for b in buyers] == [0, 0]
        bought = len(server.requests)
    runs = [json.loads((tmp_path / f"{n}.json").read_text()) for n in range(2)]
    assert runs[0]["scores"] == runs[1]["scores"]
    assert bought == 30  # 30 distinct inputs, each bought once across both processes
    calls = [r["usage"].get("calls", 0.0) for r in runs]
    assert sum(calls) == 30
    # The later process found the inputs claimed by the live one and waited for them.
    assert max(r["usage"].get("shared_inputs", 0.0) for r in runs) > 0
    for r in runs:
        # Each run says what it paid, and what all of its inputs cost in all.
        assert r["usage"]["cost"] == pytest.approx(0.01 * r["usage"].get("calls", 0.0))
        assert r["usage"]["cost_total"] == pytest.approx(0.30)
        assert r["usage"].get("shared_inputs", 0.0) + r["usage"].get("calls", 0.0) + r["usage"].get(
            "cache_hits", 0.0
        ) == pytest.approx(30)
