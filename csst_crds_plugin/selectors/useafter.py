"""UseAfter: the latest date not after the observation (RULES.md §4.3)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Any, Final, Literal

import numpy as np

from csst_crds_plugin.errors import (
    AmbiguousMatchError,
    InvalidDateError,
    ReferenceLookupError,
    RuleValidationError,
)
from csst_crds_plugin.results import UNDEFINED
from csst_crds_plugin.selectors.base import Choice, FallbackNoMatchError, Header, Selector
from csst_crds_plugin.selectors.dates import (
    DateFormatError,
    UndefinedDateError,
    encode_instant,
    is_plain_clock,
    is_plain_day,
    reformat_date,
    seconds_field,
)
from csst_crds_plugin.selectors.values import NA_VALUES, OMIT_VALUES

__all__ = ["UseAfterSelector", "lookup_date"]


_DIGIT_COLUMNS: Final = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_SEPARATOR_COLUMNS: Final = [4, 7, 10, 13, 16]
_SEPARATORS: Final = np.array([ord(c) for c in "-- ::"], dtype=np.int64)
_DATES: dict[str, str | Exception] = {}
_DATES_LIMIT = 1 << 16


def _reformat(text: str) -> str | Exception:
    found = _DATES.get(text)
    if found is None:
        try:
            found = reformat_date(text)
        except DateFormatError as exc:  # UndefinedDateError included
            found = exc
        if len(_DATES) >= _DATES_LIMIT:
            _DATES.clear()
        _DATES[text] = found
    return found


def lookup_date(selector: Selector, header: Header) -> str:
    """Join the date parameters with spaces, parse and return ``YYYY-MM-DD HH:MM:SS[.f]``."""
    names = selector.parameters
    if len(names) == 2:  # the common (DATE, TIME) pair, without the general loop
        first, second = header[names[0]].strip(), header[names[1]].strip()
        if first != UNDEFINED and second != UNDEFINED:
            raw = f"{first} {second}".strip()
            result = _DATES.get(raw)
            if result is None:
                try:
                    result = reformat_date(raw)
                except DateFormatError:
                    result = None  # the general path below raises
                else:
                    if len(_DATES) >= _DATES_LIMIT:
                        _DATES.clear()
                    _DATES[raw] = result
            if type(result) is str:
                return result
    parts = []
    for name in selector.parameters:
        value = header[name].strip()
        if value == UNDEFINED:
            raise InvalidDateError(f"{selector.rule_name} parameter {name!r} is UNDEFINED.")
        parts.append(value)
    raw = " ".join(parts).strip()
    result = _reformat(raw)
    if isinstance(result, UndefinedDateError):
        raise InvalidDateError(str(result))
    if isinstance(result, Exception):
        raise InvalidDateError(
            f"{selector.rule_name} Invalid date/time format for {selector.parameters!r} "
            f"value = {raw!r} exception is {str(result)!r}"
        )
    return result


class UseAfterSelector(Selector, rule_name="UseAfter"):
    """Keys are date strings compared as strings; the greatest key <= the date wins."""

    can_merge = True
    _plain_choose = False

    @classmethod
    def condition_key(cls, key: Any, parameters: tuple[str, ...]) -> Any:
        """Keys stay raw strings (departure D7 not taken: certify reports non-canonical keys)."""
        if not isinstance(key, str):
            raise RuleValidationError(f"{cls.rule_name} key {key!r} is not a string")
        return key

    def _setup(self) -> None:
        cls = type(self)
        self._plain_choose = (  # and keys are str
            cls.candidates is UseAfterSelector.candidates
            and cls.lookup_key is UseAfterSelector.lookup_key
            and _unchanged_condition_key(cls)
        )

    @classmethod
    def condition_keys(cls, keys: list[Any], parameters: tuple[str, ...]) -> list[Any]:
        """All keys at once: plain strings (the usual case) are kept as they are."""
        if _unchanged_condition_key(cls) and set(map(type, keys)) == {str}:
            return keys
        return super().condition_keys(keys, parameters)

    def encoded(self) -> np.ndarray | None:
        """Return the keys as `encode_instant` integers, for vectorised lookups (cached).

        None unless every key is canonical (``YYYY-MM-DD HH:MM:SS``, so integer order is string
        order) and every choice is a terminal.
        """
        cached: np.ndarray | None | Literal[False] = self.__dict__.get("_encoded", False)
        if cached is False:
            found: np.ndarray | None = None
            keys = np.asarray(self.keys, dtype=str) if self.keys else None
            if (keys is not None and keys.dtype.itemsize == 19 * 4
                    and not any(isinstance(c, Selector) for c in self.choices)):
                codes = keys.view(np.uint32).reshape(len(keys), 19).astype(np.int64)
                digits = codes[:, _DIGIT_COLUMNS] - 48
                if ((digits >= 0) & (digits <= 9)).all() and \
                        (codes[:, _SEPARATOR_COLUMNS] == _SEPARATORS).all():
                    number = np.zeros(len(keys), dtype=np.int64)
                    for column in range(digits.shape[1]):
                        number = number * 10 + digits[:, column]
                    found = encode_instant(number)
            self._encoded = found
            return found
        return cached

    def special_positions(self) -> list[int]:
        """Positions of choices meaning N/A or OMIT (cached)."""
        found = self.__dict__.get("_special")
        if found is None:
            special = NA_VALUES | OMIT_VALUES
            found = self._special = [i for i, c in enumerate(self.choices)
                                     if type(c) is str and c in special]
        return found

    def value_list(self, parameter: str) -> list[str] | None:
        """UseAfter's value list is just ``*``, so a missing date always fails the check."""
        return ["*"]

    def lookup_key(self, header: Header) -> Any:
        """Return the normalised observation date."""
        return lookup_date(self, header)

    def position(self, key: Any) -> int:
        """Return the index of the greatest key <= the lookup `key`, or -1 when every key is later.

        UseAfter's rule, written once: :meth:`choose`, :meth:`choose_file`, :meth:`candidates`
        and ``explain`` all ask here (the bulk path's ``searchsorted`` is held to it by
        tests/test_engine/test_selector_paths.py).
        """
        return bisect.bisect_right(self.keys, key) - 1

    def choose(self, header: Header) -> Choice:
        """Choose as the base algorithm does, unrolled for UseAfter's one candidate."""
        if not self._plain_choose:
            return super().choose(header)
        for name in self.parameters:
            if name not in header:
                self.check_defined(header)
        key = lookup_date(self, header)
        index = self.position(key)
        if index < 0:
            raise FallbackNoMatchError(f"No selection <= {key!r}")
        choice = self.choices[index]
        if isinstance(choice, Selector):
            try:
                return choice.choose(header)
            except FallbackNoMatchError as exc:
                raise FallbackNoMatchError(f"All lookup attempts failed. last exception: {exc}") \
                    from None
        return choice

    def choose_file(self, header: Header) -> str | None:
        """Return the file :meth:`choose` returns when it plainly succeeds with one; else None.

        A shortcut for callers that fall back to :meth:`choose` on None (which then raises, or
        returns, exactly what it always does).
        """
        if not self._plain_choose:
            return None
        names = self.parameters
        if len(names) == 2:
            try:
                day, clock = header[names[0]], header[names[1]]
            except KeyError:
                return None
            if is_plain_day(day) and is_plain_clock(clock):
                # day + " " + clock is a date reformat_date accepts; its canonical form sorts
                # after exactly the keys before `day` unless a key starts with `day` (a key
                # and the lookup key first differ within their first ten characters, and the
                # keys starting with `day` are the first keys not before it).
                keys = self.keys
                index = bisect.bisect_left(keys, day)
                if index < len(keys) and keys[index].startswith(day):
                    key = f"{day} {clock[:5]}{seconds_field(clock[6:])}"  # as reformat_date
                    index = bisect.bisect_right(keys, key, index)
                if index:
                    choice = self.choices[index - 1]
                    return choice if type(choice) is str else None
                return None
        try:
            key = lookup_date(self, header)
        except (ReferenceLookupError, KeyError):
            return None
        index = self.position(key)
        if index < 0:
            return None
        choice = self.choices[index]
        return choice if type(choice) is str else None

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield the one choice with the greatest key <= the lookup key."""
        index = self.position(key)
        if index < 0:
            raise FallbackNoMatchError(f"No selection <= {key!r}")
        yield self.choices[index]

    def merge(self, others: Sequence[Choice]) -> Selector:
        """Sorted union of the (key, choice) lists; on equal keys the greater file name wins."""
        keys, choices, raws = list(self.keys), list(self.choices), list(self.raw_keys)
        for other in others:
            if not isinstance(other, Selector) or not other.can_merge:
                name = getattr(other, "rule_name", "a file")
                raise AmbiguousMatchError(
                    f"More than one match was found at the same weight and {name} "
                    "does not support merging."
                )
            keys, choices, raws = _merge_sorted(keys, choices, raws, other)
        return type(self)(self.parameters, keys, choices, self.options, raws)


def _unchanged_condition_key(cls: type[UseAfterSelector]) -> bool:
    """Tell whether `cls` keeps UseAfter's own `condition_key` (plain string keys stay as is)."""
    return getattr(cls.condition_key, "__func__", None) is _CONDITION_KEY


_CONDITION_KEY: Final = UseAfterSelector.__dict__["condition_key"].__func__


def _merge_sorted(
    keys: list[Any], choices: list[Choice], raws: list[Any], other: Selector
) -> tuple[list[Any], list[Choice], list[Any]]:
    out_k: list[Any] = []
    out_c: list[Choice] = []
    out_r: list[Any] = []
    i = j = 0
    while i < len(keys) and j < len(other.keys):
        if keys[i] < other.keys[j]:
            out_k.append(keys[i])
            out_c.append(choices[i])
            out_r.append(raws[i])
            i += 1
        elif other.keys[j] < keys[i]:
            out_k.append(other.keys[j])
            out_c.append(other.choices[j])
            out_r.append(other.raw_keys[j])
            j += 1
        else:
            mine, theirs = choices[i], other.choices[j]
            if isinstance(mine, Selector) or isinstance(theirs, Selector):
                raise AmbiguousMatchError(
                    f"More than one match at {keys[i]!r} and nested selectors cannot be merged."
                )
            try:
                keep_mine = mine >= theirs  # type: ignore[operator]  # TypeError handled below
            except TypeError:  # a file name against a tuple of them: CRDS fails here too
                raise ReferenceLookupError(
                    f"More than one match at {keys[i]!r}, and its choices {mine!r} and "
                    f"{theirs!r} cannot be ordered to pick one; give the equally weighted "
                    "Match rules the same kind of choice (one file, or a tuple of files)."
                ) from None
            out_k.append(keys[i])
            out_c.append(mine if keep_mine else theirs)
            out_r.append(raws[i] if keep_mine else other.raw_keys[j])
            i += 1
            j += 1
    out_k += keys[i:] + other.keys[j:]
    out_c += choices[i:] + other.choices[j:]
    out_r += raws[i:] + other.raw_keys[j:]
    return out_k, out_c, out_r
