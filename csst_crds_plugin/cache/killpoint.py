"""A testing hook: make the process kill itself (SIGKILL) at a named file-system step.

``CSST_CRDS_TEST_KILL_AT=<step>[:<n>]`` kills the process the `n`-th time (default: the first)
it reaches `<step>`, exactly as a power cut or ``kill -9`` would at that moment. The crash tests
use it to check that every interrupted delivery or sync is recovered; it does nothing unless the
variable is set. Steps: ``journal-written``, ``reference-named``, ``mapping-written``,
``manifest-written``, ``before-publish``, ``published`` (deliveries, new contexts) and
``sync-reference-written``, ``sync-mapping-written``, ``sync-manifest-written`` (sync).
"""

from __future__ import annotations

import os
import signal
from collections import Counter

__all__ = ["KILL_VARIABLE", "kill_point"]

KILL_VARIABLE = "CSST_CRDS_TEST_KILL_AT"
_REACHED: Counter[str] = Counter()


def kill_point(step: str) -> None:
    """SIGKILL this process if ``CSST_CRDS_TEST_KILL_AT`` names `step` (testing hook)."""
    wanted = os.environ.get(KILL_VARIABLE)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != step:
        return
    _REACHED[step] += 1
    if _REACHED[step] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
