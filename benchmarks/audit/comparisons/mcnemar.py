"""The exact McNemar test on two detectors' paired 0/1 decisions.

Only the discordant rows of two detectors scored on the same items carry information; under the null
hypothesis that both fire equally often, the ``10`` count among them is binomial at 1/2.
:func:`mcnemar_exact` runs that exact test, optionally restricted by a mask (to the positives to
compare recall, or to the negatives to compare false-positive rates), and returns a
:class:`McNemarResult`. Both are re-exported by :mod:`benchmarks.audit.comparisons.compare`, which
turns a result into a report row (``Comparison.from_mcnemar``).

As in :mod:`benchmarks.metrics.classification`, data arguments are positional and options
keyword-only, and undefined values are None, never NaN.

References:
    Q. McNemar (1947). Note on the sampling error of the difference between correlated
    proportions or percentages. Psychometrika 12(2), 153-157.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validation import as_labels, check_lengths

__all__ = ["McNemarResult", "mcnemar_exact"]


@dataclass(frozen=True)
class McNemarResult:
    """The exact McNemar test on two detectors' paired decisions.

    Attributes:
        b01: rows where detector A said 0 and detector B said 1.
        b10: rows where detector A said 1 and detector B said 0.
        statistic: ``min(b01, b10)``, the exact test's statistic as statsmodels reports it.
        p_value: two-sided exact binomial p-value of ``b10`` out of ``b01 + b10`` at 1/2.
        n: rows compared (after the mask).
        difference: share of 1s under A minus share under B, ``(b10 - b01) / n``: the
            recall difference when the mask keeps the positives, the FPR difference when it
            keeps the negatives. None when no row was compared.
        method: always ``"exact binomial"``.
        note: why the test has nothing to weigh, when that is so.
    """

    b01: int
    b10: int
    statistic: int
    p_value: float
    n: int
    difference: float | None
    method: str = "exact binomial"
    note: str | None = None


def mcnemar_exact(
    y_pred_a: ArrayLike, y_pred_b: ArrayLike, *, mask: ArrayLike | None = None
) -> McNemarResult:
    """Test whether two detectors' paired 0/1 decisions differ, exactly.

    Only the discordant rows carry information: under the null hypothesis that both detectors
    fire equally often, each discordant row is equally likely to be a ``10`` or a ``01``, so
    ``b10 ~ Binomial(b01 + b10, 1/2)`` and the two-sided exact binomial test applies. It
    agrees with ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True)``.

    Restrict the rows with ``mask`` to compare a conditional rate: ``mask=(y_true == 1)``
    compares recall, ``mask=(y_true == 0)`` compares the false-positive rate. To compare
    accuracy, pass correctness indicators (``y_pred == y_true``) as the decisions.

    Args:
        y_pred_a: 0/1 decisions of detector A, one per item.
        y_pred_b: 0/1 decisions of detector B on the same items, in the same order.
        mask: optional 0/1 or boolean selector of the rows to compare.

    Returns:
        The discordant counts, the exact p-value and the difference in rates. With no
        discordant row the p-value is 1.0 and ``note`` says why.

    Raises:
        ValueError: on inputs that are not 1-D 0/1 arrays of one length.

    Examples:
        >>> r = mcnemar_exact([1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1])
        >>> r.b01, r.b10, r.statistic, round(r.p_value, 4)  # 2·P(X <= 1), X ~ Bin(6, 1/2)
        (1, 5, 1, 0.2188)
        >>> y_true = [1, 1, 1, 0, 0]
        >>> r = mcnemar_exact([1, 1, 0, 1, 0], [0, 0, 0, 1, 1], mask=[t == 1 for t in y_true])
        >>> r.n, r.difference  # recall 2/3 against 0/3
        (3, 0.6666666666666666)
        >>> mcnemar_exact([1, 0], [1, 0]).note
        'no discordant pairs: both detectors made the same decision on every row compared'
    """
    a = as_labels(y_pred_a, "y_pred_a")
    b = as_labels(y_pred_b, "y_pred_b")
    check_lengths(y_pred_a=a, y_pred_b=b)
    if mask is not None:
        keep = as_labels(mask, "mask").astype(bool)
        check_lengths(y_pred_a=a, mask=keep)
        a, b = a[keep], b[keep]
    n = len(a)
    b01 = int(np.sum((a == 0) & (b == 1)))
    b10 = int(np.sum((a == 1) & (b == 0)))
    difference = None if n == 0 else (b10 - b01) / n
    if b01 + b10 == 0:
        # binomtest(0, 0) raises; with nothing discordant the data cannot favour either side.
        note = (
            "no rows to compare"
            if n == 0
            else "no discordant pairs: both detectors made the same decision on every row compared"
        )
        return McNemarResult(b01, b10, 0, 1.0, n, difference, note=note)
    # Imported here: scipy.stats costs a few hundred milliseconds, paid only when a test runs.
    from scipy.stats import binomtest

    p_value = min(1.0, float(binomtest(b10, b01 + b10, 0.5).pvalue))
    return McNemarResult(b01, b10, min(b01, b10), p_value, n, difference)
