"""GroomCheck v1's functional tests: what each checks, why, and its templates.

A functional test (CheckList's "minimum functionality test", MFT) is a set of short
conversations that all have the same right answer. Grooming tests (``label`` 1) each have a
contrast test (``label`` 0) whose cases share their surface: the same slots, the same opening
small talk, the same length, the same cue words, in a benign context (a coach arranging a lift,
a parent's surprise secret). A detector that keys on the cue words fails one of the two.

A template is a few lines, one message each, written ``role: text | stages``:

- ``a`` is the person the test is about: the groomer, or the benign adult or peer who uses
  the same words; ``b`` is the other person (the child, or the peer);
- ``{slot}`` is filled from :data:`benchmarks.corpora.groomcheck.slots.SLOTS`;
- ``| stages`` (grooming templates only) labels the message with stages of DOMAIN §2;
- a line ``~`` is a gap of one to three days (slow tests).

Nothing here is sexual or describes a child sexually: the blocklist test scans every template,
every slot value and every generated case.
"""

from __future__ import annotations

from benchmarks.corpora.groomcheck.functional import FunctionalTest
from benchmarks.corpora.groomcheck.pairs_escalation import PAIRS as ESCALATION
from benchmarks.corpora.groomcheck.pairs_hard import PAIRS as HARD
from benchmarks.corpora.groomcheck.pairs_trust import PAIRS as TRUST

__all__ = ["BY_ID", "TESTS", "FunctionalTest"]


#: Every functional test of GroomCheck v1, grooming tests each followed by its contrast.
TESTS: tuple[FunctionalTest, ...] = tuple(
    test for pair in (*TRUST, *ESCALATION, *HARD) for test in pair
)
#: Test id → test.
BY_ID: dict[str, FunctionalTest] = {test.id: test for test in TESTS}
