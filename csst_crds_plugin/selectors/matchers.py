"""Match key matchers (RULES.md §4.2): each returns 1 (match), 0 (don't care) or -1 (no match)."""

from __future__ import annotations

import fnmatch
import re
import warnings
from typing import Final

from csst_crds_plugin.errors import CsstCrdsWarning

__all__ = [
    "KEY_NESTING_LIMIT",
    "Matcher",
    "glob_list",
    "is_esoteric",
    "make_matcher",
]

_INEQUALITY_RE: Final = re.compile(r"^([><]=?)\s*([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)")

KEY_NESTING_LIMIT: Final = 64
"""Deepest nesting a Match key may use: ``NOT``/``#...#`` wrappers, regex groups."""


def is_esoteric(key: str) -> bool:
    """Return True for keys pre-validation cannot check: ``{}``, ``()``, ``##``, BETWEEN, NOT."""
    upper = key.upper()
    return (
        upper.startswith(("{", "(", "#")) and upper.endswith(("}", ")", "#"))
    ) or upper.startswith(("BETWEEN", "NOT"))


def glob_list(value: str) -> list[str]:
    """Split an or-list ``'B|A | C|'`` into sorted stripped parts; other values stay whole."""
    if not is_esoteric(value) and "|" in value:
        return sorted(part.strip() for part in value.split("|") if part.strip())
    return [value]


class Matcher:
    """Exact string equality, with ``*`` matching and ``N/A`` not caring."""

    __slots__ = ("key", "kind")

    def __init__(self, key: str, kind: str = "exact") -> None:
        self.key = key
        self.kind = kind

    def match(self, value: str) -> int:
        """Return 1, 0 or -1 for header `value`."""
        if value == self.key or value == "*":
            return 1
        if value == "N/A":
            return 0
        return self._match(value)

    def _match(self, value: str) -> int:
        return -1

    def __repr__(self) -> str:
        """Show the matcher's class and key."""
        return f"{type(self).__name__}({self.key!r})"


class _RegexMatcher(Matcher):
    __slots__ = ("_regex",)

    def __init__(self, key: str, pattern: str, kind: str) -> None:
        super().__init__(key, kind)
        if kind == "regex" and _group_depth(pattern) > KEY_NESTING_LIMIT:  # globs: depth 2
            raise ValueError(f"regular expression key {_short(key)} nests groups more than "
                             f"{KEY_NESTING_LIMIT} deep")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._regex = re.compile(pattern)
        except (re.error, OverflowError) as exc:  # OverflowError: a repeat count too large
            raise ValueError(f"invalid regular expression key {_short(key)}: {exc}") from None
        for warning in caught:  # e.g. FutureWarning: "Possible nested set"
            warnings.warn(f"regular expression key {_short(key)}: {warning.message} (a later "
                          "Python may read it differently; escape the character)",
                          CsstCrdsWarning, stacklevel=2)

    def _match(self, value: str) -> int:
        return 1 if self._regex.match(value) else -1


class _InequalityMatcher(Matcher):
    __slots__ = ("_bound", "_op")

    def __init__(self, key: str) -> None:
        super().__init__(key, "relational")
        found = _INEQUALITY_RE.match(key)
        if found is None:
            raise ValueError(f"invalid relational match key {key!r}")
        self._op = found.group(1)
        self._bound = float(found.group(2))

    def _match(self, value: str) -> int:
        try:
            number = float(value)
        except ValueError:
            return -1
        bound, op = self._bound, self._op
        if op == ">":
            ok = number > bound
        elif op == "<":
            ok = number < bound
        elif op == ">=":
            ok = number >= bound
        else:
            ok = number <= bound
        return 1 if ok else -1


class _BinaryMatcher(Matcher):
    __slots__ = ("_and", "_first", "_second")

    def __init__(self, key: str, first: Matcher, second: Matcher, is_and: bool) -> None:
        super().__init__(key, "relational")
        self._first, self._second, self._and = first, second, is_and

    def match(self, value: str) -> int:
        return super().match(value.upper())

    def _match(self, value: str) -> int:
        if self._and:
            ok = self._first.match(value) == 1 and self._second.match(value) == 1
        else:
            ok = self._first.match(value) == 1 or self._second.match(value) == 1
        return 1 if ok else -1


class _NaMatcher(Matcher):
    __slots__ = ()

    def match(self, value: str) -> int:
        return 0


class _NotMatcher(Matcher):
    __slots__ = ("_inner",)

    def __init__(self, key: str, depth: int) -> None:
        super().__init__(key, "not")
        self._inner = make_matcher(key[len("NOT "):].strip(), depth + 1)

    def match(self, value: str) -> int:
        return -self._inner.match(value)


def _short(key: str, limit: int = 60) -> str:
    """`key` quoted for a message, cut to `limit` characters."""
    return repr(key) if len(key) <= limit else repr(key[:limit]) + f"... ({len(key)} characters)"


def _group_depth(pattern: str) -> int:
    """Return the deepest nesting of groups in a regular expression (skipping escapes, classes)."""
    depth = deepest = 0
    index, end = 0, len(pattern)
    while index < end:
        char = pattern[index]
        if char == "\\":
            index += 1
        elif char == "[":  # a class: ']' first, or after '^', is a member
            index += 2 if pattern.startswith("^", index + 1) else 1
            if pattern.startswith("]", index):
                index += 1
            while index < end and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
        index += 1
    return deepest


def _binary(key: str, text: str, word: str, depth: int) -> Matcher:
    # Departure D1/D2 is not taken: like CRDS only the first two terms are used (certify reports).
    parts = [part.strip() for part in text.split(word)]
    return _BinaryMatcher(key, make_matcher(parts[0], depth + 1),
                          make_matcher(parts[1], depth + 1), word == " AND ")


def make_matcher(key: str, depth: int = 0) -> Matcher:
    """Build the matcher for one conditioned Match key element, in RULES.md §4.2 table order.

    `depth` counts the ``NOT``, ``#...#`` and relation wrappers around `key`; past
    KEY_NESTING_LIMIT the key is refused with ValueError (as every invalid key is).
    """
    if depth > KEY_NESTING_LIMIT:
        raise ValueError(f"match key nested more than {KEY_NESTING_LIMIT} deep "
                         "(NOT, #...# and relations inside one another)")
    if key.startswith("(") and key.endswith(")"):
        return _RegexMatcher(key, key[1:-1], "regex")
    if key.startswith("{") and key.endswith("}"):
        return Matcher(key[1:-1], "literal")
    if key.startswith("#") and key.endswith("#") and len(key) >= 2:
        inner = key[1:-1].upper()
        if " AND " in inner:
            return _binary(key, inner, " AND ", depth)
        if " OR " in inner:
            return _binary(key, inner, " OR ", depth)
        return make_matcher(inner, depth + 1)
    if key.upper().startswith("BETWEEN"):
        words = key.split()
        if len(words) != 3 or float(words[1]) > float(words[2]):
            raise ValueError(f"invalid between relation {key!r}: use 'between LOW HIGH'")
        return _binary(key, f">={words[1]} AND <{words[2]}", " AND ", depth)
    if key.upper().startswith("NOT "):
        return _NotMatcher(key, depth)
    if "|" in key or "*" in key:
        pattern = "^(" + "|".join(fnmatch.translate(part) for part in glob_list(key)) + ")$"
        return _RegexMatcher(key, pattern, "glob")
    if key == "N/A":
        return _NaMatcher(key, "na")
    if key.startswith((">", "<")):
        return _InequalityMatcher(key)
    return Matcher(key)
