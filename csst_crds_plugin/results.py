"""Typed lookup results: a file, a tuple of files, a mapping of files, or NotApplicable."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Any, Final, NamedTuple, TypeAlias, Union

from csst_crds_plugin.errors import ReferenceLookupError

__all__ = [
    "NA",
    "NOT_APPLICABLE",
    "OMITTED",
    "UNDEFINED",
    "MapResult",
    "NotApplicable",
    "RefSource",
    "Selection",
    "Terminal",
    "category_of",
    "encode_value",
    "terminal_files",
]

NA: Final = "N/A"
"""The string stpipe and bestrefs output use for "not applicable" (contract edges only)."""

UNDEFINED: Final = "UNDEFINED"
"""The value a lookup gives a parameter the header lacks (CRDS's spelling, RULES.md §3.1)."""


class NotApplicable:
    """The reference type does not apply to these parameters (a value, not an error)."""

    _instance: NotApplicable | None = None

    def __new__(cls) -> NotApplicable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_APPLICABLE"

    def __reduce__(self) -> str:
        return "NOT_APPLICABLE"


NOT_APPLICABLE: Final = NotApplicable()
"""The result of a lookup whose reference type does not apply (RULES.md §3.2)."""


class Omitted:
    """The reference type is dropped from the results (OMIT): a marker, never returned."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED: Final = Omitted()
"""Marker for a reference type dropped from the results (OMIT)."""


class RefSource(enum.StrEnum):
    """Where a reference a step used came from, as provenance records it (``S_<TYPE>``)."""

    RULE = "rule"
    """The rules of the context chose the reference."""
    OVERRIDE = "override"
    """The user chose it (``override_<reftype>``): a file, a model or N/A."""
    NOT_APPLICABLE = "not_applicable"
    """The rules say the type does not apply (N/A)."""


class MapResult(Mapping[str, str]):
    """A dict terminal ``{key: file}`` (RULES.md §3.2), immutable."""

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"MapResult({self._items!r})"

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))


Terminal: TypeAlias = Union[str, tuple[Any, ...], MapResult, NotApplicable]


def terminal_files(value: object) -> list[str]:
    """The file names in a terminal value (none for NotApplicable)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [name for item in value for name in terminal_files(item)]
    if isinstance(value, Mapping):
        return [name for item in value.values() for name in terminal_files(item)]
    return []


class Selection(NamedTuple):
    """The outcome for one reference type: a value, or the error that stopped the lookup.

    An immutable named tuple (cheap to build on the lookup hot path).
    """

    reftype: str
    value: Terminal | None = None
    error: Exception | None = None
    rmap: str | None = None

    @property
    def ok(self) -> bool:
        """True when a value (a file, files, or NOT_APPLICABLE) was selected."""
        return self.error is None

    @property
    def not_applicable(self) -> bool:
        """True when the type does not apply."""
        return self.value is NOT_APPLICABLE

    def files(self) -> list[str]:
        """The selected file names (empty for N/A or an error)."""
        return terminal_files(self.value)


def category_of(exc: BaseException) -> str:
    """The RULES.md failure category of an exception (``other`` for non-lookup errors)."""
    if isinstance(exc, ReferenceLookupError):
        return exc.category
    return "other"


def encode_value(value: object) -> object:
    """Encode a terminal for JSON: a name, a list, ``{"map": ...}`` or ``"N/A"``."""
    if value is NOT_APPLICABLE:
        return NA
    if isinstance(value, tuple):
        return [encode_value(item) for item in value]
    if isinstance(value, MapResult):
        return {"map": {k: encode_value(v) for k, v in value.items()}}
    return value
