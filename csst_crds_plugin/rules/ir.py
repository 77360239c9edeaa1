"""The intermediate form of a mapping file: frozen nodes that keep file order and offsets."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias, Union, overload

from csst_crds_plugin.errors import RuleSyntaxError

__all__ = [
    "MAPPING_EXTENSIONS",
    "MAPPING_KINDS",
    "REQUIRED_HEADER_FIELDS",
    "SELECTOR_NAMES",
    "DictNode",
    "Key",
    "MappingIR",
    "Note",
    "PairColumns",
    "SelectorNode",
    "SourceText",
    "Value",
]

SELECTOR_NAMES = frozenset(
    {"Match", "UseAfter", "VersionAfter", "SelectVersion", "ClosestTime",
     "GeometricallyNearest", "Bracket"}
)
"""The only callables a rule file may name."""

MAPPING_KINDS = {".pmap": "PIPELINE", ".imap": "INSTRUMENT", ".rmap": "REFERENCE"}
"""The mapping kind each file extension must declare (``mapping`` header field)."""

MAPPING_EXTENSIONS = tuple(MAPPING_KINDS)
"""The extensions of rule files, for ``str.endswith``."""

REQUIRED_HEADER_FIELDS = {
    "PIPELINE": ("mapping", "parkey", "name", "derived_from", "observatory"),
    "INSTRUMENT": ("mapping", "parkey", "name", "derived_from", "observatory", "instrument"),
    "REFERENCE": ("mapping", "parkey", "name", "derived_from", "observatory", "instrument",
                  "filekind"),
}
"""The header fields each mapping kind must have."""

Key: TypeAlias = Union[str, int, float, bool, None, tuple["Key", ...]]
Value: TypeAlias = Union[
    str, int, float, bool, None, tuple["Value", ...], "DictNode", "SelectorNode"
]


class PairColumns(Sequence[tuple[Key, Value]]):
    """(key, value) pairs kept as two lists, made into pairs only when read.

    A large rule block is a million pairs: as columns they cost two lists instead of a million
    tuples (and the cycle collector's passes over them). Reads as a tuple of pairs would.
    """

    __slots__ = ("column_keys", "column_values")

    def __init__(self, column_keys: Sequence[Key], column_values: Sequence[Value]) -> None:
        self.column_keys = column_keys
        self.column_values = column_values

    def __len__(self) -> int:
        """Return the number of pairs."""
        return len(self.column_keys)

    def __iter__(self) -> Iterator[tuple[Key, Value]]:
        """Iterate over the (key, value) pairs in order."""
        return zip(self.column_keys, self.column_values)  # noqa: B905 - equal lengths

    @overload
    def __getitem__(self, index: int) -> tuple[Key, Value]: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[Key, Value], ...]: ...
    def __getitem__(self, index: int | slice) -> tuple[Key, Value] | tuple[tuple[Key, Value], ...]:
        """Return the pair at `index`, or a tuple of pairs for a slice."""
        if isinstance(index, slice):
            return tuple(zip(self.column_keys[index], self.column_values[index]))  # noqa: B905
        return self.column_keys[index], self.column_values[index]

    def __eq__(self, other: object) -> bool:
        """Compare equal to any sequence holding the same pairs."""
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        """Hash as the tuple of pairs does."""
        return hash(tuple(self))

    def __add__(self, other: Iterable[tuple[Key, Value]]) -> tuple[tuple[Key, Value], ...]:
        """Concatenate as a tuple of pairs."""
        return tuple(self) + tuple(other)

    def __radd__(self, other: Iterable[tuple[Key, Value]]) -> tuple[tuple[Key, Value], ...]:
        """Concatenate after `other`, as a tuple of pairs."""
        return tuple(other) + tuple(self)

    def __repr__(self) -> str:
        """Show the pairs as a tuple would."""
        return repr(tuple(self))


@dataclass(frozen=True, slots=True)
class DictNode:
    """A ``{key: value, ...}`` literal as an item list, so duplicate keys stay visible."""

    entries: tuple[tuple[Key, Value], ...] | PairColumns
    offset: int = 0
    entry_offsets: Sequence[int] = ()  # a tuple, or found lazily for a large block

    def as_dict(self) -> dict[Key, object]:
        """Return a plain dict with Python's duplicate-key semantics, nested dicts converted."""
        result: dict[Key, object] = {}
        for key, value in self.entries:
            result[key] = value.as_dict() if isinstance(value, DictNode) else value
        return result


@dataclass(frozen=True, slots=True)
class SelectorNode:
    """A selector call such as ``Match({...})``."""

    name: str
    body: DictNode
    offset: int = 0

    @property
    def entries(self) -> tuple[tuple[Key, Value], ...] | PairColumns:
        """The selector's (key, choice) pairs in file order."""
        return self.body.entries


@dataclass(frozen=True, slots=True)
class Note:
    """A construct CRDS lookup accepts but CRDS certify rejects (reported by certify)."""

    offset: int
    message: str


@dataclass(frozen=True, slots=True)
class SourceText:
    """A rule file's text with a name, for locating offsets as line and column."""

    path: str
    text: str
    _newlines: list[int] = field(default_factory=list, compare=False, repr=False)

    def locate(self, offset: int) -> tuple[int, int, str]:
        """Return (line, column, source line), 1-based, of a character offset."""
        if not self._newlines:
            self._newlines.extend(i for i, ch in enumerate(self.text) if ch == "\n")
        line_index = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line_index - 1] + 1 if line_index else 0
        end = self.text.find("\n", start)
        source_line = self.text[start:] if end < 0 else self.text[start:end]
        return line_index + 1, offset - start + 1, source_line.rstrip("\r")


@dataclass(frozen=True, slots=True)
class MappingIR:
    """A parsed mapping file: header, optional comment, selector (a dict for pmap and imap)."""

    source: SourceText
    header: DictNode
    selector: SelectorNode | DictNode
    comment: str | None = None
    notes: tuple[Note, ...] = ()

    @property
    def path(self) -> str:
        """The file the mapping was read from (or a label for text)."""
        return self.source.path

    def header_dict(self) -> dict[Key, object]:
        """Return the header as a plain dict (values not yet normalised)."""
        return self.header.as_dict()

    def field_error(self, field: str, message: str) -> RuleSyntaxError:
        """Return a RuleSyntaxError located at header field `field` (at the header if absent)."""
        offsets = dict(zip((key for key, _ in self.header.entries), self.header.entry_offsets,
                           strict=False))
        line, column, source = self.source.locate(offsets.get(field, self.header.offset))
        return RuleSyntaxError(f"header field {field!r}: {message}", self.path, line, column,
                               source)

    def dict_field(self, header: dict[Key, object], field: str,
                   shape: str) -> list[tuple[Key, object]]:
        """Return the items of `header[field]`, which must be a dict (absent or None: no items).

        A value of another type raises :meth:`field_error`, showing the expected `shape`.
        """
        value = header.get(field)
        if value is None:
            return []
        if not isinstance(value, dict):
            raise self.field_error(field, f"must be a dict, not {type(value).__name__}: {shape}")
        return list(value.items())
