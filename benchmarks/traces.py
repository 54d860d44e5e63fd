"""Traces: every conversation's scores at every checkpoint, saved as a columnar file.

Traces hold no chat text, only ids, labels, indices, scores and timings, so they can be logged
and shared. Because policies only read traces, a user can re-tune a policy or recompute every
metric without running the detector again (which may be slow or a paid API).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.metrics import Outcomes
from benchmarks.policies import Policy

TRACES_VERSION = "1"

SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("label", pa.int8()),
        ("n_messages", pa.int32()),
        ("onset", pa.int32()),
        ("escalation", pa.int32()),
        ("checkpoints", pa.list_(pa.int32())),
        ("scores", pa.list_(pa.float64())),
        ("minutes", pa.list_(pa.float64())),
        ("error", pa.string()),
        ("seconds", pa.float64()),
    ],
    metadata={"groombench_traces_version": TRACES_VERSION},
)


@dataclass(frozen=True)
class TraceRow:
    """One conversation's trace.

    Attributes:
        checkpoints: 1-based message indices that were scored.
        scores: the score at each checkpoint.
        minutes: chat minutes from the first message to each checkpoint (NaN without a clock).
        error: the exception's type when the detector failed on this conversation, else None.
        seconds: detector compute time attributed to this conversation.
    """

    conversation_id: str
    label: int
    n_messages: int
    onset: int | None
    escalation: int | None
    checkpoints: Sequence[int]
    scores: Sequence[float]
    minutes: Sequence[float]
    error: str | None
    seconds: float


ERRORS_FILE = "errors.local.jsonl"


@dataclass(frozen=True, eq=False)
class Traces:
    """All traces of one evaluation, as an Arrow table.

    Attributes:
        table: one row per conversation (:data:`SCHEMA`); its ``error`` column holds only the
            exception type.
        error_details: ``(conversation_id, "Type: message")`` per failure. Messages may quote
            chat text, so they are never logged or tracked; :meth:`save_error_details` writes
            them to a local file for the user.
        causality: how causality was guaranteed or checked in the run that made these traces
            (:class:`benchmarks.causality.CausalityRecord` as a dict); empty when unknown (traces
            loaded from a file).
    """

    table: pa.Table
    error_details: tuple[tuple[str, str], ...] = ()
    causality: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[TraceRow],
        error_details: Sequence[tuple[str, str]] = (),
        causality: Mapping[str, Any] | None = None,
    ) -> Traces:
        """Build from rows (in corpus order)."""
        table = pa.Table.from_pylist([asdict(r) for r in rows], schema=SCHEMA)
        return cls(table, tuple(error_details), dict(causality or {}))

    def error_lines(self) -> str:
        """The failures' messages as JSON lines, secret values redacted (local files only)."""
        from benchmarks.secrets import redact, secret_values

        values = secret_values()
        return "".join(
            json.dumps({"conversation_id": cid, "error": redact(message, values)}) + "\n"
            for cid, message in self.error_details
        )

    def save_error_details(self, path: str | Path) -> Path | None:
        """Write the failures' messages, secret values redacted, to a local JSONL file."""
        if not self.error_details:
            return None
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.error_lines(), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> Traces:
        """Read traces written by :meth:`save`."""
        table = pq.read_table(path)
        missing = set(SCHEMA.names) - set(table.column_names)
        if missing:
            raise ValueError(f"{path} is not a groombench traces file (missing {sorted(missing)})")
        return cls(table.select(SCHEMA.names).cast(SCHEMA))

    def save(self, path: str | Path) -> Path:
        """Write the traces as Parquet; return the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.table, target)
        return target

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @property
    def n_errors(self) -> int:
        """Number of conversations the detector failed on."""
        return len(self) - int(self.table.column("error").null_count)

    def column(self, name: str) -> list[Any]:
        """Return one column as a Python list."""
        return list(self.table.column(name).to_pylist())

    def outcomes(self, policy: Policy) -> Outcomes:
        """Apply ``policy`` to every conversation that did not error; return the outcomes."""
        keep = [e is None for e in self.column("error")]
        alerts: list[int] = []
        minutes: list[float] = []
        maxima: list[float] = []
        for ok, points, scores, mins in zip(
            keep,
            self.column("checkpoints"),
            self.column("scores"),
            self.column("minutes"),
            strict=True,
        ):
            if not ok:
                continue
            alert = policy.first_alert(scores, points) if points else None
            alerts.append(alert or 0)
            minutes.append(mins[points.index(alert)] if alert else math.nan)
            maxima.append(max(scores) if scores else 0.0)

        def kept(name: str, fill: int | None = None) -> list[Any]:
            values = self.column(name)
            return [
                fill if fill is not None and v is None else v
                for v, ok in zip(values, keep, strict=True)
                if ok
            ]

        return Outcomes(
            labels=np.asarray(kept("label"), dtype=np.int64),
            alerts=np.asarray(alerts, dtype=np.int64),
            max_scores=np.asarray(maxima, dtype=np.float64),
            n_messages=np.asarray(kept("n_messages"), dtype=np.int64),
            onsets=np.asarray(kept("onset", 0), dtype=np.int64),
            escalations=np.asarray(kept("escalation", 0), dtype=np.int64),
            alert_minutes=np.asarray(minutes, dtype=np.float64),
            groups=np.asarray(kept("conversation_id"), dtype=object),
        )

    def timing(self) -> dict[str, float | None]:
        """Return detector compute time per message (p50, p99, in ms) and throughput."""
        seconds = np.asarray(self.column("seconds"), dtype=np.float64)
        messages = np.asarray(self.column("n_messages"), dtype=np.float64)
        ok = messages > 0
        if not ok.any():
            return {
                "ms_per_message_p50": None,
                "ms_per_message_p99": None,
                "messages_per_second": None,
            }
        per_message = 1000.0 * seconds[ok] / messages[ok]
        total = float(seconds.sum())
        return {
            "ms_per_message_p50": float(np.percentile(per_message, 50)),
            "ms_per_message_p99": float(np.percentile(per_message, 99)),
            "messages_per_second": float(messages.sum() / total) if total > 0 else None,
        }
