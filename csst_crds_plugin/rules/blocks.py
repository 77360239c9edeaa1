"""The parser's fastest path: a dict body made only of ``'key' : 'value',`` pairs, split at once.

Large rmaps are mostly such blocks (UseAfter dates to files). Splitting at the quotes and
checking the separators costs a few passes of C string methods, instead of one token at a time.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from typing import Final, overload

import numpy as np

from csst_crds_plugin.rules.ir import PairColumns

__all__ = ["BlockOffsets", "simple_block"]

_COLON_RE: Final = re.compile(r"[ \t]*:[ \t]*")
_COMMA_RE: Final = re.compile(r"[ \t]*,[ \t\r\n]*")
_TAIL_RE: Final = re.compile(r"[ \t]*,?[ \t\r\n]*")


def simple_block(text: str, start: int) -> tuple[PairColumns, BlockOffsets, int] | int:
    """Split a dict body made only of ``'key' : 'value',`` pairs, from `start` to its ``}``.

    Returns (entries, key offsets, offset of the ``}``), or the offset of the first ``}`` (the
    end of the text if none) when the body has anything else (comments, double quotes, escapes,
    other values), which the tokeniser then handles.
    The pairs are exactly those the tokeniser would read: single-quoted strings without
    newlines, colons and commas separated by the whitespace the fast pair pattern allows.
    """
    end = text.find("}", start)
    if end < 0:
        return len(text)
    block = text[start:end]
    if "#" in block or '"' in block or "\\" in block:
        return end
    pieces = block.split("'")
    count, extra = divmod(len(pieces), 4)
    if extra != 1 or count < 2 or pieces[0]:
        return end
    colons = pieces[2::4]
    commas = pieces[4::4]
    tail = commas.pop()
    if not _all_match(_COLON_RE, colons) or not _all_match(_COMMA_RE, commas) or \
            not _TAIL_RE.fullmatch(tail):
        return end
    if commas.count(commas[0]) == len(commas):
        separator_newlines = commas[0].count("\n") * len(commas) + tail.count("\n")
    else:
        separator_newlines = "".join(commas).count("\n") + tail.count("\n")
    if block.count("\n") != separator_newlines:
        return end  # a newline inside a quoted string: not a simple pair
    return PairColumns(pieces[1::4], pieces[3::4]), BlockOffsets(text, start, end), end


class BlockOffsets(Sequence[int]):
    """The key offsets of a simple block, found when first asked for (lookups never ask)."""

    __slots__ = ("_end", "_found", "_start", "_text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self._text, self._start, self._end = text, start, end
        self._found: tuple[int, ...] | None = None

    def _offsets(self) -> tuple[int, ...]:
        if self._found is None:
            block, start = self._text[self._start:self._end], self._start
            if block.isascii():  # character offsets are byte offsets: find quotes with numpy
                quotes = np.flatnonzero(np.frombuffer(block.encode("ascii"), dtype=np.uint8)
                                        == 39)
                self._found = tuple((quotes[0::4] + start).tolist())
            else:
                pieces = block.split("'")
                self._found = tuple(map(operator.add, itertools.accumulate(map(len, pieces)),
                                        itertools.count(start)))[0:len(pieces) - 1:4]
        return self._found

    def __len__(self) -> int:
        """Return the number of keys in the block."""
        return len(self._offsets())

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[int, ...]: ...
    def __getitem__(self, index: int | slice) -> int | tuple[int, ...]:
        """Return the offset (or a tuple of offsets for a slice) at `index`."""
        return self._offsets()[index]

    def __iter__(self) -> Iterator[int]:
        """Iterate over the key offsets in order."""
        return iter(self._offsets())

    def __eq__(self, other: object) -> bool:
        """Compare equal to any sequence holding the same offsets."""
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        """Hash as the tuple of offsets does."""
        return hash(self._offsets())


def _all_match(pattern: re.Pattern[str], items: list[str]) -> bool:
    """Whether every item fully matches; items are mostly one repeated separator."""
    if not items:
        return True
    if items.count(items[0]) == len(items):
        return pattern.fullmatch(items[0]) is not None
    return all(pattern.fullmatch(item) for item in set(items))
