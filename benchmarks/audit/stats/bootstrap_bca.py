"""Bootstrap intervals from resample values: BCa, with the percentile interval as fallback.

BCa (Efron & Tibshirani 1993, §14.3, as in ``scipy.stats.bootstrap``) takes the bias
correction from the share of resamples below the estimate and the acceleration from the
jackknife values, one per class of identical clusters weighted by the class size. When BCa
degenerates the percentile interval is used and the interval's ``method``/``note`` say so;
undefined resamples are dropped and counted in the note. Used by
:mod:`benchmarks.audit.stats.bootstrap`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from benchmarks.audit.stats.intervals import Interval

FloatArray = NDArray[np.float64]

#: A metric undefined in more than this share of resamples gets a prominent warning.
UNDEFINED_WARNING_SHARE = 0.05


class _Settings(Protocol):
    """What an interval reads from :class:`benchmarks.audit.stats.bootstrap.BootstrapSettings`."""

    @property
    def level(self) -> float: ...

    @property
    def method(self) -> str: ...


def _bca_or_percentile(
    values: FloatArray,
    theta: float,
    jackknife: FloatArray | None,
    weights: FloatArray,
    level: float,
) -> tuple[float, float, str, str]:
    """(low, high, method, note) from finite resample values; BCa unless it degenerates."""
    alpha = (1.0 - level) / 2
    reason = ""
    if jackknife is None:
        quantiles = np.array([alpha, 1.0 - alpha])
    elif values.min() == values.max():
        reason = "all resamples equal"
    else:
        share = (np.count_nonzero(values < theta) + np.count_nonzero(values <= theta)) / (
            2 * len(values)
        )
        z0 = float(ndtri(share))
        finite = np.isfinite(jackknife)
        w, jack = weights[finite], jackknife[finite]
        mean = float(np.sum(w * jack) / np.sum(w)) if len(jack) else math.nan
        d = mean - jack
        spread = float(np.sum(w * d**2))
        a = float(np.sum(w * d**3)) / (6.0 * spread**1.5) if spread > 0 else math.nan
        if not math.isfinite(z0):
            reason = "the estimate lies outside the resamples' range"
        elif not math.isfinite(a):
            reason = "jackknife values all equal or undefined, no acceleration"
        else:
            z = float(ndtri(alpha))
            quantiles = np.array(
                [
                    ndtr(z0 + (z0 + z) / (1 - a * (z0 + z))),
                    ndtr(z0 + (z0 - z) / (1 - a * (z0 - z))),
                ]
            )
            if not np.all(np.isfinite(quantiles)):
                reason = "non-finite BCa percentiles"
    if reason:
        quantiles = np.array([alpha, 1.0 - alpha])
    low, high = np.percentile(values, 100 * quantiles)
    if jackknife is None:
        return float(low), float(high), "percentile", ""
    if reason:
        return float(low), float(high), "percentile", f"BCa degenerate ({reason}); percentile used"
    notes = []
    if min(quantiles[0], 1 - quantiles[1]) * len(values) < 1:
        notes.append(
            f"BCa endpoint beyond the resamples' extremes (quantiles {quantiles[0]:.2g}, "
            f"{quantiles[1]:.4g}); more resamples would make it stable"
        )
    if not np.all(finite):
        notes.append(f"jackknife undefined for {int(np.sum(~finite))} classes, left out")
    return float(low), float(high), "bca", "; ".join(notes)


def _interval(
    estimate: float | None,
    values: FloatArray,
    theta: float,
    jackknife: FloatArray | None,
    weights: FloatArray,
    *,
    settings: _Settings,
    n_clusters: int,
    notes: Sequence[str],
    quantile: bool = False,
) -> Interval:
    """The interval of one metric from its resample (and jackknife) values."""
    level = settings.level
    if quantile:
        jackknife = None
    if estimate is None:
        return Interval(
            None, None, None, level, "undefined", n=n_clusters, note="undefined on the full data"
        )
    text = [note for note in notes if note]
    finite = values[np.isfinite(values)]
    dropped = len(values) - len(finite)
    if dropped:
        share = dropped / len(values)
        message = f"undefined in {dropped} of {len(values)} resamples ({share:.1%}), dropped"
        if share > UNDEFINED_WARNING_SHARE:
            message = (
                f"WARNING: {message}; the interval describes only resamples where it is "
                "defined and may be too narrow"
            )
        text.append(message)
    if len(finite) == 0:
        text.append("undefined in every resample")
        return Interval(
            estimate, None, None, level, "undefined", n=n_clusters, note="; ".join(text)
        )
    low, high, method, note = _bca_or_percentile(finite, theta, jackknife, weights, level)
    if note:
        text.insert(0, note)
    elif quantile and settings.method == "bca":
        text.insert(0, "percentile: BCa's jackknife acceleration is unreliable for a quantile")
    return Interval(estimate, low, high, level, method, n=n_clusters, note="; ".join(text))
