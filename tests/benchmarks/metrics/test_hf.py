"""The `evaluate` modules give the numbers of compute_metrics, used directly or loaded by path."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.metrics import Outcomes, compute_metrics
from benchmarks.metrics.hf import MODULE_NAMES, module_path

# tests/conftest.py sets these too; a metric loaded by path must never need the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

evaluate = pytest.importorskip("evaluate")

MakeOutcomes = Callable[..., Outcomes]

CLASSES = {
    "time_to_detection": "TimeToDetection",
    "latency_f1": "LatencyF1",
    "erde": "Erde",
    "detected_before_escalation": "DetectedBeforeEscalation",
}
KEYS = {
    "time_to_detection": ["ttd_median", "ttd_p90", "ttd_median_minutes", "ttd_after_onset_median"],
    "latency_f1": ["latency_f1", "latency_speed", "latency_p", "latency_median_length"],
    "erde": ["erde_5", "erde_50"],
    "detected_before_escalation": ["detected_before_escalation"],
}


def _inputs(name: str, o: Outcomes) -> dict[str, list[Any]]:
    inputs: dict[str, list[Any]] = {
        "predictions": o.alerts.tolist(),
        "references": o.labels.tolist(),
    }
    extra = {
        "time_to_detection": {
            "onsets": o.onsets.tolist(),
            "alert_minutes": o.alert_minutes.tolist(),
        },
        "latency_f1": {"n_messages": o.n_messages.tolist()},
        "erde": {},
        "detected_before_escalation": {"escalations": o.escalations.tolist()},
    }[name]
    return {**inputs, **extra}


def _direct(name: str) -> Any:
    module = __import__(f"benchmarks.metrics.hf.{name}", fromlist=[CLASSES[name]])
    return getattr(module, CLASSES[name])(keep_in_memory=True)


@pytest.fixture(scope="module")
def loaded() -> dict[str, Any]:
    return {name: evaluate.load(module_path(name), keep_in_memory=True) for name in MODULE_NAMES}


def test_every_module_is_covered() -> None:
    assert set(MODULE_NAMES) == set(CLASSES) == set(KEYS)


def test_loaded_by_path_is_the_local_class(loaded: dict[str, Any]) -> None:
    for name, metric in loaded.items():
        assert type(metric).__name__ == CLASSES[name]
        assert metric.info.citation and metric.info.inputs_description


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", MODULE_NAMES)
def test_same_numbers_as_compute_metrics(
    make_outcomes: MakeOutcomes, loaded: dict[str, Any], name: str, seed: int
) -> None:
    o = make_outcomes(seed, n=120)
    expected = {k: compute_metrics(o)[k] for k in KEYS[name]}
    assert _direct(name).compute(**_inputs(name, o)) == expected
    assert loaded[name].compute(**_inputs(name, o)) == expected


def test_options_reach_the_functions(make_outcomes: MakeOutcomes, loaded: dict[str, Any]) -> None:
    o = make_outcomes(7, n=80)
    m = compute_metrics(o, latency_p=0.0078, erde_c_fp=0.25)
    got = loaded["latency_f1"].compute(**_inputs("latency_f1", o), latency_p=0.0078)
    assert got == {k: m[k] for k in KEYS["latency_f1"]}
    got = _direct("erde").compute(**_inputs("erde", o), c_fp=0.25)
    assert got == {"erde_5": m["erde_5"], "erde_50": m["erde_50"]}
    assert list(_direct("erde").compute(**_inputs("erde", o), o=[1, 10])) == ["erde_1", "erde_10"]


def test_batches_give_the_same_numbers(make_outcomes: MakeOutcomes) -> None:
    o = make_outcomes(4, n=90)
    metric = _direct("time_to_detection")
    inputs = _inputs("time_to_detection", o)
    for start in range(0, 90, 30):
        metric.add_batch(**{k: v[start : start + 30] for k, v in inputs.items()})
    expected = {k: compute_metrics(o)[k] for k in KEYS["time_to_detection"]}
    assert metric.compute() == expected


def test_none_means_no_alert_or_unknown() -> None:
    got = _direct("time_to_detection").compute(
        predictions=[None, 4], references=[1, 1], onsets=[None, 2], alert_minutes=[None, None]
    )
    assert got == {
        "ttd_median": 4.0,
        "ttd_p90": 4.0,
        "ttd_median_minutes": None,
        "ttd_after_onset_median": 2.0,
    }
