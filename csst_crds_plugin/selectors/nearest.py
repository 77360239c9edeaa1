"""GeometricallyNearest: the numerically nearest key, keys ordered as strings (RULES.md §4.7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from csst_crds_plugin.errors import RuleValidationError
from csst_crds_plugin.selectors.base import Choice, Header, Selector
from csst_crds_plugin.selectors.values import condition_value

__all__ = ["GeometricallyNearestSelector"]


class GeometricallyNearestSelector(Selector, rule_name="GeometricallyNearest"):
    """Keys sort as strings (a CRDS quirk kept: a tie picks the first key in string order)."""

    @classmethod
    def condition_key(cls, key: Any, parameters: tuple[str, ...]) -> str:
        """Keys are conditioned values (``1.2`` → ``'1.2'``)."""
        return condition_value(key)

    def _setup(self) -> None:
        try:
            self._numbers = np.array(self.keys, dtype=np.float32)
        except ValueError as exc:
            raise RuleValidationError(
                f"{self.options.rmap}: GeometricallyNearest keys must be numbers: {exc}"
            ) from exc

    def lookup_key(self, header: Header) -> float:
        """Return the header value as a number."""
        name = self.parameters[0]
        return self.number(name, header[name])

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield the choice at the first minimum of |key - value| in float32."""
        if not self.keys:
            return
        deltas = np.abs(self._numbers - np.float32(key))
        yield self.choices[int(np.argmin(deltas))]
