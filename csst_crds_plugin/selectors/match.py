"""Match: weighted matching of header values against key tuples (RULES.md §4.2)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from csst_crds_plugin.errors import AmbiguousMatchError, InvalidValueError, RuleValidationError
from csst_crds_plugin.results import UNDEFINED
from csst_crds_plugin.selectors.base import (
    Choice,
    FallbackNoMatchError,
    Header,
    Selector,
)
from csst_crds_plugin.selectors.matchers import Matcher, glob_list, is_esoteric, make_matcher
from csst_crds_plugin.selectors.useafter import UseAfterSelector
from csst_crds_plugin.selectors.values import condition_value

__all__ = ["MatchSelector"]

_WILD = frozenset({"*", "N/A"})
_PLAN_LIMIT = 1 << 14


def _condition_element(element: Any) -> str:
    if isinstance(element, str):
        if (element.startswith("{") and element.endswith("}")) or (
            element.startswith("(") and element.endswith(")")
        ):
            return element
        if "|" in element:
            return "|".join(condition_value(part) for part in glob_list(element))
        return condition_value("|".join(glob_list(element)))
    if isinstance(element, (tuple, list)):
        return "|".join(condition_value(part) for part in element)
    return condition_value(element)


class MatchSelector(Selector, rule_name="Match"):
    """Chooses by matching each parameter against a column of key elements."""

    @classmethod
    def condition_key(cls, key: Any, parameters: tuple[str, ...]) -> tuple[str, ...]:
        """Condition each element of a key tuple; a scalar key means a 1-tuple."""
        elements = key if isinstance(key, tuple) else (key,)
        conditioned = tuple(_condition_element(element) for element in elements)
        if len(conditioned) != len(parameters):
            raise RuleValidationError(
                f"Match key={conditioned!r} is wrong length for parameters {parameters!r}"
            )
        return conditioned

    def _setup(self) -> None:
        try:
            self.matchers: list[tuple[Matcher, ...]] = [
                tuple(make_matcher(element) for element in key) for key in self.keys
            ]
        except (ValueError, TypeError) as exc:
            raise RuleValidationError(f"{self.options.rmap}: bad Match key: {exc}") from exc
        self._values: dict[str, list[str]] = {}
        count = len(self.keys)
        self._exact: list[dict[str, frozenset[int]]] = []
        self._inexact: list[frozenset[int]] = []
        for column, name in enumerate(self.parameters):
            values: set[str] = set()
            esoteric = False
            index: dict[str, set[int]] = {}
            inexact: set[int] = set()
            for row in range(count):
                element = self.keys[row][column]
                if is_esoteric(element):
                    esoteric = True
                values.update(glob_list(element))
                matcher = self.matchers[row][column]
                if matcher.kind == "exact" and type(matcher) is Matcher:
                    index.setdefault(matcher.key, set()).add(row)
                else:
                    inexact.add(row)
            self._values[name] = [] if esoteric else sorted(values)
            self._exact.append({value: frozenset(rows) for value, rows in index.items()})
            self._inexact.append(frozenset(inexact))
        self._all = frozenset(range(count))
        self._merged: dict[tuple[int, ...], Choice] = {}
        self._value_sets = {name: frozenset(values) for name, values in self._values.items()}
        # Every element a plain exact matcher: a header tuple without '*' or 'N/A' matches at
        # most the one row whose key equals it, at weight -len(parameters).
        self._tuple_index: dict[tuple[str, ...], int] | None = None
        if all(type(m) is Matcher and m.kind == "exact" for row in self.matchers for m in row):
            self._tuple_index = {key: row for row, key in enumerate(self.keys)}
        # lookup key -> weight groups, or the pre-validation message; depends on the key only.
        self._plans: dict[tuple[str, ...], list[list[int]] | str] = {}

    def value_list(self, parameter: str) -> list[str] | None:
        """The conditioned values of the parameter's column (``[]`` if any key is esoteric)."""
        return self._values.get(parameter, [])

    # -- pre-validation ------------------------------------------------------------------------
    def _valid(self, name: str, value: str, valid: list[str]) -> bool:
        if value in valid or condition_value(value) in valid:
            return True
        if "*" in valid or "ANY" in valid or "N/A" in valid or not valid:
            return True
        if value.startswith("NOT"):
            return self._valid(name, value[len("NOT"):].strip(), valid)
        if is_esoteric(value) or value in ("*", "ANY", "N/A"):
            return True
        if value.lower().startswith("between"):
            words = value.split()
            return len(words) == 3 and all(self._valid(name, w, valid) for w in words[1:])
        if len(valid) == 1 and ":" in valid[0]:
            low, high = (float(x) for x in valid[0].split(":"))
            try:
                return low <= float(value) <= high
            except ValueError:
                return False
        table = self.options.substitutions.get(name)
        if table and value in table:
            target = table[value]
            return isinstance(target, str) and self._valid(name, target, valid)
        return False

    def lookup_key(self, header: Header) -> tuple[str, ...]:
        """Pre-validate each parameter value; return the tuple of header values."""
        values = tuple(header.get(name, UNDEFINED) for name in self.parameters)
        message = self._invalid(values)
        if message is not None:
            raise InvalidValueError(message)
        return values

    def _invalid(self, values: tuple[str, ...]) -> str | None:
        """The pre-validation failure message for a lookup key, or None."""
        for name, value in zip(self.parameters, values, strict=True):
            if value in self._value_sets[name]:
                continue
            valid = self._values[name]
            if not self._valid(name, value, valid):
                return f" parameter={name!r} value={value!r} is not in {valid!r}"
        return None

    # -- matching ------------------------------------------------------------------------------
    def weigh(self, values: Sequence[str]) -> list[tuple[int, int]]:
        """Return (weight, row) for every surviving row, in row order (lower weight is better)."""
        if self._tuple_index is not None and not any(value in _WILD for value in values):
            row = self._tuple_index.get(tuple(values))
            return [] if row is None else [(-len(self.parameters), row)]
        rows = self._all
        for column, value in enumerate(values):
            if value in _WILD:
                continue
            rows = rows & (self._exact[column].get(value, frozenset()) | self._inexact[column])
            if not rows:
                return []
        result = []
        for row in sorted(rows):
            weight = 0
            for matcher, value in zip(self.matchers[row], values, strict=True):
                status = matcher.match(value)
                if status == -1:
                    break
                weight -= status
            else:
                result.append((weight, row))
        return result

    def verdicts(self, values: Sequence[str]) -> list[tuple[int, ...]]:
        """Per row, each parameter's verdict: 1 match, 0 don't care, -1 no match."""
        return [tuple(m.match(v) for m, v in zip(row, values, strict=True))
                for row in self.matchers]

    def nearest(self, values: Sequence[str]) -> list[tuple[int, list[int]]]:
        """``(row, its verdicts)`` ordered by fewest failing parameters, then most specific.

        For messages and traces: why no row (or which rows) match `values`.
        """
        verdicts = self.verdicts(values)
        order = sorted(range(len(verdicts)), key=lambda row: (
            sum(1 for s in verdicts[row] if s == -1), -sum(s for s in verdicts[row] if s > 0),
            row))
        return [(row, list(verdicts[row])) for row in order]

    def describe_nearest(self, values: Sequence[str], limit: int = 3) -> str:
        """The `limit` nearest rows, each with the parameters it fails (for error messages)."""
        if not self.parameters:
            return ""
        parts = []
        for row, statuses in self.nearest(values)[:limit]:
            failed = [name for name, s in zip(self.parameters, statuses, strict=True) if s == -1]
            why = f"fails {', '.join(failed)}" if failed else "matches, but no date/version fits"
            parts.append(f"{self.raw_keys[row]!r} ({why})")
        return "; ".join(parts)

    def groups(self, values: Sequence[str]) -> list[list[int]]:
        """Rows grouped by equal weight, best group first, rows in key order."""
        by_weight: dict[int, list[int]] = {}
        for weight, row in self.weigh(values):
            by_weight.setdefault(weight, []).append(row)
        return [by_weight[w] for w in sorted(by_weight)]

    def plan(self, values: tuple[str, ...]) -> list[list[int]]:
        """Pre-validate a lookup key and return its weight groups (memoised per key).

        Raises InvalidValueError as :meth:`lookup_key` does.
        """
        found = self._plans.get(values)
        if found is None:
            message = self._invalid(values)
            found = message if message is not None else self.groups(values)
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            self._plans[values] = found
        if isinstance(found, str):
            raise InvalidValueError(found)
        return found

    def choose(self, header: Header) -> Choice:
        """The base algorithm with the per-key work memoised (same results and errors)."""
        for name in self.parameters:
            if name not in header:
                self.check_defined(header)
        groups = self.plan(tuple([header.get(name, UNDEFINED) for name in self.parameters]))
        for rows in groups:
            choice = self.choices[rows[0]] if len(rows) == 1 else self._group_choice(rows)
            if isinstance(choice, Selector):
                try:
                    return choice.choose(header)
                except FallbackNoMatchError:
                    continue
            return choice
        raise FallbackNoMatchError("No match found.")

    def direct_target(self, values: tuple[str, ...]) -> UseAfterSelector | None:
        """The UseAfter that the best (single) row of a lookup key leads to, or None.

        When that UseAfter yields a file, :meth:`choose` returns that file: the first weight
        group is tried first and a success ends the search.
        """
        try:
            groups = self.plan(values)
        except InvalidValueError:
            return None
        if not groups or len(groups[0]) != 1:
            return None
        choice = self.choices[groups[0][0]]
        return choice if isinstance(choice, UseAfterSelector) else None

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield each weight group's choice (merged for ties); end with "No match found."."""
        for rows in self.groups(key):
            yield self._group_choice(rows)
        raise FallbackNoMatchError("No match found.")

    def _group_choice(self, rows: list[int]) -> Choice:
        if len(rows) == 1:
            return self.choices[rows[0]]
        if not self.options.merge_overlaps:
            raise AmbiguousMatchError("More than one match clause matched.")
        group = tuple(rows)
        if group in self._merged:
            return self._merged[group]
        choices = [self.choices[row] for row in rows]
        first = choices[0]
        if isinstance(first, Selector):
            if not all(isinstance(c, Selector) for c in choices[1:]):
                raise AmbiguousMatchError(  # departure D5
                    "More than one match clause matched, mixing selectors and files."
                )
            merged: Choice = first.merge(choices[1:])
        elif any(isinstance(c, Selector) for c in choices):
            raise AmbiguousMatchError(  # departure D5
                "More than one match clause matched, mixing files and selectors."
            )
        else:
            merged = tuple(choices)
        self._merged[group] = merged
        return merged
