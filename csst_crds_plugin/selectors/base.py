"""The selector framework (RULES.md §4.1): a registry of rule names, conditioning and choose()."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Final, TypeAlias, Union

from csst_crds_plugin.errors import (
    AmbiguousMatchError,
    InvalidNumberError,
    MissingParameterError,
    NoMatchError,
    RuleValidationError,
)

__all__ = [
    "DEFAULT_SUBSTITUTIONS",
    "Choice",
    "FallbackNoMatchError",
    "Header",
    "Selector",
    "SelectorOptions",
    "selector_class",
]

Header: TypeAlias = Mapping[str, str]
Choice: TypeAlias = Union[str, tuple[Any, ...], Mapping[str, str], "Selector"]

DEFAULT_SUBSTITUTIONS: Mapping[str, Mapping[object, object]] = MappingProxyType({
    "META.SUBARRAY.NAME": {"GENERIC": "N/A"},
    "SUBARRAY": {"GENERIC": "N/A"},
})
"""Built-in substitutions applied to every rmap (RULES.md §4.9)."""


class FallbackNoMatchError(NoMatchError):
    """A lookup-class failure: an enclosing selector moves on to its next candidate."""


@dataclass(frozen=True, slots=True)
class SelectorOptions:
    """The rmap header facts selectors need."""

    rmap: str = "<rules>"
    merge_overlaps: bool = True
    substitutions: Mapping[str, Mapping[object, object]] = field(
        default_factory=lambda: DEFAULT_SUBSTITUTIONS
    )


_REGISTRY: dict[str, type[Selector]] = {}


def selector_class(rule_name: str) -> type[Selector]:
    """Return the selector class registered for a rule name such as ``'UseAfter'``."""
    return _REGISTRY[rule_name]


def registered_rule_names() -> frozenset[str]:
    """Every rule name a selector class registered (the parser accepts exactly these)."""
    return frozenset(_REGISTRY)


def _strictly_increasing(items: Sequence[Any]) -> bool:
    """Whether every item is less than the next (TypeError for items that do not compare)."""
    return all(map(operator.lt, items, itertools.islice(items, 1, None)))


def _ordered_columns(
    entries: Sequence[tuple[Any, Choice]],
) -> tuple[list[Any], list[Choice]] | None:
    """Return (keys, choices) of entries kept as columns, if their keys strictly increase.

    Columns are a large rule block's ``column_keys`` and ``column_values``; strictly increasing
    keys have no duplicates. Anything else gives None.
    """
    keys = getattr(entries, "column_keys", None)
    choices = getattr(entries, "column_values", None)
    if type(keys) is not list or type(choices) is not list:
        return None
    try:
        return (keys, choices) if _strictly_increasing(keys) else None
    except TypeError:  # keys of mixed types: the general path reports them
        return None


class Selector:
    """Chooses among (key, choice) pairs for a header; choices may be nested selectors."""

    rule_name: ClassVar[str] = ""
    can_merge: ClassVar[bool] = False

    def __init_subclass__(cls, rule_name: str = "", **kwargs: Any) -> None:
        """Register a subclass under `rule_name`, the name rule files use for it."""
        super().__init_subclass__(**kwargs)
        if rule_name:
            if rule_name in _REGISTRY:
                raise TypeError(f"selector rule name {rule_name!r} is registered twice")
            _REGISTRY[rule_name] = cls
            cls.rule_name = rule_name

    def __init__(
        self,
        parameters: Sequence[str],
        keys: Sequence[Any],
        choices: Sequence[Choice],
        options: SelectorOptions,
        raw_keys: Sequence[Any] | None = None,
    ) -> None:
        self.parameters = tuple(parameters)
        self.keys = list(keys)
        self.choices = list(choices)
        self.options = options
        self.raw_keys = self.keys if raw_keys is None or raw_keys is keys else list(raw_keys)
        self._setup()

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        parameters: Sequence[str],
        entries: Sequence[tuple[Any, Choice]],
        options: SelectorOptions,
    ) -> Selector:
        """Build from raw (key, choice) pairs: dict semantics, substitutions, conditioning, sort."""
        parameters = tuple(parameters)
        columns = _ordered_columns(entries)
        if columns is not None:  # in order, so no duplicates: the columns are the dict
            raw_keys, choices = columns
        else:
            raw: dict[Any, Choice] = dict(entries)  # a later duplicate wins, as in Python
            raw_keys = list(raw)
            choices = list(raw.values())
        substituted = raw_keys
        if any(options.substitutions.get(name) for name in parameters):
            substituted = [cls._substitute(key, parameters, options) for key in raw_keys]
        conditioned = cls.condition_keys(substituted, parameters)
        # keys kept as they are (the same list) come from a dict: they cannot collide
        if conditioned is not raw_keys and len(set(conditioned)) != len(conditioned):
            seen: dict[Any, Any] = {}
            for raw_key, key in zip(raw_keys, conditioned, strict=True):
                if key in seen:
                    raise RuleValidationError(
                        f"{options.rmap}: {cls.rule_name} keys {seen[key]!r} and "
                        f"{raw_key!r} are the same key after conditioning ({key!r}); merge them"
                    )
                seen[key] = raw_key
        identity_sort = getattr(cls.sort_key, "__func__", None) is _IDENTITY_SORT
        if columns is not None and conditioned is raw_keys and identity_sort:
            return cls(parameters, conditioned, choices, options, raw_keys)  # known in order
        try:
            sort_keys = conditioned if identity_sort else [
                cls.sort_key(key) for key in conditioned
            ]
            if _strictly_increasing(sort_keys):
                # already in order, as written rules usually are (a linear check)
                return cls(parameters, conditioned, choices, options, raw_keys)
            order = sorted(range(len(conditioned)), key=sort_keys.__getitem__)
        except TypeError as exc:
            raise RuleValidationError(
                f"{options.rmap}: {cls.rule_name} keys of mixed types cannot be ordered: {exc}"
            ) from exc
        return cls(
            parameters,
            [conditioned[i] for i in order],
            [choices[i] for i in order],
            options,
            [raw_keys[i] for i in order],
        )

    @staticmethod
    def _substitute(key: Any, parameters: tuple[str, ...], options: SelectorOptions) -> Any:
        subs = options.substitutions
        for index, name in enumerate(parameters):
            table = subs.get(name)
            if not table:
                continue
            if isinstance(key, tuple):
                if index < len(key) and _hashable(key[index]) and key[index] in table:
                    replacement = table[key[index]]
                    if isinstance(replacement, list):
                        replacement = tuple(replacement)
                    key = key[:index] + (replacement,) + key[index + 1:]
            elif _hashable(key) and key in table:
                replacement = table[key]
                key = tuple(replacement) if isinstance(replacement, list) else replacement
        return key

    @classmethod
    def condition_key(cls, key: Any, parameters: tuple[str, ...]) -> Any:
        """Return the conditioned form of one raw key (identity by default)."""
        return key

    @classmethod
    def condition_keys(cls, keys: list[Any], parameters: tuple[str, ...]) -> list[Any]:
        """Return the conditioned form of every raw key (a batch of :meth:`condition_key`)."""
        return [cls.condition_key(key, parameters) for key in keys]

    @classmethod
    def sort_key(cls, key: Any) -> Any:
        """Return the value keys are sorted by."""
        return key

    def _setup(self) -> None:
        """Precompute lookup structures after keys and choices are set."""

    # -- lookup --------------------------------------------------------------------------------
    def value_list(self, parameter: str) -> list[str] | None:
        """Return the values pre-validation accepts for `parameter` (None: no value list)."""
        return None

    def check_defined(self, header: Header) -> None:
        """Fail with missing-parameter for a parameter absent from `header` (RULES.md §4.1)."""
        for name in self.parameters:
            if name not in header:
                values = self.value_list(name)
                if values is None or "N/A" not in values:
                    raise MissingParameterError(
                        f"{self.rule_name} required lookup parameter {name!r} is undefined."
                    )

    def lookup_key(self, header: Header) -> Any:
        """Validate `header` and compute this selector's lookup key."""
        raise NotImplementedError

    def candidates(self, key: Any, header: Header) -> Iterator[Choice]:
        """Yield choices best first; raise a lookup-class failure when none is left."""
        raise NotImplementedError

    def choose(self, header: Header) -> Choice:
        """Return the terminal choice for `header`, recursing into nested selectors."""
        self.check_defined(header)
        key = self.lookup_key(header)
        last: Exception | None = None
        for choice in self.candidates(key, header):
            if isinstance(choice, Selector):
                try:
                    return choice.choose(header)
                except FallbackNoMatchError as exc:
                    last = exc
                    continue
            return choice
        more = f" last exception: {last}" if last is not None else ""
        raise FallbackNoMatchError("All lookup attempts failed." + more)

    def merge(self, others: Sequence[Choice]) -> Selector:
        """Merge equal-weight selectors into one (only the UseAfter family can)."""
        raise AmbiguousMatchError(
            "More than one match was found at the same weight and "
            f"{self.rule_name} does not support merging."
        )

    def number(self, name: str, value: str) -> float:
        """Return `value` as a float or fail with invalid-number naming the parameter."""
        try:
            return float(value)
        except ValueError:
            raise InvalidNumberError(
                f"{self.rule_name} Invalid number for {name!r} value = {value!r}"
            ) from None

    def walk(self) -> Iterator[tuple[tuple[Any, ...], Choice]]:
        """Yield (path of raw keys, terminal) for every terminal under this selector."""
        for raw_key, choice in zip(self.raw_keys, self.choices, strict=True):
            if isinstance(choice, Selector):
                for path, terminal in choice.walk():
                    yield (raw_key, *path), terminal
            else:
                yield (raw_key,), choice

    def __repr__(self) -> str:
        """Show the rule name, the parameters and the number of keys."""
        return f"{self.rule_name}({self.parameters!r}, {len(self.keys)} keys)"


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


_IDENTITY_SORT: Final = Selector.__dict__["sort_key"].__func__
