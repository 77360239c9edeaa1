"""ClosestTime: the key nearest in time, in float32 seconds as CRDS computes it (RULES.md §4.6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from csst_crds_plugin.errors import RuleValidationError
from csst_crds_plugin.selectors.base import Choice, Header
from csst_crds_plugin.selectors.dates import DateFormatError, parse_date
from csst_crds_plugin.selectors.useafter import UseAfterSelector

__all__ = ["ClosestTimeSelector"]

_EPOCH = parse_date("1970-01-01 00:00:00")


class ClosestTimeSelector(UseAfterSelector, rule_name="ClosestTime"):
    """Never fails for a valid date: dates beyond either end take that end's key."""

    def _setup(self) -> None:
        try:
            self._seconds = np.array(
                [(parse_date(key) - _EPOCH).total_seconds() for key in self.keys], dtype=np.float64
            )
        except DateFormatError as exc:
            raise RuleValidationError(
                f"{self.options.rmap}: ClosestTime key is not a date: {exc}"
            ) from exc

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield the choice whose key is nearest the date; a tie goes to the first key (as text)."""
        if not self.keys:
            return
        seconds = (parse_date(key) - _EPOCH).total_seconds()
        deltas = np.abs(self._seconds - seconds).astype(np.float32)
        yield self.choices[int(np.argmin(deltas))]
