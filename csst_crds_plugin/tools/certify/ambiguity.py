"""The CRDS ambiguity check (RULES.md §4.2): Match rules that tie at the same weight.

Key K is an *equal-weight special case* of key O when O matches every value K matches (``*``
in O covers anything, ``N/A`` on either side is covered, an or-set covers its subsets) and both
have the same number of non-N/A positions. CRDS certify reports it (an error except for HST);
the lookup merges such rules or, with merging off, fails as ambiguous. Keys are compared after
conditioning, so ``'06'`` and ``'6'`` are equal keys.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["equal_weight", "find_overlaps", "match_superset"]

ConditionedKey = tuple[str, ...]


def match_superset(general: ConditionedKey, special: ConditionedKey) -> bool:
    """True when `general` matches every value `special` matches (CRDS ``match_superset``)."""
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
    """True when both keys have the same number of non-N/A positions where they differ."""
    first_count = second_count = len(first)
    for a, b in zip(first, second, strict=True):
        if a == "N/A" and b != "N/A":
            first_count -= 1
        elif b == "N/A" and a != "N/A":
            second_count -= 1
    return first_count == second_count


def _general(key: ConditionedKey) -> bool:
    return any(part == "*" or part == "N/A" or "|" in part for part in key)


def find_overlaps(keys: Sequence[ConditionedKey]) -> list[tuple[int, int, bool]]:
    """Pairs ``(special, general, equal)`` of key indexes that tie at the same weight.

    `equal` marks keys that are the same after conditioning (reported once, as (later,
    first)). Only keys with ``*``, ``N/A`` or an or-set can be the general one, so the cost is
    keys × general keys.
    """
    found: list[tuple[int, int, bool]] = []
    first_of: dict[ConditionedKey, int] = {}
    for index, key in enumerate(keys):
        if key in first_of:
            found.append((index, first_of[key], True))
        else:
            first_of[key] = index
    general = [i for i, key in enumerate(keys) if _general(key) and first_of[key] == i]
    for index, key in enumerate(keys):
        if first_of[key] != index:
            continue
        for other in general:
            if other != index and match_superset(keys[other], key) \
                    and equal_weight(key, keys[other]):
                if match_superset(key, keys[other]) and other < index:
                    continue  # mutual supersets (e.g. N/A against *): report the pair once
                found.append((index, other, False))
    return found
