"""Failure and flip rates from paired decisions: GroomCheck's and the perturbations' numbers.

Pure functions on per-conversation columns. A conversation the detector failed on is never a
pass or a fail: it is counted in ``n_errors`` and left out. A case that cannot fail (an INV
case whose text the perturbation did not change) is counted in ``n_filtered`` and left out, as
CheckList reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.audit.comparisons.mcnemar import mcnemar_exact
from benchmarks.audit.stats.intervals import rate_interval

#: How each number below is computed (results.json ``definitions``, the report card).
DEFINITIONS = {
    "groomcheck.<test>.failure_rate": "GroomCheck functional test: share of its cases (short "
    "conversations) whose decision (any alert under the run's policy) is not the test's "
    "expected label; Wilson 95% interval; cases the detector failed on are counted apart",
    "groomcheck.worst_failure_rate": "the highest failure rate of any GroomCheck functional test",
    "groomcheck.mean_failure_rate": "the unweighted mean of the functional tests' failure rates",
    "groomcheck.inv.<family>.failure_rate": "GroomCheck invariance test: share of the cases "
    "that the perturbation changed whose decision flipped; unchanged cases are filtered",
    "groomcheck.dir.<test>.failure_rate": "GroomCheck directional test: share of cases whose "
    "risk score after the appended message is lower than the score before it by more than the "
    "tolerance",
    "robustness.<family>.flip_rate_pos": "share of positive conversations changed by the "
    "perturbation whose decision flipped (clean vs perturbed; Wilson 95% interval)",
    "robustness.<family>.flip_rate_neg": "the same on negative conversations",
    "robustness.<family>.delta_recall": "perturbed minus clean recall (paired cluster bootstrap "
    "interval; exact McNemar test of clean vs perturbed decisions on positives)",
    "robustness.<family>.delta_fpr": "perturbed minus clean false-positive rate (paired cluster "
    "bootstrap interval; exact McNemar test on negatives)",
    "robustness.<family>.delta_ttd_median": "perturbed minus clean median messages to detection "
    "(paired cluster bootstrap interval)",
    "robustness.mean_flip_rate": "the mean over families of the flip rate on all changed "
    "conversations",
}


def rate_with_interval(k: int, n: int, level: float = 0.95) -> dict[str, Any]:
    """``k / n`` with its Wilson interval, as plain data (``rate`` None when ``n`` is 0).

    Examples:
        >>> rate_with_interval(3, 10)
        {'k': 3, 'n': 10, 'rate': 0.3, 'low': 0.1078, 'high': 0.6032, 'method': 'wilson'}
        >>> rate_with_interval(0, 0)["rate"] is None
        True
    """
    ci = rate_interval(k, n, level=level, method="wilson")
    return {
        "k": k,
        "n": n,
        "rate": ci.estimate,
        "low": None if ci.low is None else round(ci.low, 4),
        "high": None if ci.high is None else round(ci.high, 4),
        "method": "wilson" if n else "undefined",
    }


def _test(
    kind: str, n: int, errors: int, filtered: int, failures: int, level: float
) -> dict[str, Any]:
    """One test's record: its counts, the failure rate and its Wilson interval."""
    rate = rate_with_interval(failures, n, level)
    return {
        "type": kind,
        "n": n,
        "n_errors": errors,
        "n_filtered": filtered,
        "failures": failures,
        "failure_rate": rate["rate"],
        "interval": [rate["low"], rate["high"]],
    }


def functional_test(
    decisions: Sequence[int | None], expected: int, level: float = 0.95
) -> dict[str, Any]:
    """One MFT: the failure rate of ``decisions`` (None = the detector failed) against ``expected``.

    Examples:
        >>> r = functional_test([1, 1, 0, None], expected=1)
        >>> r["n"], r["n_errors"], r["failures"], round(r["failure_rate"], 3)
        (3, 1, 1, 0.333)
    """
    scored = [d for d in decisions if d is not None]
    failures = sum(1 for d in scored if d != expected)
    return _test("MFT", len(scored), len(decisions) - len(scored), 0, failures, level) | {
        "expected": expected
    }


def flips(
    clean: Sequence[int | None],
    perturbed: Sequence[int | None],
    changed: Sequence[bool],
    level: float = 0.95,
) -> dict[str, Any]:
    """How often a decision flipped where the perturbation changed the text (an INV test).

    Examples:
        >>> r = flips([1, 1, 0, 1, None], [0, 1, 0, 1, 1], [True, True, True, False, True])
        >>> r["n"], r["n_filtered"], r["n_errors"], r["failures"], round(r["failure_rate"], 3)
        (3, 1, 1, 1, 0.333)
    """
    errors = filtered = failures = n = 0
    for a, b, c in zip(clean, perturbed, changed, strict=True):
        if a is None or b is None:
            errors += 1
        elif not c:
            filtered += 1
        else:
            n += 1
            failures += int(a != b)
    return _test("INV", n, errors, filtered, failures, level)


def directional(
    before: Sequence[float | None],
    after: Sequence[float | None],
    tolerance: float,
    level: float = 0.95,
) -> dict[str, Any]:
    """A DIR test: the score after an added message must not fall by more than ``tolerance``.

    Examples:
        >>> r = directional([0.5, 0.5, 0.9, None], [0.6, 0.44, 0.7, 0.2], tolerance=0.05)
        >>> r["n"], r["failures"], r["n_errors"]
        (3, 2, 1)
    """
    errors = failures = n = 0
    for a, b in zip(before, after, strict=True):
        if a is None or b is None:
            errors += 1
            continue
        n += 1
        failures += int(b < a - tolerance)
    return _test("DIR", n, errors, 0, failures, level) | {"tolerance": tolerance}


def mcnemar(
    clean: Sequence[int | None], perturbed: Sequence[int | None], keep: Sequence[bool]
) -> dict[str, Any]:
    """The exact McNemar test of clean vs perturbed decisions on the rows ``keep`` selects.

    Rows where either run failed are left out.

    Examples:
        >>> mcnemar([1, 1, 1, 0], [0, 0, 1, 1], [True, True, True, False])
        {'b01': 0, 'b10': 2, 'n': 3, 'p_value': 0.5, 'method': 'exact binomial'}
    """
    rows = [
        (a, b)
        for a, b, k in zip(clean, perturbed, keep, strict=True)
        if k and a is not None and b is not None
    ]
    result = mcnemar_exact([a for a, _ in rows], [b for _, b in rows])
    return {
        "b01": result.b01,
        "b10": result.b10,
        "n": result.n,
        "p_value": result.p_value,
        "method": result.method,
    }
