"""The project's grooming-stage labels (DOMAIN §2), in the SDK so that there is one list.

Detectors that name stages (``llm_judge``'s answers) and the harness's record schema
(:mod:`benchmarks.schema`) both use this tuple; the SDK may not import ``benchmarks``, so it
lives here.
"""

from __future__ import annotations

#: Multi-label per message, never a strict sequence.
STAGES: tuple[str, ...] = (
    "rapport",
    "personal_info",
    "risk_check",
    "compliments",
    "exclusivity",
    "secrecy",
    "isolation",
    "gifts",
    "platform_move",
    "image_request",
    "approach",
    "sexual",
)
