"""Turn array-likes into checked 1-D numpy arrays; each failure is a ValueError naming the input."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def as_1d(values: ArrayLike, name: str) -> NDArray[np.generic]:
    """Return ``values`` as a 1-D array, or raise if it has another shape."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def as_ints(values: ArrayLike, name: str, *, minimum: int = 0) -> IntArray:
    """Return integer-valued ``values`` (>= ``minimum``) as int64; floats must be whole numbers."""
    array = as_1d(values, name)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    if array.dtype.kind == "f":
        floats = array.astype(np.float64)
        if not np.all(np.isfinite(floats)) or not np.all(floats == np.round(floats)):
            raise ValueError(f"{name} must hold whole numbers")
    elif array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    ints = array.astype(np.int64)
    if ints.min() < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {ints.min()}")
    return ints


def as_labels(values: ArrayLike, name: str = "y_true") -> IntArray:
    """Return 0/1 labels (or decisions) as int64."""
    ints = as_ints(values, name)
    if ints.size and ints.max() > 1:
        raise ValueError(f"{name} must hold only 0 and 1, got {sorted(set(ints.tolist()))[:5]}")
    return ints


def as_floats(values: ArrayLike, name: str, *, finite: bool = False) -> FloatArray:
    """Return ``values`` as float64; with ``finite``, reject NaN and infinities."""
    array = as_1d(values, name)
    if array.size and array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    floats = array.astype(np.float64)
    if finite and not np.all(np.isfinite(floats)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return floats


def check_lengths(**arrays: NDArray[np.generic]) -> None:
    """Raise unless every array has the same length."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs differ in length: {lengths}")


def check_within(values: IntArray, bound: IntArray, name: str, bound_name: str) -> None:
    """Raise unless ``values <= bound`` elementwise (message indices within the conversation)."""
    bad = np.flatnonzero(values > bound)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name} must not exceed {bound_name}: row {i} has {name}={values[i]} "
            f"but {bound_name}={bound[i]}"
        )
