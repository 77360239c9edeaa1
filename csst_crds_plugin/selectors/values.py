"""Value conditioning (RULES.md §2) and the special N/A and OMIT values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from csst_crds_plugin.results import UNDEFINED

__all__ = [
    "NA_VALUES",
    "OMIT_VALUES",
    "KeyPlan",
    "condition_mapping",
    "condition_picked",
    "condition_value",
    "is_na_value",
    "is_omit_value",
]

# CRDS's number pattern, ^([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|[+-]?[0-9]+\.)$, written so
# that no digit can be matched in two ways: the same strings, in linear time (the original takes
# quadratic time on a long run of digits that ends in a dot).
_NUMBER_RE: Final = re.compile(
    r"^([-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[+-]?[0-9]+\.)$"
)
# Deliberately the ungrouped alternation CRDS uses: any value *starting* with "()", "N/A" or
# "NOT APPLICABLE" qualifies (RULES.md §2 step 3, a reproduced quirk).
_NA_RE: Final = re.compile(r"^-2147483648.0|\(\)|N/A|NOT APPLICABLE|NOT_APPLICABLE$")
_NUMBER_CHARS: Final = "+-.0123456789eE"
# Values every step leaves as they are, recognised at once (fresh times of day, dates): a digit
# first (so not N/A), then digits and dots up to a ':', 'T' or '-' (so not a number), then only
# those characters (so no case, no space, not special). Not cached: such values rarely recur.
_DATE_LIKE_RE: Final = re.compile(r"[0-9][0-9.]*[:T-][0-9.:T-]*\Z")
_NA_START: Final = "-(N"
_SPECIAL: Final = {
    "ANY": "*",
    "4294967295.0": "-1.0",
    "T": "T",
    "TRUE": "T",
    "F": "F",
    "FALSE": "F",
}

NA_VALUES: Final = frozenset({"N/A", "TEMP_N/A", "n/a", "temp_n/a"})
"""Terminal values meaning "not applicable" (exact strings)."""

OMIT_VALUES: Final = frozenset({"OMIT", "TEMP_OMIT", "omit", "temp_omit"})
"""Terminal values meaning "omit this type". Departure D4: ``temp_omit`` is OMIT here."""


_CACHE: dict[str, str] = {}
_CACHE_LIMIT: Final = 1 << 17



def condition_value(value: object) -> str:
    """Return `value` conditioned as CRDS conditions header values and Match keys.

    >>> condition_value(" fast ")
    'FAST'
    >>> condition_value(1), condition_value("00012"), condition_value("1e3")
    ('1.0', '12.0', '1000.0')
    >>> condition_value(True), condition_value("any"), condition_value("not applicable")
    ('T', '*', 'N/A')
    """
    text = value if type(value) is str else str(value)
    found = _CACHE.get(text)
    if found is not None:
        return found
    if _DATE_LIKE_RE.match(text):
        return text
    result = text.strip().upper()
    # Only strings made of number characters can match (the value is stripped, so `$` cannot
    # match before a final newline); the check is much cheaper than a failing match.
    if not result.strip(_NUMBER_CHARS) and _NUMBER_RE.match(result):
        result = repr(float(result))
    if result[:1] in _NA_START and _NA_RE.match(result):  # '' is in every string: harmless
        result = "N/A"
    else:
        result = _SPECIAL.get(result, result)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[text] = result
    return result


def is_na_value(value: object) -> bool:
    """Return True if a chosen terminal means "not applicable"."""
    return isinstance(value, str) and value in NA_VALUES


def is_omit_value(value: object) -> bool:
    """Return True if a chosen terminal means "omit this reference type"."""
    return isinstance(value, str) and value in OMIT_VALUES


def condition_mapping(parameters: Mapping[Any, object],  # any keys: non-str ones are dropped
                      meta_prefix: str = "") -> dict[str, str]:
    """Condition a flat parameter mapping: upper-case str keys, condition simple values.

    Keys that are not ``str`` and values that are not ``str``, ``int``, ``float`` or ``bool``
    are dropped; with a `meta_prefix` (the observatory's: Roman's ``ROMAN.``), ``META.`` keys
    become ``<prefix>META.`` (RULES.md §3.1).
    """
    header: dict[str, str] = {}
    cache = _CACHE
    for key, value in parameters.items():
        if type(value) is str:
            found = cache.get(value)
            if found is None:
                found = condition_value(value)
        elif isinstance(value, (str, int, float, bool)):
            found = condition_value(value)
        else:
            continue
        if not isinstance(key, str):
            continue
        name = key.upper()
        if meta_prefix and name.startswith("META."):
            name = meta_prefix + name
        header[name] = found
    return header


class KeyPlan:
    """Conditioning for parameter mappings of one shape (their keys, in order), by name.

    Only the names a lookup reads are conditioned, with the same result as
    :func:`condition_mapping` (where a later key of the same name wins, unless its value is
    dropped): a header of hundreds of keys costs only the few the rules read.
    """

    __slots__ = ("_raws", "_reads")

    def __init__(self, keys: tuple[object, ...], meta_prefix: str = "") -> None:
        raws: dict[str, list[str]] = {}
        for key in keys:
            if not isinstance(key, str):
                continue
            name = key.upper()
            if meta_prefix and name.startswith("META."):
                name = meta_prefix + name
            raws.setdefault(name, []).append(key)
        self._raws = {name: tuple(reversed(found)) for name, found in raws.items()}  # last first
        # per tuple of names: (name, its only raw key or None, all its raw keys or None)
        self._reads: dict[tuple[str, ...], tuple[tuple[str, str | None,
                                                       tuple[str, ...] | None], ...]] = {}

    def first(self, parameters: Mapping[str, object], names: tuple[str, ...]) -> str | None:
        """Return the first of `names` whose conditioned value is neither absent nor UNDEFINED."""
        for name in names:
            raws = self._raws.get(name)
            if raws is not None:
                value = condition_picked(parameters, raws)
                if value is not None and value != UNDEFINED:
                    return value
        return None

    def minimal(self, parameters: Mapping[str, object], names: tuple[str, ...]) -> dict[str, str]:
        """``{name: conditioned value}`` for `names`; absent (or dropped) ones are UNDEFINED."""
        reads = self._reads.get(names)
        if reads is None:
            reads = self._reads[names] = tuple(
                (name, raws[0] if raws is not None and len(raws) == 1 else None, raws)
                for name in names for raws in (self._raws.get(name),)
            )
        minimal = {}
        cached = _CACHE.get
        for name, raw, raws in reads:
            if raw is not None:  # one raw key (the usual case): condition_picked, inline
                value = parameters[raw]
                if type(value) is str:
                    found = cached(value)
                    minimal[name] = found if found is not None else condition_value(value)
                    continue
            found = None if raws is None else condition_picked(parameters, raws)
            minimal[name] = UNDEFINED if found is None else found
        return minimal


def condition_picked(parameters: Mapping[str, object], raws: tuple[str, ...]) -> str | None:
    """Return the conditioned value ``condition_mapping`` would keep for one name, or None."""
    for raw in raws:
        value = parameters[raw]
        if type(value) is str:
            found = _CACHE.get(value)
            return found if found is not None else condition_value(value)
        if isinstance(value, (str, int, float, bool)):
            return condition_value(value)
    return None
