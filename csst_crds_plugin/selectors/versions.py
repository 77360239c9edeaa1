"""VersionAfter and SelectVersion (RULES.md §4.4, §4.5)."""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterator
from typing import Any, Final

from csst_crds_plugin.errors import (
    InvalidVersionError,
    NoMatchError,
    ReferenceLookupError,
    RuleValidationError,
)
from csst_crds_plugin.selectors.base import Choice, FallbackNoMatchError, Header, Selector
from csst_crds_plugin.selectors.matchers import glob_list
from csst_crds_plugin.selectors.useafter import UseAfterSelector

__all__ = ["SelectVersionSelector", "VersionAfterSelector", "parse_version"]

_VERSION_RE: Final = re.compile(r"^(\d{1,8}(\.\d{1,8}(\.\d{1,8})?)?)[A-Za-z0-9_+\-.]{0,128}$")
_RELATION_RE: Final = re.compile(r"^([<=][=]?|default)(.*)$")


def parse_version(text: object) -> tuple[int, int, int]:
    """``'5.2.0rc1'`` → (5, 2, 0); three components, zero-filled; else InvalidVersionError."""
    found = _VERSION_RE.match(text) if isinstance(text, str) else None
    if found is None:
        raise InvalidVersionError(f"Invalid version string {text!r}")
    parts = [int(part, 10) for part in found.group(1).split(".")][:3]
    while len(parts) < 3:
        parts.append(0)
    return (parts[0], parts[1], parts[2])


class VersionAfterSelector(UseAfterSelector, rule_name="VersionAfter"):
    """The greatest version key <= the header version, compared numerically."""

    @classmethod
    def condition_key(cls, key: Any, parameters: tuple[str, ...]) -> tuple[int, int, int]:
        """Keys become (major, minor, point)."""
        try:
            return parse_version(key)
        except InvalidVersionError as exc:
            raise RuleValidationError(f"VersionAfter key: {exc}") from exc

    def lookup_key(self, header: Header) -> tuple[int, int, int]:
        """Return the parameters joined with ``.``, or-list spaces removed, as a version tuple."""
        text = "|".join(glob_list(".".join(header[name] for name in self.parameters)))
        return parse_version(text)

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield the one choice with the greatest version <= the lookup version."""
        index = bisect.bisect_right(self.keys, key) - 1
        if index < 0:
            raise FallbackNoMatchError(f"No selection <= {key!r}")
        yield self.choices[index]


def _literal_version(text: str) -> float | int | tuple[float | int, ...]:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        inner = [part.strip() for part in text[1:-1].split(",") if part.strip()]
        return tuple(_number(part) for part in inner)
    return _number(text)


def _number(text: str) -> float | int:
    try:
        return int(text, 10)
    except ValueError:
        return float(text)


class SelectVersionSelector(Selector, rule_name="SelectVersion"):
    """Relations ``<v``, ``<=v``, ``=v``, ``v``, ``default``; the first key >= (value, '=')."""

    @classmethod
    def condition_key(cls, key: Any, parameters: tuple[str, ...]) -> tuple[Any, str]:
        """Turn a relation into (version, op), with op in ``<``, ``<=``, ``=``."""
        text = str(key)
        if text.replace("=", "").strip() == "default":
            return (sys.maxsize, "=")
        if not text.startswith(("<", "=")):
            text = "=" + text
        found = _RELATION_RE.match(text)
        if found is None:
            raise RuleValidationError(f"Illegal version expression in: {text!r}")
        try:
            version = _literal_version(found.group(2))
        except ValueError as exc:
            raise RuleValidationError(f"Invalid version expression in: {text!r}") from exc
        return (version, found.group(1).replace("==", "="))

    @classmethod
    def sort_key(cls, key: Any) -> Any:
        """Numbers before tuples; then by version and operator."""
        version, op = key
        return (isinstance(version, tuple), version, op)

    def lookup_key(self, header: Header) -> float:
        """Return the header value as a number (``default``, upper-cased by conditioning, fails)."""
        name = self.parameters[0]
        value = header[name]
        if value.replace("=", "").strip() == "default":
            return float(sys.maxsize)
        return self.number(name, value)

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield the first key, in sorted order, not below (value, '=')."""
        for (version, op), choice in zip(self.keys, self.choices, strict=True):
            if isinstance(version, tuple):
                raise ReferenceLookupError(
                    f"Incompatible version expression types: {version} and {key}"
                )
            if (version, op) >= (key, "="):
                yield choice
                return
        raise NoMatchError(f"SelectVersion: no version relation holds for {key!r} and no default")
