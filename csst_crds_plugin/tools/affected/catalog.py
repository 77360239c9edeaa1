"""The dataset catalogue in memory: one row per detector-exposure, stored by column.

Each column holds the *text* of its values as categorical codes (a small integer array, -1 for
a missing value) into a list of distinct texts, so 3 × 10⁷ rows of CSST selection parameters
take a few hundred MB. A value's text is ``str(value)``: selection conditions a value from its
text alone (RULES.md §2), so the text loses nothing a lookup uses. A missing value is looked up
as ``UNDEFINED``, exactly what the lookup makes of an absent key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.results import UNDEFINED

__all__ = [
    "MISSING", "Catalog", "CatalogColumn", "CatalogError", "code_dtype", "make_ids", "value_text",
]

MISSING: Final = -1
"""The code of a missing value."""


class CatalogError(CsstCrdsError, ValueError):
    """A catalogue that cannot be read or built; the message names the file, line and column."""


def value_text(value: object, where: str, key: str) -> str | None:
    """Return the text of a catalogue value: ``str(value)`` for a scalar, None for null."""
    if value is None:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value if type(value) is str else str(value)
    raise CatalogError(
        f"{where}: the value of {key!r} is a {type(value).__name__}; catalogue values must be "
        "strings, numbers, booleans or null"
    )


def code_dtype(size: int) -> np.dtype[Any]:
    """Return the smallest signed integer type holding codes ``-1 .. size - 1``."""
    for dtype in (np.int8, np.int16, np.int32):
        if size < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


class CatalogColumn:
    """One column: ``codes`` (-1 = missing) into ``values``, the distinct texts."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: np.ndarray, values: Sequence[str]) -> None:
        self.codes = codes
        self.values = list(values)

    @classmethod
    def from_texts(cls, texts: Sequence[str | None]) -> CatalogColumn:
        """Factorise a sequence of texts (None = missing)."""
        index: dict[str, int] = {}
        codes = np.fromiter(
            (MISSING if t is None else index.setdefault(t, len(index)) for t in texts),
            dtype=np.int64, count=len(texts),
        )
        return cls(codes.astype(code_dtype(len(index))), list(index))

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self.codes)

    def text(self, row: int) -> str | None:
        """Return the text of one row, or None if missing."""
        code = int(self.codes[row])
        return None if code == MISSING else self.values[code]

    def lookup_values(self, rows: np.ndarray | slice) -> np.ndarray | list[str]:
        """Return the texts of `rows` as a numpy string array, ``UNDEFINED`` where missing."""
        codes = self.codes[rows]
        missing = bool(len(codes)) and int(codes.min()) < 0
        table = [*self.values, UNDEFINED] if missing else self.values  # code -1: the last
        if any("\x00" in v for v in self.values):  # numpy strings would drop trailing NULs
            return [table[c] for c in codes.tolist()]
        texts: np.ndarray = np.asarray(table, dtype=str)[codes]
        return texts


class Catalog:
    """Rows of selection parameters by column, with dataset ids.

    Parameters
    ----------
    columns : dict
        ``{name: CatalogColumn}`` of equal lengths. Names differing only in case are refused
        (the lookup upper-cases names).
    ids : numpy array, optional
        One id per row (integers or strings); default the row number counted from 1.
    start : int
        The number of rows before this one in the whole catalogue (for slices and parts).
    """

    def __init__(self, columns: Mapping[str, CatalogColumn], ids: np.ndarray | None = None,
                 start: int = 0, count: int | None = None, source: str = "catalogue") -> None:
        self.columns = dict(columns)
        lengths = {len(c) for c in self.columns.values()}
        if ids is not None:
            lengths.add(len(ids))
        if count is not None:
            lengths.add(count)
        if len(lengths) > 1:
            raise CatalogError(f"{source}: columns differ in length: {sorted(lengths)}")
        self.count = lengths.pop() if lengths else 0
        upper: dict[str, str] = {}
        for name in self.columns:
            other = upper.setdefault(name.upper(), name)
            if other != name:
                raise CatalogError(f"{source}: columns {other!r} and {name!r} differ only in "
                                   "case, and parameter names are case-insensitive; keep one")
        self.ids = ids
        self.start = start
        self.source = source

    def __len__(self) -> int:
        """Return the number of rows."""
        return self.count

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]], ids: Sequence[object] | None = None,
                  source: str = "catalogue") -> Catalog:
        """Build from parameter mappings (values: str, int, float, bool or None)."""
        rows = list(rows)
        names = list(dict.fromkeys(key for row in rows for key in row))
        columns = {}
        for name in names:
            texts = [value_text(row.get(name), f"{source}: row {i + 1}", name)
                     for i, row in enumerate(rows)]
            columns[name] = CatalogColumn.from_texts(texts)
        return cls(columns, None if ids is None else make_ids(ids), count=len(rows),
                   source=source)

    def slice(self, begin: int, end: int) -> Catalog:
        """Rows ``begin:end`` as a catalogue sharing this one's arrays."""
        part = slice(begin, end)
        columns = {n: CatalogColumn(c.codes[part], c.values) for n, c in self.columns.items()}
        ids = None if self.ids is None else self.ids[part]
        return Catalog(columns, ids, self.start + begin, max(0, min(end, self.count) - begin),
                       self.source)

    def id_of(self, row: int) -> object:
        """Return the id of row `row` (an int or a str)."""
        if self.ids is None:
            return self.start + row + 1
        return self.ids[row].item()

    def ids_of(self, rows: np.ndarray) -> list[object]:
        """Return the ids of several rows."""
        ids: list[object] = (rows + self.start + 1 if self.ids is None else self.ids[rows]).tolist()
        return ids

    def row(self, row: int) -> dict[str, str]:
        """One row as a parameter mapping (missing values absent)."""
        found = {}
        for name, column in self.columns.items():
            text = column.text(row)
            if text is not None:
                found[name] = text
        return found

    def find(self, dataset: object) -> int:
        """Return the row of a dataset id (compared as text); raise CatalogError if absent."""
        wanted = str(dataset)
        if self.ids is None:
            if wanted.isdigit() and self.start < int(wanted) <= self.start + self.count:
                return int(wanted) - self.start - 1
        else:
            hits = np.flatnonzero(self.ids.astype(str) == wanted)
            if len(hits):
                return int(hits[0])
        raise CatalogError(f"{self.source}: no dataset with id {wanted!r}")

    @staticmethod
    def concat(parts: Sequence[Catalog], source: str = "catalogue") -> Catalog:
        """Join catalogues row-wise; value lists are merged and codes remapped."""
        names = list(dict.fromkeys(n for part in parts for n in part.columns))
        total = sum(len(p) for p in parts)
        columns = {}
        for name in names:
            index: dict[str, int] = {}
            pieces = []
            for part in parts:
                column = part.columns.get(name)
                if column is None:
                    pieces.append(np.full(len(part), MISSING, dtype=np.int64))
                    continue
                remap = np.array([index.setdefault(v, len(index)) for v in column.values]
                                 + [MISSING], dtype=np.int64)
                pieces.append(remap[column.codes.astype(np.int64)])
            codes = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
            columns[name] = CatalogColumn(codes.astype(code_dtype(len(index))), list(index))
        ids = None
        if parts and all(p.ids is not None for p in parts):
            ids = make_ids([i for p in parts for i in p.ids.tolist()])  # type: ignore[union-attr]  # all set
        elif any(p.ids is not None for p in parts):
            ids = make_ids([p.id_of(r) for p in parts for r in range(len(p))])
        return Catalog(columns, ids, count=total, source=source)


def make_ids(ids: Sequence[object]) -> np.ndarray:
    """Return an id array: int64 when every id is an integer, else strings."""
    values = list(ids)
    if all(type(v) is int for v in values):
        try:
            return np.asarray(values, dtype=np.int64)
        except OverflowError:
            pass
    return np.asarray([str(v) for v in values], dtype=str)
