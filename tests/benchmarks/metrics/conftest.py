"""Random but valid outcomes for the metric tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.metrics import Outcomes

MakeOutcomes = Callable[..., Outcomes]


def random_outcomes(seed: int, n: int = 200, *, positive_share: float = 0.3) -> Outcomes:
    """Return ``n`` random conversations: ties in scores, missing onsets, clocks and alerts."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < positive_share).astype(int)
    n_messages = rng.integers(1, 80, size=n)
    alert_prob = np.where(labels == 1, 0.7, 0.15)
    alerted = rng.random(n) < alert_prob
    alerts = np.where(alerted, rng.integers(1, n_messages + 1), 0)
    # One decimal place: plenty of tied scores, as with thresholded or coarse detectors.
    max_scores = np.round(np.clip(rng.normal(0.35 + 0.3 * labels, 0.2), 0, 1), 1)
    onsets = np.where(rng.random(n) < 0.6, rng.integers(1, n_messages + 1), 0)
    escalations = np.where(rng.random(n) < 0.5, rng.integers(1, n_messages + 1), 0)
    minutes = np.where(alerted & (rng.random(n) < 0.8), rng.exponential(30.0, n), np.nan)
    return Outcomes.from_columns(
        labels=labels,
        alerts=alerts,
        max_scores=max_scores,
        n_messages=n_messages,
        onsets=onsets,
        escalations=escalations,
        alert_minutes=minutes,
        groups=[f"c{i}" for i in range(n)],
    )


@pytest.fixture
def make_outcomes() -> MakeOutcomes:
    """Factory fixture: ``make_outcomes(seed, n=200, positive_share=0.3)``."""
    return random_outcomes
