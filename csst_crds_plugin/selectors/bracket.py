"""Bracket: the pair of keys around a value, always a 2-tuple (RULES.md §4.8)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csst_crds_plugin.errors import ReferenceLookupError
from csst_crds_plugin.selectors.base import Choice, Header, Selector

__all__ = ["BracketSelector"]


class BracketSelector(Selector, rule_name="Bracket"):
    """Keys are raw numbers sorted numerically; a string key fails at lookup (category other)."""

    @classmethod
    def sort_key(cls, key: Any) -> Any:
        """Numbers sort numerically; strings after them, as text."""
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            return (0, key, "")
        return (1, 0, str(key))

    def lookup_key(self, header: Header) -> float:
        """Return the header value as a number."""
        name = self.parameters[0]
        return self.number(name, header[name])

    def _resolve(self, choice: Choice, header: Header) -> Any:
        return choice.choose(header) if isinstance(choice, Selector) else choice

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Not used: Bracket overrides choose()."""
        yield from ()

    def choose(self, header: Header) -> Choice:
        """Return (less, greater) choices around the header value."""
        self.check_defined(header)
        value = self.lookup_key(header)
        keys = self.keys
        if not keys:
            raise ReferenceLookupError("Bracket has no keys.")
        index = 0
        try:
            while index < len(keys) and value > keys[index]:
                index += 1
            if index == len(keys):
                less = greater = index - 1
            elif index == 0 or value == keys[index]:
                less = greater = index
            else:
                less, greater = index - 1, index
        except TypeError as exc:
            raise ReferenceLookupError(
                f"Bracket key {keys[index]!r} is not a number ({exc})"
            ) from exc
        first = self._resolve(self.choices[less], header)
        second = first if less == greater else self._resolve(self.choices[greater], header)
        return (first, second)
