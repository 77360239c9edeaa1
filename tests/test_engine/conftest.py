"""Engine test fixtures: a CPU-time limit that turns a hang into a failure naming the input."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest


class Overtime(BaseException):
    """Raised when the CPU-time limit expires.

    Not an Exception, so that no ``except Exception`` in the code under test can swallow it.
    """


@contextmanager
def _limit(seconds: float, what: str = "this input") -> Iterator[None]:
    start = time.thread_time()

    def expire(signum: int, frame: object) -> None:
        # The timer counts the whole process; only this (the main) thread's time counts here,
        # so time spent by other threads (say, left by an earlier test) re-arms it.
        used = time.thread_time() - start
        if used < seconds:
            signal.setitimer(signal.ITIMER_PROF, max(seconds - used, 0.001))
            return
        raise Overtime(f"over {seconds} s of CPU time on {what}: the code hangs")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


@pytest.fixture
def cpu_limit() -> Callable[..., AbstractContextManager[None]]:
    """``with cpu_limit(5, "what"): ...`` fails the block after 5 s of the main thread's CPU time.

    CPU time, not wall time: a busy machine does not trip it, a hang does (the regular
    expression engine checks signals, so even a backtracking match is interrupted).
    """
    return _limit
