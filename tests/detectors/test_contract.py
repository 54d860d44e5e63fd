"""Contract tests run over every detector config in configs/detector/."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.jobplan import Component
from detectors import Detector, Message, TrainableDetector, checkpoints
from tests.detector_fixtures import detector_overrides
from tests.helpers import assert_nested_close, neutral_conversation

DETECTOR_NAMES = sorted(
    p.stem for p in (Path(__file__).parents[2] / "configs" / "detector").glob("*.yaml")
)


def tol(detector: Detector, exact: float) -> float:
    """The contract's tolerance: ``exact``, or the batching slack the detector declares.

    hf_classifier runs float32 matrix products whose rounding depends on the batch's shape
    (padding, batch size): the same input scores within ~1e-7 however it is batched; it
    declares 1e-5, still far below any change a later message makes to a score.
    """
    return max(exact, detector.score_tolerance)


def make(name: str, tmp_path: Path) -> Detector:
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"detector={name}",
                f"paths.root={tmp_path}",
                *detector_overrides(name, tmp_path),
            ],
        )
    detector = build(Component.of(cfg.detector))
    if isinstance(detector, TrainableDetector):
        rng = random.Random(1)
        convs = [neutral_conversation(rng, rng.randint(1, 10)) for _ in range(80)]
        detector.fit(convs, [i % 2 for i in range(80)], trained_on="fixture@0:train")
    return detector


@pytest.fixture(params=DETECTOR_NAMES)
def detector(request: pytest.FixtureRequest, tmp_path: Path) -> Detector:
    return make(request.param, tmp_path)


def conversations(seed: int = 7, n: int = 25) -> list[list[Message]]:
    rng = random.Random(seed)
    return [neutral_conversation(rng) for _ in range(n)] + [[]]


def test_every_detector_config_exists() -> None:
    assert {"lexicon", "tfidf_lr", "random", "constant"} <= set(DETECTOR_NAMES)


def test_metadata_name_is_config_file_name(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for name in DETECTOR_NAMES:
        assert make(name, tmp_path).metadata.name == name


def test_causal_shared_prefix_gives_same_scores(detector: Detector) -> None:
    rng = random.Random(3)
    for _ in range(10):
        shared = neutral_conversation(rng, 6)
        a = shared + neutral_conversation(rng, 5, t0=2e9)
        b = [*shared, Message("zz", "completely different later text", 3e9, 7)]
        a = [Message(m.author, m.text, m.time, i + 1) for i, m in enumerate(a)]
        sa, sb = detector.score_prefixes([a, b])
        assert sa[:6] == pytest.approx(sb[:6], abs=tol(detector, 1e-12))


def test_streaming_equals_batch_scoring_of_the_same_prefix(detector: Detector) -> None:
    for conversation in conversations():
        session = detector.session()
        streamed = [session.update(m) for m in conversation]
        batch = [detector.score([conversation[:k]])[0] for k in range(1, len(conversation) + 1)]
        prefixes = detector.score_prefixes([conversation])[0]
        assert streamed == pytest.approx(batch, abs=tol(detector, 1e-9))
        assert prefixes == pytest.approx(batch, abs=tol(detector, 1e-9))


def test_batch_size_does_not_change_scores(detector: Detector) -> None:
    convs = conversations()
    together = detector.score_prefixes(convs, every=2)
    alone = [detector.score_prefixes([c], every=2)[0] for c in convs]
    assert_nested_close(together, alone, tol=tol(detector, 1e-12))
    assert detector.score(convs[:5]) == pytest.approx(
        [detector.score([c])[0] for c in convs[:5]], abs=tol(detector, 1e-12)
    )


def test_checkpoints_and_score_range(detector: Detector) -> None:
    for every in (1, 3):
        for conv, scores in zip(
            conversations(), detector.score_prefixes(conversations(), every), strict=True
        ):
            assert len(scores) == len(checkpoints(len(conv), every))
            assert all(0.0 <= s <= 1.0 for s in scores)


def test_deterministic_across_instances(tmp_path: Path) -> None:
    for name in DETECTOR_NAMES:
        a, b = make(name, tmp_path / "a"), make(name, tmp_path / "b")
        assert a.score_prefixes(conversations()) == b.score_prefixes(conversations())


def test_per_message_and_per_author_scores(detector: Detector) -> None:
    convs = conversations()
    per_message = detector.score_messages(convs)
    per_author = detector.score_authors(convs)
    for conv, lines, authors in zip(convs, per_message, per_author, strict=True):
        assert len(lines) == len(conv) and all(0.0 <= s <= 1.0 for s in lines)
        assert set(authors) == {m.author for m in conv}
        assert all(0.0 <= s <= 1.0 for s in authors.values())
    # A line's score depends on that line alone; an author's on their own messages alone.
    if convs[0]:
        assert per_message[0][0] == pytest.approx(
            detector.score([convs[0][:1]])[0], abs=tol(detector, 0.0), rel=0
        )


def test_groomcheck_runs_over_every_detector(detector: Detector, tmp_path: Path) -> None:
    """GroomCheck (one case per test), its nine INV families and two DIR tests, any detector.

    Every functional, invariance and directional test comes back with its counts adding up:
    each case is a pass, a failure, an error or (INV) filtered, never lost.
    """
    from benchmarks.corpora.groomcheck import TESTS, load_groomcheck
    from benchmarks.evaluation import evaluate_detector
    from benchmarks.perturbations import FAMILIES
    from benchmarks.policies import ThresholdPolicy
    from benchmarks.robustness.settings import PerturbSettings
    from benchmarks.robustness.suite import measure
    from benchmarks.runner import RunnerConfig

    corpus = load_groomcheck(cases_per_test=1)
    runner = RunnerConfig(progress=False)
    policy = ThresholdPolicy()
    evaluation = evaluate_detector(
        detector, corpus, policy=policy, runner=runner, allow_leakage=True, train_split=None
    )
    found = measure(
        detector,
        corpus.split("test"),
        evaluation.traces,
        policy,
        runner,
        PerturbSettings(n_resamples=200),
    )
    assert found is not None
    report = found.summary["groomcheck"]
    assert sorted(report["functional"]) == sorted(t.id for t in TESTS)
    for entry in report["functional"].values():
        assert entry["n"] + entry["n_errors"] == 1
        assert entry["failure_rate"] is None or 0.0 <= entry["failure_rate"] <= 1.0
    assert sorted(report["invariance"]) == sorted(FAMILIES)
    for entry in [*report["invariance"].values(), *report["directional"].values()]:
        assert entry["n"] + entry["n_errors"] + entry["n_filtered"] == len(TESTS)
        assert entry["failures"] <= entry["n"]
    assert found.metrics["groomcheck.n_cases"] == len(TESTS)
    assert set(found.summary["families"]) == set(FAMILIES)
