"""What counts as a changed selection, and how outcomes are written in reports.

The outcome of a dataset and a reference type under one context is one of:

* a **value**: a file name, a tuple of names, a mapping of names, or N/A;
* **absent**: the type is omitted (OMIT) or not a type of the instrument's imap;
* an **error category** (RULES.md §6.2).

A failure of the whole lookup (no or unknown instrument, an imap that is N/A) has no types of
its own; it stands as the outcome of every type the other context gives.

The types compared for a dataset are those in either context's results (omitted types are not
in the results). A type is *affected* when its outcomes differ: a value changes, a value
becomes an error or absent (or the reverse), or the error category changes. Two errors of the
same category are the same outcome even if their messages differ. A dataset with no type in
either result is affected when its whole lookup fails in one context only, or fails in both
with different categories; it is reported under the type ``*``.

Reports write a value as bestrefs does (``"x.fits"``, a list, ``{"map": ...}``, ``"N/A"``), an
error as ``{"error": CATEGORY, "message": TEXT}`` and absent as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from csst_crds_plugin.results import Selection, category_of, encode_value

__all__ = ["ALL_TYPES", "compare_rows", "error_outcome", "outcome_key", "outcome_text"]

ALL_TYPES: Final = "*"
"""The pseudo reference type of a whole-lookup failure that changed category."""

Row = Mapping[str, Selection] | BaseException


def error_outcome(exc: BaseException) -> dict[str, str]:
    """Return the report form of an error."""
    return {"error": category_of(exc), "message": str(exc)}


def outcome_key(value: object) -> tuple[Any, ...]:
    """Return a hashable key, equal for outcomes that count as the same (see the module doc)."""
    if isinstance(value, BaseException):
        return ("error", category_of(value))
    if value is None:
        return ("absent",)
    return ("value", value)


def _side(row: Row, reftype: str) -> tuple[tuple[Any, ...], object]:
    if isinstance(row, BaseException):
        return outcome_key(row), error_outcome(row)
    selection = row.get(reftype)
    if selection is None:
        return outcome_key(None), None
    if selection.error is not None:
        return outcome_key(selection.error), error_outcome(selection.error)
    return outcome_key(selection.value), encode_value(selection.value)


def compare_rows(old: Row, new: Row) -> dict[str, tuple[object, object]]:
    """``{reftype: (old outcome, new outcome)}`` for the affected types of one dataset.

    `old` and `new` are ``best_references(..., errors="collect")`` results, or the exception
    the whole call raised.
    """
    types = sorted({t for row in (old, new) if not isinstance(row, BaseException) for t in row})
    changes: dict[str, tuple[object, object]] = {}
    for reftype in types:
        (old_key, old_out), (new_key, new_out) = _side(old, reftype), _side(new, reftype)
        if old_key != new_key:
            changes[reftype] = (old_out, new_out)
    if not types and (isinstance(old, BaseException) or isinstance(new, BaseException)):
        old_key = outcome_key(old) if isinstance(old, BaseException) else ("ok",)
        new_key = outcome_key(new) if isinstance(new, BaseException) else ("ok",)
        if old_key != new_key:
            changes[ALL_TYPES] = (
                error_outcome(old) if isinstance(old, BaseException) else None,
                error_outcome(new) if isinstance(new, BaseException) else None,
            )
    return changes


def outcome_text(outcome: object) -> str:
    """Render in one cell for CSV and tables: a name, names joined by spaces, ``error:cat``."""
    if outcome is None:
        return "(absent)"
    if isinstance(outcome, str):
        return outcome
    if isinstance(outcome, list):
        return " ".join(outcome_text(item) for item in outcome)
    if isinstance(outcome, dict) and "error" in outcome:
        return f"error:{outcome['error']}"
    if isinstance(outcome, dict) and "map" in outcome:
        return " ".join(f"{k}={outcome_text(v)}" for k, v in sorted(outcome["map"].items()))
    return str(outcome)
