"""Vectorised selection for many parameter sets at once (the core of best_references_many).

Columns of parameter values are conditioned once per distinct value; canonical dates are
parsed with numpy; a ``Match`` is evaluated once per distinct combination of its parameters
(with the same memoised plans as single lookups) and ``UseAfter`` dates are found with
``np.searchsorted`` over each selector's encoded keys. Whatever this module cannot vectorise
is reported back as *fallback* rows, which the caller looks up one by one, so the results
are always those of the single-lookup path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from csst_crds_plugin.errors import ReferenceLookupError
from csst_crds_plugin.results import UNDEFINED, Selection
from csst_crds_plugin.selectors.base import Selector
from csst_crds_plugin.selectors.dates import encode_instant
from csst_crds_plugin.selectors.match import MatchSelector
from csst_crds_plugin.selectors.useafter import UseAfterSelector
from csst_crds_plugin.selectors.values import condition_value

__all__ = ["BulkSelections", "Column", "choose_many", "encode_lookup_dates", "factorize"]

_BLOCK: Final = 1 << 48  # > every encoded date (2 * 99991231235959 + 1)
_ZERO: Final = ord("0")
_MAX_BLOCKS: Final = 1 << 14  # blocks * _BLOCK stays far below 2**63
_CHUNK: Final = 1 << 16


class Column:
    """One parameter column: raw values plus their conditioned form (computed on demand).

    A value that is not a ``str``, ``int``, ``float`` or ``bool`` is dropped, as in a single
    lookup, which makes it ``UNDEFINED`` after minimising. Numpy arrays are read as their
    ``tolist()`` values (``U`` arrays directly).
    """

    def __init__(self, values: Sequence[Any] | np.ndarray, *, conditioned: bool = False) -> None:
        self.final = conditioned  # values are conditioned already
        self.raw: np.ndarray | None = None
        self.items: list[Any] | None = None
        if isinstance(values, np.ndarray) and values.dtype.kind == "U" and values.ndim == 1:
            self.raw = values
        else:
            items = values.tolist() if isinstance(values, np.ndarray) else list(values)
            if items and all(type(v) is str for v in items) and "\x00" not in "".join(items):
                self.raw = np.asarray(items, dtype=str)
            else:
                self.items = items
        self._codes: np.ndarray | None = None
        self._values: list[str] = []

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self.raw) if self.raw is not None else len(self.items or ())

    def value(self, row: int) -> Any:
        """Return the raw value of one row, as a single lookup would receive it."""
        return str(self.raw[row]) if self.raw is not None else self.items[row]  # type: ignore[index]  # items is set whenever raw is not

    def conditioned(self) -> tuple[np.ndarray, list[str]]:
        """(codes, values): the conditioned value of row ``i`` is ``values[codes[i]]``."""
        if self._codes is None:
            if self.raw is not None:
                raw = self.raw
                if raw.dtype.itemsize:
                    void = raw.view(np.dtype((np.void, raw.dtype.itemsize)))
                    unique, inverse = np.unique(void, return_inverse=True)
                    distinct = unique.view(raw.dtype).tolist()
                else:
                    inverse, distinct = np.zeros(len(raw), dtype=np.intp), [""]
            else:
                index: dict[Any, int] = {}
                keyed = [(type(v), v) if isinstance(v, (str, int, float, bool)) else (None, None)
                         for v in self.items or ()]
                inverse = np.fromiter((index.setdefault(k, len(index)) for k in keyed),
                                      dtype=np.intp, count=len(keyed))
                distinct = [v for _, v in index]
            values: dict[str, int] = {}
            condition = str if self.final else _condition
            remap = np.array([values.setdefault(condition(v), len(values)) for v in distinct],
                             dtype=np.intp)
            self._codes = remap[inverse.reshape(-1)] if len(remap) else inverse.reshape(-1)
            self._values = list(values)
        return self._codes, self._values


def _condition(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)):
        return condition_value(value)
    return UNDEFINED


def _digits(codes: np.ndarray, columns: slice | list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(ok, number) of the ASCII digits in `columns` of a (rows, width) code matrix."""
    part = codes[:, columns].astype(np.int64) - _ZERO
    ok: np.ndarray = np.asarray(((part >= 0) & (part <= 9)).all(axis=1))
    number = np.zeros(len(codes), dtype=np.int64)
    for i in range(part.shape[1]):
        number = number * 10 + part[:, i]
    return ok, number


def _matrix(raw: np.ndarray) -> np.ndarray:
    width = raw.dtype.itemsize // 4
    return raw.view(np.uint32).reshape(len(raw), width) if width else \
        np.zeros((len(raw), 0), dtype=np.uint32)


def _encode(date: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encode ``YYYY-MM-DD`` and ``HH:MM:SS[.f{1,6}]`` code matrices; see encode_lookup_dates."""
    rows = len(date)
    ok = np.zeros(rows, dtype=bool)
    if date.shape[1] < 10 or time.shape[1] < 8:
        return ok, np.zeros(rows, dtype=np.int64)
    # longer values in the same column: these rows must end (NUL padding) at the usual width
    padded = (date[:, 10:] == 0).all(axis=1) & (time[:, 15:] == 0).all(axis=1)
    time = time[:, :15]
    ok_d, ymd = _digits(date, [0, 1, 2, 3, 5, 6, 8, 9])
    ok_t, hms = _digits(time, [0, 1, 3, 4, 6, 7])
    ok = padded & ok_d & ok_t & (date[:, 4] == 45) & (date[:, 7] == 45) & (time[:, 2] == 58) & \
        (time[:, 5] == 58)
    seconds = hms % 100
    scaled = seconds.astype(np.float64)
    denominator = np.ones(rows, dtype=np.float64)
    if time.shape[1] > 8:
        has_fraction = time[:, 8] == 46
        ok &= has_fraction | (time[:, 8:] == 0).all(axis=1)
        numerator = seconds.copy()
        ended = ~has_fraction
        digits = np.zeros(rows, dtype=np.int64)
        for column in range(9, time.shape[1]):
            code = time[:, column].astype(np.int64)
            is_digit = (code >= _ZERO) & (code <= _ZERO + 9) & ~ended
            ok &= is_digit | (code == 0)
            ended |= code == 0
            numerator = np.where(is_digit, numerator * 10 + (code - _ZERO), numerator)
            digits += is_digit
        ok &= ~has_fraction | (digits > 0)
        # float('SS.fff') exactly: an exact integer over an exact power of ten, one rounding.
        denominator = np.power(10.0, digits)
        scaled = numerator.astype(np.float64)
    fsecond = scaled / denominator
    isecond = np.trunc(fsecond)
    micro = np.trunc((fsecond - isecond) * 1e6).astype(np.int64)
    year, month, day = ymd // 10000, ymd // 100 % 100, ymd % 100
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)]
    days = days + (leap & (month == 2))
    ok &= (year > 0) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    ok &= (hms // 10000 < 24) & (hms // 100 % 100 < 60) & (seconds < 60)
    encoded = encode_instant(ymd * 1000000 + hms, micro > 0)
    return ok, encoded


def encode_lookup_dates(columns: Sequence[Column], rows: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Encode each row's UseAfter lookup date as an integer, where it has a canonical spelling.

    Handles a (``YYYY-MM-DD``, ``HH:MM:SS[.f]``) pair of columns and one column holding
    ``YYYY-MM-DD[T ]HH:MM:SS[.f]``; such values are unchanged by conditioning. The code is
    ``2 * YYYYMMDDhhmmss + (microseconds > 0)``, which orders like the reformatted date string
    against canonical UseAfter keys (whose code is even). Returns (ok, codes); rows that are
    not ok need the single-lookup path.
    """
    count = len(rows)
    failed = (np.zeros(count, dtype=bool), np.zeros(count, dtype=np.int64))
    if len(columns) not in (1, 2) or not count:
        return failed
    first, last = columns[0].raw, columns[-1].raw
    if first is None or last is None:
        return failed
    ok, encoded = failed
    for begin in range(0, count, _CHUNK):  # chunks keep the temporaries small
        part = rows[begin:begin + _CHUNK]
        if len(columns) == 2:
            chunk_ok, chunk = _encode(_matrix(first[part]), _matrix(last[part]))
        else:
            both = _matrix(first[part])
            if both.shape[1] < 19:
                return failed
            chunk_ok, chunk = _encode(both[:, :10], both[:, 11:])
            chunk_ok &= (both[:, 10] == 32) | (both[:, 10] == 84)
        ok[begin:begin + _CHUNK] = chunk_ok
        encoded[begin:begin + _CHUNK] = chunk
    return ok, encoded


def choose_many(
    selector: Selector,
    columns: dict[str, Column],
    rows: np.ndarray,
    memo: dict[Any, Any] | None = None,
) -> tuple[np.ndarray, list[Any], np.ndarray, list[int]]:
    """Choose for many rows of one rmap (no expressions) in the Match → UseAfter shape.

    Returns (choice, table, fallback, specials): row ``rows[i]`` chose ``table[choice[i]]``
    unless ``fallback[i]``, in which case it needs the single-lookup path (errors included);
    ``specials`` lists the table positions that may hold an N/A or OMIT value. `memo`, shared
    by calls on the same `rows` array, keeps combinations and encoded dates between types.
    """
    memo = {} if memo is None else memo
    count = len(rows)
    choice = np.full(count, -1, dtype=np.int64)
    table: list[Any] = []
    specials: list[int] = []
    if isinstance(selector, MatchSelector):
        key = ("combinations", selector.parameters, id(rows))
        if key not in memo:
            memo[key] = _combinations(selector.parameters, columns, rows)
        plans, combo, invalid = _match_plans(selector, *memo[key])
        fallback = invalid[combo]
    elif type(selector) is UseAfterSelector:
        plans, combo = [[selector]], np.zeros(count, dtype=np.intp)
        fallback = np.zeros(count, dtype=bool)
    else:
        return choice, table, np.ones(count, dtype=bool), specials
    pending = ~fallback
    date_names: tuple[str, ...] | None = None
    dates_ok = np.zeros(count, dtype=bool)
    dates = np.zeros(count, dtype=np.int64)
    level = 0
    while pending.any():
        # the candidate of each combination at this level: none left (0: no match, which the
        # single path reports), a terminal (1), an encodable UseAfter (2), anything else (3)
        choices = [plan[level] if level < len(plan) else None for plan in plans]
        kinds = np.array([_kind(c) for c in choices], dtype=np.int8)
        parameters = [c.parameters if isinstance(c, Selector) else () for c in choices]
        row_kind = np.where(pending, kinds[combo], -1)
        fallback |= (row_kind == 0) | (row_kind == 3)
        terminal = row_kind == 1
        if terminal.any():
            index = np.full(len(choices), -1, dtype=np.int64)
            for position, candidate in enumerate(choices):
                if kinds[position] == 1:
                    index[position] = len(table)
                    specials.append(len(table))
                    table.append(candidate)
            choice[terminal] = index[combo[terminal]]
        dated = row_kind == 2
        pending = np.zeros(count, dtype=bool)
        if dated.any():
            if date_names is None:
                date_names = parameters[int(combo[np.flatnonzero(dated)[0]])]
                key = ("dates", date_names, id(rows))
                if key not in memo and all(name in columns for name in date_names):
                    memo[key] = encode_lookup_dates([columns[n] for n in date_names], rows)
                dates_ok, dates = memo.get(key, (dates_ok, dates))
            differ = np.array([kinds[p] == 2 and parameters[p] != date_names
                               for p in range(len(choices))], dtype=np.bool_)
            unusable = dated & (differ[combo] | ~dates_ok)
            fallback |= unusable
            dated &= ~unusable
            found, unsearched = _search(choices, kinds, combo, dated, dates, table, choice,
                                        specials)
            fallback |= unsearched
            pending = dated & ~found & ~unsearched
        level += 1
    return choice, table, fallback | (choice < 0), specials


def _kind(choice: Any) -> int:
    if choice is None:
        return 0
    if not isinstance(choice, Selector):
        return 1
    if type(choice) is UseAfterSelector and choice.encoded() is not None:
        return 2
    return 3


def _search(choices: list[Any], kinds: np.ndarray, combo: np.ndarray, dated: np.ndarray,
            dates: np.ndarray, table: list[Any], choice: np.ndarray, specials: list[int]
            ) -> tuple[np.ndarray, np.ndarray]:
    """One searchsorted over every UseAfter of this level, each shifted into its own block.

    Returns (found, unsearched): rows with a key <= their date (choice set), and rows left for
    the single path because there were too many distinct UseAfters to shift into blocks.
    """
    found = np.zeros(len(dated), dtype=bool)
    blocks: dict[int, int] = {}
    block_of = np.full(len(choices), -1, dtype=np.int64)
    keys: list[np.ndarray] = []
    starts: list[int] = []
    table_starts: list[int] = []
    size = 0
    for position, candidate in enumerate(choices):
        if kinds[position] != 2:
            continue
        block = blocks.get(id(candidate))
        if block is None:
            if len(keys) >= _MAX_BLOCKS:
                continue
            block = blocks[id(candidate)] = len(keys)
            encoded = candidate.encoded()
            keys.append(encoded + block * _BLOCK)
            starts.append(size)
            table_starts.append(len(table))
            table.extend(candidate.choices)
            specials.extend(table_starts[-1] + p for p in candidate.special_positions())
            size += len(encoded)
        block_of[position] = block
    rows = np.flatnonzero(dated)
    row_block = block_of[combo[rows]]
    unsearched = np.zeros(len(dated), dtype=bool)
    unsearched[rows[row_block < 0]] = True
    rows, row_block = rows[row_block >= 0], row_block[row_block >= 0]
    if not len(rows):
        return found, unsearched
    everything = np.concatenate(keys)
    position = np.searchsorted(everything, row_block * _BLOCK + dates[rows], side="right") - 1
    start = np.asarray(starts, dtype=np.int64)[row_block]
    hit = position >= start
    choice[rows[hit]] = (np.asarray(table_starts, dtype=np.int64)[row_block[hit]]
                         + position[hit] - start[hit])
    found[rows[hit]] = True
    return found, unsearched


def _combinations(parameters: tuple[str, ...], columns: dict[str, Column], rows: np.ndarray
                  ) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Return the distinct conditioned value tuples of `parameters` over `rows`, and each row's."""
    count = len(rows)
    parts: list[tuple[np.ndarray, list[str]]] = []
    for name in parameters:
        column = columns.get(name)
        if column is None:
            parts.append((np.zeros(count, dtype=np.intp), [UNDEFINED]))
        else:
            codes, values = column.conditioned()
            parts.append((codes[rows], values))
    first, combo = factorize([codes for codes, _ in parts], [len(v) for _, v in parts], count)
    keys = [tuple(values[int(codes[row])] for codes, values in parts) for row in first.tolist()]
    return keys, combo


def factorize(codes: Sequence[np.ndarray], sizes: Sequence[int], count: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of several code columns: (first row of each, index per row)."""
    total = 1
    for size in sizes:
        total *= max(size, 1)
    if total < (1 << 62):
        combined = np.zeros(count, dtype=np.int64)
        for column, size in zip(codes, sizes, strict=True):
            combined = combined * max(size, 1) + column
        unique, combo = np.unique(combined, return_inverse=True)
    else:
        unique, combo = np.unique(np.stack(codes), axis=1, return_inverse=True)
        unique = unique.T
    combo = combo.reshape(-1)
    first = np.zeros(len(unique), dtype=np.intp)
    first[combo[::-1]] = np.arange(count - 1, -1, -1)
    return first, combo


def _match_plans(selector: MatchSelector, keys: list[tuple[str, ...]], combo: np.ndarray
                 ) -> tuple[list[list[Any]], np.ndarray, np.ndarray]:
    """Per distinct parameter combination: its candidate choices, best first.

    Returns (plans, combo index per row, invalid per combination). A combination whose
    pre-validation fails or whose group cannot be merged is invalid (single-lookup path).
    """
    plans: list[list[Any]] = []
    invalid = np.zeros(len(keys), dtype=bool)
    for position, key in enumerate(keys):
        try:
            groups = selector.plan(key)
            plan = [selector.choices[g[0]] if len(g) == 1 else selector._group_choice(g)
                    for g in groups]
        except ReferenceLookupError:
            invalid[position] = True
            plan = []
        plans.append(plan)
    return plans, combo, invalid


class BulkSelections:
    """Per-row outcomes of a bulk lookup, stored by column.

    ``row(i)`` is what ``best_references(parameters_i, reftypes, errors="collect")`` returns
    for row ``i`` (and raises what it raises); ``values(reftype)`` gives one type's outcome per
    row without building Selection objects.
    """

    ABSENT: Final = -1
    FAILED: Final = -2

    def __init__(self, count: int) -> None:
        self.count = count
        self.codes: dict[str, np.ndarray] = {}
        self.tables: dict[str, list[Any]] = {}
        self.errors: dict[str, dict[int, Exception]] = {}
        self.row_errors: dict[int, Exception] = {}
        """Rows whose whole lookup failed (no or unknown instrument): row → exception."""
        self.groups: list[tuple[tuple[str, ...], Any]] = []  # (types, rmap names by type)
        self.group_of_row = np.full(count, -1, dtype=np.intp)

    def __len__(self) -> int:
        """Return the number of rows."""
        return self.count

    def _column(self, reftype: str) -> np.ndarray:
        found = self.codes.get(reftype)
        if found is None:
            found = self.codes[reftype] = np.full(self.count, self.ABSENT, dtype=np.int64)
            self.tables[reftype] = []
            self.errors[reftype] = {}
        return found

    def put(self, reftype: str, rows: np.ndarray, values: Any,
            table: list[Any] | None = None) -> None:
        """Store the outcomes of `rows` for `reftype`.

        With `table`, `values` are indexes into it (-1: absent); without, `values` is the one
        outcome of every row.
        """
        codes = self._column(reftype)
        mine = self.tables[reftype]
        if table is None:
            table, values = [values], np.zeros(len(rows), dtype=np.int64)  # one shared value
        offset = len(mine)
        mine.extend(table)
        values = np.asarray(values, dtype=np.int64)
        codes[rows] = np.where(values >= 0, values + offset, self.ABSENT)

    def fail(self, reftype: str, row: int, error: Exception) -> None:
        """Record one row's failure for one type."""
        self._column(reftype)[row] = self.FAILED
        self.errors[reftype][row] = error

    def value(self, reftype: str, row: int) -> Any:
        """Return the outcome of one row and type: a terminal, an exception, or None if absent."""
        code = int(self.codes[reftype][row]) if reftype in self.codes else self.ABSENT
        if code == self.FAILED:
            return self.errors[reftype][row]
        return None if code == self.ABSENT else self.tables[reftype][code]

    def values(self, reftype: str) -> list[Any]:
        """:meth:`value` for every row of one type."""
        codes = self.codes.get(reftype)
        if codes is None:
            return [None] * self.count
        table = [*self.tables[reftype], None]
        result = [table[c] for c in np.where(codes >= 0, codes, len(table) - 1).tolist()]
        for row, error in self.errors[reftype].items():
            result[row] = error
        return result

    def row(self, index: int) -> dict[str, Selection]:
        """Row `index` as ``best_references(..., errors="collect")`` gives it."""
        if index in self.row_errors:
            raise self.row_errors[index]
        types, rmaps = self.groups[self.group_of_row[index]]
        selections: dict[str, Selection] = {}
        for reftype in types:
            found = self.value(reftype, index)
            if isinstance(found, Exception):
                selections[reftype] = Selection(reftype, None, found, rmaps.get(reftype))
            elif found is not None:
                selections[reftype] = Selection(reftype, found, None, rmaps.get(reftype))
        return selections
