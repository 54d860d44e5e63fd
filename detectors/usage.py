"""Usage counters of slow or paid detectors: what a run asked for, what it paid, what it reused.

The counts go into the result (``usage``) so that an auditor can see the cost of a run and how
much of it came from the prediction cache; :data:`USAGE_DEFINITIONS` says what each one means.
"""

from __future__ import annotations

import threading
from collections import Counter

USAGE_DEFINITIONS = {
    "requests": "requests sent to the service, retries included",
    "calls": "requests that returned a usable answer (the ones a vendor bills)",
    "retries": "requests repeated after a timeout, connection error, 429 or 5xx",
    "rate_limited": "answers with status 429 (too many requests)",
    "failed_inputs": "inputs given up on after every retry (their conversations are errors)",
    "cache_hits": "inputs answered from the prediction cache, at no cost",
    "fallbacks": "answers that broke the expected format and were parsed leniently",
    "restarts": "times a sealed executable was restarted after crashing or hanging",
    "cost": "calls x the price per call declared in the detector's config: this run's spend",
    "cost_total": "what every input of this run cost, across resumes and concurrent runs: this "
    "run's cost plus what its answers from the prediction cache cost when they were bought",
    "shared_inputs": "inputs another process was buying at the same moment: this run waited "
    "for their answers instead of buying them again",
    # llm_judge: how its answers were read (docs/llm_judge.md).
    "fallback_fenced": "answers whose JSON object was read from a ```json fenced block",
    "fallback_embedded_json": "answers whose JSON object was read from surrounding prose",
    "fallback_risk_number": "answers with no usable JSON object, read from a 'risk: <number>' text",
    "fallback_no_stages": "answers that were one JSON object with a valid risk but no stage list",
    "unknown_stages": "stage names in answers that are not project stages (dropped)",
    "format_errors": "answers with no readable risk in [0, 1] (their conversations are errors)",
    "prompt_tokens": "prompt tokens the server reported for the answers it gave",
    "completion_tokens": "completion tokens the server reported for the answers it gave",
    # Learned detectors (hf_classifier, embedding_similarity).
    "truncated_inputs": "model inputs longer than max_length tokens, cut to fit (hf_classifier: "
    "a window's oldest tokens; embedding_similarity: a message's end)",
}


class Usage:
    """Thread-safe counters (see :data:`USAGE_DEFINITIONS`), plus the declared price per call.

    Examples:
        >>> usage = Usage(price_per_call=0.002)
        >>> usage.add("requests", 3); usage.add("calls", 2); usage.add("retries")
        >>> usage.snapshot()
        {'requests': 3.0, 'calls': 2.0, 'retries': 1.0, 'cost': 0.004}
    """

    def __init__(self, price_per_call: float = 0.0) -> None:
        if price_per_call < 0:
            raise ValueError(f"price_per_call must be >= 0, got {price_per_call}")
        self.price_per_call = float(price_per_call)
        self._counts: Counter[str] = Counter()
        self._earlier: float | None = None  # what cached answers cost when bought
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name`` (one of :data:`USAGE_DEFINITIONS`)."""
        if name not in USAGE_DEFINITIONS or name in ("cost", "cost_total"):
            raise KeyError(f"unknown usage counter {name!r}")
        with self._lock:
            self._counts[name] += n

    def get(self, name: str) -> int:
        """Return one counter's value."""
        with self._lock:
            return self._counts[name]

    def add_earlier_cost(self, cost: float) -> None:
        """Record what answers taken from the cache cost when they were bought."""
        with self._lock:
            self._earlier = (self._earlier or 0.0) + float(cost)

    def snapshot(self) -> dict[str, float]:
        """Return every counter that moved, and the cost (and ``cost_total`` with a cache).

        Examples:
            >>> usage = Usage(price_per_call=0.5)
            >>> usage.add("calls", 2); usage.add("cache_hits", 3); usage.add_earlier_cost(1.5)
            >>> usage.snapshot()["cost"], usage.snapshot()["cost_total"]
            (1.0, 2.5)
        """
        with self._lock:
            out = {k: float(v) for k, v in self._counts.items()}
            earlier = self._earlier
        out["cost"] = round(out.get("calls", 0.0) * self.price_per_call, 10)
        if earlier is not None:
            out["cost_total"] = round(out["cost"] + earlier, 10)
        return out
