"""A small progress bar on standard error (no dependency): done/total, rate, elapsed, ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 24


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Report progress of a long run.

    On a terminal the bar is redrawn in place; otherwise (a log file) a line is written at most
    every `interval` seconds, and always at the end. Disabled, it does nothing.

    Parameters
    ----------
    total : int
        The amount of work (rows, files).
    label : str
        What is being done, e.g. ``affected``.
    unit : str
        The unit of `total`.
    stream : text stream, optional
        Default standard error.
    enabled : bool, optional
        Default: when `stream` is a terminal.
    """

    def __init__(self, total: int, label: str, unit: str = "rows", stream: TextIO | None = None,
                 enabled: bool | None = None, interval: float = 2.0) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty if enabled is None else enabled
        self.tty = tty
        self.interval = 0.1 if tty else interval
        self.done = 0
        self.note = ""
        self.started = time.monotonic()
        self._shown = 0.0
        self._drawn = -1

    def advance(self, amount: int, note: str = "") -> None:
        """Count `amount` more units done; `note` (e.g. ``12 affected``) is shown after."""
        self.done += amount
        if note:
            self.note = note
        now = time.monotonic()
        if self.enabled and (now - self._shown >= self.interval or self.done >= self.total):
            self._shown = now
            self._draw(now, final=False)

    def close(self) -> None:
        """Draw the final state (and end the line on a terminal)."""
        if not self.enabled:
            return
        if self._drawn != self.done:
            self._draw(time.monotonic(), final=True)
        elif self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        """The current progress as one line of text."""
        now = time.monotonic() if now is None else now
        elapsed = now - self.started
        fraction = self.done / self.total if self.total else 1.0
        filled = int(_WIDTH * min(fraction, 1.0))
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 and self.done < self.total else 0.0
        text = (f"{self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {fraction:4.0%} "
                f"{self.done:,}/{self.total:,} {self.unit}, {_clock(elapsed)} elapsed")
        if self.done < self.total:
            text += f", ETA {_clock(eta)}"
        return f"{text}, {self.note}" if self.note else text

    def _draw(self, now: float, final: bool) -> None:
        self._drawn = self.done
        text = self.line(now)
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
