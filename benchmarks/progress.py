"""Progress for long steps: a log line when a step starts and when it ends, with its time.

Every step of a job that can take more than a couple of seconds (loading or generating the
corpus, training, scoring, the bootstrap, the report card, logging to MLflow) goes through
:func:`step`, so a user always sees what is running, also under the joblib launcher, where
each job's lines carry its name (:func:`set_job`). Loops with a known length add a bar (:func:`bar`)
that appears only after two seconds, and only on a terminal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("groombench.progress")

#: A bar appears only for work that has taken this long already (seconds).
BAR_DELAY = 2.0
_JOB: list[str] = [""]


def set_job(name: str) -> None:
    """Name this process's job (``0_lexicon``): parallel jobs' lines then say whose they are."""
    _JOB[0] = name


def _named(what: str) -> str:
    return f"[{_JOB[0]}] {what}" if _JOB[0] else what


@contextmanager
def step(what: str) -> Iterator[None]:
    """Log ``what`` when it starts and, with its duration, when it ends (or fails).

    Examples:
        >>> with step("counting"):
        ...     total = sum(range(10))
    """
    started = time.perf_counter()
    what = _named(what)
    log.info("%s ...", what)
    try:
        yield
    except BaseException:
        log.info("%s: stopped after %.1f s", what, time.perf_counter() - started)
        raise
    log.info("%s: done in %.1f s", what, time.perf_counter() - started)


def bar(total: int, desc: str, unit: str, *, enabled: bool = True) -> Any:
    """A tqdm bar over ``total`` units, shown after :data:`BAR_DELAY` seconds on a terminal."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        leave=False,
        delay=BAR_DELAY,
        disable=None if enabled else True,  # None: off when stderr is not a terminal
    )
