"""Building components: a missing optional package is a one-line hint, not a traceback."""

from __future__ import annotations

import pytest

from benchmarks.components import build
from benchmarks.errors import ConfigError
from benchmarks.jobplan import Component


class NeedsTorch:
    """Stands in for a learned detector on a machine without the `learned` extra."""

    def __init__(self) -> None:
        raise ModuleNotFoundError("No module named 'torch'", name="torch")


class NeedsSomethingElse:
    def __init__(self) -> None:
        raise ModuleNotFoundError("No module named 'vendor_sdk'", name="vendor_sdk")


def test_a_missing_extra_says_which_extra_to_install() -> None:
    with pytest.raises(
        ConfigError, match=r"needs the package 'torch'.*pip install -e '\.\[learned\]'"
    ):
        build(Component.of({"_target_": f"{__name__}.NeedsTorch"}))
    with pytest.raises(ConfigError, match=r"pip install vendor_sdk"):
        build(Component.of({"_target_": f"{__name__}.NeedsSomethingElse"}))
