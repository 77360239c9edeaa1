"""The CRDS ambiguity check (RULES.md §4.2): Match rules that tie at the same weight.

Key K is an *equal-weight special case* of key O when O matches every value K matches (``*``
in O covers anything, ``N/A`` on either side is covered, an or-set covers its subsets) and both
have the same number of non-N/A positions. CRDS certify reports it (an error except for HST);
the lookup merges such rules or, with merging off, fails as ambiguous. Keys are compared after
conditioning, so ``'06'`` and ``'6'`` are equal keys.

Beyond CRDS, *partial* overlaps are found too: two keys neither of which covers the other but
which both match some values at the same weight (``('06', '*')`` and ``('*', 'FAST')`` for
06/FAST; ``'06|08'`` and ``'08|13'`` for 08).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["equal_weight", "find_overlaps", "match_superset", "partial_overlap"]

ConditionedKey = tuple[str, ...]


def match_superset(general: ConditionedKey, special: ConditionedKey) -> bool:
    """Tell whether `general` matches every value `special` matches (CRDS ``match_superset``)."""
    for outer, inner in zip(general, special, strict=True):
        if outer == inner or outer == "*" or "N/A" in (outer, inner):
            continue
        if inner == "*":
            return False
        if set(outer.split("|")) > set(inner.split("|")):
            continue
        return False
    return True


def equal_weight(first: ConditionedKey, second: ConditionedKey) -> bool:
    """Return True when both keys have the same number of non-N/A positions where they differ."""
    first_count = second_count = len(first)
    for a, b in zip(first, second, strict=True):
        if a == "N/A" and b != "N/A":
            first_count -= 1
        elif b == "N/A" and a != "N/A":
            second_count -= 1
    return first_count == second_count


def partial_overlap(first: ConditionedKey, second: ConditionedKey) -> bool:
    """Return True when some values (other than N/A) match both keys at the same weight."""
    for a, b in zip(first, second, strict=True):
        if (a == "N/A") != (b == "N/A"):
            return False  # one cares, the other not: the weights differ
        if a == b or "*" in (a, b):
            continue
        if not set(a.split("|")) & set(b.split("|")):
            return False
    return True


def _general(key: ConditionedKey) -> bool:
    return any(part == "*" or part == "N/A" or "|" in part for part in key)


def find_overlaps(keys: Sequence[ConditionedKey]) -> list[tuple[int, int, str]]:
    """Pairs ``(i, j, kind)`` of key indexes that tie at the same weight.

    `kind` is ``equal`` (the same key after conditioning; i is the later one), ``special``
    (i is an equal-weight special case of j, the CRDS check) or ``partial`` (they only
    intersect). Only keys with ``*``, ``N/A`` or an or-set can cover or intersect another key,
    so the cost is keys × such keys.
    """
    found: list[tuple[int, int, str]] = []
    first_of: dict[ConditionedKey, int] = {}
    for index, key in enumerate(keys):
        if key in first_of:
            found.append((index, first_of[key], "equal"))
        else:
            first_of[key] = index
    general = [i for i, key in enumerate(keys) if _general(key) and first_of[key] == i]
    general_set = set(general)
    for index, key in enumerate(keys):
        if first_of[key] != index:
            continue
        for other in general:
            if other == index:
                continue
            covers = match_superset(keys[other], key) and equal_weight(key, keys[other])
            if covers:
                if match_superset(key, keys[other]) and other < index:
                    continue  # mutual supersets (e.g. N/A against *): report the pair once
                found.append((index, other, "special"))
            elif index in general_set and other > index and not (
                match_superset(key, keys[other]) and equal_weight(key, keys[other])
            ) and partial_overlap(key, keys[other]):
                found.append((index, other, "partial"))
    return found
