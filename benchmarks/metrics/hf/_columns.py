"""Turn the columns `evaluate` hands to ``_compute`` (lists, None for nulls) into numpy arrays.

This module must not define or import an `evaluate` class: `evaluate.load` takes the first
metric class it finds in a loaded module's namespace as the metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def ints(values: Sequence[int | None], *, fill: int = 0) -> NDArray[np.int64]:
    """Return ``values`` as int64, None (a null in the Arrow table) becoming ``fill``.

    Examples:
        >>> ints([3, None, 0]).tolist()
        [3, 0, 0]
    """
    return np.asarray([fill if v is None else v for v in values], dtype=np.int64)


def floats(values: Sequence[float | None]) -> NDArray[np.float64]:
    """Return ``values`` as float64, None becoming NaN.

    Examples:
        >>> floats([1.5, None]).tolist()
        [1.5, nan]
    """
    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
