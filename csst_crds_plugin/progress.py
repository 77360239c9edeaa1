"""Progress of long runs (sync, catalog, affected) on standard error, through rich.

A run is a sequence of labelled phases (``sync: mappings``, ``sync: references``, ``affected:
select``, ``affected: write``). Each phase counts up to a total that may grow as work is found;
its count never goes back, and it shows the rate and the time left. On a terminal rich draws the
bars in place (thread-safe, redrawn a few times a second); in a log file one plain line per
phase is written at most every `interval` seconds and when the phase ends, with rich's own rate
and ETA estimates, so both read the same numbers.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

__all__ = ["Phase", "Progress"]

_WIDTH = 24


def _clock(seconds: float | None) -> str:
    seconds = int(max(seconds or 0.0, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60}:{rest % 60:02d}"


class Phase:
    """One labelled phase of a `Progress`."""

    def __init__(self, owner: Progress, task: TaskID, label: str, unit: str) -> None:
        self.owner, self.task, self.label, self.unit = owner, task, label, unit
        self.done = 0
        self.total = 0
        self.note = ""
        self._shown = 0.0
        self._drawn: tuple[int, int] | None = None
        self._finished = False

    def grow(self, amount: int) -> None:
        """More work of this phase is known."""
        with self.owner.lock:
            self.total += max(int(amount), 0)
            self.owner.rich.update(self.task, total=self.total)

    def advance(self, amount: int = 1, note: str = "") -> None:
        """`amount` more units are done; `note` (e.g. ``12 affected``) is shown after."""
        with self.owner.lock:
            self.done += max(int(amount), 0)  # never back
            if note:
                self.note = note
            self.owner.rich.update(self.task, completed=self.done, note=self.note)
            now = time.monotonic()
            if self.owner.plain and (now - self._shown >= self.owner.interval
                                     or self.done >= self.total):
                self._shown = now
                self._drawn = (self.done, self.total)
                self.owner.write(self.line())

    def finish(self) -> None:
        """End the phase (its last line in a log)."""
        with self.owner.lock:
            if self._finished:
                return
            self._finished = True
            if self.owner.plain and self._drawn != (self.done, self.total):
                self.owner.write(self.line())
            self.owner.rich.stop_task(self.task)

    def line(self) -> str:
        """Return the phase as one line of text: bar, share, count, elapsed, ETA, note."""
        task = self.owner.rich.tasks[self.task]
        fraction = self.done / self.total if self.total else 1.0
        filled = int(_WIDTH * min(fraction, 1.0))
        text = (f"{self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {fraction:4.0%} "
                f"{self.done:,}/{self.total:,} {self.unit}, {_clock(task.elapsed)} elapsed")
        if self.done < self.total:
            text += f", ETA {_clock(task.time_remaining)}"
        return f"{text}, {self.note}" if self.note else text


class Progress:
    """Labelled phases on one display.

    Parameters
    ----------
    stream : text stream, optional
        Default standard error.
    enabled : bool, optional
        Default: when `stream` is a terminal. Disabled, nothing is written.
    interval : float
        Seconds between two log lines of a phase when `stream` is not a terminal.
    """

    def __init__(self, stream: TextIO | object | None = None, enabled: bool | None = None,
                 interval: float = 2.0) -> None:
        self.stream: TextIO = sys.stderr if stream is None else stream  # type: ignore[assignment]  # any writer
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty if enabled is None else bool(enabled)
        self.plain = self.enabled and not tty
        self.interval = interval
        self.lock = threading.RLock()
        console = Console(file=self.stream, force_terminal=tty) if tty else None
        self.rich = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
            console=console, disable=not (self.enabled and tty), transient=False)
        self._started = False
        self._current: Phase | None = None
        self._bytes = 0

    def phase(self, label: str, total: int = 0, unit: str = "") -> Phase:
        """Start a new phase (the previous one ends)."""
        with self.lock:
            if self._current is not None:
                self._current.finish()
            if not self._started:
                self.rich.start()
                self._started = True
            task = self.rich.add_task(label, total=total or None, unit=unit, note="")
            self._current = Phase(self, task, label, unit)
            self._current.total = max(int(total), 0)
            if self.plain:
                self.write(f"{label} ...")
            return self._current

    def write(self, text: str) -> None:
        """One log line (not on a terminal)."""
        if self.plain:
            self.stream.write(text + "\n")
            self.stream.flush()

    # -- sync's interface: add work to a labelled phase, then count files and bytes ----------
    def add(self, count: int, label: str = "files") -> None:
        """`count` more files of phase `label` (a new label starts a new phase)."""
        with self.lock:
            current = self._current
            if current is None or current.label != label:
                current = self.phase(label, 0, "files")
            current.grow(count)

    def step(self, nbytes: int = 0) -> None:
        """One file of the current phase is done (`nbytes` transferred)."""
        with self.lock:
            self._bytes += nbytes
            if self._current is not None:
                self._current.advance(1, f"{self._bytes / 1e6:.1f} MB")

    def close(self) -> None:
        """End the last phase and the display."""
        with self.lock:
            if self._current is not None:
                self._current.finish()
                self._current = None
            if self._started:
                self.rich.stop()
                self._started = False
