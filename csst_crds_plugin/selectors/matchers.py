"""Match key matchers (RULES.md §4.2): each returns 1 (match), 0 (don't care) or -1 (no match)."""

from __future__ import annotations

import fnmatch
import re
from typing import Final

__all__ = [
    "Matcher",
    "glob_list",
    "is_esoteric",
    "make_matcher",
]

_INEQUALITY_RE: Final = re.compile(r"^([><]=?)\s*([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)")


def is_esoteric(key: str) -> bool:
    """True for keys pre-validation cannot check: ``{}``, ``()``, ``##``, BETWEEN, NOT."""
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
        return f"{type(self).__name__}({self.key!r})"


class _RegexMatcher(Matcher):
    __slots__ = ("_regex",)

    def __init__(self, key: str, pattern: str, kind: str) -> None:
        super().__init__(key, kind)
        self._regex = re.compile(pattern)

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

    def __init__(self, key: str) -> None:
        super().__init__(key, "not")
        self._inner = make_matcher(key[len("NOT "):].strip())

    def match(self, value: str) -> int:
        return -self._inner.match(value)


def _binary(key: str, text: str, word: str) -> Matcher:
    # Departure D1/D2 is not taken: like CRDS only the first two terms are used (certify reports).
    parts = [part.strip() for part in text.split(word)]
    return _BinaryMatcher(key, make_matcher(parts[0]), make_matcher(parts[1]), word == " AND ")


def make_matcher(key: str) -> Matcher:
    """Build the matcher for one conditioned Match key element, in RULES.md §4.2 table order."""
    if key.startswith("(") and key.endswith(")"):
        return _RegexMatcher(key, key[1:-1], "regex")
    if key.startswith("{") and key.endswith("}"):
        return Matcher(key[1:-1], "literal")
    if key.startswith("#") and key.endswith("#") and len(key) >= 2:
        inner = key[1:-1].upper()
        if " AND " in inner:
            return _binary(key, inner, " AND ")
        if " OR " in inner:
            return _binary(key, inner, " OR ")
        return make_matcher(inner)
    if key.upper().startswith("BETWEEN"):
        words = key.split()
        if len(words) != 3 or float(words[1]) > float(words[2]):
            raise ValueError(f"invalid between relation {key!r}: use 'between LOW HIGH'")
        return _binary(key, f">={words[1]} AND <{words[2]}", " AND ")
    if key.upper().startswith("NOT "):
        return _NotMatcher(key)
    if "|" in key or "*" in key:
        pattern = "^(" + "|".join(fnmatch.translate(part) for part in glob_list(key)) + ")$"
        return _RegexMatcher(key, pattern, "glob")
    if key == "N/A":
        return _NaMatcher(key, "na")
    if key.startswith((">", "<")):
        return _InequalityMatcher(key)
    return Matcher(key)
