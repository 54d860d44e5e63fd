"""Robustness runs and GroomCheck's scores: flips, filtered cases, errors, end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from benchmarks.corpora.base import Corpus, CorpusInfo
from benchmarks.evaluation import evaluate_detector
from benchmarks.policies import ThresholdPolicy
from benchmarks.robustness.settings import PerturbSettings
from benchmarks.robustness.suite import measure
from benchmarks.runner import RunnerConfig
from benchmarks.schema import FEATURES, normalise_record
from detectors import Conversation, Detector, DetectorMetadata
from tests.helpers import cli


class Keyword(Detector):
    """1.0 once a message holds ``word`` exactly as written; raises on ``boom``."""

    def __init__(self, word: str = "secret") -> None:
        self.word = word
        self.metadata = DetectorMetadata(name="keyword", version="1", description="test")

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        out = []
        for conversation in conversations:
            if any("b00m" in m.text for m in conversation):
                raise RuntimeError("cannot read this")
            out.append(float(any(self.word in m.text.split() for m in conversation)))
        return out


def corpus(n: int = 40) -> Corpus:
    from datasets import Dataset

    records = []
    for i in range(n):
        label = i % 2
        text = "this is our secret ok" if label else "see you at the park"
        messages = [
            {"author": "g", "text": "hello there", "time": 10.0, "index": 1},
            {"author": "c", "text": "hi", "time": 20.0, "index": 2},
            {"author": "g", "text": text, "time": 30.0, "index": 3},
        ]
        records.append(
            normalise_record(
                {
                    "conversation_id": f"c{i:02d}",
                    "messages": messages,
                    "label": label,
                    "groomer_ids": ["g"] if label else [],
                }
            )
        )
    return Corpus(
        CorpusInfo(name="tiny", version="1", description="test"),
        Dataset.from_list(records, features=FEATURES),
        "f" * 64,
    )


def run_measure(detector: Detector, settings: PerturbSettings, data: Corpus | None = None):
    data = data or corpus()
    runner = RunnerConfig(progress=False)
    evaluation = evaluate_detector(detector, data, runner=runner, train_split=None)
    return measure(
        detector, data.split("test"), evaluation.traces, ThresholdPolicy(), runner, settings
    )


def test_a_keyword_detector_flips_on_every_changed_positive() -> None:
    found = run_measure(Keyword(), PerturbSettings(("leetspeak",), rate=1.0, n_resamples=500))
    assert found is not None
    family = found.summary["families"]["leetspeak"]
    # Every groomer message changes (rate 1): "secret" becomes "53cr37", the alert is lost.
    assert family["positives"]["n"] == 20 and family["positives"]["failures"] == 20
    assert family["negatives"]["failures"] == 0
    assert family["mcnemar_positives"]["b10"] == 20
    assert family["mcnemar_positives"]["p_value"] < 1e-5
    delta = family["deltas"]["recall"]
    assert delta["estimate"] == -1.0 and delta["high"] <= -0.9
    assert found.metrics["robustness.leetspeak.flip_rate_pos"] == 1.0
    assert found.metrics["robustness.leetspeak.delta_recall"] == -1.0


def test_the_other_authors_messages_are_left_alone() -> None:
    # Only the child writes "secret" here; the groomer's messages are perturbed: no flip.
    base = corpus()

    def child_says_it(record: dict) -> dict:
        messages = [dict(m) for m in record["messages"]]
        if record["label"]:
            messages[1]["text"] = "its a secret"
            messages[2]["text"] = "ok then"
        return record | {"messages": messages}

    data = Corpus(base.info, base.dataset.map(child_says_it), base.fingerprint)
    found = run_measure(Keyword(), PerturbSettings(("leetspeak",), rate=1.0, n_resamples=200), data)
    assert found is not None
    assert found.summary["families"]["leetspeak"]["positives"]["failures"] == 0


def test_unchanged_conversations_are_filtered_never_passes() -> None:
    # No message names a platform or a handle: every case is filtered.
    settings = PerturbSettings(("platform_names",), rate=1.0, n_resamples=200)
    found = run_measure(Keyword(), settings)
    assert found is not None
    family = found.summary["families"]["platform_names"]
    assert family["n_changed"] == 0
    assert family["positives"]["n_filtered"] == 20 and family["positives"]["n"] == 0
    assert family["positives"]["failure_rate"] is None  # not 0: nothing could fail
    assert found.metrics["robustness.platform_names.flip_rate_pos"] is None


class Counting(Keyword):
    """Counts every conversation it is asked about, whole or as a prefix."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        self.asked += [" | ".join(m.text for m in c) for c in conversations]
        return super().score(conversations)


def test_only_the_conversations_a_family_changed_are_scored_again() -> None:
    # leetspeak at rate 1 rewrites every word it can: the positives change; the negatives,
    # whose messages are all empty here, cannot, and are never sent to the detector again.
    base = corpus()

    def silent_negatives(record: dict) -> dict:
        if record["label"]:
            return record
        return record | {"messages": [dict(m) | {"text": ""} for m in record["messages"]]}

    data = Corpus(base.info, base.dataset.map(silent_negatives), base.fingerprint)
    detector = Counting()
    runner = RunnerConfig(progress=False, causality_sample=0.0)
    clean = evaluate_detector(detector, data, runner=runner, train_split=None).traces
    detector.asked.clear()
    settings = PerturbSettings(("leetspeak",), rate=1.0, n_resamples=200)
    found = measure(detector, data.split("test"), clean, ThresholdPolicy(), runner, settings)
    assert found is not None
    family = found.summary["families"]["leetspeak"]
    assert family["n_changed"] == 20 and family["negatives"]["n_filtered"] == 20
    # The 20 changed positives' three prefixes each; no silent negative (no re-check sample).
    assert len(detector.asked) == 60
    assert all(asked.startswith("h3ll0") for asked in detector.asked)
    assert family["negatives"]["failures"] == 0 and family["positives"]["failures"] == 20


def test_a_detector_that_fails_on_perturbed_text_is_counted_as_errors() -> None:
    # leetspeak turns "boom" (in no clean text) ... the clean run never fails; the perturbed
    # one fails where "b00m" appears.
    base = corpus()

    def add_boom(record: dict) -> dict:
        messages = [dict(m) for m in record["messages"]]
        messages[0]["text"] = "boom hello"
        return record | {"messages": messages}

    data = Corpus(base.info, base.dataset.map(add_boom), base.fingerprint)
    found = run_measure(Keyword(), PerturbSettings(("leetspeak",), rate=1.0, n_resamples=200), data)
    assert found is not None
    family = found.summary["families"]["leetspeak"]
    assert family["positives"]["n_errors"] == 20 and family["positives"]["n"] == 0
    assert family["negatives"]["n_errors"] == 20
    assert family["deltas"]["recall"]["n_conversations"] == 0


def test_no_families_and_no_groomcheck_is_no_run() -> None:
    assert run_measure(Keyword(), PerturbSettings()) is None


def test_unknown_family_is_one_clear_error(tmp_path: Path) -> None:
    done = cli(tmp_path, "detector=lexicon", "perturb=spelling", "perturb.families=[rot13]")
    assert done.returncode != 0
    assert "perturb: unknown perturbation family 'rot13'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_perturb_spelling_end_to_end_in_results_mlflow_and_leaderboard(tmp_path: Path) -> None:
    done = cli(
        tmp_path,
        "detector=lexicon",
        "perturb=spelling",
        "perturb.n_resamples=200",
        "corpus.n_conversations=300",
        "audit.n_resamples=200",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = (tmp_path / "runs" / "outputs").glob("*/*/results.json")
    result = json.loads(path.read_text())
    families = result["robustness"]["families"]
    spelling = ["char_swap", "char_delete", "space_delete", "space_add", "leetspeak"]
    assert sorted(families) == sorted(spelling)
    assert result["robustness"]["settings"]["families"] == spelling
    assert result["robustness"]["settings"]["rate"] == 0.3
    assert "robustness.<family>.flip_rate_pos" in result["definitions"]
    assert "robustness.mean_flip_rate" in done.stdout  # the leaderboard's column
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'store.db'}")
    runs = client.search_runs(
        [client.get_experiment_by_name("groombench").experiment_id],
        filter_string="tags.`groombench.detector` = 'lexicon'",
    )
    metrics = runs[0].data.metrics
    assert (
        metrics["robustness.leetspeak.flip_rate_pos"]
        == families["leetspeak"]["positives"]["failure_rate"]
    )
    assert "robustness.mean_flip_rate" in metrics
    assert "perturb" in (path.parent / "config.yaml").read_text()


@pytest.mark.slow
def test_groomcheck_end_to_end_trains_on_the_synthetic_corpus(tmp_path: Path) -> None:
    done = cli(
        tmp_path,
        "corpus=groomcheck",
        "corpus.cases_per_test=2",
        "corpus.train_on.n_conversations=300",
        "detector=tfidf_lr",
        "perturb.n_resamples=200",
        "audit.n_resamples=200",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = (tmp_path / "runs" / "outputs").glob("*/*/results.json")
    result = json.loads(path.read_text())
    assert result["corpus"]["name"] == "groomcheck"
    assert all(t.startswith("synthetic@") for t in result["detector"]["trained_on"])
    report = result["robustness"]["groomcheck"]
    assert len(report["functional"]) == 30 and report["n_cases"] == 60
    assert set(report["directional"]) == {"dir_offplatform_request", "dir_age_disclosure"}
    assert result["metrics"]["groomcheck.worst_failure_rate"] == max(
        t["failure_rate"] for t in report["functional"].values()
    )
    assert "groomcheck.worst_test" in done.stdout and report["worst_test"] in done.stdout
    # The model learned from the synthetic corpus is the one a synthetic run would use.
    models = list((tmp_path / "runs" / "models" / "tfidf_lr").iterdir())
    assert [m.name.split("-")[0] for m in models] == ["synthetic"]
