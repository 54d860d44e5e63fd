"""Power and sample size for exact binomial claims.

An auditor must learn *before* the detector runs whether the corpus can settle the claim
(AUDIT.md, "Sample size and power"): PAN12's 142 positive authors cannot verify a 95% recall
claim at author level, and it is better to say so than to let a run end "inconclusive".

The test is the one the verdicts use: a claim is supported when the exact Clopper–Pearson
one-sided (1−α) bound clears the threshold. ``side="lower"`` means the lower bound must exceed
``p_claim`` (a higher-is-better rate such as recall); ``side="upper"`` means the upper bound must
fall below it (a lower-is-better rate such as FPR). The CP bound clears ``p_claim`` exactly
when the exact binomial test rejects at level α, so power is a sum of binomial probabilities
over that rejection region; no normal approximation is involved.

The plan printed before a run (:class:`Plan`, :func:`plan`, :class:`CorpusCounts`) applies these
to a claim; it is in :mod:`benchmarks.audit.claims.plan`, which builds on this module (this
module imports nothing from it).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from benchmarks.audit.stats.intervals import rate_interval

Side = Literal["lower", "upper"]

#: The largest sample size :func:`sample_size` searches; beyond it the answer is None.
DEFAULT_MAX_N = 1_000_000

#: Saw-tooth rule: n is reported only if every size up to this many percent above it has the power.
SAWTOOTH_PERCENT = 10


def power_curve(
    p_true: float, p_claim: float, n: ArrayLike, *, alpha: float = 0.05, side: Side
) -> NDArray[np.float64]:
    """Return the exact power at each sample size in ``n`` (vectorised; see the module doc).

    Examples:
        >>> power_curve(0.95, 0.9, [100, 200, 400], side="lower").round(3).tolist()
        [0.436, 0.796, 0.981]
    """
    _check_alpha(alpha)
    if not 0 <= p_true <= 1:
        raise ValueError(f"p_true must lie in [0, 1], got {p_true}")
    sizes = np.asarray(n, dtype=np.int64)
    if np.any(sizes < 0):
        raise ValueError("sample sizes must be >= 0")
    if side == "upper":
        # The upper bound clears p_claim iff the lower bound of the failure rate clears 1 − p.
        return power_curve(1 - p_true, 1 - p_claim, sizes, alpha=alpha, side="lower")
    if side != "lower":
        raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
    if p_claim < 0:  # any bound, even 0, exceeds a negative threshold
        return np.where(sizes > 0, 1.0, 0.0)
    if p_claim >= 1:  # no bound exceeds 1
        return np.zeros(sizes.shape)
    # The CP lower bound of k/n exceeds p_claim iff P(X >= k | p_claim) < alpha: reject for
    # k > j, j the smallest count with P(X > j | p_claim) < alpha. ppf(1 − alpha) gives j up to
    # rounding and ties at equality, which the two corrections settle.
    j = stats.binom.ppf(1 - alpha, sizes, p_claim)
    j = np.where(stats.binom.sf(j - 1, sizes, p_claim) < alpha, j - 1, j)
    j = np.where(stats.binom.sf(j, sizes, p_claim) >= alpha, j + 1, j)
    power = stats.binom.sf(j, sizes, p_true)
    return np.asarray(np.where(sizes > 0, power, 0.0), dtype=np.float64)


def power_one_sided_exact(
    p_true: float, p_claim: float, n: int, *, alpha: float = 0.05, side: Side
) -> float:
    """Return the probability that the CP one-sided (1−α) bound clears ``p_claim`` at size n.

    Args:
        p_true: the rate the data come from.
        p_claim: the threshold the bound must clear (claim − margin, or claim + margin).
        n: the number of trials (positives for recall, negatives for FPR).
        alpha: one-sided error rate.
        side: "lower" (show the rate exceeds p_claim) or "upper" (show it is below).

    Examples:
        >>> round(power_one_sided_exact(0.95, 0.90, 200, side="lower"), 3)
        0.796
        >>> round(power_one_sided_exact(0.0, 0.001, 2995, side="upper"), 3)  # 0 FP happens
        1.0
        >>> power_one_sided_exact(0.9, 0.9, 500, side="lower") <= 0.05  # truth at the threshold
        True
    """
    return float(power_curve(p_true, p_claim, [n], alpha=alpha, side=side)[0])


def sample_size(
    p_true: float,
    p_claim: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    side: Side,
    max_n: int = DEFAULT_MAX_N,
) -> int | None:
    """Return the smallest n that reaches ``power`` and keeps it over the next 10% of sizes.

    Exact tests have saw-tooth power: adding one trial can *lower* power, because the
    rejection region moves in whole counts. The first n whose power reaches the target is
    often followed by sizes that miss it, so an auditor who collects "that many plus a few"
    could fall short. The rule here: report the smallest n such that every size from n to
    ⌈1.1·n⌉ reaches the target. That is at least the first crossing and, in practice, close to
    the normal-approximation answer.

    Returns None when no size up to ``max_n`` works: whenever ``p_true`` does not lie strictly
    on the favourable side of ``p_claim`` (power never exceeds α there), and without scanning
    when the normal approximation already exceeds 2·max_n.

    Examples:
        >>> sample_size(0.95, 0.90, side="lower")  # AUDIT.md: about 200 positives
        203
        >>> sample_size(0.0, 0.001, side="upper")  # zero false positives: the ≈3/n rule
        2995
        >>> sample_size(0.90, 0.90, side="lower") is None
        True
    """
    _check_alpha(alpha)
    if not 0 < power < 1:
        raise ValueError(f"power must lie in (0, 1), got {power}")
    # A gap below 1e-12 is rounding (0.95 − 0.05 is 0.8999999999999999), not an effect.
    gap = p_true - p_claim if side == "lower" else p_claim - p_true
    if gap <= 1e-12:
        return None
    approx = _normal_size(p_true, p_claim, alpha, power)
    if approx > 2 * max_n:
        return None
    # Scan sizes in chunks, vectorised, so that the whole saw-tooth is seen (bisection would
    # assume monotone power). Exact power lags the normal approximation by little; below a
    # third of its answer power is far under any useful target (about 0.4 for 80%), so the
    # scan starts there and costs about the size of the answer, not max_n.
    first = 1 if approx < 300 else int(approx / 3)
    start, length = first, max(1024, int(approx))
    reached = np.zeros(0, dtype=bool)  # reached[i] is the check at size first + i
    while start <= max_n:
        stop = min(start + length, max_n + 1)
        chunk = power_curve(p_true, p_claim, np.arange(start, stop), alpha=alpha, side=side)
        reached = np.concatenate([reached, chunk >= power])
        found = _first_stable(reached, first, complete=stop > max_n)
        if found is not None:
            return found
        start, length = stop, length * 2
    return None


def _normal_size(p_true: float, p_claim: float, alpha: float, power: float) -> float:
    """Return the normal-approximation sample size (a guide for the exact scan, not an answer)."""
    clamp = min(max(p_claim, 0.0), 1.0)
    z_alpha, z_beta = stats.norm.ppf(1 - alpha), stats.norm.ppf(power)
    spread = z_alpha * math.sqrt(clamp * (1 - clamp)) + z_beta * math.sqrt(p_true * (1 - p_true))
    return float((spread / (p_true - p_claim)) ** 2)


def _first_stable(reached: NDArray[np.bool_], first: int, *, complete: bool) -> int | None:
    """Return the first size n with ``reached`` true from n to ⌈1.1·n⌉, if known yet.

    ``reached[i]`` is the check at size ``first + i``. A window that runs past the scanned
    sizes is undecided (None: scan further) unless the scan is ``complete`` (it hit max_n).
    """
    last = first + len(reached) - 1
    sizes = np.arange(first, last + 1)
    # The first size >= n that misses the target (last + 1 when none does).
    misses = np.where(reached, last + 1, sizes)
    next_miss = np.minimum.accumulate(misses[::-1])[::-1]
    # ⌈1.1·n⌉ in integers (in floats 1.1·100 is 110.00000000000001, whose ceiling is 111).
    window_end = sizes + (sizes * SAWTOOTH_PERCENT + 99) // 100
    stable = reached & (next_miss > np.minimum(window_end, last))
    if not stable.any():
        return None
    index = int(np.argmax(stable))
    if window_end[index] > last and not complete:
        return None
    return int(sizes[index])


def settling_size(
    p_true: float,
    claimed: float,
    margin: float,
    *,
    higher_is_better: bool,
    alpha: float = 0.05,
    power: float = 0.8,
    max_n: int = DEFAULT_MAX_N,
) -> tuple[int | None, str | None]:
    """Return the n that settles a rate claim with ``power`` if ``p_true`` is the truth.

    Settling means either supporting it (the one-sided (1−α) bound clears claim ∓ margin) or
    refuting it (the two-sided (1−α) interval excludes the claim: a one-sided test at α/2),
    the two outcomes of the verdict rule. Returns the smaller size with ``"support"`` or
    ``"refute"``, or ``(None, None)`` when neither is reachable (the truth sits on the claim
    with no margin, or on claim ∓ margin exactly).

    Examples:
        >>> settling_size(0.95, 0.95, 0.05, higher_is_better=True)
        (203, 'support')
        >>> settling_size(0.85, 0.95, 0.05, higher_is_better=True)[1]
        'refute'
        >>> settling_size(0.95, 0.95, 0.0, higher_is_better=True)
        (None, None)
    """
    favourable: Side = "lower" if higher_is_better else "upper"
    unfavourable: Side = "upper" if higher_is_better else "lower"
    target = claimed - margin if higher_is_better else claimed + margin
    options = {
        "support": sample_size(
            p_true, target, alpha=alpha, power=power, side=favourable, max_n=max_n
        ),
        "refute": sample_size(
            p_true, claimed, alpha=alpha / 2, power=power, side=unfavourable, max_n=max_n
        ),
    }
    known = {action: n for action, n in options.items() if n is not None}
    if not known:
        return None, None
    action = min(known, key=lambda a: known[a])
    return known[action], action


def n_for_bound(events: int, p_claim: float, *, alpha: float = 0.05, side: Side = "upper") -> int:
    """Return the smallest n at which ``events`` events out of n bound the rate past ``p_claim``.

    With ``side="upper"``: the CP one-sided (1−α) upper bound of ``events``/n is ≤ p_claim,
    the number of negatives needed to bound an FPR when that many false positives occur. With
    ``side="lower"``, ``events`` counts misses and the lower bound of the hit rate must reach
    ``p_claim``. The bound improves steadily with n at fixed ``events``, so bisection is exact.

    Examples:
        >>> n_for_bound(0, 0.001)  # AUDIT.md: 2,995 negatives with no false positive
        2995
        >>> n_for_bound(1, 0.001), n_for_bound(5, 0.001)  # AUDIT.md: about 4,760 and 10,600
        (4742, 10511)
    """
    _check_alpha(alpha)
    if side == "lower":
        return n_for_bound(events, 1 - p_claim, alpha=alpha, side="upper")
    if events < 0 or not 0 < p_claim < 1:
        raise ValueError(f"need events >= 0 and 0 < p_claim < 1, got {events}, {p_claim}")

    def bounded(n: int) -> bool:
        return float(stats.beta.ppf(1 - alpha, events + 1, n - events)) <= p_claim

    low, high = events + 1, events + 1
    while not bounded(high):
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if bounded(middle) else (middle + 1, high)
    return low


def attainable_width(n: int, p: float, *, level: float = 0.95) -> float | None:
    """Return the width of the two-sided CP interval at n trials if the observed rate were p.

    The count is ``round(n·p)``. None when n is 0 (nothing can be measured).

    Examples:
        >>> round(attainable_width(200, 0.95), 3)
        0.066
        >>> attainable_width(0, 0.5) is None
        True
    """
    if n <= 0:
        return None
    interval = rate_interval(round(n * p), n, level=level, method="clopper-pearson")
    if interval.low is None or interval.high is None:
        return None
    return interval.high - interval.low


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
